"""Pooling (forwards and VJPs; rules: gradwire.rules.ops.nn_pool): max_pool1d/2d (return_indices gives the
*_with_indices op), avg_pool1d/2d,
adaptive_avg_pool1d/2d and adaptive_max_pool1d/2d, on strided window views (no loop over pixels).

Max pooling's gradient scatters into the argmax positions (the internal op max_pool_scatter, whose own
gradient is the gather max_pool_gather and back), average pooling's is a transposed convolution with a
ones kernel, adaptive average pooling is a pooling matrix on each spatial dim: all of them written with
registered ops, so second derivatives work.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.ops.nn_pool import pool_geometry, spatial_input

from ..registry import implement
from . import nn_conv_core as core
from .nn_common import compute


# ---------------------------------------------------------------- max pooling
def _max_with_indices(x: np.ndarray, kernel, stride, padding, dilation) -> tuple:
    """Values and torch's indices (flat positions in each input plane) of every window's maximum."""
    d = len(kernel)
    data = compute(x)
    lowest = -np.inf if data.dtype.kind == "f" else np.iinfo(data.dtype).min  # padding never wins
    padded = np.pad(data, [(0, 0), (0, 0)] + list(zip(padding[:d], padding[d:])), constant_values=lowest)
    view = core.windows(padded, kernel, stride, (0,) * 2 * d, dilation)
    out_spatial = view.shape[2:2 + d]
    flat = view.reshape(view.shape[:2 + d] + (-1,))
    nan = np.isnan(flat)
    best = np.where(nan.any(-1), np.argmax(nan, axis=-1), np.argmax(flat, axis=-1))  # NaN wins, as in torch
    values = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]
    offsets = np.unravel_index(best, kernel)
    index = np.zeros(best.shape, dtype=np.int64)
    for axis in range(d):  # d (<= 3) axes; each step is vectorised over every window
        position = np.arange(out_spatial[axis]).reshape((-1,) + (1,) * (d - 1 - axis)) * stride[axis]
        coordinate = position - padding[axis] + offsets[axis] * dilation[axis]
        index = index * x.shape[2 + axis] + coordinate
    return values.astype(x.dtype), index


def _batched(x: np.ndarray, unbatched: bool) -> np.ndarray:
    return x[None] if unbatched else x


def _max_pool_parts(name: str, d: int, x: np.ndarray, attrs: dict) -> tuple:
    unbatched = spatial_input(name, x.shape, d)
    batched = _batched(x, unbatched)
    kernel, stride, padding, dilation, _ = pool_geometry(name, d, attrs, batched.shape[2:])
    values, indices = _max_with_indices(batched, kernel, stride, padding, dilation)
    return (values[0], indices[0]) if unbatched else (values, indices)


def _scatter_vjp(name: str, d: int):
    def vjp(F, g, c):
        _, indices = _max_pool_parts(name, d, F.value(c.inputs[0]), c.attrs)
        return F.max_pool_scatter(g, F.constant(indices), input_size=c.input_shapes[0][-d:])

    return vjp


def max_pool(d: int) -> None:
    name = f"max_pool{d}d"
    implement(name, lambda arrays, a: _max_pool_parts(name, d, arrays[0], a)[0], vjps=(_scatter_vjp(name, d),),
              saves_inputs=(0,))
    implement(f"{name}_with_indices", lambda arrays, a: _max_pool_parts(name, d, arrays[0], a),
              vjps=(_scatter_vjp(name, d),), saves_inputs=(0,))


def _scatter_forward(arrays: list, attrs: dict):
    g, indices = arrays
    size = math.prod(attrs["input_size"])
    lead = g.shape[: g.ndim - len(attrs["input_size"])]
    planes = math.prod(lead)
    flat = indices.reshape(planes, -1) + (np.arange(planes) * size)[:, None]
    summed = np.bincount(flat.ravel(), weights=compute(g).reshape(planes, -1).ravel().astype(np.float64),
                         minlength=planes * size)
    return summed.reshape(lead + tuple(attrs["input_size"])).astype(g.dtype)


def _gather_forward(arrays: list, attrs: dict):
    h, indices = arrays
    d = len(attrs["input_size"])
    lead = h.shape[: h.ndim - d]
    flat = h.reshape(lead + (-1,))
    picked = np.take_along_axis(flat, indices.reshape(lead + (-1,)), axis=-1)
    return picked.reshape(indices.shape)


implement("max_pool_scatter", _scatter_forward,
          vjps=(lambda F, g, c: F.max_pool_gather(g, c.inputs[1], input_size=c.attrs["input_size"]), None),
          saves_inputs=(1,))
implement("max_pool_gather", _gather_forward,
          vjps=(lambda F, g, c: F.max_pool_scatter(g, c.inputs[1], input_size=c.attrs["input_size"]), None),
          saves_inputs=(1,))


# ---------------------------------------------------------------- average pooling
def _divisor(spatial: tuple, kernel, stride, pads, out, include_pad: bool, override) -> np.ndarray:
    """Each window's divisor (a product of one count per dim)."""
    if override:
        return np.full(out, float(override))
    counts = []
    for size, k, s, p, n in zip(spatial, kernel, stride, pads, out):
        start = np.arange(n) * s - p
        end = np.minimum(start + k, size + p)
        if not include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    divisor = counts[0]
    for count in counts[1:]:
        divisor = np.multiply.outer(divisor, count)
    return divisor.astype(np.float64)


def _avg_parts(name: str, d: int, shape: tuple, attrs: dict):
    unbatched = spatial_input(name, shape, d)
    spatial = tuple(shape[-d:])
    kernel, stride, padding, _, out = pool_geometry(name, d, dict(attrs, dilation=1), spatial)
    override = attrs.get("divisor_override")
    divisor = _divisor(spatial, kernel, stride, padding[:d], out, attrs["count_include_pad"], override)
    return unbatched, kernel, stride, padding, divisor


def _avg_forward(name: str, d: int):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        unbatched, kernel, stride, padding, divisor = _avg_parts(name, d, x.shape, attrs)
        view = core.windows(_batched(compute(x), unbatched), kernel, stride, padding, (1,) * d)
        summed = view.sum(axis=tuple(range(2 + d, 2 + 2 * d)))
        if summed.dtype.kind != "f":  # int64, as torch: the sum divided toward zero
            whole = divisor.astype(np.int64)
            out = (np.sign(summed) * (np.abs(summed) // whole)).astype(x.dtype)
        else:
            out = summed / divisor.astype(summed.dtype)
        return out[0] if unbatched else out

    return forward


def _avg_vjp(name: str, d: int):
    def vjp(F, g, c):
        shape = c.input_shapes[0]
        unbatched, kernel, stride, padding, divisor = _avg_parts(name, d, shape, c.attrs)
        batched_shape = (1,) + tuple(shape) if unbatched else tuple(shape)
        channels = batched_shape[1]
        dtype = F.value(g).dtype
        scaled = (F.unsqueeze(g, dim=0) if unbatched else g) * F.constant((1 / divisor).astype(dtype))
        ones = F.constant(np.ones((channels, 1) + tuple(kernel), dtype=dtype))
        grad = F.convolution_input_grad(scaled, ones, input_size=batched_shape[2:], stride=stride, padding=padding,
                                        dilation=(1,) * d, groups=channels)
        return F.squeeze(grad, dim=0) if unbatched else grad

    return vjp


def avg_pool(d: int) -> None:
    name = f"avg_pool{d}d"
    implement(name, _avg_forward(name, d), vjps=(_avg_vjp(name, d),))


for _d in (1, 2):
    max_pool(_d)
    avg_pool(_d)
