"""More binary elementwise ops: atan2, copysign, hypot, lerp, fmod, remainder (`%`), floor_divide (`//`),
logaddexp, xlogy, clamp_min / clamp_max; and the float tests isnan / isinf / isfinite / isclose and
nan_to_num.

A Python number may stand for either operand where torch allows it: it is an operand like a tensor,
and torch's grad_fn variants (FmodBackward0 for a number divisor, ...) are chosen from which were numbers.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import dtypes, promotion
from gradwire.rules.errors import AutogradError, InvalidArgumentRuntimeError
from ..registry import AttrSpec, OpDef, register
from .checks import tensors_only
from .elementwise import _broadcast, _quiet


def binary_op(name: str, function, vjps, grad_fn, *, rule=promotion.promote, aliases: tuple[str, ...] = (),
              operators=(), reflected=(), arity: int = 2, summary: str = "", special: tuple[str, ...] = (),
              signature: tuple[str, ...] = ()) -> OpDef:
    return register(OpDef(
        signature=signature,
        name=name, forward=_quiet(function), vjps=vjps, grad_fn=grad_fn, dtype_rule=rule, saves_all_inputs=True,
        saves_output=True, min_inputs=arity, max_inputs=arity, out_shape=_broadcast,
        methods=(name, *aliases), functions=(name, *aliases, *(f"special.{s}" for s in special)),
        operators=operators, reflected_operators=reflected, summary=summary,
    ))


def _by_scalar_other(tensor_name: str, scalar_name: str):
    """grad_fn name: torch's variant for a number second operand, or for two tensors."""
    return lambda node: scalar_name if node.scalar_mask[1] else tensor_name


def _not_implemented(op_name: str):
    """The VJP of an op torch does not differentiate: an error at backward, as torch raises."""

    def vjp(F, g, c):
        raise AutogradError(f"the derivative for '{op_name}' is not implemented.")

    return vjp


# ---------------------------------------------------------------- angles and magnitudes
def _atan2_scale(c):
    a, b = c.inputs
    return a * a + b * b


binary_op("atan2", np.arctan2,
          (lambda F, g, c: g * c.inputs[1] / _atan2_scale(c), lambda F, g, c: -g * c.inputs[0] / _atan2_scale(c)),
          "Atan2Backward0", rule=tensors_only("atan2", promotion.promote_to_float, positions=None),
          aliases=("arctan2",), summary="atan2(a, b): the angle of the point (b, a)")
def _hypot_vjp(position: int):
    # d/da sqrt(a² + b²) = a / result: nan at a == b == 0, as in torch.
    return lambda F, g, c: g * c.inputs[position] / c.output


binary_op("hypot", np.hypot, (_hypot_vjp(0), _hypot_vjp(1)),
          "HypotBackward0", rule=tensors_only("hypot", promotion.promote, positions=None), summary="sqrt(a² + b²)")


def _copysign(a, b):
    return np.copysign(a, b)


binary_op("copysign", _copysign,
          # d/da |a|·s(b) = sign(a)·s(b) = sign(a)·sign(result): 0 at a == 0, as torch.
          (lambda F, g, c: g * F.sign(c.inputs[0]) * F.sign(c.output), lambda F, g, c: g * 0),
          _by_scalar_other("CopysignBackward0", "CopysignBackward1"),
          rule=tensors_only("copysign", promotion.promote_to_float), summary="|a| with the sign of b")


# ---------------------------------------------------------------- lerp
def _lerp(start, end, weight):
    return start + weight * (end - start)


binary_op("lerp", _lerp,
          (lambda F, g, c: g * (1 - c.inputs[2]), lambda F, g, c: g * c.inputs[2],
           lambda F, g, c: g * (c.inputs[1] - c.inputs[0])),
          lambda node: "LerpBackward0" if node.scalar_mask[2] else "LerpBackward1",
          rule=tensors_only("lerp", promotion.promote, positions=(0, 1)), arity=3,
          signature=("input", "end", "weight"),  # weight (a number or a tensor) is an operand, also by keyword
          summary="start + weight * (end - start); weight a number or a tensor")


# ---------------------------------------------------------------- division with rounding
def _check_integer_divisor(a, b):
    if all(np.asarray(x).dtype.kind in "iub" for x in (a, b)) and np.any(np.asarray(b) == 0):
        raise InvalidArgumentRuntimeError("ZeroDivisionError: integer division by zero")


def _fmod(a, b):
    _check_integer_divisor(a, b)
    return np.fmod(a, b)


def _remainder(a, b):
    _check_integer_divisor(a, b)
    return np.remainder(a, b)


def _floor_divide(a, b):
    _check_integer_divisor(a, b)
    return np.floor_divide(a, b)


binary_op("fmod", _fmod,
          (lambda F, g, c: g, lambda F, g, c: -g * F.trunc(c.inputs[0] / c.inputs[1])),
          _by_scalar_other("FmodBackward1", "FmodBackward0"), rule=tensors_only("fmod", promotion.promote),
          summary="a - trunc(a / b) * b: the remainder with the dividend's sign (C's fmod)")


def _remainder_name(node) -> str:
    if node.scalar_mask[0]:
        return "torch::autograd::NotImplemented"
    return "RemainderBackward0" if node.scalar_mask[1] else "RemainderBackward1"


def _remainder_vjp_a(F, g, c):
    if not hasattr(c.inputs[0], "shape"):
        return None
    return g


def _remainder_vjp_b(F, g, c):
    a, b = c.inputs
    if not hasattr(a, "shape"):  # number % tensor: torch has no derivative for it
        return _not_implemented("remainder")(F, g, c)
    return -g * F.floor(a / b)


