"""Transitional (see inference.py): result shapes of ops, following torch (broadcasting, reductions, views, indexing, matmul, cat).

Each rule takes the tensor operands' shapes and the op's attributes and returns the result shape, or
raises WillFail when torch would refuse the shapes, or LookupError when the attributes are not spelled
as the rule expects (the result then stays unknown until the server says).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .meta import WillFail

Shape = tuple[int, ...]
# Index items whose effect on the shape is known without the server: not graph tensors.
_LOCAL_INDEX_ITEMS = (int, np.integer, slice, type(None), type(Ellipsis), list, np.ndarray)


def broadcast(shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    except ValueError:
        raise WillFail from None


def _dims(dim: Any, rank: int) -> tuple[int, ...]:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    normal = []
    for d in dims:
        if not -max(rank, 1) <= d < max(rank, 1):
            raise WillFail
        normal.append(d % max(rank, 1))
    if len(set(normal)) != len(normal):
        raise WillFail
    return tuple(normal)


def _reduced(shape: tuple[int, ...], dim: Any, keepdim: bool) -> tuple[int, ...]:
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(1 for _ in shape) if keepdim else ()
    axes = _dims(dim, len(shape))
    if not shape:
        return ()
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def broadcast_rule(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    return broadcast(shapes)


def same(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    return shapes[0]


def reduce(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    return _reduced(shapes[0], attrs.get("dim"), bool(attrs.get("keepdim", False)))


def full_reduce(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    if 0 in shapes[0]:
        raise WillFail  # max() of an empty tensor
    return ()


def softmax(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    _dims(attrs["dim"], len(shapes[0]))
    return shapes[0]


def matmul(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    a, b = shapes
    if not a or not b:
        raise WillFail
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise WillFail
    batch = broadcast([a2[:-2], b2[:-2]])
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def view(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    shape = shapes[0]
    wanted = attrs.get("shape")
    if wanted is None:
        raise LookupError
    wanted = (wanted,) if isinstance(wanted, int) else tuple(wanted)
    total = math.prod(shape)
    if wanted.count(-1) > 1 or any(n < -1 for n in wanted):
        raise WillFail
    if -1 in wanted:
        known = math.prod(n for n in wanted if n != -1)
        if known == 0 or total % known:
            raise WillFail
        wanted = tuple(total // known if n == -1 else n for n in wanted)
    if math.prod(wanted) != total:
        raise WillFail
    return wanted


def transpose(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    shape = list(shapes[0])
    if not shape:
        return ()
    i, j = _dims((attrs["dim0"], attrs["dim1"]), len(shape)) if attrs["dim0"] != attrs["dim1"] else (0, 0)
    shape[i], shape[j] = shape[j], shape[i]
    return tuple(shape)


def t(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    if len(shapes[0]) > 2:
        raise WillFail  # t() expects a tensor with <= 2 dimensions
    return tuple(reversed(shapes[0]))


def fixed_rank_matmul(ranks: tuple[int, int]):
    """mm (2, 2), bmm (3, 3), mv (2, 1), dot (1, 1): matmul with the ranks checked, no broadcasting."""
    def rule(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
        if (len(shapes[0]), len(shapes[1])) != ranks or (ranks == (3, 3) and shapes[0][0] != shapes[1][0]):
            raise WillFail
        return matmul(shapes, attrs)

    return rule


def permute(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    shape = shapes[0]
    order = _dims(attrs["dims"], len(shape))
    if len(order) != len(shape):
        raise WillFail
    return tuple(shape[i] for i in order)


def unsqueeze(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    shape = list(shapes[0])
    dim = attrs["dim"]
    if not -len(shape) - 1 <= dim <= len(shape):
        raise WillFail
    shape.insert(dim % (len(shape) + 1), 1)
    return tuple(shape)


def squeeze(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    shape = shapes[0]
    dim = attrs.get("dim")
    if dim is None:
        return tuple(n for n in shape if n != 1)
    axes = _dims(dim, len(shape))
    return tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))


def stack_like(shapes: list[Shape], attrs: dict, *, new_axis: bool) -> tuple[int, ...]:
    if not shapes:
        raise WillFail
    first = shapes[0]
    rank = len(first) + (1 if new_axis else 0)
    if rank == 0:
        raise WillFail
    dim = _dims(attrs.get("dim", 0) or 0, rank)[0]
    if new_axis:
        if any(s != first for s in shapes):
            raise WillFail
        return first[:dim] + (len(shapes),) + first[dim:]
    if any(len(s) != len(first) or s[:dim] + s[dim + 1:] != first[:dim] + first[dim + 1:] for s in shapes):
        raise WillFail
    return first[:dim] + (sum(s[dim] for s in shapes),) + first[dim + 1:]


def expand(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    shape = shapes[0]
    sizes = list(attrs["shape"])
    lead = len(sizes) - len(shape)
    if lead < 0 or any(n == -1 for n in sizes[:lead]):
        raise WillFail
    for i, n in enumerate(shape):
        if sizes[lead + i] == -1:
            sizes[lead + i] = n
        elif n != 1 and sizes[lead + i] != n:
            raise WillFail
    return tuple(sizes)


def getitem(shapes: list[Shape], attrs: dict) -> tuple[int, ...]:
    """Index a zero-strided stand-in array: numpy's rules are torch's, except where integers and index
    arrays mix (torch applies the integers first), which is left to the server."""
    index = attrs["index"]
    items = index if isinstance(index, tuple) else (index,)
    if not all(isinstance(item, _LOCAL_INDEX_ITEMS) for item in items):
        raise LookupError  # a tensor of the graph: its values decide the shape
    arrays = [item for item in items if isinstance(item, (list, np.ndarray))]
    if arrays and len(arrays) < len([item for item in items if not isinstance(item, (slice, type(Ellipsis)))]):
        raise LookupError
    stand_in = np.broadcast_to(np.zeros((), np.int8), shapes[0])
    items = tuple(np.asarray(item) if isinstance(item, list) else item for item in items)
    try:
        return tuple(stand_in[items].shape)
    except (IndexError, ValueError, TypeError):
        raise WillFail from None
