"""Selecting and writing by index or mask: index_select, index_add, index_fill, index_copy, scatter,
scatter_reduce, masked_fill, masked_select, masked_scatter, take, take_along_dim.

Every VJP is written with registered ops (gather / scatter_add / index_add / masked_scatter ...), so
second derivatives stay in the graph. Index tensors are int64 and never differentiable; masks are bool.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.shapes import broadcast_shapes
from gradwire.rules.spec import Bound

from gradwire.rules import dtypes
from gradwire.rules.errors import ArgumentError, DTypeRuntimeError, IndexOutOfRange, InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .checks import check_broadcast, check_tensors
from .gathering import DIM, _fits, check_index, dim_of, positions

ALPHA = AttrSpec("alpha", "real", default=1, description="the multiplier of source")


def _rule(name: str, index_position: int | None = None, same=(), mask_position: int | None = None,
          numbers=()):
    """dtype rule: tensors where required, an int64 index, a bool mask, and `same` operands of input's dtype."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        check_tensors(name, operand_dtypes, operands, [p for p in range(len(operands)) if p not in numbers])
        if index_position is not None and operand_dtypes[index_position] is not dtypes.int64:
            raise DTypeRuntimeError(f"{name}(): Expected dtype int64 for index, got {operand_dtypes[index_position].name}")
        if mask_position is not None and operand_dtypes[mask_position] is not dtypes.bool_:
            raise DTypeRuntimeError(f"{name}: expected BoolTensor for mask, got {operand_dtypes[mask_position].name}")
        for position in same:
            if operand_dtypes[position] is not None and operand_dtypes[position] is not operand_dtypes[0]:
                raise DTypeRuntimeError(f"{name}(): self ({operand_dtypes[0].name}) and source "
                                        f"({operand_dtypes[position].name}) must have the same scalar type")
        return None, operand_dtypes[0]

    return rule


def _vector_index(name: str, index: np.ndarray, size: int) -> np.ndarray:
    if index.ndim > 1:
        raise IndexOutOfRange(f"{name}(): Index is supposed to be a vector, got {index.ndim} dims")
    index = index.reshape(-1)
    check_index(name, index, size, IndexOutOfRange if name in ("index_fill", "index_copy") else
                InvalidArgumentRuntimeError)
    return index


