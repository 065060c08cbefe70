"""Rules of the bitwise and logical ops: bitwise_and/or/xor/not and shifts on integer and bool tensors
(operators `& | ^ ~ << >>` and their reflected forms), logical_or/xor/not. None has a gradient.

`&` is bitwise, as in torch (`int32 [1, -8, 6] & 3` is `[1, 0, 2]`); on bool tensors it is the logical and.
"""

from __future__ import annotations

from .. import dtypes, promotion
from ..checks import tensors_only
from ..errors import DTypeError, NotImplementedForDTypeError
from ..shapes import broadcast, same
from ..spec import OpRules, define

def integral_only(kernel: str, rule=promotion.promote):
    """A dtype rule refusing floating operands, with torch's NotImplementedError."""

    def checked(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        compute, result = rule(operand_dtypes, operands, attrs)
        if result.is_floating_point:
            raise NotImplementedForDTypeError(
                f'"{kernel}" not implemented for \'{dtypes.TORCH_NAMES[result]}\'; it takes integer or bool tensors')
        return compute, result

    return checked


def bitwise(name: str, kernel: str, operator: str, reflected: str, summary: str) -> None:
    define(OpRules(
        name=name, dtype_rule=integral_only(kernel), differentiable=False, min_inputs=2, max_inputs=2,
        out_shape=broadcast, methods=(name,), functions=(name,), operators=(operator,),
        reflected_operators=(reflected,), summary=summary,
    ))


bitwise("bitwise_and", "bitwise_and_cpu", "__and__", "__rand__", "a & b: bitwise and (logical on bools)")
bitwise("bitwise_or", "bitwise_or_cpu", "__or__", "__ror__", "a | b: bitwise or (logical on bools)")
bitwise("bitwise_xor", "bitwise_xor_cpu", "__xor__", "__rxor__", "a ^ b: bitwise xor (logical on bools)")
bitwise("bitwise_left_shift", "lshift_cpu", "__lshift__", "__rlshift__",
        "a << b on integers; counts outside [0, bits) give 0")
bitwise("bitwise_right_shift", "rshift_cpu", "__rshift__", "__rrshift__",
        "a >> b on integers (arithmetic); counts outside [0, bits) give the sign fill")


def _invert_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[0].is_floating_point:
        raise DTypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return None, operand_dtypes[0]


define(OpRules(
    name="bitwise_not", dtype_rule=tensors_only("bitwise_not", _invert_rule), differentiable=False, out_shape=same,
    methods=("bitwise_not",), functions=("bitwise_not",), operators=("__invert__",),
    summary="~x: bitwise not on integers, logical not on bools",
))


def logical(name: str, summary: str) -> None:
    define(OpRules(
        name=name, dtype_rule=tensors_only(name, promotion.compare, positions=None), differentiable=False,
        min_inputs=2, max_inputs=2, out_shape=broadcast, methods=(name,), functions=(name,), summary=summary,
    ))


logical("logical_or", "elementwise logical or (nonzero is true); bool result")
logical("logical_xor", "elementwise logical xor (nonzero is true); bool result")
define(OpRules(
    name="logical_not", dtype_rule=tensors_only("logical_not", lambda d, o, a: (None, dtypes.bool_)),
    differentiable=False, out_shape=same, methods=("logical_not",), functions=("logical_not",),
    summary="elementwise logical not; bool result",
))
