"""Ordering: sort, argsort, topk, kthvalue, median, mode.

Each op returning (values, indices) routes the values' gradient back to the positions its indices name
(a scatter_add into zeros, so second derivatives stay in the graph). Indices are recomputed from the
saved input in backward, deterministically, rather than saved.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import dtypes
from gradwire.rules.shapes import normalise_dim
from gradwire.rules.errors import IndexOutOfRange, InvalidArgumentRuntimeError
from ..registry import AttrSpec, OpDef, register
from .checks import tensors_only
from .gathering import dim_of

KEEPDIM = AttrSpec("keepdim", "boolean", default=False, description="keep the reduced dim with size 1")
VALUES_INDICES = ("values", "indices")


def _argsort(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """A stable argsort; descending keeps equal elements in their original order, as torch's stable sort."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    return n - 1 - np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)


def _sort_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        dim_of(attrs["dim"], 0)
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


def _int64_result(operand_dtypes, operands, attrs):
    return None, dtypes.int64


def _same(operand_dtypes, operands, attrs):
    return None, operand_dtypes[0]


DIM_LAST = AttrSpec("dim", "integer", default=-1, aliases=("axis",), description="the dim to order along")
DESCENDING = AttrSpec("descending", "boolean", default=False, description="largest first")
register(OpDef(
    name="sort", forward=_sort_forward, vjps=(_indices_vjp(_sort_forward),),
    grad_fn=lambda node: "SortBackward0" if node.attrs["stable"] is None else "SortBackward1",
    dtype_rule=tensors_only("sort", _same), saves_inputs=(0,), num_outputs=2, output_names=VALUES_INDICES,
    attrs=(DIM_LAST, DESCENDING, AttrSpec("stable", "boolean",
                                          description="keep equal elements in order (the sort is always stable here)")),
    methods=("sort",), functions=("sort",), summary="sorted values and their indices along dim (stable)",
))
register(OpDef(
    name="argsort", forward=lambda arrays, attrs: _sort_forward(arrays, attrs)[1], differentiable=False,
    dtype_rule=tensors_only("argsort", _int64_result),
    attrs=(DIM_LAST, DESCENDING, AttrSpec("stable", "boolean", default=False, description="keep equal elements in order")),
    methods=("argsort",), functions=("argsort",), summary="the indices that sort along dim (stable)",
))


def _topk_forward(arrays: list, attrs: dict):
    x = arrays[0]
    k = attrs["k"]
    size = x.shape[dim_of(attrs["dim"], x.ndim)] if x.ndim else 1
    if not 0 <= k <= size:
        raise InvalidArgumentRuntimeError(f"topk(): selected index k={k} out of range for a dim of size {size}")
    values, indices = _sort_forward(arrays, {"dim": attrs["dim"], "descending": attrs["largest"]})
    if x.ndim == 0:
        return values, indices
    axis = dim_of(attrs["dim"], x.ndim)
    keep = (slice(None),) * axis + (slice(0, k),)
    return values[keep], indices[keep]


def _topk_shape(shape: tuple, k: int, dim: int) -> tuple:
    if not shape:
        return ()
    axis = normalise_dim(dim, len(shape))
    if not 0 <= k <= shape[axis]:
        raise InvalidArgumentRuntimeError(f"selected index k out of range (k = {k}, size of dim {dim} = {shape[axis]})")
    return shape[:axis] + (k,) + shape[axis + 1:]


register(OpDef(
    name="topk", forward=_topk_forward, vjps=(_indices_vjp(_topk_forward),), grad_fn="TopkBackward0",
    dtype_rule=tensors_only("topk", _same), saves_inputs=(0,), num_outputs=2, output_names=VALUES_INDICES,
    attrs=(AttrSpec("k", "integer", required=True, description="how many elements"), DIM_LAST,
           AttrSpec("largest", "boolean", default=True, description="the largest (else the smallest) k"),
           AttrSpec("sorted", "boolean", default=True, description="return them in order (always done here)")),
    methods=("topk",), functions=("topk",), summary="the k largest (or smallest) elements along dim, and their indices",
    out_shape=lambda shapes, attrs: _topk_shape(tuple(shapes[0]), attrs["k"], attrs["dim"]),
))


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
        dim_of(attrs["dim"], 0)
        if attrs["k"] != 1:
            raise InvalidArgumentRuntimeError(f"kthvalue(): selected number k={attrs['k']} out of range for a 0-dim tensor")
        return x.copy(), np.zeros((), dtype=np.int64)
    axis = dim_of(attrs["dim"], x.ndim)
    if not 1 <= attrs["k"] <= x.shape[axis]:
        raise InvalidArgumentRuntimeError(f"kthvalue(): selected number k={attrs['k']} out of range for dimension {axis} "
                              f"of size {x.shape[axis]}")
    return _select_rank(x, axis, attrs["k"] - 1, attrs["keepdim"])


register(OpDef(
    name="kthvalue", forward=_kthvalue_forward, vjps=(_indices_vjp(_kthvalue_forward),), grad_fn="KthvalueBackward0",
    dtype_rule=tensors_only("kthvalue", _same), saves_inputs=(0,), num_outputs=2, output_names=VALUES_INDICES,
    attrs=(AttrSpec("k", "integer", required=True, description="the rank, from 1 (the smallest)"), DIM_LAST, KEEPDIM),
    methods=("kthvalue",), functions=("kthvalue",), summary="the k-th smallest element along dim and its index",
))


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
        dim_of(attrs["dim"], 0)
        return x.copy(), np.zeros((), dtype=np.int64)
    axis = dim_of(attrs["dim"], x.ndim)
    if x.shape[axis] == 0:
        raise IndexOutOfRange(f"median(): Expected reduction dim {axis} to have non-zero size.")
    return _select_rank(x, axis, (x.shape[axis] - 1) // 2, attrs["keepdim"])


register(OpDef(
    name="median", forward=_median_all_forward, vjps=(_median_all_vjp,), grad_fn="MedianBackward0",
    dtype_rule=tensors_only("median", _same), saves_inputs=(0,), saves_output=True,
    summary="the lower median of all elements; ties share the gradient evenly",
))
register(OpDef(
    name="median_dim", forward=_median_dim_forward, vjps=(_indices_vjp(_median_dim_forward),),
    grad_fn="MedianBackward1", dtype_rule=tensors_only("median", _same), saves_inputs=(0,), num_outputs=2,
    output_names=VALUES_INDICES,
    attrs=(AttrSpec("dim", "integer", required=True, aliases=("axis",), description="the dim to reduce"), KEEPDIM),
    summary="the lower median along dim and its index",
))


def _mode_forward(arrays: list, attrs: dict):
    """The most frequent value along dim (the smallest on ties) and the index of its last occurrence."""
    x = arrays[0]
    if x.ndim == 0:
        dim_of(attrs["dim"], 0)
        return x.copy(), np.zeros((), dtype=np.int64)
    axis = dim_of(attrs["dim"], x.ndim)
    n = x.shape[axis]
    if n == 0:
        raise IndexOutOfRange(f"mode(): Expected reduction dim {axis} to have non-zero size.")
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


register(OpDef(
    name="mode", forward=_mode_forward, vjps=(_indices_vjp(_mode_forward),), grad_fn="ModeBackward0",
    dtype_rule=tensors_only("mode", _same), saves_inputs=(0,), num_outputs=2, output_names=VALUES_INDICES,
    attrs=(DIM_LAST, KEEPDIM), methods=("mode",), functions=("mode",),
    summary="the most frequent value along dim (smallest on ties) and the index of its last occurrence",
))
