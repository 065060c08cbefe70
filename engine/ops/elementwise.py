"""Elementwise ops: arithmetic, unary math, comparisons, maximum/minimum, where, casts (clamp: clamp.py).

Each entry: the numpy forward, one VJP per input (before broadcast reduction, which the engine does),
the dtype rule and PyTorch's grad_fn name.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules import dtypes, promotion
from gradwire.rules.errors import DTypeRuntimeError, InvalidArgumentRuntimeError
from ..registry import AttrSpec, OpDef, register
from ..tensor import is_scalar
from .checks import check_broadcast, tensors_only


def _broadcast(shapes: list, attrs: dict) -> tuple:
    widest = max(shapes, key=len)
    if all(shape == widest or shape == () for shape in shapes):  # the common case, without numpy's cost
        return widest
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        check_broadcast(shapes)
        raise


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


def binary(name: str, function, vjp_a, vjp_b, grad_fn, *, rule=promotion.promote, saves=True,
           operators=(), reflected=(), quiet=False, summary: str = "", aliases: tuple[str, ...] = ()) -> OpDef:
    """An elementwise op of two operands; `aliases` are further method+function names (multiply ...)."""
    return register(OpDef(
        name=name, forward=_quiet(function) if quiet else _plain(function), vjps=(vjp_a, vjp_b), grad_fn=grad_fn, dtype_rule=rule,
        saves_all_inputs=saves, min_inputs=2, max_inputs=2, out_shape=_broadcast,
        methods=(name, *aliases), functions=(name, *aliases), operators=operators, reflected_operators=reflected,
        summary=summary,
    ))


def unary(name: str, function, vjp, grad_fn: str, *, rule=promotion.unary_float, saves_input=False,
          saves_output=False, summary: str = "", also: tuple[str, ...] = (), aliases: tuple[str, ...] = ()) -> OpDef:
    """An elementwise op of one tensor; `also` adds function spellings such as "nn.functional.relu",
    `aliases` further method+function names (absolute ...)."""
    return register(OpDef(
        name=name, forward=_quiet(function), vjps=(vjp,), grad_fn=grad_fn, dtype_rule=tensors_only(name, rule),
        saves_inputs=(0,) if saves_input else (), saves_output=saves_output,
        methods=(name, *aliases), functions=(name, *aliases, *also), summary=summary or f"elementwise {name}(x)",
    ))


def _pow_name(node) -> str:
    scalar_base, scalar_exponent = node.scalar_mask
    return "PowBackward2" if scalar_base else "PowBackward0" if scalar_exponent else "PowBackward1"


def _integer_power(base, exponent):
    """Integers to negative integer powers, as torch computes them: 1 and -1 stay units, the rest give 0."""
    negative = np.asarray(exponent) < 0
    unit = np.abs(base) == 1
    odd = np.asarray(exponent) % 2 == 1
    safe = np.power(base, np.where(negative, 0, exponent))
    return np.where(negative, np.where(unit, np.where((base == -1) & odd, -1, 1), 0), safe).astype(safe.dtype)


def _pow_forward(arrays: list, attrs: dict):
    base, exponent = arrays
    integral = np.asarray(base).dtype.kind in "iub" and np.asarray(exponent).dtype.kind in "iub"
    if integral and np.any(np.asarray(exponent) < 0):
        if is_scalar(exponent):
            raise InvalidArgumentRuntimeError("Integers to negative integer powers are not allowed.")
        check_broadcast([np.shape(base), np.shape(exponent)])
        return _integer_power(np.asarray(base), exponent)
    return _quiet(np.power)(arrays, attrs)


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
binary("add", np.add, lambda F, g, c: g, lambda F, g, c: g, "AddBackward0", saves=False,
       operators=("__add__",), reflected=("__radd__",), summary="a + b")
def _refusing_bool(rule, message: str):
    """A dtype rule refusing any bool operand (torch has no -x or a - b for bools), with torch's message."""

    def checked(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        if dtypes.bool_ in operand_dtypes or any(isinstance(x, (bool, np.bool_)) for x in operands):
            raise DTypeRuntimeError(message)
        return rule(operand_dtypes, operands, attrs)

    return checked


binary("sub", np.subtract, lambda F, g, c: g, lambda F, g, c: -g,
       lambda node: "RsubBackward1" if node.scalar_mask[0] else "SubBackward0", saves=False,
       rule=_refusing_bool(promotion.promote, "Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead."),
       operators=("__sub__",), reflected=("__rsub__",), summary="a - b", aliases=("subtract",))
binary("mul", np.multiply, lambda F, g, c: g * c.inputs[1], lambda F, g, c: g * c.inputs[0], "MulBackward0",
       operators=("__mul__",), reflected=("__rmul__",), summary="a * b", aliases=("multiply",))
ROUNDING_MODES = (None, "trunc", "floor")


def _div_forward(arrays: list, attrs: dict):
    a, b = arrays
    mode = attrs["rounding_mode"]
    if mode not in ROUNDING_MODES:
        raise InvalidArgumentRuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
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


def _div_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """True division promotes integers to the default float; with a rounding mode they stay integers."""
    if attrs["rounding_mode"] is None:
        return promotion.promote_to_float(operand_dtypes, operands, attrs)
    return promotion.promote(operand_dtypes, operands, attrs)


def _div_name(node) -> str:
    if node.attrs["rounding_mode"] is not None:
        return "DivBackward2"
    return "MulBackward0" if node.scalar_mask[0] else "DivBackward0"


def _div_vjp_a(F, g, c):
    return g / c.inputs[1] if c.attrs["rounding_mode"] is None else g * 0


def _div_vjp_b(F, g, c):
    a, b = c.inputs
    return -g * a / (b * b) if c.attrs["rounding_mode"] is None else g * 0


register(OpDef(
    name="div", forward=_div_forward, vjps=(_div_vjp_a, _div_vjp_b), grad_fn=_div_name, dtype_rule=_div_rule,
    saves_all_inputs=True, min_inputs=2, max_inputs=2, out_shape=_broadcast,
    attrs=(AttrSpec("rounding_mode", "text|none", description="None: true division; 'trunc': round toward zero; 'floor': round down"),),
    methods=("div", "divide", "true_divide"), functions=("div", "divide", "true_divide"),
    operators=("__truediv__",), reflected_operators=("__rtruediv__",),
    summary="a / b; rounding_mode 'trunc' or 'floor' rounds the quotient (integers then stay integers)",
))
register(OpDef(
    name="pow", forward=_pow_forward,
    vjps=(_pow_base_vjp, _pow_exponent_vjp),
    grad_fn=_pow_name, dtype_rule=promotion.promote, saves_all_inputs=True, saves_output=True,
    min_inputs=2, max_inputs=2, out_shape=_broadcast, methods=("pow",), functions=("pow",),
    operators=("__pow__",), reflected_operators=("__rpow__",), summary="a ** b",
))
register(OpDef(
    name="neg", forward=_quiet(np.negative), vjps=(lambda F, g, c: -g,), grad_fn="NegBackward0",
    dtype_rule=_refusing_bool(tensors_only("neg", promotion.same), "Negation, the `-` operator, on a bool tensor is not supported. "
                              "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."),
    methods=("neg", "negative"), functions=("neg", "negative"), operators=("__neg__",), summary="-x",
))

# ---------------------------------------------------------------- unary math
def _sign(x):
    if x.dtype == np.bool_:
        return x.copy()  # torch: sign of a bool tensor is itself
    if x.dtype.kind != "f":
        return np.sign(x)
    return np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype)  # torch: sign(nan) == 0


