"""Session flows over gRPC: retained backward, accumulation, grads, extend, Jacobians, double backward."""

from __future__ import annotations

import time

import grpc
import numpy as np
import pytest
import torch

from gradwire.server.footprint import TENSOR_BYTES
from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import arrays, graph, index, infos, leaf, node, raises_status, root, tensor


def _create(stub, *items, **fields) -> str:
    return stub.CreateSession(pb.CreateSessionRequest(graph=graph(*items), **fields)).session_id


def _grads(stub, session_id, *ids):
    return arrays(stub.Read(pb.ReadRequest(session_id=session_id, grads=list(ids))).grads)


def test_zero_clear_and_set_grads(stub):
    session_id = _create(stub, leaf("w", [1, 2, 3], requires_grad=True), node("l", "sum", "w"))
    backward = pb.BackwardRequest(session_id=session_id, roots=[root("l")], retain_graph=True)
    stub.Backward(backward)
    stub.Backward(backward)
    np.testing.assert_array_equal(_grads(stub, session_id, "w")["w"], [2, 2, 2])
    stub.UpdateGrads(pb.UpdateGradsRequest(session_id=session_id, zero=["w"]))
    np.testing.assert_array_equal(_grads(stub, session_id, "w")["w"], [0, 0, 0])
    stub.Backward(backward)
    np.testing.assert_array_equal(_grads(stub, session_id, "w")["w"], [1, 1, 1])
    stub.UpdateGrads(pb.UpdateGradsRequest(session_id=session_id, clear=["w"]))
    assert _grads(stub, session_id, "w")["w"] is None
    stub.UpdateGrads(pb.UpdateGradsRequest(session_id=session_id,
                                           set=[pb.NamedTensor(id="w", tensor=tensor([10, 20, 30]))]))
    response = stub.Backward(backward)
    np.testing.assert_array_equal(arrays(response.grads)["w"], [11, 21, 31])


def test_extend_after_backward_keeps_building(stub):
    session_id = _create(stub, leaf("a", [2, 3], requires_grad=True), node("b", "mul", "a", "a"),
                         node("out", "sum", "b"))
    stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("out")]))
    extended = stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(
        leaf("k", [10, 100]), node("d", "mul", "a", "k"), node("out2", "sum", "d")), return_values=["out2"]))
    assert set(infos(extended.info)) == {"k", "d", "out2"}
    assert arrays(extended.values)["out2"] == 320
    response = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("out2")]))
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    (a * a).sum().backward()
    (a * torch.tensor([10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(arrays(response.grads)["a"], a.grad.numpy())


def test_extend_reports_values_an_inplace_node_changed(stub):
    session_id = _create(stub, leaf("m", [2, 3], requires_grad=True), leaf("n", [0, 0]))
    response = stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(
        node("sq", "mul", "m", "m"), node("n_set", "setitem", "n", "sq", index=index(slice(None))))))
    info = infos(response.info)
    assert info["n"].grad_fn == info["n_set"].grad_fn and "CopySlices" in info["n"].grad_fn
    assert info["n"].requires_grad and not info["n"].is_leaf


def test_batched_seeds_give_the_jacobian(stub):
    session_id = _create(stub, leaf("x", [2, 3], requires_grad=True), node("y", "pow", "x", 2))
    response = stub.Grad(pb.GradRequest(session_id=session_id, outputs=[root("y", np.eye(2))], inputs=["x"],
                                        is_grads_batched=True))
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    (expected,) = torch.autograd.grad(x ** 2, x, torch.eye(2), is_grads_batched=True)
    np.testing.assert_array_equal(arrays(response.grads)["x"], expected.numpy())
    assert _grads(stub, session_id, "x")["x"] is None  # grad touches no .grad


def test_create_graph_then_a_second_grad(stub):
    session_id = _create(stub, leaf("x", [1, 2, 3], np.float64, requires_grad=True), node("c", "pow", "x", 3),
                         node("s", "sum", "c"))
    first = stub.Grad(pb.GradRequest(session_id=session_id, outputs=[root("s")], inputs=["x"], create_graph=True,
                                     result_ids=["g"]))
    np.testing.assert_allclose(arrays(first.grads)["x"], 3 * np.array([1, 2, 3]) ** 2)
    assert infos(first.info)["g"].requires_grad and infos(first.info)["g"].grad_fn
    stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(node("gs", "sum", "g"))))
    second = stub.Grad(pb.GradRequest(session_id=session_id, outputs=[root("gs")], inputs=["x"]))
    np.testing.assert_allclose(arrays(second.grads)["x"], 6 * np.array([1, 2, 3]))


def test_backward_into_chosen_inputs_and_allow_unused(stub):
    session_id = _create(stub, leaf("x", [1, 2], requires_grad=True), leaf("u", [5.0], requires_grad=True),
                         node("h", "mul", "x", 3), node("y", "sum", "h"))
    response = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("y")], inputs=["h"],
                                                retain_graph=True))
    np.testing.assert_array_equal(arrays(response.grads)["h"], [1, 1])
    assert _grads(stub, session_id, "x")["x"] is None
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT):
        stub.Grad(pb.GradRequest(session_id=session_id, outputs=[root("y")], inputs=["u"], retain_graph=True))
    unused = stub.Grad(pb.GradRequest(session_id=session_id, outputs=[root("y")], inputs=["x", "u"],
                                      allow_unused=True))
    assert arrays(unused.grads)["u"] is None
    np.testing.assert_array_equal(arrays(unused.grads)["x"], [3, 3])


