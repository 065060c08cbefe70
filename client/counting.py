"""A client interceptor that counts RPCs by method name (`Client.rpc_counts`).

Round trips are the SDK's main cost (~0.6 ms each on loopback), so the counts are part of its contract
and the tests check them through this interceptor.
"""

from __future__ import annotations

import collections
import threading
from typing import Any, Callable

import grpc


class RpcCounter(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Counts every call made through the channel it intercepts."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def _count(self, details: grpc.ClientCallDetails) -> None:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        with self._lock:
            self.counts[method.rsplit("/", 1)[-1]] += 1

    def intercept_unary_unary(self, continuation: Callable, details: Any, request: Any) -> Any:
        self._count(details)
        return continuation(details, request)

    def intercept_unary_stream(self, continuation: Callable, details: Any, request: Any) -> Any:
        self._count(details)
        return continuation(details, request)

    def intercept_stream_unary(self, continuation: Callable, details: Any, request_iterator: Any) -> Any:
        self._count(details)
        return continuation(details, request_iterator)

    def intercept_stream_stream(self, continuation: Callable, details: Any, request_iterator: Any) -> Any:
        self._count(details)
        return continuation(details, request_iterator)

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())
