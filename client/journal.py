"""The session journal: what the SDK sent to a session, kept so the session can be rebuilt elsewhere.

Behind a proxy, a session lives on one replica. When that replica dies or restarts, the next call of
the session fails with NOT_FOUND (the proxy sent it to a replica that never had the session) or
UNAVAILABLE (no replica answered), or is cut off in flight (CANCELLED by the proxy). The journal holds, per session, every request that changed the
session's state and succeeded — CreateSession and Extend (leaf values and graphs, including the
arrays of uploaded leaves), Backward, Grad and UpdateGrads — within a byte cap. On such a failure it
opens a new session (new id, so the proxy places it on a live replica), replays the requests in their
order, and retries the failed call there (a few times at most, each on a freshly rebuilt session). The engine is deterministic, so the new session holds exactly
the values and grads the old one had, and the program goes on as if nothing happened.

Limits: ops that draw random numbers on the server draw again; a session whose journal outgrew its cap,
or whose replay fails, raises SessionLostError as before. `Client(..., journal_bytes=0)` turns it off.
Every session call goes through JournaledTransport (also when off), which also sends the session id
with uploads so a proxy puts them on the session's replica.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

import grpc
import numpy as np

from .errors import ServerUnavailableError, SessionLostError

if TYPE_CHECKING:
    from .session import Session
    from .transport import Transport

DEFAULT_JOURNAL_BYTES = 64 << 20
# Calls that change what a session holds; Read, CloseSession and downloads do not.
RECORDED = frozenset({"CreateSession", "Extend", "Backward", "Grad", "UpdateGrads"})
# A call cut off in flight (the proxy or a stopping replica reset its stream) may or may not have run:
# the session is rebuilt rather than trusted. The SDK itself never cancels a call.
CUT_OFF = (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN)
REBUILD_ATTEMPTS = 5
REBUILD_BACKOFF_SECONDS = 0.25


class JournalPolicy:
    """One Client's journal settings, shared by its sessions, and how often they were replayed."""

    def __init__(self, max_bytes: int = DEFAULT_JOURNAL_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"journal_bytes must be >= 0 (0 turns replay off), got {max_bytes}")
        self.max_bytes = max_bytes
        self.replays = 0
        self._lock = threading.Lock()

    def count_replay(self) -> None:
        with self._lock:
            self.replays += 1


def policy_of(transport: Transport) -> JournalPolicy:
    policy = getattr(transport, "journal_policy", None)
    if policy is None:
        policy = transport.journal_policy = JournalPolicy()  # type: ignore[attr-defined]
    return policy


