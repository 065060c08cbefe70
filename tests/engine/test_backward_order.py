"""backward(order=...): a caller that runs the same graph again passes the node order `_collect` gives,
and the pass must be the very same pass (bit-identical gradients, same freeing) as without it."""

from __future__ import annotations

import numpy as np
import pytest

import gradwire.engine as ge
import importlib
from gradwire.engine.views import edge_of

autograd = importlib.import_module("gradwire.engine.autograd")  # the module (ge.autograd is torch's namespace)

torch = pytest.importorskip("torch", reason="torch is the oracle for the gradients' values")


def program(t, values):
    """A graph with shared leaves, a diamond, broadcasting, a retained non-leaf and several roots."""
    a = t.tensor(values[0], requires_grad=True)
    b = t.tensor(values[1], requires_grad=True)
    h = (a * b + 1.5).tanh()
    h.retain_grad()
    u = (h * a).sum() + (h.exp() / (b.sum() + 3.0)).mean()
    v = (a.unsqueeze(1) @ b.unsqueeze(0)).sigmoid().sum()
    return [a, b], h, [u, v]


def _grads(leaves, h):
    return [leaf.grad.detach().numpy() for leaf in leaves] + [h.grad.detach().numpy()]


@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_with_the_collected_order_is_bit_identical(create_graph):
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(4).astype(np.float32) for _ in range(2)]
    leaves, h, roots = program(ge, values)
    ge.autograd.backward(roots, retain_graph=True, create_graph=create_graph)
    plain = _grads(leaves, h)

    leaves, h, roots = program(ge, values)
    order = autograd._collect([edge_of(r) for r in roots])
    assert order and len(set(order)) == len(order)
    autograd.backward(roots, retain_graph=True, create_graph=create_graph, order=order)
    ordered = _grads(leaves, h)

    for got, expected in zip(ordered, plain):
        assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()
    t_leaves, t_h, t_roots = program(torch, values)
    torch.autograd.backward(t_roots)
    for got, expected in zip(ordered, _grads(t_leaves, t_h)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_backward_with_an_order_frees_the_graph_like_without():
    values = [np.array([0.5, -1.0], np.float32), np.array([2.0, 0.25], np.float32)]
    leaves, h, roots = program(ge, values)
    order = autograd._collect([edge_of(r) for r in roots])
    autograd.backward(roots, order=order)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        autograd.backward(roots, order=order)


def test_the_order_is_what_the_pass_runs():
    """The pass walks the given order: nodes left out of it are not run (so nothing reaches the leaf
    behind them), which shows the order is used instead of being collected again."""
    a = ge.tensor([1.0, 2.0], requires_grad=True)
    y = (a * 3.0).sum()
    full = autograd._collect([edge_of(y)])
    arrived, _, executed = autograd._run([y], [np.ones((), np.float32)], None, False, full)
    assert executed == [node for node in full if type(node) is not autograd.AccumulateGrad]
    np.testing.assert_array_equal(arrived[edge_of(a)], np.full(2, 3.0, np.float32))
    arrived, _, executed = autograd._run([y], [np.ones((), np.float32)], None, False, full[:1])
    assert executed == full[:1] and not arrived


def test_a_lone_roots_schedule_is_kept_and_replayed_by_the_next_backward():
    """A retained graph's second backward from the same root replays the order its first one collected
    (kept on the root node, without the root itself), with the same gradients as torch's two passes."""
    values = [np.array([0.5, -1.0, 2.0], np.float32), np.array([2.0, 0.25, -0.5], np.float32)]
    leaves, h, roots = program(ge, values)
    loss = roots[0] + roots[1]
    root = edge_of(loss)
    assert root.schedule is None
    loss.backward(retain_graph=True)
    assert list(root.schedule) == autograd._collect([root])[1:] and root not in root.schedule
    loss.backward()
    t_leaves, t_h, t_roots = program(torch, values)
    t_loss = t_roots[0] + t_roots[1]
    t_loss.backward(retain_graph=True)
    t_loss.backward()
    for got, expected in zip(_grads(leaves, h), _grads(t_leaves, t_h)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_the_kept_schedule_is_what_the_next_backward_runs():
    a = ge.tensor([1.0, 2.0], requires_grad=True)
    y = (a * 3.0).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(a.grad.numpy(), np.full(2, 3.0, np.float32))
    edge_of(y).schedule = ()  # a schedule that reaches nothing: the next pass runs the root alone
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(a.grad.numpy(), np.full(2, 3.0, np.float32))
