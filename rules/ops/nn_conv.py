"""Rules of conv1d/2d/3d, conv_transpose1d/2d/3d and the internal ops their gradients are made of
(convolution_nd, convolution_input_grad, convolution_weight_grad): torch's checks of ranks, channels,
groups, stride/padding/dilation and kernel against padded input, and the output sizes.

Layout: x (N, C, *S), w (O, C/G, *K) (transposed: (C, O/G, *K)); an input without N is a batch of one.
The internal ops take every size explicitly: padding is (low..., high...) per spatial dim.
"""

from __future__ import annotations

from gradwire.rules.errors import InvalidArgumentRuntimeError, ShapeError
from gradwire.rules.spec import AttrSpec, OpRules, define

from .nn_common import batched_input, optional, same_float, window_out_size

INTERNAL = (AttrSpec("stride", "ints", required=True), AttrSpec("padding", "ints", required=True),
            AttrSpec("dilation", "ints", required=True), AttrSpec("groups", "integer", default=1))


def per_dim(value, d: int, name: str, what: str) -> tuple:
    values = (value,) * d if isinstance(value, int) else tuple(value)
    if len(values) == 1 and d > 1:
        values = values * d
    if len(values) != d:
        raise InvalidArgumentRuntimeError(
            f"{name}(): expected {what} to be a single integer value or a list of {d} values to match the "
            f"convolution dimensions, but got {what}={list(values)}")
    return values


def check_groups(name: str, groups: int) -> None:
    if groups <= 0:
        raise InvalidArgumentRuntimeError(f"{name}(): non-positive groups is not supported (got {groups})")


def check_channels(name: str, x: tuple, w: tuple, groups: int) -> None:
    """x batched (N, C, *S) against w (O, C/G, *K), as torch checks a convolution's operands."""
    d = len(w) - 2
    if len(x) != d + 2:
        raise ShapeError(f"{name}(): expected a {d + 2}-D input (batch, channels, {d} spatial dims) for a "
                         f"{d + 2}-D weight, got input of shape {list(x)}")
    check_groups(name, groups)
    if w[0] < groups:
        raise ShapeError(f"{name}(): Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
                         f"but got weight of size {list(w)} instead")
    if w[0] % groups:
        raise ShapeError(f"{name}(): Given groups={groups}, expected weight to be divisible by {groups} at "
                         f"dimension 0, but got weight of size {list(w)} instead")
    if x[1] != w[1] * groups:
        raise ShapeError(f"{name}(): Given groups={groups}, weight of size {list(w)}, expected input{list(x)} to "
                         f"have {w[1] * groups} channels, but got {x[1]} channels instead")


def conv_spatial(name: str, x: tuple, w: tuple, stride, padding, dilation) -> tuple:
    """The output's spatial sizes; torch's error when the dilated kernel is larger than the padded input."""
    d = len(w) - 2
    sizes = []
    for i in range(d):
        padded = x[2 + i] + padding[i] + padding[d + i]
        if padded < dilation[i] * (w[2 + i] - 1) + 1:
            shown = " x ".join(str(x[2 + j] + padding[j] + padding[d + j]) for j in range(d))
            kernel = " x ".join(str(dilation[j] * (w[2 + j] - 1) + 1) for j in range(d))
            raise ShapeError(f"{name}(): Calculated padded input size per channel: ({shown}). Kernel size: "
                             f"({kernel}). Kernel size can't be greater than actual input size (the input is too small)")
        sizes.append(window_out_size(x[2 + i], w[2 + i], stride[i], padding[i], padding[d + i], dilation[i]))
    return tuple(sizes)


def check_geometry(name: str, stride, dilation) -> None:
    if any(s <= 0 for s in stride):
        raise InvalidArgumentRuntimeError(f"{name}(): non-positive stride is not supported (got {list(stride)})")
    if any(s <= 0 for s in dilation):
        raise InvalidArgumentRuntimeError(f"{name}(): non-positive dilation is not supported (got {list(dilation)})")


