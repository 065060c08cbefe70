"""The reduction, scan, shape, indexing and linear-algebra rows of the op table run through a Client
against a real server: values, dtypes and gradients equal torch's (float64)."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "engine"))

from ops_harness import as_outputs, assert_close, dtype_name, make_tensors, seeds_for, to_numpy  # noqa: E402
from ops_table_shape import SHAPE_ROWS  # noqa: E402

# Rows that call the engine's internal entry points (m.apply) have no SDK spelling.
ROWS = [r for r in SHAPE_ROWS if r.torch_program is None]


def _run(module, row, inputs, seeds):
    tensors = make_tensors(module, inputs, np.float64)
    outputs = as_outputs(row.program(module, *tensors))
    wrt = [t for t, v in zip(tensors, inputs) if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    roots = [(o, s) for o, s in zip(outputs, seeds) if s is not None and o.requires_grad]
    grads = [None] * len(wrt)
    if roots and wrt:
        grads = module.autograd.grad([o for o, _ in roots], wrt, [module.tensor(s) for _, s in roots],
                                     allow_unused=True)
    return outputs, grads


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_row_through_the_sdk_matches_torch(client, row):
    rng = np.random.default_rng(zlib.crc32(row.id.encode()))
    inputs = row.inputs(rng)
    reference = as_outputs(row.program(torch, *make_tensors(torch, inputs, np.float64)))
    seeds = seeds_for(reference, rng)
    ours, our_grads = _run(client, row, inputs, seeds)
    theirs, their_grads = _run(torch, row, inputs, seeds)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert tuple(a.shape) == tuple(b.shape), f"output {i} shape"
        assert dtype_name(a) == dtype_name(b), f"output {i} dtype"
        assert_close(np.asarray(a.detach().numpy(), dtype=np.float64), to_numpy(b).astype(np.float64),
                     f"output {i}", rtol=1e-10, atol=1e-12)
    for i, (a, b) in enumerate(zip(our_grads, their_grads)):
        assert_close(None if a is None else np.asarray(a.numpy()), to_numpy(b), f"grad {i}", rtol=1e-10, atol=1e-12)
