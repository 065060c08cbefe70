"""conv1d/2d/3d and conv_transpose1d/2d/3d (torch.nn.functional and torch.*), on the numpy core in
nn_conv_core.py, plus the three internal ops their gradients are made of (so that gradients of
gradients work): convolution_nd, convolution_input_grad and convolution_weight_grad."""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from . import nn_conv_core as core
from .nn_common import compute, optional, same_float

# The internal ops take every size explicitly: padding is (low..., high...) per spatial dim.
_INTERNAL = (AttrSpec("stride", "ints", required=True), AttrSpec("padding", "ints", required=True),
             AttrSpec("dilation", "ints", required=True), AttrSpec("groups", "integer", default=1))


def _geometry(attrs: dict) -> tuple:
    """(stride, padding, dilation, groups) of an internal convolution node, checked as torch checks them."""
    stride, padding, dilation, groups = attrs["stride"], attrs["padding"], attrs["dilation"], attrs["groups"]
    for name, values in (("stride", stride), ("dilation", dilation)):
        if any(v <= 0 for v in (values if isinstance(values, (tuple, list)) else (values,))):
            raise InvalidArgumentRuntimeError(f"convolution: {name} should be greater than zero, got {values}")
    if not isinstance(groups, int) or groups <= 0:
        raise InvalidArgumentRuntimeError(f"convolution: non-positive groups is not supported, got {groups}")
    return stride, padding, dilation, groups


def _internal(c, **sizes) -> dict:
    return dict(stride=c.attrs["stride"], padding=c.attrs["padding"], dilation=c.attrs["dilation"],
                groups=c.attrs["groups"], **sizes)


register(OpDef(
    name="convolution_nd",
    forward=lambda arrays, a: core.convolution(compute(arrays[0]), compute(arrays[1]), *_geometry(a)),
    vjps=(lambda F, g, c: F.convolution_input_grad(g, c.inputs[1], **_internal(c, input_size=c.input_shapes[0][2:])),
          lambda F, g, c: F.convolution_weight_grad(c.inputs[0], g, **_internal(c, weight_size=c.input_shapes[1]))),
    grad_fn="ConvolutionBackward0", dtype_rule=same_float("convolution"), saves_inputs=(0, 1), min_inputs=2,
    max_inputs=2, attrs=_INTERNAL,
    out_shape=lambda shapes, a: _conv_shape(shapes[0], shapes[1], a["stride"], a["padding"], a["dilation"]),
    summary="internal: N-d convolution with explicit low/high padding (conv1d/2d/3d and gradients use it)",
    internal=True,
))
register(OpDef(
    name="convolution_input_grad",
    forward=lambda arrays, a: core.input_grad(compute(arrays[0]), compute(arrays[1]), a["input_size"], *_geometry(a)),
    vjps=(lambda F, g, c: F.convolution_nd(g, c.inputs[1], **_internal(c)),
          lambda F, g, c: F.convolution_weight_grad(g, c.inputs[0], **_internal(c, weight_size=c.input_shapes[1]))),
    grad_fn="ConvolutionBackwardBackward0", dtype_rule=same_float("convolution"), saves_inputs=(0, 1),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("input_size", "ints", required=True),) + _INTERNAL,
    out_shape=lambda shapes, a: (shapes[0][0], shapes[1][1] * a["groups"]) + tuple(a["input_size"]),
    summary="internal: the input gradient of convolution_nd (also conv_transpose's forward)",
    internal=True,
))
register(OpDef(
    name="convolution_weight_grad",
    forward=lambda arrays, a: core.weight_grad(compute(arrays[0]), compute(arrays[1]), a["weight_size"], *_geometry(a)),
    vjps=(lambda F, g, c: F.convolution_input_grad(c.inputs[1], g, **_internal(c, input_size=c.input_shapes[0][2:])),
          lambda F, g, c: F.convolution_nd(c.inputs[0], g, **_internal(c))),
    grad_fn="ConvolutionBackwardBackward0", dtype_rule=same_float("convolution"), saves_inputs=(0, 1),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("weight_size", "ints", required=True),) + _INTERNAL,
    out_shape=lambda shapes, a: tuple(a["weight_size"]),
    summary="internal: the weight gradient of convolution_nd",
    internal=True,
))


def _conv_shape(x: tuple, w: tuple, stride, padding, dilation) -> tuple:
    d = len(w) - 2
    if len(x) != d + 2:
        return ()
    return (x[0], w[0]) + tuple(
        max(core.out_size(x[2 + i], w[2 + i], stride[i], padding[i], padding[d + i], dilation[i]), 0)
        for i in range(d))


def _tuple(value, d: int, name: str, what: str) -> tuple:
    values = (value,) * d if isinstance(value, int) else tuple(value)
    if len(values) == 1 and d > 1:
        values = values * d
    if len(values) != d:
        raise InvalidArgumentRuntimeError(f"{name}(): expected {what} to be a single integer or a list of {d} values, "
                            f"got {list(values)}")
    return values


