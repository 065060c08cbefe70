"""gather and scatter_add: reading and accumulating along a dim at integer positions (how they compute;
their rules are in gradwire.rules: rules/ops/gathering.py).

They are each other's VJP (gather's gradient is a scatter_add of the output gradient into zeros,
scatter_add's gradient for src is a gather), so gradients of any order stay in the graph. The
sorting and selecting ops route their gradients through scatter_add too.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import InvalidArgumentRuntimeError
from gradwire.rules.ops.gathering import check_fits
from gradwire.rules.ops.shape import dim_of

from ..registry import implement


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
    check_fits(name, index.shape, other.shape, axis, what)


def _gather_forward(arrays: list, attrs: dict):
    x, index = arrays
    if x.ndim == 0:
        x = x.reshape(1)
    index = index.reshape(-1) if index.ndim == 0 else index
    axis = dim_of(attrs["dim"], x.ndim)
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
    check_index("scatter_add", index, flat_out.shape[axis])
    np.add.at(flat_out, positions(index, axis), src[tuple(slice(0, n) for n in index.shape)])
    return out


def _zeros_like_input(F, g, c, position: int):
    return F.zeros(c.input_shapes[position], like=g)


def _scatter_add_src_vjp(F, g, c):
    picked = F.gather(g, c.inputs[1], dim=c.attrs["dim"])
    return picked if c.input_shapes[2] == c.input_shapes[1] else _pad_to(F, picked, c.input_shapes[2])


implement("gather", _gather_forward,
          vjps=(lambda F, g, c: F.scatter_add(_zeros_like_input(F, g, c, 0), c.inputs[1], g, dim=c.attrs["dim"]), None),
          saves_inputs=(1,))
implement("scatter_add", _scatter_add_forward, vjps=(lambda F, g, c: g, None, _scatter_add_src_vjp), saves_inputs=(1,))


def _pad_to(F, value, shape: tuple):
    """value in the leading corner of zeros(shape) (src larger than index gets zero gradient elsewhere)."""
    corner = tuple(slice(0, n) for n in F.shape(value))
    return F.index_backward(value, shape=shape, index=corner)
