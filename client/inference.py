"""Transitional: the SDK's own copy of the metadata rules, used only for the ops whose rules have not
moved to gradwire.rules yet (the catalogue gives them no rules_id; see derive.py for every other op).
It goes, with shapes.py and pieces.py, once every op's rules live in gradwire.rules.

What the SDK can know of an op's result without asking the server: shape, dtype, requires_grad,
is_leaf and grad_fn name, following torch's rules.

`infer` returns one Meta per output, with None in the fields it cannot tell (the next flush fills them
from the server's ValueInfo), or raises WillFail when the op is bound to fail: the SDK then sends it at
once, so the server's own error surfaces at the statement that caused it, as in torch.
Ops without a rule here simply come back unknown: this module is an optimisation, never the authority.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from gradwire.rules import dtypes as rule_dtypes

from . import dtypes, shapes
from .catalogue import OpSpec
from .dtypes import DType
from .meta import Meta, WillFail


Operand = Any  # a Meta (a tensor's) or a Python scalar


def getitem_grad_fn(index: Any) -> str:
    """torch names the backward of an indexing expression after the last step it applied."""
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(item, (list, np.ndarray)) for item in items):
        return "IndexBackward0"
    for item in reversed(items):
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            return "SelectBackward0"
        if item is None:
            return "UnsqueezeBackward0"
        if isinstance(item, slice) and item != slice(None):
            return "SliceBackward0"
    return "AliasBackward0"


# ---------------------------------------------------------------- dtypes

def _result_type(operands: Sequence[Operand], extra_scalars: Sequence[Any] = ()) -> DType:
    dimensioned = [m.dtype for m in operands if isinstance(m, Meta) and m.shape]
    zero_dim = [m.dtype for m in operands if isinstance(m, Meta) and not m.shape]
    scalars = [s for s in list(operands) + list(extra_scalars) if not isinstance(s, Meta)]
    return rule_dtypes.result_type(dimensioned, zero_dim, scalars)


def _dtype_promote(operands: Sequence[Operand], attrs: dict) -> DType:
    return _result_type(operands, [attrs[k] for k in ("min", "max") if attrs.get(k) is not None])


def _dtype_promote_to_float(operands: Sequence[Operand], attrs: dict) -> DType:
    dtype = _result_type(operands)
    if attrs.get("rounding_mode") is not None:  # div(rounding_mode=...) keeps integers integral
        return dtype
    return dtype if dtype.is_floating_point else dtypes.DEFAULT_FLOAT


def _dtype_compare(operands: Sequence[Operand], attrs: dict) -> DType:
    return dtypes.bool_


def _dtype_unary_float(operands: Sequence[Operand], attrs: dict) -> DType:
    dtype = operands[0].dtype
    return dtype if dtype.is_floating_point else dtypes.DEFAULT_FLOAT


def _dtype_same(operands: Sequence[Operand], attrs: dict) -> DType:
    return operands[0].dtype


def _dtype_sum_like(operands: Sequence[Operand], attrs: dict) -> DType:
    dtype = operands[0].dtype
    return dtype if dtype.is_floating_point else dtypes.int64


def _dtype_floating_only(operands: Sequence[Operand], attrs: dict) -> DType:
    if not operands[0].dtype.is_floating_point:
        raise WillFail
    return operands[0].dtype


def _dtype_cast(operands: Sequence[Operand], attrs: dict) -> DType:
    return dtypes.as_dtype(attrs["dtype"])


def _dtype_where(operands: Sequence[Operand], attrs: dict) -> DType:
    condition = operands[0]
    if not isinstance(condition, Meta) or condition.dtype is not dtypes.bool_:
        raise WillFail
    return _result_type(operands[1:])


def _dtype_tensors(operands: Sequence[Operand], attrs: dict) -> DType:
    return dtypes.promote(*[m.dtype for m in operands if isinstance(m, Meta)])


def _dtype_matmul(operands: Sequence[Operand], attrs: dict) -> DType:
    a, b = operands
    if a.dtype is not b.dtype:
        raise WillFail  # torch's matmul does not promote
    return a.dtype


# ---------------------------------------------------------------- the table

ShapeRule = Callable[[list[shapes.Shape], dict], shapes.Shape]
DTypeRule = Callable[[Sequence[Operand], dict], DType]

_ELEMENTWISE_UNARY_FLOAT = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid")
_ELEMENTWISE_UNARY_SAME = ("neg", "abs", "sign", "relu", "clone", "detach")

RULES: dict[str, tuple[ShapeRule, DTypeRule]] = {
    **{name: (shapes.broadcast_rule, _dtype_promote) for name in ("add", "sub", "mul", "pow", "maximum", "minimum")},
    "div": (shapes.broadcast_rule, _dtype_promote_to_float),
    **{name: (shapes.broadcast_rule, _dtype_compare) for name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and")},
    "where": (shapes.broadcast_rule, _dtype_where),
    **{name: (shapes.same, _dtype_unary_float) for name in _ELEMENTWISE_UNARY_FLOAT},
    **{name: (shapes.same, _dtype_same) for name in _ELEMENTWISE_UNARY_SAME},
    "clamp": (shapes.same, _dtype_promote),
    "to": (shapes.same, _dtype_cast),
    "sum": (shapes.reduce, _dtype_sum_like),
    "prod": (shapes.reduce, _dtype_sum_like),
    "mean": (shapes.reduce, _dtype_floating_only),
    "var": (shapes.reduce, _dtype_floating_only),
    "softmax": (shapes.softmax, _dtype_floating_only),
    "log_softmax": (shapes.softmax, _dtype_floating_only),
    "max": (shapes.full_reduce, _dtype_same),
    "min": (shapes.full_reduce, _dtype_same),
    "matmul": (shapes.matmul, _dtype_matmul),
    "mm": (shapes.fixed_rank_matmul((2, 2)), _dtype_matmul),
    "bmm": (shapes.fixed_rank_matmul((3, 3)), _dtype_matmul),
    "mv": (shapes.fixed_rank_matmul((2, 1)), _dtype_matmul),
    "dot": (shapes.fixed_rank_matmul((1, 1)), _dtype_matmul),
    "t": (shapes.t, _dtype_same),
    "reshape": (shapes.view, _dtype_same),
    "view": (shapes.view, _dtype_same),  # also refused server-side where strides would need a copy
    "expand": (shapes.expand, _dtype_same),
    "getitem": (shapes.getitem, _dtype_same),
    "transpose": (shapes.transpose, _dtype_same),
    "permute": (shapes.permute, _dtype_same),
    "unsqueeze": (shapes.unsqueeze, _dtype_same),
    "squeeze": (shapes.squeeze, _dtype_same),
    "cat": (lambda shape_list, attrs: shapes.stack_like(shape_list, attrs, new_axis=False), _dtype_tensors),
    "stack": (lambda shape_list, attrs: shapes.stack_like(shape_list, attrs, new_axis=True), _dtype_tensors),
}


def _variant_grad_fn(op: OpSpec, operands: Sequence[Operand], attrs: dict) -> str | None:
    """grad_fn names that depend on the call (the catalogue leaves them empty)."""
    scalar_first = not isinstance(operands[0], Meta)
    scalar_second = len(operands) > 1 and not isinstance(operands[1], Meta)
    if op.name == "sub":
        return "RsubBackward1" if scalar_first else "SubBackward0"
    if op.name == "div":
        if attrs.get("rounding_mode") is not None:
            return "DivBackward2"
        return "MulBackward0" if scalar_first else "DivBackward0"
    if op.name == "pow":
        return "PowBackward2" if scalar_first else "PowBackward0" if scalar_second else "PowBackward1"
    if op.name in ("sum", "mean", "prod"):
        return f"{op.name.capitalize()}Backward{0 if attrs.get('dim') is None else 1}"
    if op.name == "getitem":
        return getitem_grad_fn(attrs["index"])
    if op.name == "matmul":
        a, b = (len(m.shape) for m in operands)
        return "DotBackward0" if a == b == 1 else "MmBackward0" if a == b == 2 else None
    return None


def infer(op: OpSpec, operands: Sequence[Operand], attrs: dict, grad_enabled: bool) -> list[Meta]:
    """The metadata of each output of a (non in-place) op; unknown fields stay None."""
    unknown = [Meta() for _ in range(op.outputs)]
    tensors = [m for m in operands if isinstance(m, Meta)]
    if any(m.shape is None or m.dtype is None for m in tensors):
        return unknown
    rule = RULES.get(op.name)
    if rule is None or op.outputs != 1:
        return unknown
    shape_rule, dtype_rule = rule
    try:
        shape = shape_rule([m.shape for m in tensors], attrs)  # type: ignore[misc]
        dtype = dtype_rule(operands, attrs)
    except (LookupError, TypeError):
        return unknown  # an attribute spelled differently than this table expects
    if any(m.requires_grad is None for m in tensors):
        return [Meta(shape, dtype)]
    requires_grad = (grad_enabled and op.differentiable and dtype.is_floating_point
                     and any(m.requires_grad for m in tensors))
    if not requires_grad:
        return [Meta(shape, dtype, False, True, "")]
    grad_fn = op.grad_fn or _variant_grad_fn(op, operands, attrs)
    return [Meta(shape, dtype, True, False, grad_fn)]


def infer_inplace(op: OpSpec, target: Meta, operands: Sequence[Operand], attrs: dict, grad_enabled: bool,
                  target_is_view_of_leaf: bool) -> Meta:
    """The target's metadata after an in-place op (setitem, zero_, requires_grad_)."""
    if op.name == "requires_grad_":
        flag = bool(attrs.get("requires_grad", True))
        if target.is_leaf is False or (flag and target.dtype is not None and not target.dtype.is_floating_point):
            raise WillFail
        return replace(target, requires_grad=flag if target.is_leaf else target.requires_grad)
    leaf_needing_grad = target.requires_grad and (target.is_leaf or target_is_view_of_leaf)
    if grad_enabled and leaf_needing_grad:
        raise WillFail  # a leaf that requires grad (or a view of one) used in an in-place op
    if op.name == "setitem" and len(operands) > 1:
        value = operands[1]
        value_requires_grad = isinstance(value, Meta) and value.requires_grad
        if isinstance(value, Meta) and value.requires_grad is None:
            return replace(target, requires_grad=None, is_leaf=None, grad_fn=None)
        if grad_enabled and (target.requires_grad or value_requires_grad):
            if target.dtype is not None and not target.dtype.is_floating_point:
                return target
            return replace(target, requires_grad=True, is_leaf=False, grad_fn=op.grad_fn or None)
        return target
    if grad_enabled and target.requires_grad:
        return replace(target, grad_fn=None)  # e.g. ZeroBackward0: the next flush tells
    return target


def infer_derived_inplace(base: OpSpec, target: Meta, operands: Sequence[Operand], attrs: dict,
                          grad_enabled: bool) -> Meta:
    """The target's metadata after `base`'s derived in-place op (add_, exp_ ...): WillFail when torch
    refuses the call (a result of another shape, or of a dtype the target cannot hold)."""
    result = infer(base, [target, *operands[1:]], attrs, grad_enabled)[0]
    if result.shape is not None and target.shape is not None and tuple(result.shape) != tuple(target.shape):
        raise WillFail
    if result.dtype is not None and target.dtype is not None and result.dtype.category > target.dtype.category:
        raise WillFail
    if result.requires_grad is None:
        return replace(target, requires_grad=None, is_leaf=None, grad_fn=None)
    if result.requires_grad:
        return replace(target, requires_grad=True, is_leaf=False, grad_fn=result.grad_fn)
    if grad_enabled and target.requires_grad:
        return replace(target, grad_fn=None)  # overwritten without a gradient: the next flush tells
    return target
