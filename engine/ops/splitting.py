"""Taking a tensor apart: narrow, split, chunk, unbind, tensor_split; and meshgrid (how they compute;
their rules, and where each piece lies, are in gradwire.rules: rules/ops/splitting.py).

Each piece is its own graph node (OpRules.pieces, attribute `output`), whose VJP writes its gradient
into zeros of the input's shape at the piece's place.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.splitting import (
    chunk_bounds, cut_axis, grid_shape, narrow_bounds, split_bounds, tensor_split_bounds, unbind_bounds,
)

from ..registry import implement


def _place(axis: int, item) -> tuple:
    return (slice(None),) * axis + (item,)


def _piece_vjp(bounds):
    """The VJP of a piece: its gradient written into zeros of the input's shape at its place."""

    def vjp(F, g, c):
        shape = c.input_shapes[0]
        axis = cut_axis(c.attrs["dim"], shape)
        return F.index_backward(g, shape=shape, index=_place(axis, bounds(shape, c.attrs)[c.attrs.get("output") or 0]))

    return vjp


def _piece_forward(bounds):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        # The trailing Ellipsis keeps a one-element piece of a 1-d tensor a 0-d view, not a numpy scalar copy.
        return x[_place(cut_axis(attrs["dim"], x.shape), bounds(x.shape, attrs)[attrs.get("output") or 0]) + (Ellipsis,)]

    return forward


for _name, _bounds in (("split", split_bounds), ("chunk", chunk_bounds), ("unbind", unbind_bounds),
                       ("tensor_split", tensor_split_bounds), ("narrow", narrow_bounds)):
    # torch refuses in-place writes into split/chunk/unbind outputs under autograd (views.py reads this);
    # tensor_split's and narrow's are ordinary slices.
    implement(_name, _piece_forward(_bounds), vjps=(_piece_vjp(_bounds),),
              extra={"multi_output_view": True} if _name in ("split", "chunk", "unbind") else {})


# ---------------------------------------------------------------- meshgrid
def _grid_axis(k: int, count: int, indexing: str) -> int:
    if indexing == "xy" and count >= 2 and k < 2:
        return 1 - k
    return k


def _meshgrid_forward(arrays: list, attrs: dict):
    k = attrs["output"]
    shape = grid_shape([x.shape for x in arrays], attrs)
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


implement("meshgrid", _meshgrid_forward, variadic_vjp=_meshgrid_vjp)
