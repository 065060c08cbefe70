"""The torch.nn.functional op-table rows (tests/engine/ops_table_nn.py) through the SDK against a real
server: values, dtypes and gradients equal torch's; optional tensor operands (bias=None, weight=...)
spelled positionally and by keyword."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ops_table_nn import NN_ROWS  # noqa: E402


def _tensors(module, values, requires_grad):
    out = []
    for value in values:
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            out.append(module.tensor(value, requires_grad=requires_grad))
        elif isinstance(value, np.ndarray):
            out.append(module.tensor(value))
        else:
            out.append(value)
    return out


def _run(module, row, values, seeds):
    tensors = _tensors(module, values, True)
    program = row.program_for(torch) if module is torch else row.program
    result = program(module, *tensors)
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    total = None
    for output, seed in zip(outputs, seeds):
        if seed is not None and output.requires_grad:
            term = (output * module.tensor(seed)).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    grads = [t.grad.numpy() if getattr(t, "grad", None) is not None else None
             for t in tensors if hasattr(t, "requires_grad") and t.requires_grad]
    return outputs, grads


@pytest.mark.parametrize("row", NN_ROWS, ids=lambda r: r.id)
def test_row_through_the_sdk_matches_torch(client, row):
    rng = np.random.default_rng(zlib.crc32(row.id.encode()))
    values = row.inputs(rng)
    torch_outputs = [o for o in (lambda r: list(r) if isinstance(r, (tuple, list)) else [r])(
        row.program_for(torch)(torch, *_tensors(torch, values, False)))]
    seeds = [rng.standard_normal(tuple(o.shape)) if o.dtype.is_floating_point else None for o in torch_outputs]
    expected, expected_grads = _run(torch, row, values, seeds)
    ours, grads = _run(client, row, values, seeds)
    assert len(ours) == len(expected)
    for mine, theirs in zip(ours, expected):
        assert tuple(mine.shape) == tuple(theirs.shape)
        assert str(mine.dtype).rsplit(".", 1)[-1] == str(theirs.dtype).rsplit(".", 1)[-1]
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, theirs in zip(grads, expected_grads):
        if theirs is None or mine is None:
            assert (mine is None or not np.any(mine)) and (theirs is None or not np.any(theirs))
        else:
            np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_optional_operands_positionally_and_by_keyword(client):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3)), rng.standard_normal(5)
    F, tF = client.nn.functional, torch.nn.functional
    X, W, B = (client.tensor(v) for v in (x, w, b))
    tX, tW, tB = (torch.tensor(v) for v in (x, w, b))
    for ours, theirs in [(F.linear(X, W), tF.linear(tX, tW)), (F.linear(X, W, B), tF.linear(tX, tW, tB)),
                         (F.linear(X, W, bias=B), tF.linear(tX, tW, bias=tB)),
                         (F.linear(X, W, None), tF.linear(tX, tW, None))]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    target = rng.integers(0, 3, 4)
    weights = rng.uniform(0.5, 2, 3)
    logits = rng.standard_normal((4, 3))
    ours = F.cross_entropy(client.tensor(logits), client.tensor(target), weight=client.tensor(weights), reduction="sum")
    theirs = tF.cross_entropy(torch.tensor(logits), torch.tensor(target), weight=torch.tensor(weights), reduction="sum")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_bad_optional_operand_is_a_torch_error(client):
    F = client.nn.functional
    x, w = client.tensor(np.ones((2, 3))), client.tensor(np.ones((4, 3)))
    with pytest.raises(RuntimeError, match="dtype"):
        F.linear(x, w, client.tensor(np.ones(4, dtype=np.float32))).numpy()
    with pytest.raises(TypeError):
        F.linear(x, w, bias=x, no_such=1)
