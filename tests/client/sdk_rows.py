"""One op-table row through the SDK against torch: the check the per-family SDK tests share.

Each row runs in torch and through a Client on a real server with the same inputs and seed gradients;
outputs must agree in shape, dtype, requires_grad, grad_fn name (where the row compares it) and values,
and the gradients in values.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from ops_harness import (  # noqa: E402
    as_outputs, assert_close, dtype_name, grad_fn_name, make_tensors, seeds_for, to_numpy, tolerance_for, vjp,
)


def cases(rows: Sequence[Any]) -> list[tuple[Any, Any]]:
    """Every row in float64; float32 on each op's first row (its dtype rules; the maths is checked in float64)."""
    return [(r, np.float64) for r in rows] + [(r, np.float32) for r in {r.op: r for r in reversed(rows)}.values()]


def case_ids(rows_and_dtypes: Sequence[tuple[Any, Any]]) -> list[str]:
    return [f"{r.id}-{np.dtype(d).name}" for r, d in rows_and_dtypes]


def _run(module: Any, row: Any, float_dtype: Any, seeds: Any) -> tuple[list, list]:
    values = row.inputs(np.random.default_rng(zlib.crc32(row.id.encode())))
    program = row.program_for(torch) if module is torch else row.program
    if seeds is not None and any(s is not None for s in seeds):
        _, outputs, grads = vjp(module, program, values, seeds, float_dtype)
        return outputs, grads
    return as_outputs(program(module, *make_tensors(module, values, float_dtype))), []


def check_row_through_sdk(client: Any, row: Any, float_dtype: Any) -> None:
    values = row.inputs(np.random.default_rng(zlib.crc32(row.id.encode())))
    reference = as_outputs(row.program_for(torch)(torch, *make_tensors(torch, values, float_dtype)))
    seeds = seeds_for(reference, np.random.default_rng(zlib.crc32(row.id.encode()) + 1))
    theirs, their_grads = _run(torch, row, float_dtype, seeds)
    ours, our_grads = _run(client, row, float_dtype, seeds)
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
