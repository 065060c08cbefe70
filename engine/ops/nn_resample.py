"""interpolate (nearest, linear, bilinear; size or scale_factor; align_corners) and unfold/fold.

interpolate is separable: one resampling matrix per spatial dim (source index and weights computed
as torch's upsample kernels do), applied with a matmul; its gradient applies the transposes. unfold is
im2col on the convolution core's window view and fold its col2im; each is the other's gradient.
Rules: gradwire.rules.ops.nn_resample.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.nn_resample import interpolated_sizes, pair, window_geometry

from ..registry import implement
from . import nn_conv_core as core
from .nn_adaptive_pool import _apply_matrices
from .nn_common import compute


def _matrix(size: int, out: int, attrs: dict, dtype) -> np.ndarray:
    scale_factor, use_scale = attrs["scale_factor"], not attrs["recompute_scale_factor"]
    ratio = (1.0 / scale_factor) if scale_factor is not None and use_scale else size / out
    rows = np.arange(out)
    matrix = np.zeros((out, size))
    if attrs["mode"] == "nearest":
        source = np.minimum(np.floor(rows * ratio).astype(np.int64), size - 1)
        matrix[rows, source] = 1.0
        return matrix.astype(dtype)
    if attrs["align_corners"]:
        source = rows * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        source = np.maximum(ratio * (rows + 0.5) - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    weight = source - low
    np.add.at(matrix, (rows, low), 1.0 - weight)
    np.add.at(matrix, (rows, high), weight)
    return matrix.astype(dtype)


def _matrices(shape: tuple, attrs: dict, dtype) -> list:
    outs = interpolated_sizes(shape, attrs)
    return [_matrix(n, out, attrs, dtype) for n, out in zip(shape[2:], outs)]


def _interpolate_forward(arrays: list, attrs: dict):
    x = compute(arrays[0])
    result = x
    d = x.ndim - 2
    for axis, matrix in enumerate(_matrices(x.shape, attrs, x.dtype)):
        result = np.moveaxis(np.matmul(np.moveaxis(result, 2 + axis, -1), matrix.T), -1, 2 + axis)
    return np.ascontiguousarray(result)


implement("interpolate", _interpolate_forward,
          vjps=(lambda F, g, c: _apply_matrices(F, g, _matrices(c.input_shapes[0], c.attrs, F.value(g).dtype), True),))


# ---------------------------------------------------------------- unfold / fold
def _unfold_forward(arrays: list, attrs: dict):
    x = arrays[0]
    batched = x if x.ndim == 4 else x[None]
    kernel, dilation, padding, stride = window_geometry(attrs, "unfold")
    view = core.windows(batched, kernel, stride, padding, dilation)  # (N, C, oh, ow, kh, kw)
    n, c = batched.shape[:2]
    cols = view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel[0] * kernel[1], -1)
    return np.ascontiguousarray(cols if x.ndim == 4 else cols[0])


def _fold_forward(arrays: list, attrs: dict):
    cols = arrays[0]
    batched = cols if cols.ndim == 3 else cols[None]
    kernel, dilation, padding, stride = window_geometry(attrs, "fold")
    size = pair(attrs["output_size"], "fold", "output_size")
    blocks = tuple(core.out_size(size[i], kernel[i], stride[i], padding[i], padding[2 + i], dilation[i]) for i in range(2))
    n, width, count = batched.shape
    c = width // (kernel[0] * kernel[1])
    grid = batched.reshape((n, c) + kernel + blocks).transpose(1, 2, 3, 0, 4, 5)  # (C, kh, kw, N, bh, bw)
    out = core.col2im(grid, size, stride, padding, dilation)
    return out if cols.ndim == 3 else out[0]


def _unfold_vjp(F, g, c):
    return F.fold(g, output_size=c.input_shapes[0][-2:], **{k: c.attrs[k] for k in ("kernel_size", "dilation",
                                                                                       "padding", "stride")})


def _fold_vjp(F, g, c):
    return F.unfold(g, **{k: c.attrs[k] for k in ("kernel_size", "dilation", "padding", "stride")})


implement("unfold", _unfold_forward, vjps=(_unfold_vjp,))
implement("fold", _fold_forward, vjps=(_fold_vjp,))