class JournaledTransport:
    """The transport one Session calls through: records its requests and replays them after a loss."""

    def __init__(self, transport: Transport, session: Session) -> None:
        self._transport = transport
        self._session = session
        self.policy = policy_of(transport)
        self.entries: list[tuple[str, Any]] = []
        self.uploads: dict[str, np.ndarray] = {}  # upload id -> the array it carried
        self.bytes = 0
        self.overflowed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    # ------------------------------------------------------------ calls

    def call(self, method: str, request: Any, *, session_id: str | None = None) -> Any:
        if session_id is None:
            return self._transport.call(method, request)
        if request.session_id != session_id:  # built before a replay renamed the session
            request = _for_session(request, session_id)
        try:
            response = self._transport.call(method, request, session_id=session_id)
        except Exception as error:
            if method == "CloseSession" or not _is_loss(error):
                raise
            response = self._rebuild_and_retry(error, lambda new_id: self._transport.call(
                method, self._replayable(request, new_id), session_id=new_id))
            request = _for_session(request, self._session.id)
        self._record(method, request)
        return response

    def upload(self, array: np.ndarray, *, description: str = "upload") -> str:
        upload_id = self._transport.upload(array, description=description, session_id=self._session.id)
        if self._keeping():
            self.uploads[upload_id] = array
            self._charge(array.nbytes)
        return upload_id

    def download(self, session_id: str, value_id: str, *, grad: bool) -> np.ndarray:
        try:
            return self._transport.download(session_id, value_id, grad=grad)
        except Exception as error:
            if not _is_loss(error):
                raise
            return self._rebuild_and_retry(
                error, lambda new_id: self._transport.download(new_id, value_id, grad=grad))

    # ------------------------------------------------------------ recording

    def _keeping(self) -> bool:
        return self.policy.max_bytes > 0 and not self.overflowed

    def _record(self, method: str, request: Any) -> None:
        if method in RECORDED and self._keeping():
            self.entries.append((method, request))
            self._charge(request.ByteSize())

    def _charge(self, size: int) -> None:
        self.bytes += size
        if self.bytes > self.policy.max_bytes:  # too big to keep: free it all, the session is not replayable
            self.overflowed = True
            self.entries.clear()
            self.uploads.clear()

    # ------------------------------------------------------------ replaying

    def _rebuild_and_retry(self, error: Exception, retry: Callable[[str], Any]) -> Any:
        """Rebuilds the session under a new id and retries the failed call there. A replica that is
        draining or dying may take the new session too, so this is tried a few times, each time on a
        fresh session (a Backward never runs twice on one). Raises `error` unchanged when replay is off,
        or when no server answers at all (the old session may well be alive); SessionLostError when the
        journal was capped or the rebuilt session refuses what the old one accepted."""
        if self.policy.max_bytes <= 0:
            raise error
        if self.overflowed:
            raise self._lost(error, f"its journal outgrew journal_bytes={self.policy.max_bytes}, so it "
                                    "could not be replayed") from error
        last: Exception = error
        with self._session.lock:
            for attempt in range(REBUILD_ATTEMPTS):
                if attempt:
                    time.sleep(REBUILD_BACKOFF_SECONDS * attempt)  # time for the proxy's health checks
                new_id = secrets.token_hex(16)
                try:
                    for method, request in self.entries:
                        self._transport.call(method, self._replayable(request, new_id), session_id=new_id)
                except Exception as failure:  # noqa: BLE001 - sorted below
                    if not _is_loss(failure):  # refused what the old session accepted: the copy would differ
                        raise self._lost(error, f"its replay failed: {failure}") from failure
                    last = failure
                    continue
                try:
                    response = retry(new_id)
                except Exception as failure:  # noqa: BLE001 - sorted below
                    if _is_loss(failure):
                        last = failure
                        continue
                    self._adopt(new_id)
                    raise  # the call's own error (e.g. a freed graph), as the old session would have said
                self._adopt(new_id)
                return response
        if isinstance(error, ServerUnavailableError) and isinstance(last, ServerUnavailableError):
            raise error
        raise self._lost(error, f"{REBUILD_ATTEMPTS} attempts failed, the last with: {last}") from last

    def _adopt(self, new_id: str) -> None:
        self._session.id = new_id
        self.policy.count_replay()

    def _replayable(self, request: Any, session_id: str) -> Any:
        """A copy of a recorded request for the new session, with its uploaded leaves uploaded again."""
        copy = _for_session(request, session_id)
        graph = getattr(copy, "graph", None)
        if graph is not None:
            for leaf in graph.leaves:
                if leaf.upload_id:
                    leaf.upload_id = self._transport.upload(self.uploads[leaf.upload_id],
                                                            description=f"replay {leaf.id}", session_id=session_id)
        return copy

    def _lost(self, error: Exception, why: str) -> SessionLostError:
        return SessionLostError(self._session.id, self._transport.address,
                                f"{error} (the SDK could not rebuild the session: {why})")


def _is_loss(error: BaseException) -> bool:
    """Is this the failure of a lost session or replica, rather than a refusal of the request?"""
    return (isinstance(error, (SessionLostError, ServerUnavailableError))
            or (getattr(error, "status", None) in CUT_OFF and not getattr(error, "node_id", "")))


def _for_session(request: Any, session_id: str) -> Any:
    copy = type(request)()
    copy.CopyFrom(request)
    copy.session_id = session_id
    return copy


def journaled(transport: Transport, session: Session) -> JournaledTransport:
    return JournaledTransport(transport, session)