def conv_geometry(name: str, d: int, attrs: dict, kernel: tuple) -> tuple:
    """(stride, padding low+high, dilation) from torch's arguments (padding may be 'same' / 'valid')."""
    stride = per_dim(attrs["stride"], d, name, "stride")
    dilation = per_dim(attrs["dilation"], d, name, "dilation")
    check_geometry(name, stride, dilation)
    check_groups(name, attrs["groups"])
    padding = attrs["padding"]
    if isinstance(padding, str):
        if padding == "valid":
            return stride, (0,) * 2 * d, dilation
        if padding != "same":
            raise InvalidArgumentRuntimeError(f"{name}(): Invalid padding string: '{padding}'; use 'same', "
                                              "'valid' or integers")
        if any(s != 1 for s in stride):
            raise InvalidArgumentRuntimeError(f"{name}(): padding='same' is not supported for strided convolutions")
        total = [dil * (k - 1) for dil, k in zip(dilation, kernel)]
        return stride, tuple(t // 2 for t in total) + tuple(t - t // 2 for t in total), dilation
    pads = per_dim(padding, d, name, "padding")
    if any(p < 0 for p in pads):
        raise InvalidArgumentRuntimeError(f"{name}(): negative padding is not supported (got {list(pads)})")
    return stride, pads + pads, dilation


def check_bias(name: str, bias: tuple, channels: int, weight: tuple, transposed: bool = False) -> None:
    if bias and (len(bias) != 1 or bias[0] != channels):
        what = "transposed=1" if transposed else ""
        raise ShapeError(f"{name}(): Given {what + ', ' if what else ''}weight of size {list(weight)}, expected bias "
                         f"to be 1-dimensional with {channels} elements, but got bias of size {list(bias)} instead")


def _internal_shape(shapes: list, attrs: dict) -> tuple:
    x, w = tuple(shapes[0]), tuple(shapes[1])
    check_channels("convolution", x, w, attrs["groups"])
    check_geometry("convolution", attrs["stride"], attrs["dilation"])
    return (x[0], w[0]) + conv_spatial("convolution", x, w, attrs["stride"], attrs["padding"], attrs["dilation"])


define(OpRules(
    name="convolution_nd", grad_fn="ConvolutionBackward0", dtype_rule=same_float("convolution"), min_inputs=2,
    max_inputs=2, attrs=INTERNAL, out_shape=_internal_shape,
    summary="internal: N-d convolution with explicit low/high padding (conv1d/2d/3d and gradients use it)",
    internal=True,
))
define(OpRules(
    name="convolution_input_grad", grad_fn="ConvolutionBackwardBackward0", dtype_rule=same_float("convolution"),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("input_size", "ints", required=True),) + INTERNAL,
    out_shape=lambda shapes, a: (shapes[0][0], shapes[1][1] * a["groups"]) + tuple(a["input_size"]),
    summary="internal: the input gradient of convolution_nd (also conv_transpose's forward)",
    internal=True,
))
define(OpRules(
    name="convolution_weight_grad", grad_fn="ConvolutionBackwardBackward0", dtype_rule=same_float("convolution"),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("weight_size", "ints", required=True),) + INTERNAL,
    out_shape=lambda shapes, a: tuple(a["weight_size"]),
    summary="internal: the weight gradient of convolution_nd",
    internal=True,
))


def unbatched(x: tuple, d: int) -> bool:
    return len(x) == d + 1


def _conv_name(d: int):
    """torch runs an unbatched input as a batch of one and squeezes the result."""
    return lambda call: "SqueezeBackward1" if unbatched(call.input_shapes[0], d) else "ConvolutionBackward0"


def _operands(shapes: list) -> tuple:
    return tuple(shapes[0]), tuple(shapes[1]), tuple(shapes[2]) if len(shapes) > 2 else ()


def _check_weight_rank(name: str, d: int, w: tuple, attrs: dict) -> None:
    if len(w) != d + 2:  # torch notices it as the stride not matching the weight's spatial dims
        per_dim(attrs["stride"] if not isinstance(attrs["stride"], int) else (attrs["stride"],) * d,
                max(len(w) - 2, 0), name, "stride")
        raise ShapeError(f"{name}(): expected a {d + 2}-D weight (out, in/groups, kernel...), got {list(w)}")


def conv_shape(d: int):
    name = f"conv{d}d"

    def out_shape(shapes: list, attrs: dict) -> tuple:
        x, w, b = _operands(shapes)
        _check_weight_rank(name, d, w, attrs)
        single = batched_input(name, x, d)
        batched = (1,) + x if single else x
        stride, padding, dilation = conv_geometry(name, d, attrs, w[2:])
        check_channels(name, batched, w, attrs["groups"])
        if 0 in batched[2:]:
            raise ShapeError(f"{name}(): Only zero batch or zero channel inputs are supported, but got input shape: "
                             f"{list(batched)}")
        check_bias(name, b, w[0], w)
        shape = (batched[0], w[0]) + conv_spatial(name, batched, w, stride, padding, dilation)
        return shape[1:] if single else shape

    return out_shape


