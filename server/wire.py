"""The service's method handlers, built from the proto descriptor, parsing request bytes themselves.

grpcio answers INTERNAL when a request's bytes do not parse; here the handlers receive raw bytes and
parse them, so a malformed message is INVALID_ARGUMENT naming the method. Health checks run on a
small pool of their own, so they are answered whatever the workers are doing; health Watch and reflection
streams count against the stream caps like uploads and downloads.
"""

from __future__ import annotations

from concurrent import futures
from typing import Any, Callable, Iterator

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection, reflection_pb2

from gradwire.v1 import gradwire_pb2 as pb

from .callers import caller_of
from . import lifted, per_call, spliced
from .errors import ERROR_TYPE_KEY, RequestError, invalid
from .raw_chunks import chunk_parser
from .streams import StreamGate

SERVICE = pb.DESCRIPTOR.services_by_name["GradwireService"]


def _parser(message_class: Any, method: str) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return lifted.parse(message_class, data)
        except (DecodeError, ValueError) as error:
            raise invalid(f"{method}: the request is not a valid {message_class.DESCRIPTOR.full_name} "
                          f"message ({error})") from None

    return parse


def _unary_request(behaviour: Callable, parse: Callable[[bytes], Any]) -> Callable:
    def handle(data: bytes, context: grpc.ServicerContext) -> Any:
        try:
            request = parse(data)
        except Exception as error:  # noqa: BLE001 - a RequestError from parse
            context.set_trailing_metadata(((ERROR_TYPE_KEY, "ValueError"),))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        per_call.requests.remember(context, request)
        spliced.allow_serialized(True)  # the response serializer below sends bytes as they are
        try:
            return behaviour(request, context)
        finally:
            spliced.allow_serialized(False)
            lifted.forget()

    return handle


def _stream_request(behaviour: Callable, parse: Callable[[bytes], Any]) -> Callable:
    def handle(chunks: Iterator[bytes], context: grpc.ServicerContext) -> Any:
        return behaviour((parse(data) for data in chunks), context)  # the servicer maps parse errors

    return handle


def _message_or_bytes(serialize: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
    """A response serializer that passes through responses already serialized (streamed chunks)."""

    def to_bytes(response: Any) -> bytes:
        return response if type(response) is bytes else serialize(response)

    return to_bytes


def gradwire_handler(servicer: Any) -> grpc.GenericRpcHandler:
    """A generic handler for every GradwireService method of `servicer`."""
    handlers = {}
    for method in SERVICE.methods:
        request_class = getattr(pb, method.input_type.name)
        response_class = getattr(pb, method.output_type.name)
        parse = _parser(request_class, method.name)
        behaviour = getattr(servicer, method.name)
        serialize = _message_or_bytes(response_class.SerializeToString)
        if method.client_streaming:
            parse = chunk_parser(parse)  # chunks viewed in place (raw_chunks.py)
            make = (grpc.stream_stream_rpc_method_handler if method.server_streaming
                    else grpc.stream_unary_rpc_method_handler)
            handlers[method.name] = make(_stream_request(behaviour, parse), response_serializer=serialize)
        else:
            make = (grpc.unary_stream_rpc_method_handler if method.server_streaming
                    else grpc.unary_unary_rpc_method_handler)
            handlers[method.name] = make(_unary_request(behaviour, parse), response_serializer=serialize)
    return grpc.method_handlers_generic_handler(SERVICE.full_name, handlers)


def gated(behaviour: Callable, gate: StreamGate, what: str, *, request_streaming: bool,
          idle_limited: bool = True) -> Callable:
    """A response-streaming behaviour that holds a stream slot (streams.py) while it runs."""

    def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            slot = gate.open(context, caller_of(context), what, idle_limited=idle_limited)
            stream = slot.__enter__()
        except RequestError as error:
            context.abort(error.code, error.message)
        try:
            for response in behaviour(stream.watch(request) if request_streaming else request, context):
                yield response
                stream.touch()
        finally:
            slot.__exit__(None, None, None)

    return handle


def reflection_handler(service_names: Any, gate: StreamGate) -> grpc.GenericRpcHandler:
    """Server reflection (v1alpha), its streams counted and ended when idle like the others."""
    servicer = reflection.ReflectionServicer(service_names)
    handlers = {"ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
        gated(servicer.ServerReflectionInfo, gate, "a reflection stream", request_streaming=True),
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString)}
    return grpc.method_handlers_generic_handler(reflection.SERVICE_NAME, handlers)


def health_handler(health_servicer: Any, pool: futures.ThreadPoolExecutor, gate: StreamGate) -> grpc.GenericRpcHandler:
    """grpc.health.v1.Health with Check on its own pool (grpcio's experimental_thread_pool hook) and Watch
    streams counted against the stream caps (they hold a worker while they wait)."""

    def check(request: Any, context: grpc.ServicerContext) -> Any:
        return health_servicer.Check(request, context)

    check.experimental_thread_pool = pool  # type: ignore[attr-defined]
    watch = gated(health_servicer.Watch, gate, "a health Watch stream", request_streaming=False,
                  idle_limited=False)
    handlers = {
        "Check": grpc.unary_unary_rpc_method_handler(
            check, request_deserializer=health_pb2.HealthCheckRequest.FromString,
            response_serializer=health_pb2.HealthCheckResponse.SerializeToString),
        "Watch": grpc.unary_stream_rpc_method_handler(
            watch, request_deserializer=health_pb2.HealthCheckRequest.FromString,
            response_serializer=health_pb2.HealthCheckResponse.SerializeToString),
    }
    return grpc.method_handlers_generic_handler("grpc.health.v1.Health", handlers)
