"""N-d convolution in numpy: im2col through a strided window view and one batched matmul over groups.

Three bilinear maps share the windows: the convolution y = conv(x, w), its input gradient
x_grad = conv_input_grad(y_grad, w) and its weight gradient w_grad = conv_weight_grad(x, y_grad). They
are all derivatives of the one form sum(y * conv(x, w)), so each one's VJPs are the other two (see
nn_conv.py); that is what makes convolutions differentiable any number of times.

Layout: x (N, C, *S), w (O, C/G, *K), y (N, O, *Y); padding is explicit, low then high per spatial dim.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gradwire.rules.errors import ShapeError


def out_size(size: int, kernel: int, stride: int, lo: int, hi: int, dilation: int) -> int:
    """A sliding window's output size (the rules check the geometry before a forward gets here)."""
    return (size + lo + hi - dilation * (kernel - 1) - 1) // stride + 1


def _padded(x: np.ndarray, padding: tuple) -> np.ndarray:
    d = x.ndim - 2
    lo, hi = padding[:d], padding[d:]
    if not any(padding):
        return x
    return np.pad(x, [(0, 0), (0, 0)] + list(zip(lo, hi)))


def windows(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> np.ndarray:
    """A read-only view (N, C, *Y, *K) of the padded input's windows (no copy)."""
    d = len(kernel)
    spans = tuple(dil * (k - 1) + 1 for k, dil in zip(kernel, dilation))
    view = sliding_window_view(_padded(x, padding), spans, axis=tuple(range(2, 2 + d)))
    picks = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride) + tuple(
        slice(None, None, dil) for dil in dilation)
    return view[picks]


def _columns(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, groups: int):
    """im2col: (G, C/G*prod(K), N*prod(Y)) and the output's spatial shape Y. Output positions are the
    innermost (contiguous) axis, which keeps the strided copy fast."""
    view = windows(x, kernel, stride, padding, dilation)
    n, c, d = x.shape[0], x.shape[1], len(kernel)
    spatial = view.shape[2:2 + d]
    view = view.reshape((n, groups, c // groups) + view.shape[2:])
    # (G, C/G, *K, N, *Y)
    order = (1, 2) + tuple(range(3 + d, 3 + 2 * d)) + (0,) + tuple(range(3, 3 + d))
    cols = view.transpose(order).reshape(groups, (c // groups) * math.prod(kernel), n * math.prod(spatial))
    return cols, spatial


def convolution(x, w, stride, padding, dilation, groups):
    """The shape rules (gradwire.rules.ops.nn_conv) have checked ranks, channels, groups and sizes."""
    kernel = w.shape[2:]
    cols, spatial = _columns(x, kernel, stride, padding, dilation, groups)
    o, n = w.shape[0], x.shape[0]
    out = np.matmul(w.reshape(groups, o // groups, -1), cols)  # (G, O/G, N*Y)
    out = out.reshape((o, n) + spatial)
    return np.ascontiguousarray(np.swapaxes(out, 0, 1))


def weight_grad(x, y_grad, weight_shape, stride, padding, dilation, groups):
    kernel = tuple(weight_shape[2:])
    cols, spatial = _columns(x, kernel, stride, padding, dilation, groups)
    o = y_grad.shape[1]
    if tuple(y_grad.shape[2:]) != tuple(spatial):
        raise ShapeError(f"convolution weight gradient: output gradient {list(y_grad.shape)} does not fit "
                         f"the input {list(x.shape)} and kernel {list(kernel)}")
    grads = np.swapaxes(y_grad, 0, 1).reshape(groups, o // groups, -1)  # (G, O/G, N*Y)
    return np.matmul(grads, np.swapaxes(cols, 1, 2)).reshape(tuple(weight_shape))


def input_grad(y_grad, w, input_spatial, stride, padding, dilation, groups):
    n, o = y_grad.shape[0], y_grad.shape[1]
    kernel, d = tuple(w.shape[2:]), len(w.shape) - 2
    c = w.shape[1] * groups
    spatial = tuple(y_grad.shape[2:])
    grads = np.swapaxes(y_grad, 0, 1).reshape(groups, o // groups, -1)  # (G, O/G, N*Y)
    cols = np.matmul(np.swapaxes(w.reshape(groups, o // groups, -1), 1, 2), grads)  # (G, C/G*K, N*Y)
    cols = cols.reshape((c,) + kernel + (n,) + spatial)
    return col2im(cols, input_spatial, stride, padding, dilation)


def col2im(cols: np.ndarray, input_spatial: tuple, stride, padding, dilation) -> np.ndarray:
    """Adds windows back into the (N, C, *S) input they came from: cols is (C, *K, N, *Y)."""
    d = len(input_spatial)
    c, kernel, n, spatial = cols.shape[0], cols.shape[1:1 + d], cols.shape[1 + d], cols.shape[2 + d:]
    padded_shape = tuple(s + padding[i] + padding[d + i] for i, s in enumerate(input_spatial))
    out = np.zeros((c, n) + padded_shape, dtype=cols.dtype)  # channels first, like cols
    for offset in itertools.product(*(range(k) for k in kernel)):  # a loop over kernel taps, not pixels
        target = (slice(None), slice(None)) + tuple(
            slice(k * dil, k * dil + st * (y - 1) + 1, st)
            for k, dil, st, y in zip(offset, dilation, stride, spatial))
        out[target] += cols[(slice(None),) + offset]
    crop = (slice(None), slice(None)) + tuple(
        slice(padding[i], padding[i] + s) for i, s in enumerate(input_spatial))
    return np.ascontiguousarray(np.swapaxes(out[crop], 0, 1))
