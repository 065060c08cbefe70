"""Checks shared by the op families: torch's errors for operands that do not broadcast, and for Python
numbers where an op takes only Tensors (`exp(2)`, `cat([1.5])`), before numpy sees them."""

from __future__ import annotations

from gradwire.rules.checks import check_tensors, tensors_only  # noqa: F401  (moved to the rules; re-exported)
from gradwire.rules.shapes import raise_not_broadcastable


def check_broadcast(shapes: list) -> None:
    """torch's error (a RuntimeError naming the dim) for operand shapes that do not broadcast."""
    raise_not_broadcastable(shapes)
