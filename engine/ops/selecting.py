"""Selecting and writing by index or mask: index_select, index_add, index_fill, index_copy, scatter,
scatter_reduce, masked_fill, masked_select, masked_scatter, take, take_along_dim (how they compute; their
rules, shape checks included, are in gradwire.rules: rules/ops/selecting.py).

Every VJP is written with registered ops (gather / scatter_add / index_add / masked_scatter ...), so
second derivatives stay in the graph. Index tensors are int64 and never differentiable; masks are bool.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import ArgumentError, IndexOutOfRange, InvalidArgumentRuntimeError, ShapeError
from gradwire.rules.shapes import raise_not_broadcastable

from ..registry import implement
from .gathering import _fits, check_index, dim_of, positions


def _vector_index(name: str, index: np.ndarray, size: int, error: type | None = None) -> np.ndarray:
    """The index as a vector, its values checked (its rank was checked by the shape rule)."""
    index = index.reshape(-1)
    check_index(name, index, size, error or (IndexOutOfRange if name in ("index_fill", "index_copy") else
                                             InvalidArgumentRuntimeError))
    return index


# ---------------------------------------------------------------- index_select / add / fill / copy
def _moved(x: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(x.reshape(1) if x.ndim == 0 else x, axis, 0)


def _index_select_forward(arrays: list, attrs: dict):
    x, index = arrays
    axis = dim_of(attrs["dim"], x.ndim)
    # torch's CPU kernel for dim 1 of a matrix or more says RuntimeError, every other dim IndexError
    error = InvalidArgumentRuntimeError if x.ndim > 1 and axis == 1 else IndexOutOfRange
    index = _vector_index("index_select", index, x.shape[axis] if x.ndim else 1, error)
    out = np.take(x.reshape(1) if x.ndim == 0 else x, index, axis=axis)
    return out.reshape(arrays[1].shape) if x.ndim == 0 else out


def _index_add_forward(arrays: list, attrs: dict):
    x, index, source = arrays
    out = np.array(x, copy=True)
    axis = dim_of(attrs["dim"], x.ndim)
    index = _vector_index("index_add", index, out.shape[axis] if out.ndim else 1)
    np.add.at(_moved(out, axis), index, _moved(source * attrs["alpha"], axis if source.ndim else 0))
    return out


def _index_fill_forward(arrays: list, attrs: dict):
    x, index, value = arrays
    out = np.array(x, copy=True)
    axis = dim_of(attrs["dim"], x.ndim)
    positions_ = _vector_index("index_fill", index, out.shape[axis] if out.ndim else 1)
    _moved(out, axis)[positions_] = _fill_value("index_fill_", value, x.dtype)
    return out


def _index_copy_forward(arrays: list, attrs: dict):
    x, index, source = arrays
    out = np.array(x, copy=True)
    axis = dim_of(attrs["dim"], x.ndim)
    index = _vector_index("index_copy", index, out.shape[axis] if out.ndim else 1)
    _moved(out, axis)[index] = _moved(source, axis if source.ndim else 0)
    return out


def _select_back(F, g, c, dim_position_scale=1):
    return F.index_select(g, c.inputs[1], dim=c.attrs["dim"])


implement("index_select", _index_select_forward,
          vjps=(lambda F, g, c: F.index_add(F.zeros(c.input_shapes[0], like=g), c.inputs[1], g, dim=c.attrs["dim"]), None),
          saves_inputs=(1,))
implement("index_add", _index_add_forward,
          vjps=(lambda F, g, c: g, None, lambda F, g, c: _select_back(F, g, c) * c.attrs["alpha"]), saves_inputs=(1,))
implement("index_fill", _index_fill_forward,
          vjps=(lambda F, g, c: F.index_fill(g, c.inputs[1], 0.0, dim=c.attrs["dim"]), None,
                lambda F, g, c: F.sum(F.index_select(g, c.inputs[1], dim=c.attrs["dim"]))), saves_inputs=(1,))
implement("index_copy", _index_copy_forward,
          vjps=(lambda F, g, c: F.index_fill(g, c.inputs[1], 0.0, dim=c.attrs["dim"]), None, _select_back),
          saves_inputs=(1,))


# ---------------------------------------------------------------- scatter, scatter_reduce
def _scatter_forward(arrays: list, attrs: dict):
    x, index, src = arrays
    out = np.array(x, copy=True)
    if index.size == 0:
        return out
    flat = out.reshape(1) if out.ndim == 0 else out
    index = index.reshape(-1) if index.ndim == 0 else index
    axis = dim_of(attrs["dim"], flat.ndim)
    check_index("scatter", index, flat.shape[axis])
    where = positions(index, axis)
    if isinstance(src, np.ndarray):
        src = (src.reshape(-1) if src.ndim == 0 else src)[tuple(slice(0, n) for n in index.shape)]
    reduce = attrs["reduce"]
    if reduce is None:
        flat[where] = src
    elif reduce == "add":
        np.add.at(flat, where, src)
    elif reduce == "multiply":
        np.multiply.at(flat, where, src)
    else:
        raise ArgumentError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")
    return out


def _no_reduce(c) -> None:
    if c.attrs["reduce"] is not None:
        raise InvalidArgumentRuntimeError("derivative for scatter with reduce= is not implemented (as in torch); "
                                          "use scatter_reduce or scatter_add")


def _scatter_input_vjp(F, g, c):
    _no_reduce(c)
    return F.scatter(g, c.inputs[1], 0.0, dim=c.attrs["dim"])


def _scatter_src_vjp(F, g, c):
    _no_reduce(c)
    picked = F.gather(g, c.inputs[1], dim=c.attrs["dim"])
    if c.input_shapes[2] == c.input_shapes[1]:
        return picked
    corner = tuple(slice(0, n) for n in c.input_shapes[1])
    return F.index_backward(picked, shape=c.input_shapes[2], index=corner)


implement("scatter", _scatter_forward, vjps=(_scatter_input_vjp, None, _scatter_src_vjp), saves_inputs=(1,))

_REDUCERS = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum, "mean": np.add}


def _scatter_reduce_parts(x: np.ndarray, index: np.ndarray, src: np.ndarray, attrs: dict):
    """(result, scattered mask, count per position) of scatter_reduce."""
    reduce, include_self = attrs["reduce"], attrs["include_self"]
    if reduce not in _REDUCERS:
        raise ArgumentError(f"scatter_reduce(): reduce argument must be one of sum, prod, mean, amax, amin, got {reduce!r}")
    axis = dim_of(attrs["dim"], x.ndim)
    _fits("scatter_reduce", index, x, axis, "self")
    check_index("scatter_reduce", index, x.shape[axis] if x.ndim else 1)
    where = positions(index, axis)
    src = src[tuple(slice(0, n) for n in index.shape)]
    count = np.zeros(x.shape, dtype=np.int64)
    np.add.at(count, where, 1)
    scattered = count > 0
    out = np.array(x, copy=True)
    if not include_self:
        identity = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
        out[scattered] = identity if x.dtype.kind == "f" or reduce in ("sum", "mean", "prod") else \
            (np.iinfo(x.dtype).min if reduce == "amax" else np.iinfo(x.dtype).max)
    _REDUCERS[reduce].at(out, where, src)
    if reduce == "mean":
        total = count + (1 if include_self else 0)
        divided = out / np.maximum(total, 1)
        out = divided.astype(x.dtype) if x.dtype.kind == "f" else np.floor_divide(out, np.maximum(total, 1))
    return out, scattered, count


def _scatter_reduce_forward(arrays: list, attrs: dict):
    return _scatter_reduce_parts(*arrays, attrs)[0]


def _scatter_reduce_vjp(position: int):
    def vjp(F, g, c):
        x, index, src = c.inputs
        raw_x, raw_index, raw_src = F.value(x), F.value(index), F.value(src)
        out, scattered, count = _scatter_reduce_parts(raw_x, raw_index, raw_src, c.attrs)
        reduce, include_self, dim = c.attrs["reduce"], c.attrs["include_self"], c.attrs["dim"]
        keep_self = F.constant(~scattered | include_self)
        if reduce == "sum":
            return F.where(keep_self, g, 0.0) if position == 0 else F.gather(g, index, dim=dim)
        if reduce == "mean":
            total = F.constant(np.maximum(count + (1 if include_self else 0), 1).astype(raw_x.dtype))
            share = g / total
            return F.where(keep_self, share, 0.0) if position == 0 else F.gather(share, index, dim=dim)
        result = c.output
        if reduce == "prod":  # d(prod)/d(element) = prod / element (inputs without zeros)
            if position == 0:
                return F.where(keep_self, g * result / x, 0.0)
            return F.gather(g * result, index, dim=dim) / src
        # amax / amin: every element equal to the result shares its gradient evenly.
        picked_out = np.take_along_axis(out, raw_index, dim_of(dim, raw_x.ndim))
        src_ties = picked_out == raw_src[tuple(slice(0, n) for n in raw_index.shape)]
        self_ties = (raw_x == out) & (~scattered | include_self)
        ties = self_ties.astype(np.int64)
        np.add.at(ties, positions(raw_index, dim_of(dim, raw_x.ndim)), src_ties.astype(np.int64))
        share = g / F.constant(np.maximum(ties, 1).astype(raw_x.dtype))
        if position == 0:
            return F.where(F.constant(self_ties), share, 0.0)
        return F.where(F.constant(src_ties), F.gather(share, index, dim=dim), 0.0)

    return vjp


implement("scatter_reduce", _scatter_reduce_forward, vjps=(_scatter_reduce_vjp(0), None, _scatter_reduce_vjp(2)),
          saves_all_inputs=True, saves_output=True)


# ---------------------------------------------------------------- masks
def _broadcast(*arrays: np.ndarray) -> list:
    raise_not_broadcastable([a.shape for a in arrays])
    return np.broadcast_arrays(*arrays)


def _fill_value(name: str, value, dtype) -> np.ndarray:
    """A number, or a 0-dim tensor (the shape rule refuses others), as an array of the target's dtype."""
    return np.asarray(value).astype(dtype)