def _conv_geometry(name: str, d: int, attrs: dict, kernel: tuple) -> tuple:
    """(stride, padding low+high, dilation) from torch's arguments (padding may be 'same' / 'valid')."""
    stride = _tuple(attrs["stride"], d, name, "stride")
    dilation = _tuple(attrs["dilation"], d, name, "dilation")
    if any(s <= 0 for s in stride):
        raise InvalidArgumentRuntimeError(f"{name}(): non-positive stride is not supported (got {list(stride)})")
    if any(s <= 0 for s in dilation):
        raise InvalidArgumentRuntimeError(f"{name}(): dilation should be greater than zero (got {list(dilation)})")
    padding = attrs["padding"]
    if isinstance(padding, str):
        if padding == "valid":
            return stride, (0,) * 2 * d, dilation
        if padding != "same":
            raise InvalidArgumentRuntimeError(f"{name}(): invalid padding string '{padding}'; use 'same', 'valid' or integers")
        if any(s != 1 for s in stride):
            raise InvalidArgumentRuntimeError(f"{name}(): padding='same' is not supported for strided convolutions")
        total = [dil * (k - 1) for dil, k in zip(dilation, kernel)]
        return stride, tuple(t // 2 for t in total) + tuple(t - t // 2 for t in total), dilation
    pads = _tuple(padding, d, name, "padding")
    if any(p < 0 for p in pads):
        raise InvalidArgumentRuntimeError(f"{name}(): negative padding is not supported (got {list(pads)})")
    return stride, pads + pads, dilation


def _unbatched(x, d: int) -> bool:
    return len(x) == d + 1


def _with_batch(F, value, unbatched: bool):
    return F.unsqueeze(value, dim=0) if unbatched else value


def _without_batch(F, value, unbatched: bool):
    return F.squeeze(value, dim=0) if unbatched else value


def _conv_name(d: int):
    """torch runs an unbatched input as a batch of one and squeezes the result."""
    return lambda node: "SqueezeBackward1" if _unbatched(node.input_shapes[0], d) else "ConvolutionBackward0"


def _bias_grad(F, g, c):
    d = len(c.input_shapes[1]) - 2
    dims = (0,) + tuple(range(2, 2 + d)) if not _unbatched(c.input_shapes[0], d) else tuple(range(1, 1 + d))
    return F.sum(g, dim=dims)


def _check_bias(name: str, b, channels: int) -> None:
    if b is not None and (b.ndim != 1 or b.shape[0] != channels):
        raise ShapeError(f"{name}(): expected bias to be 1-dimensional with {channels} elements, "
                         f"got shape {list(b.shape)}")


def conv(d: int) -> None:
    name = f"conv{d}d"

    def forward(arrays: list, attrs: dict):
        x, w, b = arrays
        if w.ndim != d + 2:
            raise ShapeError(f"{name}(): expected a {d + 2}-D weight (out, in/groups, kernel...), got {list(w.shape)}")
        stride, padding, dilation = _conv_geometry(name, d, attrs, w.shape[2:])
        unbatched = x.ndim == d + 1
        batched = x[None] if unbatched else x
        out = core.convolution(compute(batched), compute(w), stride, padding, dilation, attrs["groups"], name)
        _check_bias(name, b, w.shape[0])
        if b is not None:
            out = out + compute(b).reshape((-1,) + (1,) * d)
        return out[0] if unbatched else out

    def geometry(c) -> dict:
        stride, padding, dilation = _conv_geometry(name, d, c.attrs, c.input_shapes[1][2:])
        return dict(stride=stride, padding=padding, dilation=dilation, groups=c.attrs["groups"])

    def grad_input(F, g, c):
        unbatched = _unbatched(c.input_shapes[0], d)
        spatial = c.input_shapes[0][-d:]
        grad = F.convolution_input_grad(_with_batch(F, g, unbatched), c.inputs[1], input_size=spatial, **geometry(c))
        return _without_batch(F, grad, unbatched)

    def grad_weight(F, g, c):
        unbatched = _unbatched(c.input_shapes[0], d)
        return F.convolution_weight_grad(_with_batch(F, c.inputs[0], unbatched), _with_batch(F, g, unbatched),
                                         weight_size=c.input_shapes[1], **geometry(c))

    def out_shape(shapes: list, attrs: dict) -> tuple:
        x, w = shapes[0], shapes[1]
        if len(w) != d + 2 or len(x) not in (d + 1, d + 2):
            return ()
        stride, padding, dilation = _conv_geometry(name, d, attrs, w[2:])
        shape = _conv_shape((1,) + tuple(x) if len(x) == d + 1 else x, w, stride, padding, dilation)
        return shape[1:] if len(x) == d + 1 else shape

    register(OpDef(
        name=name, forward=forward, vjps=(grad_input, grad_weight, _bias_grad), grad_fn=_conv_name(d),
        dtype_rule=same_float(name), saves_inputs=(0, 1), min_inputs=2, max_inputs=3,
        attrs=(optional("bias"), AttrSpec("stride", "integer|ints", default=1),
               AttrSpec("padding", "integer|ints|text", default=0), AttrSpec("dilation", "integer|ints", default=1),
               AttrSpec("groups", "integer", default=1)),
        functions=(name, f"nn.functional.{name}"), out_shape=out_shape,
        summary=f"{d}-D convolution (cross-correlation) with optional bias; stride, padding (also 'same'/"
                "'valid'), dilation, groups",
    ))


def conv_transpose(d: int) -> None:
    name = f"conv_transpose{d}d"

    def geometry(attrs: dict, x_shape: tuple, w_shape: tuple) -> tuple:
        stride = _tuple(attrs["stride"], d, name, "stride")
        pads = _tuple(attrs["padding"], d, name, "padding")
        extra = _tuple(attrs["output_padding"], d, name, "output_padding")
        dilation = _tuple(attrs["dilation"], d, name, "dilation")
        if any(e >= max(s, dil) for e, s, dil in zip(extra, stride, dilation)):
            raise InvalidArgumentRuntimeError(f"{name}(): output padding must be smaller than either stride or dilation, "
                                f"got output_padding={list(extra)}, stride={list(stride)}, dilation={list(dilation)}")
        size = tuple((x_shape[-d + i] - 1) * stride[i] - 2 * pads[i] + dilation[i] * (w_shape[2 + i] - 1)
                     + extra[i] + 1 for i in range(d))
        if any(s <= 0 for s in size):
            raise ShapeError(f"{name}(): the output size {list(size)} is too small for input {list(x_shape)}")
        return dict(stride=stride, padding=pads + pads, dilation=dilation, groups=attrs["groups"]), size

    def forward(arrays: list, attrs: dict):
        x, w, b = arrays
        if w.ndim != d + 2 or x.ndim not in (d + 1, d + 2):
            raise ShapeError(f"{name}(): expected a {d + 2}-D weight and a {d + 1}- or {d + 2}-D input, got "
                             f"weight {list(w.shape)} and input {list(x.shape)}")
        unbatched = x.ndim == d + 1
        batched = x[None] if unbatched else x
        groups = attrs["groups"]
        if batched.shape[1] != w.shape[0] or w.shape[0] % groups:
            raise ShapeError(f"{name}(): given transposed weight {list(w.shape)} and groups={groups}, expected "
                             f"input {list(x.shape)} to have {w.shape[0]} channels")
        sizes, spatial = geometry(attrs, batched.shape, w.shape)
        out = core.input_grad(compute(batched), compute(w), spatial, sizes["stride"], sizes["padding"],
                              sizes["dilation"], groups)
        _check_bias(name, b, w.shape[1] * groups)
        if b is not None:
            out = out + compute(b).reshape((-1,) + (1,) * d)
        return out[0] if unbatched else out

    def grad_input(F, g, c):
        unbatched = _unbatched(c.input_shapes[0], d)
        sizes, _ = geometry(c.attrs, c.input_shapes[0], c.input_shapes[1])
        return _without_batch(F, F.convolution_nd(_with_batch(F, g, unbatched), c.inputs[1], **sizes), unbatched)

    def grad_weight(F, g, c):
        unbatched = _unbatched(c.input_shapes[0], d)
        sizes, _ = geometry(c.attrs, c.input_shapes[0], c.input_shapes[1])
        return F.convolution_weight_grad(_with_batch(F, g, unbatched), _with_batch(F, c.inputs[0], unbatched),
                                         weight_size=c.input_shapes[1], **sizes)

    def out_shape(shapes: list, attrs: dict) -> tuple:
        x, w = shapes[0], shapes[1]
        if len(w) != d + 2 or len(x) not in (d + 1, d + 2):
            return ()
        _, spatial = geometry(attrs, x, w)
        return tuple(x[:-d - 1]) + (w[1] * attrs["groups"],) + spatial

    register(OpDef(
        name=name, forward=forward, vjps=(grad_input, grad_weight, _bias_grad), grad_fn=_conv_name(d),
        dtype_rule=same_float(name), saves_inputs=(0, 1), min_inputs=2, max_inputs=3,
        attrs=(optional("bias"), AttrSpec("stride", "integer|ints", default=1),
               AttrSpec("padding", "integer|ints", default=0), AttrSpec("output_padding", "integer|ints", default=0),
               AttrSpec("groups", "integer", default=1), AttrSpec("dilation", "integer|ints", default=1)),
        functions=(name, f"nn.functional.{name}"), out_shape=out_shape,
        summary=f"{d}-D transposed convolution (the gradient of conv{d}d w.r.t. its input) with optional bias",
    ))


for _d in (1, 2, 3):
    conv(_d)
    conv_transpose(_d)
