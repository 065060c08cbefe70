"""OpenTelemetry: one SERVER span per call, continuing the caller's W3C trace context.

The context comes from the call's metadata (`traceparent`, `tracestate`), which the gradwire SDK sends
when OpenTelemetry is installed on its side. Span attributes: rpc.system, rpc.service, rpc.method,
rpc.grpc.status_code, gradwire.session_id, gradwire.leaf_count and gradwire.node_count (the sizes of a
request's graph), gradwire.request_bytes and gradwire.response_bytes. Needs the `otel` extra
(pip install 'gradwire[otel]'); the server never imports OpenTelemetry without --tracing.
"""

from __future__ import annotations

from typing import Any

import grpc

from .access_log import _session_id
from .observe import Call, Observer


def console_provider() -> Any:
    """A tracer provider printing finished spans to stderr (`--tracing console`)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    return provider


class Tracing(Observer):
    def __init__(self, tracer_provider: Any = None) -> None:
        try:
            from opentelemetry import context, propagate, trace
        except ImportError as error:
            raise RuntimeError("tracing needs OpenTelemetry: pip install 'gradwire[otel]'") from error
        self._context, self._propagate, self._trace = context, propagate, trace
        self.tracer = trace.get_tracer("gradwire.server", tracer_provider=tracer_provider)

    def begin(self, call: Call) -> None:
        parent = self._propagate.extract(call.metadata)
        span = self.tracer.start_span(call.method.lstrip("/"), context=parent, kind=self._trace.SpanKind.SERVER,
                                      attributes={"rpc.system": "grpc", "rpc.service": call.service,
                                                  "rpc.method": call.name})
        call.state["span"] = span
        call.state["token"] = self._context.attach(self._trace.set_span_in_context(span, parent))

    def end(self, call: Call) -> None:
        span = call.state.pop("span", None)
        if span is None:
            return
        graph = getattr(call.message, "graph", None)
        if graph is not None:
            span.set_attribute("gradwire.leaf_count", len(graph.leaves))
            span.set_attribute("gradwire.node_count", len(graph.nodes))
        session_id = _session_id(call)
        if session_id:
            span.set_attribute("gradwire.session_id", session_id)
        span.set_attribute("rpc.grpc.status_code", call.code.value[0])
        span.set_attribute("gradwire.request_bytes", call.request_bytes)
        span.set_attribute("gradwire.response_bytes", call.response_bytes)
        if call.code != grpc.StatusCode.OK:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, call.code.name))
        span.end()
        try:
            self._context.detach(call.state.pop("token"))
        except Exception:  # noqa: BLE001 - a stream ended on another thread: the span is finished anyway
            pass
