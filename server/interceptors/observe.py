"""Wrapping a gRPC method handler so an interceptor sees each call start and end, whatever its kind.

An `Observer` gets `begin(call)` before the servicer runs and `end(call)` after the last response
(or the failure), with the call's method, metadata, peer, status code, duration and the sizes of
the messages that went each way. Interceptors built on it: auth (which refuses in `begin`),
metrics, access_log, tracing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import grpc

from ..handlers import rewrap
from ..per_call import requests


@dataclass
class Call:
    """One RPC as the interceptors see it."""

    method: str                      # "/gradwire.v1.GradwireService/Compute"
    context: grpc.ServicerContext
    metadata: dict[str, str]
    started: float = field(default_factory=time.perf_counter)
    request_bytes: int = 0
    response_bytes: int = 0
    code: grpc.StatusCode = grpc.StatusCode.OK
    request: Any = None              # the request of a unary-request call (None for a stream)
    response: Any = None             # the response of a unary-response call, once sent
    state: dict[str, Any] = field(default_factory=dict)  # each observer's own per-call values

    @property
    def message(self) -> Any:
        """The parsed request of a unary-request call (wire.py hands the interceptors its bytes)."""
        return requests.get(self.context, self.request)

    @property
    def service(self) -> str:
        return self.method.rsplit("/", 2)[-2] if self.method.count("/") >= 2 else ""

    @property
    def name(self) -> str:
        """The method's short name: "Compute"."""
        return self.method.rsplit("/", 1)[-1]

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


class Observer:
    """Override begin/end. begin may refuse the call with context.abort(...)."""

    def begin(self, call: Call) -> None:
        pass

    def end(self, call: Call) -> None:
        pass


def _size(message: Any) -> int:
    if isinstance(message, (bytes, bytearray, memoryview)):  # wire.py hands requests over unparsed
        return len(message)
    byte_size = getattr(message, "ByteSize", None)
    return byte_size() if byte_size is not None else 0


def _outcome(context: grpc.ServicerContext, failed: bool) -> grpc.StatusCode:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if not failed:
        return grpc.StatusCode.OK
    return grpc.StatusCode.UNKNOWN if context.is_active() else grpc.StatusCode.CANCELLED


def _metadata(context: grpc.ServicerContext) -> dict[str, str]:
    return {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}


class Observers(Observer):
    """Several observers as one: begin in order (the first wraps the rest), end in reverse order.
    An observer that refuses a call in begin is ended, and so are those that began before it."""

    def __init__(self, observers: list[Observer]) -> None:
        self.observers = observers

    def begin(self, call: Call) -> None:
        begun = call.state.setdefault("begun", [])
        for observer in self.observers:
            observer.begin(call)
            begun.append(observer)

    def end(self, call: Call) -> None:
        for observer in reversed(call.state.get("begun", self.observers)):
            observer.end(call)


class ObservingInterceptor(grpc.ServerInterceptor):
    """A server interceptor that wraps every method handler with an Observer (once per method: the
    wrapped handlers are cached, so a call costs one wrapper whatever the number of observers)."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        # method -> (the handler, its wrapped version); the handler is kept so its id is never reused.
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        cached = self._wrapped.get(details.method)
        if cached is None or cached[0] is not handler:
            cached = self._wrapped[details.method] = (handler, wrap(handler, details.method, self.observer))
        return cached[1]


def wrap(handler: grpc.RpcMethodHandler, method: str, observer: Observer) -> grpc.RpcMethodHandler:
    """The same handler, with observer.begin/end around each call (any of the four kinds)."""

    def start(context: grpc.ServicerContext, request: Any) -> Call:
        call = Call(method, context, _metadata(context), request=request, request_bytes=_size(request))
        try:
            observer.begin(call)
        except BaseException:
            call.code = _outcome(context, failed=True)
            observer.end(call)
            raise
        return call

    def finish(call: Call, failed: bool) -> None:
        call.code = _outcome(call.context, failed)
        observer.end(call)

    def counted(call: Call, requests: Iterator[Any]) -> Iterator[Any]:
        for request in requests:
            call.request_bytes += _size(request)
            yield request

    def unary_response(inner: Callable[..., Any], streaming_request: bool) -> Callable[..., Any]:
        def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
            call = start(context, None if streaming_request else request)
            if streaming_request:
                request = counted(call, request)
            try:
                response = inner(request, context)
            except BaseException:
                finish(call, failed=True)
                raise
            call.response, call.response_bytes = response, _size(response)
            finish(call, failed=False)
            return response

        return behaviour

    def stream_response(inner: Callable[..., Any], streaming_request: bool) -> Callable[..., Any]:
        def behaviour(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call = start(context, None if streaming_request else request)
            if streaming_request:
                request = counted(call, request)
            failed = True
            try:
                for response in inner(request, context):
                    call.response_bytes += _size(response)
                    yield response
                failed = False
            finally:
                finish(call, failed)

        return behaviour

    return rewrap(handler, lambda inner, streaming_request, streaming_response:
                  (stream_response if streaming_response else unary_response)(inner, streaming_request))
