"""The engine's fast paths for common small calls give the general path's results bit for bit, with the same
errors and budget charges: mean's forward (add.reduce and a divide, not np.mean's Python) and its array
VJP, a basic index's shape and read, x[i] and x[i] = v, ArrayMath/TensorMath op calls, zeros/ones, the
default attributes of a call that gives none, and pow with a floating base."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest

import gradwire.engine as ge
from gradwire.engine import modes
from gradwire.engine.registry import OPS
from gradwire.engine.vjp_math import ARRAY_MATH, TENSOR_MATH, _call_args
from gradwire.rules import attrs as attrs_module
from gradwire.rules.errors import BudgetExceededError
from gradwire.rules.indexing import _general_shape, getitem_shape, is_basic, torch_order

reductions = importlib.import_module("gradwire.engine.ops.reductions")
elementwise = importlib.import_module("gradwire.engine.ops.elementwise")
indexing_ops = importlib.import_module("gradwire.engine.ops.indexing")

torch = pytest.importorskip("torch", reason="torch is the oracle for the values")

SHAPES = [(), (0,), (1,), (3,), (2, 3), (2, 0, 3), (4, 1, 5), (3, 4, 5)]
MEAN_DTYPES = [np.float16, np.float32, np.float64, np.int64, np.bool_]


def _dims(ndim: int) -> list:
    if ndim == 0:
        return [None, (), 0, -1]
    singles = list(range(-ndim, ndim))
    pairs = [tuple(p) for p in itertools.combinations(range(ndim), 2)]
    return [None, ()] + singles + pairs + [tuple(range(ndim))]


def _same(a, b) -> None:
    """Same type, dtype, shape and bytes (nan payloads included)."""
    assert type(a) is type(b), (type(a), type(b))
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    assert a.tobytes() == b.tobytes()


def _values(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape) * 1e3
    if shape and np.prod(shape) > 2:
        values.flat[1] = np.nan
    return values.astype(dtype)


def _mean_cases():
    for shape, dtype in itertools.product(SHAPES, MEAN_DTYPES):
        for dim in _dims(len(shape)):
            for keepdim in (False, True):
                yield shape, dtype, dim, keepdim


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # np.mean of an empty slice warns (either path)
def test_mean_forward_is_np_mean_bit_for_bit():
    count = 0
    for shape, dtype, dim, keepdim in _mean_cases():
        x = _values(shape, dtype)
        axis = reductions.axes_of(dim, x.ndim)
        fast = reductions._mean_forward([x], {"dim": dim, "keepdim": keepdim})
        _same(fast, np.mean(x, axis=axis, keepdims=keepdim))
        count += 1
    assert count > 300


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_of_everything_is_np_mean_at_extreme_scales(dtype):
    """The full reduction divides as Python floats: the same bits as np.mean's numpy-scalar divide."""
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 7, 1000, 100_003):
        for scale in (1e-45, 1e-300, 1.0, 1e30, 3e38, 1e308):
            with np.errstate(all="ignore"):
                x = (rng.standard_normal(n) * scale).astype(dtype)
                for keepdim in (False, True):
                    _same(reductions._mean_forward([x], {"dim": None, "keepdim": keepdim}),
                          np.mean(x, keepdims=keepdim))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_agrees_with_torch(dtype):
    for shape in [(3,), (2, 3), (4, 1, 5), (3, 4, 5), (257, 3)]:
        x = np.random.default_rng(1).standard_normal(shape).astype(dtype)
        for dim in _dims(len(shape)):
            for keepdim in (False, True):
                ours = ge.from_numpy(x).mean(dim=dim, keepdim=keepdim) if dim is not None else ge.from_numpy(x).mean()
                theirs = torch.from_numpy(x).mean(dim=dim, keepdim=keepdim) if dim is not None else torch.from_numpy(x).mean()
                assert ours.shape == tuple(theirs.shape)
                tolerance = 1e-6 if dtype == np.float32 else 1e-14  # (summation orders differ: absolute, near 0)
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=tolerance, atol=tolerance)


