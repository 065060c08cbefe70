"""The SDK's one gRPC channel: call options on every call, errors translated, streaming transfers.

Every call carries the caller's metadata (e.g. a bearer token), the deadline, the W3C trace context
when OpenTelemetry is installed (tracing.py) and, for session calls, the "gradwire-session-id" metadata
a proxy can route by. Failures leave as the exceptions of errors.py.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterator, Mapping, Sequence

import grpc
import numpy as np

from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

from . import codec, dtypes
from .counting import RpcCounter
from .errors import translate
from .progress import progress_bar
from .tracing import trace_metadata

SESSION_ID_KEY = "gradwire-session-id"
# protobuf cannot encode 2 GiB; without a caller's limit the SDK accepts anything it can.
PROTOBUF_LIMIT = (2 << 30) - 1
CHUNK_BYTES = 1 << 20

Metadata = Sequence[tuple[str, str]]

# UNAVAILABLE (no connection yet, a server restarting) is retried for calls that are safe to repeat.
# Backward and Grad are not: a lost response to a Backward that ran would accumulate twice.
_SAFE_TO_RETRY = ("ListOps", "CreateSession", "Extend", "Read", "UpdateGrads", "CloseSession", "Compute",
                  "UploadTensor", "DownloadTensor")
RETRY_SERVICE_CONFIG = json.dumps({"methodConfig": [{
    "name": [{"service": "gradwire.v1.GradwireService", "method": method} for method in _SAFE_TO_RETRY],
    "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.1s", "maxBackoff": "1s", "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"]},
}]})


def _as_metadata(metadata: Mapping[str, str] | Metadata | None) -> tuple[tuple[str, str], ...]:
    if metadata is None:
        return ()
    pairs = metadata.items() if isinstance(metadata, Mapping) else metadata
    return tuple((str(key).lower(), value) for key, value in pairs)


class Transport:
    """A channel to one server with the caller's credentials, metadata, deadline and size limit."""

    def __init__(self, address: str, *, credentials: grpc.ChannelCredentials | None = None,
                 metadata: Mapping[str, str] | Metadata | None = None, timeout: float | None = None,
                 max_message_bytes: int | None = None) -> None:
        self.address = address
        self.timeout = timeout
        self.max_message_bytes = max_message_bytes or PROTOBUF_LIMIT
        # A chunk plus its framing must fit in one message.
        self.chunk_bytes = max(1, min(CHUNK_BYTES, self.max_message_bytes // 2))
        self._metadata = _as_metadata(metadata)
        options = [
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            # Reconnect soon after a server restart instead of gRPC's default 1 s, growing, backoff.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 5000),
            ("grpc.enable_retries", 1),
            ("grpc.service_config", RETRY_SERVICE_CONFIG),
        ]
        raw = (grpc.secure_channel(address, credentials, options) if credentials is not None
               else grpc.insecure_channel(address, options))
        self.counter = RpcCounter()
        self._raw_channel = raw
        self.stub = pb_grpc.GradwireServiceStub(grpc.intercept_channel(raw, self.counter))

    @property
    def channel(self) -> grpc.Channel:
        """The underlying channel (for other services on the same server, e.g. grpc.health.v1)."""
        return self._raw_channel

    def close(self) -> None:
        self._raw_channel.close()

    def metadata(self, session_id: str | None = None) -> tuple[tuple[str, str], ...]:
        return self._metadata + (((SESSION_ID_KEY, session_id),) if session_id else ()) + trace_metadata()

    def call(self, method: str, request: Any, *, session_id: str | None = None) -> Any:
        """One unary call of the service, e.g. call("Extend", request, session_id=...)."""
        try:
            return getattr(self.stub, method)(request, metadata=self.metadata(session_id), timeout=self.timeout)
        except grpc.RpcError as error:
            raise translate(error, address=self.address, session_id=session_id, timeout=self.timeout) from error

    # ------------------------------------------------------------ streaming

    def upload(self, array: np.ndarray, *, description: str = "upload", session_id: str | None = None) -> str:
        """Streams an array up in chunks; returns the upload id a Leaf can name (`session_id` routes it,
        through a proxy, to the replica of the session that will use it)."""
        bar = progress_bar(array.nbytes, description)

        def parts() -> Iterator[pb.UploadTensorRequest]:
            yield pb.UploadTensorRequest(header=codec.encode_array(array, with_data=False))
            flat = memoryview(codec.array_bytes(array))
            for start in range(0, len(flat), self.chunk_bytes):
                chunk = flat[start:start + self.chunk_bytes]
                yield pb.UploadTensorRequest(chunk=bytes(chunk))
                bar.update(len(chunk))

        try:
            response = self.stub.UploadTensor(parts(), metadata=self.metadata(session_id), timeout=self.timeout)
        except grpc.RpcError as error:
            raise translate(error, address=self.address, timeout=self.timeout) from error
        finally:
            bar.close()
        return response.upload_id

    def download(self, session_id: str, value_id: str, *, grad: bool) -> np.ndarray:
        """Streams a session's value (or its .grad) down in chunks."""
        request = pb.DownloadTensorRequest(session_id=session_id, id=value_id, grad=grad,
                                           chunk_bytes=self.chunk_bytes)
        stream = self.stub.DownloadTensor(request, metadata=self.metadata(session_id), timeout=self.timeout)
        bar: Any = None
        try:
            header: pb.Tensor | None = None
            buffer = bytearray()
            for part in stream:
                if part.WhichOneof("part") == "header":
                    header = part.header
                    bar = progress_bar(math.prod(header.shape) * _itemsize(header), f"download {value_id}")
                else:
                    buffer += part.chunk
                    if bar is not None:
                        bar.update(len(part.chunk))
        except grpc.RpcError as error:
            raise translate(error, address=self.address, session_id=session_id, timeout=self.timeout) from error
        finally:
            if bar is not None:
                bar.close()
        if header is None:
            raise RuntimeError(f"DownloadTensor of {value_id!r} ended without a header")
        return codec.decode_array(header, bytes(buffer))


def _itemsize(header: pb.Tensor) -> int:
    return dtypes.from_wire(header.dtype).itemsize