def conv(d: int) -> None:
    name = f"conv{d}d"
    define(OpRules(
        name=name, grad_fn=_conv_name(d), dtype_rule=same_float(name), min_inputs=2, max_inputs=3,
        attrs=(optional("bias"), AttrSpec("stride", "integer|ints", default=1),
               AttrSpec("padding", "integer|ints|text", default=0), AttrSpec("dilation", "integer|ints", default=1),
               AttrSpec("groups", "integer", default=1)),
        functions=(name, f"nn.functional.{name}"), out_shape=conv_shape(d),
        summary=f"{d}-D convolution (cross-correlation) with optional bias; stride, padding (also 'same'/"
                "'valid'), dilation, groups",
    ))


def transpose_geometry(name: str, d: int, attrs: dict, x: tuple, w: tuple) -> tuple:
    """({stride, padding low+high, dilation, groups}, output spatial sizes) of a transposed convolution."""
    stride = per_dim(attrs["stride"], d, name, "stride")
    pads = per_dim(attrs["padding"], d, name, "padding")
    extra = per_dim(attrs["output_padding"], d, name, "output_padding")
    dilation = per_dim(attrs["dilation"], d, name, "dilation")
    check_geometry(name, stride, dilation)
    check_groups(name, attrs["groups"])
    if any(p < 0 for p in pads):
        raise InvalidArgumentRuntimeError(f"{name}(): negative padding is not supported (got {list(pads)})")
    if any(e < 0 for e in extra):
        raise InvalidArgumentRuntimeError(f"{name}(): negative output_padding is not supported (got {list(extra)})")
    if any(e >= max(s, dil) for e, s, dil in zip(extra, stride, dilation)):
        raise InvalidArgumentRuntimeError(f"{name}(): output padding must be smaller than either stride or dilation, "
                                          f"but got output_padding={list(extra)}, stride={list(stride)}, "
                                          f"dilation={list(dilation)}")
    size = tuple((x[-d + i] - 1) * stride[i] - 2 * pads[i] + dilation[i] * (w[2 + i] - 1) + extra[i] + 1
                 for i in range(d))
    if any(s <= 0 for s in size):
        raise ShapeError(f"{name}(): the output size {list(size)} is too small for input {list(x)}")
    return dict(stride=stride, padding=pads + pads, dilation=dilation, groups=attrs["groups"]), size


def conv_transpose_shape(d: int):
    name = f"conv_transpose{d}d"

    def out_shape(shapes: list, attrs: dict) -> tuple:
        x, w, b = _operands(shapes)
        _check_weight_rank(name, d, w, attrs)
        single = batched_input(name, x, d)
        batched = (1,) + x if single else x
        groups = attrs["groups"]
        check_groups(name, groups)
        if w[0] % groups:
            raise ShapeError(f"{name}(): Given groups={groups}, expected weight to be divisible by {groups} at "
                             f"dimension 0, but got weight of size {list(w)} instead")
        if batched[1] != w[0]:
            raise ShapeError(f"{name}(): Given transposed=1, weight of size {list(w)}, expected input{list(batched)} "
                             f"to have {w[0]} channels, but got {batched[1]} channels instead")
        if 0 in batched[2:]:
            raise ShapeError(f"{name}(): Only zero batch or zero channel inputs are supported, but got input shape: "
                             f"{list(batched)}")
        _, spatial = transpose_geometry(name, d, attrs, batched, w)
        check_bias(name, b, w[1] * groups, w, transposed=True)
        return x[:-d - 1] + (w[1] * groups,) + spatial

    return out_shape


def conv_transpose(d: int) -> None:
    name = f"conv_transpose{d}d"
    define(OpRules(
        name=name, grad_fn=_conv_name(d), dtype_rule=same_float(name), min_inputs=2, max_inputs=3,
        attrs=(optional("bias"), AttrSpec("stride", "integer|ints", default=1),
               AttrSpec("padding", "integer|ints", default=0), AttrSpec("output_padding", "integer|ints", default=0),
               AttrSpec("groups", "integer", default=1), AttrSpec("dilation", "integer|ints", default=1)),
        functions=(name, f"nn.functional.{name}"), out_shape=conv_transpose_shape(d),
        summary=f"{d}-D transposed convolution (the gradient of conv{d}d w.r.t. its input) with optional bias",
    ))


for _d in (1, 2, 3):
    conv(_d)
    conv_transpose(_d)
