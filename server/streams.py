"""Streaming calls (UploadTensor, DownloadTensor, health Watch, reflection) held within bounds, so workers
stay free for the rest.

- At most `max_streams` at once, and `max_per_caller` per caller; beyond, RESOURCE_EXHAUSTED at once.
- A stream whose peer makes no progress (less than 64 KiB of chunks arrives; a sent chunk is not read)
  for `idle_seconds` is cancelled by a watchdog thread, which frees its worker (and the session lock a
  download holds). The client sees CANCELLED; the server logs why.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from typing import Callable, Iterable, Iterator, TypeVar

import grpc

from .errors import exhausted

log = logging.getLogger("gradwire.server")
T = TypeVar("T")
# What counts as progress for a byte stream within the idle time: at least this much moved.
MIN_PROGRESS_BYTES = 64 << 10


class Stream:
    """One open streaming call: touch() on every message that moved."""

    def __init__(self, context: grpc.ServicerContext, what: str, clock: Callable[[], float],
                 idle_limited: bool = True) -> None:
        self.context = context
        self.what = what
        self.idle_limited = idle_limited
        self._clock = clock
        self.last_progress = clock()

    def touch(self) -> None:
        self.last_progress = self._clock()

    def watch(self, items: Iterable[T], size: Callable[[T], int] | None = None) -> Iterator[T]:
        """Passes items through, counting each one as progress; with `size`, only every MIN_PROGRESS_BYTES
        (so a peer dribbling a few bytes at a time is as stalled as a silent one)."""
        pending = 0
        for item in items:
            pending += size(item) if size is not None else MIN_PROGRESS_BYTES
            if pending >= MIN_PROGRESS_BYTES:
                pending = 0
                self.touch()
            yield item
        self.touch()


class StreamGate:
    def __init__(self, max_streams: int, max_per_caller: int, idle_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_streams = max_streams
        self.max_per_caller = max_per_caller
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._open: set[Stream] = set()
        self._per_caller: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._watchdog: threading.Thread | None = None
        self._stopped = threading.Event()

    def close(self) -> None:
        """Stops the watchdog (the server stopped)."""
        self._stopped.set()

    @contextlib.contextmanager
    def open(self, context: grpc.ServicerContext, caller: str, what: str, *,
             idle_limited: bool = True) -> Iterator[Stream]:
        """A slot for one streaming call, or RESOURCE_EXHAUSTED if none is free. A stream that may rightly
        stay quiet (a health Watch) is counted but not idle_limited."""
        with self._lock:
            if len(self._open) >= self.max_streams:
                raise exhausted(f"the server already runs its maximum of {self.max_streams} streaming calls "
                                "(GRADWIRE_MAX_STREAMS); retry later")
            if self._per_caller[caller] >= self.max_per_caller:
                raise exhausted(f"this caller already runs its maximum of {self.max_per_caller} streaming "
                                "calls (GRADWIRE_MAX_STREAMS_PER_CALLER); retry later")
            stream = Stream(context, what, self._clock, idle_limited)
            self._open.add(stream)
            self._per_caller[caller] += 1
            if self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, name="gradwire-streams", daemon=True)
                self._watchdog.start()
        try:
            yield stream
        finally:
            with self._lock:
                self._open.discard(stream)
                self._per_caller[caller] -= 1
                if self._per_caller[caller] <= 0:
                    del self._per_caller[caller]

    def _watch(self) -> None:
        interval = max(0.02, min(self.idle_seconds / 4, 1.0))
        while not self._stopped.wait(interval):
            now = self._clock()
            with self._lock:
                stalled = [s for s in self._open if s.idle_limited and now - s.last_progress > self.idle_seconds]
            for stream in stalled:
                log.warning("%s made no progress for %g s: ending it", stream.what, self.idle_seconds)
                stream.touch()  # cancel once
                stream.context.cancel()
