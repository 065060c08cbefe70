"""Triangles and diagonals: tril, triu, diagonal, diag_embed, diag, trace.

diagonal and diag_embed are each other's VJP (torch's diagonal_backward is a diag_embed into zeros),
which keeps gradients of every order in the graph.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .checks import tensors_only
from .reductions import axes_of

DIAGONAL = AttrSpec("diagonal", "integer", default=0, description="which diagonal: 0 the main, >0 above, <0 below")
OFFSET = AttrSpec("offset", "integer", default=0, description="which diagonal: 0 the main, >0 above, <0 below")


def _triangle(name: str, keep):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        if x.ndim < 2:
            raise ShapeError(f"{name}: input tensor must have at least 2 dimensions")
        rows, cols = x.shape[-2:]
        mask = keep(np.ones((rows, cols), dtype=bool), attrs["diagonal"])
        return np.where(mask, x, np.zeros((), dtype=x.dtype))

    register(OpDef(
        name=name, forward=forward, vjps=(lambda F, g, c: getattr(F, name)(g, diagonal=c.attrs["diagonal"]),),
        grad_fn=f"{name.capitalize()}Backward0", dtype_rule=tensors_only(name, promotion.same), attrs=(DIAGONAL,),
        methods=(name,), functions=(name,),
        summary=f"the {'lower' if name == 'tril' else 'upper'} triangle of the last two dims; the rest zero",
    ))


_triangle("tril", np.tril)
_triangle("triu", np.triu)


def _pair(attrs: dict, ndim: int) -> tuple[int, int]:
    first, second = (axes_of(attrs[d], ndim)[0] for d in ("dim1", "dim2"))
    if first == second:
        raise InvalidArgumentRuntimeError(f"diagonal dimensions cannot be identical {attrs['dim1']}, {attrs['dim2']}")
    return first, second


def _diagonal_forward(arrays: list, attrs: dict):
    x = arrays[0]
    first, second = _pair(attrs, x.ndim)
    return np.diagonal(x, attrs["offset"], first, second)


def _diag_embed_shape(shape: tuple, attrs: dict) -> tuple:
    n = (shape[-1] if shape else 1) + abs(attrs["offset"])
    first, second = _pair(attrs, len(shape) + 1)
    out = list(shape[:-1])
    for axis in sorted((first, second)):
        out.insert(axis, n)
    return tuple(out)


def _diag_embed_forward(arrays: list, attrs: dict):
    x = arrays[0]
    out = np.zeros(_diag_embed_shape(x.shape, attrs), dtype=x.dtype)
    first, second = _pair(attrs, out.ndim)
    moved = np.moveaxis(out, (first, second), (-2, -1))
    offset, n = attrs["offset"], x.shape[-1] if x.ndim else 1
    index = np.arange(n)
    moved[..., index + max(-offset, 0), index + max(offset, 0)] = x
    return out


def _diagonal_vjp(F, g, c):
    """diag_embed of g into the input's shape (cropped or padded where the input was not square)."""
    shape = c.input_shapes[0]
    first, second = _pair(c.attrs, len(shape))
    offset = c.attrs["offset"]
    embedded = F.diag_embed(g, offset=offset, dim1=first, dim2=second)
    sizes = F.shape(embedded)
    if tuple(sizes) == tuple(shape):
        return embedded
    # The square embedding is as large as the diagonal allows; take the input's corner of it, padding if needed.
    cut = tuple(slice(0, min(a, b)) for a, b in zip(sizes, shape))
    corner = F.getitem(embedded, index=cut)
    return F.index_backward(corner, shape=shape, index=cut) if tuple(F.shape(corner)) != tuple(shape) else corner


register(OpDef(
    name="diagonal", forward=_diagonal_forward, vjps=(_diagonal_vjp,), grad_fn="DiagonalBackward0",
    dtype_rule=tensors_only("diagonal", promotion.same), view=True,
    attrs=(OFFSET, AttrSpec("dim1", "integer", default=0, description="the first dim of the matrices"),
           AttrSpec("dim2", "integer", default=1, description="the second dim of the matrices")),
    methods=("diagonal",), functions=("diagonal",), summary="a diagonal of the matrices in dims dim1, dim2 (a view)",
))
register(OpDef(
    name="diag_embed", forward=_diag_embed_forward,
    vjps=(lambda F, g, c: F.diagonal(g, offset=c.attrs["offset"], dim1=c.attrs["dim1"], dim2=c.attrs["dim2"]),),
    grad_fn="DiagEmbedBackward0", dtype_rule=tensors_only("diag_embed", promotion.same),
    attrs=(OFFSET, AttrSpec("dim1", "integer", default=-2, description="the first dim of the new matrices"),
           AttrSpec("dim2", "integer", default=-1, description="the second dim of the new matrices")),
    methods=("diag_embed",), functions=("diag_embed",), out_shape=lambda shapes, attrs: _diag_embed_shape(shapes[0], attrs),
    summary="matrices with the last dim on a diagonal, zeros elsewhere",
))


def _diag_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 1:
        return _diag_embed_forward(arrays, {"offset": attrs["diagonal"], "dim1": 0, "dim2": 1})
    if x.ndim == 2:
        return np.diagonal(x, attrs["diagonal"]).copy()
    raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


class _AsDiagonal:
    def __init__(self, c) -> None:
        self.input_shapes = c.input_shapes
        self.attrs = {"offset": c.attrs["diagonal"], "dim1": 0, "dim2": 1}


def _diag_vjp(F, g, c):
    if len(c.input_shapes[0]) == 1:
        return F.diagonal(g, offset=c.attrs["diagonal"], dim1=0, dim2=1)
    return _diagonal_vjp(F, g, _AsDiagonal(c))


def _diag_shape(shape: tuple, offset: int) -> tuple:
    if len(shape) == 1:
        return (shape[0] + abs(offset),) * 2
    if len(shape) != 2:
        raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {len(shape)}D")
    rows, cols = shape
    return (max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols)),)


register(OpDef(
    name="diag", forward=_diag_forward, vjps=(_diag_vjp,),
    grad_fn=lambda node: "DiagEmbedBackward0" if len(node.input_shapes[0]) == 1 else "DiagonalBackward0_copy",
    dtype_rule=tensors_only("diag", promotion.same), attrs=(DIAGONAL,), methods=("diag",), functions=("diag",),
    out_shape=lambda shapes, attrs: _diag_shape(tuple(shapes[0]), attrs["diagonal"]),
    summary="a 1-D tensor as a diagonal matrix, or a 2-D tensor's diagonal",
))


def _trace_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return np.trace(x)


register(OpDef(
    name="trace", forward=_trace_forward,
    vjps=(lambda F, g, c: g * F.constant(np.eye(*c.input_shapes[0], dtype=F.value(g).dtype)),),
    grad_fn="TraceBackward0", dtype_rule=tensors_only("trace", promotion.sum_like), methods=("trace",),
    functions=("trace",), summary="the sum of a matrix's main diagonal",
))
