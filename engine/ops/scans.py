"""Scans along a dim: cumsum, cumprod, cummax, cummin, logcumsumexp.

Gradients that are not a plain reversed scan are built from an n x n lower-triangular pairing along the
scanned dim (cumprod with zeros, logcumsumexp, cummax's index routing): exact, differentiable again
under create_graph, O(n^2) in the scanned length. Their rules are gradwire.rules.ops.ordering.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops import ordering  # noqa: F401  (the scans' rules)

from ..registry import implement
from .reductions import axes_of


def _axis(c_or_shape, dim: int) -> int:
    shape = c_or_shape
    return axes_of(dim, len(shape))[0] if shape else 0


def _scan(function):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        if x.ndim == 0:
            return x.copy()
        return function(x, axis=_axis(x.shape, attrs["dim"]))

    return forward


def _reverse_cumsum(F, g, axis: int):
    """sum_{j >= i} g_j along axis."""
    return F.sum(g, dim=axis, keepdim=True) - F.cumsum(g, dim=axis) + g


def _cumsum_vjp(F, g, c):
    if not c.input_shapes[0]:
        return g
    return _reverse_cumsum(F, g, _axis(c.input_shapes[0], c.attrs["dim"]))


def _pairs(shape: tuple, axis: int) -> np.ndarray:
    """later[i, j] = j >= i along `axis`, shaped to broadcast against x with a new dim after axis."""
    n = shape[axis]
    later = np.triu(np.ones((n, n), dtype=bool))
    return later.reshape((n, n) + (1,) * (len(shape) - axis - 1))


def _cumprod_vjp(F, g, c):
    """d out_j / d x_i = prod_{l <= j, l != i} x_l for j >= i: exact when x has zeros (as torch)."""
    x = c.inputs[0]
    shape = c.input_shapes[0]
    if not shape:
        return g
    axis = _axis(shape, c.attrs["dim"])
    raw = F.value(x)
    if np.all(raw != 0):
        return _reverse_cumsum(F, g * c.output, axis) / x
    n = shape[axis]
    # copies[i, l] = x_l with x_i replaced by one; their cumprod over l leaves x_i out of every product.
    copies = F.expand(F.unsqueeze(x, dim=axis), shape=shape[:axis] + (n,) + shape[axis:])
    diagonal = np.eye(n, dtype=bool).reshape((n, n) + (1,) * (len(shape) - axis - 1))
    without_i = F.cumprod(F.where(F.constant(diagonal), 1.0, copies), dim=axis + 1)
    weights = F.unsqueeze(g, dim=axis) * F.constant(_pairs(shape, axis))
    return F.sum(without_i * weights, dim=axis + 1)


implement("cumsum", _scan(np.cumsum), vjps=(_cumsum_vjp,))
implement("cumprod", _scan(np.cumprod), vjps=(_cumprod_vjp,), saves_inputs=(0,), saves_output=True)


def _logcumsumexp_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        return x.copy()
    return np.logaddexp.accumulate(x, axis=_axis(x.shape, attrs["dim"]))


def _logcumsumexp_vjp(F, g, c):
    """grad_i = sum_{j >= i} g_j exp(x_i - out_j), each factor at most 1."""
    x = c.inputs[0]
    shape = c.input_shapes[0]
    if not shape:
        return g
    axis = _axis(shape, c.attrs["dim"])
    later = F.constant(_pairs(shape, axis))
    exponent = F.unsqueeze(x, dim=axis + 1) - F.unsqueeze(c.output, dim=axis)
    factors = F.where(later, F.exp(F.where(later, exponent, 0.0)), 0.0)
    return F.sum(factors * F.unsqueeze(g, dim=axis), dim=axis + 1)


implement("logcumsumexp", _logcumsumexp_forward, vjps=(_logcumsumexp_vjp,), saves_inputs=(0,), saves_output=True)


def _running_extreme(accumulate):
    """(values, indices) of a running max/min; a tie moves the index to the later element, as torch."""

    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        if x.size == 0 or x.ndim == 0:  # (torch checks no dim of an empty input)
            return x.copy(), np.zeros(x.shape, dtype=np.int64)
        axis = _axis(x.shape, attrs["dim"])
        values = accumulate(x, axis=axis)
        positions = np.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        # The running extreme changes only where x equals it: the last such position is the index.
        indices = np.maximum.accumulate(np.where(x == values, positions, 0), axis=axis)
        return values, indices.astype(np.int64)

    return forward


def _routed_vjp(F, g, c):
    """Each output's gradient goes to the element its index names (summed where indices repeat)."""
    shape = c.input_shapes[0]
    if not shape:
        return g
    axis = _axis(shape, c.attrs["dim"])
    forward = _running_extreme(np.maximum.accumulate if c.node.op.name == "cummax" else np.minimum.accumulate)
    _, indices = forward([F.value(c.inputs[0])], c.attrs)
    n = shape[axis]
    # one_hot[i, j] = (indices_j == i), with i on a new dim after axis.
    one_hot = np.expand_dims(indices, axis) == np.arange(n).reshape((1,) * axis + (n, 1) + (1,) * (len(shape) - axis - 1))
    return F.sum(F.unsqueeze(g, dim=axis) * F.constant(one_hot), dim=axis + 1)


for _name, _accumulate in (("cummax", np.maximum.accumulate), ("cummin", np.minimum.accumulate)):
    implement(_name, _running_extreme(_accumulate), vjps=(_routed_vjp,), saves_inputs=(0,))
