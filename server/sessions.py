"""Sessions: live graphs kept in memory so backward can run again without resending anything.

A session maps value ids to engine tensors (a tuple for ops with several outputs). The store keeps them
behind a lock; every call on one session also holds that session's own lock, so calls on one session run
one at a time while different sessions run in parallel. Sessions expire after an idle TTL (clamped to a
maximum; a session held by a stuck call expires too); caps on their number (in all and per caller) and on
the bytes they retain (footprint.py: values, grads and the graph behind them) refuse new ones
(RESOURCE_EXHAUSTED) and never evict live ones. Byte counts change under the store's lock, and a call
whose session closed meanwhile answers NOT_FOUND, so no reservation outlives its session.
NOT_FOUND says whether a recent session expired (after how long), was closed, or is unknown.
"""

from __future__ import annotations

import collections
import contextlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import grpc

from .budget import RetainedBytes
from .echo import shown
from .footprint import footprint
from .errors import RequestError, exhausted, invalid, not_found

SESSION_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
ENDED_REMEMBERED = 10_000


def _expired(session: "Session") -> str:
    return f"expired after {session.ttl:g} s idle"


def new_session_id() -> str:
    """128 random bits as 32 lowercase hex digits."""
    return secrets.token_hex(16)


def retained_bytes(values: Iterable[Any]) -> int:
    """Bytes held by the named tensors, their .grad and the backward graph behind them (footprint.py)."""
    return footprint(values)


