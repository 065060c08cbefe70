"""Typed steps: an op call whose dtypes and shapes were inferred ahead of time, run without its rules.

A caller that runs the same structure again and again (the server's compiled plans) knows each call's
operand dtypes and shapes before it runs, so it can ask the op's rules once (`infer`) and then run every
later call through `apply_typed`, which does what dispatch.apply_op does after its rules: the casts to the
compute dtype, the numpy forward, wrapping into Tensors, marking views and recording the backward node.
It skips the arity check, attribute normalisation, the dtype rule and the shape rule.

`infer` answers None for a call it cannot type exactly (an in-place op, a shape rule giving a Bound, a
rule that refuses or fails on metadata alone): such a call stays on apply_op. When budgets are metered
(engine/modes), apply_typed charges budget.charge_op with the inferred shape, exactly as apply_op does,
so a metered typed call costs the same as an untyped one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from gradwire.rules import results
from gradwire.rules.spec import Bound

from . import budget, modes
from .dispatch import _as_compute_array, _wrap, record
from .registry import OpDef
from .tensor import Tensor
from .views import mark_view, sync_view


@dataclass(frozen=True)
class Meta:
    """What the rules read of a tensor operand: its shape and dtype (never its values)."""

    shape: tuple[int, ...]
    dtype: Any
    requires_grad: bool = False

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dim(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class TypedCall:
    """One call's rules, answered ahead of time."""

    operand_dtypes: tuple[Any, ...]  # per operand after padding; None for a scalar or absent operand
    pad: int  # absent optional operands appended, as apply_op pads them
    compute_dtype: Any
    result_dtype: Any
    out_shape: Any  # what the shape rule said (for the budget), or None if the op has none
    # Every output's (dtype, shape), as later calls see them.
    outputs: tuple[tuple[Any, tuple[int, ...]], ...]


def infer(op: OpDef, operands: Sequence[Any], attrs: dict[str, Any]) -> TypedCall | None:
    """The typed call of `op` on operands given as Meta (tensors) or Python scalars (or None where an
    optional operand is absent), with normalised attrs; None if the rules cannot tell it exactly."""
    if op.inplace or op.dtype_rule is None or (op.pieces is not None and attrs.get("output") is None):
        return None
    operands = list(operands)
    if op.min_inputs > len(operands) or (op.max_inputs != -1 and len(operands) > op.max_inputs):
        return None
    pad = op.max_inputs - len(operands) if op.operand_attrs and len(operands) < op.max_inputs else 0
    operands += [None] * pad
    dtypes, shapes = [], []
    for value in operands:
        if isinstance(value, Meta):
            dtypes.append(value.dtype)
            shapes.append(value.shape)
        elif value is None or results.is_scalar(value):
            dtypes.append(None)
            shapes.append(())
        else:
            return None
    try:
        compute_dtype, result_dtype = op.dtype_rule(dtypes, operands, attrs)
        out_shape = None if op.out_shape is None else op.out_shape(shapes, attrs)
        outputs = results.infer(op, operands, attrs)
    except Exception:  # noqa: BLE001 - a rule that cannot answer on metadata: the call stays untyped
        return None
    if out_shape is None or _inexact(out_shape) or any(o.shape is None or o.dtype is None for o in outputs):
        return None
    if outputs[0].dtype is not result_dtype:
        return None
    return TypedCall(tuple(dtypes), pad, compute_dtype, result_dtype, out_shape,
                     tuple((o.dtype, tuple(o.shape)) for o in outputs))


def _inexact(shape: Any) -> bool:
    if type(shape) is Bound:
        return True
    return isinstance(shape, list) and any(s is None or type(s) is Bound for s in shape)


def apply_typed(op: OpDef, operands: list[Any], attrs: dict[str, Any], typed: TypedCall) -> Any:
    """apply_op after its rules, for operands of the dtypes and shapes `typed` was inferred for."""
    if typed.pad:
        operands = operands + [None] * typed.pad
    any_requires_grad = False
    shapes = []  # for the backward node, as apply_op hands them over (a scalar or absent operand: ())
    for value in operands:
        if isinstance(value, Tensor):
            if value._base is not None:
                sync_view(value)
            if value._requires_grad:
                any_requires_grad = True
            shapes.append(value._data.shape)
        else:
            shapes.append(())
    state = modes._state
    charged = None
    if state.budget_left is not None or state.work_left is not None or state.interrupt is not None:
        charged = budget.charge_op(op, operands, list(typed.operand_dtypes), typed.compute_dtype,
                                   typed.result_dtype, attrs, typed.out_shape)
    compute_dtype = typed.compute_dtype
    arrays = [_as_compute_array(x, compute_dtype) if dtype is not None else x
              for x, dtype in zip(operands, typed.operand_dtypes)]
    raw = op.forward(arrays, attrs)
    if charged is not None:
        budget.settle(charged, raw, arrays)
    if op.num_outputs > 1:
        outputs = tuple(_wrap(value, typed.result_dtype if i == 0 else None) for i, value in enumerate(raw))
        main = outputs[0]
    else:
        main = outputs = _wrap(raw, typed.result_dtype)
    if op.view and isinstance(operands[0], Tensor) and _shares(main, operands[0]):
        mark_view(main, operands[0], multi_output=op.extra.get("multi_output_view", False))
    if any_requires_grad and op.differentiable and state.grad_enabled and typed.result_dtype.is_floating_point:
        record(op, operands, attrs, main, input_shapes=tuple(shapes), input_dtypes=list(typed.operand_dtypes))
    return outputs


def _shares(result: Tensor, operand: Tensor) -> bool:
    return bool(np.may_share_memory(result._data, operand._data))
