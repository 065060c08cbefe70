"""torch.nn.functional.pad: constant, reflect, replicate and circular padding of the last dims (how it
computes; its rules are in gradwire.rules: rules/ops/padding.py).

The non-constant modes are a gather: every output position reads one input position (numpy's
reflect, edge and wrap index rules), so the VJP is an index_backward that accumulates each output's
gradient into the position it read. Constant padding's VJP is a slice of the gradient.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.padding import checked_widths, pad_widths

from ..registry import implement

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _sources(shape: tuple, widths: list, mode: str) -> tuple:
    """For each padded dim, the input index each output position reads (an open mesh, as np.ix_)."""
    index = []
    padded_dims = [d for d, w in enumerate(widths) if w != (0, 0)]
    first = padded_dims[0] if padded_dims else len(shape)
    for d in range(first, len(shape)):
        before, after = widths[d]
        n = shape[d]
        positions = np.pad(np.arange(n), (before, after), mode=_NUMPY_MODE[mode])
        index.append(positions.reshape((-1,) + (1,) * (len(shape) - d - 1)))
    return (slice(None),) * first + tuple(index)


def _pad_forward(arrays: list, attrs: dict):
    x = arrays[0]
    widths = checked_widths(x.shape, attrs)
    if attrs["mode"] != "constant":
        return x[_sources(x.shape, widths, attrs["mode"])]
    grow = [(max(b, 0), max(a, 0)) for b, a in widths]
    shrink = tuple(slice(-min(b, 0), n + min(a, 0)) for n, (b, a) in zip(x.shape, widths))
    value = attrs["value"] or 0
    return np.pad(x[shrink], grow, mode="constant", constant_values=np.asarray(value).astype(x.dtype))


def _pad_vjp(F, g, c):
    shape = c.input_shapes[0]
    widths = pad_widths(shape, c.attrs["pad"])
    if c.attrs["mode"] != "constant":
        return F.index_backward(g, shape=shape, index=_sources(shape, widths, c.attrs["mode"]))
    grow = [(max(b, 0), max(a, 0)) for b, a in widths]
    inner = tuple(slice(b, F.shape(g)[d] - a) for d, (b, a) in enumerate(grow))
    kept = F.getitem(g, index=inner)
    if tuple(F.shape(kept)) == tuple(shape):
        return kept
    shrink = tuple(slice(-min(b, 0), n + min(a, 0)) for n, (b, a) in zip(shape, widths))
    return F.index_backward(kept, shape=shape, index=shrink)


implement("pad", _pad_forward, vjps=(_pad_vjp,))