def _general_mean_vjp(g, shape, dim, keepdim):
    """The VJP as written before its array fast path: spread with reshape/expand, then divide."""
    axes = reductions.axes_of(dim, len(shape))
    count = int(np.prod(shape if axes is None else [shape[a] for a in axes], dtype=np.int64)) if (shape or axes is None) else 1
    return reductions.expand_reduced(ARRAY_MATH, g, shape, dim, keepdim) / count


class _Ctx:
    def __init__(self, shape, dim, keepdim):
        self.input_shapes = (shape,)
        self.attrs = {"dim": dim, "keepdim": keepdim}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # empty inputs: 0/0 in either path
def test_mean_vjp_on_arrays_is_the_general_path_bit_for_bit():
    count = 0
    for shape, dtype, dim, keepdim in _mean_cases():
        if dtype not in (np.float16, np.float32, np.float64):
            continue
        x = _values(shape, dtype)
        axis = reductions.axes_of(dim, x.ndim)
        g = _values(np.mean(x, axis=axis, keepdims=keepdim).shape, dtype, seed=2)
        for grad in (g, np.asarray(g)[()] if g.ndim == 0 else g):  # a 0-d gradient may come as a scalar
            fast = reductions._mean_vjp(ARRAY_MATH, grad, _Ctx(shape, dim, keepdim))
            _same(fast, _general_mean_vjp(grad, shape, dim, keepdim))
            count += 1
    assert count > 100


def test_mean_backward_matches_torch_and_create_graph():
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    for dim, keepdim in [(None, False), (0, False), (1, True), ((0, 1), False)]:
        grads = []
        for t in (ge, torch):
            leaf = t.tensor(x, requires_grad=True)
            out = leaf.mean() if dim is None else leaf.mean(dim=dim, keepdim=keepdim)
            (out * 3).sum().backward(create_graph=t is ge)
            grads.append(leaf.grad.detach().numpy())
        _same(grads[0], grads[1])


# ---------------------------------------------------------------- indexing
BASIC_INDEXES = [(), (0,), (-1,), (2,), (-3,), (3,), (-4,), (0, 1), (1, -1), (0, 0, 0), (0, 0, 0, 0),
                 (None,), (None, 0), (0, None, 1), (slice(None),), (slice(1, None),), (slice(None, None, 2),),
                 (slice(-2, 10),), (0, slice(1, 3)), (slice(None), 1), (slice(None), None, -1), (None, None),
                 (slice(5, 1),), (1, slice(None), None, 0), (slice(0, 0), 0), (None, 0, None, 0, None, 0)]
INDEXED_SHAPES = [(), (3,), (3, 4), (2, 3, 4), (0,), (3, 0), (1, 1, 1)]


def _outcome(function):
    try:
        return ("ok", function())
    except Exception as error:  # noqa: BLE001  (the class and message are what is compared)
        return (type(error), str(error))


def test_basic_index_shape_is_the_general_rule():
    for shape, index in itertools.product(INDEXED_SHAPES, BASIC_INDEXES):
        assert is_basic(index)
        assert _outcome(lambda: getitem_shape(shape, index)) == _outcome(lambda: _general_shape(shape, index))


def test_is_basic_refuses_what_needs_the_general_rules():
    for index in [(Ellipsis,), (True,), (np.int64(0),), (np.array([0]),), (0, Ellipsis), (ge.tensor(0),)]:
        assert not is_basic(index)


def _general_read(x, index):
    view, rest = torch_order(x, index)
    return view[rest]


def test_basic_index_read_is_the_general_read():
    for shape, index in itertools.product(INDEXED_SHAPES, BASIC_INDEXES):
        x = _values(shape, np.float32)
        fast = _outcome(lambda: indexing_ops._getitem_forward([x], {"index": index}))
        general = _outcome(lambda: _general_read(x, index))
        if fast[0] == "ok" and general[0] == "ok":
            _same(fast[1], general[1])
            assert np.shares_memory(fast[1], x) == np.shares_memory(general[1], x)
        else:
            assert fast[0] != "ok" and general[0] != "ok"  # numpy refuses both ways
            assert isinstance(fast[0], type) and issubclass(fast[0], Exception)


def _tensor_state(tensor):
    fn = tensor.grad_fn
    return (tensor.shape, tensor.dtype, tensor._data.tobytes(), tensor.requires_grad, None if fn is None else fn.name(),
            tensor._base is not None, tensor._version[0])