unary("exp", np.exp, lambda F, g, c: g * c.output, "ExpBackward0", saves_output=True)
unary("log", np.log, lambda F, g, c: g / c.inputs[0], "LogBackward0", saves_input=True)
unary("sqrt", np.sqrt, lambda F, g, c: g / (2 * c.output), "SqrtBackward0", saves_output=True,
      summary="sqrt; the gradient at 0 is inf, as in torch")
unary("abs", np.abs, lambda F, g, c: g * F.sign(c.inputs[0]), "AbsBackward0",
      rule=_refusing_bool(promotion.same, "abs() is not implemented for bool tensors; convert with .int() first"),
      saves_input=True, summary="|x|; the gradient at 0 is 0", aliases=("absolute",))
unary("sign", _sign, lambda F, g, c: g * 0, "SignBackward0", rule=promotion.same,
      summary="sign(x); its gradient is 0")
unary("sin", np.sin, lambda F, g, c: g * F.cos(c.inputs[0]), "SinBackward0", saves_input=True)
unary("cos", np.cos, lambda F, g, c: -g * F.sin(c.inputs[0]), "CosBackward0", saves_input=True)
unary("tanh", np.tanh, lambda F, g, c: g * (1 - c.output * c.output), "TanhBackward0", saves_output=True,
      also=("nn.functional.tanh",))
