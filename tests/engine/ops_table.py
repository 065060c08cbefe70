"""The op table: one or more rows per registry op, each a program run in gradwire and in torch.

A row names the registry op it exercises, how to build its inputs from a seeded generator and the
program (written once, against either module). test_ops_table.py checks every row's values, dtypes,
grad_fn names and gradients against torch, its gradients against central differences and its second
derivatives against torch; it also fails when a registry op has no row.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import gradwire.engine as gw

# The broadcasting shapes every elementwise op is checked over (all pairs for binary ops).
SHAPES = [(), (3, 4), (3, 1), (1, 4)]


@dataclass(frozen=True)
class Row:
    op: str  # the registry op the program exercises
    label: str
    inputs: Callable[[np.random.Generator], list]
    program: Callable[..., Any]
    # torch's spelling when it differs from gradwire's (internal ops that torch does not expose).
    torch_program: Callable[..., Any] | None = None
    finite_differences: bool = True  # False where the program is not smooth at its inputs (ties)
    second_order: bool = True
    compare_grad_fn: bool = True

    @property
    def id(self) -> str:
        return f"{self.op}[{self.label}]"

    def program_for(self, module: Any) -> Callable[..., Any]:
        if module is not gw and self.torch_program is not None:
            return self.torch_program
        return self.program


# ---------------------------------------------------------------- input makers
def normal(shape):
    return lambda rng: rng.standard_normal(shape)


def positive(shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def away_from_zero(shape):
    """Values with |x| in [0.5, 2]: safe divisors, and no kinks of abs/relu within the FD step."""
    return lambda rng: rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def small_ints(shape):
    """Float values drawn from {0, 1, 2}: plenty of ties."""
    return lambda rng: rng.integers(0, 3, shape).astype(np.float64)


def fixed(array):
    return lambda rng: np.array(array)


def inputs(*makers):
    return lambda rng: [np.asarray(m(rng)) if callable(m) else m for m in makers]


def shape_label(*shapes) -> str:
    return "_".join("x".join(map(str, s)) or "0d" for s in shapes)


ROWS: list[Row] = []


def row(op: str, label: str, make_inputs, program, **options) -> None:
    ROWS.append(Row(op, label, make_inputs, program, **options))


# ---------------------------------------------------------------- arithmetic
BINARY = {
    "add": (lambda m, a, b: a + b, normal),
    "sub": (lambda m, a, b: a - b, normal),
    "mul": (lambda m, a, b: a * b, normal),
    "div": (lambda m, a, b: a / b, away_from_zero),
    "pow": (lambda m, a, b: a ** b, None),
    "maximum": (lambda m, a, b: m.maximum(a, b), normal),
    "minimum": (lambda m, a, b: m.minimum(a, b), normal),
}
for name, (program, right) in BINARY.items():
    for left_shape, right_shape in itertools.product(SHAPES, SHAPES):
        if name == "pow":
            make = inputs(positive(left_shape), normal(right_shape))
        else:
            make = inputs(normal(left_shape), right(right_shape))
        row(name, shape_label(left_shape, right_shape), make, program)

row("add", "method", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, b: m.add(a, b))
# alpha=: a + alpha * b (Python calls scale b first: rules.arguments.ALPHA_OPS)
row("add", "alpha", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, b: a.add(b, alpha=-0.5))
row("add", "alpha_scalar_other", inputs(normal((3, 4))), lambda m, a: m.add(a, 2, alpha=3))
row("sub", "alpha", inputs(normal((3, 4)), normal(())), lambda m, a, b: m.sub(a, b, alpha=2))
row("add_", "alpha_sgd_step", inputs(normal((3, 4)), normal((3, 4))),
    lambda m, a, g: (a * 1).add_(g, alpha=-0.1))
row("sub_", "alpha", inputs(normal((3, 4)), normal((4,))), lambda m, a, b: (a * 1).sub_(b, alpha=1.5))
row("add", "scalar_right", inputs(normal((3, 4))), lambda m, a: a + 2.5)
row("add", "scalar_left_int", inputs(normal((3, 4))), lambda m, a: 3 + a)
row("sub", "scalar_right", inputs(normal((3, 4))), lambda m, a: a - 2.5)
row("sub", "scalar_left", inputs(normal((3, 4))), lambda m, a: 2.5 - a)
row("sub", "method", inputs(normal((3, 1)), normal(())), lambda m, a, b: a.sub(b))
row("mul", "scalar_right", inputs(normal((3, 4))), lambda m, a: a * 2.5)
row("mul", "scalar_left_int", inputs(normal(())), lambda m, a: 3 * a)
row("mul", "self", inputs(normal((3, 4))), lambda m, a: a * a)
row("div", "scalar_right", inputs(normal((3, 4))), lambda m, a: a / 4)
row("div", "scalar_left", inputs(away_from_zero((3, 4))), lambda m, a: 2.5 / a)
row("div", "int_tensor", inputs(normal((3, 4)), fixed([1, 2, 3, 4])), lambda m, a, k: a / k)
row("pow", "square", inputs(normal((3, 4))), lambda m, a: a ** 2)
row("pow", "cube_0d", inputs(normal(())), lambda m, a: a ** 3)
row("pow", "half", inputs(positive((3, 4))), lambda m, a: a ** 0.5)
row("pow", "negative_exponent", inputs(positive((3, 1))), lambda m, a: a.pow(-1.5))
row("pow", "scalar_base", inputs(normal((3, 4))), lambda m, a: 2 ** a)
row("pow", "scalar_base_float", inputs(normal((1, 4))), lambda m, a: 1.5 ** a)
row("pow", "function", inputs(positive((3, 4)), normal((3, 4))), lambda m, a, b: m.pow(a, b))
# Second derivatives at a zero base are nan in torch in places that depend on its kernels' internals.
row("pow", "zero_base", inputs(fixed([0.0, 0.0, 1.0]), fixed([2.0, 0.0, 3.0])), lambda m, a, b: a ** b,
    finite_differences=False, second_order=False)
row("neg", "operator", inputs(normal((3, 4))), lambda m, a: -a)
for shape in SHAPES:
    row("neg", shape_label(shape), inputs(normal(shape)), lambda m, a: m.neg(a))
row("maximum", "ties", inputs(small_ints((3, 4)), small_ints((3, 4))), lambda m, a, b: m.maximum(a, b),
    finite_differences=False)
row("minimum", "ties", inputs(small_ints((3, 4)), small_ints((1, 4))), lambda m, a, b: m.minimum(a, b),
    finite_differences=False)
row("maximum", "method_self", inputs(normal((3, 4))), lambda m, a: a.maximum(a), finite_differences=False)

# ---------------------------------------------------------------- unary math
UNARY = {
    "exp": (lambda m, a: m.exp(a), normal),
    "log": (lambda m, a: a.log(), positive),
    "sqrt": (lambda m, a: m.sqrt(a), positive),
    "abs": (lambda m, a: a.abs(), away_from_zero),
    "sign": (lambda m, a: m.sign(a), away_from_zero),
    "sin": (lambda m, a: m.sin(a), normal),
    "cos": (lambda m, a: a.cos(), normal),
    "tanh": (lambda m, a: m.tanh(a), normal),
    "sigmoid": (lambda m, a: a.sigmoid(), normal),
    "relu": (lambda m, a: m.relu(a), away_from_zero),
}
for name, (program, make) in UNARY.items():
    for shape in SHAPES:
        row(name, shape_label(shape), inputs(make(shape)), program)
row("abs", "operator_at_zero", inputs(fixed([-1.0, 0.0, 2.0])), lambda m, a: abs(a), finite_differences=False)
row("relu", "at_zero", inputs(fixed([-1.0, 0.0, 2.0])), lambda m, a: a.relu(), finite_differences=False)
row("sqrt", "at_zero", inputs(fixed([0.0, 4.0])), lambda m, a: a.sqrt(), finite_differences=False,
    second_order=False)
row("log", "at_zero", inputs(fixed([0.0, 2.0])), lambda m, a: a.log(), finite_differences=False,
    second_order=False)
row("exp", "int_input", inputs(fixed([1, 2, 3])), lambda m, k: m.exp(k))
row("sin", "int_input", inputs(fixed([[0, 1], [2, 3]])), lambda m, k: k.sin())
row("sigmoid", "large", inputs(fixed([-800.0, 0.0, 800.0])), lambda m, a: a.sigmoid())
row("tanh", "large", inputs(fixed([-30.0, 30.0])), lambda m, a: a.tanh(), finite_differences=False)

# ---------------------------------------------------------------- clamp, where
for label, kwargs in {"both": dict(min=-0.5, max=0.5), "min": dict(min=-0.2), "max": dict(max=0.3)}.items():
    for shape in SHAPES:
        row("clamp", f"{label}_{shape_label(shape)}", inputs(normal(shape)),
            lambda m, a, kwargs=kwargs: a.clamp(**kwargs))
row("clamp", "positional", inputs(normal((3, 4))), lambda m, a: m.clamp(a, -0.5, 0.5))
row("clamp", "clip", inputs(normal((3, 4))), lambda m, a: a.clip(-1, 1))
row("clamp", "at_bounds", inputs(fixed([-1.0, -0.5, 0.0, 0.5, 1.0])), lambda m, a: a.clamp(-0.5, 0.5),
    finite_differences=False)
row("clamp", "int_bounds", inputs(normal((3, 4))), lambda m, a: a.clamp(-1, 1))
for low_shape, high_shape in (((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (3, 4))):
    row("clamp", f"tensor_bounds_{shape_label(low_shape, high_shape)}",
        inputs(normal((3, 4)), normal(low_shape), lambda r, s=high_shape: r.standard_normal(s) + 1.5),
        lambda m, a, low, high: a.clamp(low, high))
row("clamp", "tensor_min", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, low: m.clamp(a, min=low))
row("clamp", "tensor_max", inputs(normal((3, 1)), normal((3, 4))), lambda m, a, high: a.clip(max=high))
row("clamp", "tensor_bounds_crossed", inputs(normal((3, 4)), fixed(np.ones(4)), fixed(-np.ones(4))),
    lambda m, a, low, high: a.clamp(low, high))
row("clamp", "tensor_bounds_at_ties",
    inputs(fixed([-1.0, 0.0, 1.0, 0.0, 2.0]), fixed([0.0, 0.0, 0.0, 1.0, 1.0]), fixed([1.0, 1.0, 1.0, 1.0, 1.0])),
    lambda m, a, low, high: a.clamp(low, high), finite_differences=False)
row("clamp", "int_tensor_float_bound", inputs(fixed([-3, 0, 3])), lambda m, k: k.clamp(-1.5, 1.5))

WHERE_SHAPES = [((3, 4), (3, 4), (3, 4)), ((3, 4), (3, 1), (1, 4)), ((3, 1), (), (1, 4)),
                ((), (3, 4), (3, 4)), ((1, 4), (3, 1), ())]
for cond_shape, a_shape, b_shape in WHERE_SHAPES:
    row("where", shape_label(cond_shape, a_shape, b_shape),
        inputs(lambda r, s=cond_shape: r.random(s) > 0.5, normal(a_shape), normal(b_shape)),
        lambda m, c, a, b: m.where(c, a, b))
row("where", "scalar_other", inputs(normal((3, 4))), lambda m, a: m.where(a > 0, a, 0.0))
row("where", "from_comparison", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: m.where(a > b, a * 2, b))

# ---------------------------------------------------------------- comparisons (no gradient)
COMPARISONS = {
    "eq": lambda m, a, b: a == b, "ne": lambda m, a, b: a != b, "lt": lambda m, a, b: a < b,
    "le": lambda m, a, b: a <= b, "gt": lambda m, a, b: a > b, "ge": lambda m, a, b: a >= b,
}
for name, program in COMPARISONS.items():
    for left_shape, right_shape in itertools.product(SHAPES, SHAPES):
        row(name, shape_label(left_shape, right_shape), inputs(small_ints(left_shape), small_ints(right_shape)),
            program)
    row(name, "scalar", inputs(small_ints((3, 4))), lambda m, a, name=name: getattr(a, name)(1))
    row(name, "reflected_scalar", inputs(small_ints((3, 4))), lambda m, a, p=program: p(m, 1.0, a))
    row(name, "int_vs_float", inputs(fixed([0, 1, 2]), small_ints((3,))), lambda m, k, a, p=program: p(m, k, a))
row("logical_and", "method", inputs(lambda r: r.random((3, 4)) > 0.5, lambda r: r.random((1, 4)) > 0.5),
    lambda m, a, b: a.logical_and(b))
row("logical_and", "function", inputs(lambda r: r.random((3, 1)) > 0.5, lambda r: r.random(()) > 0.5),
    lambda m, a, b: m.logical_and(a, b))
row("logical_and", "of_comparisons", inputs(normal((3, 4))), lambda m, a: m.logical_and(a > 0, a < 1))

# ---------------------------------------------------------------- casts and copies
# Casts through float32 are too coarse for central differences; torch checks their gradients.
row("to", "float64_to_float32", inputs(normal((3, 4))), lambda m, a: a.double().to(m.float32) * 2,
    finite_differences=False)
row("to", "float32_method", inputs(normal((3, 4))), lambda m, a: a.float(), finite_differences=False)
row("to", "double_method", inputs(normal(())), lambda m, a: a.double())
row("to", "dtype_keyword", inputs(normal((3, 1))), lambda m, a: a.to(dtype=m.float64))
row("to", "half_roundtrip", inputs(normal((3, 4))), lambda m, a: a.half().float(), finite_differences=False,
    second_order=False)
row("to", "to_int64", inputs(normal((3, 4))), lambda m, a: (a * 3).to(m.int64))
row("to", "to_bool", inputs(normal((3, 4))), lambda m, a: a.bool())
row("to", "int_to_float", inputs(fixed([[1, 2], [3, 4]])), lambda m, k: k.float() / 3)
row("clone", "method", inputs(normal((3, 4))), lambda m, a: a.clone())
row("clone", "function", inputs(normal(())), lambda m, a: m.clone(a * 2))

# ---------------------------------------------------------------- matmul
MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                 ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 5)),
                 ((2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 5))]
for a_shape, b_shape in MATMUL_SHAPES:
    row("matmul", shape_label(a_shape, b_shape), inputs(normal(a_shape), normal(b_shape)),
        lambda m, a, b: a @ b)
row("matmul", "function", inputs(normal((3, 4)), normal((4, 2))), lambda m, a, b: m.matmul(a, b))
row("matmul", "method", inputs(normal((3, 4)), normal((4,))), lambda m, a, b: a.matmul(b))
row("matmul", "one_side_constant", inputs(normal((3, 4)), fixed(np.ones((4, 2), dtype=np.int64))),
    lambda m, a, k: a @ k.to(a.dtype))
row("matmul", "constant_left_2d", inputs(fixed(np.ones((3, 4), dtype=np.int64)), normal((2, 4, 5))),
    lambda m, k, b: k.to(b.dtype) @ b)
row("matmul", "constant_right_2d", inputs(normal((3, 4)), fixed(np.ones((2, 4, 5), dtype=np.int64))),
    lambda m, a, k: a @ k.to(a.dtype))
row("matmul", "constant_squeezable", inputs(fixed(np.ones((1, 3, 4), dtype=np.int64)), normal((2, 4, 5))),
    lambda m, k, b: k.to(b.dtype) @ b)
row("mm", "function", inputs(normal((3, 4)), normal((4, 2))), lambda m, a, b: m.mm(a, b))
row("mm", "method", inputs(normal((1, 4)), normal((4, 1))), lambda m, a, b: a.mm(b))
row("bmm", "function", inputs(normal((2, 3, 4)), normal((2, 4, 2))), lambda m, a, b: m.bmm(a, b))
row("bmm", "method", inputs(normal((1, 3, 4)), normal((1, 4, 1))), lambda m, a, b: a.bmm(b))
row("dot", "function", inputs(normal((4,)), normal((4,))), lambda m, a, b: m.dot(a, b))
row("dot", "method", inputs(normal((1,)), normal((1,))), lambda m, a, b: a.dot(b))
row("mv", "function", inputs(normal((3, 4)), normal((4,))), lambda m, a, b: m.mv(a, b))
row("mv", "method", inputs(normal((1, 4)), normal((4,))), lambda m, a, b: a.mv(b))

# ---------------------------------------------------------------- reductions
REDUCTION_CALLS = {
    "all": lambda m, a, f: f(a),
    "dim0": lambda m, a, f: f(a, 0),
    "dim1_keepdim": lambda m, a, f: f(a, dim=1, keepdim=True),
    "dim_neg": lambda m, a, f: f(a, dim=-1),
    "dims_tuple": lambda m, a, f: f(a, dim=(0, 1)),
}
for name in ("sum", "mean", "prod"):
    for label, call in REDUCTION_CALLS.items():
        for shape in ((3, 4), (3, 1), (2, 3, 4)):
            if name == "prod" and label == "dims_tuple":
                continue  # torch.prod takes one dim
            row(name, f"{label}_{shape_label(shape)}", inputs(normal(shape)),
                lambda m, a, call=call, name=name: call(m, a, getattr(type(a), name)))
    row(name, "0d", inputs(normal(())), lambda m, a, name=name: getattr(a, name)())
    row(name, "0d_dim", inputs(normal(())), lambda m, a, name=name: getattr(a, name)(0))
    row(name, "function", inputs(normal((3, 4))), lambda m, a, name=name: getattr(m, name)(a, 1))
row("sum", "int_input", inputs(fixed([[1, 2], [3, 4]])), lambda m, k: k.sum(0))
# dtype=: the input is cast to it and the result has it (no cast node in torch's graph)
row("sum", "dtype_float64", inputs(normal((3, 4))), lambda m, a: a.float().sum(1, dtype=m.float64),
    finite_differences=False)
row("sum", "int_input_dtype_float32", inputs(fixed([[1, 2], [3, 4]])), lambda m, k: m.sum(k, dtype=m.float32))
row("prod", "dtype_float64", inputs(normal((3, 4))), lambda m, a: a.float().prod(dtype=m.float64),
    finite_differences=False)
row("sum", "bool_input", inputs(lambda r: r.random((3, 4)) > 0.5), lambda m, k: k.sum())
row("sum", "dims_empty_means_all", inputs(normal((3, 4))), lambda m, a: a.sum(dim=()))
row("mean", "dims_empty_list_means_all", inputs(normal((2, 3))), lambda m, a: a.mean([], keepdim=True))
row("sum", "negative_dims", inputs(normal((2, 3, 4))), lambda m, a: a.sum(dim=(-1, 0), keepdim=True))
row("mean", "dims_list", inputs(normal((2, 3, 4))), lambda m, a: a.mean([0, 2]))
row("mean", "int_input_dtype", inputs(fixed([[1, 2], [3, 4]])), lambda m, k: k.mean(1, dtype=m.float64))
row("mean", "dtype_float64", inputs(normal((2, 3))), lambda m, a: a.mean(dim=0, dtype=m.float64))
row("prod", "one_zero", inputs(fixed([[1.5, 0.0, 2.0], [3.0, -1.0, 0.5]])), lambda m, a: a.prod(1))
row("prod", "two_zeros", inputs(fixed([0.0, 2.0, 0.0, 3.0])), lambda m, a: a.prod())
row("prod", "zero_all", inputs(fixed([[1.5, 0.0], [3.0, -1.0]])), lambda m, a: a.prod())
row("prod", "int_input", inputs(fixed([1, 2, 3])), lambda m, k: k.prod())
for label, call in {"all": lambda m, a: a.var(), "dim1": lambda m, a: a.var(1),
                    "dim0_keepdim": lambda m, a: a.var(0, keepdim=True),
                    "correction0": lambda m, a: a.var(dim=1, correction=0),
                    "dims_tuple": lambda m, a: a.var(dim=(0, 1)), "function": lambda m, a: m.var(a, -1)}.items():
    for shape in ((3, 4), (2, 3, 4)):
        row("var", f"{label}_{shape_label(shape)}", inputs(normal(shape)), call)
row("var", "correction2", inputs(normal((5,))), lambda m, a: a.var(correction=2))
row("var", "one_element", inputs(normal((1,))), lambda m, a: a.var(), finite_differences=False,
    second_order=False)  # nan gradients; torch records no second derivative for them
row("minimum", "with_bool_tensor", inputs(normal((3, 4)), lambda r: r.random((3, 4)) > 0.5),
    lambda m, a, k: m.minimum(a, k))
row("var", "unbiased_false", inputs(normal((3, 4))), lambda m, a: a.var(1, unbiased=False))
row("var", "positional_unbiased_keepdim", inputs(normal((3, 4))), lambda m, a: a.var(0, False, True))
row("var", "only_unbiased", inputs(normal((3, 4))), lambda m, a: a.var(False))

for name in ("max", "min"):
    for shape in ((3, 4), (3, 1), (), (2, 3, 4)):
        row(name, shape_label(shape), inputs(normal(shape)), lambda m, a, name=name: getattr(a, name)())
    row(name, "function", inputs(normal((3, 4))), lambda m, a, name=name: getattr(m, name)(a))
    row(name, "ties", inputs(fixed([[1.0, 3.0, 3.0], [0.0, 3.0, 2.0]])),
        lambda m, a, name=name: getattr(a, name)() if name == "max" else getattr(-a, name)(),
        finite_differences=False)
    row({"max": "maximum", "min": "minimum"}[name], f"via_{name}", inputs(normal((3, 4)), normal((1, 4))),
        lambda m, a, b, name=name: getattr(a, name)(b))
    dim_op = f"{name}_dim"
    for shape in ((3, 4), (2, 3, 4)):
        for label, call in {"dim0": lambda a, f: f(a, 0), "dim1_keepdim": lambda a, f: f(a, dim=1, keepdim=True),
                            "dim_neg": lambda a, f: f(a, -1)}.items():
            row(dim_op, f"{label}_{shape_label(shape)}", inputs(normal(shape)),
                lambda m, a, call=call, name=name: call(a, getattr(type(a), name)))
    row(dim_op, "0d", inputs(normal(())), lambda m, a, name=name: getattr(a, name)(0))
    row(dim_op, "function_keepdim", inputs(normal((3, 4))),
        lambda m, a, name=name: getattr(m, name)(a, 1, True))
    row(dim_op, "values_only", inputs(normal((3, 4))), lambda m, a, name=name: getattr(a, name)(dim=1).values * 2)
    row(dim_op, "ties", inputs(fixed([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0], [0.0, 5.0, 5.0]])),
        lambda m, a, name=name: getattr(a if name == "max" else -a, name)(dim=1), finite_differences=False)
    row(dim_op, "ties_dim0", inputs(fixed([[3.0, 1.0], [3.0, 1.0]])),
        lambda m, a, name=name: getattr(a if name == "max" else -a, name)(0), finite_differences=False)

for name in ("softmax", "log_softmax"):
    for shape, dim in (((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((3, 1), 1), ((2, 3, 4), 1), ((), 0), ((4,), 0)):
        row(name, f"{shape_label(shape)}_dim{dim}", inputs(normal(shape)),
            lambda m, a, name=name, dim=dim: getattr(a, name)(dim))
    row(name, "function", inputs(normal((3, 4))), lambda m, a, name=name: getattr(m, name)(a, dim=1))
    row(name, "large_logits", inputs(fixed([[1000.0, 0.0, -1000.0], [3.0, 2.0, 1.0]])),
        lambda m, a, name=name: getattr(a, name)(1))

# ---------------------------------------------------------------- shapes
row("reshape", "3x4_to_4x3", inputs(normal((3, 4))), lambda m, a: a.reshape(4, 3))
row("reshape", "infer", inputs(normal((3, 4))), lambda m, a: a.reshape(-1))
row("reshape", "tuple_3d", inputs(normal((3, 4))), lambda m, a: a.reshape((2, -1, 2)))
row("view", "6x2", inputs(normal((3, 4))), lambda m, a: a.view(6, 2))
row("view", "tuple", inputs(normal((3, 1))), lambda m, a: a.view((1, 3)))
row("view", "infer", inputs(normal((3, 4))), lambda m, a: a.view(-1, 3))
row("reshape", "0d_to_1x1", inputs(normal(())), lambda m, a: a.reshape(1, 1))
row("reshape", "to_0d", inputs(normal((1, 1))), lambda m, a: a.reshape(()))
row("reshape", "function", inputs(normal((3, 4))), lambda m, a: m.reshape(a, (12,)))
# torch names a reshape that had to copy UnsafeViewBackward0; the engine's node cannot tell (a known limitation).
row("reshape", "of_transpose", inputs(normal((3, 4))), lambda m, a: a.t().reshape(12), compare_grad_fn=False)
row("transpose", "01", inputs(normal((3, 4))), lambda m, a: a.transpose(0, 1))
row("transpose", "negative", inputs(normal((2, 3, 4))), lambda m, a: a.transpose(-1, -3))
row("transpose", "function", inputs(normal((2, 3, 4))), lambda m, a: m.transpose(a, 1, 2))
row("transpose", "mT", inputs(normal((2, 3, 4))), lambda m, a: a.mT)
row("t", "2d", inputs(normal((3, 4))), lambda m, a: a.t())
row("t", "1d", inputs(normal((4,))), lambda m, a: a.t())
row("t", "0d", inputs(normal(())), lambda m, a: m.t(a))
row("permute", "3d", inputs(normal((2, 3, 4))), lambda m, a: a.permute(2, 0, 1))
row("permute", "tuple_negative", inputs(normal((2, 3, 4))), lambda m, a: a.permute((-1, 1, 0)))
row("permute", "T", inputs(normal((3, 4))), lambda m, a: a.T)
row("permute", "T_3d", inputs(normal((2, 3, 4))), lambda m, a: a.T)
row("permute", "function", inputs(normal((3, 4))), lambda m, a: m.permute(a, (1, 0)))
row("squeeze", "all", inputs(normal((3, 1))), lambda m, a: a.squeeze())
row("squeeze", "dim", inputs(normal((1, 4))), lambda m, a: a.squeeze(0))
row("squeeze", "dim_not_one", inputs(normal((3, 1))), lambda m, a: a.squeeze(0))
row("squeeze", "negative_dim", inputs(normal((3, 1))), lambda m, a: a.squeeze(-1))
row("squeeze", "dims_tuple", inputs(normal((1, 3, 1))), lambda m, a: a.squeeze((0, 2)))
row("squeeze", "dims_empty", inputs(normal((1, 3, 1))), lambda m, a: a.squeeze(()))
row("squeeze", "0d", inputs(normal(())), lambda m, a: a.squeeze())
row("squeeze", "function", inputs(normal((1, 4))), lambda m, a: m.squeeze(a))
row("unsqueeze", "front", inputs(normal((3, 4))), lambda m, a: a.unsqueeze(0))
row("unsqueeze", "back", inputs(normal((3, 4))), lambda m, a: a.unsqueeze(-1))
row("unsqueeze", "middle", inputs(normal((3, 4))), lambda m, a: m.unsqueeze(a, 1))
row("unsqueeze", "0d", inputs(normal(())), lambda m, a: a.unsqueeze(0))
row("expand", "3x1", inputs(normal((3, 1))), lambda m, a: a.expand(3, 4))
row("expand", "new_dims", inputs(normal((1, 4))), lambda m, a: a.expand(2, 3, 4))
row("expand", "minus_one", inputs(normal((3, 1))), lambda m, a: a.expand(-1, 5))
row("expand", "0d", inputs(normal(())), lambda m, a: a.expand((2, 3)))
row("expand", "then_mul", inputs(normal((1, 4)), normal((3, 4))), lambda m, a, b: a.expand(3, 4) * b)
row("cat", "dim0", inputs(normal((3, 4)), normal((2, 4))), lambda m, a, b: m.cat([a, b]))
row("cat", "dim1", inputs(normal((3, 4)), normal((3, 1))), lambda m, a, b: m.cat((a, b), dim=1))
row("cat", "dim_neg_three", inputs(normal((3, 1)), normal((3, 4)), normal((3, 2))),
    lambda m, a, b, c: m.cat([a, b, c], -1))
row("cat", "one_constant", inputs(normal((3, 4)), fixed(np.ones((1, 4), dtype=np.int64))),
    lambda m, a, k: m.cat([a, k.to(a.dtype)], 0))
row("cat", "concatenate", inputs(normal((2,)), normal((3,))), lambda m, a, b: m.concatenate([a, b]))
row("cat", "mixed_dtypes", inputs(normal((2, 2)), fixed([[1, 2]])), lambda m, a, k: m.cat([a, k]))
row("cat", "tensors_keyword", inputs(normal((2,)), normal((3,))), lambda m, a, b: m.cat(tensors=(a, b), dim=0))
row("stack", "tensors_keyword", inputs(normal((2,)), normal((2,))), lambda m, a, b: m.stack(tensors=[a, b]))
row("cat", "same_tensor", inputs(normal((2, 3))), lambda m, a: m.cat([a, a * 2, a], 1))
row("stack", "dim0", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: m.stack([a, b]))
row("stack", "dim1", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: m.stack((a, b), dim=1))
row("stack", "dim_neg", inputs(normal((3,)), normal((3,)), normal((3,))), lambda m, a, b, c: m.stack([a, b, c], -1))
row("stack", "0d", inputs(normal(()), normal(())), lambda m, a, b: m.stack([a, b * a]))
row("stack", "mixed_dtypes", inputs(normal((2,)), fixed([1, 2])), lambda m, a, k: m.stack([a, k], 1))

# ---------------------------------------------------------------- indexing (more forms in test_ops_indexing.py)
GETITEM_INDICES = {
    "int": lambda a: a[1],
    "negative_int": lambda a: a[-1, 2],
    "slice": lambda a: a[1:],
    "slice_step": lambda a: a[::2, 1::2],
    "negative_bounds": lambda a: a[-2:, :-1],
    "none": lambda a: a[None, :, None],
    "ellipsis": lambda a: a[..., 1],
    "int_list": lambda a: a[[0, 2, 0]],
    "int_tensor_2d": lambda a: a[:, [[0, 1], [3, 3]]],
    "two_int_lists": lambda a: a[[0, 2, 2], [1, 1, 3]],
    "bool_mask_row": lambda a: a[[True, False, True]],
    "bool_mask_full": lambda a: a[a > 0],
    "mixed": lambda a: a[1:, [0, 0, 2]],
    "all": lambda a: a[...],
}
for label, index in GETITEM_INDICES.items():
    row("getitem", label, inputs(normal((3, 4))), lambda m, a, index=index: index(a),
        finite_differences=label != "bool_mask_full")
row("getitem", "0d_ellipsis", inputs(normal(())), lambda m, a: a[...] * 2)
# several ellipses: torch moves on by the dims they stand for at each one (rules.indexing.resolve_ellipses)
row("getitem", "two_ellipses", inputs(normal((2, 3, 4))), lambda m, a: a[..., 1, ...])
row("getitem", "two_ellipses_select_and_slice", inputs(normal((2, 3, 4, 2))), lambda m, a: a[0, ..., 1:3, ...])
row("getitem", "three_ellipses_none", inputs(normal((3, 4))), lambda m, a: a[None, ..., 2, ..., ...])
row("getitem", "tensor_index", inputs(normal((3, 4)), fixed([2, 0, 2])), lambda m, a, k: a[k])


def _index_put_torch(m, g, shape, index):
    """torch's spelling of index_backward: zeros(shape) with g accumulated at index."""
    return m.zeros(shape, dtype=g.dtype).index_put(index, g, accumulate=True)


