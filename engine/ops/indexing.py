"""Indexing: getitem, and the in-place ops (setitem, zero_, requires_grad_) with torch's rules.

Index assignment makes the target a non-leaf whose grad_fn is CopySlices, chained on each assignment:
the overwritten values get zero gradient and the assigned value gets the gradient of the slots it fills.
The writes themselves, with torch's checks and the bookkeeping of versions and views (a write into a view
lands on its base as copy_slices; a view whose base moved on reads it again as view_of_base), are in
views.py.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError
from gradwire.rules.indexing import grad_fn_name, has_arrays, indexing_step, result_size_bound, setitem_grad_fn_name, torch_order
from gradwire.rules.spec import Bound

from ..registry import AttrSpec, OpDef, register
from ..tensor import Tensor
from ..views import write
from .checks import tensors_only

INDEX = AttrSpec("index", "index", required=True)


def _getitem_forward(arrays: list, attrs: dict):
    view, rest = indexing_step("getitem", lambda: torch_order(arrays[0], attrs["index"]))
    return indexing_step("getitem", lambda: view[rest])


def _index_backward_forward(arrays: list, attrs: dict):
    """zeros(shape) with `g` added at `index` (repeated indices accumulate)."""
    g = arrays[0]
    if any(n < 0 for n in attrs["shape"]):
        raise ArgumentError(f"index_backward(): negative size in shape {list(attrs['shape'])}")
    out = np.zeros(attrs["shape"], dtype=g.dtype)
    view, rest = indexing_step("index_backward", lambda: torch_order(out, attrs["index"]))
    if has_arrays(rest):
        indexing_step("index_backward", lambda: np.add.at(view, rest, g))
    else:
        indexing_step("index_backward", lambda: view.__setitem__(rest, g))
    return out


def _index_zero_forward(arrays: list, attrs: dict):
    """A copy of `g` with the slots at `index` set to zero (the gradient of overwritten values)."""
    out = np.array(arrays[0], copy=True)
    view, rest = indexing_step("index_zero", lambda: torch_order(out, attrs["index"]))
    indexing_step("index_zero", lambda: view.__setitem__(rest, 0))
    return out


GETITEM = register(OpDef(
    name="getitem", forward=_getitem_forward,
    vjps=(lambda F, g, c: F.index_backward(g, shape=c.input_shapes[0], index=c.attrs["index"]),),
    grad_fn=lambda node: grad_fn_name(node.attrs["index"]), dtype_rule=tensors_only("getitem", promotion.same),
    attrs=(INDEX,),
    view=True, out_shape=lambda shapes, attrs: Bound((result_size_bound(shapes[0], attrs["index"]),)),
    summary="x[index]: ints, slices, None, Ellipsis, integer and boolean tensors",
))
# How a view reads its base again after the base changed in place (torch regenerates it as an as_strided);
# views.rebase_view makes these nodes.
register(OpDef(
    name="view_of_base", forward=_getitem_forward, vjps=GETITEM.vjps, grad_fn="AsStridedBackward0",
    dtype_rule=tensors_only("view_of_base", promotion.same), attrs=(INDEX,), view=True, out_shape=GETITEM.out_shape,
    summary="base[positions] for a view whose base changed in place (grad_fn AsStridedBackward0)", internal=True,
))
register(OpDef(
    name="index_backward", forward=_index_backward_forward,
    vjps=(lambda F, g, c: F.getitem(g, index=c.attrs["index"]),), grad_fn="IndexPutBackward0",
    dtype_rule=tensors_only("index_backward", promotion.same), attrs=(AttrSpec("shape", "ints", required=True), INDEX),
    out_shape=lambda shapes, attrs: attrs["shape"],
    summary="zeros(shape) with the operand added at index (the gradient of getitem)", internal=True,
))
register(OpDef(
    name="index_zero", forward=_index_zero_forward,
    vjps=(lambda F, g, c: F.index_zero(g, index=c.attrs["index"]),), grad_fn="IndexFillBackward0",
    dtype_rule=tensors_only("index_zero", promotion.same), attrs=(INDEX,),
    summary="a copy with the slots at index set to zero (the gradient of overwritten values)", internal=True,
))


def _setitem_forward(operands: list, attrs: dict):
    target, value = operands
    return write(target, attrs["index"], value, SETITEM)


SETITEM = register(OpDef(
    name="setitem", forward=_setitem_forward,
    vjps=(lambda F, g, c: F.index_zero(g, index=c.attrs["index"]),
          lambda F, g, c: F.getitem(g, index=c.attrs["index"])),
    grad_fn=lambda node: setitem_grad_fn_name(node.attrs["index"]), min_inputs=2, max_inputs=2, attrs=(INDEX,), inplace=True,
    summary="target[index] = value, in place (grad_fn CopySlices)",
))
# setitem written into a view lands in the view's base (views.write records it): the same VJPs, always
# named CopySlices.
COPY_SLICES = register(OpDef(
    name="copy_slices", forward=lambda operands, attrs: write(operands[0], attrs["index"], operands[1], COPY_SLICES),
    vjps=SETITEM.vjps, grad_fn="torch::autograd::CopySlices", min_inputs=2, max_inputs=2, attrs=(INDEX,),
    inplace=True, summary="base[index] = value, in place, as a write into a view of base records it", internal=True,
))


def _leaf_flag(target, flag: bool):
    if not isinstance(target, Tensor):
        raise ArgumentError(f"requires_grad_(): the target must be a Tensor, not {type(target).__name__}")
    return target.requires_grad_(flag)


ZERO = register(OpDef(
    name="zero_", forward=lambda operands, attrs: write(operands[0], (Ellipsis,), 0, ZERO),
    vjps=(lambda F, g, c: g * 0,), grad_fn="ZeroBackward0", inplace=True, methods=("zero_",),
    summary="fill with zeros, in place",
))
register(OpDef(
    name="requires_grad_", forward=lambda operands, attrs: _leaf_flag(operands[0], attrs["requires_grad"]),
    inplace=True, differentiable=False, attrs=(AttrSpec("requires_grad", "boolean", default=True),),
    summary="set requires_grad of a leaf, in place",
))
