"""Issue 9's mistakes table, run three ways: torch, the engine, and the SDK against a real server.

For a mistake, torch's exception class and the statement that raises it are the reference: the engine
and the SDK must raise an instance of the same builtin class at the same statement, and for a mistake
that shapes, dtypes and arguments alone reveal (`local`) the SDK must raise it without any RPC. For a
program torch accepts, the engine and the SDK must run it and give torch's value and dtype.

Two small sets name where the SDK knowingly parts from torch's timing (SDK_AFTER_RPC, SDK_AT_A_READ); those
rows assert what it does instead.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

import gradwire.engine as engine
from gradwire.client import Client
from gradwire.server import create_server
from mistakes_runner import Outcome, as_array, first_read_error, late_error, run
from mistakes_table import ISSUE_EXAMPLES, MISTAKES, Mistake

# var(correction=5) of 3 values: torch warns about the degrees of freedom, and so does numpy in the server.
pytestmark = pytest.mark.filterwarnings("ignore:Degrees of freedom <= 0:RuntimeWarning")

# Where the SDK knowingly parts from torch's timing, and what it does instead (tested as such):
# - whether an input is reachable from the outputs is the server's graph to tell: the right class at the
#   right statement, after one RPC;
SDK_AFTER_RPC = {"grad_of_unused_input"}
# - a mistake only tensor values reveal (an index past the end, a BCE input above 1, a view that needs a
#   copy of strided data) is found by the server when the values are computed, so torch's class comes at the
#   first read of the result, not at the statement (raising there would cost every such call an RPC).
SDK_AT_A_READ = {
    "view_needs_copy", "index_tensor_past_end", "index_select_past_end",
    "cross_entropy_target_past_end", "embedding_past_end", "gather_past_end",
    "binary_cross_entropy_input_past_one",
}
# Errors that are plain builtins on purpose: Python's own protocols refuse these before any op runs
# (an operator with a str, len() or iteration of a 0-d tensor, an attribute of a grad that is None), or
# torchlike's nn and optim raise them (they are shared by the engine and the SDK and involve no op).
PLAIN_BUILTIN_ERRORS = {
    "add_string", "len_of_scalar", "iterate_scalar", "zero_grad_before_backward",
    "sequential_of_int", "optimizer_of_non_leaf", "optimizer_of_nothing", "optimizer_negative_lr",
}


ROWS = [pytest.param(m, id=m.name) for m in MISTAKES]


@pytest.fixture(scope="module")
def address():
    server, port = create_server("127.0.0.1:0")
    yield f"127.0.0.1:{port}"
    server.stop(None).wait()


@functools.cache
def torch_outcome(mistake: Mistake) -> Outcome:
    """torch's outcome of a row, computed once: the reference the other two columns are held to."""
    return run(torch, mistake)


def _assert_like_torch(mistake: Mistake, outcome: Outcome, reference: Outcome, extra: str = "") -> None:
    if mistake.error is None:
        assert outcome.error is None, f"torch runs it; here: {outcome.describe()}"
        expected, got = as_array(reference.namespace["out"]), as_array(outcome.namespace["out"])
        assert str(got.dtype) == str(expected.dtype)
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        return
    expected = (mistake.error, mistake.raising_statement)
    assert (outcome.builtin_class(), outcome.raised_at) == expected, \
        f"torch: {reference.describe()}\nhere: {outcome.describe()}{extra}"


def test_the_table_is_large_and_its_names_unique():
    names = [m.name for m in MISTAKES]
    assert len(names) == len(set(names))
    assert sum(m.error is not None for m in MISTAKES) >= 70
    assert not (SDK_AFTER_RPC | SDK_AT_A_READ) - set(names)
    assert not SDK_AFTER_RPC & SDK_AT_A_READ
    assert not PLAIN_BUILTIN_ERRORS - set(names)
    assert not set(ISSUE_EXAMPLES) - set(names)


@pytest.mark.parametrize("mistake", ROWS)
def test_torch(mistake):
    """The table says what torch does: the class and statement of each mistake, and the programs it runs."""
    outcome = torch_outcome(mistake)
    if mistake.error is None:
        assert outcome.error is None, outcome.describe()
        assert "out" in outcome.namespace
    else:
        assert (outcome.builtin_class(), outcome.raised_at) == (mistake.error, mistake.raising_statement), \
            outcome.describe()


@pytest.mark.parametrize("mistake", ROWS)
def test_engine(mistake):
    outcome = run(engine, mistake)
    _assert_like_torch(mistake, outcome, torch_outcome(mistake))
    if outcome.error is not None and mistake.name not in PLAIN_BUILTIN_ERRORS:
        # engine.errors, wherever the module lives (the rules layer takes it over)
        assert isinstance(outcome.error, engine.errors.GradwireError), "the engine's own errors carry a status"
        assert str(outcome.error), "with a message"


@pytest.mark.parametrize("mistake", ROWS)
def test_sdk(mistake, address):
    with Client(address) as client:
        client.ops()  # the catalogue is a once-per-Client cost, not the statement's
        outcome = run(client, mistake, counts=lambda: client.rpc_counts)
        if mistake.name in SDK_AT_A_READ:
            assert outcome.error is None, f"raised at the statement after all: {outcome.describe()}"
            read = first_read_error(outcome.namespace)
            assert read is not None and isinstance(read, mistake.error), f"the first read raised {read!r}"
            return
        late = late_error(outcome.namespace) if outcome.error is None and mistake.error else ""
        _assert_like_torch(mistake, outcome, torch_outcome(mistake), late)
        if mistake.error is not None and mistake.local and mistake.name not in SDK_AFTER_RPC:
            assert outcome.rpcs[-1] == {}, f"the failing statement made RPCs: {outcome.rpcs[-1]}"