@pytest.mark.parametrize("shape", [(), (3,), (3, 2), (4, 2, 3)])
@pytest.mark.parametrize("i", [0, 1, -1, -3, 3, 7, -8])
def test_int_getitem_and_setitem_are_the_tuple_index_path(shape, i):
    """x[i] takes the fast path; x[(i,)] the general one: same result, grad_fn, errors and gradients."""
    data = _values(shape, np.float32, seed=5)
    results = []
    for key in (i, (i,)):
        a = ge.tensor(data, requires_grad=True)
        read = _outcome(lambda: a[key])
        target = ge.zeros(shape)
        wrote = _outcome(lambda: target.__setitem__(key, a[0] ** 2))
        outcome = [read[0] if read[0] != "ok" else _tensor_state(read[1]),
                   wrote if wrote[0] != "ok" else _tensor_state(target)]
        if read[0] == "ok":
            (read[1] * 2).sum().backward()
            if wrote[0] == "ok":
                target.sum().backward()
            outcome.append(a.grad._data.tobytes())
        results.append(outcome)
    assert results[0] == results[1]


def test_int_setitem_errors_are_the_general_ones():
    leaf = ge.zeros(3, requires_grad=True)
    for key in (0, (0,)):
        with pytest.raises(Exception) as raised:
            leaf[key] = 1.0
        if key == 0:
            first = (type(raised.value), str(raised.value))
    assert (type(raised.value), str(raised.value)) == first
    target = ge.zeros(3)
    messages = []
    for key in (0, (0,)):
        with pytest.raises(Exception) as raised:
            target[key] = "text"
        messages.append((type(raised.value), str(raised.value)))
    assert messages[0] == messages[1]


# ---------------------------------------------------------------- op calls from VJPs
CALLS = [
    ("reshape", (np.arange(6.0),), {"shape": (2, 3)}),
    ("sum", (np.arange(6.0).reshape(2, 3),), {"dim": 1, "keepdim": True}),
    ("sum", (np.arange(6.0).reshape(2, 3),), {}),
    ("mean", (np.arange(6.0, dtype=np.float32).reshape(2, 3),), {"dim": (0,)}),
    ("expand", (np.ones((1, 3)),), {"shape": (4, 3)}),
    ("where", (np.array([True, False]), 0.0, np.array([1.5, 2.5])), {}),
    ("exp", (np.linspace(-2, 2, 5),), {}),
    ("mul", (np.arange(3.0), 2.5), {}),
    ("getitem", (np.arange(12.0).reshape(3, 4),), {"index": (1, slice(None, None, 2))}),
    ("index_zero", (np.arange(4.0),), {"index": (2,)}),
    ("log_softmax", (np.arange(6.0).reshape(2, 3),), {"dim": 1}),
    ("transpose", (np.arange(6.0).reshape(2, 3),), {"dim0": 0, "dim1": 1}),
]


@pytest.mark.parametrize("name, operands, attrs", CALLS, ids=[c[0] for c in CALLS])
def test_array_math_call_is_call_args_bit_for_bit(name, operands, attrs):
    op, values, _, filled = _call_args(name, operands, dict(attrs))
    _same(getattr(ARRAY_MATH, name)(*operands, **attrs), op.forward(values, filled))


@pytest.mark.parametrize("name, operands, attrs", [c for c in CALLS if c[0] != "where"], ids=[c[0] for c in CALLS if c[0] != "where"])
def test_tensor_math_call_is_call_args_bit_for_bit(name, operands, attrs):
    from gradwire.engine.dispatch import apply_op

    tensors = [ge.tensor(x) if isinstance(x, np.ndarray) else x for x in operands]
    op, values, placed, _ = _call_args(name, tuple(tensors), dict(attrs))
    fast, general = getattr(TENSOR_MATH, name)(*tensors, **attrs), apply_op(op, values, placed)
    assert fast.dtype == general.dtype
    _same(fast._data, general._data)


