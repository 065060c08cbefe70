"""Bitwise and logical ops: bitwise_and/or/xor/not and shifts on integer and bool tensors (operators
`& | ^ ~ << >>` and their reflected forms), logical_or/xor/not. None has a gradient.

`&` is bitwise, as in torch (`int32 [1, -8, 6] & 3` is `[1, 0, 2]`); on bool tensors it is the logical and.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import dtypes, promotion
from gradwire.rules.errors import NotImplementedForDTypeError
from ..registry import OpDef, register
from .checks import tensors_only
from .elementwise import _broadcast, _plain

# torch's names for the dtypes in its "not implemented for 'Float'" messages.
TORCH_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double"}


def integral_only(kernel: str, rule=promotion.promote):
    """A dtype rule refusing floating operands, with torch's NotImplementedError."""

    def checked(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        compute, result = rule(operand_dtypes, operands, attrs)
        if result.is_floating_point:
            raise NotImplementedForDTypeError(
                f'"{kernel}" not implemented for \'{TORCH_TYPE_NAMES[result.name]}\'; it takes integer or bool tensors')
        return compute, result

    return checked


def _same_kind(x, n):
    """Both operands as arrays of one integer dtype (a Python number takes the tensor's dtype)."""
    x_array, n_array = np.asarray(x), np.asarray(n)
    if not isinstance(x, np.ndarray):
        x_array = x_array.astype(n_array.dtype)
    if not isinstance(n, np.ndarray):
        n_array = n_array.astype(x_array.dtype)
    return x_array, n_array


def _shift(left: bool):
    """torch's shifts: a count below 0 or past the bit width gives 0 (<<) or the sign fill (>>)."""

    def forward(x, n):
        x, n = _same_kind(x, n)
        bits = x.dtype.itemsize * 8
        outside = (n < 0) | (n >= bits)
        safe = np.where(outside, 0, n).astype(x.dtype)
        if left:
            return np.where(outside, 0, np.left_shift(x, safe)).astype(x.dtype)
        return np.where(outside, np.right_shift(x, bits - 1), np.right_shift(x, safe)).astype(x.dtype)

    return forward


def bitwise(name: str, function, kernel: str, operator: str, reflected: str, summary: str) -> None:
    register(OpDef(
        name=name, forward=_plain(function), dtype_rule=integral_only(kernel), differentiable=False,
        min_inputs=2, max_inputs=2, out_shape=_broadcast, methods=(name,), functions=(name,),
        operators=(operator,), reflected_operators=(reflected,), summary=summary,
    ))


bitwise("bitwise_and", np.bitwise_and, "bitwise_and_cpu", "__and__", "__rand__", "a & b: bitwise and (logical on bools)")
bitwise("bitwise_or", np.bitwise_or, "bitwise_or_cpu", "__or__", "__ror__", "a | b: bitwise or (logical on bools)")
bitwise("bitwise_xor", np.bitwise_xor, "bitwise_xor_cpu", "__xor__", "__rxor__", "a ^ b: bitwise xor (logical on bools)")
bitwise("bitwise_left_shift", _shift(left=True), "lshift_cpu", "__lshift__", "__rlshift__",
        "a << b on integers; counts outside [0, bits) give 0")
bitwise("bitwise_right_shift", _shift(left=False), "rshift_cpu", "__rshift__", "__rrshift__",
        "a >> b on integers (arithmetic); counts outside [0, bits) give the sign fill")


def _invert_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[0].is_floating_point:
        from gradwire.rules.errors import DTypeError

        raise DTypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return None, operand_dtypes[0]


register(OpDef(
    name="bitwise_not", forward=_plain(np.invert), dtype_rule=tensors_only("bitwise_not", _invert_rule),
    differentiable=False, methods=("bitwise_not",), functions=("bitwise_not",), operators=("__invert__",),
    summary="~x: bitwise not on integers, logical not on bools",
))


def logical(name: str, function, summary: str, arity: int = 2) -> None:
    register(OpDef(
        name=name, forward=_plain(function), dtype_rule=tensors_only(name, promotion.compare, positions=None),
        differentiable=False, min_inputs=arity, max_inputs=arity, out_shape=_broadcast if arity == 2 else None,
        methods=(name,), functions=(name,), summary=summary,
    ))


logical("logical_or", np.logical_or, "elementwise logical or (nonzero is true); bool result")
logical("logical_xor", np.logical_xor, "elementwise logical xor (nonzero is true); bool result")
register(OpDef(
    name="logical_not", forward=_plain(np.logical_not),
    dtype_rule=tensors_only("logical_not", lambda d, o, a: (None, dtypes.bool_)), differentiable=False,
    methods=("logical_not",), functions=("logical_not",), summary="elementwise logical not; bool result",
))
