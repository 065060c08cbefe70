"""Every program of the semantics gradwire promises (PyTorch's autograd rules) run twice, through a
Client against a real server and in torch.

Each program is written once as a function of `t` (a Client or the torch module) and returns plain
values; the two runs must give the same values, dtypes and grad_fn names, or fail with the same
builtin exception class.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from client_expressions import GRAD_FN_EXPRESSIONS

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")

ERROR_KINDS = (IndexError, TypeError, ValueError, RuntimeError)


def plain(value):
    """Tensors to nested lists, dtypes to their short names, recursively."""
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy()).tolist()
    if hasattr(value, "is_floating_point") or type(value).__name__ in ("dtype", "DType"):
        return str(value).split(".")[-1]
    return value


def outcome(program, t):
    """("ok", plain result) or ("error", the builtin class torch users catch, message)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ("ok", plain(program(t)))
    except ERROR_KINDS as error:
        kind = next(k for k in ERROR_KINDS if isinstance(error, k))
        return ("error", kind, str(error))


def assert_same(program, client):
    ours, theirs = outcome(program, client), outcome(program, torch)
    assert ours[0] == theirs[0], f"client: {ours}\ntorch: {theirs}"
    if ours[0] == "error":
        assert ours[1] is theirs[1], f"client raised {ours[1].__name__}: {ours[2]}\ntorch: {theirs[1].__name__}: {theirs[2]}"
        assert ours[2], "the server's message must come through"
    else:
        assert_close(ours[1], theirs[1])
    return ours


def assert_close(ours, theirs, path="result"):
    """Equal structure, equal strings/bools/None, numbers equal up to float32 rounding."""
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), f"{path}: {ours!r} != {theirs!r}"
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert_close(a, b, f"{path}[{k}]")
    elif isinstance(theirs, float) and not isinstance(ours, (bool, str)) and ours is not None:
        assert type(ours) is type(theirs), f"{path}: {ours!r} != {theirs!r}"
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7, err_msg=path)
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def dtype_name(x):
    return str(x.dtype).split(".")[-1]


# ------------------------------------------------------------------ 1. the tutorial
def four_ways_to_make_a_leaf(t):
    a = t.randn(2, 2, requires_grad=True)
    b = t.autograd.Variable(t.Tensor([2, 3]), requires_grad=True)
    c = t.tensor([2, 3], requires_grad=True, dtype=t.float64)
    d = t.from_numpy(np.array([1, 2, 3], dtype=np.float64))
    d.requires_grad = True
    e = t.from_numpy(np.array([1, 2, 3], dtype=np.float64)).requires_grad_(True)
    return [(x.requires_grad, x.is_leaf, x.grad_fn is None, dtype_name(x), list(x.shape)) for x in (a, b, c, d, e)]


def default_dtypes(t):
    return [dtype_name(x) for x in (t.Tensor([2, 3]), t.tensor([2, 3]), t.tensor([2., 3.]), t.tensor(True))]


def int_tensor_cannot_require_grad(t):
    t.tensor([2, 3], requires_grad=True)


def int_leaf_requires_grad_later(t):
    x = t.tensor([2, 3])
    x.requires_grad = True


def tensor_attributes(t):
    x = t.tensor([2., 3.], requires_grad=True)
    y = x * 2
    return [x.data, x.requires_grad, x.grad, x.grad_fn is None, x.is_leaf, y.data, y.is_leaf, y.grad_fn.name()]


def propagation(t):
    x, y = t.tensor([1., 2.]), t.tensor([3., 4.])
    z = t.tensor([5., 6.], requires_grad=True)
    a = x + y
    b = a + z
    (b * b).sum().backward()
    return [a.requires_grad, a.grad_fn is None, b.requires_grad, b.grad_fn.name(), b.is_leaf, z.grad, x.grad]


def tutorial_retain_then_accumulate(t):
    a = t.tensor([2., 3.], requires_grad=True)
    b = a + 3
    c = b * b * 3
    out = c.mean()
    out.backward(retain_graph=True)
    first = a.grad.clone()
    out.backward()
    return first, a.grad, out.grad_fn.name(), c.grad_fn.name()


def tutorial_third_backward(t):
    a = t.tensor([2., 3.], requires_grad=True)
    out = ((a + 3) * (a + 3) * 3).mean()
    out.backward(retain_graph=True)
    out.backward()
    out.backward()


