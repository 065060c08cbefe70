"""Taking a tensor apart: narrow, split, chunk, unbind, tensor_split; and meshgrid.

split, chunk, unbind, tensor_split and meshgrid have several outputs that all carry gradients: each is
run once per output (OpDef.pieces, attribute `output`), so every piece is its own graph node, whose
VJP writes its gradient into zeros of the input's shape at the piece's place.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError, IndexOutOfRange, InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .checks import check_tensors, tensors_only
from .reducing import OUTPUT
from .reductions import axes_of

DIM0 = AttrSpec("dim", "integer", default=0, aliases=("axis",), description="the dim to cut along")


def _axis(dim: int, shape: tuple) -> int:
    if not shape:
        raise IndexOutOfRange("Dimension specified as 0 but tensor has no dimensions")
    return axes_of(dim, len(shape))[0]


def _place(shape: tuple, axis: int, item) -> tuple:
    return (slice(None),) * axis + (item,)


def _piece_vjp(bounds):
    """The VJP of a piece: its gradient written into zeros of the input's shape at its place."""

    def vjp(F, g, c):
        shape = c.input_shapes[0]
        axis = _axis(c.attrs["dim"], shape)
        return F.index_backward(g, shape=shape, index=_place(shape, axis, bounds(shape, c.attrs)[c.attrs["output"]]))

    return vjp


def _piece_op(name: str, bounds, attrs, grad_fn, summary: str, count=None, **spellings) -> None:
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        axis = _axis(attrs["dim"], x.shape)
        return x[_place(x.shape, axis, bounds(x.shape, attrs)[attrs["output"]])]

    register(OpDef(
        name=name, forward=forward, vjps=(_piece_vjp(bounds),), grad_fn=grad_fn,
        dtype_rule=tensors_only(name, promotion.same), attrs=attrs + (OUTPUT,), view=True,
        pieces=count or (lambda shapes, attrs: len(bounds(shapes[0], attrs))), summary=summary, **spellings,
    ))


def _split_bounds(shape: tuple, attrs: dict) -> list:
    size = shape[_axis(attrs["dim"], shape)]
    sections = attrs["split_size_or_sections"]
    if isinstance(sections, int):
        if sections <= 0 and not (sections == 0 and size == 0):
            raise ShapeError(f"split(): split_size must be positive, got {sections}")
        starts = range(0, size, sections) if size else [0]
        return [slice(start, min(start + sections, size)) for start in starts]
    if sum(sections) != size or any(n < 0 for n in sections):
        raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                         f"dimension {attrs['dim']}), but got split_sizes={list(sections)}")
    ends = np.cumsum(sections)
    return [slice(int(end - n), int(end)) for n, end in zip(sections, ends)]


_piece_op("split", _split_bounds,
          (AttrSpec("split_size_or_sections", "integer|ints", required=True,
                    description="the size of each piece (the last may be smaller), or a list of sizes"), DIM0),
          lambda node: "SplitBackward0" if isinstance(node.attrs["split_size_or_sections"], int)
          else "SplitWithSizesBackward0",
          "cut into pieces of a given size, or of the given sizes", methods=("split",), functions=("split",))


def _chunk_bounds(shape: tuple, attrs: dict) -> list:
    chunks = attrs["chunks"]
    if chunks <= 0:
        raise ShapeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = shape[_axis(attrs["dim"], shape)]
    step = max(math.ceil(size / chunks), 1) if size else 1
    return _split_bounds(shape, {"dim": attrs["dim"], "split_size_or_sections": step}) if size else \
        [slice(0, 0)] * chunks


_piece_op("chunk", _chunk_bounds,
          (AttrSpec("chunks", "integer", required=True, description="how many pieces (fewer if the dim is short)"), DIM0),
          "SplitBackward0", "cut into `chunks` nearly equal pieces", methods=("chunk",), functions=("chunk",))


def _unbind_bounds(shape: tuple, attrs: dict) -> list:
    return list(range(shape[_axis(attrs["dim"], shape)]))


_piece_op("unbind", _unbind_bounds, (DIM0,), "UnbindBackward0", "the slices along dim, as a tuple",
          methods=("unbind",), functions=("unbind",))


def _tensor_split_bounds(shape: tuple, attrs: dict) -> list:
    size = shape[_axis(attrs["dim"], shape)]
    sections = attrs["indices_or_sections"]
    if isinstance(sections, int):
        if sections <= 0:
            raise ShapeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        sizes = [small + 1] * extra + [small] * (sections - extra)
        ends = np.cumsum(sizes)
        return [slice(int(end - n), int(end)) for n, end in zip(sizes, ends)]
    cuts = [0, *sections, size]
    return [slice(min(max(start, 0), size), min(max(stop, start, 0), size)) for start, stop in zip(cuts, cuts[1:])]