binary_op("remainder", _remainder, (_remainder_vjp_a, _remainder_vjp_b), _remainder_name,
          operators=("__mod__",), reflected=("__rmod__",),
          summary="a - floor(a / b) * b: Python's %, with the divisor's sign")
binary_op("floor_divide", _floor_divide, (_not_implemented("floor_divide"), _not_implemented("floor_divide")),
          "torch::autograd::NotImplemented", operators=("__floordiv__",), reflected=("__rfloordiv__",),
          summary="floor(a / b) (//); torch has no derivative for it")


# ---------------------------------------------------------------- logaddexp, xlogy
binary_op("logaddexp", np.logaddexp,
          (lambda F, g, c: g * F.exp(c.inputs[0] - c.output), lambda F, g, c: g * F.exp(c.inputs[1] - c.output)),
          "LogaddexpBackward0", rule=tensors_only("logaddexp", promotion.promote_to_float, positions=None),
          summary="log(exp(a) + exp(b)) without overflow")


def _xlogy(x, y):
    x, y = np.asarray(x), np.asarray(y)
    return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y))


def _xlogy_vjp_x(F, g, c):
    x, y = c.inputs
    # torch: xlogy(grad, y), and 0 where x == 0 and y <= 0.
    return F.where(F.logical_and(x == 0, y <= 0), 0.0, F.xlogy(g, y))


binary_op("xlogy", _xlogy, (_xlogy_vjp_x, lambda F, g, c: g * c.inputs[0] / c.inputs[1]),
          lambda node: "XlogyBackward1" if node.scalar_mask[0] else "XlogyBackward2" if node.scalar_mask[1]
          else "XlogyBackward0", rule=promotion.promote_to_float, special=("xlogy",),
          summary="x * log(y), and 0 where x == 0 (unless y is nan)")


# ---------------------------------------------------------------- clamp_min / clamp_max
def _clamp_one(name: str, function, kept) -> None:
    register(OpDef(
        name=name, forward=_quiet(function),
        # Selected, not multiplied by a mask (as torch): a nan gradient does not leak where it is not used.
        vjps=(lambda F, g, c: F.where(kept(c.inputs[0], c.inputs[1]), g, 0.0),
              lambda F, g, c: F.where(kept(c.inputs[0], c.inputs[1]), 0.0, g)),
        grad_fn=_by_scalar_other(f"{name.title().replace('_', '')}Backward1", f"{name.title().replace('_', '')}Backward0"),
        dtype_rule=tensors_only(name, promotion.promote), saves_all_inputs=True, min_inputs=2, max_inputs=2,
        out_shape=_broadcast, methods=(name,), functions=(name,),
        summary=f"{function.__name__}(x, bound) with a number or tensor bound",
    ))


_clamp_one("clamp_min", np.maximum, lambda x, bound: x >= bound)
_clamp_one("clamp_max", np.minimum, lambda x, bound: x <= bound)


# ---------------------------------------------------------------- float tests and nan_to_num
def float_test(name: str, function, summary: str) -> None:
    register(OpDef(
        name=name, forward=lambda arrays, attrs: function(arrays[0]),
        dtype_rule=tensors_only(name, lambda d, o, a: (None, dtypes.bool_)), differentiable=False,
        methods=(name,), functions=(name,), summary=summary,
    ))


float_test("isnan", np.isnan, "x != x; bool result")
float_test("isinf", np.isinf, "x is +inf or -inf; bool result")
float_test("isfinite", np.isfinite, "x is neither inf nor nan; bool result")
float_test("isposinf", np.isposinf, "x is +inf; bool result")
float_test("isneginf", np.isneginf, "x is -inf; bool result")


def _isclose(arrays: list, attrs: dict):
    a, b = arrays
    return np.isclose(a, b, rtol=attrs["rtol"], atol=attrs["atol"], equal_nan=attrs["equal_nan"])


def _isclose_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[0] is not operand_dtypes[1]:
        raise InvalidArgumentRuntimeError(
            f"{operand_dtypes[0].name} did not match {operand_dtypes[1].name}: isclose needs tensors of one dtype")
    return None, dtypes.bool_


register(OpDef(
    name="isclose", forward=_isclose, dtype_rule=tensors_only("isclose", _isclose_rule, positions=None),
    differentiable=False, min_inputs=2, max_inputs=2, out_shape=_broadcast,
    attrs=(AttrSpec("rtol", "real", default=1e-05, description="relative tolerance"), AttrSpec("atol", "real", default=1e-08, description="absolute tolerance"),
           AttrSpec("equal_nan", "boolean", default=False, description="count two nans as close")),
    methods=("isclose",), functions=("isclose",), summary="|a - b| <= atol + rtol * |b|; bool result",
))


def _nan_to_num(arrays: list, attrs: dict):
    x = arrays[0]
    if x.dtype.kind != "f":
        return x.copy()
    info = np.finfo(x.dtype)
    return np.nan_to_num(x, nan=attrs["nan"], posinf=info.max if attrs["posinf"] is None else attrs["posinf"],
                         neginf=info.min if attrs["neginf"] is None else attrs["neginf"])


register(OpDef(
    name="nan_to_num", forward=_nan_to_num, vjps=(lambda F, g, c: g * F.isfinite(c.inputs[0]),),
    grad_fn="NanToNumBackward0", dtype_rule=tensors_only("nan_to_num", promotion.same), saves_inputs=(0,),
    attrs=(AttrSpec("nan", "real", default=0.0, description="the value replacing nan"), AttrSpec("posinf", "real|none", description="the value replacing +inf (None: the largest finite value)"), AttrSpec("neginf", "real|none", description="the value replacing -inf (None: the smallest finite value)")),
    methods=("nan_to_num",), functions=("nan_to_num",),
    summary="nan, +inf and -inf replaced (by 0 and the dtype's largest and smallest values by default)",
))