row("index_backward", "repeated", inputs(normal((4,))),
    lambda m, g: m.apply("index_backward", [g], {"shape": (3,), "index": [0, 2, 0, 0]}),
    torch_program=lambda m, g: _index_put_torch(m, g, (3,), (m.tensor([0, 2, 0, 0]),)), compare_grad_fn=False)
row("index_backward", "rows", inputs(normal((2, 4))),
    lambda m, g: m.apply("index_backward", [g], {"shape": (3, 4), "index": [2, 2]}),
    torch_program=lambda m, g: _index_put_torch(m, g, (3, 4), (m.tensor([2, 2]),)), compare_grad_fn=False)
row("index_backward", "slice",
    inputs(normal((2, 4))), lambda m, g: m.apply("index_backward", [g], {"shape": (3, 4), "index": slice(1, None)}),
    torch_program=lambda m, g: _index_put_torch(m, g, (3, 4), (m.tensor([1, 2]),)), compare_grad_fn=False)


def _zero_at_torch(m, g, index):
    out = g.clone()
    out[index] = 0
    return out


row("index_zero", "int", inputs(normal((3, 4))), lambda m, g: m.apply("index_zero", [g], {"index": 1}),
    torch_program=lambda m, g: _zero_at_torch(m, g, 1), compare_grad_fn=False)
