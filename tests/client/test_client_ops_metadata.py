"""Every op-table row (tests/engine/ops_table*.py) through the SDK: the metadata the SDK derives locally
from gradwire.rules, before sending anything, equals what the server reports after the flush; an op the
SDK holds the rules of is derived completely, so reading its result's shape, dtype, requires_grad,
is_leaf or grad_fn costs no round trip."""

from __future__ import annotations

import dataclasses
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ops_harness import as_outputs, make_tensors  # noqa: E402
from ops_table import ROWS  # noqa: E402

from gradwire.client import Client  # noqa: E402

FIELDS = ("shape", "dtype", "requires_grad", "is_leaf", "grad_fn")
# Rows whose program calls the engine's internal entry points (m.apply) have no SDK spelling.
SDK_ROWS = [row for row in ROWS if row.torch_program is None]


@pytest.fixture(scope="module")
def sdk(address):
    with Client(address) as client:
        yield client


def _recorded(session) -> dict:
    """value id -> the op of the pending node that made it (or changed it in place)."""
    return {value.id: pending.message.op for pending in session.pending_nodes for value in pending.outputs}


@pytest.mark.parametrize("row", SDK_ROWS, ids=lambda row: row.id)
def test_local_metadata_is_the_servers(sdk, row):
    inputs = row.inputs(np.random.default_rng(zlib.crc32(row.id.encode())))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outputs = as_outputs(row.program(sdk, *make_tensors(sdk, inputs, np.float64)))
    session = sdk._runtime.session
    catalogue = sdk._runtime.catalogue
    made_by = _recorded(session)
    # Derived completely: every op recorded for this row has local rules (or is a rules' derived
    # in-place variant), and no result's shape depends on tensor values (a boolean mask's count).
    local_ops = all(_has_rules(catalogue, op) for op in made_by.values())
    local = [None if out._value.sent else dataclasses.replace(out._value.meta) for out in outputs]
    session.flush()
    for k, (out, derived) in enumerate(zip(outputs, local)):
        if derived is None:  # the program read a value after making it: the server has said already
            continue
        server = out._value.meta
        for field in FIELDS:
            if getattr(derived, field) is not None:
                assert getattr(derived, field) == getattr(server, field), f"output {k}: {field}"
        if local_ops:
            op = made_by.get(out._value.id)
            missing = [field for field in FIELDS if getattr(derived, field) is None
                       and not (field == "shape" and op in VALUE_DEPENDENT_SHAPES)
                       and not (field == "grad_fn" and _overwrites_without_gradient(catalogue, op))]
            assert not missing, f"output {k} ({op}): {missing} not derived locally"


# Ops whose result's shape can depend on tensor values (a boolean mask's count, tensor repeat counts,
# one_hot's class count inferred from the largest value): the rules give a bound, the server the shape.
VALUE_DEPENDENT_SHAPES = {"nonzero", "masked_select", "unique", "getitem", "repeat_interleave", "one_hot", "argwhere",
                          "nonzero_tuple"}


def _overwrites_without_gradient(catalogue, op: str) -> bool:
    """The in-place variant of an op without a gradient (eq_) on a tensor that requires grad: the engine
    writes the result as an index assignment, and the server names that grad_fn."""
    base = catalogue.ops.get(op[:-1]) if op and op.endswith("_") else None
    return base is not None and not base.differentiable


def _has_rules(catalogue, op: str) -> bool:
    """Does the SDK hold the op's rules (or, for a derived in-place `add_`, its base op's)?"""
    spec = catalogue.ops.get(op)
    base = catalogue.ops.get(op[:-1]) if op.endswith("_") else None
    return (spec is not None and spec.rules is not None) or (base is not None and base.rules is not None)
