"""Index expressions (x[0, 1:3, None, ..., idx]): validation, torch's rules, and size bounds.

An index is normalised to a tuple numpy understands: ints, slices of ints, None, Ellipsis, and int64 or
bool arrays. Torch differs from numpy in refusing non-positive slice steps and float index tensors.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .errors import DTypeError, IndexOutOfRange, InvalidValueError


def normalise_index(index: Any) -> tuple:
    items = index if isinstance(index, tuple) else (index,)
    return tuple(_item(item) for item in items)


def _item(item: Any) -> Any:
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, slice):
        start, stop, step = (None if v is None else _int(v, "slice bound") for v in (item.start, item.stop, item.step))
        if step is not None and step <= 0:
            raise InvalidValueError("step must be greater than zero (negative slice steps are not supported)")
        return slice(start, stop, step)
    if isinstance(item, (bool, np.bool_)):
        return np.asarray(item)
    if isinstance(item, (int, np.integer)):
        return int(item)
    if hasattr(item, "_data"):  # a Tensor
        item = item._data
        if item.ndim == 0 and item.dtype.kind in "iu":
            return int(item)  # torch indexes with a 0-dim integer tensor as with an int (a select)
    elif isinstance(item, (str, bytes, dict, set)) or not isinstance(item, (list, tuple, np.ndarray, float, np.floating)):
        raise DTypeError(
            f"invalid index of type {type(item).__name__}: only integers, slices (`:`), ellipsis (`...`), None "
            "and integer or boolean tensors are valid indices"
        )
    array = np.asarray(item)
    if array.dtype == np.bool_:
        return array
    if array.dtype.kind not in "iu":
        if array.size == 0 and array.dtype.kind == "f":  # x[[]]: an empty list is an empty int index
            return array.astype(np.int64)
        raise IndexOutOfRange(
            f"tensors used as indices must be long, int, byte or bool tensors, not {array.dtype}"
        )
    return array.astype(np.int64, copy=False)


def _int(value: Any, what: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise DTypeError(f"{what} must be an integer, not {type(value).__name__}") from None


def torch_order(array: np.ndarray, index: tuple) -> tuple[np.ndarray, tuple]:
    """(view, rest) such that view[rest] is torch's array[index].

    torch applies integer indices as selections before any tensor index, while numpy counts an int
    next to an array as one more advanced index (x[0, 1:3, mask] is (2, 3) in torch, (3, 2) in numpy).
    When both kinds are present, the ints are applied first as a basic (viewing) index, so reads and
    writes through the returned view reach `array`.
    """
    if not has_arrays(index) or not any(isinstance(item, int) for item in index):
        return array, index
    selects: list = []
    rest: list = []
    for item in index:
        if isinstance(item, int):
            selects.append(item)
        elif item is None:
            rest.append(item)
        elif item is Ellipsis:
            selects.append(item)
            rest.append(item)
        else:
            consumed = item.ndim if isinstance(item, np.ndarray) and item.dtype == np.bool_ else 1
            selects.extend([slice(None)] * consumed)
            rest.append(item)
    return array[tuple(selects)], tuple(rest)


def has_arrays(index: tuple) -> bool:
    return any(isinstance(item, np.ndarray) for item in index)


def result_size_bound(shape: tuple, index: tuple) -> int:
    """An upper bound on the elements of x[index], computed without allocating anything.

    Advanced (array) indices contribute their broadcast size; dims they or ints consume are dropped;
    slices keep at most their dim. Used to charge the memory budget before numpy allocates.
    """
    arrays = [item for item in index if isinstance(item, np.ndarray)]
    consumed = sum(item.ndim if item.dtype == np.bool_ else 1 for item in arrays)
    consumed += sum(1 for item in index if isinstance(item, int))
    kept = max(len(shape) - consumed, 0)
    if arrays:
        try:
            broadcast = np.broadcast_shapes(*[(int(np.count_nonzero(a)),) if a.dtype == np.bool_ else a.shape for a in arrays])
        except ValueError as error:
            raise IndexOutOfRange(f"shape mismatch: indexing tensors could not be broadcast together: {error}") from None
        size = int(np.prod(broadcast, dtype=np.int64))
    else:
        size = 1
    # Dims not consumed: the largest `kept` dims is a safe bound on what survives.
    for n in sorted(shape, reverse=True)[:kept]:
        size *= n
    return size


def grad_fn_name(index: tuple) -> str:
    """torch names the backward of an indexing expression after the last step it applied."""
    if has_arrays(index):
        return "IndexBackward0"
    for item in reversed(index):
        if isinstance(item, int):
            return "SelectBackward0"
        if item is None:
            return "UnsqueezeBackward0"
        if isinstance(item, slice) and item != slice(None):
            return "SliceBackward0"
    return "AliasBackward0"



def setitem_grad_fn_name(index: tuple) -> str:
    """torch writes x[index] = v as index_put_ (IndexPutBackward0) when only tensors index x; any
    int, None or partial slice first makes a view, and writing into a view gives CopySlices."""
    makes_view = any(
        not isinstance(item, np.ndarray) and item is not Ellipsis and item != slice(None) for item in index
    )
    return "IndexPutBackward0" if has_arrays(index) and not makes_view else "torch::autograd::CopySlices"