def _masked_fill_forward(arrays: list, attrs: dict):
    x, mask, value = arrays
    x, mask = _broadcast(x, mask)
    return np.where(mask, _fill_value("masked_fill_", value, x.dtype), x)


implement("masked_fill", _masked_fill_forward,
          vjps=(lambda F, g, c: F.where(c.inputs[1], 0.0, g), None,
                lambda F, g, c: F.sum(F.where(c.inputs[1], g, 0.0))), saves_inputs=(1,))


def _masked_select_forward(arrays: list, attrs: dict):
    x, mask = _broadcast(*arrays)
    return x[mask]


implement("masked_select", _masked_select_forward,
          vjps=(lambda F, g, c: F.masked_scatter(F.zeros(tuple(np.broadcast_shapes(*c.input_shapes)), like=g),
                                                 c.inputs[1], g), None), saves_inputs=(1,))


def _masked_scatter_forward(arrays: list, attrs: dict):
    x, mask, source = arrays
    x, mask = _broadcast(x, mask)
    out = np.array(x, copy=True)
    count = int(np.count_nonzero(mask))
    if count > source.size:
        raise ShapeError(f"masked_scatter: expected source to have at least {count} elements (the mask's True count), "
                         f"got {source.size}")
    out[mask] = source.reshape(-1)[:count]
    return out


