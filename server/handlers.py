"""Re-wrapping a gRPC method handler's behaviour, for interceptors (replica header, observers).

The new handler has the same kind (unary/stream in and out), (de)serializers and grpcio's
`experimental_thread_pool` hook (wire.py runs health checks on their own pool through it), so an
interceptor never moves a call to another pool.
"""

from __future__ import annotations

from typing import Any, Callable

import grpc

_KINDS = (
    ("unary_unary", grpc.unary_unary_rpc_method_handler, False, False),
    ("stream_unary", grpc.stream_unary_rpc_method_handler, True, False),
    ("unary_stream", grpc.unary_stream_rpc_method_handler, False, True),
    ("stream_stream", grpc.stream_stream_rpc_method_handler, True, True),
)


def rewrap(handler: grpc.RpcMethodHandler,
           wrap: Callable[[Callable[..., Any], bool, bool], Callable[..., Any]]) -> grpc.RpcMethodHandler:
    """The handler with its behaviour replaced by wrap(behaviour, streaming_request, streaming_response)."""
    for attribute, make, streaming_request, streaming_response in _KINDS:
        inner = getattr(handler, attribute)
        if inner is not None:
            behaviour = wrap(inner, streaming_request, streaming_response)
            pool = getattr(inner, "experimental_thread_pool", None)
            if pool is not None:
                behaviour.experimental_thread_pool = pool  # type: ignore[attr-defined]
            return make(behaviour, request_deserializer=handler.request_deserializer,
                        response_serializer=handler.response_serializer)
    return handler
