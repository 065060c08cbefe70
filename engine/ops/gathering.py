"""gather and scatter_add: reading and accumulating along a dim at integer positions.

They are each other's VJP (gather's gradient is a scatter_add of the output gradient into zeros,
scatter_add's gradient for src is a gather), so gradients of any order stay in the graph. The
sorting and selecting ops route their gradients through scatter_add too.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import dtypes
from gradwire.rules.errors import DTypeRuntimeError, InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .checks import check_tensors
from .reductions import axes_of

DIM = AttrSpec("dim", "integer", required=True, aliases=("axis",), description="the dim the index runs along")


def dim_of(dim: int, ndim: int) -> int:
    return axes_of(dim, ndim)[0] if ndim else 0


def check_index(name: str, index: np.ndarray, size: int, error: type = InvalidArgumentRuntimeError) -> None:
    """An index out of [0, size): torch's RuntimeError (IndexError for the few ops that raise that)."""
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index[(index < 0) | (index >= size)].reshape(-1)[0]
        raise error(f"{name}(): index {bad} is out of bounds for dimension with size {size}")


def positions(index: np.ndarray, axis: int) -> tuple:
    """Full numpy coordinates for `index` along axis: (grid_0, ..., index, ..., grid_n)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


def _fits(name: str, index: np.ndarray, other: np.ndarray, axis: int, what: str) -> None:
    if index.ndim != max(other.ndim, 1) and not (index.ndim <= 1 and other.ndim <= 1):
        raise ShapeError(f"{name}(): Index tensor must have the same number of dimensions as {what} tensor "
                         f"({index.ndim} vs {other.ndim})")
    for d, (i, n) in enumerate(zip(index.shape, other.shape)):
        if d != axis and i > n:
            raise ShapeError(f"{name}(): Size does not match at dimension {d}: expected index {list(index.shape)} "
                             f"to be smaller than {what} {list(other.shape)} apart from dimension {axis}")


def _gather_forward(arrays: list, attrs: dict):
    x, index = arrays
    if x.ndim == 0:
        x = x.reshape(1)
    index = index.reshape(-1) if index.ndim == 0 else index
    axis = dim_of(attrs["dim"], x.ndim)
    _fits("gather", index, x, axis, "input")
    check_index("gather", index, x.shape[axis])
    out = x[positions(index, axis)]
    return out.reshape(arrays[1].shape)


def _scatter_add_forward(arrays: list, attrs: dict):
    x, index, src = arrays
    out = np.array(x, copy=True)
    if index.size == 0:
        return out
    flat_out = out.reshape(1) if out.ndim == 0 else out
    index = index.reshape(-1) if index.ndim == 0 else index
    src = src.reshape(-1) if src.ndim == 0 else src
    axis = dim_of(attrs["dim"], flat_out.ndim)
    _fits("scatter_add", index, flat_out, axis, "self")
    _fits("scatter_add", index, src, axis, "src")
    check_index("scatter_add", index, flat_out.shape[axis])
    np.add.at(flat_out, positions(index, axis), src[tuple(slice(0, n) for n in index.shape)])
    return out


def _zeros_like_input(F, g, c, position: int):
    return F.zeros(c.input_shapes[position], like=g)


def _scatter_add_src_vjp(F, g, c):
    picked = F.gather(g, c.inputs[1], dim=c.attrs["dim"])
    return picked if c.input_shapes[2] == c.input_shapes[1] else _pad_to(F, picked, c.input_shapes[2])


def _index_dtype(name: str, index_position: int, same_positions=()):
    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        check_tensors(name, operand_dtypes, operands)
        if operand_dtypes[index_position] is not dtypes.int64:
            raise DTypeRuntimeError(f"{name}(): Expected dtype int64 for index, got {operand_dtypes[index_position].name}")
        for position in same_positions:
            if operand_dtypes[position] is not operand_dtypes[0]:
                raise DTypeRuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype "
                                        f"({operand_dtypes[0].name} vs {operand_dtypes[position].name})")
        return None, operand_dtypes[0]

    return rule


register(OpDef(
    name="gather", forward=_gather_forward,
    vjps=(lambda F, g, c: F.scatter_add(_zeros_like_input(F, g, c, 0), c.inputs[1], g, dim=c.attrs["dim"]), None),
    grad_fn="GatherBackward0", dtype_rule=_index_dtype("gather", 1), saves_inputs=(1,), min_inputs=2, max_inputs=2,
    attrs=(DIM,), signature=("input", "dim", "index"), methods=("gather",), functions=("gather",),
    out_shape=lambda shapes, attrs: tuple(shapes[1]),
    summary="out[..i..] = input[..index[..i..]..] along dim",
))
register(OpDef(
    name="scatter_add", forward=_scatter_add_forward,
    vjps=(lambda F, g, c: g, None, _scatter_add_src_vjp),
    grad_fn="ScatterAddBackward0", dtype_rule=_index_dtype("scatter_add", 1, (2,)), saves_inputs=(1,),
    min_inputs=3, max_inputs=3, attrs=(DIM,), signature=("input", "dim", "index", "src"),
    methods=("scatter_add",), functions=("scatter_add",),
    summary="a copy of input with src added at index along dim (repeated indices accumulate)",
))


def _pad_to(F, value, shape: tuple):
    """value in the leading corner of zeros(shape) (src larger than index gets zero gradient elsewhere)."""
    corner = tuple(slice(0, n) for n in F.shape(value))
    return F.index_backward(value, shape=shape, index=corner)
