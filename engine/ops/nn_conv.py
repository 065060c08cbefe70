"""conv1d/2d/3d and conv_transpose1d/2d/3d (torch.nn.functional and torch.*), on the numpy core in
nn_conv_core.py, plus the three internal ops their gradients are made of (so that gradients of
gradients work): convolution_nd, convolution_input_grad and convolution_weight_grad.
Their rules (shapes, geometry checks) are gradwire.rules.ops.nn_conv."""

from __future__ import annotations

from gradwire.rules.ops.nn_conv import conv_geometry, transpose_geometry, unbatched

from ..registry import implement
from . import nn_conv_core as core
from .nn_common import compute


def _geometry(attrs: dict) -> tuple:
    return attrs["stride"], attrs["padding"], attrs["dilation"], attrs["groups"]


def _internal(c, **sizes) -> dict:
    return dict(stride=c.attrs["stride"], padding=c.attrs["padding"], dilation=c.attrs["dilation"],
                groups=c.attrs["groups"], **sizes)


implement(
    "convolution_nd",
    lambda arrays, a: core.convolution(compute(arrays[0]), compute(arrays[1]), *_geometry(a)),
    vjps=(lambda F, g, c: F.convolution_input_grad(g, c.inputs[1], **_internal(c, input_size=c.input_shapes[0][2:])),
          lambda F, g, c: F.convolution_weight_grad(c.inputs[0], g, **_internal(c, weight_size=c.input_shapes[1]))),
    saves_inputs=(0, 1),
)
implement(
    "convolution_input_grad",
    lambda arrays, a: core.input_grad(compute(arrays[0]), compute(arrays[1]), a["input_size"], *_geometry(a)),
    vjps=(lambda F, g, c: F.convolution_nd(g, c.inputs[1], **_internal(c)),
          lambda F, g, c: F.convolution_weight_grad(g, c.inputs[0], **_internal(c, weight_size=c.input_shapes[1]))),
    saves_inputs=(0, 1),
)
implement(
    "convolution_weight_grad",
    lambda arrays, a: core.weight_grad(compute(arrays[0]), compute(arrays[1]), a["weight_size"], *_geometry(a)),
    vjps=(lambda F, g, c: F.convolution_input_grad(c.inputs[1], g, **_internal(c, input_size=c.input_shapes[0][2:])),
          lambda F, g, c: F.convolution_nd(c.inputs[0], g, **_internal(c))),
    saves_inputs=(0, 1),
)


def _with_batch(F, value, single: bool):
    return F.unsqueeze(value, dim=0) if single else value


def _without_batch(F, value, single: bool):
    return F.squeeze(value, dim=0) if single else value


def _bias_grad(F, g, c):
    d = len(c.input_shapes[1]) - 2
    dims = (0,) + tuple(range(2, 2 + d)) if not unbatched(c.input_shapes[0], d) else tuple(range(1, 1 + d))
    return F.sum(g, dim=dims)


def conv(d: int) -> None:
    name = f"conv{d}d"

    def forward(arrays: list, attrs: dict):
        x, w, b = arrays
        stride, padding, dilation = conv_geometry(name, d, attrs, w.shape[2:])
        single = x.ndim == d + 1
        out = core.convolution(compute(x[None] if single else x), compute(w), stride, padding, dilation,
                               attrs["groups"])
        if b is not None:
            out = out + compute(b).reshape((-1,) + (1,) * d)
        return out[0] if single else out

    def geometry(c) -> dict:
        stride, padding, dilation = conv_geometry(name, d, c.attrs, c.input_shapes[1][2:])
        return dict(stride=stride, padding=padding, dilation=dilation, groups=c.attrs["groups"])

    def grad_input(F, g, c):
        single = unbatched(c.input_shapes[0], d)
        spatial = c.input_shapes[0][-d:]
        grad = F.convolution_input_grad(_with_batch(F, g, single), c.inputs[1], input_size=spatial, **geometry(c))
        return _without_batch(F, grad, single)

    def grad_weight(F, g, c):
        single = unbatched(c.input_shapes[0], d)
        return F.convolution_weight_grad(_with_batch(F, c.inputs[0], single), _with_batch(F, g, single),
                                         weight_size=c.input_shapes[1], **geometry(c))

    implement(name, forward, vjps=(grad_input, grad_weight, _bias_grad), saves_inputs=(0, 1))


def conv_transpose(d: int) -> None:
    name = f"conv_transpose{d}d"

    def sizes_of(attrs: dict, x_shape: tuple, w_shape: tuple) -> tuple:
        return transpose_geometry(name, d, attrs, x_shape, w_shape)

    def forward(arrays: list, attrs: dict):
        x, w, b = arrays
        single = x.ndim == d + 1
        batched = x[None] if single else x
        sizes, spatial = sizes_of(attrs, batched.shape, w.shape)
        out = core.input_grad(compute(batched), compute(w), spatial, sizes["stride"], sizes["padding"],
                              sizes["dilation"], sizes["groups"])
        if b is not None:
            out = out + compute(b).reshape((-1,) + (1,) * d)
        return out[0] if single else out

    def grad_input(F, g, c):
        single = unbatched(c.input_shapes[0], d)
        sizes, _ = sizes_of(c.attrs, c.input_shapes[0], c.input_shapes[1])
        return _without_batch(F, F.convolution_nd(_with_batch(F, g, single), c.inputs[1], **sizes), single)

    def grad_weight(F, g, c):
        single = unbatched(c.input_shapes[0], d)
        sizes, _ = sizes_of(c.attrs, c.input_shapes[0], c.input_shapes[1])
        return F.convolution_weight_grad(_with_batch(F, g, single), _with_batch(F, c.inputs[0], single),
                                         weight_size=c.input_shapes[1], **sizes)

    implement(name, forward, vjps=(grad_input, grad_weight, _bias_grad), saves_inputs=(0, 1))


for _d in (1, 2, 3):
    conv(_d)
    conv_transpose(_d)
