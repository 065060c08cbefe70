"""Index expressions (x[0, 1:3, None, ..., idx]): validation, torch's rules, the result's shape and the
grad_fn names of indexing.

An index is normalised to a tuple numpy understands: ints, slices of ints, None, Ellipsis, and int64 or
bool arrays. Torch differs from numpy in refusing non-positive slice steps and float index tensors. A
tensor with values (the engine's) becomes its array; one known by its shape and dtype only (the SDK's
metadata) stays as it is: the shape rule (getitem_shape) and the grad_fn names need nothing more.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from .errors import DTypeError, IndexOutOfRange, InvalidValueError, ShapeError
from .spec import Bound


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
    if is_tensor_like(item) and not isinstance(item, np.ndarray):
        if not hasattr(item, "__array__"):  # metadata only (the SDK's): its shape and dtype are all a rule needs
            if kind_of(item) not in "iub":
                raise IndexOutOfRange(f"tensors used as indices must be long, int, byte or bool tensors, "
                                      f"not {getattr(item.dtype, 'name', item.dtype)}")
            return item
        item = np.asarray(item)  # a tensor with values (the engine's)
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


def is_tensor_like(item: Any) -> bool:
    """An index item that is a tensor: a numpy array, or anything with a shape and a dtype (a Tensor, the
    SDK's metadata of one); Python ints, slices, None and Ellipsis are not."""
    return hasattr(item, "shape") and hasattr(item, "dtype") and not isinstance(item, (int, np.integer))


def kind_of(item: Any) -> str:
    """numpy's dtype kind of a tensor-like item ("b" bool, "i"/"u" integer, "f" float)."""
    dtype = item.dtype
    return np.dtype(getattr(dtype, "numpy", dtype)).kind


def _is_select(item: Any) -> bool:
    """An int, or the metadata of a 0-dim integer tensor (the engine turns such a tensor into its int)."""
    if isinstance(item, int):
        return True
    return (is_tensor_like(item) and not isinstance(item, np.ndarray) and tuple(item.shape) == ()
            and kind_of(item) in "iu")


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
    writes through the returned view reach `array`. An Ellipsis among tensor indices is written out as
    full slices: one standing for no dims keeps the tensors adjacent, as in torch (not in numpy).
    """
    if not has_arrays(index):
        return array, index
    index = _without_ellipsis(index, array.ndim)
    if not any(isinstance(item, int) for item in index):
        return array, index
    selects: list = []
    rest: list = []
    for item in index:
        if isinstance(item, int):
            selects.append(item)
        elif item is None:
            rest.append(item)
        else:
            consumed = item.ndim if isinstance(item, np.ndarray) and item.dtype == np.bool_ else 1
            selects.extend([slice(None)] * consumed)
            rest.append(item)
    return array[tuple(selects)], tuple(rest)


def indexing_step(what: str, action: Callable[[], Any]) -> Any:
    """Run an indexing step, turning numpy's IndexError/ValueError into the engine's (torch's) classes."""
    try:
        return action()
    except IndexError as error:
        raise IndexOutOfRange(str(error)) from None
    except (ValueError, TypeError) as error:  # TypeError: numpy's "boolean index ... requires" shapes
        raise ShapeError(f"{what}: {error}") from None


def _consumed(item: Any) -> int:
    """How many dims of the indexed tensor an index item uses up."""
    if item is None or item is Ellipsis:
        return 0
    if is_tensor_like(item) and kind_of(item) == "b":
        return len(item.shape)
    return 1


def _without_ellipsis(index: tuple, rank: int) -> tuple:
    ellipses = sum(1 for item in index if not is_tensor_like(item) and item is Ellipsis)
    if ellipses > 1:
        raise IndexOutOfRange("an index can only have a single ellipsis ('...')")
    if not ellipses:
        return index
    position = next(i for i, item in enumerate(index) if not is_tensor_like(item) and item is Ellipsis)
    fill = max(rank - sum(_consumed(item) for item in index), 0)
    return index[:position] + (slice(None),) * fill + index[position + 1:]


def _is_ellipsis(item: Any) -> bool:
    return not is_tensor_like(item) and item is Ellipsis


def resolve_ellipses(index: tuple, rank: int) -> tuple:
    """An index with several ellipses as torch reads it, for a tensor of `rank` dims: every `...` moves on
    by rank minus the dims the index names (so `x[..., 0, ...]` is `x[..., 0]`), and those after the last
    other item do nothing. IndexError (torch's message) when an item lands past the last dim. An index
    with at most one ellipsis is returned as it is."""
    if sum(1 for item in index if _is_ellipsis(item)) <= 1:
        return index
    fill = max(rank - sum(_named_dims(item) for item in index), 0)
    others = [i for i, item in enumerate(index) if not _is_ellipsis(item)]
    resolved: list = []
    dim, current = 0, rank  # torch's position in the result, and the result's rank so far
    for position, item in enumerate(index):
        if _is_ellipsis(item):
            if others and position < others[-1]:
                resolved.extend([slice(None)] * fill)
            dim += fill
            continue
        if dim > current or (dim == current and _named_dims(item)):
            raise IndexOutOfRange(f"Dimension out of range (expected to be in range of [{-current}, {current - 1}], "
                                  f"but got {dim}): each ellipsis ('...') of this index stands for {fill} dims")
        if _named_dims(item) == 0:  # None (or a Python bool): a new dim of size 1
            current, dim = current + 1, dim + 1
        elif isinstance(item, (int, np.integer)):  # a select drops the dim
            current -= 1
        else:
            dim += _named_dims(item)
        resolved.append(item)
    return tuple(resolved)


def _named_dims(item: Any) -> int:
    """The dims of the indexed tensor an index item names (torch's count of specified dims)."""
    return 0 if isinstance(item, (bool, np.bool_)) else _consumed(item)


def has_arrays(index: tuple) -> bool:
    """Does the index hold a tensor (advanced) index, other than a 0-dim integer one that selects?"""
    return any(is_tensor_like(item) and not _is_select(item) for item in index)


def grad_fn_name(index: tuple) -> str:
    """torch names the backward of an indexing expression after the last step it applied."""
    if has_arrays(index):
        return "IndexBackward0"
    for item in reversed(index):
        if _is_select(item):
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
        _is_select(item) or (not is_tensor_like(item) and item is not Ellipsis and item != slice(None))
        for item in index
    )
    return "IndexPutBackward0" if has_arrays(index) and not makes_view else "torch::autograd::CopySlices"


def getitem_shape(shape: tuple, index: tuple) -> tuple:
    """The shape of x[index] for x of `shape`, from the index's ints, slices, None, Ellipsis and the shapes
    and dtypes of its tensors (numpy's advanced-indexing rules, with torch's ints applied first); a
    Bound when a boolean mask takes part (its count of True values decides). torch's IndexError for an
    int out of range, too many indices, a mask of the wrong shape or tensors that do not broadcast."""
    shape = tuple(shape)
    index = tuple(index)
    if is_basic(index):
        return _basic_shape(shape, index)
    return _general_shape(shape, index)


def is_basic(index: tuple) -> bool:
    """Is every item a Python int, a slice or None (no Ellipsis, no tensor)? Such an index is its own
    normal form, numpy applies it as torch does, and its shape needs none of the advanced rules."""
    for item in index:
        kind = type(item)
        if kind is not int and kind is not slice and item is not None:
            return False
    return True


def _basic_shape(shape: tuple, index: tuple) -> tuple:
    """getitem_shape for a basic index (is_basic): the same result and errors, without the general walk."""
    if len(index) - sum(1 for item in index if item is None) > len(shape):
        raise IndexOutOfRange(f"too many indices for tensor of dimension {len(shape)}")
    result: list = []
    dim = 0
    for item in index:
        if item is None:
            result.append(1)
            continue
        size = shape[dim]
        if type(item) is int:
            if not -size <= item < size:
                raise IndexOutOfRange(f"index {item} is out of bounds for dimension {dim} with size {size}")
        else:
            result.append(len(range(*item.indices(size))))
        dim += 1
    return (*result, *shape[dim:])


def _general_shape(shape: tuple, index: tuple) -> tuple:
    if sum(1 for item in index if not is_tensor_like(item) and item is Ellipsis) > 1:
        raise IndexOutOfRange("an index can only have a single ellipsis ('...')")
    used = sum(_consumed(item) for item in index)
    if used > len(shape):
        raise IndexOutOfRange(f"too many indices for tensor of dimension {len(shape)}")
    parts: list = []  # ("dims", sizes) or ("advanced", shape), in order; ints leave nothing
    advanced: list = []
    masked = False
    dim = 0
    for item in index:
        if item is None:
            parts.append(("dims", (1,)))
        elif not is_tensor_like(item) and item is Ellipsis:
            fill = len(shape) - used
            parts.append(("dims", shape[dim:dim + fill]))
            dim += fill
        elif isinstance(item, slice):
            parts.append(("dims", (len(range(*item.indices(shape[dim]))),)))
            dim += 1
        elif isinstance(item, int) or _is_select(item):
            if isinstance(item, int) and not -shape[dim] <= item < shape[dim]:
                raise IndexOutOfRange(f"index {item} is out of bounds for dimension {dim} with size {shape[dim]}")
            dim += 1
        elif kind_of(item) == "b":
            mask = tuple(item.shape)
            for j, n in enumerate(mask):
                if n != shape[dim + j]:
                    raise IndexOutOfRange(f"The shape of the mask {list(mask)} at index {j} does not match the shape "
                                          f"of the indexed tensor {list(shape)} at index {dim + j}")
            masked = True
            advanced.append((int(np.prod(mask, dtype=np.int64)),))  # at most every element is True
            parts.append(("advanced", None))
            dim += len(mask)
        else:
            advanced.append(tuple(item.shape))
            parts.append(("advanced", None))
            dim += 1
    parts.append(("dims", shape[dim:]))
    if not advanced:
        return tuple(n for kind, sizes in parts for n in sizes)
    if masked:  # counts are values: the widest each dim could be
        rank = max(len(a) for a in advanced)
        padded = [(1,) * (rank - len(a)) + a for a in advanced]
        broadcast = tuple(max(sizes) for sizes in zip(*padded))
    else:
        try:
            broadcast = tuple(int(n) for n in np.broadcast_shapes(*advanced))
        except ValueError:
            raise IndexOutOfRange("shape mismatch: indexing tensors could not be broadcast together with shapes "
                                  + ", ".join(str(list(a)) for a in advanced)) from None
    positions = [i for i, (kind, _) in enumerate(parts) if kind == "advanced"]
    # the tensors stay in place when nothing that makes a dim (a slice, None, an Ellipsis standing for
    # some dims) separates them; ints do not (torch applied them first)
    adjacent = not any(kind == "dims" and sizes for kind, sizes in parts[positions[0]:positions[-1] + 1])
    basic = tuple(n for kind, sizes in parts if kind == "dims" for n in sizes)
    if adjacent:
        before = sum(len(sizes) for kind, sizes in parts[:positions[0]] if kind == "dims")
        result = basic[:before] + broadcast + basic[before:]
    else:
        result = broadcast + basic
    return Bound(result) if masked else result
