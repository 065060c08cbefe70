"""How the stacking helpers compute: hstack / vstack / dstack / column_stack, atleast_1d / 2d / 3d,
broadcast_tensors, block_diag and rot90 (their rules: gradwire.rules.ops.stacking)."""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.shape import cat_kept
from gradwire.rules.ops.stacking import STACKERS, at_least, block_shapes, rot90_dims, stacked
from gradwire.rules.shapes import broadcast_shapes

from ..registry import implement


# ---------------------------------------------------------------- hstack, vstack, dstack, column_stack
def _stacker(name: str) -> None:
    raise_rank = STACKERS[name][0]

    def forward(arrays: list, attrs: dict):
        raised, dim = stacked(name, [a.shape for a in arrays])
        kept = cat_kept(raised)
        return np.concatenate([np.reshape(arrays[k], raised[k]) for k in kept], axis=dim)

    def vjp(F, g, c, position):
        raised, dim = stacked(name, list(c.input_shapes))
        kept = cat_kept(raised)
        if position not in kept:  # a 1-D empty tensor cat skips
            return F.zeros(c.input_shapes[position], like=g)
        start = sum(raised[k][dim] for k in kept if k < position)
        piece = F.getitem(g, index=(slice(None),) * dim + (slice(start, start + raised[position][dim]),))
        return F.reshape(piece, shape=c.input_shapes[position]) if raise_rank(c.input_shapes[position]) != tuple(
            c.input_shapes[position]) else piece

    implement(name, forward, variadic_vjp=vjp)


for _name in STACKERS:
    _stacker(_name)


# ---------------------------------------------------------------- atleast_1d / 2d / 3d
for _rank in (1, 2, 3):
    implement(f"atleast_{_rank}d", lambda arrays, attrs, rank=_rank: np.reshape(arrays[0], at_least(arrays[0].shape, rank)),
              vjps=(lambda F, g, c: F.reshape(g, shape=c.input_shapes[0]),))


# ---------------------------------------------------------------- broadcast_tensors, block_diag
def _broadcast_tensors_forward(arrays: list, attrs: dict):
    shape = broadcast_shapes([a.shape for a in arrays])
    return np.array(np.broadcast_to(arrays[attrs["output"]], shape))


def _broadcast_tensors_vjp(F, g, c, position):
    # output k is input k expanded: the engine sums g back to input k's shape; the others get nothing
    return g if position == c.attrs["output"] else F.zeros(c.input_shapes[position], like=g)


implement("broadcast_tensors", _broadcast_tensors_forward, variadic_vjp=_broadcast_tensors_vjp)


def _block_diag_forward(arrays: list, attrs: dict):
    blocks = block_shapes([a.shape for a in arrays])
    dtype = np.result_type(*arrays)
    out = np.zeros((sum(b[0] for b in blocks), sum(b[1] for b in blocks)), dtype=dtype)
    row = col = 0
    for array, (rows, cols) in zip(arrays, blocks):
        out[row:row + rows, col:col + cols] = np.reshape(array, (rows, cols))
        row, col = row + rows, col + cols
    return out


def _block_diag_vjp(F, g, c, position):
    blocks = block_shapes(list(c.input_shapes))
    row = sum(b[0] for b in blocks[:position])
    col = sum(b[1] for b in blocks[:position])
    rows, cols = blocks[position]
    piece = F.getitem(g, index=(slice(row, row + rows), slice(col, col + cols)))
    return F.reshape(piece, shape=c.input_shapes[position])


implement("block_diag", _block_diag_forward, variadic_vjp=_block_diag_vjp)


# ---------------------------------------------------------------- rot90
def _rot90_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return np.ascontiguousarray(np.rot90(x, attrs["k"], axes=rot90_dims(attrs["dims"], x.ndim)))


implement("rot90", _rot90_forward, vjps=(lambda F, g, c: F.rot90(g, k=-c.attrs["k"], dims=c.attrs["dims"]),))


# ---------------------------------------------------------------- cartesian_prod
def _cartesian_forward(arrays: list, attrs: dict):
    if len(arrays) == 1:
        return arrays[0].copy()
    dtype = np.result_type(*arrays)
    grids = np.meshgrid(*arrays, indexing="ij")
    return np.stack([grid.reshape(-1).astype(dtype) for grid in grids], axis=1)


def _cartesian_vjp(F, g, c, position):
    if len(c.input_shapes) == 1:
        return g
    grid = tuple(shape[0] for shape in c.input_shapes)
    column = F.reshape(F.getitem(g, index=(slice(None), position)), shape=grid)
    others = tuple(axis for axis in range(len(grid)) if axis != position)
    return F.sum(column, dim=others)


implement("cartesian_prod", _cartesian_forward, variadic_vjp=_cartesian_vjp)
