"""The op-table rows of the ops added for common torch idioms (ops_table_more.py) through the SDK against a
real server: values, shapes, dtypes, requires_grad, grad_fn names and gradients equal torch's."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from ops_harness import (  # noqa: E402
    as_outputs, assert_close, dtype_name, grad_fn_name, make_tensors, seeds_for, to_numpy, tolerance_for, vjp,
)
import ops_table  # noqa: E402,F401  (builds every family's rows first)
from ops_table_more import MORE_ROWS  # noqa: E402

# Every row in float64; float32 on each op's first row (its dtype rules; the maths is checked in float64).
CASES = [(r, np.float64) for r in MORE_ROWS] + [(r, np.float32) for r in {r.op: r for r in reversed(MORE_ROWS)}.values()]


def run(module, row, float_dtype, seeds):
    values = row.inputs(np.random.default_rng(zlib.crc32(row.id.encode())))
    program = row.program_for(torch) if module is torch else row.program
    if seeds is not None and any(s is not None for s in seeds):
        _, outputs, grads = vjp(module, program, values, seeds, float_dtype)
        return outputs, grads
    return as_outputs(program(module, *make_tensors(module, values, float_dtype))), []


@pytest.mark.parametrize("row, float_dtype", CASES, ids=[f"{r.id}-{np.dtype(d).name}" for r, d in CASES])
def test_row_through_the_sdk_matches_torch(client, row, float_dtype):
    values = row.inputs(np.random.default_rng(zlib.crc32(row.id.encode())))
    reference = as_outputs(row.program_for(torch)(torch, *make_tensors(torch, values, float_dtype)))
    seeds = seeds_for(reference, np.random.default_rng(zlib.crc32(row.id.encode()) + 1))
    theirs, their_grads = run(torch, row, float_dtype, seeds)
    ours, our_grads = run(client, row, float_dtype, seeds)
    assert len(ours) == len(theirs)
    for i, (mine, expected) in enumerate(zip(ours, theirs)):
        assert tuple(mine.shape) == tuple(expected.shape), f"output {i} shape"
        assert dtype_name(mine) == dtype_name(expected), f"output {i} dtype"
        assert mine.requires_grad == expected.requires_grad, f"output {i} requires_grad"
        if row.compare_grad_fn:
            assert grad_fn_name(mine) == grad_fn_name(expected), f"output {i} grad_fn"
        assert_close(to_numpy(mine).astype(np.float64), to_numpy(expected).astype(np.float64),
                     f"output {i} values", **tolerance_for(expected))
    for i, (mine, expected) in enumerate(zip(our_grads, their_grads)):
        assert_close(to_numpy(mine), to_numpy(expected), f"grad {i}",
                     **tolerance_for(expected if expected is not None else reference[0]))


@pytest.mark.parametrize("a, b", [([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 3.0]), ([[1.0, 1.0]], [1.0]),
                                  ([1, 2], [1.0, 2.0])])
def test_equal_through_the_sdk_is_torchs_bool(client, a, b):
    expected = torch.equal(torch.tensor(a), torch.tensor(b))
    ours = client.equal(client.tensor(a), client.tensor(b))
    assert type(ours) is bool and ours == expected
    assert client.tensor(a).equal(client.tensor(b)) == expected