def scalar_output_seed_is_one(t):
    a = t.tensor([2., 3.], requires_grad=True)
    (a * a).sum().backward()
    implicit = a.grad.clone()
    a.grad = None
    (a * a).sum().backward(gradient=t.tensor(1.))
    return implicit, a.grad


def non_scalar_with_seed(t):
    m = t.tensor([2., 3.], requires_grad=True)
    n = t.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    n.backward(gradient=t.tensor([1., 1.]), retain_graph=True)
    return m.grad, n.grad_fn.name(), n.is_leaf, n.requires_grad


def non_scalar_without_seed(t):
    m = t.tensor([2., 3.], requires_grad=True)
    n = t.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    n.backward()


def seed_of_wrong_shape(t):
    m = t.tensor([2., 3.], requires_grad=True)
    (m * 2).backward(gradient=t.tensor([1., 1., 1.]))


def broadcastable_seed_is_refused(t):
    m = t.tensor([[2., 3.]], requires_grad=True)
    (m * 2).backward(gradient=t.tensor([1., 1.]))


def seed_means_weighted_sum(t):
    rng = np.random.default_rng(0)
    x0, seed = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x = t.tensor(x0, requires_grad=True)
    (x.tanh() * x).backward(gradient=t.tensor(seed))
    via_seed = x.grad.clone()
    x.grad = None
    ((x.tanh() * x) * t.tensor(seed)).sum().backward()
    return np.round(via_seed.numpy(), 10), np.round(x.grad.numpy(), 10)


# ------------------------------------------------------------------ 2. rules
def one_element_outputs(t):
    grads = []
    for shape in [(), (1,), (1, 1)]:
        a = t.tensor(np.full(shape, 3.0), requires_grad=True)
        (a * a).backward()
        grads.append(a.grad)
    return grads


def seed_dtype_is_cast(t):
    a = t.tensor([1., 2.], requires_grad=True)
    (a * 2).backward(gradient=t.tensor([1, 2]))
    return a.grad, dtype_name(a.grad)


def backward_without_grad(t):
    (t.tensor([1., 2.]) * 2).sum().backward()


def backward_inputs_fill_only_those(t):
    a = t.tensor([1., 2.], requires_grad=True)
    b = t.tensor([3., 4.], requires_grad=True)
    c = a * b
    d = c * 2
    d.sum().backward(inputs=[a, c])
    return a.grad, b.grad, c.grad


def backward_empty_inputs(t):
    (t.tensor([1.], requires_grad=True) * 2).sum().backward(inputs=[])


def retain_graph_follows_create_graph(t):
    x = t.tensor([1., 2.], requires_grad=True)
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    first = x.grad.detach().clone()
    y.backward()
    return first, x.grad.detach()


def second_backward(expression):
    def program(t):
        a = t.tensor([1., 2.], requires_grad=True)
        out = eval(expression, {"a": a})  # noqa: S307 - the test's own expressions
        out.backward()
        out.backward()
        return a.grad

    program.__name__ = f"second_backward[{expression}]"
    return program


def other_root_reaches_freed_node(t):
    a = t.tensor([1., 2.], requires_grad=True)
    shared = a * a
    shared.sum().backward()
    (shared * 3).sum().backward()


def accumulate_reset_unused(t):
    a = t.tensor([1., 2.], requires_grad=True)
    unused = t.tensor([5.], requires_grad=True)
    (a * a).sum().backward()
    (a * 3).sum().backward()
    accumulated = a.grad.clone()
    a.grad.zero_()
    zeroed = a.grad.clone()
    a.grad = None
    cleared = a.grad
    (a * 4).sum().backward()
    return accumulated, zeroed, cleared, a.grad, unused.grad


def grad_object_accumulates_in_place(t):
    a = t.tensor([1., 2.], requires_grad=True)
    (a * a).sum().backward(retain_graph=True)
    first = a.grad
    (a * 3).sum().backward()
    return first is a.grad, first


def repeated_uses_and_several_roots(t):
    a = t.tensor([1., 2.], requires_grad=True)
    b = a + a
    c = b + b
    c.sum().backward()
    once = a.grad.clone()
    a.grad = None
    t.autograd.backward([(a * a).sum(), (a * 3).sum()])
    return once, a.grad


