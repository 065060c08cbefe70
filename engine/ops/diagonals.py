"""Triangles and diagonals: tril, triu, diagonal, diag_embed, diag, trace (how they compute; their rules
are in gradwire.rules: rules/ops/diagonals.py).

diagonal and diag_embed are each other's VJP (torch's diagonal_backward is a diag_embed into zeros),
which keeps gradients of every order in the graph.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.diagonals import diag_embed_shape, diagonal_dims

from ..registry import implement


def _triangle(name: str, keep) -> None:
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        rows, cols = x.shape[-2:]
        mask = keep(np.ones((rows, cols), dtype=bool), attrs["diagonal"])
        return np.where(mask, x, np.zeros((), dtype=x.dtype))

    implement(name, forward, vjps=(lambda F, g, c: getattr(F, name)(g, diagonal=c.attrs["diagonal"]),))


_triangle("tril", np.tril)
_triangle("triu", np.triu)


def _diagonal_forward(arrays: list, attrs: dict):
    x = arrays[0]
    first, second = diagonal_dims(attrs, x.ndim)
    return np.diagonal(x, attrs["offset"], first, second)


def _diag_embed_forward(arrays: list, attrs: dict):
    x = arrays[0]
    out = np.zeros(diag_embed_shape(x.shape, attrs), dtype=x.dtype)
    first, second = diagonal_dims(attrs, out.ndim)
    moved = np.moveaxis(out, (first, second), (-2, -1))
    offset, n = attrs["offset"], x.shape[-1] if x.ndim else 1
    index = np.arange(n)
    moved[..., index + max(-offset, 0), index + max(offset, 0)] = x
    return out


def _diagonal_vjp(F, g, c):
    """diag_embed of g into the input's shape (cropped or padded where the input was not square)."""
    shape = c.input_shapes[0]
    first, second = diagonal_dims(c.attrs, len(shape))
    offset = c.attrs["offset"]
    embedded = F.diag_embed(g, offset=offset, dim1=first, dim2=second)
    sizes = F.shape(embedded)
    if tuple(sizes) == tuple(shape):
        return embedded
    # The square embedding is as large as the diagonal allows; take the input's corner of it, padding if needed.
    cut = tuple(slice(0, min(a, b)) for a, b in zip(sizes, shape))
    corner = F.getitem(embedded, index=cut)
    return F.index_backward(corner, shape=shape, index=cut) if tuple(F.shape(corner)) != tuple(shape) else corner


implement("diagonal", _diagonal_forward, vjps=(_diagonal_vjp,))
implement("diag_embed", _diag_embed_forward,
          vjps=(lambda F, g, c: F.diagonal(g, offset=c.attrs["offset"], dim1=c.attrs["dim1"], dim2=c.attrs["dim2"]),))


def _diag_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 1:
        return _diag_embed_forward(arrays, {"offset": attrs["diagonal"], "dim1": 0, "dim2": 1})
    return np.diagonal(x, attrs["diagonal"]).copy()


class _AsDiagonal:
    def __init__(self, c) -> None:
        self.input_shapes = c.input_shapes
        self.attrs = {"offset": c.attrs["diagonal"], "dim1": 0, "dim2": 1}


def _diag_vjp(F, g, c):
    if len(c.input_shapes[0]) == 1:
        return F.diagonal(g, offset=c.attrs["diagonal"], dim1=0, dim2=1)
    return _diagonal_vjp(F, g, _AsDiagonal(c))


implement("diag", _diag_forward, vjps=(_diag_vjp,))
implement("trace", lambda arrays, attrs: np.trace(arrays[0]),
          vjps=(lambda F, g, c: g * F.constant(np.eye(*c.input_shapes[0], dtype=F.value(g).dtype)),))
