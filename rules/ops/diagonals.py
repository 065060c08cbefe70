"""Rules of triangles and diagonals: tril, triu, diagonal, diag_embed, diag, trace."""

from __future__ import annotations

from .. import promotion
from ..checks import tensors_only
from ..errors import InvalidArgumentRuntimeError, ShapeError
from ..spec import AttrSpec, OpRules, define
from .shape import dim_of

DIAGONAL = AttrSpec("diagonal", "integer", default=0, description="which diagonal: 0 the main, >0 above, <0 below")
OFFSET = AttrSpec("offset", "integer", default=0, description="which diagonal: 0 the main, >0 above, <0 below")


def _triangle_shape(name: str):
    def rule(shapes: list, attrs: dict) -> tuple:
        if len(shapes[0]) < 2:
            raise ShapeError(f"{name}: input tensor must have at least 2 dimensions")
        return tuple(shapes[0])

    return rule


for _name in ("tril", "triu"):
    define(OpRules(
        name=_name, grad_fn=f"{_name.capitalize()}Backward0", dtype_rule=tensors_only(_name, promotion.same),
        attrs=(DIAGONAL,), methods=(_name,), functions=(_name,), out_shape=_triangle_shape(_name),
        summary=f"the {'lower' if _name == 'tril' else 'upper'} triangle of the last two dims; the rest zero",
    ))


def diagonal_dims(attrs: dict, rank: int) -> tuple[int, int]:
    """The two dims (dim1, dim2) holding the matrices, in [0, rank), or torch's errors."""
    first, second = dim_of(attrs["dim1"], rank), dim_of(attrs["dim2"], rank)
    if first == second:
        raise InvalidArgumentRuntimeError(f"diagonal dimensions cannot be identical {attrs['dim1']}, {attrs['dim2']}")
    return first, second


def diagonal_length(rows: int, cols: int, offset: int) -> int:
    return max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))


def _diagonal_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    first, second = diagonal_dims(attrs, len(shape))
    rest = tuple(n for d, n in enumerate(shape) if d not in (first, second))
    return rest + (diagonal_length(shape[first], shape[second], attrs["offset"]),)


def diag_embed_shape(shape: tuple, attrs: dict) -> tuple:
    n = (shape[-1] if shape else 1) + abs(attrs["offset"])
    first, second = diagonal_dims(attrs, len(shape) + 1)
    out = list(shape[:-1])
    for axis in sorted((first, second)):
        out.insert(axis, n)
    return tuple(out)


define(OpRules(
    name="diagonal", grad_fn="DiagonalBackward0", dtype_rule=tensors_only("diagonal", promotion.same), view=True,
    attrs=(OFFSET, AttrSpec("dim1", "integer", default=0, description="the first dim of the matrices"),
           AttrSpec("dim2", "integer", default=1, description="the second dim of the matrices")),
    methods=("diagonal",), functions=("diagonal",), out_shape=_diagonal_shape,
    summary="a diagonal of the matrices in dims dim1, dim2 (a view)",
))
define(OpRules(
    name="diag_embed", grad_fn="DiagEmbedBackward0", dtype_rule=tensors_only("diag_embed", promotion.same),
    attrs=(OFFSET, AttrSpec("dim1", "integer", default=-2, description="the first dim of the new matrices"),
           AttrSpec("dim2", "integer", default=-1, description="the second dim of the new matrices")),
    methods=("diag_embed",), functions=("diag_embed",), out_shape=lambda shapes, attrs: diag_embed_shape(tuple(shapes[0]), attrs),
    summary="matrices with the last dim on a diagonal, zeros elsewhere",
))


def _diag_shape(shape: tuple, offset: int) -> tuple:
    if len(shape) == 1:
        return (shape[0] + abs(offset),) * 2
    if len(shape) != 2:
        raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {len(shape)}D")
    return (diagonal_length(shape[0], shape[1], offset),)


define(OpRules(
    name="diag", grad_fn=lambda call: "DiagEmbedBackward0" if len(call.input_shapes[0]) == 1 else "DiagonalBackward0_copy",
    dtype_rule=tensors_only("diag", promotion.same), attrs=(DIAGONAL,), methods=("diag",), functions=("diag",),
    out_shape=lambda shapes, attrs: _diag_shape(tuple(shapes[0]), attrs["diagonal"]),
    summary="a 1-D tensor as a diagonal matrix, or a 2-D tensor's diagonal",
))


def _trace_shape(shapes: list, attrs: dict) -> tuple:
    if len(shapes[0]) != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {len(shapes[0])}")
    return ()


define(OpRules(
    name="trace", grad_fn="TraceBackward0", dtype_rule=tensors_only("trace", promotion.sum_like), methods=("trace",),
    functions=("trace",), out_shape=_trace_shape, summary="the sum of a matrix's main diagonal",
))
