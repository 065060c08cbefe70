"""client.compile(fn): traced once, prepared on the server, then one Compute per call carrying only the
arguments' values; results and grads equal torch's."""

from __future__ import annotations

import numpy as np
import pytest

from gradwire.v1 import gradwire_pb2 as pb

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")


def loss_of(t, x, w):
    return ((x @ w).tanh() ** 2).mean()


def test_calls_match_torch_and_cost_one_compute_each(client):
    step = client.compile(lambda x, w: loss_of(client, x, w))
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 2)).astype(np.float32)
    w = client.tensor(w0, requires_grad=True)
    for call in range(3):
        x = rng.standard_normal((4, 3)).astype(np.float32)
        before = client.rpc_counts.get("Compute", 0)
        loss, (w_grad,) = step.value_and_grad(x, w)
        assert client.rpc_counts["Compute"] == before + 1
        w_torch = torch.tensor(w0, requires_grad=True)
        expected = loss_of(torch, torch.tensor(x), w_torch)
        expected.backward()
        np.testing.assert_allclose(loss.numpy(), expected.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(w_grad.numpy(), w_torch.grad.numpy(), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(step(x, w).numpy(), expected.detach().numpy(), rtol=1e-6)
    assert client.rpc_counts["PrepareGraph"] == 1  # one signature, prepared once
    assert "CreateSession" not in client.rpc_counts and "Extend" not in client.rpc_counts


def test_constants_tuples_and_new_signatures(client):
    scale = client.tensor([1.0, 2.0, 3.0])  # made outside: an argument
    step = client.compile(lambda x, s: (x * s + client.tensor([0.5, 0.5, 0.5]), (x * s).sum()))
    total_calls = 0
    for shape in ((3,), (2, 3)):
        x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        shifted, total = step(x, scale)
        total_calls += 1
        np.testing.assert_array_equal(shifted.numpy(), x * [1, 2, 3] + 0.5)
        assert total.item() == pytest.approx(float((x * [1, 2, 3]).sum()))
    assert client.rpc_counts["PrepareGraph"] == 2  # a new shape is a new signature


def test_a_graph_the_server_lost_is_prepared_again(client):
    step = client.compile(lambda x: (x * x).sum())
    assert step(np.array([1.0, 2.0], np.float32)).item() == 5.0
    (prepared,) = step._prepared.values()
    client._runtime.transport.call("ReleaseGraph", pb.ReleaseGraphRequest(graph_id=prepared.graph_id))
    assert step(np.array([3.0, 4.0], np.float32)).item() == 25.0
    assert client.rpc_counts["PrepareGraph"] == 2
    step.release()


def test_errors_are_torchs_classes(client):
    step = client.compile(lambda x: x.sum().item() * x)
    with pytest.raises(RuntimeError, match="reads a value"):
        step(np.ones(2, np.float32))
    no_grad = client.compile(lambda x: x.sum())
    with pytest.raises(RuntimeError, match="requires grad"):
        no_grad.value_and_grad(np.ones(2, np.float32))
    not_scalar = client.compile(lambda x: x * 2)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        not_scalar.value_and_grad(client.tensor([1.0, 2.0], requires_grad=True))
    mismatched = client.compile(lambda x, y: x + y)
    with pytest.raises(RuntimeError, match="size"):
        mismatched(np.ones(2, np.float32), np.ones(3, np.float32))
