"""OpenTelemetry: a trace started in the caller's code, through the SDK, continues in the server's spans
(one per RPC), checked with the SDK's in-memory exporter; no collector needed."""

from __future__ import annotations

import grpc
import pytest

pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed (pip install 'gradwire[otel]')")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from gradwire.client import Client  # noqa: E402
from gradwire.server import ServerConfig, create_server  # noqa: E402
from gradwire.v1 import gradwire_pb2 as pb  # noqa: E402
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc  # noqa: E402


@pytest.fixture
def traced():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server, port = create_server("127.0.0.1:0", ServerConfig(tracing="on"), tracer_provider=provider)
    yield f"127.0.0.1:{port}", provider, exporter
    server.stop(None).wait()


def test_a_trace_through_the_sdk_and_the_server_shares_one_trace_id(traced):
    address, provider, exporter = traced
    tracer = provider.get_tracer("the caller")
    with tracer.start_as_current_span("training step") as step:
        with Client(address) as torch:
            a = torch.tensor([2.0, 3.0], requires_grad=True)
            out = ((a + 3) * (a + 3) * 3).mean()
            out.backward()
            assert a.grad.tolist() == [15.0, 18.0]
    spans = exporter.get_finished_spans()
    server_spans = [span for span in spans if span.kind == SpanKind.SERVER]
    methods = [span.attributes["rpc.method"] for span in server_spans]
    assert "ListOps" in methods and "CreateSession" in methods and "Backward" in methods
    trace_id = step.get_span_context().trace_id
    for span in server_spans:
        assert span.context.trace_id == trace_id, span.name
        assert span.parent.span_id == step.get_span_context().span_id
        assert span.attributes["rpc.system"] == "grpc" and span.attributes["rpc.grpc.status_code"] == 0
    created = next(span for span in server_spans if span.attributes["rpc.method"] == "CreateSession")
    assert created.attributes["gradwire.node_count"] >= 3 and created.attributes["gradwire.leaf_count"] >= 1
    assert len(created.attributes["gradwire.session_id"]) == 32


def test_w3c_context_from_raw_metadata_and_errors_marked(traced):
    address, _, exporter = traced
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with grpc.insecure_channel(address) as channel:
        with pytest.raises(grpc.RpcError):
            pb_grpc.GradwireServiceStub(channel).Read(pb.ReadRequest(session_id="c" * 32),
                                                      metadata=(("traceparent", traceparent),))
    (span,) = exporter.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{span.parent.span_id:016x}" == "b7ad6b7169203331"
    assert span.name == "gradwire.v1.GradwireService/Read"
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