@dataclass(eq=False)
class Session:
    session_id: str
    ttl: float
    values: dict[str, Any]
    retained: int = 0
    last_used: float = 0.0
    caller: str = ""
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class SessionStore:
    """All live sessions of one server."""

    def __init__(self, default_ttl: float, max_sessions: int, retained: RetainedBytes,
                 clock: Callable[[], float] = time.monotonic, *, max_ttl: float | None = None,
                 max_per_caller: int | None = None) -> None:
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl if max_ttl is not None else max(default_ttl, 86400.0)
        self.max_sessions = max_sessions
        self.max_per_caller = max_per_caller or max_sessions
        self._per_caller: collections.Counter[str] = collections.Counter()
        self.retained = retained
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        # Why recent sessions ended, so NOT_FOUND can tell expired from closed from unknown.
        self._ended: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    # ------------------------------------------------------------ creating

    def check_new(self, session_id: str, caller: str = "") -> None:
        """Fails fast (before a graph is built) if a session with this id could not be added."""
        with self._lock:
            self._check_new_locked(session_id, caller)

    def _check_new_locked(self, session_id: str, caller: str) -> None:
        if session_id:
            if not SESSION_ID_PATTERN.fullmatch(session_id):
                raise invalid(f"session id {shown(session_id)} must be 32 lowercase hex digits (128 random bits)")
            if session_id in self._sessions:
                raise RequestError(grpc.StatusCode.ALREADY_EXISTS, f"session {session_id} already exists",
                                   error_type="ValueError")
        if len(self._sessions) >= self.max_sessions:
            raise exhausted(
                f"the server holds its maximum of {self.max_sessions} sessions (GRADWIRE_MAX_SESSIONS); "
                "close sessions or retry later"
            )
        if self._per_caller[caller] >= self.max_per_caller:
            raise exhausted(
                f"this caller holds its maximum of {self.max_per_caller} sessions "
                "(GRADWIRE_MAX_SESSIONS_PER_CALLER); close sessions or retry later"
            )

    def add(self, session_id: str, values: dict[str, Any], ttl_seconds: float, *,
            already_reserved: int = 0, caller: str = "") -> Session:
        """Registers a built session, checking the id, the count caps and the bytes cap atomically.

        ttl_seconds: 0 for the default; more than max_ttl is clamped to it.
        already_reserved: bytes of its values reserved before (uploads handed over), not counted twice.
        """
        nbytes = retained_bytes(values.values())
        with self._lock:
            self._check_new_locked(session_id, caller)
            self.retained.reserve(nbytes - already_reserved, "a new session")
            session = Session(
                session_id=session_id or self._unused_id(), ttl=min(ttl_seconds or self.default_ttl, self.max_ttl),
                values=values, retained=nbytes, last_used=self._clock(), caller=caller,
            )
            self._sessions[session.session_id] = session
            self._per_caller[caller] += 1
            return session

    def _unused_id(self) -> str:
        while (session_id := new_session_id()) in self._sessions:
            pass
        return session_id

    # ------------------------------------------------------------ using

    def _missing(self, session_id: str) -> RequestError:
        why = self._ended.get(session_id) or f"unknown, or expired after {self.default_ttl:g} s idle"
        return not_found(f"session {session_id} not found ({why})")

    @contextlib.contextmanager
    def use(self, session_id: str) -> Iterator[Session]:
        """Holds the session (and its lock) for one call; NOT_FOUND if unknown, expired or closed."""
        if not session_id:
            raise invalid("session_id is required (in the request or the gradwire-session-id metadata)")
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and self._clock() - session.last_used > session.ttl:
                self._remove_locked(session, _expired(session))
                session = None
        if session is None:
            raise self._missing(session_id)
        with session.lock:
            if session.closed:
                raise self._missing(session_id)
            session.last_used = self._clock()
            try:
                yield session
            finally:
                session.last_used = self._clock()

    def touch(self, session: Session) -> None:
        """The call holding the session made progress: a session only expires when nothing happens."""
        session.last_used = self._clock()

    def resize(self, session: Session, values: Iterable[Any], *, refuse_over_cap: bool,
               already_reserved: int = 0) -> None:
        """Re-counts what the session retains (values being what it will hold after the call).

        With refuse_over_cap, growth past the cap raises RESOURCE_EXHAUSTED and changes nothing; without
        it (after work that cannot be undone, like a backward), the growth is only recorded.
        already_reserved: bytes of the new values reserved before (uploads handed over).
        A session closed or expired while the call ran answers NOT_FOUND (and the caller commits nothing):
        the count and the closing happen under the store's lock, so no reservation is ever left behind.
        """
        nbytes = retained_bytes(values)
        with self._lock:
            if session.closed:
                raise self._missing(session.session_id)
            growth = nbytes - session.retained - already_reserved
            if growth > 0 and refuse_over_cap:
                self.retained.reserve(growth, f"session {session.session_id}")
            elif growth > 0:
                self.retained.force(growth)
            else:
                self.retained.release(-growth)
            session.retained = nbytes

    def commit(self, session: Session, new_values: dict[str, Any], *, release: Iterable[str] = (),
               refuse_over_cap: bool, already_reserved: int = 0) -> None:
        """Adds a call's new values to the session and forgets the released names, recounting its bytes
        (see resize); with refuse_over_cap, growth past the cap raises and the session is unchanged."""
        kept = {**session.values, **new_values}
        for value_id in release:  # names the client dropped; the graph keeps whatever it saved
            kept.pop(value_id, None)
        self.resize(session, kept.values(), refuse_over_cap=refuse_over_cap, already_reserved=already_reserved)
        session.values = kept

    # ------------------------------------------------------------ ending

    def close(self, session_id: str) -> None:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                raise self._missing(session_id)
            self._remove_locked(session, "closed")

    def _remove_locked(self, session: Session, why: str) -> None:
        if self._sessions.pop(session.session_id, None) is not None:
            self._per_caller[session.caller] -= 1
            if self._per_caller[session.caller] <= 0:
                del self._per_caller[session.caller]
        self._ended[session.session_id] = why
        while len(self._ended) > ENDED_REMEMBERED:
            self._ended.popitem(last=False)
        session.closed = True
        self.retained.release(session.retained)
        session.retained = 0

    def expire(self) -> int:
        """Drops sessions idle past their TTL: no call started, ended or made progress (touch) for that
        long, so a session held by a stuck call expires too (that call then answers NOT_FOUND); returns
        how many."""
        now = self._clock()
        with self._lock:
            idle = [s for s in self._sessions.values() if now - s.last_used > s.ttl]
            for session in idle:
                self._remove_locked(session, _expired(session))
        return len(idle)

    def close_all(self) -> None:
        with self._lock:
            for session in list(self._sessions.values()):
                self._remove_locked(session, "the server stopped")
