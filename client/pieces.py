"""Transitional (see inference.py): how many outputs an op with several differentiable outputs has for a call (split, aminmax, svd ...).

The server runs such an op once per output (its `output` attribute names which), so each output is its
own graph node with its own gradient; the SDK asks for every output. The count depends on the call
(how many pieces split makes), mirroring the engine's OpDef.pieces rules for these ops.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence


def _dim_size(shape: tuple, dim: int) -> int:
    if not shape:
        return 1
    return shape[dim % len(shape)]


def _split(shapes: Sequence[tuple], attrs: dict) -> int:
    sizes, size = attrs.get("split_size_or_sections"), _dim_size(shapes[0], attrs.get("dim", 0) or 0)
    if isinstance(sizes, (list, tuple)):
        return len(sizes)
    return max(1, math.ceil(size / sizes)) if sizes else 1


def _chunk(shapes: Sequence[tuple], attrs: dict) -> int:
    size, chunks = _dim_size(shapes[0], attrs.get("dim", 0) or 0), attrs["chunks"]
    if size == 0:
        return chunks
    step = math.ceil(size / chunks)
    return math.ceil(size / step)


def _tensor_split(shapes: Sequence[tuple], attrs: dict) -> int:
    sections = attrs["indices_or_sections"]
    return len(sections) + 1 if isinstance(sections, (list, tuple)) else sections


def _svd(shapes: Sequence[tuple], attrs: dict) -> int:
    return 3


RULES: dict[str, Callable[[Sequence[tuple], dict], int]] = {
    "aminmax": lambda shapes, attrs: 2,
    "split": _split,
    "chunk": _chunk,
    "unbind": lambda shapes, attrs: _dim_size(shapes[0], attrs.get("dim", 0) or 0),
    "tensor_split": _tensor_split,
    "meshgrid": lambda shapes, attrs: len(shapes),
    "linalg_slogdet": lambda shapes, attrs: 2,
    "linalg_qr": lambda shapes, attrs: 2,
    "linalg_eigh": lambda shapes, attrs: 2,
    "linalg_svd": _svd,
}


def count(op_name: str, operands: Sequence[Any], attrs: dict) -> int | None:
    """The number of outputs of this call, or None for an op that is run once."""
    rule = RULES.get(op_name)
    if rule is None or attrs.get("output") is not None:
        return None
    return rule([tuple(getattr(x, "shape", ())) for x in operands], attrs)
