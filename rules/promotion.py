"""dtype rules of the ops: each returns (compute dtype, result dtype) following torch.

The compute dtype is what the inputs are cast to before numpy runs (None: leave them as they are).
"""

from __future__ import annotations

from typing import Any

from gradwire.rules import dtypes
from gradwire.rules.errors import DTypeRuntimeError


def result_type(operand_dtypes: list, operands: list, extra_scalars: tuple = ()) -> dtypes.DType:
    fast = _single_dtype(operand_dtypes, operands, extra_scalars)
    if fast is not None:
        return fast
    dimensioned, zero_dim, scalars = [], [], list(extra_scalars)
    for dtype, operand in zip(operand_dtypes, operands):
        if dtype is None:
            scalars.append(operand)
        elif len(operand.shape):
            dimensioned.append(dtype)
        else:
            zero_dim.append(dtype)
    return dtypes.result_type(dimensioned, zero_dim, scalars)


def _single_dtype(operand_dtypes: list, operands: list, extra_scalars: tuple) -> dtypes.DType | None:
    """The common case: tensors of one dtype with scalars of no higher category; None otherwise."""
    found = None
    for dtype in operand_dtypes:
        if dtype is not None:
            if found is None:
                found = dtype
            elif dtype is not found:
                return None
    if found is None:
        return None
    if found.category < 2:  # (a float tensor outranks every Python scalar's category)
        for dtype, operand in zip(operand_dtypes, operands):
            if dtype is None and dtypes.python_scalar_dtype(operand).category > found.category:
                return None
    if found.category < 2:
        for scalar in extra_scalars:
            if dtypes.python_scalar_dtype(scalar).category > found.category:
                return None
    return found


def promote(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    dtype = _single_dtype(operand_dtypes, operands, ()) or result_type(operand_dtypes, operands)
    return dtype, dtype


def promote_to_float(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """Like promote, but an integral result becomes the default float (true division)."""
    dtype = result_type(operand_dtypes, operands)
    if not dtype.is_floating_point:
        dtype = dtypes.DEFAULT_FLOAT
    return dtype, dtype


def compare(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    return result_type(operand_dtypes, operands), dtypes.bool_


def unary_float(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """exp, log, sin ...: integral inputs are computed in the default float dtype."""
    dtype = operand_dtypes[0]
    if not dtype.is_floating_point:
        dtype = dtypes.DEFAULT_FLOAT
    return dtype, dtype


def same(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    return None, operand_dtypes[0]


def promote_tensors(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """cat / stack: promote over every tensor (all dimensioned for torch's purposes)."""
    dtype = dtypes.promote(*[d for d in operand_dtypes if d is not None])
    return dtype, dtype


def sum_like(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """sum and prod: integral and bool inputs accumulate in int64."""
    dtype = operand_dtypes[0]
    if not dtype.is_floating_point:
        return dtypes.int64, dtypes.int64
    return None, dtype


def floating_only(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """mean, var, softmax: torch refuses integral inputs instead of promoting them."""
    dtype = operand_dtypes[0]
    if not dtype.is_floating_point:
        raise DTypeRuntimeError(
            "could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {dtype.name}; convert it first with .float() or .double()"
        )
    return None, dtype


def cast(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    return None, attrs["dtype"]  # the forward casts (and copies)


def with_scalar_attrs(*names: str) -> Any:
    """promote, counting the named attributes (clamp's min and max) as Python scalars."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        extra = tuple(attrs[n] for n in names if attrs.get(n) is not None)
        dtype = result_type(operand_dtypes, operands, extra)
        return dtype, dtype

    return rule


def where(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """where(cond, a, b): the condition must be bool; the result promotes a and b."""
    if operand_dtypes[0] is not dtypes.bool_:
        raise DTypeRuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{operand_dtypes[0].name if operand_dtypes[0] else 'scalar'}"
        )
    # numpy's where is left to promote; the dispatcher casts the result (the condition must stay bool).
    return None, result_type(operand_dtypes[1:], operands[1:])
