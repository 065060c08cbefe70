"""Views and versions: what a view shares with its base, and torch's rules for writing in place.

Every tensor has a version counter (`_version`, a one-item list) that counts in-place writes to its
memory. Tensors that share memory share the counter itself: a view and its base, `detach()`, a `.grad`
read as a value. A view also keeps its base (`_base`, always the tensor that owns the memory, never
another view), the version its grad_fn was made at (`_view_version`) and how it was made when that
forbids writing into it under autograd (`_view_origin`). This module is the only code that sets those
fields after a tensor is made (tensor.py starts them at a fresh counter, no base).

In-place writes all come here: the torch checks before writing (a leaf that requires grad, a view of one,
a view made under no_grad or by split/chunk/unbind, an expanded view), the version bump after it, and
the graph after it. Writing into a view of a graph tensor is recorded on the base (CopySlices, at the
base positions the view's strides point to), and a view whose base moved on reads the base again
(AsStridedBackward0), as torch regenerates it. A value saved for backward and changed in place since is
torch's "modified by an inplace operation" error.

Ops are found by name in the registry (setitem, copy_slices, view_of_base live in ops/indexing.py), so
neither this module nor tensor.py imports an op family.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from gradwire.rules import autograd_checks
from gradwire.rules.errors import ArgumentError, InplaceError, InplaceModifiedError
from gradwire.rules.indexing import indexing_step, torch_order

from . import modes
from .graph import AccumulateGrad, Node, SavedTensor
from .registry import OpDef, get


# The origins of a view that torch refuses to write into while autograd records (see check_inplace).
NO_GRAD = "no_grad"
MULTI_OUTPUT = "multi_output"


# ------------------------------------------------------------------ what a view shares with its base
def share_version(alias: Any, source: Any) -> None:
    """`alias` reads and writes `source`'s memory (detach(), x.grad as a value): one version counter."""
    alias._version = source._version


def use_counter(tensor: Any, counter: list) -> None:
    """`tensor` is rebuilt around memory whose counter was kept apart (a node's saved output)."""
    tensor._version = counter


def mark_view(result: Any, source: Any, multi_output: bool = False) -> None:
    """`result` is a view of `source`'s memory: same counter, same base, made at the current version.

    Like torch's CreationMeta, it also remembers an origin that forbids writing into it with autograd
    on: made under no_grad, or one of several views a function returns (split, chunk, unbind). A view
    of such a view inherits the origin unless it has one of its own."""
    result._version = source._version
    result._base = source._base if source._base is not None else source
    result._view_version = source._version[0]
    origin = NO_GRAD if not modes._state.grad_enabled else MULTI_OUTPUT if multi_output else None
    result._view_origin = origin or (source._view_origin if source._base is not None else None)


def version(tensor: Any) -> int:
    return tensor._version[0]


def bump_version(tensor: Any) -> None:
    """Count one in-place write to `tensor`'s memory (seen by every tensor sharing it)."""
    tensor._version[0] += 1


def storage_of(tensor: Any) -> Any:
    """The tensor that owns `tensor`'s memory: its base, or itself."""
    return tensor._base if tensor._base is not None else tensor


def autograd_state(tensor: Any) -> tuple:
    """What an in-place write may change on `tensor` besides its values (for undoing a refused request)."""
    return tensor.grad_fn, tensor._requires_grad, tensor._view_version


def restore_autograd_state(tensor: Any, state: tuple) -> None:
    tensor.grad_fn, tensor._requires_grad, tensor._view_version = state


def set_version(tensor: Any, value: int) -> None:
    """Put a counter back (undoing a refused request); nothing else may move a version backwards."""
    tensor._version[0] = value


# ------------------------------------------------------------------ torch's checks
def check_inplace(target: Any, what: str, values: tuple = ()) -> None:
    """The checks torch makes before writing `values` (the op's other operands) into `target`: under grad
    mode, a view made under no_grad or as one of several outputs when the write would be recorded, a leaf
    that requires grad (or a view of one); always, an expanded view whose elements share memory."""
    if modes._state.grad_enabled:
        if target._base is not None and target._view_origin is not None and (
                target._requires_grad or target._base._requires_grad
                or any(getattr(value, "_requires_grad", False) for value in values)):
            raise _origin_error(target._view_origin, what)
        base = target._base
        autograd_checks.check_target(
            what, requires_grad=True, grad_enabled=True,
            is_leaf=target.grad_fn is None and target._requires_grad,
            view_of_leaf=base is not None and base.grad_fn is None and base._requires_grad)
    if not target._data.flags.writeable:
        raise InplaceError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location (it is an expand()ed view); clone() the tensor before writing into it"
        )


def _origin_error(origin: str, what: str) -> InplaceError:
    if origin == NO_GRAD:
        return InplaceError(
            f"A view was created in no_grad mode and is being modified inplace with grad mode enabled ({what}). "
            "Given that this use case is ambiguous and error-prone, it is forbidden: make both the view and the "
            "in-place write inside the no_grad block (not tracked), or both outside it (tracked)"
        )
    return InplaceError(
        f"a view is being modified inplace ({what}), and this view is the output of a function that returns "
        "multiple views (split, chunk, unbind): such views can't be modified inplace; use an out-of-place op "
        "instead, or write into a .clone() of the view"
    )


def modified_since_saved(description: str, saved_by: str, current: int, expected: int) -> InplaceModifiedError:
    """torch's error for a value saved for backward (a view's too) that was written in place since."""
    return InplaceModifiedError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{description}], saved by {saved_by}, is at version {current}; expected "
        f"version {expected} instead. Hint: change the tensor after backward, or change a .clone() of it instead."
    )


