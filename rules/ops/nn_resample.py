"""Rules of interpolate (nearest, linear, bilinear; size or scale_factor; align_corners) and
unfold/fold (im2col / col2im over 2 spatial dims)."""

from __future__ import annotations

import math

from gradwire.rules.errors import (
    IndexOutOfRange, InvalidArgumentRuntimeError, InvalidValueError, NotImplementedForDTypeError, ShapeError,
)
from gradwire.rules.spec import AttrSpec, OpRules, define

from .nn_common import float_kernel, same_float, window_out_size

MODES = {"nearest": None, "linear": 1, "bilinear": 2}


def interpolated_sizes(shape: tuple, attrs: dict) -> tuple:
    """The output's spatial sizes; torch's errors for the mode, rank, size/scale_factor and align_corners."""
    mode = attrs["mode"]
    if mode not in MODES:
        raise InvalidValueError(f"interpolate(): mode {mode!r} is not supported by gradwire; use nearest, linear "
                                "or bilinear")
    if attrs["antialias"]:
        raise InvalidValueError("interpolate(): antialias=True is not supported by gradwire")
    d = len(shape) - 2
    if d < 1 or d > 3 or (MODES[mode] is not None and MODES[mode] != d):
        needed = f"{MODES[mode] + 2}D" if MODES[mode] else "3D or 4D"
        # torch's class for a rank its kernels do not take (its own word: not implemented)
        raise NotImplementedForDTypeError(f"interpolate(): Got {len(shape)}D input, but {mode} mode needs {needed} "
                                          f"input (shape {list(shape)})")
    if mode == "nearest" and attrs["align_corners"] is not None:
        raise InvalidValueError("align_corners option can only be set with the interpolating modes: "
                                "linear | bilinear | bicubic | trilinear")
    size, scale = attrs["size"], attrs["scale_factor"]
    if size is not None and scale is not None:
        raise InvalidValueError("interpolate(): only one of size or scale_factor should be defined")
    if size is None and scale is None:
        raise InvalidValueError("interpolate(): either size or scale_factor should be defined")
    if size is not None:
        sizes = (size,) * d if isinstance(size, int) else tuple(size)
        if len(sizes) != d:
            raise InvalidValueError(f"interpolate(): Input and output must have the same number of spatial "
                                    f"dimensions, but got input with spatial dimensions of {list(shape[2:])} and "
                                    f"output size of {tuple(sizes)}")
    else:
        sizes = tuple(int(math.floor(n * scale)) for n in shape[2:])
    if 0 in shape[1:]:
        raise ShapeError(f"interpolate(): Non-empty {len(shape)}D data tensor expected but got a tensor with sizes "
                         f"{list(shape)}")
    if any(n <= 0 for n in sizes):
        raise ShapeError(f"interpolate(): Input and output sizes should be greater than 0, but got input "
                         f"{list(shape[2:])} output {list(sizes)}")
    return sizes


def _interpolate_name(call) -> str:
    d = len(call.input_shapes[0]) - 2
    kind = {"nearest": "Nearest", "linear": "Linear", "bilinear": "Bilinear"}[call.attrs["mode"]]
    return f"Upsample{kind}{d}DBackward0"


define(OpRules(
    name="interpolate", grad_fn=_interpolate_name, dtype_rule=float_kernel("interpolate"),
    attrs=(AttrSpec("size", "integer|ints"), AttrSpec("scale_factor", "real"), AttrSpec("mode", "text", default="nearest"),
           AttrSpec("align_corners", "boolean"), AttrSpec("recompute_scale_factor", "boolean"),
           AttrSpec("antialias", "boolean", default=False)),
    functions=("nn.functional.interpolate",),
    out_shape=lambda shapes, a: tuple(shapes[0][:2]) + interpolated_sizes(tuple(shapes[0]), a),
    summary="resize (N, C, *S) by size or one scale_factor: nearest, linear (3-D) or bilinear (4-D), "
            "align_corners as torch",
))


# ---------------------------------------------------------------- unfold / fold
def pair(value, name: str, what: str) -> tuple:
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2:
        raise InvalidArgumentRuntimeError(f"{name}(): It is expected {what} equals to 2, but got size {len(values)}")
    return values


