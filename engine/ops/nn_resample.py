"""interpolate (nearest, linear, bilinear; size or scale_factor; align_corners) and unfold/fold.

interpolate is separable: one resampling matrix per spatial dim (source index and weights computed
as torch's upsample kernels do), applied with a matmul; its gradient applies the transposes. unfold is
im2col on the convolution core's window view and fold its col2im; each is the other's gradient.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.errors import InvalidArgumentRuntimeError, InvalidValueError, ShapeError
from ..registry import AttrSpec, OpDef, register
from . import nn_conv_core as core
from .nn_adaptive_pool import _apply_matrices
from .nn_common import compute, same_float

MODES = {"nearest": None, "linear": 1, "bilinear": 2}


def _out_sizes(shape: tuple, attrs: dict) -> tuple:
    mode = attrs["mode"]
    if mode not in MODES:
        raise InvalidValueError(f"interpolate(): mode {mode!r} is not supported by gradwire; use nearest, linear "
                                "or bilinear")
    if attrs["antialias"]:
        raise InvalidValueError("interpolate(): antialias=True is not supported by gradwire")
    d = len(shape) - 2
    if d < 1 or (MODES[mode] is not None and MODES[mode] != d):
        raise ShapeError(f"interpolate(): mode {mode!r} needs a {MODES[mode] + 2 if MODES[mode] else '3-D or 4-D'}"
                         f" input, got shape {list(shape)}")
    if mode == "nearest" and attrs["align_corners"] is not None:
        raise InvalidValueError("align_corners option can only be set with the interpolating modes: "
                                "linear | bilinear | bicubic | trilinear")
    size, scale = attrs["size"], attrs["scale_factor"]
    if (size is None) == (scale is None):
        raise InvalidValueError("interpolate(): give exactly one of size or scale_factor")
    if size is not None:
        sizes = (size,) * d if isinstance(size, int) else tuple(size)
        if len(sizes) != d:
            raise InvalidValueError(f"interpolate(): size {list(sizes)} must have {d} entries for input {list(shape)}")
        return sizes
    return tuple(int(math.floor(n * scale)) for n in shape[2:])


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
    outs = _out_sizes(shape, attrs)
    return [_matrix(n, out, attrs, dtype) for n, out in zip(shape[2:], outs)]


def _interpolate_forward(arrays: list, attrs: dict):
    x = compute(arrays[0])
    result = x
    d = x.ndim - 2
    for axis, matrix in enumerate(_matrices(x.shape, attrs, x.dtype)):
        result = np.moveaxis(np.matmul(np.moveaxis(result, 2 + axis, -1), matrix.T), -1, 2 + axis)
    return np.ascontiguousarray(result)


def _interpolate_name(node) -> str:
    d = len(node.input_shapes[0]) - 2
    kind = {"nearest": "Nearest", "linear": "Linear", "bilinear": "Bilinear"}[node.attrs["mode"]]
    return f"Upsample{kind}{d}DBackward0"


register(OpDef(
    name="interpolate", forward=_interpolate_forward,
    vjps=(lambda F, g, c: _apply_matrices(F, g, _matrices(c.input_shapes[0], c.attrs, F.value(g).dtype), True),),
    grad_fn=_interpolate_name, dtype_rule=same_float("interpolate"),
    attrs=(AttrSpec("size", "integer|ints"), AttrSpec("scale_factor", "real"), AttrSpec("mode", "text", default="nearest"),
           AttrSpec("align_corners", "boolean"), AttrSpec("recompute_scale_factor", "boolean"),
           AttrSpec("antialias", "boolean", default=False)),
    functions=("nn.functional.interpolate",),
    out_shape=lambda shapes, a: tuple(shapes[0][:2]) + _out_sizes(tuple(shapes[0]), a),
    summary="resize (N, C, *S) by size or one scale_factor: nearest, linear (3-D) or bilinear (4-D), "
            "align_corners as torch",
))


# ---------------------------------------------------------------- unfold / fold
def _pair(value, name: str, what: str) -> tuple:
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2:
        raise InvalidArgumentRuntimeError(f"{name}(): {what} must be an int or a pair, got {list(values)}")
    return values


def _geometry(attrs: dict, name: str) -> tuple:
    kernel = _pair(attrs["kernel_size"], name, "kernel_size")
    dilation, padding, stride = (_pair(attrs[k], name, k) for k in ("dilation", "padding", "stride"))
    return kernel, dilation, padding + padding, stride


WINDOW_ATTRS = (AttrSpec("dilation", "integer|ints", default=1), AttrSpec("padding", "integer|ints", default=0),
                AttrSpec("stride", "integer|ints", default=1))


def _unfold_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim not in (3, 4):
        raise ShapeError(f"unfold(): expected a 3-D or 4-D input, got shape {list(x.shape)}")
    batched = x if x.ndim == 4 else x[None]
    kernel, dilation, padding, stride = _geometry(attrs, "unfold")
    view = core.windows(batched, kernel, stride, padding, dilation)  # (N, C, oh, ow, kh, kw)
    n, c = batched.shape[:2]
    cols = view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel[0] * kernel[1], -1)
    return np.ascontiguousarray(cols if x.ndim == 4 else cols[0])


def _fold_forward(arrays: list, attrs: dict):
    cols = arrays[0]
    if cols.ndim not in (2, 3):
        raise ShapeError(f"fold(): expected a 2-D or 3-D input, got shape {list(cols.shape)}")
    batched = cols if cols.ndim == 3 else cols[None]
    kernel, dilation, padding, stride = _geometry(attrs, "fold")
    size = _pair(attrs["output_size"], "fold", "output_size")
    blocks = tuple(core.out_size(size[i], kernel[i], stride[i], padding[i], padding[2 + i], dilation[i]) for i in range(2))
    taps = kernel[0] * kernel[1]
    n, width, count = batched.shape
    if width % taps or count != blocks[0] * blocks[1]:
        raise ShapeError(f"fold(): expected input of shape (N, C*{taps}, {blocks[0] * blocks[1]}) for output_size "
                         f"{list(size)} and kernel_size {list(kernel)}, got {list(cols.shape)}")
    c = width // taps
    grid = batched.reshape((n, c) + kernel + blocks).transpose(1, 2, 3, 0, 4, 5)  # (C, kh, kw, N, bh, bw)
    out = core.col2im(grid, size, stride, padding, dilation)
    return out if cols.ndim == 3 else out[0]


def _unfold_shape(shapes: list, attrs: dict) -> tuple:
    x = tuple(shapes[0])
    if len(x) not in (3, 4):
        return ()
    kernel, dilation, padding, stride = _geometry(attrs, "unfold")
    blocks = [core.out_size(x[-2 + i], kernel[i], stride[i], padding[i], padding[2 + i], dilation[i]) for i in range(2)]
    return x[:-3] + (x[-3] * kernel[0] * kernel[1], max(blocks[0], 0) * max(blocks[1], 0))


def _unfold_vjp(F, g, c):
    return F.fold(g, output_size=c.input_shapes[0][-2:], **{k: c.attrs[k] for k in ("kernel_size", "dilation",
                                                                                       "padding", "stride")})


def _fold_vjp(F, g, c):
    return F.unfold(g, **{k: c.attrs[k] for k in ("kernel_size", "dilation", "padding", "stride")})


register(OpDef(
    name="unfold", forward=_unfold_forward, vjps=(_unfold_vjp,), grad_fn="Im2ColBackward0",
    dtype_rule=same_float("unfold"), attrs=(AttrSpec("kernel_size", "integer|ints", required=True),) + WINDOW_ATTRS,
    functions=("nn.functional.unfold",), out_shape=_unfold_shape, summary="im2col: (N, C, H, W) -> (N, C*kh*kw, number of windows)",
))
register(OpDef(
    name="fold", forward=_fold_forward, vjps=(_fold_vjp,), grad_fn="Col2ImBackward0", dtype_rule=same_float("fold"),
    attrs=(AttrSpec("output_size", "integer|ints", required=True),
           AttrSpec("kernel_size", "integer|ints", required=True)) + WINDOW_ATTRS,
    functions=("nn.functional.fold",),
    out_shape=lambda shapes, a: tuple(shapes[0][:-2]) + (shapes[0][-2] // max(math.prod(_pair(a["kernel_size"], "fold", "kernel_size")), 1),)
    + _pair(a["output_size"], "fold", "output_size"),
    summary="col2im: sums (N, C*kh*kw, L) windows back into (N, C, H, W)",
))