_piece_op("tensor_split", _tensor_split_bounds,
          (AttrSpec("indices_or_sections", "integer|ints", required=True,
                    description="a number of nearly equal pieces, or the indices to cut at"), DIM0),
          "SliceBackward0", "cut into n nearly equal pieces, or at the given indices (numpy's array_split)",
          methods=("tensor_split",), functions=("tensor_split",))


def _narrow_bounds(shape: tuple, attrs: dict) -> list:
    size = shape[_axis(attrs["dim"], shape)]
    start, length = attrs["start"], attrs["length"]
    start = start + size if start < 0 else start
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise InvalidArgumentRuntimeError(f"narrow(): start ({attrs['start']}) + length ({length}) exceeds dimension size ({size}).")
    return [slice(start, start + length)]


register(OpDef(
    name="narrow", forward=lambda arrays, attrs: arrays[0][_place(arrays[0].shape, _axis(attrs["dim"], arrays[0].shape),
                                                                  _narrow_bounds(arrays[0].shape, attrs)[0])],
    vjps=(lambda F, g, c: _piece_vjp(_narrow_bounds)(F, g, _WithOutput(c)),), grad_fn="SliceBackward0",
    dtype_rule=tensors_only("narrow", promotion.same), view=True,
    attrs=(AttrSpec("dim", "integer", required=True, aliases=("axis",), description="the dim to narrow"),
           AttrSpec("start", "integer", required=True, description="the first index kept"),
           AttrSpec("length", "integer", required=True, description="how many indices are kept")),
    methods=("narrow",), functions=("narrow",), summary="the slice start:start+length along dim (a view)",
))


class _WithOutput:
    def __init__(self, c) -> None:
        self.input_shapes, self.attrs = c.input_shapes, {**c.attrs, "output": 0}


# ---------------------------------------------------------------- meshgrid
def _grid_shape(shapes: list, attrs: dict) -> tuple:
    sizes = [int(np.prod(s)) for s in shapes]
    if attrs["indexing"] == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return tuple(sizes)


def _grid_axis(k: int, count: int, indexing: str) -> int:
    if indexing == "xy" and count >= 2 and k < 2:
        return 1 - k
    return k


def _meshgrid_forward(arrays: list, attrs: dict):
    if attrs["indexing"] not in ("ij", "xy"):
        raise ArgumentError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {attrs['indexing']}")
    for x in arrays:
        if x.ndim > 1:
            raise ShapeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a {x.ndim}D tensor")
    k = attrs["output"]
    shape = _grid_shape([x.shape for x in arrays], attrs)
    axis = _grid_axis(k, len(arrays), attrs["indexing"])
    lifted = arrays[k].reshape(tuple(-1 if d == axis else 1 for d in range(len(shape))))
    return np.broadcast_to(lifted, shape)


def _meshgrid_vjp(F, g, c, position):
    k = c.attrs["output"]
    if position != k:
        return F.zeros(c.input_shapes[position], like=g)
    axis = _grid_axis(k, len(c.input_shapes), c.attrs["indexing"])
    others = tuple(d for d in range(len(F.shape(g))) if d != axis)
    summed = F.sum(g, dim=others) if others else g
    return F.reshape(summed, shape=c.input_shapes[position])


def _meshgrid_parse(args, kwargs):
    tensors = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
    return tensors, kwargs


def _meshgrid_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    check_tensors("meshgrid", operand_dtypes, operands)
    if not operands:
        raise ArgumentError("meshgrid expects a non-empty TensorList")
    if any(d is not operand_dtypes[0] for d in operand_dtypes):
        raise ShapeError("meshgrid expects all tensors to have the same dtype")
    return None, operand_dtypes[0]


register(OpDef(
    name="meshgrid", forward=_meshgrid_forward, variadic_vjp=_meshgrid_vjp, grad_fn="ExpandBackward0",
    dtype_rule=_meshgrid_dtype, min_inputs=1, max_inputs=-1, view=True,
    attrs=(AttrSpec("indexing", "text", default="ij", description="'ij' (matrix) or 'xy' (Cartesian) indexing"),
           OUTPUT),
    pieces=lambda shapes, attrs: len(shapes), parse=_meshgrid_parse, functions=("meshgrid",),
    out_shape=lambda shapes, attrs: _grid_shape(shapes, attrs),
    summary="coordinate grids from 1-D tensors (one output per input)",
))
