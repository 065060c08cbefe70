"""Rules of more unary math: exp2, expm1, log1p, log2, log10, trig and hyperbolic functions and their
inverses, erf / erfc / erfinv, rounding (floor, ceil, round(decimals), trunc, frac), reciprocal, rsqrt,
square, sgn. Every spelling torch has (numpy-style aliases such as arcsin, torch.special.* names) comes
from the same entry."""

from __future__ import annotations

from gradwire.rules import promotion

from ..spec import AttrSpec
from .elementwise import unary

SUMMARIES = {
    "exp2": "2 ** x", "expm1": "exp(x) - 1, accurate near 0", "log1p": "log(1 + x), accurate near 0",
    "log2": "base-2 logarithm", "log10": "base-10 logarithm", "tan": "tangent", "asin": "arcsine (arcsin)",
    "acos": "arccosine (arccos)", "atan": "arctangent (arctan)", "sinh": "hyperbolic sine", "cosh": "hyperbolic cosine",
    "asinh": "inverse hyperbolic sine", "acosh": "inverse hyperbolic cosine (x >= 1)",
    "atanh": "inverse hyperbolic tangent (|x| < 1)", "erf": "the error function", "erfc": "1 - erf(x)",
    "floor": "round down; its gradient is 0", "ceil": "round up; its gradient is 0",
    "trunc": "round toward zero (fix); its gradient is 0", "reciprocal": "1 / x", "rsqrt": "1 / sqrt(x)",
}


def math_op(name: str, grad_fn, *, summary: str = "", **more) -> None:
    unary(name, grad_fn, summary=summary or SUMMARIES.get(name, f"elementwise {name}(x)"), **more)


# ---------------------------------------------------------------- exponentials and logarithms
math_op("exp2", "Exp2Backward0", special=("exp2",))
math_op("expm1", "Expm1Backward0", special=("expm1",))
math_op("log1p", "Log1PBackward0", special=("log1p",))
math_op("log2", "Log2Backward0")
math_op("log10", "Log10Backward0")

# ---------------------------------------------------------------- trigonometric and hyperbolic
math_op("tan", "TanBackward0")
math_op("asin", "AsinBackward0", aliases=("arcsin",))
math_op("acos", "AcosBackward0", aliases=("arccos",))
math_op("atan", "AtanBackward0", aliases=("arctan",))
math_op("sinh", "SinhBackward0")
math_op("cosh", "CoshBackward0")
math_op("asinh", "AsinhBackward0", aliases=("arcsinh",))
math_op("acosh", "AcoshBackward0", aliases=("arccosh",))
math_op("atanh", "AtanhBackward0", aliases=("arctanh",))

# ---------------------------------------------------------------- error function
math_op("erf", "ErfBackward0", special=("erf",))
math_op("erfc", "ErfcBackward0", special=("erfc",))
math_op("erfinv", "ErfinvBackward0", special=("erfinv",), summary="inverse of erf on (-1, 1); ±inf at ±1, nan outside")

# ---------------------------------------------------------------- rounding (zero gradient)
math_op("floor", "FloorBackward0", rule=promotion.same)
math_op("ceil", "CeilBackward0", rule=promotion.same)
math_op("trunc", "TruncBackward0", rule=promotion.same, aliases=("fix",))
math_op("round", lambda call: "RoundBackward0" if call.attrs["decimals"] is None else "RoundBackward1",
        rule=promotion.same, special=("round",), summary="round half to even, to `decimals` places",
        attrs=(AttrSpec("decimals", "integer|none",
                        description="round to this many decimal places (negative: to tens, hundreds ...)"),))
math_op("frac", "FracBackward0", rule=promotion.same, summary="x - trunc(x)")

# ---------------------------------------------------------------- powers and signs
math_op("reciprocal", "ReciprocalBackward0")
math_op("rsqrt", "RsqrtBackward0")
math_op("square", "PowBackward0", rule=promotion.same, summary="x ** 2 (torch records it as pow)")
math_op("sgn", "SgnBackward0", rule=promotion.same, summary="sign(x) for real tensors; its gradient is 0")