def _masked_scatter_source_vjp(F, g, c):
    mask = c.inputs[1]
    picked = F.masked_select(g, mask)
    size = int(np.prod(c.input_shapes[2]))
    padded = F.index_backward(picked, shape=(size,), index=(slice(0, F.shape(picked)[0]),))
    return F.reshape(padded, shape=c.input_shapes[2])


implement("masked_scatter", _masked_scatter_forward,
          vjps=(lambda F, g, c: F.where(c.inputs[1], 0.0, g), None, _masked_scatter_source_vjp), saves_inputs=(1,))


# ---------------------------------------------------------------- take, take_along_dim
def _take_forward(arrays: list, attrs: dict):
    x, index = arrays
    size = x.size
    if index.size and (index.min() < -size or index.max() >= size):
        bad = index[(index < -size) | (index >= size)].reshape(-1)[0]
        raise IndexOutOfRange(f"take(): index {bad} out of range for tensor of size {list(x.shape)}.")
    return x.reshape(-1)[index]


def _take_vjp(F, g, c):
    size = int(np.prod(c.input_shapes[0]))
    flat = F.index_backward(g, shape=(size,), index=(F.value(c.inputs[1]),))
    return F.reshape(flat, shape=c.input_shapes[0])


implement("take", _take_forward, vjps=(_take_vjp, None), saves_inputs=(1,))


def _along(arrays: list, attrs: dict):
    """(input, indices, axis) broadcast against each other except along the dim (flattened when dim is None)."""
    x, index = arrays
    if attrs["dim"] is None:
        return x.reshape(-1), index.reshape(-1), 0
    axis = dim_of(attrs["dim"], x.ndim)
    if x.ndim != index.ndim:
        raise ShapeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                         f"but got {x.ndim} dimensions for input, and {index.ndim} dimensions for indices")
    shape_x, shape_i = list(x.shape), list(index.shape)
    shape_x[axis] = shape_i[axis] = 1
    common = list(np.broadcast_shapes(tuple(shape_x), tuple(shape_i)))
    x = np.broadcast_to(x, tuple(common[:axis] + [x.shape[axis]] + common[axis + 1:]))
    index = np.broadcast_to(index, tuple(common[:axis] + [index.shape[axis]] + common[axis + 1:]))
    return x, index, axis


def _take_along_forward(arrays: list, attrs: dict):
    x, index, axis = _along(arrays, attrs)
    check_index("take_along_dim", np.where(index < 0, index + x.shape[axis], index), x.shape[axis])
    return np.take_along_axis(x, np.where(index < 0, index + x.shape[axis], index), axis)


def _take_along_vjp(F, g, c):
    shapes = c.input_shapes
    raw_index = F.value(c.inputs[1])
    fake = [np.empty(shapes[0], dtype=np.int8), raw_index]
    x_view, index, axis = _along(fake, c.attrs)
    index = np.where(index < 0, index + x_view.shape[axis], index)
    grad = F.scatter_add(F.zeros(x_view.shape, like=g), F.constant(np.ascontiguousarray(index)), g, dim=axis)
    return F.reshape(grad, shape=shapes[0]) if c.attrs["dim"] is None else grad


implement("take_along_dim", _take_along_forward, vjps=(_take_along_vjp, None), saves_inputs=(1,))
