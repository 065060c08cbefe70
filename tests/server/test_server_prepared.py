"""Prepared graphs over a real server: PrepareGraph, then Compute / CreateSession by graph_id with only the
input values; ownership, expiry, budgets and every refusal with its status code."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest

from gradwire.server import ServerConfig, create_server
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc
from server_helpers import CHANNEL_OPTIONS


def f32(values) -> pb.Tensor:
    array = np.asarray(values, np.float32)
    return pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=array.shape, data=array.tobytes())


def spec(shape, dtype=pb.DTYPE_FLOAT32) -> pb.Tensor:
    return pb.Tensor(dtype=dtype, shape=shape)


def node(value_id, op, *inputs, **attrs):
    operands = [pb.Operand(ref=x) if isinstance(x, str) else pb.Operand(real=float(x)) for x in inputs]
    made = pb.Node(id=value_id, op=op, inputs=operands)
    for name, value in attrs.items():
        made.attrs[name].integer = value
    return made


TUTORIAL_NODES = [node("b", "add", "a", 3), node("bb", "mul", "b", "b"), node("c", "mul", "bb", 3),
                  node("out", "mean", "c")]


def tutorial(a_leaf: pb.Leaf) -> pb.Graph:
    return pb.Graph(leaves=[a_leaf], nodes=TUTORIAL_NODES)


def prepare_tutorial(stub, **options) -> str:
    request = pb.PrepareGraphRequest(graph=tutorial(pb.Leaf(id="a", value=spec([2]), requires_grad=True)),
                                     inputs=["a"], **options)
    return stub.PrepareGraph(request).graph_id


def grads(response) -> dict:
    return {item.id: np.frombuffer(item.tensor.data, np.float32).tolist() for item in response.grads}


def code_of(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code(), caught.value.details()


def test_compute_by_graph_id_gives_the_tutorial_and_the_slow_paths_bits(stub):
    graph_id = prepare_tutorial(stub)
    compute = pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=f32([2, 3]))],
                                roots=[pb.Root(id="out")], return_values=["out"])
    first = stub.Compute(compute)
    assert grads(first) == {"a": [15.0, 18.0]}
    assert [info.id for info in first.info] == ["a", "b", "bb", "c", "out"]
    for values in ([1.0, -4.5], [0.1, 7.25]):
        by_id = stub.Compute(pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=f32(values))],
                                               roots=[pb.Root(id="out")], return_values=["out"]))
        plain = stub.Compute(pb.ComputeRequest(graph=tutorial(pb.Leaf(id="a", value=f32(values), requires_grad=True)),
                                               roots=[pb.Root(id="out")], return_values=["out"]))
        assert by_id == plain
        expected = [3 * 2 * (x + 3) / 2 for x in np.float32(values)]
        np.testing.assert_allclose(grads(by_id)["a"], expected, rtol=1e-6)


def test_fixed_leaves_stay_and_a_session_can_start_from_a_prepared_graph(stub):
    weights = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    graph = pb.Graph(leaves=[pb.Leaf(id="x", value=spec([2])), pb.Leaf(id="W", value=f32(weights), requires_grad=True)],
                     nodes=[node("y", "matmul", "W", "x"), node("loss", "sum", "y")])
    graph_id = stub.PrepareGraph(pb.PrepareGraphRequest(graph=graph, inputs=["x"])).graph_id
    for x in ([1.0, 0.0], [0.5, 2.0]):
        response = stub.Compute(pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="x", value=f32(x))],
                                                  roots=[pb.Root(id="loss")]))
        assert grads(response) == {"W": [x[0], x[1], x[0], x[1]]}  # only W requires grad
    session = stub.CreateSession(pb.CreateSessionRequest(graph_id=graph_id, inputs=[pb.Leaf(id="x", value=f32([1, 1]))]))
    for expected in ([1.0] * 4, [2.0] * 4):  # grads accumulate in the session as usual
        backward = stub.Backward(pb.BackwardRequest(session_id=session.session_id, roots=[pb.Root(id="loss")],
                                                    retain_graph=True))
        assert grads(backward) == {"W": expected}
    stub.CloseSession(pb.CloseSessionRequest(session_id=session.session_id))


def test_unknown_and_released_ids_are_not_found(stub):
    code, details = code_of(lambda: stub.Compute(pb.ComputeRequest(graph_id="0" * 32)))
    assert code == grpc.StatusCode.NOT_FOUND and "0" * 32 in details
    graph_id = prepare_tutorial(stub)
    stub.ReleaseGraph(pb.ReleaseGraphRequest(graph_id=graph_id))
    code, _ = code_of(lambda: stub.Compute(pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=f32([1, 2]))])))
    assert code == grpc.StatusCode.NOT_FOUND
    assert code_of(lambda: stub.ReleaseGraph(pb.ReleaseGraphRequest(graph_id=graph_id)))[0] == grpc.StatusCode.NOT_FOUND


def test_wrong_inputs_are_invalid_argument_naming_the_leaf(stub):
    graph_id = prepare_tutorial(stub)

    def compute(*inputs, **fields):
        return lambda: stub.Compute(pb.ComputeRequest(graph_id=graph_id, inputs=list(inputs), **fields))

    cases = [
        (compute(pb.Leaf(id="a", value=f32([1, 2, 3]))), "declared float32 of shape [2]"),
        (compute(pb.Leaf(id="a", value=pb.Tensor(dtype=pb.DTYPE_FLOAT64, shape=[2], data=bytes(16)))), "float64"),
        (compute(), "needs a value for input leaf(s) 'a'"),
        (compute(pb.Leaf(id="a", value=f32([1, 2])), pb.Leaf(id="a", value=f32([1, 2]))), "given twice"),
        (compute(pb.Leaf(id="zz", value=f32([1, 2]))), "not one of its input leaves"),
        (compute(pb.Leaf(id="a", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[2], data=bytes(3)))), "data has 3 bytes"),
        (compute(pb.Leaf(id="a", value=f32([1, 2])), graph=tutorial(pb.Leaf(id="a", value=f32([1, 2])))), "not both"),
        (lambda: stub.Compute(pb.ComputeRequest(inputs=[pb.Leaf(id="a", value=f32([1, 2]))])), "give graph_id too"),
    ]
    for call, words in cases:
        code, details = code_of(call)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and words in details, details
    assert grads(stub.Compute(pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=f32([2, 3]))],
                                                roots=[pb.Root(id="out")]))) == {"a": [15.0, 18.0]}  # nothing above changed the prepared graph


def test_bad_graphs_are_refused_at_prepare_time(stub):
    unknown_op = pb.Graph(leaves=[pb.Leaf(id="a", value=spec([2]))], nodes=[node("b", "no_such_op", "a")])
    int_grad = pb.Graph(leaves=[pb.Leaf(id="a", value=spec([2], pb.DTYPE_INT64), requires_grad=True)])
    cases = [
        (pb.PrepareGraphRequest(graph=unknown_op, inputs=["a"]), "unknown op"),
        (pb.PrepareGraphRequest(graph=int_grad, inputs=["a"]), "floating"),
        (pb.PrepareGraphRequest(graph=tutorial(pb.Leaf(id="a", value=f32([1, 2]))), inputs=["a"]), "no data"),
        (pb.PrepareGraphRequest(graph=tutorial(pb.Leaf(id="a", value=spec([2]))), inputs=["q"]), "not leaves"),
    ]
    for request, words in cases:
        code, details = code_of(lambda: stub.PrepareGraph(request))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and words in details, details


def test_a_prepared_graph_expires_after_its_idle_ttl(start_server):
    _, stub, _ = start_server(session_ttl=0.3)
    graph_id = prepare_tutorial(stub)
    stub.Compute(pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=f32([2, 3]))]))
    time.sleep(0.5)
    code, details = code_of(lambda: stub.Compute(pb.ComputeRequest(graph_id=graph_id,
                                                                  inputs=[pb.Leaf(id="a", value=f32([2, 3]))])))
    assert code == grpc.StatusCode.NOT_FOUND and ("expired" in details or "not found" in details)


def test_prepared_graphs_count_against_the_retained_bytes_and_their_own_cap(start_server):
    server, stub, _ = start_server(max_session_bytes=64 << 10, max_prepared_graphs=2)
    big = pb.Graph(leaves=[pb.Leaf(id="x", value=spec([4])), pb.Leaf(id="w", value=f32(np.zeros(32 << 10)))])
    code, details = code_of(lambda: stub.PrepareGraph(pb.PrepareGraphRequest(graph=big, inputs=["x"])))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "prepared graph" in details
    assert server.sessions.retained.used == 0
    ids = [prepare_tutorial(stub) for _ in range(2)]
    assert server.sessions.retained.used > 0
    assert code_of(lambda: prepare_tutorial(stub))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
    for graph_id in ids:
        stub.ReleaseGraph(pb.ReleaseGraphRequest(graph_id=graph_id))
    assert server.sessions.retained.used == 0
    prepare_tutorial(stub)


def test_another_principals_prepared_graph_is_not_found(tmp_path):
    """A prepared graph belongs to the principal that prepared it (as sessions do): another gets NOT_FOUND."""
    tokens = tmp_path / "tokens"
    tokens.write_text("alice:alice-token-0123456789\nbob:bob-token-9876543210\n")
    alice = (("authorization", "Bearer alice-token-0123456789"),)
    bob = (("authorization", "Bearer bob-token-9876543210"),)
    server, port = create_server("127.0.0.1:0", ServerConfig(auth_tokens=str(tokens)))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS) as channel:
            stub = pb_grpc.GradwireServiceStub(channel)
            request = pb.PrepareGraphRequest(graph=tutorial(pb.Leaf(id="a", value=spec([2]), requires_grad=True)),
                                             inputs=["a"])
            graph_id = stub.PrepareGraph(request, metadata=alice).graph_id
            compute = pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=f32([2, 3]))],
                                        roots=[pb.Root(id="out")])
            code, details = code_of(lambda: stub.Compute(compute, metadata=bob))
            assert code == grpc.StatusCode.NOT_FOUND and "not found" in details
            release = pb.ReleaseGraphRequest(graph_id=graph_id)
            assert code_of(lambda: stub.ReleaseGraph(release, metadata=bob))[0] == grpc.StatusCode.NOT_FOUND
            assert grads(stub.Compute(compute, metadata=alice)) == {"a": [15.0, 18.0]}  # still alice's
    finally:
        server.stop(None).wait()


def test_uploads_can_be_fixed_leaves_and_inputs(start_server):
    server, stub, _ = start_server()

    def upload(array: np.ndarray) -> str:
        parts = [pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=array.shape)),
                 pb.UploadTensorRequest(chunk=array.tobytes()[:5]), pb.UploadTensorRequest(chunk=array.tobytes()[5:])]
        return stub.UploadTensor(iter(parts)).upload_id

    weights = np.array([1.0, -2.0, 0.5], np.float32)
    graph = pb.Graph(leaves=[pb.Leaf(id="x", value=spec([3])), pb.Leaf(id="w", upload_id=upload(weights))],
                     nodes=[node("y", "mul", "x", "w"), node("s", "sum", "y")])
    graph_id = stub.PrepareGraph(pb.PrepareGraphRequest(graph=graph, inputs=["x"])).graph_id
    held = server.sessions.retained.used
    assert held >= weights.nbytes  # the upload's bytes now belong to the prepared graph
    x = np.array([3.0, 4.0, 5.0], np.float32)
    for leaf in (pb.Leaf(id="x", value=f32(x)), pb.Leaf(id="x", upload_id=upload(x))):
        response = stub.Compute(pb.ComputeRequest(graph_id=graph_id, inputs=[leaf], return_values=["s"]))
        assert np.frombuffer(response.values[0].tensor.data, np.float32).tolist() == [float(x @ weights)]
    assert server.sessions.retained.used == held  # the input upload was consumed by its Compute
    wrong = upload(np.zeros(4, np.float32))
    code, details = code_of(lambda: stub.Compute(pb.ComputeRequest(graph_id=graph_id,
                                                                  inputs=[pb.Leaf(id="x", upload_id=wrong)])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "shape [4]" in details
