"""Rules of the scans (cumsum, cumprod, logcumsumexp, cummax, cummin) and the orderings (sort, argsort,
topk, kthvalue, median, mode); see rules/spec.py."""

from __future__ import annotations

from .. import promotion
from ..checks import tensors_only
from ..errors import IndexOutOfRange, InvalidArgumentRuntimeError
from ..shapes import normalise_dim, reduce
from ..spec import AttrSpec, OpRules, define
from .reductions import along_dim, index_result, reduce_nonempty

SCAN_DIM = AttrSpec("dim", "integer", required=True, aliases=("axis",), description="the dim to scan along")
DTYPE = AttrSpec("dtype", "dtype", description="cast the input to this dtype first")
KEEPDIM = AttrSpec("keepdim", "boolean", default=False, description="keep the reduced dim with size 1")
DIM_LAST = AttrSpec("dim", "integer", default=-1, aliases=("axis",), description="the dim to order along")
DESCENDING = AttrSpec("descending", "boolean", default=False, description="largest first")
VALUES_INDICES = ("values", "indices")


def scan_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """cumsum/cumprod: an explicit dtype wins; integral and bool inputs accumulate in int64."""
    if attrs.get("dtype") is not None:
        return attrs["dtype"], attrs["dtype"]
    return promotion.sum_like(operand_dtypes, operands, attrs)


def _same_as_input(operand_dtypes, operands, attrs):
    return None, operand_dtypes[0]


def _pair_along_dim(shapes: list, attrs: dict) -> list:
    """(values, indices) with the input's shape."""
    shape = along_dim(shapes, attrs)
    return [shape, shape]


# ---------------------------------------------------------------- scans
for _name, _title, _saves in (("cumsum", "Cumsum", ""), ("cumprod", "Cumprod", "; exact gradients with zeros")):
    define(OpRules(
        name=_name, grad_fn=f"{_title}Backward0", dtype_rule=tensors_only(_name, scan_dtype), attrs=(SCAN_DIM, DTYPE),
        out_shape=along_dim, methods=(_name,), functions=(_name,),
        summary=f"cumulative {'sum' if _name == 'cumsum' else 'product'} along dim{_saves}",
    ))
define(OpRules(
    name="logcumsumexp", grad_fn="LogcumsumexpBackward0",
    dtype_rule=tensors_only("logcumsumexp", promotion.floating_only), attrs=(SCAN_DIM,), out_shape=along_dim,
    methods=("logcumsumexp",), functions=("logcumsumexp",), summary="log(cumsum(exp(x))) along dim, computed stably",
))
for _name in ("cummax", "cummin"):
    define(OpRules(
        name=_name, grad_fn=f"{_name.capitalize()}Backward0", dtype_rule=tensors_only(_name, _same_as_input),
        attrs=(SCAN_DIM,), num_outputs=2, output_names=VALUES_INDICES, out_shape=_pair_along_dim,
        methods=(_name,), functions=(_name,), summary=f"running {_name[3:]}imum along dim: (values, indices)",
    ))


# ---------------------------------------------------------------- sort, argsort, topk
define(OpRules(
    name="sort", grad_fn=lambda call: "SortBackward0" if call.attrs["stable"] is None else "SortBackward1",
    dtype_rule=tensors_only("sort", _same_as_input), num_outputs=2, output_names=VALUES_INDICES,
    attrs=(DIM_LAST, DESCENDING, AttrSpec("stable", "boolean",
                                          description="keep equal elements in order (the sort is always stable here)")),
    out_shape=_pair_along_dim, methods=("sort",), functions=("sort",),
    summary="sorted values and their indices along dim (stable)",
))
define(OpRules(
    name="argsort", differentiable=False, dtype_rule=tensors_only("argsort", index_result),
    attrs=(DIM_LAST, DESCENDING, AttrSpec("stable", "boolean", default=False, description="keep equal elements in order")),
    out_shape=along_dim, methods=("argsort",), functions=("argsort",), summary="the indices that sort along dim (stable)",
))


def _topk_shape(shapes: list, attrs: dict) -> list:
    shape, k, dim = tuple(shapes[0]), attrs["k"], attrs["dim"]
    axis = normalise_dim(dim, len(shape))
    size = shape[axis] if shape else 1
    if not 0 <= k <= size:
        raise InvalidArgumentRuntimeError(f"selected index k out of range (k = {k}, size of dim {dim} = {size})")
    out = shape[:axis] + (k,) + shape[axis + 1:] if shape else ()
    return [out, out]


define(OpRules(
    name="topk", grad_fn="TopkBackward0", dtype_rule=tensors_only("topk", _same_as_input), num_outputs=2,
    output_names=VALUES_INDICES,
    attrs=(AttrSpec("k", "integer", required=True, description="how many elements"), DIM_LAST,
           AttrSpec("largest", "boolean", default=True, description="the largest (else the smallest) k"),
           AttrSpec("sorted", "boolean", default=True, description="return them in order (always done here)")),
    out_shape=_topk_shape, methods=("topk",), functions=("topk",),
    summary="the k largest (or smallest) elements along dim, and their indices",
))


# ---------------------------------------------------------------- kthvalue, median, mode
def _kthvalue_shape(shapes: list, attrs: dict) -> tuple:
    shape, k = tuple(shapes[0]), attrs["k"]
    axis = normalise_dim(attrs["dim"], len(shape))
    size = shape[axis] if shape else 1
    if not 1 <= k <= size:
        raise InvalidArgumentRuntimeError(f"kthvalue(): selected number k out of range for dimension {axis} "
                                          f"(k = {k}, size {size})")
    return reduce(shapes, attrs)


define(OpRules(
    name="kthvalue", grad_fn="KthvalueBackward0", dtype_rule=tensors_only("kthvalue", _same_as_input), num_outputs=2,
    output_names=VALUES_INDICES,
    attrs=(AttrSpec("k", "integer", required=True, description="the rank, from 1 (the smallest)"), DIM_LAST, KEEPDIM),
    out_shape=_kthvalue_shape, methods=("kthvalue",), functions=("kthvalue",),
    summary="the k-th smallest element along dim and its index",
))
define(OpRules(
    name="median", grad_fn="MedianBackward0", dtype_rule=tensors_only("median", _same_as_input),
    out_shape=lambda shapes, attrs: (), summary="the lower median of all elements; ties share the gradient evenly",
))
define(OpRules(
    name="median_dim", grad_fn="MedianBackward1", dtype_rule=tensors_only("median", _same_as_input), num_outputs=2,
    output_names=VALUES_INDICES,
    attrs=(AttrSpec("dim", "integer", required=True, aliases=("axis",), description="the dim to reduce"), KEEPDIM),
    out_shape=reduce_nonempty("median", IndexOutOfRange), summary="the lower median along dim and its index",
))
define(OpRules(
    name="mode", grad_fn="ModeBackward0", dtype_rule=tensors_only("mode", _same_as_input), num_outputs=2,
    output_names=VALUES_INDICES, attrs=(DIM_LAST, KEEPDIM), out_shape=reduce_nonempty("mode", IndexOutOfRange),
    methods=("mode",), functions=("mode",),
    summary="the most frequent value along dim (smallest on ties) and the index of its last occurrence",
))
