"""Indexing: getitem, and the in-place ops (setitem, zero_, requires_grad_) with torch's rules (their
rules, the index's shape rule included, are in gradwire.rules: rules/ops/indexing.py, rules/indexing.py).

Index assignment makes the target a non-leaf whose grad_fn is CopySlices, chained on each assignment:
the overwritten values get zero gradient and the assigned value gets the gradient of the slots it fills.
Writing into a view (`n[0][1] = v`) is recorded on the view's base, at the base positions the view's
strides point to, as torch's CopySlices does.
"""

from __future__ import annotations

import numpy as np

from .. import modes
from gradwire.rules.errors import ArgumentError, IndexOutOfRange, InplaceError, ShapeError
from ..graph import Node
from gradwire.rules.indexing import has_arrays, torch_order
from ..registry import OpDef, implement
from ..tensor import Tensor, edge_of


def _indexing(what: str, action):
    """Run an indexing step, turning numpy's IndexError/ValueError into the engine's (torch's) classes."""
    try:
        return action()
    except IndexError as error:
        raise IndexOutOfRange(str(error)) from None
    except (ValueError, TypeError) as error:  # TypeError: numpy's "boolean index ... requires" shapes
        raise ShapeError(f"{what}: {error}") from None


def _getitem_forward(arrays: list, attrs: dict):
    view, rest = _indexing("getitem", lambda: torch_order(arrays[0], attrs["index"]))
    return _indexing("getitem", lambda: view[rest])


def _index_backward_forward(arrays: list, attrs: dict):
    """zeros(shape) with `g` added at `index` (repeated indices accumulate)."""
    g = arrays[0]
    if any(n < 0 for n in attrs["shape"]):
        raise ArgumentError(f"index_backward(): negative size in shape {list(attrs['shape'])}")
    out = np.zeros(attrs["shape"], dtype=g.dtype)
    view, rest = _indexing("index_backward", lambda: torch_order(out, attrs["index"]))
    if has_arrays(rest):
        _indexing("index_backward", lambda: np.add.at(view, rest, g))
    else:
        _indexing("index_backward", lambda: view.__setitem__(rest, g))
    return out


def _index_zero_forward(arrays: list, attrs: dict):
    """A copy of `g` with the slots at `index` set to zero (the gradient of overwritten values)."""
    out = np.array(arrays[0], copy=True)
    view, rest = _indexing("index_zero", lambda: torch_order(out, attrs["index"]))
    _indexing("index_zero", lambda: view.__setitem__(rest, 0))
    return out


GETITEM = implement("getitem", _getitem_forward,
                    vjps=(lambda F, g, c: F.index_backward(g, shape=c.input_shapes[0], index=c.attrs["index"]),))
# How a view reads its base again after the base changed in place (torch regenerates it as an as_strided).
VIEW_OF_BASE = implement("view_of_base", _getitem_forward, vjps=GETITEM.vjps)
implement("index_backward", _index_backward_forward, vjps=(lambda F, g, c: F.getitem(g, index=c.attrs["index"]),))
implement("index_zero", _index_zero_forward, vjps=(lambda F, g, c: F.index_zero(g, index=c.attrs["index"]),))


def check_inplace_allowed(target: Tensor, what: str) -> None:
    if not modes._state.grad_enabled:
        return
    if target.grad_fn is None and target._requires_grad:
        raise InplaceError(
            f"a leaf Variable that requires grad is being used in an in-place operation ({what}); "
            "do it under no_grad(), or on a .clone() of the tensor"
        )
    base = target._base
    if base is not None and base.grad_fn is None and base._requires_grad:
        raise InplaceError(
            f"a view of a leaf Variable that requires grad is being used in an in-place operation ({what}); "
            "do it under no_grad(), or on a .clone() of the tensor"
        )


