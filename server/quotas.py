"""Per-principal caps: how many sessions one principal may hold open and how many bytes they retain.

A cap of 0 means none. Refusals are RESOURCE_EXHAUSTED naming the cap (and the principal, who is
the caller); nothing held is evicted to make room.
"""

from __future__ import annotations

import collections
import threading

from .budget import format_bytes
from .errors import exhausted


class PrincipalQuotas:
    def __init__(self, max_sessions: int = 0, max_bytes: int = 0) -> None:
        self.max_sessions = max_sessions
        self.max_bytes = max_bytes
        self._sessions: collections.Counter[str] = collections.Counter()
        self._bytes: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def held(self, principal: str) -> tuple[int, int]:
        """(open sessions, retained bytes) of a principal."""
        with self._lock:
            return self._sessions[principal], self._bytes[principal]

    def check_session(self, principal: str) -> None:
        with self._lock:
            self._check_count(principal)

    def _check_count(self, principal: str) -> None:
        if self.max_sessions and self._sessions[principal] >= self.max_sessions:
            raise exhausted(
                f"principal {principal!r} already holds its maximum of {self.max_sessions} sessions "
                "(GRADWIRE_MAX_SESSIONS_PER_PRINCIPAL); close sessions or retry later")

    def _check_bytes(self, principal: str, nbytes: int) -> None:
        if self.max_bytes and nbytes > 0 and self._bytes[principal] + nbytes > self.max_bytes:
            raise exhausted(
                f"principal {principal!r} would retain {format_bytes(self._bytes[principal] + nbytes)}, over "
                f"its cap of {format_bytes(self.max_bytes)} (GRADWIRE_MAX_BYTES_PER_PRINCIPAL); "
                "close sessions or retry later")

    def open_session(self, principal: str, nbytes: int) -> None:
        """Counts a new session of nbytes, or raises (changing nothing)."""
        with self._lock:
            self._check_count(principal)
            self._check_bytes(principal, nbytes)
            self._sessions[principal] += 1
            self._bytes[principal] += nbytes

    def grow(self, principal: str, nbytes: int, *, refuse_over_cap: bool) -> None:
        """Counts nbytes more (negative: fewer); with refuse_over_cap, growth past the cap raises."""
        with self._lock:
            if refuse_over_cap:
                self._check_bytes(principal, nbytes)
            self._bytes[principal] = max(0, self._bytes[principal] + nbytes)

    def close_session(self, principal: str, nbytes: int) -> None:
        with self._lock:
            self._sessions[principal] = max(0, self._sessions[principal] - 1)
            self._bytes[principal] = max(0, self._bytes[principal] - nbytes)
            if not self._sessions[principal]:
                del self._sessions[principal]
                self._bytes.pop(principal, None)