row("index_zero", "slice_list", inputs(normal((3, 4))),
    lambda m, g: m.apply("index_zero", [g], {"index": (slice(None), [0, 3])}),
    torch_program=lambda m, g: _zero_at_torch(m, g, (slice(None), [0, 3])), compare_grad_fn=False)


def assign(index, value_of=lambda v: v):
    """A program writing `value` into a copy of `a` at `index` (so `a` itself stays a leaf)."""

    def program(m, a, *value):
        target = a * 1
        target[index] = value_of(*value) if value else 2.5
        return target

    return program


SETITEM_FORMS = {
    "int_row": (1, (4,)), "int_pair": ((1, 2), ()), "slice": (slice(1, None), (2, 4)),
    "slice_step_broadcast": ((slice(None, None, 2), slice(1, 3)), (1, 2)), "negative_bounds": (slice(-2, None), (4,)),
    "ellipsis": ((Ellipsis, 0), (3,)), "none": ((None, 0), (1, 4)), "int_list": ([0, 2], (2, 4)),
    "bool_mask": ([True, False, True], (1, 4)), "mixed": ((slice(1, None), [0, 3]), (2, 2)),
    "two_ellipses": ((Ellipsis, 1, Ellipsis), (3,)),
}
for label, (index, value_shape) in SETITEM_FORMS.items():
    row("setitem", label, inputs(normal((3, 4)), normal(value_shape)), assign(index))
