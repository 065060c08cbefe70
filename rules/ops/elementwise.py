"""Rules of the elementwise ops: arithmetic, unary math, comparisons, maximum/minimum, where, casts.

The other elementwise families are sub-modules imported at the end (more binary ops, more unary math,
activations, bitwise ops, clamp, in-place fills and the .grad ops). See rules/spec.py for what an entry
holds; the engine's computations are in engine/ops/elementwise*.py.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import dtypes, promotion
from gradwire.rules.errors import DTypeRuntimeError, InvalidArgumentRuntimeError

from ..checks import tensors_only
from ..shapes import broadcast, same
from ..spec import AttrSpec, OpRules, define


def binary(name: str, grad_fn, *, rule=promotion.promote, operators=(), reflected=(), summary: str = "",
           aliases: tuple[str, ...] = (), special: tuple[str, ...] = (), arity: int = 2,
           signature: tuple[str, ...] = (), **more) -> OpRules:
    """An elementwise op of `arity` operands that broadcast; `aliases` are further method+function names,
    `special` its torch.special names."""
    return define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=rule, min_inputs=arity, max_inputs=arity, out_shape=broadcast,
        methods=(name, *aliases), functions=(name, *aliases, *(f"special.{s}" for s in special)),
        operators=operators, reflected_operators=reflected, summary=summary, signature=signature, **more,
    ))


def unary(name: str, grad_fn, *, rule=promotion.unary_float, summary: str = "", also: tuple[str, ...] = (),
          aliases: tuple[str, ...] = (), special: tuple[str, ...] = (), **more) -> OpRules:
    """An elementwise op of one tensor; `also` adds function spellings such as "nn.functional.relu",
    `aliases` further method+function names (absolute ...), `special` its torch.special names."""
    return define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=tensors_only(name, rule), out_shape=same,
        methods=(name, *aliases), functions=(name, *aliases, *also, *(f"special.{s}" for s in special)),
        summary=summary or f"elementwise {name}(x)", **more,
    ))


def refusing_bool(rule, message: str):
    """A dtype rule refusing any bool operand (torch has no -x or a - b for bools), with torch's message."""

    def checked(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        if dtypes.bool_ in operand_dtypes or any(isinstance(x, (bool, np.bool_)) for x in operands):
            raise DTypeRuntimeError(message)
        return rule(operand_dtypes, operands, attrs)

    return checked


# ---------------------------------------------------------------- arithmetic
binary("add", "AddBackward0", operators=("__add__",), reflected=("__radd__",), summary="a + b")
binary("sub", lambda call: "RsubBackward1" if call.scalar_mask[0] else "SubBackward0",
       rule=refusing_bool(promotion.promote, "Subtraction, the `-` operator, with a bool tensor is not "
                          "supported. If you are trying to invert a mask, use the `~` or `logical_not()` "
                          "operator instead."),
       operators=("__sub__",), reflected=("__rsub__",), summary="a - b", aliases=("subtract",))
binary("mul", "MulBackward0", operators=("__mul__",), reflected=("__rmul__",), summary="a * b", aliases=("multiply",))

ROUNDING_MODES = (None, "trunc", "floor")


def _div_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """True division promotes integers to the default float; with a rounding mode they stay integers."""
    mode = attrs["rounding_mode"]
    if mode not in ROUNDING_MODES:
        raise InvalidArgumentRuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
    if mode is None:
        return promotion.promote_to_float(operand_dtypes, operands, attrs)
    return promotion.promote(operand_dtypes, operands, attrs)


def _div_name(call) -> str:
    if call.attrs["rounding_mode"] is not None:
        return "DivBackward2"
    return "MulBackward0" if call.scalar_mask[0] else "DivBackward0"


binary("div", _div_name, rule=_div_rule, aliases=("divide", "true_divide"),
       attrs=(AttrSpec("rounding_mode", "text|none",
                       description="None: true division; 'trunc': round toward zero; 'floor': round down"),),
       operators=("__truediv__",), reflected=("__rtruediv__",),
       summary="a / b; rounding_mode 'trunc' or 'floor' rounds the quotient (integers then stay integers)")


def _pow_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """promote; an integral result with a negative Python-integer exponent is torch's error (a tensor
    exponent's values are checked when the op runs)."""
    compute, result = promotion.promote(operand_dtypes, operands, attrs)
    exponent = operands[1]
    if (not result.is_floating_point and operand_dtypes[1] is None
            and isinstance(exponent, (int, np.integer)) and not isinstance(exponent, (bool, np.bool_)) and exponent < 0):
        raise InvalidArgumentRuntimeError("Integers to negative integer powers are not allowed.")
    return compute, result


def _pow_name(call) -> str:
    scalar_base, scalar_exponent = call.scalar_mask
    return "PowBackward2" if scalar_base else "PowBackward0" if scalar_exponent else "PowBackward1"


binary("pow", _pow_name, rule=_pow_rule, operators=("__pow__",), reflected=("__rpow__",), summary="a ** b")
define(OpRules(
    name="neg", grad_fn="NegBackward0", out_shape=same,
    dtype_rule=refusing_bool(tensors_only("neg", promotion.same), "Negation, the `-` operator, on a bool tensor is "
                             "not supported. If you are trying to invert a mask, use the `~` or `logical_not()` "
                             "operator instead."),
    methods=("neg", "negative"), functions=("neg", "negative"), operators=("__neg__",), summary="-x",
))

# ---------------------------------------------------------------- unary math
unary("exp", "ExpBackward0")
unary("log", "LogBackward0")
unary("sqrt", "SqrtBackward0", summary="sqrt; the gradient at 0 is inf, as in torch")
unary("abs", "AbsBackward0", rule=refusing_bool(promotion.same, "abs() is not implemented for bool tensors; convert "
                                                "with .int() first"),
      summary="|x|; the gradient at 0 is 0", aliases=("absolute",))
unary("sign", "SignBackward0", rule=promotion.same, summary="sign(x); its gradient is 0")
unary("sin", "SinBackward0")
unary("cos", "CosBackward0")
unary("tanh", "TanhBackward0", also=("nn.functional.tanh",))
unary("sigmoid", "SigmoidBackward0", also=("nn.functional.sigmoid", "special.expit"))
def _relu_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[0] is dtypes.bool_:
        raise DTypeRuntimeError("Boolean inputs not supported for relu")
    return promotion.same(operand_dtypes, operands, attrs)


unary("relu", "ReluBackward0", rule=_relu_rule, summary="max(x, 0); the gradient at 0 is 0",
      also=("nn.functional.relu",),
      attrs=(AttrSpec("inplace", "boolean", default=False,
                      description="nn.functional.relu's flag: True runs relu_ (x is changed in place)"),))

# ---------------------------------------------------------------- maximum, minimum, where (clamp: clamp.py)
binary("maximum", "MaximumBackward0", rule=tensors_only("maximum", promotion.promote, positions=None),
       summary="elementwise max; ties split the gradient evenly")
binary("minimum", "MinimumBackward0", rule=tensors_only("minimum", promotion.promote, positions=None),
       summary="elementwise min; ties split the gradient evenly")
define(OpRules(
    name="where", grad_fn="WhereBackward0", dtype_rule=tensors_only("where", promotion.where), min_inputs=3,
    max_inputs=3, out_shape=broadcast, functions=("where",), summary="where(condition, a, b)",
))


# ---------------------------------------------------------------- comparisons (no gradient)
def comparison(name: str, operator: str, alias: str = "") -> None:
    # No reflected dunders: Python itself turns `3 < x` into `x > 3`.
    names = (name, alias) if alias else (name,)
    define(OpRules(
        name=name, dtype_rule=promotion.compare, differentiable=False, min_inputs=2, max_inputs=2,
        out_shape=broadcast, methods=names, functions=names, operators=(operator,),
        summary=f"elementwise {operator}; bool result",
    ))


comparison("eq", "__eq__")
comparison("ne", "__ne__", "not_equal")
comparison("lt", "__lt__", "less")
comparison("le", "__le__", "less_equal")
comparison("gt", "__gt__", "greater")
comparison("ge", "__ge__", "greater_equal")
define(OpRules(
    name="logical_and", dtype_rule=promotion.compare, differentiable=False, min_inputs=2, max_inputs=2,
    out_shape=broadcast, methods=("logical_and",), functions=("logical_and",),
    summary="elementwise logical and (nonzero is true); bool result (`&` is bitwise_and)",
))

# ---------------------------------------------------------------- casts
define(OpRules(
    name="to", grad_fn="ToCopyBackward0", dtype_rule=tensors_only("to", promotion.cast), out_shape=same,
    attrs=(AttrSpec("dtype", "dtype", required=True),), summary="cast to another dtype (the gradient is cast back)",
))
define(OpRules(
    name="clone", grad_fn="CloneBackward0", dtype_rule=tensors_only("clone", promotion.same), out_shape=same,
    methods=("clone",), functions=("clone",), summary="a copy that is part of the graph",
))

# The other elementwise families (they build on the factories above).
from . import activations, bitwise, clamp, elementwise_binary, elementwise_math, fills  # noqa: E402,F401
