"""Ordering: sort, argsort, topk, kthvalue, median, mode.

Each op returning (values, indices) routes the values' gradient back to the positions its indices name
(a scatter_add into zeros, so second derivatives stay in the graph). Indices are recomputed from the
saved input in backward, deterministically, rather than saved. Their rules (dims, k, shapes) are
gradwire.rules.ops.ordering, which refuses what torch refuses before these run.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops import ordering  # noqa: F401  (the orderings' rules)

from ..registry import implement
from .gathering import dim_of


def _argsort(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """A stable argsort; descending keeps equal elements in their original order, as torch's stable sort."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    return n - 1 - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


def _sort_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        return x.copy(), np.zeros((), dtype=np.int64)
    axis = dim_of(attrs["dim"], x.ndim)
    indices = _argsort(x, axis, attrs["descending"])
    return np.take_along_axis(x, indices, axis), indices.astype(np.int64)


def _routed(F, g, c, indices: np.ndarray, axis: int, keepdim: bool = True):
    """zeros like the input with g added at `indices` along axis."""
    if not keepdim:
        g = F.unsqueeze(g, dim=axis)
        indices = np.expand_dims(indices, axis)
    zeros = F.zeros(c.input_shapes[0], like=g)
    return F.scatter_add(zeros, F.constant(indices.astype(np.int64)), g, dim=axis)


def _indices_vjp(recompute):
    """The VJP of an op whose values are input[indices]: indices from recompute(x, attrs)."""

    def vjp(F, g, c):
        if not c.input_shapes[0]:
            return g
        axis = dim_of(c.attrs["dim"], len(c.input_shapes[0]))
        indices = recompute([F.value(c.inputs[0])], c.attrs)[1]
        return _routed(F, g, c, indices, axis, c.attrs.get("keepdim", True))

    return vjp


implement("sort", _sort_forward, vjps=(_indices_vjp(_sort_forward),), saves_inputs=(0,))
implement("argsort", lambda arrays, attrs: _sort_forward(arrays, attrs)[1])


def _topk_forward(arrays: list, attrs: dict):
    x = arrays[0]
    k = attrs["k"]
    values, indices = _sort_forward(arrays, {"dim": attrs["dim"], "descending": attrs["largest"]})
    if x.ndim == 0:
        return values, indices
    axis = dim_of(attrs["dim"], x.ndim)
    keep = (slice(None),) * axis + (slice(0, k),)
    return values[keep], indices[keep]


implement("topk", _topk_forward, vjps=(_indices_vjp(_topk_forward),), saves_inputs=(0,))


def _select_rank(x: np.ndarray, axis: int, rank: int, keepdim: bool):
    """The element of the given rank (0-based, stable ascending order) along axis, and its index."""
    indices = np.take(_argsort(x, axis, False), [rank], axis=axis)
    values = np.take_along_axis(x, indices, axis)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return values, indices.astype(np.int64)


def _kthvalue_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        return x.copy(), np.zeros((), dtype=np.int64)
    return _select_rank(x, dim_of(attrs["dim"], x.ndim), attrs["k"] - 1, attrs["keepdim"])


implement("kthvalue", _kthvalue_forward, vjps=(_indices_vjp(_kthvalue_forward),), saves_inputs=(0,))


def _median_all_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.size == 0:
        return np.array(np.nan, dtype=x.dtype)
    flat = x.reshape(-1)
    return np.sort(flat, kind="stable")[(flat.size - 1) // 2]


def _median_all_vjp(F, g, c):
    """Elements equal to the median share its gradient evenly (torch's evenly_distribute_backward)."""
    ties = c.inputs[0] == c.output
    return F.where(ties, g / F.sum(ties), 0.0)


def _median_dim_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        return x.copy(), np.zeros((), dtype=np.int64)
    axis = dim_of(attrs["dim"], x.ndim)
    return _select_rank(x, axis, (x.shape[axis] - 1) // 2, attrs["keepdim"])


implement("median", _median_all_forward, vjps=(_median_all_vjp,), saves_inputs=(0,), saves_output=True)
implement("median_dim", _median_dim_forward, vjps=(_indices_vjp(_median_dim_forward),), saves_inputs=(0,))


def _mode_forward(arrays: list, attrs: dict):
    """The most frequent value along dim (the smallest on ties) and the index of its last occurrence."""
    x = arrays[0]
    if x.ndim == 0:
        return x.copy(), np.zeros((), dtype=np.int64)
    axis = dim_of(attrs["dim"], x.ndim)
    n = x.shape[axis]
    moved = np.moveaxis(x, axis, -1)
    counts = (moved[..., :, None] == moved[..., None, :]).sum(-1)  # n x n per row: vectorised
    best_count = counts.max(-1, keepdims=True)
    candidates = np.where(counts == best_count, moved, moved.max(-1, keepdims=True))
    value = candidates.min(-1, keepdims=True)
    last = np.where(moved == value, np.arange(n), -1).max(-1, keepdims=True)
    values, indices = np.moveaxis(value, -1, axis), np.moveaxis(last, -1, axis)
    if not attrs["keepdim"]:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return values.astype(x.dtype), indices.astype(np.int64)


implement("mode", _mode_forward, vjps=(_indices_vjp(_mode_forward),), saves_inputs=(0,))
