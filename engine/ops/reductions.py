"""Reductions: sum, mean, prod, var, max, min (full and along a dim), softmax and log_softmax.

How they compute; their rules (dims, shapes, dtypes, grad_fn names) are gradwire.rules.ops.reductions.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.shapes import normalise_dims
from gradwire.rules.ops.reductions import correction as _correction

from ..registry import implement


def axes_of(dim, ndim: int) -> tuple[int, ...] | None:
    """dim (None, an int or ints, negatives allowed) as sorted non-negative numpy axes; None = all.

    An empty tuple also means all dims, as torch's sum(dim=()) and mean(dim=[]) do.
    """
    if dim is None or dim == ():
        return None
    axes = tuple(sorted(normalise_dims(dim, ndim)))  # torch's errors for a dim out of range or repeated
    return axes if ndim else ()


def with_kept_dims(F, reduced, input_shape: tuple, dim, keepdim: bool):
    """A reduced value reshaped so its reduced dims are size 1 again (a no-op when keepdim was set)."""
    if keepdim:
        return reduced
    axes = axes_of(dim, len(input_shape))
    kept = tuple(1 if axes is None or i in axes else n for i, n in enumerate(input_shape))
    return F.reshape(reduced, shape=kept)


def expand_reduced(F, g, input_shape: tuple, dim, keepdim: bool):
    """Broadcast a reduced gradient back over the reduced dims (the VJP of any sum-like reduction)."""
    return F.expand(with_kept_dims(F, g, input_shape, dim, keepdim), shape=input_shape)


def _count(input_shape: tuple, dim) -> int:
    axes = axes_of(dim, len(input_shape))
    if axes is None:
        return math.prod(input_shape)
    return math.prod([input_shape[a] for a in axes]) if input_shape else 1


def _reduce(function):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        return function(x, axis=axes_of(attrs["dim"], x.ndim), keepdims=attrs["keepdim"])

    return forward


# numpy's mean over float32/float64 is add.reduce, then a true divide by the count as an intp (in float64,
# then cast back to float32 for float32): _mean_forward does those steps without np.mean's Python ones
# (float16, integer inputs and empty reductions, which warn, take np.mean itself).
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def _mean_forward(arrays: list, attrs: dict):
    x = arrays[0]
    axis = axes_of(attrs["dim"], x.ndim)
    keepdim = attrs["keepdim"]
    if x.dtype is not _FLOAT32 and x.dtype is not _FLOAT64:
        return np.mean(x, axis=axis, keepdims=keepdim)
    count = x.size if axis is None else math.prod([x.shape[a] for a in axis])
    if count == 0:
        return np.mean(x, axis=axis, keepdims=keepdim)
    total = np.add.reduce(x, axis, None, None, keepdim)
    if type(total) is np.ndarray:
        return np.true_divide(total, np.intp(count), out=total, casting="unsafe")
    # np.mean's `total.dtype.type(total / intp(count))` is a float64 division, then a cast: the same as
    # Python's float division (both operands convert to float64 exactly as numpy converts them)
    return total.dtype.type(float(total) / count)


def _sum_vjp(F, g, c):
    return expand_reduced(F, g, c.input_shapes[0], c.attrs["dim"], c.attrs["keepdim"])


def _mean_vjp(F, g, c):
    shape = c.input_shapes[0]
    if F.as_tensors or not shape or type(g) is not np.ndarray:
        return _sum_vjp(F, g, c) / _count(shape, c.attrs["dim"])
    # Arrays: divide the reduced gradient, then spread the quotients over the input's shape, which is
    # dividing the spread gradient element by element (the same bits) without broadcast_to's Python.
    dim, keepdim = c.attrs["dim"], c.attrs["keepdim"]
    quotient = (g if keepdim else g.reshape(_kept_shape(shape, dim))) / _count(shape, dim)
    spread = np.empty(shape, dtype=quotient.dtype)
    np.copyto(spread, quotient)
    return spread


def _kept_shape(input_shape: tuple, dim) -> tuple:
    axes = axes_of(dim, len(input_shape))
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(input_shape))


def _prod_vjp(F, g, c):
    x = c.inputs[0]
    out = with_kept_dims(F, c.output, c.input_shapes[0], c.attrs["dim"], c.attrs["keepdim"])
    grad = expand_reduced(F, g, c.input_shapes[0], c.attrs["dim"], c.attrs["keepdim"])
    if np.all(F.value(x)):
        return grad * (out / x)  # the product of the other elements, where no element is zero
    if F.as_tensors:
        return grad * _product_of_others_recorded(F, x, c.attrs["dim"])
    return grad * _product_of_others(x, c.attrs["dim"])


def _product_of_others_recorded(F, x, dim):
    """The product of the other elements, built from recorded ops so it can be differentiated again.

    Along the reduced axis of size n, x is expanded to n copies with the diagonal replaced by ones;
    the product over the copies leaves out exactly one element each (O(n^2), create_graph only).
    """
    shape = F.shape(x)
    if dim is None:
        flat = F.reshape(x, shape=(int(np.prod(shape, dtype=np.int64)),))
        return F.reshape(_product_of_others_recorded(F, flat, 0), shape=shape)
    if not shape:
        return F.constant(np.ones((), dtype=F.value(x).dtype))
    axis = axes_of(dim, len(shape))[0]
    n = shape[axis]
    copies = F.expand(F.unsqueeze(x, dim=axis), shape=shape[:axis] + (n,) + shape[axis:])
    diagonal = np.eye(n, dtype=bool).reshape((n, n) + (1,) * (len(shape) - axis - 1))
    return F.prod(F.where(F.constant(diagonal), 1.0, copies), dim=axis + 1)


def _product_of_others(x: np.ndarray, dim) -> np.ndarray:
    """For each element, the product of the other elements along the reduced axes (exact with zeros)."""
    axes = axes_of(dim, x.ndim)
    moved = x.reshape(-1) if axes is None else np.moveaxis(x, axes, range(len(axes))).reshape(
        (-1,) + tuple(n for i, n in enumerate(x.shape) if i not in axes))
    ones = np.ones_like(moved[:1])
    before = np.cumprod(np.concatenate([ones, moved[:-1]]), axis=0)
    after = np.cumprod(np.concatenate([ones, moved[::-1][:-1]]), axis=0)[::-1]
    others = before * after
    if axes is None:
        return others.reshape(x.shape)
    kept = [n for i, n in enumerate(x.shape) if i not in axes]
    return np.moveaxis(others.reshape([x.shape[a] for a in axes] + kept), range(len(axes)), axes)


def _var_forward(arrays: list, attrs: dict):
    x = arrays[0]
    with np.errstate(all="ignore"):  # fewer elements than the correction: inf/nan, as in torch
        return np.var(x, axis=axes_of(attrs["dim"], x.ndim), ddof=_correction(attrs), keepdims=attrs["keepdim"])


def _var_vjp(F, g, c):
    x = c.inputs[0]
    dim = c.attrs["dim"]
    mean = F.mean(x, dim=axes_of(dim, x.ndim), keepdim=True)
    degrees_of_freedom = _count(c.input_shapes[0], dim) - _correction(c.attrs)
    scale = 2.0 / degrees_of_freedom if degrees_of_freedom > 0 else math.inf  # nan gradients, as torch
    return expand_reduced(F, g, c.input_shapes[0], dim, c.attrs["keepdim"]) * (x - mean) * scale


def _extreme_full_vjp(F, g, c):
    """max()/min() over everything: ties share the gradient evenly, as in torch."""
    x = c.inputs[0]
    ties = x == c.output
    return F.where(ties, g / F.sum(ties), 0.0)


def _extreme_dim_forward(name: str, pick):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        dim = attrs["dim"]
        if x.ndim == 0:
            return x.copy(), np.zeros((), dtype=np.int64)
        axis = axes_of(dim, x.ndim)[0]
        indices = pick(x, axis=axis, keepdims=True)
        values = np.take_along_axis(x, indices, axis=axis)
        if not attrs["keepdim"]:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return values, indices.astype(np.int64)

    return forward


def _extreme_dim_vjp(F, g, c):
    """max(dim)/min(dim): the gradient goes to the index returned (torch's MaxBackward0)."""
    x = c.inputs[0]
    dim = c.attrs["dim"]
    if not c.input_shapes[0]:
        return g
    axis = axes_of(dim, x.ndim)[0]
    raw = F.value(x)
    pick = np.argmax if c.node.op.name == "max_dim" else np.argmin
    one_hot = np.zeros(raw.shape, dtype=bool)
    np.put_along_axis(one_hot, pick(raw, axis=axis, keepdims=True), True, axis=axis)
    return expand_reduced(F, g, c.input_shapes[0], (axis,), c.attrs["keepdim"]) * F.constant(one_hot)


def _softmax_axis(x: np.ndarray, dim: int) -> tuple[int, ...]:
    return axes_of(dim, x.ndim)  # validated like torch's dim (a 0-dim tensor takes 0 or -1)


def _softmax_forward(arrays: list, attrs: dict):
    x = arrays[0]
    axis = _softmax_axis(x, attrs["dim"])
    if x.size == 0:
        return x.copy()
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _log_softmax_forward(arrays: list, attrs: dict):
    x = arrays[0]
    axis = _softmax_axis(x, attrs["dim"])
    if x.size == 0:
        return x.copy()
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


implement("sum", _reduce(np.sum), vjps=(_sum_vjp,))
implement("mean", _mean_forward, vjps=(_mean_vjp,))
implement("prod", _reduce(np.prod), vjps=(_prod_vjp,), saves_inputs=(0,), saves_output=True)
implement("var", _var_forward, vjps=(_var_vjp,), saves_inputs=(0,))
for _name, _full, _pick in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
    implement(_name, lambda arrays, attrs, full=_full: full(arrays[0]), vjps=(_extreme_full_vjp,), saves_inputs=(0,), saves_output=True)
    implement(f"{_name}_dim", _extreme_dim_forward(_name, _pick), vjps=(_extreme_dim_vjp,), saves_inputs=(0,))
implement("softmax", _softmax_forward, saves_output=True,
          vjps=(lambda F, g, c: c.output * (g - F.sum(g * c.output, dim=c.attrs["dim"], keepdim=True)),))
implement("log_softmax", _log_softmax_forward, saves_output=True,
          vjps=(lambda F, g, c: g - F.exp(c.output) * F.sum(g, dim=c.attrs["dim"], keepdim=True),))