def test_variadic_and_operand_attribute_ops_keep_the_general_call():
    parts = (np.arange(3.0), np.arange(2.0))
    _same(ARRAY_MATH.cat(parts, dim=0), np.concatenate(parts))
    assert any(op.operand_attrs for op in OPS.values())  # the general path still has callers


# ---------------------------------------------------------------- factories
@pytest.mark.parametrize("factory, fill", [(ge.zeros, 0), (ge.ones, 1), (ge.empty, 0)])
def test_filled_factories_are_np_full_in_every_dtype(factory, fill):
    for dtype in (ge.float16, ge.float32, ge.float64, ge.int8, ge.uint8, ge.int16, ge.int32, ge.int64, ge.bool):
        for shape in [(), (0,), (3,), (2, 3)]:
            made = factory(*shape, dtype=dtype) if shape else factory((), dtype=dtype)
            _same(made._data, np.full(shape, fill, dtype=dtype.numpy))
            assert made._data.flags.writeable and made._data.flags.c_contiguous


def test_filled_factories_charge_the_budget_as_before():
    with ge.memory_budget(1000):
        ge.zeros(10, 10, dtype=ge.float64)
        assert modes._state.budget_left == 200
        ge.ones(5, dtype=ge.float32)
        assert modes._state.budget_left == 180
        with pytest.raises(BudgetExceededError, match=r"a tensor of shape \[100\] would allocate 800 bytes"):
            ge.zeros(100, dtype=ge.float64)
    assert modes._state.budget_left is None


# ---------------------------------------------------------------- default attributes
def test_default_attributes_are_the_general_normalisation():
    compared = 0
    for op in OPS.values():
        general = _outcome(lambda: attrs_module._normalised(op, {}))
        for _ in range(2):  # the first call fills the cache, the second reads it
            got = _outcome(lambda: attrs_module.normalise_attrs(op, {}))
            assert got == general
            if got[0] == "ok" and op.attrs:
                assert got[1] is not attrs_module.normalise_attrs(op, {})  # each caller owns its dict
        compared += 1
    assert compared > 100


# ---------------------------------------------------------------- pow
def test_pow_with_a_floating_base_is_np_power_bit_for_bit():
    for dtype in (np.float16, np.float32, np.float64):
        base = _values((7,), dtype)
        for exponent in (2, 3, 0.5, -1, 0, np.arange(7, dtype=dtype)):
            with np.errstate(all="ignore"):
                _same(elementwise._pow_forward([base, exponent], {}), np.power(base, exponent))


# ---------------------------------------------------------------- x.op() with no arguments
def test_a_bare_method_call_is_what_parse_call_gives():
    """x.op() skips parse_call where it would give ([x], {}) (and so nothing to cast first): check that
    it does, for every op the fast path takes."""
    x = ge.tensor([[1.5, -2.0], [0.5, 3.0]])
    taken = 0
    for op in OPS.values():
        if op.parse is None and not op.signature and op.max_inputs >= 1 and not op.operand_attrs:
            operands, attrs = op.parse_call((x,), {})
            assert operands == [x] and attrs == {}, op.name
            taken += 1
    assert taken > 50


@pytest.mark.parametrize("name", ["mean", "sum", "exp", "relu", "tanh", "abs", "neg", "sigmoid", "max", "t"])
def test_a_bare_method_call_gives_the_function_call_bit_for_bit(name):
    data = _values((3, 4), np.float32, seed=7)
    results = []
    for call in (lambda a: getattr(a, name)(), lambda a: getattr(ge, name)(a)):
        a = ge.tensor(data, requires_grad=True)
        out = call(a)
        out.sum().backward()
        results.append((out.shape, out.dtype, out._data.tobytes(), out.grad_fn.name(), a.grad._data.tobytes()))
    assert results[0] == results[1]


@pytest.mark.parametrize("data", [[2.0, 3.0], (1.5,), [0.1, -0.0, float("nan"), float("inf")], [1.0, 2], [1.0, True],
                                  [np.float64(0.1), 2.0], [[1.0, 2.0]], [1.0, np.float32(2.0)], [], [1, 2]])
def test_tensor_of_python_floats_infers_the_dtype_as_torch(data):
    made = ge.tensor(data)
    expected = torch.tensor(data)
    assert made.dtype.name == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(made.numpy(), expected.numpy())
