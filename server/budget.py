"""Byte accounting shared by sessions and pending uploads: one cap on what the server retains.

Reservations are checked before anything is allocated; a reservation that would pass the cap is refused
with RESOURCE_EXHAUSTED, and nothing already held is ever evicted to make room.
"""

from __future__ import annotations

import threading

from .errors import exhausted


def format_bytes(count: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


class RetainedBytes:
    """A thread-safe counter of retained bytes with a cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    def reserve(self, nbytes: int, what: str) -> None:
        """Counts nbytes more, or raises RESOURCE_EXHAUSTED (changing nothing) if that passes the cap.
        A negative nbytes releases."""
        with self._lock:
            if nbytes > 0 and self._used + nbytes > self.limit:
                raise exhausted(
                    f"{what} needs {format_bytes(nbytes)} but sessions and uploads already retain "
                    f"{format_bytes(self._used)} of the server's {format_bytes(self.limit)} "
                    "(GRADWIRE_MAX_SESSION_BYTES); close sessions or retry later"
                )
            self._used += nbytes

    def force(self, nbytes: int) -> None:
        """Counts bytes already allocated (may pass the cap: later reservations are then refused)."""
        with self._lock:
            self._used += nbytes

    def release(self, nbytes: int) -> None:
        with self._lock:
            self._used = max(0, self._used - nbytes)


def request_budget(max_request_bytes: int, leaf_bytes: int, what: str = "the request's leaves"):
    """The engine's memory budget for one request: what its leaves leave of the per-request budget."""
    import gradwire.engine as ge

    if leaf_bytes > max_request_bytes:
        raise exhausted(
            f"{what} take {format_bytes(leaf_bytes)}, over the per-request budget of "
            f"{format_bytes(max_request_bytes)} (GRADWIRE_MAX_REQUEST_BYTES)"
        )
    return ge.memory_budget(max_request_bytes - leaf_bytes)