# ---------------------------------------------------------------- index_select / add / fill / copy
def _moved(x: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(x.reshape(1) if x.ndim == 0 else x, axis, 0)


def _index_select_forward(arrays: list, attrs: dict):
    x, index = arrays
    axis = dim_of(attrs["dim"], x.ndim)
    index = _vector_index("index_select", index, x.shape[axis] if x.ndim else 1)
    out = np.take(x.reshape(1) if x.ndim == 0 else x, index, axis=axis)
    return out.reshape(arrays[1].shape) if x.ndim == 0 else out


def _index_add_forward(arrays: list, attrs: dict):
    x, index, source = arrays
    out = np.array(x, copy=True)
    axis = dim_of(attrs["dim"], x.ndim)
    index = _vector_index("index_add", index, out.shape[axis] if out.ndim else 1)
    expected = (x.shape[:axis] + (index.size,) + x.shape[axis + 1:]) if x.ndim else (index.size,)
    if source.shape != expected and not (x.ndim == 0 and source.size == index.size):
        raise ShapeError(f"index_add(): source {list(source.shape)} must have shape {list(expected)}")
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


register(OpDef(
    name="index_select", forward=_index_select_forward,
    vjps=(lambda F, g, c: F.index_add(F.zeros(c.input_shapes[0], like=g), c.inputs[1], g, dim=c.attrs["dim"]), None),
    grad_fn="IndexSelectBackward0", dtype_rule=_rule("index_select", 1), saves_inputs=(1,), min_inputs=2,
    max_inputs=2, attrs=(DIM,), signature=("input", "dim", "index"), methods=("index_select",),
    functions=("index_select",), summary="the entries at a vector of indices along dim",
    out_shape=lambda shapes, attrs: tuple(shapes[0][:dim_of(attrs["dim"], len(shapes[0]))])
    + (int(np.prod(shapes[1])),) + tuple(shapes[0][dim_of(attrs["dim"], len(shapes[0])) + 1:]),
))
register(OpDef(
    name="index_add", forward=_index_add_forward,
    vjps=(lambda F, g, c: g, None, lambda F, g, c: _select_back(F, g, c) * c.attrs["alpha"]),
    grad_fn="IndexAddBackward0", dtype_rule=_rule("index_add", 1, same=(2,)), saves_inputs=(1,), min_inputs=3,
    max_inputs=3, attrs=(DIM, ALPHA), signature=("input", "dim", "index", "source", "alpha"),
    methods=("index_add",), functions=("index_add",), summary="a copy of input with alpha * source added at index along dim",
))
register(OpDef(
    name="index_fill", forward=_index_fill_forward,
    vjps=(lambda F, g, c: F.index_fill(g, c.inputs[1], 0.0, dim=c.attrs["dim"]), None,
          lambda F, g, c: F.sum(F.index_select(g, c.inputs[1], dim=c.attrs["dim"]))),
    grad_fn=lambda node: "IndexFillBackward0" if node.input_dtypes[2] is None else "IndexFillBackward1",
    dtype_rule=_rule("index_fill", 1, numbers=(2,)), saves_inputs=(1,), min_inputs=3, max_inputs=3,
    attrs=(DIM,), signature=("input", "dim", "index", "value"), methods=("index_fill",),
    functions=("index_fill",), summary="a copy of input with value written at index along dim",
))
register(OpDef(
    name="index_copy", forward=_index_copy_forward,
    vjps=(lambda F, g, c: F.index_fill(g, c.inputs[1], 0.0, dim=c.attrs["dim"]), None, _select_back),
    grad_fn="IndexCopyBackward0", dtype_rule=_rule("index_copy", 1, same=(2,)), saves_inputs=(1,), min_inputs=3,
    max_inputs=3, attrs=(DIM,), signature=("input", "dim", "index", "source"), methods=("index_copy",),
    functions=("index_copy",), summary="a copy of input with source's slices written at index along dim",
))


# ---------------------------------------------------------------- scatter, scatter_reduce
def _scatter_forward(arrays: list, attrs: dict):
    x, index, src = arrays
    out = np.array(x, copy=True)
    if index.size == 0:
        return out
    flat = out.reshape(1) if out.ndim == 0 else out
    index = index.reshape(-1) if index.ndim == 0 else index
    axis = dim_of(attrs["dim"], flat.ndim)
    _fits("scatter", index, flat, axis, "self")
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


register(OpDef(
    name="scatter", forward=_scatter_forward, vjps=(_scatter_input_vjp, None, _scatter_src_vjp),
    grad_fn=lambda node: "ScatterBackward1" if node.input_dtypes[2] is None else "ScatterBackward0",
    dtype_rule=_rule("scatter", 1, same=(2,), numbers=(2,)), saves_inputs=(1,), min_inputs=3, max_inputs=3,
    attrs=(DIM, AttrSpec("reduce", "text", description="'add' or 'multiply' (no gradient, as torch)")),
    signature=("input", "dim", "index", "src|value", "reduce"), methods=("scatter",), functions=("scatter",),
    summary="a copy of input with src (a tensor or a number) written at index along dim",
))

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


register(OpDef(
    name="scatter_reduce", forward=_scatter_reduce_forward,
    vjps=(_scatter_reduce_vjp(0), None, _scatter_reduce_vjp(2)), grad_fn="ScatterReduceBackward0",
    dtype_rule=_rule("scatter_reduce", 1, same=(2,)), saves_all_inputs=True, saves_output=True,
    min_inputs=3, max_inputs=3,
    attrs=(DIM, AttrSpec("reduce", "text", required=True, description="sum, prod, mean, amax or amin"),
           AttrSpec("include_self", "boolean", default=True, description="whether input's own values take part")),
    signature=("input", "dim", "index", "src", "reduce", "include_self"), methods=("scatter_reduce",),
    functions=("scatter_reduce",), summary="reduce src into a copy of input at index along dim",
))


# ---------------------------------------------------------------- masks
def _broadcast(*arrays: np.ndarray) -> list:
    check_broadcast([a.shape for a in arrays])
    return np.broadcast_arrays(*arrays)


def _fill_value(name: str, value, dtype) -> np.ndarray:
    """A number, or a 0-dim tensor (torch refuses others), as an array of the target's dtype."""
    value = np.asarray(value)
    if value.ndim:
        raise InvalidArgumentRuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                                          f"{value.ndim} dimension(s).")
    return value.astype(dtype)


