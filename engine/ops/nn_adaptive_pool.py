"""adaptive_avg_pool1d/2d and adaptive_max_pool1d/2d (+ _with_indices): windows
[floor(i*L/n), ceil((i+1)*L/n)) along each spatial dim, as torch.

Average pooling is separable: a pooling matrix per spatial dim (one matmul each), whose transpose is its
gradient. Max pooling gathers every window (padded to the longest by repeating its last element) with
one fancy index per dim; its gradient is the max_pool_scatter of nn_pool.py.
Rules: gradwire.rules.ops.nn_pool.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.nn_pool import adaptive_sizes

from ..registry import implement
from .nn_common import compute


def _bounds(size: int, out: int) -> tuple:
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _matrix(size: int, out: int, dtype) -> np.ndarray:
    start, end = _bounds(size, out)
    columns = np.arange(size)
    inside = (columns >= start[:, None]) & (columns < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _apply_matrices(F, value, matrices: list, transpose: bool):
    """value (..., S1, ..., Sd) multiplied by each dim's matrix (transposed for the gradient)."""
    d = len(matrices)
    for axis, matrix in enumerate(matrices):
        m = F.constant(matrix.T if transpose else matrix)
        moved = F.transpose(value, dim0=-d + axis, dim1=-1) if axis != d - 1 else value
        moved = F.matmul(moved, F.t(m))
        value = F.transpose(moved, dim0=-d + axis, dim1=-1) if axis != d - 1 else moved
    return value


def adaptive_avg(d: int) -> None:
    name = f"adaptive_avg_pool{d}d"

    def matrices(shape: tuple, attrs: dict, dtype) -> list:
        out = adaptive_sizes(name, d, shape, attrs, True)
        return [_matrix(shape[-d + i], out[i], dtype) for i in range(d)]

    def forward(arrays: list, attrs: dict):
        x = compute(arrays[0])
        result = x
        for axis, matrix in enumerate(matrices(x.shape, attrs, x.dtype)):
            result = np.moveaxis(np.matmul(np.moveaxis(result, -d + axis, -1), matrix.T), -1, -d + axis)
        return np.ascontiguousarray(result)

    def vjp(F, g, c):
        return _apply_matrices(F, g, matrices(c.input_shapes[0], c.attrs, F.value(g).dtype), transpose=True)

    implement(name, forward, vjps=(vjp,))


def _gather_indices(size: int, out: int) -> np.ndarray:
    start, end = _bounds(size, out)
    width = int(np.max(end - start))
    return np.minimum(start[:, None] + np.arange(width), (end - 1)[:, None])  # (out, longest window)


def _adaptive_max(name: str, d: int, x: np.ndarray, attrs: dict) -> tuple:
    out = adaptive_sizes(name, d, x.shape, attrs, False)
    spatial = x.shape[-d:]
    lead = x.shape[:-d]
    picks = [_gather_indices(spatial[i], out[i]) for i in range(d)]
    value = compute(x)
    for axis, pick in enumerate(picks):  # (..., o1, w1, ..., S_axis, ...) -> one dim at a time
        position = len(lead) + 2 * axis
        value = np.take(value, pick, axis=position)
    # value: (*lead, o1, w1, o2, w2, ...) -> (*lead, o1, o2, ..., w1*w2*...)
    order = tuple(range(len(lead))) + tuple(len(lead) + 2 * i for i in range(d)) + tuple(
        len(lead) + 2 * i + 1 for i in range(d))
    windows = value.transpose(order)
    widths = tuple(p.shape[1] for p in picks)
    flat = windows.reshape(lead + out + (-1,))
    nan = np.isnan(flat)
    best = np.where(nan.any(-1), np.argmax(nan, axis=-1), np.argmax(flat, axis=-1))
    values = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]
    offsets = np.unravel_index(best, widths)
    index = np.zeros(best.shape, dtype=np.int64)
    for axis in range(d):
        shape = (-1,) + (1,) * (d - 1 - axis)
        rows = np.arange(out[axis]).reshape(shape)
        coordinate = picks[axis][rows, offsets[axis]]
        index = index * spatial[axis] + coordinate
    return values.astype(x.dtype), index


def adaptive_max(d: int) -> None:
    name = f"adaptive_max_pool{d}d"

    def vjp(F, g, c):
        _, indices = _adaptive_max(name, d, F.value(c.inputs[0]), c.attrs)
        return F.max_pool_scatter(g, F.constant(indices), input_size=c.input_shapes[0][-d:])

    implement(name, lambda arrays, a: _adaptive_max(name, d, arrays[0], a)[0], vjps=(vjp,), saves_inputs=(0,))
    implement(f"{name}_with_indices", lambda arrays, a: _adaptive_max(name, d, arrays[0], a), vjps=(vjp,),
              saves_inputs=(0,))


for _d in (1, 2):
    adaptive_avg(_d)
    adaptive_max(_d)
