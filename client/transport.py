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

from . import codec, dtypes, raw_chunks
from .counting import RpcCounter
from .errors import translate
from .progress import progress_bar
from .tracing import trace_metadata

SESSION_ID_KEY = "gradwire-session-id"
# Tensors above this size come back from session calls deferred, then DownloadTensor streams them:
# streamed chunks move a large tensor several times faster than one large message does.
INLINE_BYTES_KEY = "gradwire-inline-bytes"
INLINE_BYTES = 1 << 20
# protobuf cannot encode 2 GiB; without a caller's limit the SDK accepts anything it can.
PROTOBUF_LIMIT = (2 << 30) - 1
# Uploads keep to chunks any server's message limit takes; downloads ask for larger ones (the server
# lowers them to its own limit).
CHUNK_BYTES = 1 << 20
DOWNLOAD_CHUNK_BYTES = 4 << 20
SERVICE_PATH = "/gradwire.v1.GradwireService/"

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
        self.download_chunk_bytes = max(1, min(DOWNLOAD_CHUNK_BYTES, self.max_message_bytes // 2))
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
        channel = grpc.intercept_channel(raw, self.counter)
        self.stub = pb_grpc.GradwireServiceStub(channel)
        # The streaming methods again, with chunks (de)serialized without protobuf's copies (raw_chunks.py).
        self._upload = channel.stream_unary(
            SERVICE_PATH + "UploadTensor",
            request_serializer=raw_chunks.message_or_bytes(pb.UploadTensorRequest.SerializeToString),
            response_deserializer=pb.UploadTensorResponse.FromString)
        self._download = channel.unary_stream(
            SERVICE_PATH + "DownloadTensor", request_serializer=pb.DownloadTensorRequest.SerializeToString,
            response_deserializer=raw_chunks.chunk_parser(pb.DownloadTensorResponse.FromString))

    @property
    def channel(self) -> grpc.Channel:
        """The underlying channel (for other services on the same server, e.g. grpc.health.v1)."""
        return self._raw_channel

    def close(self) -> None:
        self._raw_channel.close()

    def metadata(self, session_id: str | None = None) -> tuple[tuple[str, str], ...]:
        return (self._metadata + ((INLINE_BYTES_KEY, str(INLINE_BYTES)),)
                + (((SESSION_ID_KEY, session_id),) if session_id else ()) + trace_metadata())

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

        def parts() -> Iterator[Any]:
            yield pb.UploadTensorRequest(header=codec.encode_array(array, with_data=False))
            flat = _flat_bytes(array)
            for start in range(0, len(flat), self.chunk_bytes):
                piece = flat[start:start + self.chunk_bytes]
                yield raw_chunks.chunk_message(piece)
                bar.update(len(piece))

        try:
            response = self._upload(parts(), metadata=self.metadata(session_id), timeout=self.timeout)
        except grpc.RpcError as error:
            raise translate(error, address=self.address, timeout=self.timeout) from error
        finally:
            bar.close()
        return response.upload_id

    def download(self, session_id: str, value_id: str, *, grad: bool) -> np.ndarray:
        """Streams a session's value (or its .grad) down in chunks."""
        request = pb.DownloadTensorRequest(session_id=session_id, id=value_id, grad=grad,
                                           chunk_bytes=self.download_chunk_bytes)
        stream = self._download(request, metadata=self.metadata(session_id), timeout=self.timeout)
        bar: Any = None
        try:
            header: pb.Tensor | None = None
            buffer = np.empty(0, np.uint8)
            received = 0
            for part in stream:
                if part.WhichOneof("part") == "header":
                    header = part.header
                    nbytes = math.prod(header.shape) * _itemsize(header)
                    buffer = np.empty(nbytes, np.uint8)  # each chunk is written into it once
                    bar = progress_bar(nbytes, f"download {value_id}")
                    continue
                chunk = part.chunk
                end = received + len(chunk)
                if header is None or end > len(buffer):
                    raise RuntimeError(f"DownloadTensor of {value_id!r} sent more bytes than its header announced")
                buffer[received:end] = np.frombuffer(chunk, np.uint8)
                received = end
                if bar is not None:
                    bar.update(len(chunk))
        except grpc.RpcError as error:
            raise translate(error, address=self.address, session_id=session_id, timeout=self.timeout) from error
        finally:
            if bar is not None:
                bar.close()
        if header is None:
            raise RuntimeError(f"DownloadTensor of {value_id!r} ended without a header")
        return codec.decode_array(header, buffer[:received])


def _flat_bytes(array: np.ndarray) -> memoryview:
    """An array's bytes, little-endian C order, without a copy when it already is."""
    little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    return memoryview(little.reshape(-1).view(np.uint8)) if little.size else memoryview(b"")


def _itemsize(header: pb.Tensor) -> int:
    return dtypes.from_wire(header.dtype).itemsize
