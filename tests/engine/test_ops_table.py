"""Every registry op, row by row (ops_table.py): values, dtypes, grad_fn names and gradients against
torch, gradients against float64 central differences, second derivatives against torch."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import gradwire.engine as gw
from gradwire.engine.autograd import iter_graph
from gradwire.engine.registry import OPS
from ops_harness import (
    as_outputs, assert_close, compare_with_torch, make_tensors, numeric_vjp, second_order, seeds_for, to_numpy, vjp,
)
from ops_table import ROWS, Row

def rng_for(row: Row) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(row.id.encode()))


def row_inputs(row: Row) -> list:
    return row.inputs(rng_for(row))


def run_forward(row: Row, module, float_dtype):
    tensors = make_tensors(module, row_inputs(row), float_dtype)
    return as_outputs(row.program_for(module)(module, *tensors))


def differentiable(row: Row) -> bool:
    try:
        outputs = run_forward(row, gw, np.float64)
    except Exception:  # noqa: BLE001  (the row's own tests report the failure)
        return True
    return any(o.requires_grad and o.grad_fn is not None for o in outputs)


DIFFERENTIABLE_ROWS = [r for r in ROWS if OPS[r.op].differentiable and differentiable(r)]


def test_every_registry_op_has_a_row():
    covered = {r.op for r in ROWS}
    missing = sorted(set(OPS) - covered)
    assert not missing, f"registry ops without a row in tests/engine/ops_table.py: {missing}"
    unknown = sorted(covered - set(OPS))
    assert not unknown, f"rows naming ops that are not in the registry: {unknown}"


def test_row_ids_are_unique():
    ids = [r.id for r in ROWS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("row", [r for r in DIFFERENTIABLE_ROWS if not OPS[r.op].inplace], ids=lambda r: r.id)
def test_row_exercises_its_op(row):
    """The program really runs the op the row names: a node of that op is in the recorded graph."""
    outputs = run_forward(row, gw, np.float64)
    ops_seen = {node.op.name for o in outputs if o.grad_fn is not None for node in iter_graph(o)
                if hasattr(node, "op")}
    assert row.op in ops_seen, f"{row.id}: graph has {sorted(ops_seen)}"


@pytest.mark.parametrize("float_dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_forward_and_gradients_match_torch(row, float_dtype):
    compare_with_torch(row.program, row_inputs(row), float_dtype, rng_for(row), torch_program=row.torch_program,
                       compare_grad_fn=row.compare_grad_fn)


# float16 on the first row of each op (its dtypes and rough values; the maths is checked above).
FIRST_ROW_OF_EACH_OP = list({r.op: r for r in reversed(ROWS)}.values())


@pytest.mark.parametrize("row", FIRST_ROW_OF_EACH_OP, ids=lambda r: r.id)
def test_float16_matches_torch(row):
    try:
        run_forward(row, torch, np.float16)
    except RuntimeError:  # torch has no half kernel (linalg): gradwire must refuse it too
        with pytest.raises(RuntimeError):
            run_forward(row, gw, np.float16)
        return
    compare_with_torch(row.program, row_inputs(row), np.float16, rng_for(row), torch_program=row.torch_program,
                       compare_grad_fn=row.compare_grad_fn)


@pytest.mark.parametrize("row", [r for r in DIFFERENTIABLE_ROWS if r.finite_differences], ids=lambda r: r.id)
def test_gradients_match_central_differences(row):
    inputs = row_inputs(row)
    seeds = seeds_for(run_forward(row, gw, np.float64), rng_for(row))
    _, _, grads = vjp(gw, row.program, inputs, seeds, np.float64)
    expected = numeric_vjp(row.program, inputs, seeds)
    assert len(grads) == len(expected)
    for i, (ours, numeric) in enumerate(zip(grads, expected)):
        ours = np.zeros_like(numeric) if ours is None else to_numpy(ours)
        np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-6, err_msg=f"grad {i}")


@pytest.mark.parametrize("row", [r for r in DIFFERENTIABLE_ROWS if r.second_order], ids=lambda r: r.id)
def test_second_derivatives_match_torch(row):
    inputs = row_inputs(row)
    rng = rng_for(row)
    seeds = seeds_for(run_forward(row, torch, np.float64), rng)
    weights = [rng.standard_normal(np.shape(v)) for v in inputs if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    ours = second_order(gw, row.program_for(gw), inputs, seeds, weights)
    theirs = second_order(torch, row.program_for(torch), inputs, seeds, weights)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(to_numpy(a), to_numpy(b), f"second derivative {i}", rtol=1e-9, atol=1e-10)
