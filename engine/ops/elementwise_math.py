"""More unary math: exp2, expm1, log1p, log2, log10, trig and hyperbolic functions and their inverses,
erf / erfc / erfinv, rounding (floor, ceil, round(decimals), trunc, frac), reciprocal, rsqrt, square, sgn.

Each entry: numpy forward, one VJP, dtype rule and torch's grad_fn name; every spelling torch has
(numpy-style aliases such as arcsin, torch.special.* names) comes from the same entry.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules import promotion
from ..registry import AttrSpec, OpDef, register
from .checks import tensors_only
from .elementwise import _quiet

SUMMARIES = {
    "exp2": "2 ** x", "expm1": "exp(x) - 1, accurate near 0", "log1p": "log(1 + x), accurate near 0",
    "log2": "base-2 logarithm", "log10": "base-10 logarithm", "tan": "tangent", "asin": "arcsine (arcsin)",
    "acos": "arccosine (arccos)", "atan": "arctangent (arctan)", "sinh": "hyperbolic sine", "cosh": "hyperbolic cosine",
    "asinh": "inverse hyperbolic sine", "acosh": "inverse hyperbolic cosine (x >= 1)",
    "atanh": "inverse hyperbolic tangent (|x| < 1)", "erf": "the error function", "erfc": "1 - erf(x)",
    "floor": "round down; its gradient is 0", "ceil": "round up; its gradient is 0",
    "trunc": "round toward zero (fix); its gradient is 0", "reciprocal": "1 / x", "rsqrt": "1 / sqrt(x)",
}
LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def math_op(name: str, function, vjp, grad_fn, *, rule=promotion.unary_float, saves_input=False,
            saves_output=False, aliases: tuple[str, ...] = (), special: tuple[str, ...] = (),
            attrs: tuple[AttrSpec, ...] = (), summary: str = "") -> OpDef:
    """One elementwise op of a tensor; `aliases` are further method+function names, `special` the
    torch.special names."""
    return register(OpDef(
        name=name, forward=function if attrs else _quiet(function), vjps=(vjp,), grad_fn=grad_fn,
        dtype_rule=tensors_only(name, rule), saves_inputs=(0,) if saves_input else (), saves_output=saves_output,
        attrs=attrs, methods=(name, *aliases), functions=(name, *aliases, *(f"special.{s}" for s in special)),
        summary=summary or SUMMARIES.get(name, f"elementwise {name}(x)"),
    ))


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
math_op("exp2", np.exp2, lambda F, g, c: g * c.output * LN2, "Exp2Backward0", saves_output=True, special=("exp2",))
math_op("expm1", np.expm1, lambda F, g, c: g * (c.output + 1), "Expm1Backward0", saves_output=True, special=("expm1",))
math_op("log1p", np.log1p, lambda F, g, c: g / (c.inputs[0] + 1), "Log1PBackward0", saves_input=True,
        special=("log1p",))
math_op("log2", np.log2, lambda F, g, c: g / (c.inputs[0] * LN2), "Log2Backward0", saves_input=True)
math_op("log10", np.log10, lambda F, g, c: g / (c.inputs[0] * LN10), "Log10Backward0", saves_input=True)

# ---------------------------------------------------------------- trigonometric and hyperbolic
math_op("tan", np.tan, lambda F, g, c: g * (1 + c.output * c.output), "TanBackward0", saves_output=True)
math_op("asin", np.arcsin, lambda F, g, c: g / F.sqrt(1 - c.inputs[0] * c.inputs[0]), "AsinBackward0",
        saves_input=True, aliases=("arcsin",))
math_op("acos", np.arccos, lambda F, g, c: -g / F.sqrt(1 - c.inputs[0] * c.inputs[0]), "AcosBackward0",
        saves_input=True, aliases=("arccos",))
math_op("atan", np.arctan, lambda F, g, c: g / (1 + c.inputs[0] * c.inputs[0]), "AtanBackward0",
        saves_input=True, aliases=("arctan",))
math_op("sinh", np.sinh, lambda F, g, c: g * F.cosh(c.inputs[0]), "SinhBackward0", saves_input=True)
math_op("cosh", np.cosh, lambda F, g, c: g * F.sinh(c.inputs[0]), "CoshBackward0", saves_input=True)
math_op("asinh", np.arcsinh, lambda F, g, c: g / F.sqrt(c.inputs[0] * c.inputs[0] + 1), "AsinhBackward0",
        saves_input=True, aliases=("arcsinh",))
math_op("acosh", np.arccosh, lambda F, g, c: g / F.sqrt(c.inputs[0] * c.inputs[0] - 1), "AcoshBackward0",
        saves_input=True, aliases=("arccosh",))
math_op("atanh", np.arctanh, lambda F, g, c: g / (1 - c.inputs[0] * c.inputs[0]), "AtanhBackward0",
        saves_input=True, aliases=("arctanh",))

# ---------------------------------------------------------------- error function
math_op("erf", erf, lambda F, g, c: g * TWO_OVER_SQRT_PI * F.exp(-(c.inputs[0] * c.inputs[0])), "ErfBackward0",
        saves_input=True, special=("erf",))
math_op("erfc", lambda x: 1.0 - erf(x), lambda F, g, c: -g * TWO_OVER_SQRT_PI * F.exp(-(c.inputs[0] * c.inputs[0])),
        "ErfcBackward0", saves_input=True, special=("erfc",))
math_op("erfinv", erfinv, lambda F, g, c: g * (math.sqrt(math.pi) / 2) * F.exp(c.output * c.output), "ErfinvBackward0",
        saves_output=True, special=("erfinv",), summary="inverse of erf on (-1, 1); ±inf at ±1, nan outside")


# ---------------------------------------------------------------- rounding (zero gradient)
def _zero(F, g, c):
    return g * 0


def _round(arrays: list, attrs: dict):
    x, decimals = arrays[0], attrs["decimals"] or 0
    if x.dtype.kind != "f":
        return x.copy()
    with np.errstate(all="ignore"):
        return np.round(x, decimals)


math_op("floor", np.floor, _zero, "FloorBackward0", rule=promotion.same)
math_op("ceil", np.ceil, _zero, "CeilBackward0", rule=promotion.same)
math_op("trunc", np.trunc, _zero, "TruncBackward0", rule=promotion.same, aliases=("fix",))
math_op("round", _round, _zero, lambda node: "RoundBackward0" if node.attrs["decimals"] is None else "RoundBackward1",
        rule=promotion.same, attrs=(AttrSpec("decimals", "integer|none", description="round to this many decimal places (negative: to tens, hundreds ...)"),), special=("round",),
        summary="round half to even, to `decimals` places")
math_op("frac", lambda x: x - np.trunc(x), lambda F, g, c: g, "FracBackward0", rule=promotion.same,
        summary="x - trunc(x)")

# ---------------------------------------------------------------- powers and signs
math_op("reciprocal", lambda x: 1.0 / x, lambda F, g, c: -g * c.output * c.output, "ReciprocalBackward0",
        saves_output=True)
math_op("rsqrt", lambda x: 1.0 / np.sqrt(x), lambda F, g, c: -0.5 * g * c.output * c.output * c.output,
        "RsqrtBackward0", saves_output=True)
math_op("square", np.square, lambda F, g, c: 2 * g * c.inputs[0], "PowBackward0", rule=promotion.same,
        saves_input=True, summary="x ** 2 (torch records it as pow)")
math_op("sgn", lambda x: np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype) if x.dtype.kind == "f" else np.sign(x),
        _zero, "SgnBackward0", rule=promotion.same, summary="sign(x) for real tensors; its gradient is 0")
