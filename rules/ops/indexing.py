"""Rules of indexing: getitem (x[index]), setitem (x[index] = v), zero_, requires_grad_, and the internal
ops the engine records for them (index_backward, index_zero, view_of_base, copy_slices). The index rules
themselves (normalisation, the result's shape, grad_fn names) are in rules/indexing.py. The ops that
select or write by index tensors and masks are in selecting.py, gathering.py, diagonals.py and
padding.py, imported below.
"""

from __future__ import annotations

from .. import promotion
from ..checks import tensors_only
from ..errors import ArgumentError, DTypeRuntimeError, ShapeError
from ..indexing import getitem_shape, grad_fn_name, setitem_grad_fn_name
from ..spec import AttrSpec, Bound, OpRules, define

INDEX = AttrSpec("index", "index", required=True)


def _getitem_shape(shapes: list, attrs: dict) -> tuple:
    return getitem_shape(tuple(shapes[0]), attrs["index"])


def written_shape(target: tuple, value: tuple, index: tuple) -> tuple:
    """target[index] = value: value (without leading 1s, as torch) must broadcast to target[index]."""
    sliced = getitem_shape(tuple(target), index)
    value = tuple(value)
    while value and value[0] == 1:
        value = value[1:]
    if type(sliced) is not Bound and (len(value) > len(sliced) or any(
            v not in (1, s) for v, s in zip(reversed(value), reversed(sliced)))):
        raise ShapeError(f"shape mismatch: value tensor of shape {list(value)} cannot be broadcast to indexing "
                         f"result of shape {list(sliced)}")
    return tuple(target)


def _written_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """An in-place write keeps the target's dtype (the value is cast to it)."""
    return None, operand_dtypes[0]


define(OpRules(
    name="getitem", grad_fn=lambda call: grad_fn_name(call.attrs["index"]),
    dtype_rule=tensors_only("getitem", promotion.same), attrs=(INDEX,), view=True, out_shape=_getitem_shape,
    summary="x[index]: ints, slices, None, Ellipsis, integer and boolean tensors",
))
# How a view reads its base again after the base changed in place (torch regenerates it as an as_strided).
define(OpRules(
    name="view_of_base", grad_fn="AsStridedBackward0", dtype_rule=tensors_only("view_of_base", promotion.same),
    attrs=(INDEX,), view=True, out_shape=_getitem_shape, internal=True,
    summary="base[positions] for a view whose base changed in place (grad_fn AsStridedBackward0)",
))


def _index_backward_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(attrs["shape"])
    if any(n < 0 for n in shape):
        raise ArgumentError(f"index_backward(): negative size in shape {list(shape)}")
    written_shape(shape, tuple(shapes[0]), attrs["index"])
    return shape


define(OpRules(
    name="index_backward", grad_fn="IndexPutBackward0", dtype_rule=tensors_only("index_backward", promotion.same),
    attrs=(AttrSpec("shape", "ints", required=True), INDEX), out_shape=_index_backward_shape, internal=True,
    summary="zeros(shape) with the operand added at index (the gradient of getitem)",
))
def _checked_same(shapes: list, attrs: dict) -> tuple:
    getitem_shape(tuple(shapes[0]), attrs["index"])  # the index must fit
    return tuple(shapes[0])


define(OpRules(
    name="index_zero", grad_fn="IndexFillBackward0", dtype_rule=tensors_only("index_zero", promotion.same),
    attrs=(INDEX,), out_shape=lambda shapes, attrs: _checked_same(shapes, attrs),
    summary="a copy with the slots at index set to zero (the gradient of overwritten values)", internal=True,
))
define(OpRules(
    name="setitem", grad_fn=lambda call: setitem_grad_fn_name(call.attrs["index"]), min_inputs=2, max_inputs=2,
    attrs=(INDEX,), inplace=True, dtype_rule=tensors_only("setitem", _written_dtype),
    out_shape=lambda shapes, attrs: written_shape(shapes[0], shapes[1], attrs["index"]),
    summary="target[index] = value, in place (grad_fn CopySlices)",
))
# setitem written into a view lands in the view's base: the same VJPs, always named CopySlices.
define(OpRules(
    name="copy_slices", grad_fn="torch::autograd::CopySlices", min_inputs=2, max_inputs=2, attrs=(INDEX,),
    inplace=True, dtype_rule=tensors_only("copy_slices", _written_dtype),
    out_shape=lambda shapes, attrs: written_shape(shapes[0], shapes[1], attrs["index"]), internal=True,
    summary="base[index] = value, in place, as a write into a view of base records it",
))
define(OpRules(
    name="zero_", grad_fn="ZeroBackward0", inplace=True, methods=("zero_",),
    dtype_rule=tensors_only("zero_", promotion.same), out_shape=lambda shapes, attrs: tuple(shapes[0]),
    summary="fill with zeros, in place",
))


def _requires_grad_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    dtype = operand_dtypes[0]
    if attrs.get("requires_grad", True) and dtype is not None and not dtype.is_floating_point:
        raise DTypeRuntimeError(f"Only Tensors of floating point and complex dtype can require gradients (this "
                                f"tensor is {dtype.name}); create it with a floating dtype, e.g. dtype=float32, "
                                "or convert it with .float()")
    return None, dtype


define(OpRules(
    name="requires_grad_", inplace=True, differentiable=False,
    attrs=(AttrSpec("requires_grad", "boolean", default=True),),
    dtype_rule=tensors_only("requires_grad_", _requires_grad_dtype), out_shape=lambda shapes, attrs: tuple(shapes[0]),
    summary="set requires_grad of a leaf, in place",
))

from . import diagonals, gathering, padding, selecting  # noqa: E402,F401  (definition side effects)
