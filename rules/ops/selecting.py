"""Rules of selecting and writing by index or mask: index_select, index_add, index_fill, index_copy,
scatter, scatter_reduce, masked_fill, masked_select, masked_scatter, take, take_along_dim.
Index tensors are int64 and never differentiable; masks are bool."""

from __future__ import annotations

import math

from .. import dtypes
from ..checks import check_tensors
from ..errors import (
    ArgumentError, DTypeRuntimeError, IndexOutOfRange, InvalidArgumentRuntimeError, ShapeError,
)
from ..shapes import broadcast_shapes
from ..spec import AttrSpec, Bound, OpRules, define
from .gathering import DIM, scattered_shape
from .shape import dim_of

ALPHA = AttrSpec("alpha", "real", default=1, description="the multiplier of source")
SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


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


def vector_index(name: str, index: tuple) -> int:
    """The length of an index that must be a vector (0 or 1 dims), or torch's IndexError."""
    if len(index) > 1:
        raise IndexOutOfRange(f"{name}(): Index is supposed to be a vector, got {len(index)} dims")
    return math.prod(index)


def check_fill_value(name: str, value: tuple) -> None:
    """A fill value is a number or a 0-dim tensor (torch refuses others)."""
    if value:
        raise InvalidArgumentRuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                                          f"{len(value)} dimension(s).")


# ---------------------------------------------------------------- index_select / add / fill / copy
def _index_select_shape(shapes: list, attrs: dict) -> tuple:
    x, index = tuple(shapes[0]), tuple(shapes[1])
    axis = dim_of(attrs["dim"], len(x))
    count = vector_index("index_select", index)
    if not x:
        return index
    return x[:axis] + (count,) + x[axis + 1:]


def _index_write_shape(name: str, source_must_fit: bool):
    def rule(shapes: list, attrs: dict) -> tuple:
        x, index, source = (tuple(s) for s in shapes[:3])
        axis = dim_of(attrs["dim"], len(x))
        count = vector_index(name, index)
        if source_must_fit:
            expected = x[:axis] + (count,) + x[axis + 1:] if x else (count,)
            if source != expected and not (not x and math.prod(source) == count):
                raise ShapeError(f"{name}(): source tensor shape must match self tensor shape, excluding the specified "
                                 f"dimension. Got self.shape = {list(x)} source.shape = {list(source)}")
        elif name == "index_fill":
            check_fill_value("index_fill_", source)
        return x

    return rule


define(OpRules(
    name="index_select", grad_fn="IndexSelectBackward0", dtype_rule=_rule("index_select", 1), min_inputs=2,
    max_inputs=2, attrs=(DIM,), signature=("input", "dim", "index"), methods=("index_select",),
    functions=("index_select",), out_shape=_index_select_shape, summary="the entries at a vector of indices along dim",
))
define(OpRules(
    name="index_add", grad_fn="IndexAddBackward0", dtype_rule=_rule("index_add", 1, same=(2,)), min_inputs=3,
    max_inputs=3, attrs=(DIM, ALPHA), signature=("input", "dim", "index", "source", "alpha"),
    methods=("index_add",), functions=("index_add",), out_shape=_index_write_shape("index_add", True),
    summary="a copy of input with alpha * source added at index along dim",
))
define(OpRules(
    name="index_fill", grad_fn=lambda call: "IndexFillBackward0" if call.input_dtypes[2] is None else "IndexFillBackward1",
    dtype_rule=_rule("index_fill", 1, numbers=(2,)), min_inputs=3, max_inputs=3,
    attrs=(DIM,), signature=("input", "dim", "index", "value"), methods=("index_fill",),
    functions=("index_fill",), out_shape=_index_write_shape("index_fill", False),
    summary="a copy of input with value written at index along dim",
))
define(OpRules(
    name="index_copy", grad_fn="IndexCopyBackward0", dtype_rule=_rule("index_copy", 1, same=(2,)), min_inputs=3,
    max_inputs=3, attrs=(DIM,), signature=("input", "dim", "index", "source"), methods=("index_copy",),
    functions=("index_copy",), out_shape=_index_write_shape("index_copy", False),
    summary="a copy of input with source's slices written at index along dim",
))


# ---------------------------------------------------------------- scatter, scatter_reduce
def _scatter_shape(shapes: list, attrs: dict) -> tuple:
    if attrs["reduce"] not in (None, "add", "multiply"):
        raise ArgumentError(f"scatter(): reduce argument must be either add or multiply, got {attrs['reduce']!r}")
    return scattered_shape("scatter")(shapes, attrs)


def _scatter_reduce_shape(shapes: list, attrs: dict) -> tuple:
    if attrs["reduce"] not in SCATTER_REDUCTIONS:
        raise ArgumentError(f"scatter_reduce(): reduce argument must be one of sum, prod, mean, amax, amin, "
                            f"got {attrs['reduce']!r}")
    return scattered_shape("scatter_reduce")(shapes, attrs)


