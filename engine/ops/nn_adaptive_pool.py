"""adaptive_avg_pool1d/2d and adaptive_max_pool1d/2d (+ _with_indices): windows
[floor(i*L/n), ceil((i+1)*L/n)) along each spatial dim, as torch.

Average pooling is separable: a pooling matrix per spatial dim (one matmul each), whose transpose is its
gradient. Max pooling gathers every window (padded to the longest by repeating its last element) with
one fancy index per dim; its gradient is the max_pool_scatter of nn_pool.py.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .nn_common import compute, same_float

OUTPUT_SIZE = AttrSpec("output_size", "integer|ints", required=True)


def _bounds(size: int, out: int) -> tuple:
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _sizes(name: str, d: int, shape: tuple, attrs: dict) -> tuple:
    if len(shape) not in (d + 1, d + 2):
        raise ShapeError(f"{name}(): expected a {d + 1}-D or {d + 2}-D input, got shape {list(shape)}")
    value = attrs["output_size"]
    out = (value,) * d if isinstance(value, int) else tuple(value)
    if len(out) == 1 and d > 1:
        out = out * d
    if len(out) != d or any(n <= 0 for n in out):
        raise InvalidArgumentRuntimeError(f"{name}(): output_size must be {d} positive integers, got {value}")
    if any(s == 0 for s in shape[-d - 1:]):
        raise ShapeError(f"{name}(): expected non-empty channel and spatial dims, got input shape {list(shape)}")
    return out


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
        out = _sizes(name, d, shape, attrs)
        return [_matrix(shape[-d + i], out[i], dtype) for i in range(d)]

    def forward(arrays: list, attrs: dict):
        x = compute(arrays[0])
        result = x
        for axis, matrix in enumerate(matrices(x.shape, attrs, x.dtype)):
            result = np.moveaxis(np.matmul(np.moveaxis(result, -d + axis, -1), matrix.T), -1, -d + axis)
        return np.ascontiguousarray(result)

    def vjp(F, g, c):
        return _apply_matrices(F, g, matrices(c.input_shapes[0], c.attrs, F.value(g).dtype), transpose=True)

    def grad_fn(node) -> str:
        if d == 1:
            return "SqueezeBackward1"
        out = _sizes(name, d, node.input_shapes[0], node.attrs)
        return "MeanBackward1" if all(n == 1 for n in out) else f"AdaptiveAvgPool{d}DBackward0"

    register(OpDef(
        name=name, forward=forward, vjps=(vjp,), grad_fn=grad_fn, dtype_rule=same_float(name), attrs=(OUTPUT_SIZE,),
        functions=((name,) if d == 1 else ()) + (f"nn.functional.{name}",),
        out_shape=lambda shapes, a: tuple(shapes[0][:-d]) + _sizes(name, d, shapes[0], a),
        summary=f"{d}-D adaptive average pooling to output_size",
    ))


def _gather_indices(size: int, out: int) -> np.ndarray:
    start, end = _bounds(size, out)
    width = int(np.max(end - start))
    return np.minimum(start[:, None] + np.arange(width), (end - 1)[:, None])  # (out, longest window)


def _adaptive_max(name: str, d: int, x: np.ndarray, attrs: dict) -> tuple:
    out = _sizes(name, d, x.shape, attrs)
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

    grad_fn = "SqueezeBackward1" if d == 1 else f"AdaptiveMaxPool{d}DBackward0"
    attrs = (OUTPUT_SIZE, AttrSpec("return_indices", "boolean", default=False))
    out_shape = lambda shapes, a: tuple(shapes[0][:-d]) + _sizes(name, d, shapes[0], a)  # noqa: E731
    register(OpDef(
        name=name, forward=lambda arrays, a: _adaptive_max(name, d, arrays[0], a)[0], vjps=(vjp,), grad_fn=grad_fn,
        dtype_rule=same_float(name), saves_inputs=(0,), attrs=attrs,
        functions=(f"nn.functional.{name}",),  # torch.adaptive_max_pool1d returns (values, indices)
        out_shape=out_shape, summary=f"{d}-D adaptive max pooling to output_size (return_indices: {name}_with_indices)",
    ))
    register(OpDef(
        name=f"{name}_with_indices", forward=lambda arrays, a: _adaptive_max(name, d, arrays[0], a), vjps=(vjp,),
        grad_fn=grad_fn, dtype_rule=same_float(name), saves_inputs=(0,), attrs=attrs, num_outputs=2,
        functions=(f"nn.functional.{name}_with_indices",), out_shape=out_shape,
        summary=f"{d}-D adaptive max pooling returning (values, indices into each input plane)",
    ))


for _d in (1, 2):
    adaptive_avg(_d)
    adaptive_max(_d)