def write_inplace(target: Tensor, index: tuple, value, op: OpDef) -> Tensor:
    """target[index] = value, then bump the version and chain a backward node if grad flows."""
    if not isinstance(target, Tensor):
        raise ArgumentError(f"{op.name}(): the target must be a Tensor, not {type(target).__name__}")
    check_inplace_allowed(target, op.name)
    value_is_tensor = isinstance(value, Tensor)
    records = modes._state.grad_enabled and (target._requires_grad or (value_is_tensor and value._requires_grad))
    base_index = _index_in_base(target, index, op) if records and target._base is not None else None
    source = value._data if value_is_tensor else value
    if value_is_tensor and source.dtype != target._data.dtype:
        source = source.astype(target._data.dtype)
    if not target._data.flags.writeable:
        raise InplaceError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location (it is an expand()ed view); clone() the tensor before writing into it"
        )
    view, rest = _indexing(op.name, lambda: torch_order(target._data, index))
    _indexing(op.name, lambda: view.__setitem__(rest, source))
    target._version[0] += 1
    if base_index is not None:
        _record_write_through_view(target, base_index, value)
    elif records:
        operands = [target, value]
        node = Node(op, (edge_of(target), edge_of(value) if value_is_tensor else None),
                    {"index": index}, operands)
        target.grad_fn = node
        target._requires_grad = True
    return target


def _positions_in_base(view: Tensor) -> np.ndarray | None:
    """For each element of `view`, its flat position in its base's array (None where strides can't say)."""
    base_array = view._base._data
    if base_array.ndim == 0 or not base_array.flags.c_contiguous:
        return None
    itemsize = base_array.itemsize
    offset = view._data.__array_interface__["data"][0] - base_array.__array_interface__["data"][0]
    if offset % itemsize or any(stride % itemsize for stride in view._data.strides):
        return None
    flat = np.arange(base_array.size, dtype=np.int64)
    strides = tuple(stride // itemsize * flat.itemsize for stride in view._data.strides)
    return np.lib.stride_tricks.as_strided(flat[offset // itemsize:], shape=view.shape, strides=strides).copy()


def _index_in_base(view: Tensor, index: tuple, op: OpDef) -> tuple:
    """The index into the base that `view[index]` denotes (an integer array per base dim)."""
    positions = _positions_in_base(view)
    if positions is None:
        raise InplaceError(
            f"{op.name}: writing into this view of a tensor that is part of a graph is not supported; "
            "write into the base tensor, or into a .clone() of the view"
        )
    try:
        selectable, rest = torch_order(positions, index)
        selected = selectable[rest]
    except IndexError as error:
        raise IndexOutOfRange(str(error)) from None
    return np.unravel_index(selected, view._base.shape)


def _record_write_through_view(view: Tensor, base_index: tuple, value) -> None:
    """Writing into a view changes its base: the base gets a CopySlices node (as if base[base_index] = value
    had been written), and the view now reads the base again, so a later use of it sees the new values."""
    base = view._base
    value_is_tensor = isinstance(value, Tensor)
    node = Node(COPY_SLICES, (edge_of(base), edge_of(value) if value_is_tensor else None),
                {"index": base_index}, [base, value])
    base.grad_fn = node
    base._requires_grad = True
    regenerate_view_grad_fn(view)
    view._view_version = view._version[0]  # already reads the new base


def regenerate_view_grad_fn(view: Tensor) -> None:
    """Make a view read its base's current grad_fn (after the base changed in place), as torch regenerates
    the grad_fn of a view whose version moved. The view becomes base[positions] in the graph."""
    base = view._base
    positions = _positions_in_base(view)
    if positions is None or base.grad_fn is None:
        return
    every_element = np.unravel_index(positions, base.shape)
    view.grad_fn = Node(VIEW_OF_BASE, (base.grad_fn,), {"index": every_element}, [base])
    view._requires_grad = True


def _setitem_forward(operands: list, attrs: dict):
    target, value = operands
    return write_inplace(target, attrs["index"], value, SETITEM)


SETITEM = implement("setitem", _setitem_forward,
                    vjps=(lambda F, g, c: F.index_zero(g, index=c.attrs["index"]),
                          lambda F, g, c: F.getitem(g, index=c.attrs["index"])))
# setitem written into a view lands in the view's base: the same VJPs, always named CopySlices.
COPY_SLICES = implement("copy_slices",
                        lambda operands, attrs: write_inplace(operands[0], attrs["index"], operands[1], COPY_SLICES),
                        vjps=SETITEM.vjps)
def _leaf_flag(target, flag: bool):
    if not isinstance(target, Tensor):
        raise ArgumentError(f"requires_grad_(): the target must be a Tensor, not {type(target).__name__}")
    return target.requires_grad_(flag)


ZERO = implement("zero_", lambda operands, attrs: write_inplace(operands[0], (Ellipsis,), 0, ZERO),
                 vjps=(lambda F, g, c: g * 0,))
implement("requires_grad_", lambda operands, attrs: _leaf_flag(operands[0], attrs["requires_grad"]))
