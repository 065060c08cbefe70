"""Op-table rows of the elementwise family: more unary math, rounding, binary ops with numbers on
either side, bitwise and logical ops, float tests, and the regression rows of issue 10's bugs
(`&` on integers is bitwise; the gradient of `0 ** x` is -inf for negative x).

Imported at the end of ops_table.py: the rows join its ROWS and run through the same tests.
"""

from __future__ import annotations

import warnings

import itertools

import numpy as np

from ops_table import ROWS, SHAPES, away_from_zero, fixed, inputs, normal, positive, row, shape_label

_FIRST = len(ROWS)


def uniform(low, high):
    return lambda shape: (lambda rng: rng.uniform(low, high, shape))


def ints(low, high, dtype=np.int64):
    return lambda shape: (lambda rng: rng.integers(low, high, shape).astype(dtype))


def bools(shape):
    return lambda rng: rng.random(shape) > 0.5


def non_integral(shape):
    """Values at least 0.1 away from an integer or a half: rounding is smooth there."""
    return lambda rng: rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape) * rng.choice([1.0, -1.0], shape) + 0.5


# ---------------------------------------------------------------- unary math
UNARY_MATH = {
    "exp2": (lambda m, a: m.exp2(a), normal),
    "expm1": (lambda m, a: a.expm1(), normal),
    "log1p": (lambda m, a: m.log1p(a), positive),
    "log2": (lambda m, a: a.log2(), positive),
    "log10": (lambda m, a: m.log10(a), positive),
    "tan": (lambda m, a: a.tan(), uniform(-1.2, 1.2)),
    "asin": (lambda m, a: m.asin(a), uniform(-0.9, 0.9)),
    "acos": (lambda m, a: a.acos(), uniform(-0.9, 0.9)),
    "atan": (lambda m, a: m.atan(a), normal),
    "sinh": (lambda m, a: a.sinh(), normal),
    "cosh": (lambda m, a: m.cosh(a), normal),
    "asinh": (lambda m, a: a.asinh(), normal),
    "acosh": (lambda m, a: m.acosh(a), uniform(1.2, 3.0)),
    "atanh": (lambda m, a: a.atanh(), uniform(-0.9, 0.9)),
    "erf": (lambda m, a: m.erf(a), normal),
    "erfc": (lambda m, a: a.erfc(), normal),
    "erfinv": (lambda m, a: m.erfinv(a), uniform(-0.9, 0.9)),
    "reciprocal": (lambda m, a: a.reciprocal(), away_from_zero),
    "rsqrt": (lambda m, a: m.rsqrt(a), positive),
    "square": (lambda m, a: a.square(), normal),
    "sgn": (lambda m, a: m.sgn(a), away_from_zero),
    "floor": (lambda m, a: a.floor(), non_integral),
    "ceil": (lambda m, a: m.ceil(a), non_integral),
    "trunc": (lambda m, a: a.trunc(), non_integral),
    "round": (lambda m, a: m.round(a), non_integral),
    "frac": (lambda m, a: a.frac(), non_integral),
}
for name, (program, make) in UNARY_MATH.items():
    for shape in SHAPES:
        row(name, shape_label(shape), inputs(make(shape)), program)
    row(name, "empty", inputs(make((0, 3))), program)
for alias, name, make in (("arcsin", "asin", uniform(-0.9, 0.9)), ("arccos", "acos", uniform(-0.9, 0.9)),
                          ("arctan", "atan", normal), ("arcsinh", "asinh", normal),
                          ("arccosh", "acosh", uniform(1.2, 3.0)), ("arctanh", "atanh", uniform(-0.9, 0.9)),
                          ("fix", "trunc", non_integral)):
    row(name, f"alias_{alias}", inputs(make((3, 4))), lambda m, a, alias=alias: getattr(m, alias)(a) * getattr(a, alias)())
for name in ("erf", "erfc", "erfinv", "expm1", "exp2", "log1p", "round"):
    make = uniform(-0.9, 0.9) if name == "erfinv" else positive if name == "log1p" else normal
    # torch.special.round passes decimals=0 on (RoundBackward1); one op cannot tell that spelling apart.
    row(name, "special", inputs(make((3, 4))), lambda m, a, name=name: getattr(m.special, name)(a),
        compare_grad_fn=name != "round")
