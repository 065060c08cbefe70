"""How more unary math computes: exp2, expm1, log1p, log2, log10, trig and hyperbolic functions and their
inverses, erf / erfc / erfinv, rounding (floor, ceil, round(decimals), trunc, frac), reciprocal, rsqrt,
square, sgn.

Each entry: numpy forward and one VJP; the rules (dtype, grad_fn, spellings) are in
gradwire.rules.ops.elementwise_math.
"""

from __future__ import annotations

import math

import numpy as np

from ..registry import OpDef, implement
from .elementwise import _quiet

LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def math_op(name: str, function, vjp, *, saves_input=False, saves_output=False, raw=False) -> OpDef:
    """One elementwise op of a tensor; `raw`: `function` is already a forward (arrays, attrs)."""
    return implement(name, forward=function if raw else _quiet(function), vjps=(vjp,),
                     saves_inputs=(0,) if saves_input else (), saves_output=saves_output)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function to double precision (math.erf per element: numpy has none)."""
    x = np.asarray(x)
    return np.asarray(_erf_scalar(x.astype(np.float64)), dtype=np.float64).astype(x.dtype, copy=False)


def erfinv(y: np.ndarray) -> np.ndarray:
    """erf's inverse: a rational first guess refined by Newton steps on erf (double precision)."""
    y = np.asarray(y)
    v = y.astype(np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - v) * (1.0 + v))
        guess = np.where(w < 5.0, _central_guess(w - 2.5), _tail_guess(np.sqrt(w) - 3.0)) * v
        x = np.where(np.abs(v) < 1.0, guess, np.where(np.abs(v) == 1.0, np.sign(v) * np.inf, np.nan))
        inside = np.abs(v) < 1.0
        for _ in range(3):
            step = (erf(np.where(inside, x, 0.0)) - v) / (TWO_OVER_SQRT_PI * np.exp(-x * x))
            x = np.where(inside, x - step, x)
    return x.astype(y.dtype, copy=False)


def _central_guess(w):
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * w
    return p


def _tail_guess(w):
    p = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        p = c + p * w
    return p


# ---------------------------------------------------------------- exponentials and logarithms
math_op("exp2", np.exp2, lambda F, g, c: g * c.output * LN2, saves_output=True)
math_op("expm1", np.expm1, lambda F, g, c: g * (c.output + 1), saves_output=True)
math_op("log1p", np.log1p, lambda F, g, c: g / (c.inputs[0] + 1), saves_input=True)
math_op("log2", np.log2, lambda F, g, c: g / (c.inputs[0] * LN2), saves_input=True)
math_op("log10", np.log10, lambda F, g, c: g / (c.inputs[0] * LN10), saves_input=True)

# ---------------------------------------------------------------- trigonometric and hyperbolic
math_op("tan", np.tan, lambda F, g, c: g * (1 + c.output * c.output), saves_output=True)
math_op("asin", np.arcsin, lambda F, g, c: g / F.sqrt(1 - c.inputs[0] * c.inputs[0]),
        saves_input=True)
math_op("acos", np.arccos, lambda F, g, c: -g / F.sqrt(1 - c.inputs[0] * c.inputs[0]),
        saves_input=True)
math_op("atan", np.arctan, lambda F, g, c: g / (1 + c.inputs[0] * c.inputs[0]),
        saves_input=True)
math_op("sinh", np.sinh, lambda F, g, c: g * F.cosh(c.inputs[0]), saves_input=True)
math_op("cosh", np.cosh, lambda F, g, c: g * F.sinh(c.inputs[0]), saves_input=True)
math_op("asinh", np.arcsinh, lambda F, g, c: g / F.sqrt(c.inputs[0] * c.inputs[0] + 1),
        saves_input=True)
math_op("acosh", np.arccosh, lambda F, g, c: g / F.sqrt(c.inputs[0] * c.inputs[0] - 1),
        saves_input=True)
math_op("atanh", np.arctanh, lambda F, g, c: g / (1 - c.inputs[0] * c.inputs[0]),
        saves_input=True)

# ---------------------------------------------------------------- error function
math_op("erf", erf, lambda F, g, c: g * TWO_OVER_SQRT_PI * F.exp(-(c.inputs[0] * c.inputs[0])),
        saves_input=True)
math_op("erfc", lambda x: 1.0 - erf(x), lambda F, g, c: -g * TWO_OVER_SQRT_PI * F.exp(-(c.inputs[0] * c.inputs[0])),
        saves_input=True)
math_op("erfinv", erfinv, lambda F, g, c: g * (math.sqrt(math.pi) / 2) * F.exp(c.output * c.output),
        saves_output=True)


# ---------------------------------------------------------------- rounding (zero gradient)
def _zero(F, g, c):
    return g * 0


def _round(arrays: list, attrs: dict):
    x, decimals = arrays[0], attrs["decimals"] or 0
    if x.dtype.kind != "f":
        return x.copy()
    with np.errstate(all="ignore"):
        return np.round(x, decimals)


math_op("floor", np.floor, _zero)
math_op("ceil", np.ceil, _zero)
math_op("trunc", np.trunc, _zero)
math_op("round", _round, _zero, raw=True)
math_op("frac", lambda x: x - np.trunc(x), lambda F, g, c: g)

# ---------------------------------------------------------------- powers and signs
math_op("reciprocal", lambda x: 1.0 / x, lambda F, g, c: -g * c.output * c.output,
        saves_output=True)
math_op("rsqrt", lambda x: 1.0 / np.sqrt(x), lambda F, g, c: -0.5 * g * c.output * c.output * c.output,
        saves_output=True)
math_op("square", np.square, lambda F, g, c: 2 * g * c.inputs[0],
        saves_input=True)
math_op("sgn", lambda x: np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype) if x.dtype.kind == "f" else np.sign(x),
        _zero)