def non_leaf_grad_is_none(t):
    a = t.tensor([1., 2.], requires_grad=True)
    b = a * 2
    (b * b).sum().backward()
    return b.grad, a.grad


def gradient_has_tensor_dtype(t):
    a = t.tensor([1., 2.], requires_grad=True)
    b = t.tensor([3., 4.], dtype=t.float64)
    (a * b).sum().backward()
    return a.grad, dtype_name(a.grad), dtype_name(a * b)


def requires_grad_false_on_non_leaf(t):
    a = t.tensor([1., 2.], requires_grad=True)
    (a * 2).requires_grad = False


def requires_grad_true_on_non_leaf(t):
    a = t.tensor([1., 2.], requires_grad=True)
    (a * 2).requires_grad = True


def int_results_cut_the_graph(t):
    a = t.tensor([1., 2., 3.], requires_grad=True)
    mask = a > 1.5
    index = a.max(0).indices
    as_int = a.long()
    return [(v.requires_grad, v.grad_fn is None, dtype_name(v), v) for v in (mask, index, as_int)]


# ------------------------------------------------------------------ in place and versions
def saved_value_changed_in_place(t):
    a = t.tensor([1., 2.], requires_grad=True)
    b = a * 1
    c = b * b
    b[0] = 5
    c.sum().backward()


def setitem_on_leaf_requiring_grad(t):
    x = t.tensor([1., 2.], requires_grad=True)
    x[0] = 5


def inplace_on_view_of_leaf(t):
    x = t.tensor([[1., 2.]], requires_grad=True)
    x[0].zero_()


def setitem_under_no_grad(t):
    x = t.tensor([1., 2.], requires_grad=True)
    with t.no_grad():
        x[0] = 5
    (x * x).sum().backward()
    return x, x.requires_grad, x.is_leaf, x.grad


def no_grad_results(t):
    x = t.tensor([1., 2.], requires_grad=True)
    with t.no_grad():
        y = x * 2
    return y, y.requires_grad, y.grad_fn is None, (x * 2).requires_grad


def copyslices_zeroes_overwritten(t):
    x = t.tensor([1., 2., 3., 4.], requires_grad=True)
    a = x * x
    a[0] = 5
    a.sum().backward()
    return x.grad, a.grad_fn.name(), a


def copyslices_chain(t):
    x = t.tensor([1., 2., 3., 4.], requires_grad=True)
    v = t.tensor([10., 20.], requires_grad=True)
    a = x * 2
    a[1:3] = v * v
    a[[0, 3]] = v
    (a * t.tensor([1., 2., 3., 4.])).sum().backward()
    return x.grad, v.grad, a


def inplace_arithmetic_on_a_non_leaf(t):
    a = t.tensor([1., 2.], requires_grad=True)
    b = a * 2
    b += 1
    b *= b
    b -= a
    b /= 2
    (b * b).sum().backward()
    return b, a.grad, b.requires_grad, b.is_leaf


def inplace_methods_on_a_non_leaf(t):
    a = t.tensor([0.5, 2.0, -1.0], requires_grad=True)
    b = a * 1
    b.mul_(a).add_(1).exp_().clamp_(max=3.0)
    c = t.zeros(3)
    c.copy_(b)
    c[1:].fill_(0.25)
    (c * a).sum().backward()
    return c, a.grad, c.grad_fn.name(), b.grad_fn.name()


def inplace_method_on_a_leaf_requiring_grad(t):
    t.tensor([1., 2.], requires_grad=True).mul_(2)


def inplace_result_of_another_shape(t):
    t.zeros(3).add_(t.ones(2, 3))


def inplace_float_into_int(t):
    t.tensor([1, 2]).div_(2)


def inplace_arithmetic_on_a_leaf_requiring_grad(t):
    a = t.tensor([1., 2.], requires_grad=True)
    a += 1


def sgd_steps_under_no_grad(t):
    x = t.tensor([[1., 2.], [3., 4.], [5., 6.]])
    y = t.tensor([1., 2., 3.])
    w = t.tensor([0.1, -0.2], requires_grad=True)
    losses = []
    for _ in range(3):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        losses.append(loss.item())
        with t.no_grad():
            w -= 0.01 * w.grad
        w.grad.zero_()
    return losses, w, w.is_leaf, w.requires_grad, w.grad


