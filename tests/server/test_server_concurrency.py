"""Many threads on separate sessions at once get correct and isolated results."""

from __future__ import annotations

from concurrent import futures

import numpy as np
import torch

from gradwire.v1 import gradwire_pb2 as pb
from server_helpers import arrays, graph, leaf, node, root

THREADS = 16
ROUNDS = 5


def _torch_grads(x: np.ndarray, w: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    loss = torch.tanh(xt @ wt).pow(2).sum()
    for _ in range(rounds):
        loss.backward(retain_graph=True)
    return xt.grad.numpy(), wt.grad.numpy()


def _worker(stub, worker: int) -> tuple[int, dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(worker)
    x = rng.standard_normal((4, 3))
    w = rng.standard_normal((3, 2)) * (worker + 1)
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=graph(
        leaf("x", x, np.float64, requires_grad=True), leaf("w", w, np.float64, requires_grad=True),
        node("h", "matmul", "x", "w"), node("t", "tanh", "h"), node("sq", "pow", "t", 2),
        node("loss", "sum", "sq")))).session_id
    for _ in range(ROUNDS):
        response = stub.Backward(pb.BackwardRequest(session_id=session_id, roots=[root("loss")], retain_graph=True))
    stub.CloseSession(pb.CloseSessionRequest(session_id=session_id))
    return worker, arrays(response.grads), x, w


def test_sixteen_threads_on_separate_sessions(stub):
    with futures.ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda worker: _worker(stub, worker), range(THREADS)))
    assert len(results) == THREADS
    for worker, grads, x, w in results:
        expected_x, expected_w = _torch_grads(x, w, ROUNDS)
        np.testing.assert_allclose(grads["x"], expected_x, rtol=1e-9, atol=1e-12, err_msg=f"worker {worker}")
        np.testing.assert_allclose(grads["w"], expected_w, rtol=1e-9, atol=1e-12, err_msg=f"worker {worker}")


def test_concurrent_calls_on_one_session_are_serialised(stub):
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=graph(
        leaf("a", [1.0, 2.0], requires_grad=True), node("s", "sum", "a")))).session_id
    backward = pb.BackwardRequest(session_id=session_id, roots=[root("s")], retain_graph=True)
    with futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: stub.Backward(backward), range(40)))
    read = stub.Read(pb.ReadRequest(session_id=session_id, grads=["a"]))
    np.testing.assert_array_equal(arrays(read.grads)["a"], [40, 40])  # no lost accumulation
