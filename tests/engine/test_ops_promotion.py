"""Type promotion against torch: result dtypes and values of ops mixing dtypes, 0-dim tensors and Python
scalars (torch.result_type's rules, which differ from numpy's)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import gradwire.engine as gw
from ops_harness import builtin_class, dtype_name, outcome, to_numpy

F16 = np.array([1.5, -2.0], dtype=np.float16)
F32 = np.array([1.5, -2.0], dtype=np.float32)
F64 = np.array([1.5, -2.0], dtype=np.float64)
I32 = np.array([3, -4], dtype=np.int32)
I64 = np.array([3, -4], dtype=np.int64)
BOOL = np.array([True, False])
ZERO_DIM = {name: np.asarray(a[0]) for name, a in
            {"f16": F16, "f32": F32, "f64": F64, "i32": I32, "i64": I64, "bool": BOOL}.items()}
DIMENSIONED = {"f16": F16, "f32": F32, "f64": F64, "i32": I32, "i64": I64, "bool": BOOL}
SCALARS = {"int": 2, "float": 1.5, "bool": True}

CASES: dict[str, tuple[list, object]] = {
    # the examples of PyTorch's promotion rules
    "f32+i64": ([F32, I64], lambda m, a, b: a + b),
    "i64/i64": ([I64, I64[::-1].copy()], lambda m, a, b: a / b),
    "i64+1.5": ([I64], lambda m, a: a + 1.5),
    "f32*0d_f64": ([F32, ZERO_DIM["f64"]], lambda m, a, b: a * b),
    "bool+int": ([BOOL], lambda m, a: a + 2),
    "bool+bool_tensor": ([BOOL, BOOL[::-1].copy()], lambda m, a, b: a + b),
    "f32+f64": ([F32, F64], lambda m, a, b: a + b),
    "0d_i64+f32": ([ZERO_DIM["i64"], F32], lambda m, a, b: a + b),
    "0d_f32+i64": ([ZERO_DIM["f32"], I64], lambda m, a, b: a + b),
    "0d_f64+0d_f32": ([ZERO_DIM["f64"], ZERO_DIM["f32"]], lambda m, a, b: a + b),
    "i32*2": ([I32], lambda m, a: a * 2),
    "i32*2.5": ([I32], lambda m, a: a * 2.5),
    "f16*2.5": ([F16], lambda m, a: a * 2.5),
    "i64**2": ([I64], lambda m, a: a ** 2),
    "i64**0.5": ([np.abs(I64)], lambda m, a: a ** 0.5),
    "2**i64": ([np.abs(I64)], lambda m, a: 2 ** a),
    "2.0**i64": ([I64], lambda m, a: 2.0 ** a),
    "f32**i64": ([F32, np.abs(I64)], lambda m, a, b: a ** b),
    "i32-i64": ([I32, I64], lambda m, a, b: a - b),
    "1-bool": ([BOOL], lambda m, a: 1 - a),
    "i64-True": ([I64], lambda m, a: a - True),
    "f32-bool": ([F32, BOOL], lambda m, a, b: a - b),
    "i64/2": ([I64], lambda m, a: a / 2),
    "f16/i64": ([F16, I64], lambda m, a, b: a / b),
    # reductions and unary math
    "i32.sum": ([I32], lambda m, a: a.sum()),
    "bool.sum": ([BOOL], lambda m, a: a.sum()),
    "i32.prod": ([I32], lambda m, a: a.prod()),
    "f16.sum": ([F16], lambda m, a: a.sum()),
    "i64.exp": ([I64], lambda m, a: a.exp()),
    "i32.sigmoid": ([I32], lambda m, a: a.sigmoid()),
    "i64.abs": ([I64], lambda m, a: a.abs()),
    "i64.relu": ([I64], lambda m, a: a.relu()),
    "i64.neg": ([I64], lambda m, a: -a),
    "i64.max": ([I64], lambda m, a: a.max()),
    "i64.max_dim": ([I64], lambda m, a: a.max(0)),
    "i32.clamp_float": ([I32], lambda m, a: a.clamp(-1.5, 1.5)),
    "i32.clamp_int": ([I32], lambda m, a: a.clamp(-1, 1)),
    # multi-operand ops
    "maximum_i64_f32": ([I64, F32], lambda m, a, b: m.maximum(a, b)),
    "minimum_i32_bool": ([I32, BOOL], lambda m, a, b: m.minimum(a, b)),
    "where_i64_f32": ([BOOL, I64, F32], lambda m, c, a, b: m.where(c, a, b)),
    "where_f16_scalar": ([BOOL, F16], lambda m, c, a: m.where(c, a, 2.0)),
    "where_i32_0d_i64": ([BOOL, I32, ZERO_DIM["i64"]], lambda m, c, a, b: m.where(c, a, b)),
    "cat_i32_f16": ([I32, F16], lambda m, a, b: m.cat([a, b])),
    "cat_bool_i64": ([BOOL, I64], lambda m, a, b: m.cat([a, b])),
    "stack_f32_f64": ([F32, F64], lambda m, a, b: m.stack([a, b])),
    "matmul_i64": ([I64, I64], lambda m, a, b: a @ b),
    "eq_i64_f32": ([I64, F32], lambda m, a, b: a == b),
    "lt_bool_scalar": ([BOOL], lambda m, a: a < 0.5),
    "and_bool": ([BOOL, BOOL[::-1].copy()], lambda m, a, b: a & b),
    # edge values
    "sign_of_nan": ([np.array([np.nan, -0.0, 2.0])], lambda m, a: a.sign()),
    "int_tensor_negative_powers": ([np.array([2, 1, -1, -1, 0]), np.array([-1, -2, -3, -2, 1])],
                                   lambda m, a, b: a ** b),
    "softmax_of_empty": ([np.zeros((0, 3))], lambda m, a: a.softmax(0)),
    "sum_of_empty": ([np.zeros((0, 3))], lambda m, a: a.sum(0)),
    "var_of_one": ([np.ones(1)], lambda m, a: a.var()),
    "sign_of_bool": ([BOOL], lambda m, a: a.sign()),
    "minimum_bool_f32": ([BOOL, F32], lambda m, a, b: m.minimum(a, b)),
    # casts
    "f32.to_i64": ([F32], lambda m, a: a.to(m.int64)),
    "f64.to_f16": ([F64], lambda m, a: a.half()),
    "i64.to_bool": ([I64], lambda m, a: a.bool()),
    "bool.long": ([BOOL], lambda m, a: a.long()),
    "i64.int": ([I64], lambda m, a: a.int()),
}


def _binary_grid() -> dict:
    """Every dtype pair for add and mul, across dimensioned, 0-dim and Python-scalar operands."""
    grid = {}
    for (left, a), (right, b) in itertools.product(DIMENSIONED.items(), repeat=2):
        grid[f"grid_{left}+{right}"] = ([a, b], lambda m, x, y: x + y)
        grid[f"grid_{left}*0d_{right}"] = ([a, ZERO_DIM[right]], lambda m, x, y: x * y)
    for (left, a), (name, scalar) in itertools.product(DIMENSIONED.items(), SCALARS.items()):
        grid[f"grid_{left}+{name}"] = ([a], lambda m, x, s=scalar: x + s)
        grid[f"grid_0d_{left}*{name}"] = ([ZERO_DIM[left]], lambda m, x, s=scalar: s * x)
    return grid


CASES.update(_binary_grid())


@pytest.mark.parametrize("label", list(CASES))
def test_result_dtype_and_values_match_torch(label):
    inputs, program = CASES[label]
    theirs, their_result = outcome(torch, program, inputs)
    ours, our_result = outcome(gw, program, inputs)
    if theirs == "error":
        assert ours == "error", f"torch raises {their_result!r}, gradwire returns {our_result}"
        assert builtin_class(our_result) is builtin_class(their_result), f"{our_result!r} vs {their_result!r}"
        return
    assert ours == "ok", f"gradwire raised {our_result!r}; torch gives {their_result}"
    results = zip(our_result if isinstance(our_result, tuple) else [our_result],
                  their_result if isinstance(their_result, tuple) else [their_result])
    for mine, reference in results:
        assert dtype_name(mine) == dtype_name(reference)
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(to_numpy(mine).astype(np.float64), to_numpy(reference).astype(np.float64),
                                   rtol=1e-3 if "float16" in dtype_name(reference) else 1e-6)


def test_gradient_dtype_is_the_inputs_even_when_float64_flows_in():
    """f32 leaf * 0-dim f64 stays f32, and a f64 computation after .double() gives the f32 leaf a f32 grad."""
    for module in (gw, torch):
        leaf = module.tensor([1.0, 2.0], requires_grad=True)
        (leaf.double() * module.tensor(3.0, dtype=module.float64)).sum().backward()
        assert dtype_name(leaf.grad) == "float32"
        np.testing.assert_allclose(to_numpy(leaf.grad), [3.0, 3.0])
