"""Rules of torch.nn.functional.pad: constant, reflect, replicate and circular padding of the last dims."""

from __future__ import annotations

from .. import promotion
from ..checks import tensors_only
from ..errors import ArgumentError, InvalidArgumentRuntimeError, ShapeError
from ..spec import AttrSpec, OpRules, define

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad_widths(shape: tuple, pad: tuple) -> list[tuple[int, int]]:
    """(before, after) per dim: torch's pad lists (left, right) pairs starting from the last dim."""
    if len(pad) % 2:
        raise ShapeError(f"pad: Padding length must be divisible by 2, got {len(pad)}")
    if len(pad) // 2 > len(shape):
        raise ShapeError(f"pad: Padding length should be less than or equal to two times the input dimension "
                         f"but got padding length {len(pad)} and input of dimension {len(shape)}")
    widths = [(0, 0)] * len(shape)
    for k in range(len(pad) // 2):
        widths[len(shape) - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return widths


def checked_widths(shape: tuple, attrs: dict) -> list[tuple[int, int]]:
    """The pad widths after torch's checks of the mode, the value and the sizes each mode allows."""
    mode = attrs["mode"]
    if mode not in PAD_MODES:
        raise InvalidArgumentRuntimeError(f"pad: Unrecognised padding mode {mode!r}; use constant, reflect, "
                                          "replicate or circular")
    if mode != "constant" and attrs["value"] not in (None, 0, 0.0):
        raise InvalidArgumentRuntimeError(f"pad: Padding mode \"{mode}\" doesn't take in value argument")
    if mode != "constant" and any(p < 0 for p in attrs["pad"]):
        raise ArgumentError("pad: negative padding is supported in constant mode only")
    widths = pad_widths(tuple(shape), attrs["pad"])
    for d, (n, (before, after)) in enumerate(zip(shape, widths)):
        if mode == "reflect" and (before, after) != (0, 0) and (before >= n or after >= n):
            raise ShapeError(f"pad: Padding size should be less than the corresponding input dimension, but got: "
                             f"padding ({before}, {after}) at dimension {d} of input {list(shape)}")
        if mode == "circular" and (before > n or after > n):
            raise ShapeError("pad: Padding value causes wrapping around more than once.")
        if n + before + after < 0:
            raise ShapeError(f"pad: the padding ({before}, {after}) at dimension {d} removes more than its {n} "
                             "elements (narrow(): length must be non-negative)")
    return widths


def _pad_name(call) -> str:
    mode = call.attrs["mode"]
    if mode == "constant":
        return "ConstantPadNdBackward0"
    if mode == "circular":
        return "torch::autograd::CopySlices"
    return f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{len(call.attrs['pad']) // 2}DBackward0"


def _pad_shape(shapes: list, attrs: dict) -> tuple:
    widths = checked_widths(tuple(shapes[0]), attrs)
    return tuple(n + b + a for n, (b, a) in zip(shapes[0], widths))


define(OpRules(
    name="pad", grad_fn=_pad_name, dtype_rule=tensors_only("pad", promotion.same),
    attrs=(AttrSpec("pad", "ints", required=True, description="(left, right) amounts per dim, from the last dim"),
           AttrSpec("mode", "text", default="constant", description="constant, reflect, replicate or circular"),
           AttrSpec("value", "real", description="the fill value of constant padding (0 when omitted)")),
    functions=("nn.functional.pad",), out_shape=_pad_shape,
    summary="pad the last dims: constant, reflect, replicate or circular",
))
