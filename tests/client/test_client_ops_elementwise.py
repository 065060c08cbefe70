"""The elementwise family's op-table rows through the SDK against a real server: values, dtypes,
requires_grad, grad_fn names and gradients equal torch's (float64 and float32)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is the oracle for these comparisons")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from ops_table_elementwise import ELEMENTWISE_ROWS  # noqa: E402
from sdk_rows import case_ids, cases, check_row_through_sdk  # noqa: E402

CASES = cases(ELEMENTWISE_ROWS)


@pytest.mark.parametrize("row, float_dtype", CASES, ids=case_ids(CASES))
def test_row_through_the_sdk_matches_torch(client, row, float_dtype):
    check_row_through_sdk(client, row, float_dtype)
