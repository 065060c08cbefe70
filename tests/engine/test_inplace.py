"""In-place arithmetic in the engine, against torch: the manual update loop, operators, errors, versions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradwire.engine as gw


def version(tensor):
    """torch's `_version`; the engine keeps the shared counter as a list and reads it as `_version_number`."""
    return tensor._version_number if isinstance(tensor, gw.Tensor) else tensor._version


def _manual_loop(m, steps=5):
    w = m.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    x = m.tensor([[1.0, 2.0], [3.0, -1.0]])
    leaf = w
    losses = []
    for _ in range(steps):
        loss = ((x @ w) ** 2).sum()
        loss.backward()
        losses.append(loss.item())
        with m.no_grad():
            w -= 0.01 * w.grad
            w.grad.zero_()
    return losses, w, leaf


def test_manual_update_keeps_the_same_leaf_and_matches_torch():
    ours, w, leaf = _manual_loop(gw)
    theirs, tw, _ = _manual_loop(torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert w is leaf and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("statement", ["t += b", "t -= b", "t *= b", "t /= b", "t **= b", "t += 2", "t *= 0.5"])
def test_augmented_operators_update_in_place_with_torch_grad_fn(statement):
    results = {}
    for m in (gw, torch):
        a = m.tensor([1.5, 2.0, 3.0], requires_grad=True)
        b = m.tensor([0.5, 2.0, 1.5], requires_grad=True)
        t = a * 1
        before = t
        namespace = {"t": t, "b": b}
        exec(statement, namespace)  # noqa: S102 - the statement is one of the literals above
        t = namespace["t"]
        assert t is before
        (t * t).sum().backward()
        results[m] = (t.grad_fn.name(), t.detach().numpy().copy(), a.grad.numpy().copy(),
                      None if b.grad is None else b.grad.numpy().copy(), version(t))
    ours, theirs = results[gw], results[torch]
    assert ours[0] == theirs[0]
    for x, y in zip(ours[1:4], theirs[1:4]):
        if y is None:
            assert x is None
        else:
            np.testing.assert_allclose(x, y, rtol=1e-6)
    assert ours[4] == theirs[4] == 1


def _error(m, program):
    try:
        program(m)
    except Exception as error:  # noqa: BLE001 - compared below
        return error
    return None


@pytest.mark.parametrize("name,program", [
    ("leaf", lambda m: m.tensor([1.0], requires_grad=True).add_(1)),
    ("leaf_operator", lambda m: m.tensor([1.0], requires_grad=True).__iadd__(1)),
    ("view_of_leaf", lambda m: m.tensor([[1.0, 2.0]], requires_grad=True)[0].mul_(2)),
    ("int_target_float_result", lambda m: m.tensor([1, 2]).div_(2)),
    ("broadcast_past_target", lambda m: m.zeros(3).add_(m.ones(2, 3))),
    ("saved_then_changed", lambda m: _saved_then_changed(m)),
    ("saved_view_then_changed", lambda m: _saved_view_then_changed(m)),
    ("base_of_saved_view_changed", lambda m: _base_of_saved_view_changed(m)),
    ("changed_through_detach", lambda m: _changed_through_detach(m)),
    ("expanded_view", lambda m: m.zeros(1, 3).expand(2, 3).add_(1)),
    ("view_made_under_no_grad", lambda m: _no_grad_view(m, m.ones(3, requires_grad=True) * 1).mul_(2)),
    ("view_of_a_leaf_made_under_no_grad", lambda m: _no_grad_view(m, m.ones(3, requires_grad=True)).mul_(2)),
    ("no_grad_view_given_a_grad", lambda m: _no_grad_view(m, m.ones(3)).mul_(m.ones(2, requires_grad=True))),
    ("view_of_a_no_grad_view", lambda m: _no_grad_view(m, m.ones(3, requires_grad=True) * 1)[:1].zero_()),
    ("split_piece", lambda m: (m.ones(4, requires_grad=True) * 1).split(2)[0].mul_(2)),
    ("split_sizes_piece", lambda m: (m.ones(4, requires_grad=True) * 1).split([1, 3])[1].add_(1)),
    ("chunk_piece", lambda m: (m.ones(4, requires_grad=True) * 1).chunk(2)[1].mul_(2)),
    ("unbind_piece_setitem", lambda m: _setitem((m.ones(2, 3, requires_grad=True) * 1).unbind(0)[0], 0, 3.0)),
    ("view_of_a_split_piece", lambda m: (m.ones(4, requires_grad=True) * 1).split(2)[0][:1].mul_(2)),
    ("split_piece_given_a_grad", lambda m: m.ones(4).split(2)[0].mul_(m.ones(2, requires_grad=True))),
])
def test_errors_match_torch(name, program):
    ours, theirs = _error(gw, program), _error(torch, program)
    assert theirs is not None and ours is not None, (ours, theirs)
    assert isinstance(ours, type(theirs)) or type(theirs) in type(ours).__mro__, (ours, theirs)
    key = {"leaf": "a leaf Variable that requires grad is being used in an in-place operation",
           "leaf_operator": "a leaf Variable that requires grad is being used in an in-place operation",
           "int_target_float_result": "can't be cast to the desired output type Long",
           "broadcast_past_target": "doesn't match the broadcast shape",
           "saved_then_changed": "modified by an inplace operation",
           "saved_view_then_changed": "modified by an inplace operation",
           "base_of_saved_view_changed": "modified by an inplace operation",
           "changed_through_detach": "modified by an inplace operation",
           "expanded_view": "more than one element of the written-to tensor refers to a single memory location",
           "view_made_under_no_grad": "A view was created in no_grad mode and is being modified inplace with grad "
                                      "mode enabled",
           "split_piece": "is the output of a function that returns multiple views",
           }.get(name)
    if key:
        assert key in str(ours) and key in str(theirs)


def _saved_then_changed(m):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = (b * b).sum()
    b.add_(1)
    c.backward()


def _no_grad_view(m, tensor):
    with m.no_grad():
        return tensor[:2]


def _setitem(tensor, index, value):
    tensor[index] = value


@pytest.mark.parametrize("name,program", [
    ("plain_view_made_under_no_grad", lambda m: _no_grad_view(m, m.ones(3)).mul_(2)),
    ("no_grad_view_written_under_no_grad", lambda m: _under_no_grad(m, _no_grad_view(m, m.ones(3) * m.ones(
        3, requires_grad=True)), lambda v: v.mul_(2))),
    ("split_piece_of_a_plain_tensor", lambda m: m.arange(4.0).split(2)[1].mul_(2)),
    ("split_piece_written_under_no_grad", lambda m: _under_no_grad(m, (m.arange(4.0, requires_grad=True) * 1).split(
        2)[0], lambda v: v.add_(1))),
    ("tensor_split_piece", lambda m: (m.arange(4.0, requires_grad=True) * 1).tensor_split(2)[0].mul_(2)),
    ("unbind_piece_of_a_1d_tensor", lambda m: _under_no_grad(m, m.arange(3.0).unbind()[1], lambda v: v.add_(5))),
])
def test_the_view_writes_torch_allows_give_its_values_and_grad_fn(name, program):
    """The other side of the view-origin errors above: these writes are fine in torch, and in the engine."""
    outcomes = []
    for m in (gw, torch):
        view = program(m)
        base = view._base
        outcomes.append((base.tolist(), view.tolist(), None if base.grad_fn is None else base.grad_fn.name()))
    assert outcomes[0] == outcomes[1]


def _under_no_grad(m, view, write):
    with m.no_grad():
        write(view)
    return view


def _saved_view_then_changed(m):
    """The view is saved by v * v, then written: its own counter (shared with its base) moved."""
    a = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = (a * 1)[:2]
    c = (v * v).sum()
    v.add_(1)
    c.backward()


def _base_of_saved_view_changed(m):
    """A write to the base moves the version of every view of it, saved ones included."""
    a = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    c = (b[1:] * b[1:]).sum()
    b.zero_()
    c.backward()


def _changed_through_detach(m):
    """detach() shares the memory and so the version counter."""
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = (b * b).sum()
    b.detach().mul_(2)
    c.backward()


def test_views_detach_and_grad_reads_share_the_version_counter_as_in_torch():
    versions = {}
    for m in (gw, torch):
        a = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        (a * a).sum().backward()
        b = a.detach()
        row = b[0]
        row.mul_(2)
        b[1] = 0.0
        grad, grad_before = a.grad, version(a.grad)  # torch's start depends on its buffers: compare steps
        (a * a).sum().backward()  # accumulates into the same .grad in place
        versions[m] = (version(a), version(b), version(row), version(grad) - grad_before)
    assert versions[gw] == versions[torch] == (2, 2, 2, 1)


def test_under_no_grad_a_leaf_is_updated_and_stays_a_leaf():
    for m in (gw, torch):
        w = m.ones(2, requires_grad=True)
        with m.no_grad():
            w.mul_(3).add_(1).clamp_(0, 3.5)
        assert w.is_leaf and w.requires_grad and w.tolist() == [3.5, 3.5] and version(w) == 3


def test_write_into_view_of_graph_tensor_is_copy_slices():
    for m in (gw, torch):
        a = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 2
        b[1:].mul_(a[1:])
        assert "CopySlices" in b.grad_fn.name()
        b.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), [2.0, 8.0, 12.0])


def test_fill_zero_copy_normal_uniform():
    gw.manual_seed(0)
    t = gw.zeros(1000)
    t.normal_(2.0, 0.5)
    assert abs(float(t.mean()) - 2.0) < 0.1
    t.uniform_(-1.0, 1.0)
    assert -1.0 <= float(t.min()) and float(t.max()) < 1.0
    t.fill_(3).zero_()
    assert float(t.sum()) == 0.0
    t.copy_(gw.ones(1))
    assert float(t.sum()) == 1000.0 and version(t) == 5
