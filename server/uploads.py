"""Tensors streamed up in chunks, held until a graph names them by upload id.

The header (dtype and shape) comes first: its size is checked against the per-request budget and
reserved against the server's retained-bytes cap before the buffer is allocated, so an oversized
upload is refused without touching memory. Chunks are copied straight into that buffer. An upload is
consumed by the first graph that uses it, and expires after the idle TTL if none does. An upload belongs
to the principal that sent it: to anyone else its id reads as unknown.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from gradwire.v1 import gradwire_pb2 as pb

from . import codec
from .budget import RetainedBytes, format_bytes
from .errors import exhausted, invalid, not_found
from .principal import ANONYMOUS


@dataclass(eq=False)
class Upload:
    upload_id: str
    array: np.ndarray
    nbytes: int
    created: float
    owner: str = ANONYMOUS


class UploadStore:
    def __init__(self, ttl: float, max_request_bytes: int, retained: RetainedBytes,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_request_bytes = max_request_bytes
        self.retained = retained
        self._clock = clock
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def receive(self, parts: Iterable[pb.UploadTensorRequest], owner: str = ANONYMOUS) -> Upload:
        """Reads one upload stream: a header, then chunks filling exactly prod(shape) * itemsize bytes."""
        iterator = iter(parts)
        first = next(iterator, None)
        if first is None or first.WhichOneof("part") != "header":
            raise invalid("an upload starts with a header message giving dtype and shape")
        header = first.header
        nbytes = codec.expected_nbytes(header, "upload header")
        if header.data:
            raise invalid("the upload header carries dtype and shape only; send data as chunks")
        if nbytes > self.max_request_bytes:
            raise exhausted(
                f"upload of {format_bytes(nbytes)} exceeds the per-request budget of "
                f"{format_bytes(self.max_request_bytes)} (GRADWIRE_MAX_REQUEST_BYTES)"
            )
        self.retained.reserve(nbytes, "this upload")
        try:
            buffer = self._fill(np.empty(nbytes, dtype=np.uint8), iterator)
            array = codec.from_bytes(buffer, header.dtype, tuple(header.shape), "uploaded tensor")
        except BaseException:
            self.retained.release(nbytes)
            raise
        upload = Upload(secrets.token_hex(16), array, nbytes, self._clock(), owner)
        with self._lock:
            self._uploads[upload.upload_id] = upload
        return upload

    @staticmethod
    def _fill(buffer: np.ndarray, parts: Iterable[pb.UploadTensorRequest]) -> np.ndarray:
        received = 0
        for part in parts:
            if part.WhichOneof("part") != "chunk":
                raise invalid("an upload has one header, first; every later message is a chunk")
            chunk = part.chunk  # each read of a bytes field is a copy: read it once
            end = received + len(chunk)
            if end > len(buffer):
                raise invalid(f"upload overflows its header's size of {len(buffer)} bytes")
            buffer[received:end] = np.frombuffer(chunk, dtype=np.uint8)
            received = end
        if received != len(buffer):
            raise invalid(f"upload ended after {received} of {len(buffer)} bytes")
        return buffer

    def owned_by(self, owner: str) -> "OwnedUploads":
        """The view of the store that one principal's graphs read uploads through."""
        return OwnedUploads(self, owner)

    def peek(self, upload_id: str, what: str, owner: str = ANONYMOUS) -> np.ndarray:
        with self._lock:
            upload = self._uploads.get(upload_id)
        if upload is None or upload.owner != owner:
            raise not_found(f"{what}: upload {upload_id!r} not found (unknown, already used, or expired "
                            f"after {self.ttl:g} s)")
        return upload.array

    @contextlib.contextmanager
    def transfer(self, upload_ids: Iterable[str]) -> Iterator[int]:
        """Hands uploads to a session with their reserved bytes (yielded, for the session's count).

        If the block raises, the uploads go back to the store untouched; otherwise they are gone and
        their reservation belongs to the session, so the bytes are never counted twice.
        """
        wanted = list(dict.fromkeys(upload_ids))
        with self._lock:
            taken = [self._uploads.pop(upload_id) for upload_id in wanted if upload_id in self._uploads]
        try:
            if len(taken) != len(wanted):
                raise not_found(f"an upload of this request expired while it ran (after {self.ttl:g} s)")
            yield sum(upload.nbytes for upload in taken)
        except BaseException:
            with self._lock:
                self._uploads.update((upload.upload_id, upload) for upload in taken)
            raise

    def consume(self, upload_ids: Iterable[str]) -> None:
        """Forgets uploads a one-shot request used, releasing their bytes."""
        with self._lock:
            for upload_id in upload_ids:
                upload = self._uploads.pop(upload_id, None)
                if upload is not None:
                    self.retained.release(upload.nbytes)

    def expire(self) -> int:
        now = self._clock()
        with self._lock:
            stale = [u for u in self._uploads.values() if now - u.created > self.ttl]
            for upload in stale:
                del self._uploads[upload.upload_id]
                self.retained.release(upload.nbytes)
        return len(stale)

    def clear(self) -> None:
        self.consume(list(self._uploads))


@dataclass(frozen=True)
class OwnedUploads:
    """peek() limited to one principal's uploads."""

    store: UploadStore
    owner: str

    def peek(self, upload_id: str, what: str) -> np.ndarray:
        return self.store.peek(upload_id, what, self.owner)
