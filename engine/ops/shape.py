"""Shape ops: reshape/view, transpose, permute, squeeze, unsqueeze, expand, cat, stack (how they compute;
their rules, shape checks included, are in gradwire.rules: rules/ops/shape.py).

Views (reshape, transpose, permute, squeeze, unsqueeze, expand) share memory with their input where
numpy can, and then share its version counter too, as torch's views do.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import ShapeError
from gradwire.rules.ops.shape import cat_kept, dim_of, expanded, permutation, reshaped
from gradwire.rules.shapes import normalise_dims

from ..registry import implement


def _reshape_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return np.reshape(x, reshaped(x.shape, attrs["shape"]))


def _view_forward(arrays: list, attrs: dict):
    """Like reshape, but never copies: torch refuses a view whose strides would need one."""
    x = _reshape_forward(arrays, attrs)
    if not np.may_share_memory(x, arrays[0]) and x.size:
        raise ShapeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead."
        )
    return x


def _transpose_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        return x
    return np.swapaxes(x, dim_of(attrs["dim0"], x.ndim), dim_of(attrs["dim1"], x.ndim))


def _permute_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return np.transpose(x, permutation(tuple(attrs["dims"]), x.ndim))


def _permute_vjp(F, g, c):
    dims = permutation(tuple(c.attrs["dims"]), len(c.input_shapes[0]))
    return F.permute(g, dims=tuple(int(i) for i in np.argsort(dims)))


def _squeeze_forward(arrays: list, attrs: dict):
    x = arrays[0]
    dim = attrs["dim"]
    if dim is None:
        return np.squeeze(x)
    axes = tuple(d for d in normalise_dims(dim, x.ndim) if x.ndim and x.shape[d] == 1)  # torch keeps others
    return np.squeeze(x, axis=axes) if axes else x.view()


def _unsqueeze_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return np.expand_dims(x, attrs["dim"] % (x.ndim + 1))


def _expand_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return np.broadcast_to(x, expanded(x.shape, attrs["shape"]))


def _cat_forward(arrays: list, attrs: dict):
    kept = [arrays[position] for position in cat_kept([a.shape for a in arrays])]
    return np.concatenate(kept, axis=dim_of(attrs["dim"], kept[0].ndim))


def _cat_vjp(F, g, c, position):
    kept = cat_kept(c.input_shapes)
    if position not in kept:  # a skipped 1-D empty tensor
        return F.zeros(c.input_shapes[position], like=g)
    dim = dim_of(c.attrs["dim"], len(c.input_shapes[kept[0]]))
    start = sum(c.input_shapes[k][dim] for k in kept if k < position)
    stop = start + c.input_shapes[position][dim]
    return F.getitem(g, index=(slice(None),) * dim + (slice(start, stop),))


def _stack_forward(arrays: list, attrs: dict):
    return np.stack(arrays, axis=dim_of(attrs["dim"], arrays[0].ndim + 1))


def _stack_vjp(F, g, c, position):
    dim = dim_of(c.attrs["dim"], len(c.input_shapes[0]) + 1)
    return F.getitem(g, index=(slice(None),) * dim + (position,))


def _reshape_back(F, g, c):
    return F.reshape(g, shape=c.input_shapes[0])


implement("reshape", _reshape_forward, vjps=(_reshape_back,))
implement("view", _view_forward, vjps=(_reshape_back,))
implement("transpose", _transpose_forward,
          vjps=(lambda F, g, c: F.transpose(g, dim0=c.attrs["dim0"], dim1=c.attrs["dim1"]),))
implement("t", lambda arrays, attrs: arrays[0].T, vjps=(lambda F, g, c: F.t(g),))
implement("permute", _permute_forward, vjps=(_permute_vjp,))
implement("squeeze", _squeeze_forward, vjps=(_reshape_back,))
implement("unsqueeze", _unsqueeze_forward, vjps=(_reshape_back,))
# expand's VJP is the identity: the engine's broadcast reduction sums the gradient back to the input.
implement("expand", _expand_forward, vjps=(lambda F, g, c: g,), extra={"broadcast_view": True})
implement("cat", _cat_forward, variadic_vjp=_cat_vjp)
implement("stack", _stack_forward, variadic_vjp=_stack_vjp)
