"""How the elementwise ops compute: arithmetic, unary math, comparisons, maximum/minimum, where, casts
(clamp: clamp.py).

Each entry: the numpy forward and one VJP per input (before broadcast reduction, which the engine does);
their rules (dtype, shape, grad_fn, spellings) are in gradwire.rules.ops.elementwise.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.checks import check_broadcast
from gradwire.rules.errors import InvalidArgumentRuntimeError

from ..registry import OpDef, implement
from ..tensor import is_scalar


def _quiet(function):
    """numpy warns on log(0), 1/0 ...; torch returns inf/nan silently, and so do we."""

    def forward(arrays: list, attrs: dict):
        try:
            with np.errstate(all="ignore"):
                return function(*arrays)
        except ValueError:
            check_broadcast([np.shape(a) for a in arrays])  # numpy's ValueError becomes torch's RuntimeError
            raise

    return forward


def _plain(function):
    def forward(arrays: list, attrs: dict):
        try:
            return function(*arrays)
        except ValueError:
            check_broadcast([np.shape(a) for a in arrays])
            raise

    return forward


def binary(name: str, function, vjp_a, vjp_b, *, saves=True, quiet=False) -> OpDef:
    """How an elementwise op of two operands computes (its rules: gradwire.rules.ops.elementwise)."""
    return implement(name, forward=_quiet(function) if quiet else _plain(function), vjps=(vjp_a, vjp_b),
                     saves_all_inputs=saves)


def unary(name: str, function, vjp, *, saves_input=False, saves_output=False) -> OpDef:
    """How an elementwise op of one tensor computes."""
    return implement(name, forward=_quiet(function), vjps=(vjp,), saves_inputs=(0,) if saves_input else (),
                     saves_output=saves_output)


def _integer_power(base, exponent):
    """Integers to negative integer powers, as torch computes them: 1 and -1 stay units, the rest give 0."""
    negative = np.asarray(exponent) < 0
    unit = np.abs(base) == 1
    odd = np.asarray(exponent) % 2 == 1
    safe = np.power(base, np.where(negative, 0, exponent))
    return np.where(negative, np.where(unit, np.where((base == -1) & odd, -1, 1), 0), safe).astype(safe.dtype)


def _pow_forward(arrays: list, attrs: dict):
    base, exponent = arrays
    if type(base) is np.ndarray and base.dtype.kind == "f":  # a floating base: never the integer case
        return _quiet_power(arrays, attrs)
    integral = np.asarray(base).dtype.kind in "iub" and np.asarray(exponent).dtype.kind in "iub"
    if integral and np.any(np.asarray(exponent) < 0):  # a number exponent: the dtype rule refused it
        check_broadcast([np.shape(base), np.shape(exponent)])
        return _integer_power(np.asarray(base), exponent)
    return _quiet_power(arrays, attrs)


_quiet_power = _quiet(np.power)


def _pow_base_vjp(F, g, ctx):
    base, exponent = ctx.inputs
    # d(a**b)/da = b * a**(b-1), taken as 0 where b == 0 (so 0**0 gives 0, not 0 * inf), as torch does.
    if is_scalar(exponent):
        return g * 0 if exponent == 0 else g * exponent * base ** (exponent - 1)
    return F.where(exponent == 0, 0.0, g * exponent * base ** (exponent - 1))


def _pow_exponent_vjp(F, g, ctx):
    base, exponent = ctx.inputs
    # d(a**b)/db = a**b * log(a), taken as 0 where a == 0 and b >= 0 (as torch does).
    if is_scalar(base):
        if base == 0:  # 0 ** b: constant 0 for b > 0, 1 at b == 0, inf (gradient -inf) for b < 0
            return F.where(exponent >= 0, 0.0, g * ctx.output * -math.inf)
        return g * ctx.output * (math.log(base) if base > 0 else math.nan)
    return F.where(F.logical_and(base == 0, exponent >= 0), 0.0, g * ctx.output * F.log(base))


# ---------------------------------------------------------------- arithmetic
binary("add", np.add, lambda F, g, c: g, lambda F, g, c: g, saves=False)
binary("sub", np.subtract, lambda F, g, c: g, lambda F, g, c: -g, saves=False)
binary("mul", np.multiply, lambda F, g, c: g * c.inputs[1], lambda F, g, c: g * c.inputs[0])


def _div_forward(arrays: list, attrs: dict):
    a, b = arrays
    mode = attrs["rounding_mode"]  # one of None, "trunc", "floor" (the dtype rule checked it)
    if mode is None:
        return _quiet(np.true_divide)(arrays, attrs)
    integral = all(np.asarray(x).dtype.kind in "iub" for x in (a, b))
    if integral and np.any(np.asarray(b) == 0):
        raise InvalidArgumentRuntimeError("ZeroDivisionError: integer division by zero")
    if mode == "floor":
        return _quiet(np.floor_divide)(arrays, attrs)
    if integral:  # C division: the quotient rounded toward zero
        quotient = np.abs(a) // np.abs(b)
        return np.where((np.asarray(a) < 0) != (np.asarray(b) < 0), -quotient, quotient)
    return np.trunc(_quiet(np.true_divide)(arrays, attrs))


def _div_vjp_a(F, g, c):
    return g / c.inputs[1] if c.attrs["rounding_mode"] is None else g * 0


def _div_vjp_b(F, g, c):
    a, b = c.inputs
    return -g * a / (b * b) if c.attrs["rounding_mode"] is None else g * 0


implement("div", forward=_div_forward, vjps=(_div_vjp_a, _div_vjp_b), saves_all_inputs=True)
implement("pow", forward=_pow_forward, vjps=(_pow_base_vjp, _pow_exponent_vjp), saves_all_inputs=True,
          saves_output=True)
implement("neg", forward=_quiet(np.negative), vjps=(lambda F, g, c: -g,))


# ---------------------------------------------------------------- unary math
def _sign(x):
    if x.dtype == np.bool_:
        return x.copy()  # torch: sign of a bool tensor is itself
    if x.dtype.kind != "f":
        return np.sign(x)
    return np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype)  # torch: sign(nan) == 0


unary("exp", np.exp, lambda F, g, c: g * c.output, saves_output=True)
unary("log", np.log, lambda F, g, c: g / c.inputs[0], saves_input=True)
unary("sqrt", np.sqrt, lambda F, g, c: g / (2 * c.output), saves_output=True)
unary("abs", np.abs, lambda F, g, c: g * F.sign(c.inputs[0]), saves_input=True)
unary("sign", _sign, lambda F, g, c: g * 0)
unary("sin", np.sin, lambda F, g, c: g * F.cos(c.inputs[0]), saves_input=True)
unary("cos", np.cos, lambda F, g, c: -g * F.sin(c.inputs[0]), saves_input=True)
unary("tanh", np.tanh, lambda F, g, c: g * (1 - c.output * c.output), saves_output=True)
unary("sigmoid", lambda x: 1 / (1 + np.exp(-x)), lambda F, g, c: g * c.output * (1 - c.output), saves_output=True)
# The gradient is selected (torch's threshold_backward), not multiplied by a mask: nan * 0 would be nan.
unary("relu", lambda x: np.maximum(x, 0).astype(x.dtype), lambda F, g, c: F.where(c.output > 0, g, 0.0),
      saves_output=True)


# ---------------------------------------------------------------- maximum, minimum, where (clamp: clamp.py)
def _tie_weight(F, mine, other, largest: bool):
    """1 where this side wins, 1/2 where the two tie (torch splits ties evenly), 0 where it loses."""
    wins = (mine > other) if largest else (mine < other)
    return wins + (mine == other) * 0.5


binary("maximum", np.maximum,
       lambda F, g, c: g * _tie_weight(F, c.inputs[0], c.inputs[1], largest=True),
       lambda F, g, c: g * _tie_weight(F, c.inputs[1], c.inputs[0], largest=True))
binary("minimum", np.minimum,
       lambda F, g, c: g * _tie_weight(F, c.inputs[0], c.inputs[1], largest=False),
       lambda F, g, c: g * _tie_weight(F, c.inputs[1], c.inputs[0], largest=False))
implement("where", forward=_plain(np.where),
          vjps=(None, lambda F, g, c: F.where(c.inputs[0], g, 0.0), lambda F, g, c: F.where(c.inputs[0], 0.0, g)),
          saves_inputs=(0,))

# ---------------------------------------------------------------- comparisons (no gradient)
for _name, _function in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                         ("gt", np.greater), ("ge", np.greater_equal), ("logical_and", np.logical_and)):
    implement(_name, forward=_plain(_function))

# ---------------------------------------------------------------- casts
implement("to", forward=lambda arrays, attrs: arrays[0].astype(attrs["dtype"].numpy, copy=True),
          vjps=(lambda F, g, c: g,))
implement("clone", forward=lambda arrays, attrs: np.array(arrays[0], copy=True), vjps=(lambda F, g, c: g,))
