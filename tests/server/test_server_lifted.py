"""Large requests' leaf values and seed gradients are viewed in the request's bytes (server/lifted.py):
the same results and errors as protobuf's parse, over loopback gRPC."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from gradwire.server import lifted
from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import node, raises_status, root, tensor, to_array

rng = np.random.default_rng(11)


def _big(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def test_parse_lifts_only_large_leaf_and_seed_data_and_keeps_everything_else():
    x, w, seed = _big(512, 512), np.arange(6, dtype=np.float32), _big(512, 512)
    request = pb.ComputeRequest(
        graph=pb.Graph(leaves=[pb.Leaf(id="x", value=tensor(x), requires_grad=True),
                               pb.Leaf(id="w", value=tensor(w))],
                       nodes=[node("y", "mul", "x", 2.0)]),
        roots=[pb.Root(id="y", gradient=tensor(seed))], return_values=["y"], return_grads=["x"])
    data = request.SerializeToString()
    parsed = lifted.parse(pb.ComputeRequest, data)
    try:
        big_leaf, seed_data = parsed.graph.leaves[0].value.data, parsed.roots[0].gradient.data
        assert len(big_leaf) < 64 and len(seed_data) < 64  # tokens
        assert bytes(lifted.view(big_leaf)) == x.tobytes() and bytes(lifted.view(seed_data)) == seed.tobytes()
        assert parsed.graph.leaves[1].value.data == w.tobytes()  # small: as protobuf parsed it
        parsed.graph.leaves[0].value.data = x.tobytes()
        parsed.roots[0].gradient.data = seed.tobytes()
        assert parsed == request
    finally:
        lifted.forget()
    assert lifted.view(big_leaf) is None  # gone with the call


def test_large_compute_results_match_the_small_path_bit_for_bit(stub):
    x, seed = _big(700, 600), _big(700, 600)

    def compute(leaf: np.ndarray, gradient: np.ndarray) -> pb.ComputeResponse:
        return stub.Compute(pb.ComputeRequest(
            graph=pb.Graph(leaves=[pb.Leaf(id="x", value=tensor(leaf), requires_grad=True)],
                           nodes=[node("y", "tanh", "x"), node("z", "mul", "y", "x")]),
            roots=[pb.Root(id="z", gradient=tensor(gradient))], return_values=["z"], return_grads=["x"]))

    whole = compute(x, seed)
    rows = [compute(x[i:i + 100], seed[i:i + 100]) for i in range(0, 700, 100)]  # each under the lifting size
    np.testing.assert_array_equal(to_array(whole.values[0].tensor),
                                  np.concatenate([to_array(r.values[0].tensor) for r in rows]))
    np.testing.assert_array_equal(to_array(whole.grads[0].tensor),
                                  np.concatenate([to_array(r.grads[0].tensor) for r in rows]))


def test_large_session_leaves_are_writable_copies(stub):
    x = _big(1024, 300)
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=pb.Graph(
        leaves=[pb.Leaf(id="x", value=tensor(x))], nodes=[node("y", "mul_", "x", 2.0)]))).session_id
    read = stub.Read(pb.ReadRequest(session_id=session_id, values=["x"]))
    np.testing.assert_array_equal(to_array(read.values[0].tensor), 2 * x)


def test_wrong_sized_large_data_is_refused_naming_its_size(stub):
    x = _big(1024, 300)
    header = pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[1024, 301], data=x.tobytes())
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, f"data has {x.nbytes} bytes but shape [1024, 301]"):
        stub.Compute(pb.ComputeRequest(graph=pb.Graph(leaves=[pb.Leaf(id="x", value=header)])))


@pytest.mark.parametrize("size", [100, 2 << 20], ids=["small request", "large request"])
def test_a_forged_token_is_just_wrong_data(stub, size):
    forged = b"\x00gradwire-lifted:" + bytes(12) + b"\x00"
    filler = pb.Leaf(id="f", value=tensor(np.zeros(size // 4, np.float32)))
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, f"data has {len(forged)} bytes"):
        stub.Compute(pb.ComputeRequest(graph=pb.Graph(leaves=[
            filler, pb.Leaf(id="x", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[4], data=forged))])))


def test_a_malformed_large_request_is_invalid_argument(channel):
    compute = channel.unary_unary("/gradwire.v1.GradwireService/Compute")
    data = pb.ComputeRequest(graph=pb.Graph(leaves=[pb.Leaf(id="x", value=tensor(_big(512, 1024)))])).SerializeToString()
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "not a valid gradwire.v1.ComputeRequest"):
        compute(data[:-1000])


def test_a_prepared_graph_keeps_its_large_fixed_leaf(stub):
    w = _big(1024, 300)
    graph = pb.Graph(leaves=[pb.Leaf(id="w", value=tensor(w)),
                             pb.Leaf(id="a", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[300]), requires_grad=True)],
                     nodes=[node("y", "matmul", "w", "a"), node("s", "sum", "y")])
    graph_id = stub.PrepareGraph(pb.PrepareGraphRequest(graph=graph, inputs=["a"])).graph_id
    for step in range(3):
        a = np.full(300, step, np.float32)
        response = stub.Compute(pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=tensor(a))],
                                                  roots=[root("s")], return_grads=["a"]))
        np.testing.assert_allclose(to_array(response.grads[0].tensor), w.sum(axis=0), rtol=1e-5)
