"""How more binary elementwise ops compute: atan2, copysign, hypot, lerp, fmod, remainder (`%`),
floor_divide (`//`), logaddexp, xlogy, clamp_min / clamp_max; and the float tests isnan / isinf /
isfinite / isclose and nan_to_num (their rules: gradwire.rules.ops.elementwise_binary).
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import AutogradError, InvalidArgumentRuntimeError

from ..registry import OpDef, implement
from .elementwise import _quiet


def binary_op(name: str, function, vjps) -> OpDef:
    return implement(name, forward=_quiet(function), vjps=vjps, saves_all_inputs=True, saves_output=True)


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
          (lambda F, g, c: g * c.inputs[1] / _atan2_scale(c), lambda F, g, c: -g * c.inputs[0] / _atan2_scale(c)))


def _hypot_vjp(position: int):
    # d/da sqrt(a² + b²) = a / result: nan at a == b == 0, as in torch.
    return lambda F, g, c: g * c.inputs[position] / c.output


binary_op("hypot", np.hypot, (_hypot_vjp(0), _hypot_vjp(1)))


def _copysign(a, b):
    return np.copysign(a, b)


binary_op("copysign", _copysign,
          # d/da |a|·s(b) = sign(a)·s(b) = sign(a)·sign(result): 0 at a == 0, as torch.
          (lambda F, g, c: g * F.sign(c.inputs[0]) * F.sign(c.output), lambda F, g, c: g * 0))


# ---------------------------------------------------------------- lerp
def _lerp(start, end, weight):
    return start + weight * (end - start)


binary_op("lerp", _lerp,
          (lambda F, g, c: g * (1 - c.inputs[2]), lambda F, g, c: g * c.inputs[2],
           lambda F, g, c: g * (c.inputs[1] - c.inputs[0])))


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
          (lambda F, g, c: g, lambda F, g, c: -g * F.trunc(c.inputs[0] / c.inputs[1])))


def _remainder_vjp_a(F, g, c):
    if not hasattr(c.inputs[0], "shape"):
        return None
    return g


def _remainder_vjp_b(F, g, c):
    a, b = c.inputs
    if not hasattr(a, "shape"):  # number % tensor: torch has no derivative for it
        return _not_implemented("remainder")(F, g, c)
    return -g * F.floor(a / b)


binary_op("remainder", _remainder, (_remainder_vjp_a, _remainder_vjp_b))
binary_op("floor_divide", _floor_divide, (_not_implemented("floor_divide"), _not_implemented("floor_divide")))


# ---------------------------------------------------------------- logaddexp, xlogy
binary_op("logaddexp", np.logaddexp,
          (lambda F, g, c: g * F.exp(c.inputs[0] - c.output), lambda F, g, c: g * F.exp(c.inputs[1] - c.output)))


def _xlogy(x, y):
    x, y = np.asarray(x), np.asarray(y)
    return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y))


def _xlogy_vjp_x(F, g, c):
    x, y = c.inputs
    # torch: xlogy(grad, y), and 0 where x == 0 and y <= 0.
    return F.where(F.logical_and(x == 0, y <= 0), 0.0, F.xlogy(g, y))


binary_op("xlogy", _xlogy, (_xlogy_vjp_x, lambda F, g, c: g * c.inputs[0] / c.inputs[1]))


# ---------------------------------------------------------------- clamp_min / clamp_max
def _clamp_one(name: str, function, kept) -> None:
    # Selected, not multiplied by a mask (as torch): a nan gradient does not leak where it is not used.
    implement(name, forward=_quiet(function), saves_all_inputs=True,
              vjps=(lambda F, g, c: F.where(kept(c.inputs[0], c.inputs[1]), g, 0.0),
                    lambda F, g, c: F.where(kept(c.inputs[0], c.inputs[1]), 0.0, g)))


_clamp_one("clamp_min", np.maximum, lambda x, bound: x >= bound)
_clamp_one("clamp_max", np.minimum, lambda x, bound: x <= bound)

# ---------------------------------------------------------------- float tests and nan_to_num
for _name, _test in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite), ("isposinf", np.isposinf),
                     ("isneginf", np.isneginf)):
    implement(_name, forward=lambda arrays, attrs, test=_test: test(arrays[0]))


def _isclose(arrays: list, attrs: dict):
    a, b = arrays
    return np.isclose(a, b, rtol=attrs["rtol"], atol=attrs["atol"], equal_nan=attrs["equal_nan"])


implement("isclose", forward=_isclose)


def _nan_to_num(arrays: list, attrs: dict):
    x = arrays[0]
    if x.dtype.kind != "f":
        return x.copy()
    info = np.finfo(x.dtype)
    return np.nan_to_num(x, nan=attrs["nan"], posinf=info.max if attrs["posinf"] is None else attrs["posinf"],
                         neginf=info.min if attrs["neginf"] is None else attrs["neginf"])


implement("nan_to_num", forward=_nan_to_num, vjps=(lambda F, g, c: g * F.isfinite(c.inputs[0]),), saves_inputs=(0,))
