"""Rules of clamp / clip, with torch's two forms: number bounds (ClampBackward1) and tensor bounds
(ClampBackward0).

Number bounds are attributes; tensor bounds are operands after x (attribute `tensor_bounds` says which:
"min", "max" or "both"), broadcast with x like any elementwise op.
"""

from __future__ import annotations

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError, InvalidArgumentRuntimeError

from ..checks import check_tensors, is_tensor
from ..shapes import broadcast
from ..spec import AttrSpec, OpRules, define

TENSOR_BOUNDS = ("", "min", "max", "both")


def bounds(values: list, attrs: dict) -> tuple:
    """(x, low, high) from the operands (shapes, tensors or arrays) and attributes; an absent bound is None.
    Raises torch's errors for operands that do not fit `tensor_bounds`."""
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


def _parse(args, kwargs):
    """clamp(x, min=None, max=None): numbers become attributes, tensors operands (not a mix, as in torch)."""
    x, *rest = args
    if len(rest) > 2:
        raise ArgumentError("clamp() takes at most 3 arguments (x, min, max)")
    given_bounds = dict(zip(("min", "max"), rest))
    for name in ("min", "max"):
        if name in kwargs:
            if name in given_bounds:
                raise ArgumentError(f"clamp() got multiple values for argument '{name}'")
            given_bounds[name] = kwargs.pop(name)
    given = {name: value for name, value in given_bounds.items() if value is not None}
    tensors = [name for name, value in given.items() if is_tensor(value)]
    if not tensors:
        return [x], {**kwargs, **given}
    if len(tensors) != len(given):
        raise ArgumentError("clamp(): min and max must both be Tensors or both be numbers")
    which = "both" if len(tensors) == 2 else tensors[0]
    return [x, *(given[name] for name in ("min", "max") if name in given)], {**kwargs, "tensor_bounds": which}


_PROMOTE_WITH_BOUNDS = promotion.with_scalar_attrs("min", "max")


def _dtype_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    check_tensors("clamp", operand_dtypes, operands)
    _, low, high = bounds(operands, attrs)
    if low is None and high is None:
        raise InvalidArgumentRuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if attrs["tensor_bounds"]:
        return promotion.promote(operand_dtypes, operands, attrs)
    return _PROMOTE_WITH_BOUNDS(operand_dtypes, operands, attrs)


define(OpRules(
    name="clamp", grad_fn=lambda call: "ClampBackward0" if call.attrs["tensor_bounds"] else "ClampBackward1",
    dtype_rule=_dtype_rule, min_inputs=1, max_inputs=3,
    attrs=(AttrSpec("min", "real|none"), AttrSpec("max", "real|none"), AttrSpec("tensor_bounds", "text", default="")),
    out_shape=broadcast, parse=_parse, methods=("clamp", "clip"), functions=("clamp", "clip"),
    summary="clamp(x, min, max) with number or tensor bounds; the gradient flows to x where min <= x <= max",
))