unary("sigmoid", lambda x: 1 / (1 + np.exp(-x)), lambda F, g, c: g * c.output * (1 - c.output), "SigmoidBackward0",
      saves_output=True, also=("nn.functional.sigmoid", "special.expit"))
# The gradient is selected (torch's threshold_backward), not multiplied by a mask: nan * 0 would be nan.
unary("relu", lambda x: np.maximum(x, 0).astype(x.dtype), lambda F, g, c: F.where(c.output > 0, g, 0.0),
      "ReluBackward0", rule=_refusing_bool(promotion.same, "Boolean inputs not supported for relu"),
      saves_output=True, summary="max(x, 0); the gradient at 0 is 0", also=("nn.functional.relu",))


# ---------------------------------------------------------------- maximum, minimum, where (clamp: clamp.py)
def _tie_weight(F, mine, other, largest: bool):
    """1 where this side wins, 1/2 where the two tie (torch splits ties evenly), 0 where it loses."""
    wins = (mine > other) if largest else (mine < other)
    return wins + (mine == other) * 0.5


binary("maximum", np.maximum,
       lambda F, g, c: g * _tie_weight(F, c.inputs[0], c.inputs[1], largest=True),
       lambda F, g, c: g * _tie_weight(F, c.inputs[1], c.inputs[0], largest=True), "MaximumBackward0",
       rule=tensors_only("maximum", promotion.promote, positions=None), summary="elementwise max; ties split the gradient evenly")
binary("minimum", np.minimum,
       lambda F, g, c: g * _tie_weight(F, c.inputs[0], c.inputs[1], largest=False),
       lambda F, g, c: g * _tie_weight(F, c.inputs[1], c.inputs[0], largest=False), "MinimumBackward0",
       rule=tensors_only("minimum", promotion.promote, positions=None), summary="elementwise min; ties split the gradient evenly")

register(OpDef(
    name="where", forward=_plain(np.where),
    vjps=(None, lambda F, g, c: F.where(c.inputs[0], g, 0.0), lambda F, g, c: F.where(c.inputs[0], 0.0, g)),
    grad_fn="WhereBackward0", dtype_rule=tensors_only("where", promotion.where), saves_inputs=(0,), min_inputs=3, max_inputs=3,
    out_shape=_broadcast, functions=("where",), summary="where(condition, a, b)",
))


# ---------------------------------------------------------------- comparisons (no gradient)
def comparison(name: str, function, operator: str, alias: str = "") -> None:
    # No reflected dunders: Python itself turns `3 < x` into `x > 3`.
    names = (name, alias) if alias else (name,)
    register(OpDef(
        name=name, forward=_plain(function), dtype_rule=promotion.compare,
        differentiable=False, min_inputs=2, max_inputs=2, out_shape=_broadcast,
        methods=names, functions=names, operators=(operator,), summary=f"elementwise {operator}; bool result",
    ))


comparison("eq", np.equal, "__eq__")
comparison("ne", np.not_equal, "__ne__", "not_equal")
comparison("lt", np.less, "__lt__", "less")
comparison("le", np.less_equal, "__le__", "less_equal")
comparison("gt", np.greater, "__gt__", "greater")
comparison("ge", np.greater_equal, "__ge__", "greater_equal")
register(OpDef(
    name="logical_and", forward=_plain(np.logical_and), dtype_rule=promotion.compare,
    differentiable=False, min_inputs=2, max_inputs=2, out_shape=_broadcast,
    methods=("logical_and",), functions=("logical_and",),
    summary="elementwise logical and (nonzero is true); bool result (`&` is bitwise_and)",
))


# ---------------------------------------------------------------- casts
register(OpDef(
    name="to", forward=lambda arrays, attrs: arrays[0].astype(attrs["dtype"].numpy, copy=True), vjps=(lambda F, g, c: g,),
    grad_fn="ToCopyBackward0", dtype_rule=tensors_only("to", promotion.cast), attrs=(AttrSpec("dtype", "dtype", required=True),),
    summary="cast to another dtype (the gradient is cast back)",
))
register(OpDef(
    name="clone", forward=lambda arrays, attrs: np.array(arrays[0], copy=True), vjps=(lambda F, g, c: g,),
    grad_fn="CloneBackward0", dtype_rule=tensors_only("clone", promotion.same), methods=("clone",), functions=("clone",),
    summary="a copy that is part of the graph",
))
