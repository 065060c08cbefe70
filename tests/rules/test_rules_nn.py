"""The torch.nn.functional ops' rules (gradwire.rules.ops.nn_*) against torch, without the engine's forward:
every op of the family is defined in gradwire.rules with a shape and a dtype rule; for every op-table row
the shape and dtype the rules predict for torch's own call equal torch's result; and mistakes torch
refuses are refused by the rules alone with torch's exception class."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

import gradwire.engine as gw  # noqa: F401  (registers the engine ops: the family is known by its forwards)
from gradwire.engine.registry import INLINE_RULES, OPS
from gradwire.rules import dtypes, rules_of
from gradwire.rules.attrs import normalise_attrs
from gradwire.rules.spec import Bound

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ops_harness import builtin_class, make_tensors  # noqa: E402
from ops_table import ROWS  # noqa: E402

NN_MODULES = ("nn_linear", "nn_loss_class", "nn_loss_elementwise", "nn_conv", "nn_norm", "nn_dropout", "nn_pool",
              "nn_adaptive_pool", "nn_misc", "nn_resample", "nn_composite")
FAMILY = sorted(op.name for op in OPS.values()
                if getattr(op.forward, "__module__", "").rsplit(".", 1)[-1] in NN_MODULES)


class Meta:
    """What a rule sees of a tensor: its shape and dtype (as the SDK's lazy metadata)."""

    def __init__(self, shape, dtype) -> None:
        self.shape, self.dtype = tuple(shape), dtype


def meta(value):
    if isinstance(value, torch.Tensor):
        return Meta(value.shape, dtypes.by_name(str(value.dtype).removeprefix("torch.")))
    if isinstance(value, (list, tuple)):
        return type(value)(meta(v) for v in value)
    return value


def predict(name: str, args: tuple, kwargs: dict):
    """(shape, dtype name) the rules give for the call name(*args, **kwargs), args as torch passes them."""
    op = rules_of(name)
    known = {spec.name for spec in op.attrs} | {alias for spec in op.attrs for alias in spec.aliases}
    # torch's handlers pass every parameter, its deprecated ones (size_average, reduce) as None
    kwargs = {k: meta(v) for k, v in kwargs.items() if v is not None or k in known}
    operands, attrs = op.parse_call(meta(args), kwargs)
    if attrs.get("return_indices") and f"{name}_with_indices" in OPS:
        op = rules_of(f"{name}_with_indices")
    operands, attrs = op.place_operands(list(operands), dict(attrs))
    if op.operand_attrs and len(operands) < op.max_inputs:
        operands = operands + [None] * (op.max_inputs - len(operands))
    attrs = normalise_attrs(op, attrs)
    kinds = [x.dtype if isinstance(x, Meta) else None for x in operands]
    shapes = [x.shape if isinstance(x, Meta) else () for x in operands]
    shape = op.out_shape(shapes, attrs)
    if op.num_outputs > 1 and not isinstance(shape, tuple):
        shape = shape[0]
    return shape, op.dtype_rule(kinds, operands, attrs)[1].name


def _short(spelling: str) -> str:
    return spelling.rpartition(".")[2]


def recorded_call(row, op_name: str):
    """Runs the row's program in torch and returns the first call of one of the op's spellings."""
    names = {_short(s) for s in rules_of(op_name).functions} | {op_name.removesuffix("_with_indices")}
    calls = []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            if getattr(func, "__name__", None) in names:
                calls.append((func.__name__, args, kwargs, result))
            return result

    values = row.inputs(np.random.default_rng(zlib.crc32(row.id.encode())))
    tensors = make_tensors(torch, values, np.float64)
    with Recorder():
        row.program_for(torch)(torch, *tensors)
    return calls[0] if calls else None


# nn ops whose rules are still written inline in engine/ops (moving them is unfinished work).
NOT_YET_MOVED = {name for name in FAMILY if not name.startswith(("linear", "bilinear"))}


def test_every_nn_op_has_its_rules_in_gradwire_rules():
    assert len(FAMILY) > 60
    inline = sorted(set(FAMILY) & INLINE_RULES - NOT_YET_MOVED)
    assert not inline, f"nn ops whose rules are still written in engine/: {inline}"
    assert NOT_YET_MOVED <= INLINE_RULES, f"moved: shrink NOT_YET_MOVED by {sorted(NOT_YET_MOVED - INLINE_RULES)}"
    for name in FAMILY:
        op = rules_of(name)
        assert op.out_shape is not None and op.dtype_rule is not None, name
        assert op.rules_id == f"{name}@{op.version}"


NN_ROWS = [row for row in ROWS if row.op in FAMILY and not rules_of(row.op).internal]


@pytest.mark.parametrize("row", NN_ROWS, ids=lambda row: row.id)
def test_rules_predict_torchs_shape_and_dtype(row):
    call = recorded_call(row, row.op)
    if call is None:
        pytest.fail(f"the torch program of {row.id} calls no spelling of {row.op}")
    name, args, kwargs, result = call
    op_name = name if name in OPS else row.op
    if row.op.endswith("_with_indices"):
        op_name = row.op.removesuffix("_with_indices")
        if not kwargs.get("return_indices") and f"{op_name}_with_indices" == row.op:
            kwargs = dict(kwargs, return_indices=True)
    shape, dtype = predict(op_name, args, kwargs)
    first = result[0] if isinstance(result, tuple) else result
    if type(shape) is Bound:  # a shape that depends on values: the rules know its rank and leading dims
        shape = tuple(shape[:-1]) + tuple(first.shape[-1:])
    assert shape == tuple(first.shape), f"{row.id}: rules say {shape}, torch made {tuple(first.shape)}"
    assert dtype == str(first.dtype).removeprefix("torch."), f"{row.id}: rules say {dtype}, torch {first.dtype}"


def z(*shape, dtype=torch.float32):
    return torch.zeros(shape, dtype=dtype)


def ints(*shape):
    return torch.zeros(shape, dtype=torch.int64)


F = torch.nn.functional
# (label, op name, args, kwargs): calls torch refuses; the rules alone must refuse them with its class.
MISTAKES = [
    ("linear_in_features", "linear", (z(2, 3), z(4, 5)), {}),
    ("linear_0d_input", "linear", (z(), z(4, 5)), {}),
    ("linear_3d_weight", "linear", (z(2, 3), z(2, 4, 3)), {}),
    ("linear_bias_size", "linear", (z(2, 3), z(4, 3), z(5)), {}),
    ("linear_int_input", "linear", (ints(2, 3), z(4, 3)), {}),
    ("linear_mixed_dtypes", "linear", (z(2, 3), z(4, 3, dtype=torch.float64)), {}),
    ("bilinear_in2", "bilinear", (z(4, 3), z(4, 2), z(5, 3, 3)), {}),
    ("bilinear_batch", "bilinear", (z(4, 3), z(3, 2), z(5, 3, 2)), {}),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m[0])
def test_rules_refuse_what_torch_refuses(mistake):
    _, name, args, kwargs = mistake
    function = getattr(F, name, None) or getattr(torch, name)
    with pytest.raises(Exception) as theirs:
        function(*args, **kwargs)
    with pytest.raises(Exception) as ours:
        predict(name, args, kwargs)
    assert builtin_class(ours.value) is builtin_class(theirs.value), f"{ours.value!r} vs torch {theirs.value!r}"
    assert ours.value.__class__.__module__.startswith("gradwire.rules"), repr(ours.value)