def window_geometry(attrs: dict, name: str) -> tuple:
    """(kernel, dilation, padding low+high, stride) of unfold/fold, checked as torch checks them."""
    kernel = pair(attrs["kernel_size"], name, "kernel_size")
    dilation, padding, stride = (pair(attrs[k], name, k) for k in ("dilation", "padding", "stride"))
    for what, values in (("kernel size", kernel), ("stride", stride), ("dilation", dilation)):
        if any(v <= 0 for v in values):
            raise InvalidArgumentRuntimeError(f"{name}(): {what} should be greater than zero, but got {list(values)}")
    if any(p < 0 for p in padding):
        raise InvalidArgumentRuntimeError(f"{name}(): padding should be non-negative, but got {list(padding)}")
    return kernel, dilation, padding + padding, stride


def sliding_blocks(name: str, spatial: tuple, attrs: dict) -> tuple:
    kernel, dilation, padding, stride = window_geometry(attrs, name)
    blocks = tuple(window_out_size(spatial[i], kernel[i], stride[i], padding[i], padding[2 + i], dilation[i])
                   for i in range(2))
    if any(b < 1 for b in blocks):
        raise ShapeError(f"{name}(): Given spatial size {tuple(spatial)}, kernel_size={kernel}, dilation={dilation}, "
                         f"padding={padding[:2]}, calculated shape of the array of sliding blocks as "
                         f"{tuple(max(b, 0) for b in blocks)}, but its components must be at least one.")
    return kernel, blocks


WINDOW_ATTRS = (AttrSpec("dilation", "integer|ints", default=1), AttrSpec("padding", "integer|ints", default=0),
                AttrSpec("stride", "integer|ints", default=1))


def _unfold_shape(shapes: list, attrs: dict) -> tuple:
    x = tuple(shapes[0])
    window_geometry(attrs, "unfold")  # torch checks the window before the input's rank
    if len(x) not in (3, 4) or 0 in (x if len(x) == 3 else x[1:]):
        if len(x) < 3 and 0 not in x[1:]:
            raise IndexOutOfRange(f"unfold(): Dimension out of range (expected to be in range of "
                                  f"[{-max(len(x), 1)}, {max(len(x), 1) - 1}], but got 2): expected a 3-D or 4-D "
                                  f"input, got shape {list(x)}")
        raise ShapeError(f"unfold(): Expected 3D or 4D (batch mode) tensor for input, but got: {list(x)}")
    kernel, blocks = sliding_blocks("unfold", x[-2:], attrs)
    return x[:-3] + (x[-3] * kernel[0] * kernel[1], blocks[0] * blocks[1])


def _fold_shape(shapes: list, attrs: dict) -> tuple:
    cols = tuple(shapes[0])
    if len(cols) not in (2, 3) or 0 in cols[-2:]:
        raise ShapeError(f"fold(): Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
                         f"non-zero dimensions for input, but got: {list(cols)}")
    size = pair(attrs["output_size"], "fold", "output_size")
    kernel, blocks = sliding_blocks("fold", size, attrs)
    taps = kernel[0] * kernel[1]
    if cols[-2] % taps:
        raise ShapeError(f"fold(): Expected size of input's dimension 1 to be divisible by the product of "
                         f"kernel_size, but got input.size(1)={cols[-2]} and kernel_size={kernel}.")
    if cols[-1] != blocks[0] * blocks[1]:
        raise ShapeError(f"fold(): Given output_size={size}, kernel_size={kernel}, expected size of input's "
                         f"dimension 2 to match the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                         f"{blocks[0] * blocks[1]}, but got input.size(2)={cols[-1]}.")
    return cols[:-2] + (cols[-2] // taps,) + size


define(OpRules(
    name="unfold", grad_fn="Im2ColBackward0", dtype_rule=same_float("unfold"),
    attrs=(AttrSpec("kernel_size", "integer|ints", required=True),) + WINDOW_ATTRS,
    functions=("nn.functional.unfold",), out_shape=_unfold_shape,
    summary="im2col: (N, C, H, W) -> (N, C*kh*kw, number of windows)",
))
define(OpRules(
    name="fold", grad_fn="Col2ImBackward0", dtype_rule=same_float("fold"),
    attrs=(AttrSpec("output_size", "integer|ints", required=True),
           AttrSpec("kernel_size", "integer|ints", required=True)) + WINDOW_ATTRS,
    functions=("nn.functional.fold",), out_shape=_fold_shape,
    summary="col2im: sums (N, C*kh*kw, L) windows back into (N, C, H, W)",
))
