"""torch.nn.functional.pad: constant, reflect, replicate and circular padding of the last dims.

The non-constant modes are a gather: every output position reads one input position (numpy's
reflect, edge and wrap index rules), so the VJP is an index_backward that accumulates each output's
gradient into the position it read. Constant padding's VJP is a slice of the gradient.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError, InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .checks import tensors_only

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _widths(shape: tuple, pad: tuple) -> list[tuple[int, int]]:
    """numpy pad widths per dim: torch's pad lists (left, right) pairs starting from the last dim."""
    if len(pad) % 2:
        raise ShapeError(f"pad: Padding length must be divisible by 2, got {len(pad)}")
    if len(pad) // 2 > len(shape):
        raise ShapeError(f"pad: Padding length should be less than or equal to two times the input dimension "
                            f"but got padding length {len(pad)} and input of dimension {len(shape)}")
    widths = [(0, 0)] * len(shape)
    for k in range(len(pad) // 2):
        widths[len(shape) - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return widths


def _sources(shape: tuple, widths: list, mode: str) -> tuple:
    """For each padded dim, the input index each output position reads (an open mesh, as np.ix_)."""
    index = []
    padded_dims = [d for d, w in enumerate(widths) if w != (0, 0)]
    first = padded_dims[0] if padded_dims else len(shape)
    for d in range(first, len(shape)):
        before, after = widths[d]
        n = shape[d]
        if mode == "reflect" and (before >= n or after >= n):
            raise ShapeError(f"pad: Padding size should be less than the corresponding input dimension, but got: "
                             f"padding ({before}, {after}) at dimension {d} of input {list(shape)}")
        if mode == "circular" and (before > n or after > n):
            raise ShapeError("pad: Padding value causes wrapping around more than once.")
        positions = np.pad(np.arange(n), (before, after), mode=_NUMPY_MODE[mode])
        index.append(positions.reshape((-1,) + (1,) * (len(shape) - d - 1)))
    return (slice(None),) * first + tuple(index)


def _check(x_shape: tuple, attrs: dict) -> list:
    mode = attrs["mode"]
    if mode not in ("constant", *_NUMPY_MODE):
        raise InvalidArgumentRuntimeError(f"pad: Unrecognised padding mode {mode!r}; use constant, reflect, replicate or circular")
    if mode != "constant" and attrs["value"] not in (None, 0, 0.0):
        raise InvalidArgumentRuntimeError(f"pad: Padding mode \"{mode}\" doesn't take in value argument")
    if mode != "constant" and any(p < 0 for p in attrs["pad"]):
        raise ArgumentError("pad: negative padding is supported in constant mode only")
    return _widths(x_shape, attrs["pad"])


def _pad_forward(arrays: list, attrs: dict):
    x = arrays[0]
    widths = _check(x.shape, attrs)
    if attrs["mode"] != "constant":
        return x[_sources(x.shape, widths, attrs["mode"])]
    grow = [(max(b, 0), max(a, 0)) for b, a in widths]
    shrink = tuple(slice(-min(b, 0), n + min(a, 0)) for n, (b, a) in zip(x.shape, widths))
    value = attrs["value"] or 0
    return np.pad(x[shrink], grow, mode="constant", constant_values=np.asarray(value).astype(x.dtype))


def _pad_vjp(F, g, c):
    shape = c.input_shapes[0]
    widths = _widths(shape, c.attrs["pad"])
    if c.attrs["mode"] != "constant":
        return F.index_backward(g, shape=shape, index=_sources(shape, widths, c.attrs["mode"]))
    grow = [(max(b, 0), max(a, 0)) for b, a in widths]
    inner = tuple(slice(b, F.shape(g)[d] - a) for d, (b, a) in enumerate(grow))
    kept = F.getitem(g, index=inner)
    if tuple(F.shape(kept)) == tuple(shape):
        return kept
    shrink = tuple(slice(-min(b, 0), n + min(a, 0)) for n, (b, a) in zip(shape, widths))
    return F.index_backward(kept, shape=shape, index=shrink)


def _pad_name(node) -> str:
    mode = node.attrs["mode"]
    if mode == "constant":
        return "ConstantPadNdBackward0"
    if mode == "circular":
        return "torch::autograd::CopySlices"
    return f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{len(node.attrs['pad']) // 2}DBackward0"


def _pad_shape(shapes: list, attrs: dict) -> tuple:
    widths = _widths(shapes[0], attrs["pad"])
    return tuple(max(n + b + a, 0) for n, (b, a) in zip(shapes[0], widths))


register(OpDef(
    name="pad", forward=_pad_forward, vjps=(_pad_vjp,), grad_fn=_pad_name,
    dtype_rule=tensors_only("pad", promotion.same),
    attrs=(AttrSpec("pad", "ints", required=True, description="(left, right) amounts per dim, from the last dim"),
           AttrSpec("mode", "text", default="constant", description="constant, reflect, replicate or circular"),
           AttrSpec("value", "real", description="the fill value of constant padding (0 when omitted)")),
    functions=("nn.functional.pad",), out_shape=_pad_shape,
    summary="pad the last dims: constant, reflect, replicate or circular",
))
