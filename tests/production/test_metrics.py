"""Prometheus /metrics after a known sequence of calls shows exactly those counts."""

from __future__ import annotations

import urllib.request
from importlib.metadata import version

import grpc
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gradwire.server.footprint import TENSOR_BYTES
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc
from production_helpers import TOKEN_ALICE, write_tokens

SERVICE = "gradwire.v1.GradwireService"
ALICE = (("authorization", f"Bearer {TOKEN_ALICE}"),)


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("text/plain")
        text = reply.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def _calls(metrics, name, method, **labels):
    return metrics.get((name, tuple(sorted({"service": SERVICE, "method": method, **labels}.items()))), 0)


def _tensor(values):
    array = np.asarray(values, np.float32)
    return pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=array.shape, data=array.tobytes())


def test_a_scrape_shows_exactly_the_calls_made(start_server, tmp_path):
    server = start_server(metrics_address="127.0.0.1:0", auth_tokens=str(write_tokens(tmp_path)),
                          max_sessions_per_principal=1)
    assert server.metrics_port
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        compute = pb.ComputeRequest(
            graph=pb.Graph(leaves=[pb.Leaf(id="a", value=_tensor([2, 3]), requires_grad=True)],
                           nodes=[pb.Node(id="s", op="sum", inputs=[pb.Operand(ref="a")])]),
            roots=[pb.Root(id="s")])
        replies = [stub.Compute(compute, metadata=ALICE) for _ in range(2)]
        bad = pb.ComputeRequest(graph=pb.Graph(nodes=[pb.Node(id="x", op="no_such_op")]))
        with pytest.raises(grpc.RpcError):
            stub.Compute(bad, metadata=ALICE)
        with pytest.raises(grpc.RpcError):
            stub.ListOps(pb.ListOpsRequest())  # no token
        session = stub.CreateSession(pb.CreateSessionRequest(
            graph=pb.Graph(leaves=[pb.Leaf(id="w", value=_tensor(np.zeros(100)))])), metadata=ALICE)
        with pytest.raises(grpc.RpcError):
            stub.CreateSession(pb.CreateSessionRequest(), metadata=ALICE)  # over the per-principal cap
        upload = stub.UploadTensor(iter([pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[8])),
                                         pb.UploadTensorRequest(chunk=bytes(32))]), metadata=ALICE)
    assert session.session_id and upload.received_bytes == 32

    metrics = scrape(server.metrics_port)
    handled = "gradwire_rpc_handled_total"
    assert _calls(metrics, handled, "Compute", code="OK") == 2
    assert _calls(metrics, handled, "Compute", code="INVALID_ARGUMENT") == 1
    assert _calls(metrics, handled, "ListOps", code="UNAUTHENTICATED") == 1
    assert _calls(metrics, handled, "CreateSession", code="OK") == 1
    assert _calls(metrics, handled, "CreateSession", code="RESOURCE_EXHAUSTED") == 1
    assert _calls(metrics, handled, "UploadTensor", code="OK") == 1
    assert sum(value for (name, _), value in metrics.items() if name == handled) == 7
    assert _calls(metrics, "gradwire_rpc_started_total", "Compute") == 3
    assert _calls(metrics, "gradwire_rpc_duration_seconds_count", "Compute") == 3
    assert _calls(metrics, "gradwire_rpc_in_flight", "Compute") == 0
    assert _calls(metrics, "gradwire_budget_refusals_total", "CreateSession") == 1
    assert metrics[("gradwire_uploads_total", ())] == 1
    assert _calls(metrics, "gradwire_rpc_received_bytes_total", "Compute") == 2 * compute.ByteSize() + bad.ByteSize()
    assert _calls(metrics, "gradwire_rpc_sent_bytes_total", "Compute") == sum(r.ByteSize() for r in replies)
    assert metrics[("gradwire_sessions_open", ())] == 1
    # the session's leaf (its data and the tensor object around it, footprint.py) and the pending upload
    assert metrics[("gradwire_retained_bytes", ())] == 100 * 4 + TENSOR_BYTES + 32
    build = next(labels for (name, labels) in metrics if name == "gradwire_build_info")
    assert dict(build)["version"] == version("gradwire") and dict(build)["contract"] == "gradwire.v1"
    text = "".join(f"{name}{labels}" for name, labels in metrics)
    assert TOKEN_ALICE not in text and "alice" not in text and session.session_id not in text
