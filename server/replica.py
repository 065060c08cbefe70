"""A server interceptor that names the replica in every response: initial metadata "gradwire-replica".

Behind a proxy that spreads calls over several replicas, the header shows which one answered, so
session affinity can be observed by anyone (grpcurl -v shows it). Handlers may send initial metadata
of their own (CreateSession sends the session id): the header is merged into theirs, and sent on its
own only when a handler sent none before returning, raising or yielding its first message.
"""

from __future__ import annotations

import socket
from typing import Any, Callable, Iterator

import grpc

from .handlers import rewrap

REPLICA_KEY = "gradwire-replica"


def default_replica_id(port: int) -> str:
    return f"{socket.gethostname()}:{port}"


class _ReplicaContext:
    """The handler's context with send_initial_metadata extended by the replica header."""

    __slots__ = ("_context", "_header", "_sent", "__weakref__")  # weakref: principal.py keys calls by context

    def __init__(self, context: grpc.ServicerContext, header: tuple[tuple[str, str], ...]) -> None:
        self._context = context
        self._header = header
        self._sent = False

    def send_initial_metadata(self, metadata: Any) -> None:
        self._sent = True
        self._context.send_initial_metadata(tuple(metadata) + self._header)

    def ensure_sent(self) -> None:
        if not self._sent:
            self._sent = True
            try:
                self._context.send_initial_metadata(self._header)
            except (grpc.RpcError, RuntimeError, ValueError):  # the call already ended (e.g. cancelled)
                pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class ReplicaHeaderInterceptor(grpc.ServerInterceptor):
    """Adds ("gradwire-replica", replica_id) to the initial metadata of every call's response."""

    def __init__(self, replica_id: str = "") -> None:
        self.replica_id = replica_id  # set after the port is bound when it defaults to host:port

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        header = ((REPLICA_KEY, self.replica_id),)
        return rewrap(handler, lambda inner, streaming_request, streaming_response:
                      (_streaming if streaming_response else _unary)(inner, header))


def _unary(behaviour: Callable[[Any, Any], Any], header: tuple[tuple[str, str], ...]) -> Callable[[Any, Any], Any]:
    def with_header(request: Any, context: grpc.ServicerContext) -> Any:
        wrapped = _ReplicaContext(context, header)
        try:
            return behaviour(request, wrapped)
        finally:
            wrapped.ensure_sent()

    return with_header


def _streaming(behaviour: Callable[[Any, Any], Iterator[Any]],
               header: tuple[tuple[str, str], ...]) -> Callable[[Any, Any], Iterator[Any]]:
    def with_header(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        wrapped = _ReplicaContext(context, header)
        try:
            for response in behaviour(request, wrapped):
                wrapped.ensure_sent()
                yield response
        finally:
            wrapped.ensure_sent()

    return with_header