def _assign_mask(m, a):
    target = a * 2
    target[a > 0] = 0.0
    return target


def _tutorial_assign(m, a):
    n = m.zeros(2, dtype=a.dtype)
    n[0] = a[0] ** 2
    n[1] = a[1] ** 3
    return n


def _overwrite(m, a, b):
    target = a * a
    target[1:3] = b
    target[2] = b * 3
    return target


def _chained_assign(m, a):
    n = m.zeros(2, 3, dtype=a.dtype)
    n[1][2] = a[0] * 2
    return n


def _copy_slices_torch(a, v):
    """torch's spelling of copy_slices on rows 0 and 2: a write into a view of the target."""
    target = a * 1
    target[0:3:2][[0, 1], [1, 3]] = v
    return target


def _zeroed(m, a):
    target = a * 3
    target.zero_()
    return target


row("setitem", "scalar_value", inputs(normal((3, 4))), assign((slice(None), 1)))
row("setitem", "mask_from_values", inputs(normal((3, 4))), _assign_mask)
row("setitem", "into_zeros", inputs(normal((2,))), _tutorial_assign)
row("setitem", "chained_overwrite", inputs(normal((4,)), normal(())), _overwrite)
row("setitem", "int_value_into_float", inputs(normal((3,))), assign(0, lambda: 7))