define(OpRules(
    name="scatter", grad_fn=lambda call: "ScatterBackward1" if call.input_dtypes[2] is None else "ScatterBackward0",
    dtype_rule=_rule("scatter", 1, same=(2,), numbers=(2,)), min_inputs=3, max_inputs=3,
    attrs=(DIM, AttrSpec("reduce", "text", description="'add' or 'multiply' (no gradient, as torch)")),
    signature=("input", "dim", "index", "src|value", "reduce"), methods=("scatter",), functions=("scatter",),
    out_shape=_scatter_shape, summary="a copy of input with src (a tensor or a number) written at index along dim",
))
define(OpRules(
    name="scatter_reduce", grad_fn="ScatterReduceBackward0", dtype_rule=_rule("scatter_reduce", 1, same=(2,)),
    min_inputs=3, max_inputs=3,
    attrs=(DIM, AttrSpec("reduce", "text", required=True, description="sum, prod, mean, amax or amin"),
           AttrSpec("include_self", "boolean", default=True, description="whether input's own values take part")),
    signature=("input", "dim", "index", "src", "reduce", "include_self"), methods=("scatter_reduce",),
    functions=("scatter_reduce",), out_shape=_scatter_reduce_shape,
    summary="reduce src into a copy of input at index along dim",
))


# ---------------------------------------------------------------- masks
def _masked_fill_shape(shapes: list, attrs: dict) -> tuple:
    check_fill_value("masked_fill_", tuple(shapes[2]))
    return broadcast_shapes(shapes[:2])


define(OpRules(
    name="masked_fill",
    grad_fn=lambda call: "MaskedFillBackward0" if call.input_dtypes[2] is None else "MaskedFillBackward1",
    dtype_rule=_rule("masked_fill", mask_position=1, numbers=(2,)), min_inputs=3, max_inputs=3,
    signature=("input", "mask", "value"), methods=("masked_fill",), functions=("masked_fill",),
    out_shape=_masked_fill_shape,
    summary="a copy of input with value (a number or a 0-dim tensor) where mask is True (mask broadcasts)",
))
define(OpRules(
    name="masked_select", grad_fn="MaskedSelectBackward0", dtype_rule=_rule("masked_select", mask_position=1),
    min_inputs=2, max_inputs=2, methods=("masked_select",), functions=("masked_select",),
    out_shape=lambda shapes, attrs: Bound((math.prod(broadcast_shapes(shapes)),)),
    summary="the elements where mask is True, as a 1-D tensor",
))
define(OpRules(
    name="masked_scatter", grad_fn="MaskedScatterBackward0", dtype_rule=_rule("masked_scatter", mask_position=1, same=(2,)),
    min_inputs=3, max_inputs=3, methods=("masked_scatter",), functions=("masked_scatter",),
    out_shape=lambda shapes, attrs: broadcast_shapes(shapes[:2]),
    summary="a copy of input with source's leading elements written where mask is True, in order",
))


# ---------------------------------------------------------------- take, take_along_dim
def along_shapes(x: tuple, index: tuple, dim) -> tuple[tuple, tuple, int]:
    """(input's, indices' shapes, axis) of take_along_dim once they broadcast except along the dim
    (flattened when dim is None), or torch's error."""
    if dim is None:
        return (math.prod(x),), (math.prod(index),), 0
    axis = dim_of(dim, len(x))
    if len(x) != len(index):
        raise ShapeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                         f"but got {len(x)} dimensions for input, and {len(index)} dimensions for indices")
    if not x:
        return x, index, 0
    common = list(broadcast_shapes([x[:axis] + (1,) + x[axis + 1:], index[:axis] + (1,) + index[axis + 1:]]))
    return (tuple(common[:axis]) + (x[axis],) + tuple(common[axis + 1:]),
            tuple(common[:axis]) + (index[axis],) + tuple(common[axis + 1:]), axis)


define(OpRules(
    name="take", grad_fn="TakeBackward0", dtype_rule=_rule("take", 1), min_inputs=2, max_inputs=2, methods=("take",),
    functions=("take",), out_shape=lambda shapes, attrs: tuple(shapes[1]),
    summary="elements at flat indices, shaped like index",
))
define(OpRules(
    name="take_along_dim", grad_fn="GatherBackward0", dtype_rule=_rule("take_along_dim", 1), min_inputs=2,
    max_inputs=2,
    attrs=(AttrSpec("dim", "integer", aliases=("axis",), description="the dim to pick along; flattened when omitted"),),
    methods=("take_along_dim",), functions=("take_along_dim",),
    out_shape=lambda shapes, attrs: along_shapes(tuple(shapes[0]), tuple(shapes[1]), attrs["dim"])[1],
    summary="input's values at indices along dim (they broadcast elsewhere), numpy's take_along_axis",
))
