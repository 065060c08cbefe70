"""The op-table rows of the ops added for common torch idioms (ops_table_more.py) through the SDK against a
real server: values, shapes, dtypes, requires_grad, grad_fn names and gradients equal torch's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

import ops_table  # noqa: E402,F401  (builds every family's rows first)
from ops_table_more import MORE_ROWS  # noqa: E402
from sdk_rows import case_ids, cases, check_row_through_sdk  # noqa: E402

CASES = cases(MORE_ROWS)


@pytest.mark.parametrize("row, float_dtype", CASES, ids=case_ids(CASES))
def test_row_through_the_sdk_matches_torch(client, row, float_dtype):
    check_row_through_sdk(client, row, float_dtype)


@pytest.mark.parametrize("a, b", [([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 3.0]), ([[1.0, 1.0]], [1.0]),
                                  ([1, 2], [1.0, 2.0])])
def test_equal_through_the_sdk_is_torchs_bool(client, a, b):
    expected = torch.equal(torch.tensor(a), torch.tensor(b))
    ours = client.equal(client.tensor(a), client.tensor(b))
    assert type(ours) is bool and ours == expected
    assert client.tensor(a).equal(client.tensor(b)) == expected