def _view_made_before_write(m, a, v):
    b = a * 1
    rows = b[1:]
    b[1, 1:3] = v
    return rows * 2


def _written_view(m, a, v):
    b = a * 1
    row = b[2]
    row[::2] = v
    return row * b[2]


row("view_of_base", "stale_view", inputs(normal((3, 4)), normal((2,))), _view_made_before_write)
row("view_of_base", "written_view", inputs(normal((3, 4)), normal(())), _written_view)
row("view_of_base", "direct", inputs(normal((3, 4))),
    lambda m, a: m.apply("view_of_base", [a], {"index": ([1, 1], [0, 3])}),
    torch_program=lambda m, a: a[[1, 1], [0, 3]], compare_grad_fn=False)
row("copy_slices", "chained_index", inputs(normal((2,))), _chained_assign)
row("copy_slices", "direct", inputs(normal((3, 4)), normal((2,))),
    lambda m, a, v: m.apply("copy_slices", [a * 1, v], {"index": ([0, 2], [1, 3])}),
    torch_program=lambda m, a, v: _copy_slices_torch(a, v))
row("zero_", "after_mul", inputs(normal((3, 4))), _zeroed)
row("zero_", "then_add", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: _zeroed(m, a) + b)
row("requires_grad_", "detached", inputs(normal((3, 4))),
    lambda m, a: m.apply("requires_grad_", [a.detach()], {}) * 2,
    torch_program=lambda m, a: a.detach().requires_grad_() * 2)
