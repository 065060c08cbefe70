"""Rules of more binary elementwise ops: atan2, copysign, hypot, lerp, fmod, remainder (`%`),
floor_divide (`//`), logaddexp, xlogy, clamp_min / clamp_max; and the float tests isnan / isinf /
isfinite / isclose and nan_to_num.

A Python number may stand for either operand where torch allows it: it is an operand like a tensor,
and torch's grad_fn variants (FmodBackward0 for a number divisor, ...) are chosen from which were numbers.
"""

from __future__ import annotations

from gradwire.rules import dtypes, promotion
from gradwire.rules.errors import InvalidArgumentRuntimeError

from ..checks import tensors_only
from ..shapes import broadcast, same
from ..spec import AttrSpec, OpRules, define
from .elementwise import binary


def by_scalar_other(tensor_name: str, scalar_name: str):
    """grad_fn name: torch's variant for a number second operand, or for two tensors."""
    return lambda call: scalar_name if call.scalar_mask[1] else tensor_name


# ---------------------------------------------------------------- angles and magnitudes
binary("atan2", "Atan2Backward0", rule=tensors_only("atan2", promotion.promote_to_float, positions=None),
       aliases=("arctan2",), summary="atan2(a, b): the angle of the point (b, a)")
binary("hypot", "HypotBackward0", rule=tensors_only("hypot", promotion.promote, positions=None),
       summary="sqrt(a² + b²)")
binary("copysign", by_scalar_other("CopysignBackward0", "CopysignBackward1"),
       rule=tensors_only("copysign", promotion.promote_to_float), summary="|a| with the sign of b")
binary("lerp", lambda call: "LerpBackward0" if call.scalar_mask[2] else "LerpBackward1",
       rule=tensors_only("lerp", promotion.promote, positions=(0, 1)), arity=3,
       signature=("input", "end", "weight"),  # weight (a number or a tensor) is an operand, also by keyword
       summary="start + weight * (end - start); weight a number or a tensor")

# ---------------------------------------------------------------- division with rounding
binary("fmod", by_scalar_other("FmodBackward1", "FmodBackward0"), rule=tensors_only("fmod", promotion.promote),
       summary="a - trunc(a / b) * b: the remainder with the dividend's sign (C's fmod)")


def _remainder_name(call) -> str:
    if call.scalar_mask[0]:
        return "torch::autograd::NotImplemented"
    return "RemainderBackward0" if call.scalar_mask[1] else "RemainderBackward1"


binary("remainder", _remainder_name, operators=("__mod__",), reflected=("__rmod__",),
       summary="a - floor(a / b) * b: Python's %, with the divisor's sign")
binary("floor_divide", "torch::autograd::NotImplemented", operators=("__floordiv__",), reflected=("__rfloordiv__",),
       summary="floor(a / b) (//); torch has no derivative for it")

# ---------------------------------------------------------------- logaddexp, xlogy
binary("logaddexp", "LogaddexpBackward0", rule=tensors_only("logaddexp", promotion.promote_to_float, positions=None),
       summary="log(exp(a) + exp(b)) without overflow")
binary("xlogy", lambda call: "XlogyBackward1" if call.scalar_mask[0] else "XlogyBackward2" if call.scalar_mask[1]
       else "XlogyBackward0", rule=promotion.promote_to_float, special=("xlogy",),
       summary="x * log(y), and 0 where x == 0 (unless y is nan)")

# ---------------------------------------------------------------- clamp_min / clamp_max
for _name, _function in (("clamp_min", "maximum"), ("clamp_max", "minimum")):
    _title = _name.title().replace("_", "")
    binary(_name, by_scalar_other(f"{_title}Backward1", f"{_title}Backward0"),
           rule=tensors_only(_name, promotion.promote),
           summary=f"{_function}(x, bound) with a number or tensor bound")


# ---------------------------------------------------------------- float tests and nan_to_num
def float_test(name: str, summary: str) -> None:
    define(OpRules(
        name=name, dtype_rule=tensors_only(name, lambda d, o, a: (None, dtypes.bool_)), differentiable=False,
        out_shape=same, methods=(name,), functions=(name,), summary=summary,
    ))


float_test("isnan", "x != x; bool result")
float_test("isinf", "x is +inf or -inf; bool result")
float_test("isfinite", "x is neither inf nor nan; bool result")
float_test("isposinf", "x is +inf; bool result")
float_test("isneginf", "x is -inf; bool result")


def _isclose_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[0] is not operand_dtypes[1]:
        raise InvalidArgumentRuntimeError(
            f"{operand_dtypes[0].name} did not match {operand_dtypes[1].name}: isclose needs tensors of one dtype")
    return None, dtypes.bool_


define(OpRules(
    name="isclose", dtype_rule=tensors_only("isclose", _isclose_rule, positions=None),
    differentiable=False, min_inputs=2, max_inputs=2, out_shape=broadcast,
    attrs=(AttrSpec("rtol", "real", default=1e-05, description="relative tolerance"),
           AttrSpec("atol", "real", default=1e-08, description="absolute tolerance"),
           AttrSpec("equal_nan", "boolean", default=False, description="count two nans as close")),
    methods=("isclose",), functions=("isclose",), summary="|a - b| <= atol + rtol * |b|; bool result",
))
define(OpRules(
    name="nan_to_num", grad_fn="NanToNumBackward0", dtype_rule=tensors_only("nan_to_num", promotion.same),
    out_shape=same,
    attrs=(AttrSpec("nan", "real", default=0.0, description="the value replacing nan"),
           AttrSpec("posinf", "real|none", description="the value replacing +inf (None: the largest finite value)"),
           AttrSpec("neginf", "real|none", description="the value replacing -inf (None: the smallest finite value)")),
    methods=("nan_to_num",), functions=("nan_to_num",),
    summary="nan, +inf and -inf replaced (by 0 and the dtype's largest and smallest values by default)",
))
