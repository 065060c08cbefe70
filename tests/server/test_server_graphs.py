"""Graphs that exercise every kind of operand and attribute on the wire, checked against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import DType, arrays, graph, index, infos, leaf, node, root


def _compute(stub, *items, roots=(), values=(), grads=()):
    response = stub.Compute(pb.ComputeRequest(graph=graph(*items), roots=list(roots), return_values=list(values),
                                              return_grads=list(grads)))
    return arrays(response.values), arrays(response.grads), infos(response.info)


def test_broadcasting_gradients_are_summed_back(stub):
    seed = np.arange(12, dtype=np.float32).reshape(4, 3)
    _, grads, _ = _compute(stub, leaf("a", np.ones((1, 3)), requires_grad=True),
                           leaf("b", np.ones((4, 1)), requires_grad=True), node("c", "add", "a", "b"),
                           roots=[root("c", seed)])
    a, b = torch.ones(1, 3, requires_grad=True), torch.ones(4, 1, requires_grad=True)
    (a + b).backward(torch.from_numpy(seed))
    np.testing.assert_array_equal(grads["a"], a.grad.numpy())
    np.testing.assert_array_equal(grads["b"], b.grad.numpy())


def test_every_index_item_kind(stub):
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    mask = np.array([True, False, True, True])
    values, grads, info = _compute(
        stub, leaf("x", x, np.float64, requires_grad=True), leaf("mask", mask, np.bool_),
        node("sliced", "getitem", "x", index=index(1, slice(None, None, 2), None, Ellipsis)),
        node("picked", "getitem", "x", index=index(Ellipsis, np.array([3, 0]))),
        node("masked", "getitem", "x", index=index(slice(None), slice(1, 3), "mask")),
        node("s1", "sum", "sliced"), node("s2", "sum", "picked"), node("s3", "sum", "masked"),
        node("l12", "add", "s1", "s2"), node("loss", "add", "l12", "s3"),
        roots=[root("loss")], values=["sliced", "picked", "masked"])
    xt = torch.tensor(x, requires_grad=True)
    sliced, picked = xt[1, ::2, None, ...], xt[..., torch.tensor([3, 0])]
    masked = xt[:, 1:3, torch.from_numpy(mask)]
    (sliced.sum() + picked.sum() + masked.sum()).backward()
    for name, expected in (("sliced", sliced), ("picked", picked), ("masked", masked)):
        np.testing.assert_array_equal(values[name], expected.detach().numpy())
        assert info[name].grad_fn == expected.grad_fn.name()
    np.testing.assert_array_equal(grads["x"], xt.grad.numpy())


def test_variadic_ops_dtype_attributes_and_reals(stub):
    values, grads, info = _compute(
        stub, leaf("a", [1, 2], requires_grad=True), leaf("b", [3], requires_grad=True),
        node("ab", "cat", "a", "b", dim=0), node("wide", "to", "ab", dtype=DType("float64")),
        node("clamped", "clamp", "wide", min=1.5, max=2), node("total", "sum", "clamped"),
        roots=[root("total")], values=["ab", "clamped"])
    a, b = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)
    clamped = torch.cat([a, b]).to(torch.float64).clamp(min=1.5, max=2)
    clamped.sum().backward()
    np.testing.assert_array_equal(values["clamped"], clamped.detach().numpy())
    assert info["wide"].dtype == pb.DTYPE_FLOAT64 and grads["a"].dtype == np.float32
    np.testing.assert_array_equal(grads["a"], a.grad.numpy())
    np.testing.assert_array_equal(grads["b"], b.grad.numpy())


def test_no_grad_nodes_and_inplace_ops(stub):
    values, grads, info = _compute(
        stub, leaf("w", [1, 2, 3], requires_grad=True), leaf("buffer", [5, 5, 5]),
        node("frozen", "mul", "w", 2, no_grad=True), node("cleared", "zero_", "buffer"),
        node("used", "add", "w", "cleared"), node("loss", "sum", "used"),
        roots=[root("loss")], values=["frozen", "buffer"])
    assert not info["frozen"].requires_grad and info["frozen"].is_leaf
    np.testing.assert_array_equal(values["frozen"], [2, 4, 6])
    np.testing.assert_array_equal(values["buffer"], [0, 0, 0])  # zero_ changed the leaf itself
    np.testing.assert_array_equal(grads["w"], [1, 1, 1])


def test_a_deep_chain(stub):
    depth = 2000
    chain = [node(f"n{k}", "mul", f"n{k - 1}" if k else "x", 1.001) for k in range(depth)]
    _, grads, _ = _compute(stub, leaf("x", [1.0], np.float64, requires_grad=True), *chain,
                           roots=[root(f"n{depth - 1}")])
    assert grads["x"][0] == pytest.approx(1.001 ** depth, rel=1e-12)


def test_integer_bounds_keep_an_integer_tensor_integer(stub):
    response = stub.Compute(pb.ComputeRequest(
        graph=graph(leaf("a", [[-3, 0, 5]], np.int32), node("c", "clamp", "a", min=-1, max=2)),
        return_values=["c"]))
    assert infos(response.info)["c"].dtype == pb.DTYPE_INT32  # as torch: int32.clamp(-1, 2) is int32
    np.testing.assert_array_equal(arrays(response.values)["c"], [[-1, 0, 2]])
