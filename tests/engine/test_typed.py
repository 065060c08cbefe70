"""engine.typed: a call typed ahead of time (infer) runs through apply_typed with apply_op's results, bit for
bit: values, dtypes, shapes, grad_fn, gradients, views, and the same budget charges when metered."""

from __future__ import annotations

import numpy as np
import pytest

import gradwire.engine as ge
from gradwire.engine import modes
from gradwire.engine.dispatch import apply_op
from gradwire.engine.registry import get
from gradwire.engine.typed import Meta, apply_typed, infer
from gradwire.rules.attrs import normalise_attrs


def _operands(rng):
    f32 = rng.standard_normal((3, 4)).astype(np.float32)
    f64 = rng.standard_normal((4, 2))
    ints = rng.integers(-3, 3, (3, 4))
    return {"f32": f32, "f64": f64, "ints": ints, "row": rng.standard_normal(4).astype(np.float32),
            "mask": ints > 0, "m": f64.astype(np.float32), "w": rng.standard_normal((5, 4)).astype(np.float32)}


# (op, operand names or Python scalars, attrs)
CALLS = [
    ("add", ["f32", "row"], {}), ("add", ["f32", 2], {}), ("mul", ["ints", 1.5], {}), ("mul", ["f32", "ints"], {}),
    ("matmul", ["f32", "m"], {}), ("sum", ["f32"], {"dim": 1, "keepdim": True}), ("sum", ["ints"], {}),
    ("softmax", ["f32"], {"dim": -1}), ("mean", ["f64"], {"dim": 0}), ("max_dim", ["f32"], {"dim": 1}),
    ("cat", ["f32", "f32"], {"dim": 0}), ("linear", ["f32", "w"], {}), ("linear", ["f32", "w", "row5"], {}),
    ("where", ["mask", "f32", 0.0], {}), ("to", ["f32"], {"dtype": ge.float64}),
    ("split", ["f32"], {"split_size_or_sections": 2, "dim": 1, "output": 1}),
    ("transpose", ["f32"], {"dim0": 0, "dim1": 1}),
]


def _make(arrays, names, requires_grad):
    made = []
    for name in names:
        if not isinstance(name, str):
            made.append(name)
            continue
        array = arrays["row"][:1].repeat(5) if name == "row5" else arrays[name]
        tensor = ge.tensor(array.copy())
        if requires_grad and array.dtype.kind == "f":
            tensor.requires_grad_(True)
        made.append(tensor)
    return made


def _metas(tensors):
    return [Meta(tuple(t.shape), t.dtype) if isinstance(t, ge.Tensor) else t for t in tensors]


def _outputs(result):
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("name,names,attrs", CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_typed_call_equals_apply_op(name, names, attrs):
    op = get(name)
    arrays = _operands(np.random.default_rng(0))
    attrs = normalise_attrs(op, dict(attrs))
    slow_in, fast_in = _make(arrays, names, True), _make(arrays, names, True)
    typed = infer(op, _metas(slow_in), attrs)
    assert typed is not None, f"{name} did not type"
    slow = _outputs(apply_op(op, slow_in, dict(attrs), normalised=True))
    fast = _outputs(apply_typed(op, fast_in, dict(attrs), typed))
    assert [(t.dtype, tuple(t.shape)) for t in slow] == list(typed.outputs)  # inference = the engine
    for mine, other in zip(fast, slow):
        assert mine.dtype is other.dtype and mine.detach().numpy().tobytes() == other.detach().numpy().tobytes()
        assert (mine.grad_fn is None) == (other.grad_fn is None) and mine.requires_grad == other.requires_grad
        assert (mine._base is None) == (other._base is None)
    if slow[0].requires_grad:
        seed = np.linspace(-1, 1, slow[0].numel()).reshape(tuple(slow[0].shape)).astype(slow[0].detach().numpy().dtype)
        slow[0].backward(ge.tensor(seed))
        fast[0].backward(ge.tensor(seed))
        for mine, other in zip(fast_in, slow_in):
            if isinstance(other, ge.Tensor) and other.grad is not None:
                assert mine.grad.numpy().tobytes() == other.grad.numpy().tobytes()


@pytest.mark.parametrize("name,names,attrs", CALLS[:8], ids=[c[0] for c in CALLS[:8]])
def test_a_metered_typed_call_is_charged_as_apply_op_charges(name, names, attrs):
    op = get(name)
    arrays = _operands(np.random.default_rng(1))
    attrs = normalise_attrs(op, dict(attrs))
    charges = []
    for run in ("slow", "typed"):
        tensors = _make(arrays, names, True)
        typed = infer(op, _metas(tensors), attrs)
        with modes.memory_budget(1 << 20), modes.work_budget(1 << 20):
            if run == "slow":
                apply_op(op, tensors, dict(attrs), normalised=True)
            else:
                apply_typed(op, tensors, dict(attrs), typed)
            charges.append(modes.charged_so_far())
    assert charges[0] == charges[1] and charges[0][1] > 0


def test_what_cannot_be_typed_exactly_is_not_typed():
    arrays = _operands(np.random.default_rng(2))
    tensors = _make(arrays, ["f32"], False)
    assert infer(get("masked_select"), _metas(tensors) + [Meta((3, 4), ge.bool)], {}) is None  # a Bound
    assert infer(get("add_"), _metas(tensors) + [1.0], normalise_attrs(get("add_"), {})) is None  # in place
    assert infer(get("add"), _metas(tensors), {}) is None  # the wrong number of operands
    assert infer(get("matmul"), [Meta((3, 4), ge.float32), Meta((3, 4), ge.float32)], {}) is None  # refused
