"""Rearranging ops: flatten, unflatten, flip (fliplr, flipud), roll, repeat, tile, repeat_interleave,
movedim, and the *_as forms (expand_as, view_as, reshape_as) that take their shape from a second tensor.
How they compute; their rules are in gradwire.rules (rules/ops/reshaping.py)."""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import DTypeRuntimeError, ShapeError
from gradwire.rules.ops.reshaping import flattened, flip_axes, moves, repeated, roll_dims, tile_reps, unflattened
from gradwire.rules.ops.shape import dim_of

from ..registry import implement
from .shape import _expand_forward, _reshape_forward, _view_forward


def _reshape_back(F, g, c):
    return F.reshape(g, shape=c.input_shapes[0])


# ---------------------------------------------------------------- flatten, unflatten
implement("flatten", lambda arrays, attrs: arrays[0].reshape(
    flattened(arrays[0].shape, attrs["start_dim"], attrs["end_dim"])), vjps=(_reshape_back,))
implement("unflatten", lambda arrays, attrs: arrays[0].reshape(
    unflattened(arrays[0].shape, attrs["dim"], attrs["sizes"])), vjps=(_reshape_back,))


# ---------------------------------------------------------------- flips and roll
def _flip_forward(arrays: list, attrs: dict):
    x = arrays[0]
    axes = flip_axes(attrs["dims"], x.ndim)
    return np.flip(x, axes).copy() if axes else x.copy()


implement("flip", _flip_forward, vjps=(lambda F, g, c: F.flip(g, dims=c.attrs["dims"]),))
implement("fliplr", lambda arrays, attrs: np.flip(arrays[0], 1).copy(), vjps=(lambda F, g, c: F.flip(g, dims=(1,)),))
implement("flipud", lambda arrays, attrs: np.flip(arrays[0], 0).copy(), vjps=(lambda F, g, c: F.flip(g, dims=(0,)),))


def _roll_forward(arrays: list, attrs: dict):
    x = arrays[0]
    shifts, axes = roll_dims(attrs["shifts"], attrs["dims"], x.ndim)
    if axes is None:
        return np.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
    return np.roll(x, shifts, axes)


def _negated(value):
    return -value if isinstance(value, int) else tuple(-v for v in value)


implement("roll", _roll_forward,
          vjps=(lambda F, g, c: F.roll(g, shifts=_negated(c.attrs["shifts"]), dims=c.attrs["dims"]),))


# ---------------------------------------------------------------- repeat, tile, repeat_interleave
def _repeat_forward(arrays: list, attrs: dict):
    x, reps = arrays[0], attrs["repeats"]
    repeated(x.shape, reps)
    return np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps)


def _repeat_vjp(F, g, c):
    """Sum the copies: view g as (r0, n0, r1, n1, ...) and reduce the r axes."""
    reps = c.attrs["repeats"]
    shape = c.input_shapes[0]
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    split = tuple(n for pair in zip(reps, padded) for n in pair)
    summed = F.sum(F.reshape(g, shape=split), dim=tuple(range(0, 2 * len(reps), 2)))
    return F.reshape(summed, shape=shape)


class _TileCtx:
    def __init__(self, c) -> None:
        self.input_shapes = c.input_shapes
        self.attrs = {"repeats": tile_reps(c.input_shapes[0], c.attrs["repeats"])}


implement("repeat", _repeat_forward, vjps=(_repeat_vjp,))
implement("tile", lambda arrays, attrs: _repeat_forward(arrays, {"repeats": tile_reps(arrays[0].shape, attrs["repeats"])}),
          vjps=(lambda F, g, c: _repeat_vjp(F, g, _TileCtx(c)),))


def _counts(repeats, size: int) -> np.ndarray:
    """Per-element repeat counts: an int for every element, or a tensor of counts (one per element, or one)."""
    counts = np.asarray(repeats).reshape(-1) if isinstance(repeats, np.ndarray) else np.array([repeats])
    if counts.dtype.kind not in "iu":
        raise DTypeRuntimeError(f"repeat_interleave: repeats must be an integer tensor or int, got {counts.dtype}")
    if counts.size == 1:
        counts = np.full(size, int(counts[0]), dtype=np.int64)
    if counts.size != size:
        raise ShapeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                         f"repeats.size(0) = {counts.size} and input.size({size})")
    if (counts < 0).any():
        raise ShapeError("repeat_interleave: repeats can not be negative")
    return counts


def _sources(shape: tuple, repeats, dim):
    """(axis, the input index each output position along axis copies); dim None works on the flattened input."""
    if dim is None or not shape:
        return 0, np.repeat(np.arange(int(np.prod(shape))), _counts(repeats, int(np.prod(shape))))
    axis = dim_of(dim, len(shape))
    return axis, np.repeat(np.arange(shape[axis]), _counts(repeats, shape[axis]))


def _interleave_forward(arrays: list, attrs: dict):
    x, repeats = arrays
    axis, sources = _sources(x.shape, repeats, attrs["dim"])
    flat = x.reshape(-1) if attrs["dim"] is None or x.ndim == 0 else x
    return np.take(flat, sources, axis=axis)


def _interleave_vjp(F, g, c):
    shape = c.input_shapes[0]
    repeats = c.inputs[1]
    axis, sources = _sources(shape, repeats if c.node.input_dtypes[1] is None else F.value(repeats), c.attrs["dim"])
    flat_shape = (int(np.prod(shape)),) if c.attrs["dim"] is None or not shape else shape
    grad = F.index_add(F.zeros(flat_shape, like=g), F.constant(sources.astype(np.int64)), g, dim=axis)
    return F.reshape(grad, shape=shape)


implement("repeat_interleave", _interleave_forward, vjps=(_interleave_vjp, None), saves_inputs=(1,))


# ---------------------------------------------------------------- movedim
def _movedim_forward(arrays: list, attrs: dict):
    x = arrays[0]
    source, destination = moves(attrs["source"], attrs["destination"], x.ndim)
    return np.moveaxis(x, source, destination) if x.ndim else x


def _movedim_vjp(F, g, c):
    source, destination = moves(c.attrs["source"], c.attrs["destination"], len(c.input_shapes[0]))
    return F.movedim(g, source=destination, destination=source)


implement("movedim", _movedim_forward, vjps=(_movedim_vjp,))


# ---------------------------------------------------------------- *_as: the shape of another tensor
def _as(forward):
    return lambda arrays, attrs: forward([arrays[0]], {"shape": arrays[1].shape})


implement("expand_as", _as(_expand_forward), vjps=(lambda F, g, c: g, None), extra={"broadcast_view": True})
implement("view_as", _as(_view_forward), vjps=(_reshape_back, None))
implement("reshape_as", _as(_reshape_forward), vjps=(_reshape_back, None))