def sgd_steps_through_data(t):
    x = t.tensor([[1., 2.], [3., 4.]])
    w = t.tensor([0.5, 0.5], requires_grad=True)
    for _ in range(2):
        w.grad = None
        (x @ w).pow(2).sum().backward()
        w.data -= 0.01 * w.grad
    return w, w.grad, w.is_leaf


def grad_scaled_in_place(t):
    a = t.tensor([1., 2.], requires_grad=True)
    (a * a).sum().backward()
    a.grad *= 0.5
    a.grad[0] = 10.
    return a.grad


def the_grad_is_a_plain_leaf(t):
    """x.grad is a tensor like any other (ops, operators, casts, indexing), a leaf without history."""
    a = t.tensor([[1., -2.], [3., 4.]], requires_grad=True)
    (a * a).sum().backward()
    g = a.grad
    attributes = (isinstance(g, t.Tensor), g is a.grad, g.requires_grad, g.is_leaf, g.grad_fn, g.grad,
                  g.retains_grad, list(g.shape), dtype_name(g), g.ndim)
    used = (g[1], g.T, -g, abs(g - 3), g.double(), g.max(), g.max(0).values, g.clamp(0, 4), g @ a.detach(),
            (a * g).sum(), g.to(t.int64), g.sum().item(), g.tolist())
    return attributes, used, (a * g).sum().requires_grad


def methods_read_from_the_class(t):
    x = t.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    return (t.Tensor.sum(x), t.Tensor.mean(x, 0), t.Tensor.add_(x.detach(), 1), hasattr(t.Tensor, "exp_"),
            hasattr(t.Tensor, "no_such_method"))


def requires_grad_after_the_leaf_was_sent(t):
    x = t.tensor([1., 2.])
    before = (x * 2).tolist()
    x.requires_grad_()
    (x * x).sum().backward()
    return before, x.grad, x.is_leaf


def masked_and_fancy_assignment(t):
    x = t.tensor([1., 2., 3., 4.], requires_grad=True)
    a = x * 1
    a[a > 2] = 0
    a[t.tensor([0, 1])] = a[t.tensor([1, 0])] * 10
    a.sum().backward()
    return a, x.grad


# ------------------------------------------------------------------ autograd.grad
def grad_returns_tuple(t):
    x = t.tensor([2., 3.], requires_grad=True)
    y = x * x
    g = t.autograd.grad(y.sum(), [x, y])
    return list(g), x.grad, type(g).__name__


def grad_unused_input(t):
    x = t.tensor([2.], requires_grad=True)
    z = t.tensor([2.], requires_grad=True)
    t.autograd.grad((x * 2).sum(), [x, z])


def grad_allow_unused(t):
    x = t.tensor([2.], requires_grad=True)
    z = t.tensor([2.], requires_grad=True)
    return list(t.autograd.grad((x * 2).sum(), [x, z], allow_unused=True))


def batched_jacobian(t):
    x = t.tensor([2., 3.], requires_grad=True)
    (jacobian,) = t.autograd.grad(x ** 2, x, t.eye(2), is_grads_batched=True)
    return jacobian


def second_derivative(t):
    x = t.tensor([2., 3.], requires_grad=True)
    (g,) = t.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = t.autograd.grad(g.sum(), x)
    return g, g.grad_fn is not None, h


# ------------------------------------------------------------------ broadcasting, dtypes, grad_fn names
def broadcast_sums_back(t):
    a = t.tensor([[1., 2., 3.]], requires_grad=True)
    b = t.tensor([[1.], [2.], [3.], [4.]], requires_grad=True)
    (a + b).backward(t.arange(12.).view(4, 3))
    return a.grad, b.grad


def integer_mean(t):
    t.tensor([1, 2]).mean()


PROMOTIONS = [
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
    "t.tensor([1, 5]).clamp(max=2.5)",
    "t.tensor([1., 5.]).clamp(0, 2)",
    "t.tensor([1., 5.]).clip(max=2)",
    "t.clamp(t.tensor([1., 5.]), 2., 4.)",
]


def promotion(expression):
    def program(t):
        result = eval(expression, {"t": t})  # noqa: S307 - the test's own expressions
        return dtype_name(result), result

    program.__name__ = f"promotion[{expression}]"
    return program




