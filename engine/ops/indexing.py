"""Indexing: getitem, and the in-place ops (setitem, zero_, requires_grad_) with torch's rules (their
rules, the index's shape rule included, are in gradwire.rules: rules/ops/indexing.py, rules/indexing.py).

Index assignment makes the target a non-leaf whose grad_fn is CopySlices, chained on each assignment:
the overwritten values get zero gradient and the assigned value gets the gradient of the slots it fills.
The writes themselves, with torch's checks and the bookkeeping of versions and views (a write into a view
lands on its base as copy_slices; a view whose base moved on reads it again as view_of_base), are in
views.py.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import ArgumentError
from gradwire.rules.indexing import has_arrays, indexing_step, is_basic, torch_order

from ..registry import implement
from ..tensor import Tensor
from ..views import write


def _getitem_forward(arrays: list, attrs: dict):
    index = attrs["index"]
    if is_basic(index):  # ints, slices and None: numpy's order is torch's (torch_order gives it unchanged)
        return indexing_step("getitem", lambda: arrays[0][index])
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


GETITEM = implement("getitem", _getitem_forward,
                    vjps=(lambda F, g, c: F.index_backward(g, shape=c.input_shapes[0], index=c.attrs["index"]),))
# How a view reads its base again after the base changed in place (torch regenerates it as an as_strided);
# views.rebase_view makes these nodes.
implement("view_of_base", _getitem_forward, vjps=GETITEM.vjps)
implement("index_backward", _index_backward_forward, vjps=(lambda F, g, c: F.getitem(g, index=c.attrs["index"]),))
implement("index_zero", _index_zero_forward, vjps=(lambda F, g, c: F.index_zero(g, index=c.attrs["index"]),))


def _setitem_forward(operands: list, attrs: dict):
    target, value = operands
    return write(target, attrs["index"], value, SETITEM)


SETITEM = implement("setitem", _setitem_forward,
                    vjps=(lambda F, g, c: F.index_zero(g, index=c.attrs["index"]),
                          lambda F, g, c: F.getitem(g, index=c.attrs["index"])))
# setitem written into a view lands in the view's base (views.write records it): the same VJPs, always
# named CopySlices.
COPY_SLICES = implement("copy_slices",
                        lambda operands, attrs: write(operands[0], attrs["index"], operands[1], COPY_SLICES),
                        vjps=SETITEM.vjps)


def _leaf_flag(target, flag: bool):
    if not isinstance(target, Tensor):
        raise ArgumentError(f"requires_grad_(): the target must be a Tensor, not {type(target).__name__}")
    return target.requires_grad_(flag)


ZERO = implement("zero_", lambda operands, attrs: write(operands[0], (Ellipsis,), 0, ZERO),
                 vjps=(lambda F, g, c: g * 0,))
implement("requires_grad_", lambda operands, attrs: _leaf_flag(operands[0], attrs["requires_grad"]))