# ------------------------------------------------------------------ writes
def write(target: Any, index: tuple, value: Any, op: OpDef) -> Any:
    """target[index] = value, then bump the version and chain a backward node if grad flows."""
    if not hasattr(target, "_data"):
        raise ArgumentError(f"{op.name}(): the target must be a Tensor, not {type(target).__name__}")
    check_inplace(target, op.name, (value,))
    value_is_tensor = hasattr(value, "_data")
    records = modes._state.grad_enabled and (target._requires_grad or (value_is_tensor and value._requires_grad))
    base_index = _index_in_base(target, index, op) if records and target._base is not None else None
    source = value._data if value_is_tensor else value
    if value_is_tensor and source.dtype != target._data.dtype:
        source = source.astype(target._data.dtype)
    view, rest = indexing_step(op.name, lambda: torch_order(target._data, index))
    indexing_step(op.name, lambda: view.__setitem__(rest, source))
    bump_version(target)
    if base_index is not None:
        _record_write_through_view(target, base_index, value)
    elif records:
        node = Node(op, (edge_of(target), edge_of(value) if value_is_tensor else None), {"index": index}, [target, value])
        _take_grad_fn(target, node)
    return target


def write_result(target: Any, result: Any) -> Any:
    """Write an op's out-of-place `result` into `target` (already checked with check_inplace); the target
    takes the result's backward node, as torch's `x.add_(y)` gets AddBackward0."""
    node = result.grad_fn
    if node is not None and node.saved_inputs:
        # The backward needs the target's old value: keep a copy (torch saves `original_self` too).
        # Only as the first operand: saved as another operand, it is the tensor itself (a later change of
        # it fails the backward, as in torch: `b.mul_(b)` then `b.add_(1)`).
        first = node.saved_inputs[0]
        if type(first) is SavedTensor and first.tensor is target:
            node.saved_inputs = (SavedTensor(_snapshot(target)), *node.saved_inputs[1:])
    if node is None and target._requires_grad and modes._state.grad_enabled:
        # A result without a gradient (eq_, a no-grad op) overwrites values that had one: cut the
        # flow to them (torch's EqBackward0 and the like give zeros).
        return write(target, (Ellipsis,), result._data, get("setitem"))
    if node is not None and target._base is not None:
        # Into a view of a graph tensor: the base records it (CopySlices), as torch does.
        return write(target, (Ellipsis,), result, get("setitem"))
    np.copyto(target._data, result._data, casting="unsafe")
    bump_version(target)
    if node is not None:
        if node.saved_output is not None:  # the saved result is now the target: changing it again invalidates it
            node.saved_output.version_box = target._version
            node.saved_output.version = target._version[0]
        _take_grad_fn(target, node)
    return target


def _snapshot(target: Any) -> Any:
    """The target as it was: a copy of its data with its history (for create_graph backward)."""
    copy = type(target)._from_array(target._data.copy())
    copy.grad_fn, copy._requires_grad = target.grad_fn, target._requires_grad
    return copy


def _take_grad_fn(tensor: Any, node: Node) -> None:
    tensor.grad_fn = node
    tensor._requires_grad = True


# ------------------------------------------------------------------ a view's grad_fn after a write
def sync_view(view: Any) -> None:
    """If `view` is a view whose base changed in place since its grad_fn was made, like torch, read the
    base's new grad_fn (the view may now require grad)."""
    if view._base is None or view._version[0] == view._view_version:
        return
    view._view_version = view._version[0]
    if view._base._requires_grad:
        rebase_view(view)


def rebase_view(view: Any) -> None:
    """Make a view read its base's current grad_fn (after the base changed in place), as torch regenerates
    the grad_fn of a view whose version moved. The view becomes base[positions] in the graph."""
    base = view._base
    positions = _positions_in_base(view)
    if positions is None or base.grad_fn is None:
        return
    every_element = np.unravel_index(positions, base.shape)
    _take_grad_fn(view, Node(get("view_of_base"), (base.grad_fn,), {"index": every_element}, [base]))


def edge_of(tensor: Any) -> Any:
    """Where a gradient for `tensor` goes: its grad_fn (a view's read again first if its base moved on),
    or the AccumulateGrad of a leaf that requires grad."""
    sync_view(tensor)
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    if not tensor._requires_grad:
        return None
    # The leaf holds its AccumulateGrad weakly (the graph holds it strongly), as torch does, so that a leaf
    # and its sink do not form a cycle that keeps the leaf's arrays alive until a garbage collection.
    accumulator = tensor._accumulator() if tensor._accumulator is not None else None
    if accumulator is None:
        accumulator = AccumulateGrad(tensor)
        tensor._accumulator = weakref.ref(accumulator)
    return accumulator


def _positions_in_base(view: Any) -> np.ndarray | None:
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


def _index_in_base(view: Any, index: tuple, op: OpDef) -> tuple:
    """The index into the base that `view[index]` denotes (an integer array per base dim)."""
    positions = _positions_in_base(view)
    if positions is None:
        raise InplaceError(
            f"{op.name}: writing into this view of a tensor that is part of a graph is not supported; "
            "write into the base tensor, or into a .clone() of the view"
        )
    selectable, rest = indexing_step(op.name, lambda: torch_order(positions, index))
    selected = indexing_step(op.name, lambda: selectable[rest])
    return np.unravel_index(selected, view._base.shape)


def _record_write_through_view(view: Any, base_index: tuple, value: Any) -> None:
    """Writing into a view changes its base: the base gets a CopySlices node (as if base[base_index] = value
    had been written), and the view now reads the base again, so a later use of it sees the new values."""
    base = view._base
    edges = (edge_of(base), edge_of(value) if hasattr(value, "_data") else None)
    _take_grad_fn(base, Node(get("copy_slices"), edges, {"index": base_index}, [base, value]))
    rebase_view(view)
    view._view_version = view._version[0]  # already reads the new base
