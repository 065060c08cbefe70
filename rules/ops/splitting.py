"""Rules of taking a tensor apart: narrow, split, chunk, unbind, tensor_split; and meshgrid.

split, chunk, unbind, tensor_split and meshgrid have several outputs that all carry gradients: each is
run once per output (OpRules.pieces, attribute `output`), so their shape rule gives the shape of piece
`output`. The `*_bounds` functions say where each piece lies along the cut dim (a slice, or an int for
unbind); the engine's forwards and VJPs read them too.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError, IndexOutOfRange, InvalidArgumentRuntimeError, ShapeError

from ..checks import check_tensors, tensors_only
from ..spec import AttrSpec, OpRules, define
from .shape import dim_of

DIM0 = AttrSpec("dim", "integer", default=0, aliases=("axis",), description="the dim to cut along")
OUTPUT = AttrSpec("output", "integer", description="which output to compute (one node per output; set by the caller's "
                  "library, not by user code)")


def cut_axis(dim: int, shape: tuple) -> int:
    if not shape:
        raise IndexOutOfRange("Dimension specified as 0 but tensor has no dimensions")
    return dim_of(dim, len(shape))


def split_bounds(shape: tuple, attrs: dict) -> list:
    size = shape[cut_axis(attrs["dim"], shape)]
    sections = attrs["split_size_or_sections"]
    if isinstance(sections, int):
        if sections < 0:
            raise ShapeError(f"split expects split_size be non-negative, but got split_size={sections}")
        if sections == 0 and size != 0:
            raise ShapeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        starts = range(0, size, sections) if size else [0]
        return [slice(start, min(start + sections, size)) for start in starts]
    if sum(sections) != size or any(n < 0 for n in sections):
        raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                         f"dimension {attrs['dim']}), but got split_sizes={list(sections)}")
    ends = np.cumsum(sections)
    return [slice(int(end - n), int(end)) for n, end in zip(sections, ends)]


def chunk_bounds(shape: tuple, attrs: dict) -> list:
    chunks = attrs["chunks"]
    if chunks <= 0:
        raise ShapeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = shape[cut_axis(attrs["dim"], shape)]
    step = max(math.ceil(size / chunks), 1) if size else 1
    return split_bounds(shape, {"dim": attrs["dim"], "split_size_or_sections": step}) if size else \
        [slice(0, 0)] * chunks


def unbind_bounds(shape: tuple, attrs: dict) -> list:
    return list(range(shape[cut_axis(attrs["dim"], shape)]))


def tensor_split_bounds(shape: tuple, attrs: dict) -> list:
    size = shape[cut_axis(attrs["dim"], shape)]
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


def narrow_bounds(shape: tuple, attrs: dict) -> list:
    size = shape[cut_axis(attrs["dim"], shape)]
    start, length = attrs["start"], attrs["length"]
    if length < 0:
        raise InvalidArgumentRuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexOutOfRange(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if start + length > size:
        raise InvalidArgumentRuntimeError(f"start ({attrs['start']}) + length ({length}) exceeds dimension size ({size}).")
    return [slice(start, start + length)]


def piece_shape(shape: tuple, axis: int, item) -> tuple:
    """The shape of x[..., item] with `item` (an int or a slice) at `axis`."""
    if isinstance(item, int):
        return tuple(shape[:axis]) + tuple(shape[axis + 1:])
    return tuple(shape[:axis]) + (len(range(*item.indices(shape[axis]))),) + tuple(shape[axis + 1:])


def _piece_rule(bounds):
    def out_shape(shapes: list, attrs: dict) -> tuple:
        shape = tuple(shapes[0])
        pieces = bounds(shape, attrs)
        output = attrs.get("output") or 0
        if not 0 <= output < len(pieces):
            raise IndexOutOfRange(f"output {output} out of range: the call has {len(pieces)} outputs")
        return piece_shape(shape, cut_axis(attrs["dim"], shape), pieces[output])

    return out_shape


def _piece_op(name: str, bounds, attrs, grad_fn, summary: str, **spellings) -> None:
    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=tensors_only(name, promotion.same), attrs=attrs + (OUTPUT,), view=True,
        pieces=lambda shapes, attrs: len(bounds(tuple(shapes[0]), attrs)), out_shape=_piece_rule(bounds),
        summary=summary, **spellings,
    ))


_piece_op("split", split_bounds,
          (AttrSpec("split_size_or_sections", "integer|ints", required=True,
                    description="the size of each piece (the last may be smaller), or a list of sizes"), DIM0),
          lambda call: "SplitBackward0" if isinstance(call.attrs["split_size_or_sections"], int)
          else "SplitWithSizesBackward0",
          "cut into pieces of a given size, or of the given sizes", methods=("split",), functions=("split",))
_piece_op("chunk", chunk_bounds,
          (AttrSpec("chunks", "integer", required=True, description="how many pieces (fewer if the dim is short)"), DIM0),
          "SplitBackward0", "cut into `chunks` nearly equal pieces", methods=("chunk",), functions=("chunk",))
_piece_op("unbind", unbind_bounds, (DIM0,), "UnbindBackward0", "the slices along dim, as a tuple",
          methods=("unbind",), functions=("unbind",))
_piece_op("tensor_split", tensor_split_bounds,
          (AttrSpec("indices_or_sections", "integer|ints", required=True,
                    description="a number of nearly equal pieces, or the indices to cut at"), DIM0),
          "SliceBackward0", "cut into n nearly equal pieces, or at the given indices (numpy's array_split)",
          methods=("tensor_split",), functions=("tensor_split",))

define(OpRules(
    name="narrow", grad_fn="SliceBackward0", dtype_rule=tensors_only("narrow", promotion.same), view=True,
    attrs=(AttrSpec("dim", "integer", required=True, aliases=("axis",), description="the dim to narrow"),
           AttrSpec("start", "integer", required=True, description="the first index kept"),
           AttrSpec("length", "integer", required=True, description="how many indices are kept")),
    out_shape=lambda shapes, attrs: piece_shape(tuple(shapes[0]), cut_axis(attrs["dim"], tuple(shapes[0])),
                                                narrow_bounds(tuple(shapes[0]), attrs)[0]),
    methods=("narrow",), functions=("narrow",), summary="the slice start:start+length along dim (a view)",
))


# ---------------------------------------------------------------- meshgrid
def grid_shape(shapes: list, attrs: dict) -> tuple:
    if attrs["indexing"] not in ("ij", "xy"):
        raise ArgumentError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {attrs['indexing']}")
    for shape in shapes:
        if len(shape) > 1:
            raise ShapeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a {len(shape)}D tensor")
    sizes = [math.prod(s) for s in shapes]
    if attrs["indexing"] == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return tuple(sizes)


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


define(OpRules(
    name="meshgrid", grad_fn="ExpandBackward0", dtype_rule=_meshgrid_dtype, min_inputs=1, max_inputs=-1, view=True,
    attrs=(AttrSpec("indexing", "text", default="ij", description="'ij' (matrix) or 'xy' (Cartesian) indexing"),
           OUTPUT),
    pieces=lambda shapes, attrs: len(shapes), parse=_meshgrid_parse, functions=("meshgrid",), out_shape=grid_shape,
    summary="coordinate grids from 1-D tensors (one output per input)",
))
