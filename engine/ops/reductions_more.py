"""How more reductions and distances compute: nansum / nanmean, var_mean / std_mean, linalg.norm, dist,
cdist and diff (their rules: gradwire.rules.ops.reductions_more).

dist, cdist and diff are composites (one node each, torch's grad_fn name): their maths is written once
against F and differentiated by the engine's own autograd (nn_composite.py), so second derivatives work.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradwire.rules.ops.reductions_more import as_norm_attrs, is_matrix_norm, trapezoid_x_shape

from ..registry import implement
from .nn_composite import composite
from .reducing import _matrix_norm_forward, _matrix_norm_vjp, _std_forward, _std_vjp, _vector_norm_forward
from .reducing import _vector_norm_vjp
from .reductions import _mean_vjp, _var_forward, _var_vjp, axes_of, expand_reduced


# ---------------------------------------------------------------- nansum, nanmean
def _nan_forward(function):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-nan slice's mean is nan, silently as torch
            out = function(x, axis=axes_of(attrs["dim"], x.ndim), keepdims=attrs["keepdim"])
        return np.asarray(out, dtype=x.dtype if x.dtype.kind == "f" else np.int64)

    return forward


def _nansum_vjp(F, g, c):
    grad = expand_reduced(F, g, c.input_shapes[0], c.attrs["dim"], c.attrs["keepdim"])
    return grad * F.logical_not(F.isnan(c.inputs[0]))  # a product, as torch: a nan gradient stays nan


def _nanmean_vjp(F, g, c):
    x, dim = c.inputs[0], axes_of(c.attrs["dim"], len(c.input_shapes[0]))
    present = F.logical_not(F.isnan(x))
    count = F.sum(present, dim=dim, keepdim=True)
    grad = expand_reduced(F, g, c.input_shapes[0], c.attrs["dim"], c.attrs["keepdim"])
    return grad / count * present  # an all-nan slice (count 0) gives nan, as torch


implement("nansum", _nan_forward(np.nansum), vjps=(_nansum_vjp,), saves_inputs=(0,))
implement("nanmean", _nan_forward(np.nanmean), vjps=(_nanmean_vjp,), saves_inputs=(0,))


# ---------------------------------------------------------------- var_mean, std_mean (one node per output)
def _mean_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return np.mean(x, axis=axes_of(attrs["dim"], x.ndim), keepdims=attrs["keepdim"])


def _pair(first_forward, first_vjp):
    def forward(arrays: list, attrs: dict):
        with np.errstate(all="ignore"):
            return (first_forward if attrs["output"] == 0 else _mean_forward)(arrays, attrs)

    def vjp(F, g, c):
        return (first_vjp if c.attrs["output"] == 0 else _mean_vjp)(F, g, c)

    return forward, vjp


for _name, (_forward, _vjp) in (("var_mean", _pair(_var_forward, _var_vjp)), ("std_mean", _pair(_std_forward, _std_vjp))):
    implement(_name, _forward, vjps=(_vjp,), saves_inputs=(0,), saves_output=True)


# ---------------------------------------------------------------- linalg.norm
class _AsNorm:
    """A Ctx seen through linalg.vector_norm's or linalg.matrix_norm's attributes."""

    def __init__(self, c, attrs: dict) -> None:
        self.inputs, self.output, self.input_shapes, self.node = c.inputs, c.output, c.input_shapes, c.node
        self.attrs = attrs


def _linalg_norm_forward(arrays: list, attrs: dict):
    ndim = arrays[0].ndim
    norm_attrs = as_norm_attrs(attrs, ndim)
    if is_matrix_norm(attrs["ord"], attrs["dim"], ndim):
        return _matrix_norm_forward(arrays, norm_attrs)
    return _vector_norm_forward(arrays, norm_attrs)


def _linalg_norm_vjp(F, g, c):
    ndim = len(c.input_shapes[0])
    view = _AsNorm(c, as_norm_attrs(c.attrs, ndim))
    if is_matrix_norm(c.attrs["ord"], c.attrs["dim"], ndim):
        return _matrix_norm_vjp(F, g, view)
    return _vector_norm_vjp(F, g, view)


implement("linalg_norm", _linalg_norm_forward, vjps=(_linalg_norm_vjp,), saves_inputs=(0,), saves_output=True)


# ---------------------------------------------------------------- dist, cdist, diff (composites)
def _dist(F, a, b, p):
    return F.linalg_vector_norm(a - b, ord=p)


def _cdist(F, x1, x2, p, compute_mode):
    # every pair of rows: (..., P, 1, M) - (..., 1, R, M), normed over M
    return F.linalg_vector_norm(F.unsqueeze(x1, dim=-2) - F.unsqueeze(x2, dim=-3), ord=p, dim=-1)


def _diff(F, x, prepend, append, n, dim):
    pieces = [t for t in (prepend, x, append) if t is not None]
    joined = F.cat(pieces, dim=dim) if len(pieces) > 1 else x
    if n == 0:
        return F.clone(joined)
    for _ in range(n):
        size = F.shape(joined)[dim]
        if size == 0:
            break
        joined = F.narrow(joined, dim=dim, start=1, length=size - 1) - F.narrow(joined, dim=dim, start=0, length=size - 1)
    return joined


composite("dist", _dist, differentiable=(0, 1))
composite("cdist", _cdist, differentiable=(0, 1))
composite("diff", _diff, differentiable=(0, 1, 2))


def _trapezoid(F, y, x, dx, dim):
    shape = tuple(F.shape(y))
    axis = dim % len(shape)
    size = shape[axis]
    if size == 0:
        return F.sum(y, dim=axis) * 0.0
    later = F.narrow(y, dim=axis, start=1, length=size - 1)
    earlier = F.narrow(y, dim=axis, start=0, length=size - 1)
    if x is None:
        return F.sum(later + earlier, dim=axis) * (0.5 * (1.0 if dx is None else dx))
    x = F.reshape(x, shape=trapezoid_x_shape(shape, tuple(F.shape(x)), axis))
    steps_along = F.shape(x)[axis]
    spacing = F.narrow(x, dim=axis, start=1, length=steps_along - 1) - F.narrow(x, dim=axis, start=0,
                                                                               length=steps_along - 1)
    return F.sum(spacing * (later + earlier), dim=axis) / 2.0


composite("trapezoid", _trapezoid, differentiable=(0, 1))
