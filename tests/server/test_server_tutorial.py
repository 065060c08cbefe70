"""Every tutorial program (the README's examples and their errors) through the raw stubs, checked against torch."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
import torch

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import arrays, graph, index, infos, leaf, node, raises_status, root

DTYPE_OF_TORCH = {torch.float32: pb.DTYPE_FLOAT32, torch.float64: pb.DTYPE_FLOAT64, torch.int64: pb.DTYPE_INT64}


def _assert_info_matches(info: pb.ValueInfo, expected: torch.Tensor) -> None:
    assert info.dtype == DTYPE_OF_TORCH[expected.dtype]
    assert tuple(info.shape) == tuple(expected.shape)
    assert info.requires_grad == expected.requires_grad
    assert info.is_leaf == expected.is_leaf
    assert info.grad_fn == (expected.grad_fn.name() if expected.grad_fn is not None else "")


def test_1_four_ways_to_make_a_leaf_that_requires_grad(stub):
    values = np.random.default_rng(0).standard_normal((2, 2)).astype(np.float32)
    response = stub.Compute(pb.ComputeRequest(graph=graph(
        leaf("randn", values, requires_grad=True),
        leaf("variable", [2, 3], np.float32, requires_grad=True),
        leaf("tensor64", [2, 3], np.float64, requires_grad=True),
        leaf("numpy", [1, 2, 3], np.float64),
        node("numpy_rg", "requires_grad_", "numpy", requires_grad=True),
    )))
    info = infos(response.info)
    expected_numpy = torch.from_numpy(np.array([1.0, 2.0, 3.0]))
    expected_numpy.requires_grad_(True)
    expected = {
        "randn": torch.from_numpy(values).requires_grad_(), "variable": torch.tensor([2.0, 3.0], requires_grad=True),
        "tensor64": torch.tensor([2, 3], requires_grad=True, dtype=torch.float64), "numpy_rg": expected_numpy,
    }
    for value_id, tensor in expected.items():
        _assert_info_matches(info[value_id], tensor)


def test_2_only_floating_point_tensors_can_require_grad(stub):
    with pytest.raises(RuntimeError):
        torch.tensor([2, 3], requires_grad=True)
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "'ints'") as error:
        stub.Compute(pb.ComputeRequest(graph=graph(leaf("ints", [2, 3], np.int64, requires_grad=True))))
    assert error["trailers"]["gradwire-error-type"] == "RuntimeError"
    assert error["trailers"]["gradwire-node-id"] == "ints"
    # dtypes survive the wire: Tensor([2,3]) float32, tensor([2,3]) int64, tensor([2.,3.]) float32
    response = stub.Compute(pb.ComputeRequest(graph=graph(
        leaf("f", [2, 3], np.float32), leaf("i", [2, 3], np.int64), node("mixed", "add", "i", "f"))))
    assert infos(response.info)["mixed"].dtype == DTYPE_OF_TORCH[(torch.tensor([2, 3]) + torch.Tensor([2, 3])).dtype]


def test_3_attributes_of_a_tensor(stub):
    session = stub.CreateSession(pb.CreateSessionRequest(
        graph=graph(leaf("x", [2, 3], requires_grad=True), node("y", "mul", "x", 2)), return_values=["x", "y"]))
    read = stub.Read(pb.ReadRequest(session_id=session.session_id, grads=["x"]))
    assert arrays(read.grads) == {"x": None}  # grad is None until a backward reaches it
    np.testing.assert_array_equal(arrays(session.values)["y"], [4, 6])
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    _assert_info_matches(infos(session.info)["x"], x)
    _assert_info_matches(infos(session.info)["y"], x * 2)


def test_4_requires_grad_propagates_and_only_leaves_get_grads(stub):
    response = stub.Compute(pb.ComputeRequest(
        graph=graph(leaf("x", [1, 2]), leaf("y", [3, 4]), leaf("z", [5, 6], requires_grad=True),
                    node("a", "add", "x", "y"), node("b", "add", "a", "z"), node("s", "sum", "b")),
        roots=[root("s")], return_grads=["x", "y", "z"]))
    x, y, z = torch.tensor([1.0, 2]), torch.tensor([3.0, 4]), torch.tensor([5.0, 6], requires_grad=True)
    a = x + y
    b = a + z
    b.sum().backward()
    info = infos(response.info)
    _assert_info_matches(info["a"], a)
    _assert_info_matches(info["b"], b)
    grads = arrays(response.grads)
    assert grads["x"] is None and grads["y"] is None
    np.testing.assert_array_equal(grads["z"], z.grad.numpy())


TUTORIAL_5 = (leaf("a", [2, 3], requires_grad=True), node("b", "add", "a", 3), node("bb", "mul", "b", "b"),
              node("c", "mul", "bb", 3), node("out", "mean", "c"))


def test_5_retain_accumulate_then_freed_graph(stub):
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=graph(*TUTORIAL_5))).session_id
    first = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("out")], retain_graph=True))
    second = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("out")]))
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    out = ((a + 3) * (a + 3) * 3).mean()
    out.backward(retain_graph=True)
    np.testing.assert_array_equal(arrays(first.grads)["a"], a.grad.numpy())
    out.backward()
    np.testing.assert_array_equal(arrays(second.grads)["a"], a.grad.numpy())
    assert a.grad.tolist() == [30.0, 36.0]
    with raises_status(grpc.StatusCode.FAILED_PRECONDITION, "second time") as error:
        stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("out")]))
    assert error["trailers"]["gradwire-error-type"] == "RuntimeError"
    # the failed backward changed nothing
    read = stub.Read(pb.ReadRequest(session_id=session_id, grads=["a"]))
    np.testing.assert_array_equal(arrays(read.grads)["a"], [30, 36])


def test_5_one_shot(stub):
    response = stub.Compute(pb.ComputeRequest(graph=graph(*TUTORIAL_5), roots=[root("out")],
                                              return_values=["out"]))
    np.testing.assert_array_equal(arrays(response.grads)["a"], [15, 18])
    assert arrays(response.values)["out"] == pytest.approx(((np.array([2, 3]) + 3) ** 2 * 3).mean())


def test_6_scalar_output_seed_defaults_to_one(stub):
    implicit = stub.Compute(pb.ComputeRequest(graph=graph(*TUTORIAL_5), roots=[root("out")]))
    explicit = stub.Compute(pb.ComputeRequest(graph=graph(*TUTORIAL_5), roots=[root("out", 1.0)]))
    np.testing.assert_array_equal(arrays(implicit.grads)["a"], arrays(explicit.grads)["a"])


TUTORIAL_7 = (leaf("m", [2, 3], requires_grad=True), leaf("n", [0, 0]),
              node("m0", "getitem", "m", index=index(0)),
              node("p0", "pow", "m0", 2), node("n0", "setitem", "n", "p0", index=index(0)),
              node("m1", "getitem", "m", index=index(1)),
              node("p1", "pow", "m1", 3), node("n1", "setitem", "n", "p1", index=index(1)))


def test_7_non_scalar_output_needs_a_seed_of_its_shape(stub):
    response = stub.CreateSession(pb.CreateSessionRequest(graph=graph(*TUTORIAL_7)))
    m = torch.tensor([2.0, 3.0], requires_grad=True)
    n = torch.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    _assert_info_matches(infos(response.info)["n"], n)
    session_id = response.session_id
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "scalar outputs"):
        stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("n")]))
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "shape"):
        stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("n", [1, 1, 1])]))
    done = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("n", [1, 1])], retain_graph=True))
    n.backward(gradient=torch.tensor([1.0, 1.0]), retain_graph=True)
    np.testing.assert_array_equal(arrays(done.grads)["m"], m.grad.numpy())
    assert m.grad.tolist() == [4.0, 27.0]