row("round", "decimals_zero", inputs(non_integral((3, 4))), lambda m, a: a.round(decimals=0))
row("round", "decimals", inputs(normal((3, 4))), lambda m, a: a.round(decimals=2), finite_differences=False)
row("round", "negative_decimals", inputs(normal((3, 4))), lambda m, a: m.round(a * 100, decimals=-1),
    finite_differences=False)
row("round", "half_to_even", inputs(fixed([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])), lambda m, a: a.round(),
    finite_differences=False)
row("floor", "int_input", inputs(fixed([[1, -2], [3, 4]])), lambda m, k: k.floor())
row("square", "int_input", inputs(fixed([1, -2, 3])), lambda m, k: m.square(k))
row("exp2", "int_input", inputs(fixed([1, 2, 3])), lambda m, k: m.exp2(k))
row("reciprocal", "int_input", inputs(fixed([1, 2, 4])), lambda m, k: k.reciprocal())
row("sgn", "at_zero", inputs(fixed([-1.0, 0.0, 2.0])), lambda m, a: a.sgn(), finite_differences=False)
row("erfinv", "at_bounds", inputs(fixed([-1.0, 1.0, 0.0])), lambda m, a: m.erfinv(a) * 1, finite_differences=False,
    second_order=False)
row("log1p", "tiny", inputs(fixed([1e-10, -1e-12, 0.0])), lambda m, a: a.log1p(), finite_differences=False)

# ---------------------------------------------------------------- binary ops
BINARY_MATH = {
    "atan2": (lambda m, a, b: m.atan2(a, b), away_from_zero, away_from_zero),
    "hypot": (lambda m, a, b: m.hypot(a, b), away_from_zero, away_from_zero),
    "copysign": (lambda m, a, b: m.copysign(a, b), away_from_zero, away_from_zero),
    "fmod": (lambda m, a, b: m.fmod(a, b), normal, uniform(1.7, 2.3)),
    "remainder": (lambda m, a, b: a % b, normal, uniform(1.7, 2.3)),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), normal, normal),
    "xlogy": (lambda m, a, b: m.xlogy(a, b), normal, positive),
    "clamp_min": (lambda m, a, b: a.clamp_min(b), normal, normal),
    "clamp_max": (lambda m, a, b: m.clamp_max(a, b), normal, normal),
}
for name, (program, left, right) in BINARY_MATH.items():
    for left_shape, right_shape in itertools.product(SHAPES, SHAPES):
        row(name, shape_label(left_shape, right_shape), inputs(left(left_shape), right(right_shape)), program)
row("hypot", "at_zero_behind_relu", inputs(fixed([-1.0, 3.0, 0.0])),
    lambda m, a: m.hypot(a.relu(), a.relu()), finite_differences=False, second_order=False)
row("hypot", "at_zero", inputs(fixed([0.0, 3.0, 0.0]), fixed([0.0, 4.0, -2.0])), lambda m, a, b: m.hypot(a, b),
    finite_differences=False, second_order=False)
