"""Every rule and example of the PyTorch semantics gradwire promises, run in gradwire.engine and
(where installed) in torch.

Each program is written once as a function of the module it runs against (`t` is torch or the engine),
so both implementations execute the very same code and the results are compared value by value.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradwire.engine as ge

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")


def both(program):
    """Run program(t) for t in (engine, torch); return the two results as nested numpy/python values."""
    return to_plain(program(ge)), to_plain(program(torch))


def to_plain(value):
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy()).tolist()
    return value


def outcome(program, t):
    """The result, or the exception class and message of a failing program."""
    try:
        return ("ok", to_plain(program(t)))
    except Exception as error:  # noqa: BLE001 - we compare which class each raises
        return ("error", type(error).__mro__[1:], str(error))


def assert_same_error(program, expected=RuntimeError):
    with pytest.raises(expected) as ours:
        program(ge)
    with pytest.raises(expected):
        program(torch)
    assert isinstance(ours.value, ge.errors.GradwireError)
    return str(ours.value)


# ------------------------------------------------------------------ 1. the tutorial
def test_four_ways_to_make_a_leaf():
    def program(t):
        a = t.randn(2, 2, requires_grad=True)
        b = t.autograd.Variable(t.Tensor([2, 3]), requires_grad=True)
        c = t.tensor([2, 3], requires_grad=True, dtype=t.float64)
        d = t.from_numpy(np.array([1, 2, 3], dtype=np.float64))
        d.requires_grad = True
        e = t.from_numpy(np.array([1, 2, 3], dtype=np.float64)).requires_grad_(True)
        return [(x.requires_grad, x.is_leaf, x.grad_fn is None, str(x.dtype).split(".")[-1]) for x in (a, b, c, d, e)]

    ours, theirs = both(program)
    assert ours == theirs


def test_only_floating_tensors_require_grad_and_default_dtypes():
    def dtypes_of(t):
        return [str(x.dtype).split(".")[-1] for x in (t.Tensor([2, 3]), t.tensor([2, 3]), t.tensor([2., 3.]))]

    assert dtypes_of(ge) == dtypes_of(torch) == ["float32", "int64", "float32"]
    message = assert_same_error(lambda t: t.tensor([2, 3], requires_grad=True))
    assert "floating point" in message


def test_propagation_of_requires_grad():
    def program(t):
        x, y = t.tensor([1., 2.]), t.tensor([3., 4.])
        z = t.tensor([5., 6.], requires_grad=True)
        a = x + y
        b = a + z
        return [a.requires_grad, a.grad_fn is None, b.requires_grad, b.grad_fn.name(), b.is_leaf]

    ours, theirs = both(program)
    assert ours == theirs == [False, True, True, "AddBackward0", False]


def test_tutorial_retain_accumulate_then_freed():
    def program(t):
        a = t.tensor([2., 3.], requires_grad=True)
        b = a + 3
        c = b * b * 3
        out = c.mean()
        out.backward(retain_graph=True)
        first = a.grad.clone()
        out.backward()
        return first, a.grad

    ours, theirs = both(program)
    assert ours == theirs == [[15.0, 18.0], [30.0, 36.0]]

    def third(t):
        a = t.tensor([2., 3.], requires_grad=True)
        out = ((a + 3) * (a + 3) * 3).mean()
        out.backward(retain_graph=True)
        out.backward()
        out.backward()

    message = assert_same_error(third)
    assert "retain_graph=True" in message
    with pytest.raises(ge.errors.GraphFreedError):
        third(ge)


def test_scalar_output_means_gradient_one():
    def program(t):
        a = t.tensor([2., 3.], requires_grad=True)
        (a * a).sum().backward()
        g1 = a.grad.clone()
        a.grad = None
        (a * a).sum().backward(gradient=t.tensor(1.))
        return g1, a.grad

    ours, theirs = both(program)
    assert ours == theirs


def test_non_scalar_output_needs_a_seed_of_its_shape():
    def program(t):
        m = t.tensor([2., 3.], requires_grad=True)
        n = t.zeros(2)
        n[0] = m[0] ** 2
        n[1] = m[1] ** 3
        n.backward(gradient=t.tensor([1., 1.]), retain_graph=True)
        return m.grad, n.grad_fn.name(), n.is_leaf

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[0] == [4.0, 27.0]

    def no_seed(t):
        m = t.tensor([2., 3.], requires_grad=True)
        n = t.zeros(2)
        n[0] = m[0] ** 2
        n[1] = m[1] ** 3
        n.backward()

    assert "implicitly created only for scalar outputs" in assert_same_error(no_seed)

    def wrong_shape(t):
        m = t.tensor([2., 3.], requires_grad=True)
        (m * 2).backward(gradient=t.tensor([1., 1., 1.]))

    assert "Mismatch in shape" in assert_same_error(wrong_shape)

    def broadcastable_seed_is_still_refused(t):
        m = t.tensor([[2., 3.]], requires_grad=True)
        (m * 2).backward(gradient=t.tensor([1., 1.]))

    assert_same_error(broadcastable_seed_is_still_refused)


def test_backward_with_seed_differentiates_weighted_sum():
    rng = np.random.default_rng(0)
    x0, seed = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def program(t):
        x = t.tensor(x0, requires_grad=True)
        (x.tanh() * x).backward(gradient=t.tensor(seed))
        via_seed = x.grad.clone()
        x.grad = None
        ((x.tanh() * x) * t.tensor(seed)).sum().backward()
        return via_seed, x.grad

    ours, theirs = both(program)
    np.testing.assert_allclose(ours[0], ours[1], rtol=1e-12)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)


# ------------------------------------------------------------------ 2. rules
def test_one_element_outputs_take_the_implicit_seed():
    for shape in [(), (1,), (1, 1)]:
        def program(t, shape=shape):
            a = t.tensor(np.full(shape, 3.0), requires_grad=True)
            (a * a).backward()
            return a.grad

        ours, theirs = both(program)
        assert ours == theirs


def test_seed_dtype_is_cast_to_the_output_dtype():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        (a * 2).backward(gradient=t.tensor([1, 2]))
        return a.grad, str(a.grad.dtype).split(".")[-1]

    ours, theirs = both(program)
    assert ours == theirs


def test_backward_from_a_tensor_without_grad():
    message = assert_same_error(lambda t: (t.tensor([1., 2.]) * 2).sum().backward())
    assert "does not require grad" in message


def test_backward_inputs_fills_only_those():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        b = t.tensor([3., 4.], requires_grad=True)
        c = a * b
        d = c * 2
        d.sum().backward(inputs=[a, c])
        return a.grad, b.grad, c.grad

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[1] is None
    assert_same_error(lambda t: (t.tensor([1.], requires_grad=True) * 2).sum().backward(inputs=[]))


def test_retain_graph_none_means_create_graph():
    def program(t):
        x = t.tensor([1., 2.], requires_grad=True)
        y = (x ** 3).sum()
        y.backward(create_graph=True)
        first = x.grad.detach().clone()
        y.backward()  # works: create_graph retained the graph
        return first, x.grad.detach()

    ours, theirs = both(program)
    assert ours == theirs


@pytest.mark.parametrize("expression", ["a*a", "a*2", "a.exp()", "a**2", "a.sigmoid()", "a/3"])
def test_second_backward_fails_when_saved_values_are_freed(expression):
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        out = eval(expression, {"a": a}).sum()  # noqa: S307 - our own test expressions
        out.backward()
        out.backward()

    assert "Specify retain_graph=True" in assert_same_error(program)


@pytest.mark.parametrize("expression", ["(a+3).sum()", "(a-1).sum()", "(-a).sum()", "a.sum()"])
def test_second_backward_succeeds_when_nothing_was_saved(expression):
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        out = eval(expression, {"a": a})  # noqa: S307
        out.backward()
        out.backward()
        return a.grad

    ours, theirs = both(program)
    assert ours == theirs


def test_other_root_reaching_a_freed_node_fails():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        shared = a * a
        shared.sum().backward()
        (shared * 3).sum().backward()

    assert_same_error(program)


def test_grad_accumulates_resets_and_unused_leaves_stay_none():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        unused = t.tensor([5.], requires_grad=True)
        (a * a).sum().backward()
        (a * 3).sum().backward()
        accumulated = a.grad.clone()
        a.grad.zero_()
        zeroed = a.grad.clone()
        a.grad = None
        (a * 4).sum().backward()
        return accumulated, zeroed, a.grad, unused.grad

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[3] is None


def test_repeated_uses_and_several_roots_are_summed():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        b = a + a
        c = b + b  # micrograd's diamond bug
        c.sum().backward()
        once = a.grad.clone()
        a.grad = None
        t.autograd.backward([(a * a).sum(), (a * 3).sum()])
        return once, a.grad

    ours, theirs = both(program)
    assert ours == theirs == [[4.0, 4.0], [5.0, 7.0]]


def test_non_leaf_grad_is_none_unless_retained():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        b = a * 2
        c = a * 3
        c.retain_grad()
        (b * c).sum().backward()
        return b.grad, c.grad

    with pytest.warns(UserWarning):
        ours = to_plain(program(ge))
    with pytest.warns(UserWarning):
        theirs = to_plain(program(torch))
    assert ours == theirs
    assert ours[0] is None


def test_gradient_has_the_tensor_dtype():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        b = t.tensor([3., 4.], dtype=t.float64)
        (a * b).sum().backward()
        return a.grad, str(a.grad.dtype).split(".")[-1], str((a * b).dtype).split(".")[-1]

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[1] == "float32"


def test_requires_grad_cannot_change_on_non_leaves():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        (a * 2).requires_grad = False

    assert "detach()" in assert_same_error(program)


def test_comparisons_and_int_results_cut_the_graph():
    def program(t):
        a = t.tensor([1., 2., 3.], requires_grad=True)
        mask = a > 1.5
        index = a.max(0).indices
        as_int = a.long()
        return [(v.requires_grad, v.grad_fn is None, str(v.dtype).split(".")[-1]) for v in (mask, index, as_int)]

    ours, theirs = both(program)
    assert ours == theirs


# ------------------------------------------------------------------ in place and versions
def test_changing_a_saved_value_in_place_fails_at_backward():
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        b = a * 1
        c = b * b
        b[0] = 5  # no error now
        c.sum().backward()

    message = assert_same_error(program)
    assert "modified by an inplace operation" in message and "version 1" in message
    with pytest.raises(ge.errors.InplaceModifiedError):
        program(ge)


def test_inplace_on_a_leaf_that_requires_grad_fails_at_once():
    def setitem(t):
        x = t.tensor([1., 2.], requires_grad=True)
        x[0] = 5

    def view(t):
        x = t.tensor([[1., 2.]], requires_grad=True)
        x[0].zero_()

    assert "leaf Variable that requires grad" in assert_same_error(setitem)
    assert_same_error(view)

    def under_no_grad(t):
        x = t.tensor([1., 2.], requires_grad=True)
        with t.no_grad():
            x[0] = 5
        return x, x.requires_grad, x.is_leaf

    ours, theirs = both(under_no_grad)
    assert ours == theirs


def test_copyslices_zeroes_overwritten_values():
    def program(t):
        x = t.tensor([1., 2., 3., 4.], requires_grad=True)
        a = x * x
        a[0] = 5
        a.sum().backward()
        return x.grad, a.grad_fn.name()

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[0] == [0.0, 4.0, 6.0, 8.0]


def test_copyslices_chains_and_the_value_gets_its_slots_gradient():
    def program(t):
        x = t.tensor([1., 2., 3., 4.], requires_grad=True)
        v = t.tensor([10., 20.], requires_grad=True)
        a = x * 2
        a[1:3] = v * v
        a[[0, 3]] = v
        (a * t.tensor([1., 2., 3., 4.])).sum().backward()
        return x.grad, v.grad

    ours, theirs = both(program)
    assert ours == theirs


# ------------------------------------------------------------------ autograd.grad
def test_grad_returns_tuple_and_never_writes_grad():
    def program(t):
        x = t.tensor([2., 3.], requires_grad=True)
        y = x * x
        g = t.autograd.grad(y.sum(), [x, y])
        return list(g), x.grad

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[1] is None


def test_grad_unused_inputs():
    def unused(t):
        x = t.tensor([2.], requires_grad=True)
        z = t.tensor([2.], requires_grad=True)
        t.autograd.grad((x * 2).sum(), [x, z])

    assert "allow_unused=True" in assert_same_error(unused)

    def allowed(t):
        x = t.tensor([2.], requires_grad=True)
        z = t.tensor([2.], requires_grad=True)
        return list(t.autograd.grad((x * 2).sum(), [x, z], allow_unused=True))

    ours, theirs = both(allowed)
    assert ours == theirs
    assert ours[1] is None


def test_batched_seeds_give_jacobian_rows():
    def program(t):
        x = t.tensor([2., 3.], requires_grad=True)
        (jacobian,) = t.autograd.grad(x ** 2, x, t.eye(2), is_grads_batched=True)
        return jacobian

    ours, theirs = both(program)
    assert ours == theirs == [[4.0, 0.0], [0.0, 6.0]]


def test_create_graph_gives_second_derivatives():
    def program(t):
        x = t.tensor([2., 3.], requires_grad=True)
        (g,) = t.autograd.grad((x ** 3).sum(), x, create_graph=True)
        (h,) = t.autograd.grad(g.sum(), x)
        return g, g.grad_fn is not None, h

    ours, theirs = both(program)
    assert ours == theirs
    np.testing.assert_allclose(ours[2], [12.0, 18.0])


# ------------------------------------------------------------------ broadcasting and dtypes
def test_broadcast_gradients_sum_back_to_input_shape():
    def program(t):
        a = t.tensor([[1., 2., 3.]], requires_grad=True)
        b = t.tensor([[1.], [2.], [3.], [4.]], requires_grad=True)
        (a + b).backward(t.arange(12.).view(4, 3))
        return a.grad, b.grad

    ours, theirs = both(program)
    assert ours == theirs == [[[18.0, 22.0, 26.0]], [[3.0], [12.0], [21.0], [30.0]]]


@pytest.mark.parametrize("expression", [
    "t.tensor([1., 2.]) + t.tensor([1., 2.], dtype=t.float64)",
    "t.tensor([1., 2.]) + t.tensor([1, 2])",
    "t.tensor([1, 2]) + 1.5",
    "t.tensor([1., 2.]) * t.tensor(2., dtype=t.float64)",
    "t.tensor([1, 2]) / t.tensor([2, 2])",
    "t.tensor([True, False]) + t.tensor([1, 2])",
    "t.tensor([1, 2], dtype=t.int32) + t.tensor(5)",
    "t.tensor([1, 2], dtype=t.int32) + t.tensor(5.)",
    "t.tensor([1., 2.], dtype=t.float16) + 2.5",
    "t.tensor(1) + 2",
])
def test_type_promotion_matches_torch(expression):
    def dtype_of(t):
        return str(eval(expression, {"t": t}).dtype).split(".")[-1]  # noqa: S307

    assert dtype_of(ge) == dtype_of(torch)


def test_integer_mean_is_an_error():
    assert_same_error(lambda t: t.tensor([1, 2]).mean())


# ------------------------------------------------------------------ engine shape
def test_ten_thousand_deep_chain_is_iterative():
    x = ge.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-3)


def test_failed_backward_changes_nothing():
    a = ge.tensor([1., 2.], requires_grad=True)
    b = a * 1
    c = b * b
    d = (a * 3).sum() + c.sum()
    b[0] = 7  # c's saved b is now stale
    with pytest.raises(ge.errors.InplaceModifiedError):
        d.backward()
    assert a.grad is None
    e = (a * 3).sum()
    e.backward()  # the graph of e was not freed by the failed call
    assert a.grad.tolist() == [3.0, 3.0]


def test_grad_wrt_a_non_leaf_does_not_need_values_below_it():
    def program(t):
        x = t.tensor([1., 2.], requires_grad=True)
        y = x.exp()
        y.sum().backward()  # frees exp's saved result
        return list(t.autograd.grad((y * 2).sum(), y))

    ours, theirs = both(program)
    assert ours == theirs == [[2.0, 2.0]]


def test_a_view_made_before_an_inplace_write_sees_the_write():
    def program(t):
        a = t.tensor(np.arange(12.).reshape(3, 4), requires_grad=True)
        b = a * 1
        rows = b[1:]
        b[1, 1] = 0.0  # rows shares b's memory: its gradient must skip the overwritten slot
        (rows * 1).sum().backward()
        return a.grad

    ours, theirs = both(program)
    assert ours == theirs
    assert ours[1][1] == 0.0


def test_a_view_of_a_plain_tensor_requires_grad_once_its_base_is_written_with_one():
    def program(t):
        m = t.tensor([2., 3.], requires_grad=True)
        n = t.zeros(2)
        v = n[0:1]
        n[0] = m[0] ** 2
        w = v * 3
        w.sum().backward()
        return v.requires_grad, w.requires_grad, m.grad

    ours, theirs = both(program)
    assert ours == theirs == [True, True, [12.0, 0.0]]


def test_assigning_a_number_to_grad_is_a_type_error_as_in_torch():
    """polynomial_autograd.py's `a.grad = 0.` (torch 2.13 refuses it with a TypeError)."""
    messages = []
    for module in (torch, ge):
        leaf = module.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(TypeError) as caught:
            leaf.grad = 0.0
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
