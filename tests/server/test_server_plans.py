"""The plan path against the slow path: the same programs through the SDK on a server whose plan cache is
warm (the structure was seen, with other values) and on one with no plan cache give the same bits.

Every op-table row and a set of random programs run first twice on the caching server with one set of
inputs (the slow path, which compiles the plan the second time), then with new inputs on both servers: values, gradients,
dtypes, grad_fn names and errors must be identical, and the caching server must have hit its cache. The new
inputs run twice on the caching server (for a fifth of the op rows): the first plan run is metered and
records its cost, the second runs unmetered where that cost allows (runner.py), on the plan's typed
steps where it has them (test_server_typed_plans.py covers those further); both must match.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gradwire.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ops_table import ROWS  # noqa: E402
from test_random_programs import build_program, run_program  # noqa: E402


@pytest.fixture(scope="module")
def servers():
    from gradwire.server import ServerConfig, create_server

    cached, cached_port = create_server("127.0.0.1:0")
    plain, plain_port = create_server("127.0.0.1:0", ServerConfig(plan_cache_entries=0))
    yield cached, f"127.0.0.1:{cached_port}", f"127.0.0.1:{plain_port}"
    cached.stop(None).wait()
    plain.stop(None).wait()


def _tensors(client, inputs):
    made = []
    for value in inputs:
        if not isinstance(value, np.ndarray):
            made.append(value)
        elif value.dtype.kind == "f":
            made.append(client.tensor(value.astype(np.float64), requires_grad=True))
        else:
            made.append(client.tensor(value))
    return made


def _describe(tensor):
    if tensor is None:
        return None
    return (np.array(tensor.detach().numpy(), copy=True), str(tensor.dtype),
            None if tensor.grad_fn is None else tensor.grad_fn.name())


def _row_outcome(address, row, inputs):
    """Everything observable of one row run through a fresh Client (fresh ids: the same structure)."""
    with Client(address) as client:
        try:
            tensors = _tensors(client, inputs)
            result = row.program(client, *tensors)
            outputs = list(result) if isinstance(result, (tuple, list)) else [result]
            described = [_describe(out) for out in outputs]
            roots = [out for out in outputs if out.requires_grad]
            wrt = [t for t, v in zip(tensors, inputs) if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
            grads = []
            if roots and wrt:
                seeds = [client.tensor(np.linspace(-1, 1, max(1, int(np.prod(out.shape)))).reshape(out.shape))
                         for out in roots]
                grads = [_describe(g) for g in client.autograd.grad(roots, wrt, seeds, allow_unused=True)]
            return "ok", described, grads
        except Exception as error:  # noqa: BLE001 - the error is what is compared
            return "error", type(error).__name__, str(error)


def _assert_same(ours, theirs, what):
    assert ours[0] == theirs[0], f"{what}: {ours} vs {theirs}"
    if ours[0] == "error":
        assert ours[1:] == theirs[1:], what
        return
    for mine, other in zip(ours[1] + ours[2], theirs[1] + theirs[2]):
        if mine is None or other is None:
            assert mine is other, what
            continue
        assert mine[1:] == other[1:], what
        assert mine[0].dtype == other[0].dtype and mine[0].shape == other[0].shape, what
        assert mine[0].tobytes() == other[0].tobytes(), f"{what}: values differ in their bits"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_op_table_row_is_bit_identical_on_the_plan_path(servers, row):
    cached_server, cached, plain = servers
    first = row.inputs(np.random.default_rng(1))
    second = row.inputs(np.random.default_rng(2))
    for _ in range(2):  # the slow path; the second run compiles and caches the plan
        _row_outcome(cached, row, first)
    hits_before = cached_server.servicer.runner.cache.stats().hits
    ours = _row_outcome(cached, row, second)
    theirs = _row_outcome(plain, row, second)
    _assert_same(ours, theirs, row.id)
    if ROWS.index(row) % 5 == 0:  # a fifth of the rows (every family) again, unmetered: the suite's time
        _assert_same(_row_outcome(cached, row, second), theirs, f"{row.id}, run again")
    if ours[0] == "ok":
        assert cached_server.servicer.runner.cache.stats().hits > hits_before, "the plan path was not taken"
    # The plans' typed inference (plans.type_steps) equals the dtypes and shapes the engine produced on
    # their first run (checked by that run, step by step); a disagreement would keep a plan untyped.
    disagreeing = [plan.steps for plan, _ in list(cached_server.servicer.runner.cache._plans.values())
                   if plan.runs.typed_agrees is False]
    assert not disagreeing, f"{row.id}: typed inference differs from the engine for {disagreeing}"


def with_new_leaves(steps, seed):
    rng = np.random.default_rng(seed)
    return [("leaf", rng.normal(size=step[1].shape)) if step[0] == "leaf" else step for step in steps]


def program_outcome(address, steps):
    with Client(address) as client:
        loss, grads = run_program(client, steps)
        return [np.array(loss.detach().numpy())] + [None if g is None else np.array(g.numpy()) for g in grads]


@pytest.mark.parametrize("seed", range(12))
def test_random_program_is_bit_identical_on_the_plan_path(servers, seed):
    cached_server, cached, plain = servers
    steps = build_program(seed)
    for _ in range(2):
        program_outcome(cached, steps)
    hits_before = cached_server.servicer.runner.cache.stats().hits
    again = with_new_leaves(steps, 1000 + seed)
    ours, theirs = program_outcome(cached, again), program_outcome(plain, again)
    assert cached_server.servicer.runner.cache.stats().hits > hits_before
    for run in (ours, program_outcome(cached, again)):
        for mine, other in zip(run, theirs):
            if other is None:
                assert mine is None
            else:
                assert mine.dtype == other.dtype and mine.tobytes() == other.tobytes()