row("requires_grad_", "method", inputs(normal((3, 4))), lambda m, a: a.detach().requires_grad_(True) * a)


# ---------------------------------------------------------------- in-place variants (engine/inplace.py)
# Derived from the registry, so their rows are derived too: the variant's method on a non-leaf copy of
# the first input, against torch's own in-place method (or, where torch has none, copy_ of its result).
INPLACE_ATTRS = {"clamp": {"min": -0.5, "max": 0.5}, "softmax": {"dim": 1}, "log_softmax": {"dim": 1},
                 "lerp": {"weight": 0.25},
                 "cumsum": {"dim": 1}, "cumprod": {"dim": 1}, "threshold": {"threshold": 0.1, "value": 20.0},
                 # dropping everything is the one draw torch and the engine share
                 **{name: {"p": 1.0, "training": True} for name in (
                     "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")}}
INPLACE_INPUTS = {"lerp": inputs(normal((3, 4)), normal((1, 4))),
                  # near 1, so float16's rounding does not compound along the product
                  "cumprod": inputs(lambda rng: rng.uniform(0.9, 1.1, (3, 4)))}
# Inputs in each op's domain, independent of the order the row modules are imported in (a client test that
# imports a family's rows first runs _inplace_rows before that family's rows exist).
_INTEGERS = inputs(lambda rng: rng.integers(0, 5, (3, 4)), lambda rng: rng.integers(0, 3, (1, 4)))
INPLACE_INPUTS.update({name: _INTEGERS for name in (
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift")})
INPLACE_INPUTS["bitwise_not"] = inputs(lambda rng: rng.integers(-4, 5, (3, 4)))
INPLACE_INPUTS.update({name: inputs(lambda rng: rng.uniform(-0.8, 0.8, (3, 4)))
                       for name in ("asin", "acos", "atanh", "erfinv")})
INPLACE_INPUTS["acosh"] = inputs(lambda rng: rng.uniform(1.5, 3.0, (3, 4)))
# Not smooth at their inputs (floor), so no central differences.
# No derivative in torch or here ("the derivative for 'floor_divide' is not implemented"): values only.
INPLACE_VALUES_ONLY = {"floor_divide"}
# torch has no second derivative for these (it raises "derivative for aten::hardsigmoid_backward is not
# implemented"), whichever order the row modules were imported in.
INPLACE_NO_SECOND_ORDER = {"hardsigmoid"}
INPLACE_NOT_SMOOTH = {"floor_divide", "remainder", "fmod", "floor", "ceil", "round", "trunc", "frac", "sign", "sgn"}
# torch's logical_*_ keep the target's old grad_fn (a quirk) and torch has no derivative for asinh_, acosh_
# and atanh_: for those torch's side is copy_ of the out-of-place result (the same values and gradients).
TORCH_INPLACE_QUIRKS = {"logical_and_", "logical_or_", "logical_xor_", "logical_not_", "asinh_", "acosh_", "atanh_",
                       "floor_divide_"}


def _inplace_program(method: str, base_method: str, attrs: dict):
    def program(m, a, *rest):
        target = a * 1
        if m is gw or (hasattr(m.Tensor, method) and method not in TORCH_INPLACE_QUIRKS):
            getattr(target, method)(*rest, **attrs)
        else:
            target.copy_(getattr(a * 1, base_method)(*rest, **attrs))
        return target

    return program


def _inplace_flag_program(function: str, attrs: dict):
    """An op with torch's `inplace` flag and no in-place method: F.elu(target, inplace=True)."""
    def program(m, a, *rest):
        target = a * 1
        result = getattr(m.nn.functional, function)(target, *rest, inplace=True, **attrs)
        assert result is target
        return target

    return program


def _torch_has(method: str) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return hasattr(torch.Tensor, method) and method not in TORCH_INPLACE_QUIRKS


row("copy_", "broadcast_source", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, b: (a * 1).copy_(b * 2))
row("fill_", "tensor_value", inputs(normal((3, 4)), normal(())), lambda m, a, v: (a * 2).fill_(v) * a)
row("fill_", "into_view", inputs(normal((3, 4)), normal(())), lambda m, a, v: _fill_row(a, v))
row("normal_", "zero_std", inputs(normal((3, 4))), lambda m, a: (a * 2).normal_(1.5, 0.0) * a)
row("uniform_", "empty_range", inputs(normal((3, 4))), lambda m, a: (a * 2).uniform_(0.5, 0.5) * a)


def _fill_row(a, v):
    target = a * 1
    target[1].fill_(v)
    return target


from ops_table_nn import *  # noqa: E402,F401,F403  (torch.nn.functional rows, appended to ROWS)


# ---------------------------------------------------------------- .grad as a value (engine/ops/grads.py)
def _grad_program(m, a):
    (a * a).sum().backward(retain_graph=True)
    if m is gw:
        g = m.apply("grad", [a])
    else:
        g = a.grad
    return g * 1


def _zero_grad_program(m, a, set_to_none):
    (a * a).sum().backward(retain_graph=True)
    if m is gw:
        m.apply("zero_grad_", [a], {"set_to_none": set_to_none})
    elif set_to_none:
        a.grad = None
    else:
        a.grad.zero_()
    return a * 1 if a.grad is None else a * 1 + a.grad


row("grad", "after_backward", inputs(normal((3, 4))), _grad_program, finite_differences=False, second_order=False)
row("zero_grad_", "to_none", inputs(normal((3, 4))), lambda m, a: _zero_grad_program(m, a, True))
row("zero_grad_", "to_zeros", inputs(normal((3, 4))), lambda m, a: _zero_grad_program(m, a, False))


import ops_table_elementwise  # noqa: E402,F401  (the elementwise family's rows join ROWS)
import ops_table_shape  # noqa: E402,F401  (reductions, shape, indexing and linear-algebra rows)
import ops_table_more  # noqa: E402,F401  (the ops added for common idioms: addcmul, nansum, hstack ...)


def _inplace_rows() -> None:
    """One row per derived in-place op, on the inputs of its base op's first row (valid for its domain)."""
    first_rows = {}
    for existing in ROWS:
        first_rows.setdefault(existing.op, existing)
    for name, op in list(gw.registry.OPS.items()):
        base = op.extra.get("of")
        if base is None:
            continue
        base_op = gw.registry.OPS[base]
        if base_op.signature:  # operands and attributes interleave (scatter_(dim, index, src)): explicit rows below
            continue
        model = first_rows.get(base)
        shapes = [(3, 4)] + [(1, 4)] * (base_op.min_inputs - 1)
        make = INPLACE_INPUTS.get(base) or (model.inputs if model is not None
                                            else inputs(*[positive(shape) for shape in shapes]))
        if op.methods:
            program = _inplace_program(op.methods[0], base_op.methods[0], INPLACE_ATTRS.get(base, {}))
        else:
            function = next(f for f in base_op.functions if f.startswith("nn.functional."))
            program = _inplace_flag_program(function.rpartition(".")[2], INPLACE_ATTRS.get(base, {}))
        if base in INPLACE_VALUES_ONLY:
            program = (lambda run: lambda m, *values: run(m, *(v.detach() for v in values)))(program)
        row(name, "inplace", make, program,
            compare_grad_fn=(not op.methods or _torch_has(op.methods[0])) and base_op.differentiable,
            finite_differences=(model.finite_differences if model is not None else True)
            and base not in INPLACE_NOT_SMOOTH,
            second_order=(model.second_order if model is not None else True) and base not in INPLACE_NO_SECOND_ORDER)


_inplace_rows()


# In-place variants of the ops whose operands and attributes interleave, each on a non-leaf copy of its input.
def _copy(a):
    return a * 1


_INDEX_ROWS = fixed([2, 0, 2])
row("scatter_add_", "inplace", inputs(normal((3, 4)), fixed([[0, 2, 1, 0], [2, 2, 0, 1]]), normal((2, 4))),
    lambda m, a, i, s: _copy(a).scatter_add_(0, i, s))
row("scatter_", "inplace", inputs(normal((3, 4)), fixed([[0, 1, 2, 0]]), normal((1, 4))),
    lambda m, a, i, s: _copy(a).scatter_(0, i, s))
row("scatter_reduce_", "inplace", inputs(normal((3, 4)), fixed([[0, 1, 0, 2], [0, 1, 1, 2]]), normal((2, 4))),
    lambda m, a, i, s: _copy(a).scatter_reduce_(0, i, s, reduce="sum"))
row("index_add_", "inplace", inputs(normal((3, 4)), _INDEX_ROWS, normal((3, 4))),
    lambda m, a, i, s: _copy(a).index_add_(0, i, s, alpha=2.5))
row("index_fill_", "inplace", inputs(normal((3, 4)), fixed([0, 2])), lambda m, a, i: _copy(a).index_fill_(1, i, 1.5))
row("index_copy_", "inplace", inputs(normal((3, 4)), fixed([2, 0]), normal((2, 4))),
    lambda m, a, i, s: _copy(a).index_copy_(0, i, s))
row("lerp_", "inplace", inputs(normal((3, 4)), normal((1, 4))), lambda m, a, end: _copy(a).lerp_(end, 0.25))
row("masked_fill_", "inplace", inputs(normal((3, 4)), lambda r: r.random((3, 4)) > 0.5),
    lambda m, a, mask: _copy(a).masked_fill_(mask, -1.5))