def test_an_op_with_two_outputs_is_named_id_colon_k(stub):
    session = stub.CreateSession(pb.CreateSessionRequest(
        graph=graph(leaf("x", [[1, 5, 2], [7, 0, 3]], requires_grad=True), node("m", "max_dim", "x", dim=1),
                    node("total", "sum", "m:0")),
        return_values=["m:0", "m:1"]))
    values = arrays(session.values)
    np.testing.assert_array_equal(values["m:0"], [5, 7])
    np.testing.assert_array_equal(values["m:1"], [1, 0])
    assert infos(session.info)["m:1"].dtype == pb.DTYPE_INT64
    response = stub.Backward(pb.BackwardRequest(session_id=session.session_id, roots=[root("total")]))
    np.testing.assert_array_equal(arrays(response.grads)["x"], [[0, 1, 0], [1, 0, 0]])


def test_session_id_travels_as_metadata(stub):
    session_id = "ab" * 16
    call = stub.CreateSession.with_call(pb.CreateSessionRequest(graph=graph(leaf("x", [1.0], requires_grad=True))),
                                        metadata=(("gradwire-session-id", session_id),))
    response, details = call
    assert response.session_id == session_id
    assert ("gradwire-session-id", session_id) in tuple(details.initial_metadata())
    backward = stub.Backward(pb.BackwardRequest(roots=[root("x")]), metadata=(("gradwire-session-id", session_id),))
    np.testing.assert_array_equal(arrays(backward.grads)["x"], [1])
    with raises_status(grpc.StatusCode.INVALID_ARGUMENT, "differs"):
        stub.Read(pb.ReadRequest(session_id="cd" * 16), metadata=(("gradwire-session-id", session_id),))
    with raises_status(grpc.StatusCode.ALREADY_EXISTS, session_id):
        stub.CreateSession(pb.CreateSessionRequest(session_id=session_id))


def test_closed_expired_and_unknown_sessions_are_not_found_and_say_which(stub):
    session_id = _create(stub, leaf("x", [1.0]))
    stub.CloseSession(pb.CloseSessionRequest(session_id=session_id))
    with raises_status(grpc.StatusCode.NOT_FOUND, f"session {session_id} not found (closed)"):
        stub.Read(pb.ReadRequest(session_id=session_id, values=["x"]))
    short_lived = _create(stub, leaf("x", [1.0]), ttl_seconds=1)
    stub.Read(pb.ReadRequest(session_id=short_lived, values=["x"]))
    time.sleep(1.3)
    with raises_status(grpc.StatusCode.NOT_FOUND, f"session {short_lived} not found (expired after 1 s idle)"):
        stub.Read(pb.ReadRequest(session_id=short_lived, values=["x"]))
    with raises_status(grpc.StatusCode.NOT_FOUND, "not found (unknown, or expired after 600 s idle)"):
        stub.Read(pb.ReadRequest(session_id="e" * 32, values=["x"]))


def test_a_session_can_start_empty(stub):
    session_id = _create(stub)
    stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(leaf("x", [4.0], requires_grad=True),
                                                                     node("y", "sqrt", "x"))))
    response = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("y")]))
    assert arrays(response.grads)["x"] == pytest.approx([0.25])


def test_an_sgd_step_in_place_under_no_grad(stub):
    # w -= lr * w.grad, as an optimizer does it: an in-place write to a leaf that requires grad,
    # allowed inside no_grad; the next forward (an Extend) sees the new weights.
    session_id = _create(stub, leaf("w", [1.0, -2.0], requires_grad=True), node("sq", "mul", "w", "w"),
                         node("loss", "sum", "sq"))
    grad = arrays(stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("loss")])).grads)["w"]
    stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(
        leaf("step", 0.1 * grad), node("w_new", "sub", "w", "step", no_grad=True),
        node("update", "setitem", "w", "w_new", index=index(Ellipsis), no_grad=True),
        node("sq2", "mul", "w", "w"), node("loss2", "sum", "sq2"))))
    stub.UpdateGrads(pb.UpdateGradsRequest(session_id=session_id, clear=["w"]))
    response = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("loss2")]))
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(arrays(response.grads)["w"], w.grad.numpy())
    values = arrays(stub.Read(pb.ReadRequest(session_id=session_id, values=["w"])).values)
    np.testing.assert_allclose(values["w"], w.detach().numpy())


def test_extend_releases_names_the_client_dropped(start_server):
    server, stub, _ = start_server()
    big = np.ones(1000, np.float32)
    session_id = _create(stub, leaf("a", big, requires_grad=True), node("b", "mul", "a", 2.0),
                         node("c", "mul", "b", "b"), node("loss", "sum", "c"))
    before = server.sessions.retained.used
    stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(node("d", "mul", "loss", 1.0)),
                                 release=["b", "c", "d", "never-existed"]))
    # c is no longer held; b is, as c's MulBackward saved it for backward (and d never was)
    assert server.sessions.retained.used == before - big.nbytes - TENSOR_BYTES
    for released in ("b", "c", "d"):
        with raises_status(grpc.StatusCode.INVALID_ARGUMENT, f"unknown id '{released}'"):
            stub.Read(pb.ReadRequest(session_id=session_id, values=[released]))
    # the graph still holds what it saved: backward through the released nodes works
    response = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("loss")]))
    np.testing.assert_array_equal(arrays(response.grads)["a"], 8 * big)
    # and a released name is free to be defined again
    stub.Extend(pb.ExtendRequest(session_id=session_id, graph=graph(node("b", "neg", "a"))))
