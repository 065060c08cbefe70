"""Pooling: max_pool1d/2d (return_indices gives the *_with_indices op), avg_pool1d/2d,
adaptive_avg_pool1d/2d and adaptive_max_pool1d/2d, on strided window views (no loop over pixels).

Max pooling's gradient scatters into the argmax positions (the internal op max_pool_scatter, whose own
gradient is the gather max_pool_gather and back), average pooling's is a transposed convolution with a
ones kernel, adaptive average pooling is a pooling matrix on each spatial dim: all of them written with
registered ops, so second derivatives work.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.errors import InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from . import nn_conv_core as core
from .nn_common import compute, same_float


def _tuple(value, d: int, name: str, what: str) -> tuple:
    values = (value,) * d if isinstance(value, int) else tuple(value)
    if len(values) == 1 and d > 1:
        values = values * d
    if len(values) != d:
        raise InvalidArgumentRuntimeError(f"{name}(): {what} must be a single int or a tuple of {d} ints, "
                                          f"got {list(values)}")
    return values


def _spatial_input(name: str, x_shape: tuple, d: int) -> bool:
    """True for an unbatched input (C, *S); raises for a wrong rank."""
    if len(x_shape) not in (d + 1, d + 2):
        raise ShapeError(f"{name}(): expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, "
                         f"got shape {list(x_shape)}")
    return len(x_shape) == d + 1


def pool_geometry(name: str, d: int, attrs: dict, spatial: tuple) -> tuple:
    """(kernel, stride, padding low+high incl. ceil_mode's extra, dilation, output spatial shape)."""
    kernel = _tuple(attrs["kernel_size"], d, name, "kernel_size")
    stride = kernel if attrs["stride"] in (None, ()) else _tuple(attrs["stride"], d, name, "stride")
    pads = _tuple(attrs["padding"], d, name, "padding")
    dilation = _tuple(attrs.get("dilation", 1), d, name, "dilation")
    if any(k <= 0 for k in kernel) or any(s <= 0 for s in stride) or any(v <= 0 for v in dilation):
        raise InvalidArgumentRuntimeError(f"{name}(): kernel_size, stride and dilation must be positive, got "
                                          f"{list(kernel)}, {list(stride)}, {list(dilation)}")
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise InvalidArgumentRuntimeError(f"{name}(): pad should be at most half of effective kernel size, "
                                          f"but got pad={list(pads)} and kernel_size={list(kernel)}")
    out, extra = [], []
    for size, k, s, p, dil in zip(spatial, kernel, stride, pads, dilation):
        span = dil * (k - 1) + 1
        numerator = size + 2 * p - span
        n = (-(-numerator // s) if attrs["ceil_mode"] else numerator // s) + 1
        if attrs["ceil_mode"] and (n - 1) * s >= size + p:
            n -= 1  # the last window must start inside the input or the left padding
        if n <= 0:
            raise ShapeError(f"{name}(): output size is too small: input {list(spatial)}, kernel {list(kernel)}, "
                             f"padding {list(pads)}, dilation {list(dilation)}")
        out.append(n)
        extra.append(max(0, (n - 1) * s + span - (size + 2 * p)))
    padding = tuple(pads) + tuple(p + e for p, e in zip(pads, extra))
    return kernel, stride, padding, dilation, tuple(out)


# ---------------------------------------------------------------- max pooling
def _max_with_indices(x: np.ndarray, kernel, stride, padding, dilation) -> tuple:
    """Values and torch's indices (flat positions in each input plane) of every window's maximum."""
    d = len(kernel)
    data = compute(x)
    padded = np.pad(data, [(0, 0), (0, 0)] + list(zip(padding[:d], padding[d:])), constant_values=-np.inf)
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


MAX_ATTRS = (AttrSpec("kernel_size", "integer|ints", required=True), AttrSpec("stride", "integer|ints"),
             AttrSpec("padding", "integer|ints", default=0), AttrSpec("dilation", "integer|ints", default=1),
             AttrSpec("ceil_mode", "boolean", default=False), AttrSpec("return_indices", "boolean", default=False))


def _max_pool_parts(name: str, d: int, x: np.ndarray, attrs: dict) -> tuple:
    unbatched = _spatial_input(name, x.shape, d)
    batched = _batched(x, unbatched)
    kernel, stride, padding, dilation, _ = pool_geometry(name, d, attrs, batched.shape[2:])
    values, indices = _max_with_indices(batched, kernel, stride, padding, dilation)
    return (values[0], indices[0]) if unbatched else (values, indices)


def _scatter_vjp(name: str, d: int):
    def vjp(F, g, c):
        _, indices = _max_pool_parts(name, d, F.value(c.inputs[0]), c.attrs)
        return F.max_pool_scatter(g, F.constant(indices), input_size=c.input_shapes[0][-d:])

    return vjp


def _pool_out_shape(name: str, d: int):
    def out_shape(shapes: list, attrs: dict) -> tuple:
        x = shapes[0]
        if len(x) not in (d + 1, d + 2):
            return ()
        *_, out = pool_geometry(name, d, attrs, tuple(x[-d:]))
        return tuple(x[:-d]) + out

    return out_shape


def _max_pool_name(d: int):
    return lambda node: "SqueezeBackward1" if d == 1 else f"MaxPool{d}DWithIndicesBackward0"


def max_pool(d: int) -> None:
    name = f"max_pool{d}d"
    register(OpDef(
        name=name, forward=lambda arrays, a: _max_pool_parts(name, d, arrays[0], a)[0],
        vjps=(_scatter_vjp(name, d),), grad_fn=_max_pool_name(d), dtype_rule=same_float(name), saves_inputs=(0,),
        attrs=MAX_ATTRS, functions=(name, f"nn.functional.{name}"), out_shape=_pool_out_shape(name, d),
        summary=f"{d}-D max pooling (kernel_size, stride, padding, dilation, ceil_mode); return_indices=True "
                f"calls {name}_with_indices",
    ))
    register(OpDef(
        name=f"{name}_with_indices", forward=lambda arrays, a: _max_pool_parts(name, d, arrays[0], a),
        vjps=(_scatter_vjp(name, d),), grad_fn=_max_pool_name(d), dtype_rule=same_float(name), saves_inputs=(0,),
        attrs=MAX_ATTRS, num_outputs=2, functions=(f"nn.functional.{name}_with_indices",),
        out_shape=_pool_out_shape(name, d),
        summary=f"{d}-D max pooling returning (values, indices); indices are flat positions in each input plane",
    ))


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


def _index_rule(name: str):
    return same_float(name, float_positions=(0,), int_positions=(1,))


register(OpDef(
    name="max_pool_scatter", forward=_scatter_forward,
    vjps=(lambda F, g, c: F.max_pool_gather(g, c.inputs[1], input_size=c.attrs["input_size"]), None),
    grad_fn="MaxPoolBackwardBackward0", dtype_rule=_index_rule("max_pool_scatter"), saves_inputs=(1,),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("input_size", "ints", required=True),),
    out_shape=lambda shapes, a: tuple(shapes[0][: len(shapes[0]) - len(a["input_size"])]) + tuple(a["input_size"]),
    summary="internal: adds each gradient into the input position its index names (max pooling's gradient)",
    internal=True,
))
register(OpDef(
    name="max_pool_gather", forward=_gather_forward,
    vjps=(lambda F, g, c: F.max_pool_scatter(g, c.inputs[1], input_size=c.attrs["input_size"]), None),
    grad_fn="MaxPoolBackwardBackward0", dtype_rule=_index_rule("max_pool_gather"), saves_inputs=(1,),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("input_size", "ints", required=True),),
    out_shape=lambda shapes, a: tuple(shapes[1]),
    summary="internal: picks the input positions the indices name (the gradient of max_pool_scatter)",
    internal=True,
))


# ---------------------------------------------------------------- average pooling
AVG_ATTRS = (AttrSpec("kernel_size", "integer|ints", required=True), AttrSpec("stride", "integer|ints"),
             AttrSpec("padding", "integer|ints", default=0), AttrSpec("ceil_mode", "boolean", default=False),
             AttrSpec("count_include_pad", "boolean", default=True))


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
    unbatched = _spatial_input(name, shape, d)
    spatial = tuple(shape[-d:])
    kernel, stride, padding, _, out = pool_geometry(name, d, dict(attrs, dilation=1), spatial)
    override = attrs.get("divisor_override")
    if override is not None and override <= 0:
        raise InvalidArgumentRuntimeError(f"{name}(): divisor must be not zero")
    divisor = _divisor(spatial, kernel, stride, padding[:d], out, attrs["count_include_pad"], override)
    return unbatched, kernel, stride, padding, divisor


def _avg_forward(name: str, d: int):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        unbatched, kernel, stride, padding, divisor = _avg_parts(name, d, x.shape, attrs)
        view = core.windows(_batched(compute(x), unbatched), kernel, stride, padding, (1,) * d)
        summed = view.sum(axis=tuple(range(2 + d, 2 + 2 * d)))
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
    attrs = AVG_ATTRS + ((AttrSpec("divisor_override", "integer"),) if d > 1 else ())
    register(OpDef(
        name=name, forward=_avg_forward(name, d), vjps=(_avg_vjp(name, d),),
        grad_fn="SqueezeBackward1" if d == 1 else f"AvgPool{d}DBackward0", dtype_rule=same_float(name),
        attrs=attrs, functions=((name,) if d == 1 else ()) + (f"nn.functional.{name}",),  # torch.avg_pool1d only
        out_shape=_pool_out_shape(name, d),
        summary=f"{d}-D average pooling (kernel_size, stride, padding, ceil_mode, count_include_pad"
                + (", divisor_override)" if d > 1 else ")"),
    ))


for _d in (1, 2):
    max_pool(_d)
    avg_pool(_d)
