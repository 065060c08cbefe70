"""Shape rules many ops share: broadcasting, same-as-input, reductions over dims.

Each takes the operands' shapes (one tuple per operand, () for a Python scalar) and the op's normalised
attributes, and returns the result's shape or raises the error torch raises for those shapes.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from gradwire.rules.errors import IndexOutOfRange, ShapeError


def broadcast_shapes(shapes: Sequence[tuple]) -> tuple:
    """torch's broadcast of `shapes`; its error (a RuntimeError naming the dim) when they do not broadcast."""
    if len(shapes) == 2:  # the common cases without numpy's cost: equal shapes, or one a scalar
        first, second = shapes
        if first == second or not second:
            return tuple(first)
        if not first:
            return tuple(second)
    widest = max(shapes, key=len) if shapes else ()
    if all(shape == widest or shape == () for shape in shapes):
        return tuple(widest)
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    except ValueError:
        raise_not_broadcastable(shapes)
        raise


def raise_not_broadcastable(shapes: Sequence[tuple]) -> None:
    """torch's error for operand shapes that do not broadcast (returns when they do)."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    names = "ab" if len(shapes) == 2 else [str(i) for i in range(len(shapes))]
    for dim in range(ndim):
        sizes = [s[dim] for s in padded]
        widest = int(np.argmax(sizes))
        for position, size in enumerate(sizes):
            if size not in (1, sizes[widest]):
                raise ShapeError(
                    f"The size of tensor {names[position]} ({size}) must match the size of tensor "
                    f"{names[widest]} ({sizes[widest]}) at non-singleton dimension {dim} "
                    f"(shapes {', '.join(str(list(s)) for s in shapes)} do not broadcast)"
                )


def broadcast(shapes: list, attrs: dict) -> tuple:
    """The shape rule of elementwise ops: the operands broadcast together."""
    return broadcast_shapes(shapes)


def same(shapes: list, attrs: dict) -> tuple:
    """The shape rule of ops whose result has their first operand's shape."""
    return tuple(shapes[0])


def normalise_dim(dim: int, rank: int) -> int:
    """`dim` in [0, rank) (a 0-dim tensor takes dims 0 and -1), or torch's IndexError."""
    bound = max(rank, 1)
    if not -bound <= dim < bound:
        raise IndexOutOfRange(f"Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], "
                              f"but got {dim})")
    return dim % bound


def normalise_dims(dim: Any, rank: int) -> tuple[int, ...]:
    """A dim or sequence of dims in [0, rank), each once (torch's RuntimeError for a repeat)."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    normal = tuple(normalise_dim(d, rank) for d in dims)
    if len(set(normal)) != len(normal):
        repeated = next(d for d in normal if normal.count(d) > 1)
        raise ShapeError(f"dim {repeated} appears multiple times in the list of dims")
    return normal


def reduced(shape: tuple, dim: Any, keepdim: bool) -> tuple:
    """The shape left by reducing `shape` over `dim` (None or (): every dim)."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(1 for _ in shape) if keepdim else ()
    axes = normalise_dims(dim, len(shape))
    if not shape:
        return ()
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def reduce(shapes: list, attrs: dict) -> tuple:
    """The shape rule of reductions with `dim` and `keepdim` attributes."""
    return reduced(tuple(shapes[0]), attrs.get("dim"), bool(attrs.get("keepdim", False)))