def _masked_fill_forward(arrays: list, attrs: dict):
    x, mask, value = arrays
    x, mask = _broadcast(x, mask)
    return np.where(mask, _fill_value("masked_fill_", value, x.dtype), x)


register(OpDef(
    name="masked_fill", forward=_masked_fill_forward,
    vjps=(lambda F, g, c: F.where(c.inputs[1], 0.0, g), None,
          lambda F, g, c: F.sum(F.where(c.inputs[1], g, 0.0))),
    grad_fn=lambda node: "MaskedFillBackward0" if node.input_dtypes[2] is None else "MaskedFillBackward1",
    dtype_rule=_rule("masked_fill", mask_position=1, numbers=(2,)), saves_inputs=(1,), min_inputs=3, max_inputs=3,
    signature=("input", "mask", "value"), methods=("masked_fill",), functions=("masked_fill",),
    out_shape=lambda shapes, attrs: broadcast_shapes(shapes[:2]),
    summary="a copy of input with value (a number or a 0-dim tensor) where mask is True (mask broadcasts)",
))


def _masked_select_forward(arrays: list, attrs: dict):
    x, mask = _broadcast(*arrays)
    return x[mask]


register(OpDef(
    name="masked_select", forward=_masked_select_forward,
    vjps=(lambda F, g, c: F.masked_scatter(F.zeros(tuple(np.broadcast_shapes(*c.input_shapes)), like=g), c.inputs[1], g),
          None),
    grad_fn="MaskedSelectBackward0", dtype_rule=_rule("masked_select", mask_position=1), saves_inputs=(1,),
    min_inputs=2, max_inputs=2, methods=("masked_select",), functions=("masked_select",),
    out_shape=lambda shapes, attrs: Bound((int(np.prod(broadcast_shapes(shapes))),)),
    summary="the elements where mask is True, as a 1-D tensor",
))


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


register(OpDef(
    name="masked_scatter", forward=_masked_scatter_forward,
    vjps=(lambda F, g, c: F.where(c.inputs[1], 0.0, g), None, _masked_scatter_source_vjp),
    grad_fn="MaskedScatterBackward0", dtype_rule=_rule("masked_scatter", mask_position=1, same=(2,)),
    saves_inputs=(1,), min_inputs=3, max_inputs=3, methods=("masked_scatter",), functions=("masked_scatter",),
    out_shape=lambda shapes, attrs: broadcast_shapes(shapes[:2]),
    summary="a copy of input with source's leading elements written where mask is True, in order",
))


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


register(OpDef(
    name="take", forward=_take_forward, vjps=(_take_vjp, None), grad_fn="TakeBackward0",
    dtype_rule=_rule("take", 1), saves_inputs=(1,), min_inputs=2, max_inputs=2, methods=("take",), functions=("take",),
    out_shape=lambda shapes, attrs: tuple(shapes[1]), summary="elements at flat indices, shaped like index",
))


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


register(OpDef(
    name="take_along_dim", forward=_take_along_forward, vjps=(_take_along_vjp, None), grad_fn="GatherBackward0",
    dtype_rule=_rule("take_along_dim", 1), saves_inputs=(1,), min_inputs=2, max_inputs=2,
    attrs=(AttrSpec("dim", "integer", aliases=("axis",), description="the dim to pick along; flattened when omitted"),),
    methods=("take_along_dim",), functions=("take_along_dim",),
    summary="input's values at indices along dim (they broadcast elsewhere), numpy's take_along_axis",
))
