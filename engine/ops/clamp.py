"""clamp / clip with torch's two forms: number bounds (ClampBackward1) and tensor bounds (ClampBackward0).

Number bounds are attributes; tensor bounds are operands after x (attribute `tensor_bounds` says which:
"min", "max" or "both"), broadcast with x like any elementwise op. The gradient reaches x where
min <= x <= max, the min bound where x < min < max and the max bound where x > max or min > max (the
result is max there), as in torch.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError, InvalidArgumentRuntimeError
from ..registry import AttrSpec, OpDef, register
from ..tensor import Tensor
from .checks import check_broadcast, check_tensors

TENSOR_BOUNDS = ("", "min", "max", "both")


def _bounds(values: list, attrs: dict) -> tuple:
    """(x, low, high) from the operands/arrays and attributes; an absent bound is None."""
    which = attrs["tensor_bounds"]
    if which not in TENSOR_BOUNDS:
        raise ArgumentError(f"clamp(): tensor_bounds must be one of {TENSOR_BOUNDS[1:]}, not {which!r}")
    if not which:
        if len(values) != 1:
            raise ArgumentError(f"clamp(): {len(values)} operands need tensor_bounds 'min', 'max' or 'both'")
        return values[0], attrs["min"], attrs["max"]
    expected = 3 if which == "both" else 2
    if len(values) != expected:
        raise ArgumentError(f"clamp(): tensor_bounds={which!r} needs {expected} operands, got {len(values)}")
    if which == "both":
        return values[0], values[1], values[2]
    return (values[0], values[1], None) if which == "min" else (values[0], None, values[1])


def _forward(arrays: list, attrs: dict):
    x, low, high = _bounds(arrays, attrs)
    if low is None and high is None:
        raise InvalidArgumentRuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if attrs["tensor_bounds"]:
        check_broadcast([np.shape(a) for a in arrays])
    result = x if low is None else np.maximum(x, low)  # torch: min(max(x, low), high), also when low > high
    return result if high is None else np.minimum(result, high)


def _grad_x(F, g, c):
    x, low, high = _bounds(c.inputs, c.attrs)
    inside = (x >= low) if low is not None else None
    if high is not None:
        inside = (x <= high) if inside is None else F.logical_and(inside, x <= high)
    return g * inside


def _grad_low(F, x, low, high):
    below = x < low
    # Crossed or equal bounds: the result is `high`, so the min bound gets nothing (torch's rule).
    return below if high is None else F.logical_and(below, low < high)


def _grad_high(F, x, low, high):
    above = x > high
    return above if low is None else above + (low > high)  # bool + bool: or


def _grad_first_bound(F, g, c):
    x, low, high = _bounds(c.inputs, c.attrs)
    return g * (_grad_low(F, x, low, high) if low is not None else _grad_high(F, x, low, high))


def _grad_max_of_both(F, g, c):
    x, low, high = _bounds(c.inputs, c.attrs)
    return g * _grad_high(F, x, low, high)


def _parse(args, kwargs):
    """clamp(x, min=None, max=None): numbers become attributes, tensors operands (not a mix, as in torch)."""
    x, *rest = args
    if len(rest) > 2:
        raise ArgumentError("clamp() takes at most 3 arguments (x, min, max)")
    bounds = dict(zip(("min", "max"), rest))
    for name in ("min", "max"):
        if name in kwargs:
            if name in bounds:
                raise ArgumentError(f"clamp() got multiple values for argument '{name}'")
            bounds[name] = kwargs.pop(name)
    given = {name: value for name, value in bounds.items() if value is not None}
    tensors = [name for name, value in given.items() if isinstance(value, Tensor)]
    if not tensors:
        return [x], {**kwargs, **given}
    if len(tensors) != len(given):
        raise ArgumentError("clamp(): min and max must both be Tensors or both be numbers")
    which = "both" if len(tensors) == 2 else tensors[0]
    return [x, *(given[name] for name in ("min", "max") if name in given)], {**kwargs, "tensor_bounds": which}


_PROMOTE_WITH_BOUNDS = promotion.with_scalar_attrs("min", "max")


def _dtype_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    check_tensors("clamp", operand_dtypes, operands)
    if attrs["tensor_bounds"]:
        return promotion.promote(operand_dtypes, operands, attrs)
    return _PROMOTE_WITH_BOUNDS(operand_dtypes, operands, attrs)


def _out_shape(shapes: list, attrs: dict) -> tuple:
    check_broadcast(shapes)
    return np.broadcast_shapes(*shapes)


register(OpDef(
    name="clamp", forward=_forward, vjps=(_grad_x, _grad_first_bound, _grad_max_of_both),
    grad_fn=lambda node: "ClampBackward0" if node.attrs["tensor_bounds"] else "ClampBackward1",
    dtype_rule=_dtype_rule, saves_all_inputs=True, min_inputs=1, max_inputs=3,
    attrs=(AttrSpec("min", "real|none"), AttrSpec("max", "real|none"), AttrSpec("tensor_bounds", "text", default="")),
    out_shape=_out_shape, parse=_parse, methods=("clamp", "clip"), functions=("clamp", "clip"),
    summary="clamp(x, min, max) with number or tensor bounds; the gradient flows to x where min <= x <= max",
))