def grad_fn_name(expression):
    def program(t):
        x = t.tensor([1., 2.], requires_grad=True)
        y = t.tensor([3., 4.], requires_grad=True)
        m = t.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        b = t.ones(2, 2, 2, requires_grad=True)
        result = eval(expression, {"t": t, "x": x, "y": y, "m": m, "b": b})  # noqa: S307
        seed = t.ones(result.shape, dtype=result.dtype)
        result.backward(seed)
        return result.grad_fn.name(), dtype_name(result), list(result.shape), result, x.grad, m.grad

    program.__name__ = f"grad_fn[{expression}]"
    return program


PROGRAMS = [
    four_ways_to_make_a_leaf, default_dtypes, int_tensor_cannot_require_grad, int_leaf_requires_grad_later,
    tensor_attributes, propagation, tutorial_retain_then_accumulate, tutorial_third_backward,
    scalar_output_seed_is_one, non_scalar_with_seed, non_scalar_without_seed, seed_of_wrong_shape,
    broadcastable_seed_is_refused, seed_means_weighted_sum, one_element_outputs, seed_dtype_is_cast,
    backward_without_grad, backward_inputs_fill_only_those, backward_empty_inputs,
    retain_graph_follows_create_graph, other_root_reaches_freed_node, accumulate_reset_unused,
    grad_object_accumulates_in_place, repeated_uses_and_several_roots, non_leaf_grad_is_none,
    gradient_has_tensor_dtype, requires_grad_false_on_non_leaf, requires_grad_true_on_non_leaf,
    int_results_cut_the_graph, saved_value_changed_in_place, setitem_on_leaf_requiring_grad,
    inplace_on_view_of_leaf, setitem_under_no_grad, no_grad_results, copyslices_zeroes_overwritten,
    copyslices_chain, inplace_arithmetic_on_a_non_leaf, inplace_arithmetic_on_a_leaf_requiring_grad,
    inplace_methods_on_a_non_leaf, inplace_method_on_a_leaf_requiring_grad, inplace_result_of_another_shape,
    inplace_float_into_int,
    sgd_steps_under_no_grad, sgd_steps_through_data, grad_scaled_in_place, the_grad_is_a_plain_leaf,
    methods_read_from_the_class,
    requires_grad_after_the_leaf_was_sent, masked_and_fancy_assignment, grad_returns_tuple, grad_unused_input, grad_allow_unused, batched_jacobian,
    second_derivative, broadcast_sums_back, integer_mean,
    *[second_backward(e) for e in ["(a+3).sum()", "(a-1).sum()", "(-a).sum()", "a.sum()", "(a*a).sum()",
                                   "(a*2).sum()", "a.exp().sum()", "(a**2).sum()", "a.sigmoid().sum()"]],
    *[promotion(e) for e in PROMOTIONS],
    *[grad_fn_name(e) for e in GRAD_FN_EXPRESSIONS],
]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda program: program.__name__)
def test_program_behaves_as_in_torch(program, client):
    assert_same(program, client)


def test_the_tutorial_numbers(client):
    """The figures the tutorial states, not only agreement with torch."""
    assert plain(tutorial_retain_then_accumulate(client))[:2] == [[15.0, 18.0], [30.0, 36.0]]
    assert plain(non_scalar_with_seed(client))[0] == [4.0, 27.0]
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        non_scalar_without_seed(client)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        tutorial_third_backward(client)
    with pytest.raises(RuntimeError, match="floating point"):
        int_tensor_cannot_require_grad(client)
    assert plain(batched_jacobian(client)) == [[4.0, 0.0], [0.0, 6.0]]
    assert plain(broadcast_sums_back(client)) == [[[18.0, 22.0, 26.0]], [[3.0], [12.0], [21.0], [30.0]]]


def retained_non_leaf_grad(t):
    a = t.tensor([1., 2.], requires_grad=True)
    unreached = t.tensor([3.], requires_grad=True)
    b = a * 2
    c = a * 3
    c.retain_grad()
    (c * c).sum().backward(retain_graph=True)
    first = (c.grad.clone(), a.grad.clone(), c.retains_grad, b.retains_grad)
    (c * b).sum().backward()
    return first, c.grad, a.grad, unreached.grad, b.grad


def retain_grad_needs_requires_grad(t):
    t.tensor([1., 2.]).retain_grad()


def test_retain_grad_as_in_torch(client):
    assert_same(retained_non_leaf_grad, client)
    assert_same(retain_grad_needs_requires_grad, client)