row("atan2", "arctan2", inputs(normal((3, 4)), away_from_zero((1, 4))), lambda m, a, b: m.arctan2(a, b))
row("atan2", "int_inputs", inputs(fixed([1, -2, 3]), fixed([2, 2, -1])), lambda m, a, b: m.atan2(a, b))
row("copysign", "scalar_other", inputs(normal((3, 4))), lambda m, a: m.copysign(a, -1.0))
row("copysign", "method_int_tensor", inputs(away_from_zero((3, 4)), fixed([1, -1, 0, -2])), lambda m, a, k: a.copysign(k))
row("fmod", "scalar_other", inputs(normal((3, 4))), lambda m, a: m.fmod(a, 0.7))
row("fmod", "method_negative", inputs(normal((3, 4)) ), lambda m, a: a.fmod(-0.7))
row("fmod", "ints", inputs(fixed([7, -7, 5, -5]), fixed([2, 2, -3, -3])), lambda m, a, b: m.fmod(a, b))
row("remainder", "scalar_other", inputs(normal((3, 4))), lambda m, a: a % 0.7)
row("remainder", "function_scalar", inputs(normal((3, 4))), lambda m, a: m.remainder(a, -0.7))
row("remainder", "ints", inputs(fixed([7, -7, 5, -5]), fixed([2, 2, -3, -3])), lambda m, a, b: a % b)
row("remainder", "int_scalars_both_sides", inputs(fixed([7, -7, 5, -5])), lambda m, k: (k % 3) + (10 % (k.abs() + 1)))
row("remainder", "number_left_no_grad", inputs(away_from_zero((3, 4))), lambda m, a: 1.5 % a.detach())
row("floor_divide", "operator_ints", inputs(fixed([7, -7, 5, -5]), fixed([2, 2, -3, -3])), lambda m, a, b: a // b)
row("floor_divide", "function_floats", inputs(normal((3, 4)), away_from_zero((1, 4))),
    lambda m, a, b: m.floor_divide(a.detach(), b.detach()))
row("floor_divide", "scalars_both_sides", inputs(fixed([7, -7, 5, -5])), lambda m, k: (k // 2) + (17 // (k.abs() + 1)))
row("floor_divide", "method_float_scalar", inputs(normal((3, 4))), lambda m, a: a.detach().floor_divide(0.3))
row("logaddexp", "large", inputs(fixed([1000.0, -1000.0, 0.0]), fixed([999.0, -1000.0, 800.0])),
    lambda m, a, b: m.logaddexp(a, b), second_order=False)  # torch's second derivative is nan where exp underflows
row("xlogy", "zero_x", inputs(fixed([0.0, 0.0, 1.0]), fixed([0.0, 2.0, 3.0])), lambda m, a, b: m.xlogy(a, b),
    finite_differences=False, second_order=False)
row("xlogy", "scalar_x", inputs(positive((3, 4))), lambda m, b: m.xlogy(2.0, b))
row("xlogy", "scalar_y", inputs(normal((3, 4))), lambda m, a: a.xlogy(3.0))
row("xlogy", "special", inputs(normal((3, 4)), positive((3, 4))), lambda m, a, b: m.special.xlogy(a, b))
row("xlogy", "int_inputs", inputs(fixed([0, 1, 2]), fixed([1, 2, 3])), lambda m, a, b: m.xlogy(a, b))
row("clamp_min", "scalar", inputs(normal((3, 4))), lambda m, a: a.clamp_min(0.1))
row("clamp_max", "scalar", inputs(normal((3, 4))), lambda m, a: m.clamp_max(a, -0.2))
row("clamp_min", "ties", inputs(fixed([0.0, 1.0, -1.0])), lambda m, a: a.clamp_min(0.0), finite_differences=False)
row("clamp_max", "int_tensor_int_bound", inputs(fixed([-3, 0, 3])), lambda m, k: k.clamp_max(1))
for weight_label, weight in (("number", 0.3), ("0d", None), ("tensor", (3, 4))):
    if weight is None:
        row("lerp", f"weight_{weight_label}", inputs(normal((3, 4)), normal((3, 4)), normal(())),
            lambda m, a, b, w: m.lerp(a, b, w))
    elif isinstance(weight, tuple):
        row("lerp", f"weight_{weight_label}", inputs(normal((3, 1)), normal((1, 4)), normal(weight)),
            lambda m, a, b, w: a.lerp(b, w))
    else:
        row("lerp", f"weight_{weight_label}", inputs(normal((3, 4)), normal((1, 4))),
            lambda m, a, b, w=weight: m.lerp(a, b, w))
row("lerp", "weight_keyword", inputs(normal((2, 3)), normal((2, 3))), lambda m, a, b: m.lerp(a, b, weight=0.75))
row("lerp", "tensor_weight_keyword", inputs(normal((2, 3)), normal((2, 3)), normal((2, 3))),
    lambda m, a, b, w: a.lerp(end=b, weight=w))

# ---------------------------------------------------------------- div with rounding modes and aliases
for mode in ("trunc", "floor"):
    row("div", f"{mode}_floats", inputs(normal((3, 4)), away_from_zero((1, 4))),
        lambda m, a, b, mode=mode: m.div(a, b, rounding_mode=mode), finite_differences=False)
    row("div", f"{mode}_ints", inputs(fixed([7, -7, 5, -5]), fixed([2, 2, -3, -3])),
        lambda m, a, b, mode=mode: a.div(b, rounding_mode=mode))
    row("div", f"{mode}_scalar", inputs(normal((3, 4))), lambda m, a, mode=mode: m.div(a, 0.4, rounding_mode=mode),
        finite_differences=False)
# torch names an explicit rounding_mode=None DivBackward2; None is the attribute's default here.
row("div", "rounding_none", inputs(normal((3, 4)), away_from_zero((3, 4))), lambda m, a, b: m.div(a, b, rounding_mode=None),
    compare_grad_fn=False)
row("div", "divide", inputs(normal((3, 4)), away_from_zero((3, 1))), lambda m, a, b: m.divide(a, b))
row("div", "true_divide_ints", inputs(fixed([7, -7, 5]), fixed([2, 2, -3])), lambda m, a, b: m.true_divide(a, b))
row("div", "divide_method_floor", inputs(fixed([7, -7, 5])), lambda m, k: k.divide(2, rounding_mode="floor"))
row("mul", "multiply", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, b: m.multiply(a, b))
row("sub", "subtract", inputs(normal((3, 4)), normal(())), lambda m, a, b: a.subtract(b))
row("neg", "negative", inputs(normal((3, 4))), lambda m, a: m.negative(a))
row("abs", "absolute", inputs(away_from_zero((3, 4))), lambda m, a: a.absolute())
for alias, name in (("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"), ("less_equal", "le"),
                    ("not_equal", "ne")):
    row(name, f"alias_{alias}", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, b, alias=alias: getattr(m, alias)(a, b))

# ---------------------------------------------------------------- float tests, isclose, nan_to_num
SPECIALS = [1.0, float("nan"), float("inf"), -float("inf"), 0.0, -2.5]
for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf"):
    row(name, "specials", inputs(fixed(SPECIALS)), lambda m, a, name=name: getattr(m, name)(a))
    row(name, "int_input", inputs(fixed([1, 2])), lambda m, k, name=name: getattr(k, name)())
row("isclose", "defaults", inputs(fixed([1.0, 1.0 + 1e-9, 2.0, float("nan")]), fixed([1.0, 1.0, 2.1, float("nan")])),
    lambda m, a, b: m.isclose(a, b))
row("isclose", "tolerances", inputs(normal((3, 4)), normal((1, 4))),
    lambda m, a, b: a.isclose(b, rtol=0.5, atol=0.3, equal_nan=True))
row("isclose", "equal_nan", inputs(fixed([float("nan"), 1.0])), lambda m, a: m.isclose(a, a, equal_nan=True))
row("nan_to_num", "defaults", inputs(fixed(SPECIALS)), lambda m, a: m.nan_to_num(a) * 1, finite_differences=False)
row("nan_to_num", "values", inputs(fixed(SPECIALS)), lambda m, a: a.nan_to_num(nan=0.5, posinf=9.0, neginf=-9.0))
row("nan_to_num", "plain", inputs(normal((3, 4))), lambda m, a: a.nan_to_num(1.0))
row("nan_to_num", "int_input", inputs(fixed([1, 2])), lambda m, k: k.nan_to_num())

# ---------------------------------------------------------------- bitwise and logical
INT_PAIRS = {
    "int32": (fixed(np.array([1, -8, 6, 0], dtype=np.int32)), fixed(np.array([3, 3, 3, -1], dtype=np.int32))),
    "int64_broadcast": (ints(-50, 50)((3, 4)), ints(-50, 50)((1, 4))),
    "uint8": (ints(0, 255, np.uint8)((3, 4)), ints(0, 255, np.uint8)((3, 4))),
    "int8_with_int16": (ints(-100, 100, np.int8)((3, 4)), ints(-300, 300, np.int16)((4,))),
    "bool": (bools((3, 4)), bools((3, 1))),
    "int_with_bool": (ints(-9, 9)((3, 4)), bools((3, 4))),
}
BITWISE = {"bitwise_and": lambda a, b: a & b, "bitwise_or": lambda a, b: a | b, "bitwise_xor": lambda a, b: a ^ b}
for name, operator in BITWISE.items():
    for label, (left, right) in INT_PAIRS.items():
        row(name, label, inputs(left, right), lambda m, a, b, op=operator: op(a, b))
    row(name, "function", inputs(ints(-9, 9)((3, 4)), ints(-9, 9)((4,))), lambda m, a, b, name=name: getattr(m, name)(a, b))
    row(name, "method", inputs(ints(-9, 9)((3, 4)), ints(-9, 9)((4,))), lambda m, a, b, name=name: getattr(a, name)(b))
    row(name, "number_right", inputs(ints(-9, 9)((3, 4))), lambda m, a, op=operator: op(a, 5))
    row(name, "number_left", inputs(ints(-9, 9)((3, 4))), lambda m, a, op=operator: op(-6, a))
    row(name, "bool_number", inputs(bools((3, 4))), lambda m, a, op=operator: op(a, True))
row("bitwise_and", "issue_10_regression", inputs(fixed(np.array([1, -8, 6], dtype=np.int32)),
                                               fixed(np.array([3, 3, 3], dtype=np.int32))), lambda m, a, b: a & b)
row("bitwise_and", "of_comparisons", inputs(normal((3, 4))), lambda m, a: (a > 0) & (a < 1))
for name, operator in (("bitwise_left_shift", lambda a, b: a << b), ("bitwise_right_shift", lambda a, b: a >> b)):
    row(name, "int32", inputs(fixed(np.array([1, -8, 6, 5], dtype=np.int32)), fixed(np.array([0, 2, 31, 3], dtype=np.int32))),
        lambda m, a, b, op=operator: op(a, b))
    row(name, "int64_broadcast", inputs(ints(-1000, 1000)((3, 4)), ints(0, 10)((4,))), lambda m, a, b, op=operator: op(a, b))
    row(name, "number_right", inputs(ints(-1000, 1000)((3, 4))), lambda m, a, op=operator: op(a, 3))
    row(name, "number_left", inputs(ints(0, 8)((3, 4))), lambda m, a, op=operator: op(-77, a))
    row(name, "uint8", inputs(ints(0, 255, np.uint8)((5,))), lambda m, a, op=operator: op(a, 1))
    row(name, "function", inputs(ints(-9, 9)((3, 4)), ints(0, 4)((3, 4))), lambda m, a, b, name=name: getattr(m, name)(a, b))
for label, make in (("int32", fixed(np.array([1, -8, 0], dtype=np.int32))), ("int64", ints(-9, 9)((3, 4))),
                    ("bool", bools((3, 4))), ("uint8", ints(0, 255, np.uint8)((4,)))):
    row("bitwise_not", label, inputs(make), lambda m, a: ~a)
row("bitwise_not", "function", inputs(ints(-9, 9)((3, 4))), lambda m, a: m.bitwise_not(a))
for name in ("logical_or", "logical_xor"):
    row(name, "bools", inputs(bools((3, 4)), bools((1, 4))), lambda m, a, b, name=name: getattr(m, name)(a, b))
    row(name, "numbers", inputs(small := normal((3, 4)), fixed([0, 1, 2, 0])), lambda m, a, k, name=name: getattr(a, name)(k))
row("logical_not", "floats", inputs(fixed([0.0, 1.5, -2.0])), lambda m, a: m.logical_not(a))
row("logical_not", "bools", inputs(bools((3, 4))), lambda m, a: a.logical_not())

# ---------------------------------------------------------------- issue 10: the gradient of 0 ** x
row("pow", "zero_number_base", inputs(fixed([-1.0, -0.5, 0.0, 1.0, 2.0])), lambda m, x: 0 ** x,
    finite_differences=False, second_order=False)
row("pow", "zero_float_base", inputs(fixed([-2.0, 0.0, 3.0])), lambda m, x: 0.0 ** x,
    finite_differences=False, second_order=False)

# ---------------------------------------------------------------- activations (torch.nn.functional)
def scaled(factor):
    return lambda shape: (lambda rng: rng.standard_normal(shape) * factor)


ACTIVATIONS = {
    "relu6": (lambda m, a: m.nn.functional.relu6(a), scaled(4.0)),
    "hardtanh": (lambda m, a: m.nn.functional.hardtanh(a), scaled(2.0)),
    "leaky_relu": (lambda m, a: m.nn.functional.leaky_relu(a), away_from_zero),
    "elu": (lambda m, a: m.nn.functional.elu(a), away_from_zero),
    "selu": (lambda m, a: m.selu(a), away_from_zero),
    "celu": (lambda m, a: m.celu(a, 0.5), away_from_zero),
    "gelu": (lambda m, a: m.nn.functional.gelu(a), normal),
    "silu": (lambda m, a: m.nn.functional.silu(a), normal),
    "mish": (lambda m, a: m.nn.functional.mish(a), normal),
    "softplus": (lambda m, a: m.nn.functional.softplus(a), normal),
    "softsign": (lambda m, a: m.nn.functional.softsign(a), away_from_zero),
    "hardsigmoid": (lambda m, a: m.nn.functional.hardsigmoid(a), scaled(4.0)),
    "hardswish": (lambda m, a: m.nn.functional.hardswish(a), scaled(4.0)),
    "logsigmoid": (lambda m, a: m.nn.functional.logsigmoid(a), normal),
    "tanhshrink": (lambda m, a: m.nn.functional.tanhshrink(a), normal),
    "softshrink": (lambda m, a: m.nn.functional.softshrink(a), scaled(2.0)),
    "hardshrink": (lambda m, a: m.hardshrink(a), scaled(2.0)),
    "threshold": (lambda m, a: m.nn.functional.threshold(a, 0.1, -2.0), scaled(2.0)),
}
# torch has no second derivative for hardsigmoid (it raises); the engine's is 0.
for name, (program, make) in ACTIVATIONS.items():
    for shape in SHAPES:
        row(name, shape_label(shape), inputs(make(shape)), program, second_order=name != "hardsigmoid")
    row(name, "empty", inputs(make((0, 3))), program, second_order=name != "hardsigmoid")
# torch computes these on integer tensors too (hardtanh's family keeps the dtype, the others give floats).
for name in ("relu6", "hardtanh", "threshold", "softsign", "tanhshrink"):
    row(name, "int_input", inputs(ints(-9, 9, np.int32)((3, 4))), ACTIVATIONS[name][0])
row("relu", "functional_inplace_false", inputs(away_from_zero((3, 4))), lambda m, a: m.nn.functional.relu(a, inplace=False))
row("leaky_relu", "slope", inputs(away_from_zero((3, 4))), lambda m, a: m.nn.functional.leaky_relu(a, 0.2))
row("leaky_relu", "slope_keyword", inputs(away_from_zero((3, 4))),
    lambda m, a: m.nn.functional.leaky_relu(a, negative_slope=-0.5, inplace=False))
row("elu", "alpha", inputs(away_from_zero((3, 4))), lambda m, a: m.nn.functional.elu(a, alpha=2.0))
row("selu", "functional", inputs(away_from_zero((3, 4))), lambda m, a: m.nn.functional.selu(a))
row("celu", "functional_default", inputs(away_from_zero((3, 4))), lambda m, a: m.nn.functional.celu(a))
row("gelu", "tanh", inputs(normal((3, 4))), lambda m, a: m.nn.functional.gelu(a, approximate="tanh"))
row("gelu", "none_explicit", inputs(scaled(3.0)((3, 4))), lambda m, a: m.nn.functional.gelu(a, approximate="none"))
row("softplus", "beta_threshold", inputs(scaled(3.0)((3, 4))), lambda m, a: m.nn.functional.softplus(a, beta=2.0, threshold=3.0))
row("softplus", "large", inputs(fixed([-100.0, 0.0, 25.0])), lambda m, a: m.nn.functional.softplus(a))
row("logsigmoid", "large", inputs(fixed([-800.0, 0.0, 800.0])), lambda m, a: m.nn.functional.logsigmoid(a))
row("hardtanh", "bounds", inputs(scaled(3.0)((3, 4))), lambda m, a: m.nn.functional.hardtanh(a, -2.0, 0.5))
row("hardtanh", "at_bounds", inputs(fixed([-1.0, 1.0, 0.0])), lambda m, a: m.nn.functional.hardtanh(a),
    finite_differences=False)
row("relu6", "at_kinks", inputs(fixed([0.0, 6.0, 3.0, -1.0, 7.0])), lambda m, a: m.nn.functional.relu6(a),
    finite_differences=False)
row("hardswish", "at_kinks", inputs(fixed([-3.0, 3.0, 0.0])), lambda m, a: m.nn.functional.hardswish(a),
    finite_differences=False)
row("softshrink", "lambd", inputs(scaled(2.0)((3, 4))), lambda m, a: m.nn.functional.softshrink(a, lambd=1.0))
row("hardshrink", "functional_lambd", inputs(scaled(2.0)((3, 4))), lambda m, a: m.nn.functional.hardshrink(a, 1.0))
row("hardshrink", "method", inputs(scaled(2.0)((3, 4))), lambda m, a: a.hardshrink())
row("threshold", "torch_function", inputs(scaled(2.0)((3, 4))), lambda m, a: m.threshold(a, 0.5, 0.0))
for shape, dim in (((3, 4), -1), ((4, 3), 0), ((2, 6, 1), 1)):
    row("glu", f"{shape_label(shape)}_dim{dim}", inputs(normal(shape)), lambda m, a, dim=dim: m.nn.functional.glu(a, dim))
row("glu", "default_dim", inputs(normal((2, 4))), lambda m, a: m.nn.functional.glu(a))
for x_shape, w_shape in (((3, 4), (1,)), ((3, 4), (4,)), ((2, 3, 5), (3,)), ((2, 3, 2, 2), (3,)), ((5,), (1,)),
                         ((), (1,))):
    row("prelu", shape_label(x_shape, w_shape), inputs(away_from_zero(x_shape), positive(w_shape)),
        lambda m, a, w: m.nn.functional.prelu(a, w))
row("prelu", "torch_function", inputs(away_from_zero((3, 4)), positive((4,))), lambda m, a, w: m.prelu(a, w))
row("prelu", "method", inputs(away_from_zero((3, 2)), positive((1,))), lambda m, a, w: a.prelu(w))
for shape, dim in (((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((4,), 0)):
    row("softmin", f"{shape_label(shape)}_dim{dim}", inputs(normal(shape)),
        lambda m, a, dim=dim: m.nn.functional.softmin(a, dim))
row("softmin", "dim_keyword", inputs(normal((3, 4))), lambda m, a: m.nn.functional.softmin(a, dim=1))
for name in ("relu", "sigmoid", "tanh"):
    row(name, "functional", inputs(away_from_zero((3, 4))), lambda m, a, name=name: getattr(m.nn.functional, name)(a))
for name in ("softmax", "log_softmax"):
    row(name, "functional", inputs(normal((3, 4))), lambda m, a, name=name: getattr(m.nn.functional, name)(a, dim=1))
row("sigmoid", "special_expit", inputs(normal((3, 4))), lambda m, a: m.special.expit(a))


def _implicit_dim(m, name, a):
    """F.softmax(a) without dim: torch's legacy choice (its UserWarning is checked in tests/torchlike)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return getattr(m.nn.functional, name)(a)


# dtype= rows cast a float32 copy up: central differences in float32 are too coarse to compare
FLOAT32_FIRST = {"finite_differences": False}
for name in ("softmax", "log_softmax", "softmin"):
    for shape in ((4,), (3, 4), (2, 3, 4), (2, 3, 2, 2)):
        row(name, f"implicit_dim_{shape_label(shape)}", inputs(normal(shape)),
            lambda m, a, name=name: _implicit_dim(m, name, a))
    row(name, "dtype_float64", inputs(normal((3, 4))),
        lambda m, a, name=name: getattr(m.nn.functional, name)(a.float(), 1, dtype=m.float64), **FLOAT32_FIRST)
row("softmax", "method_dtype", inputs(normal((3, 4))), lambda m, a: a.float().softmax(-1, dtype=m.float64),
    **FLOAT32_FIRST)
row("log_softmax", "function_dtype_positional", inputs(normal((3, 4))),
    lambda m, a: m.log_softmax(a.float(), 0, m.float64), **FLOAT32_FIRST)

# This family's rows (the SDK runs them against a real server: tests/client/test_client_ops_elementwise.py).
ELEMENTWISE_ROWS = ROWS[_FIRST:]
