"""Rules of the searches real code uses: bucketize and searchsorted (indices into sorted boundaries),
nonzero and argwhere (the indices of the non-zero elements: a shape that depends on the values, a `Bound`
the server settles). None of them is differentiable (see rules/spec.py; engine: engine/ops/searching.py)."""

from __future__ import annotations

import math

from .. import dtypes
from ..checks import tensors_only
from ..errors import ArgumentError, InvalidArgumentRuntimeError
from ..spec import OPTIONAL_OPERAND, AttrSpec, Bound, OpRules, define
from .reductions import OUTPUT

OUT_INT32 = AttrSpec("out_int32", "boolean", default=False, description="int32 indices instead of int64")
RIGHT = AttrSpec("right", "boolean", default=False,
                 description="on a tie, the index after the equal boundaries (False: before them)")


def _index_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    return None, dtypes.int32 if attrs["out_int32"] else dtypes.int64


def side_is_right(attrs: dict) -> bool:
    """searchsorted's `side` ('left' / 'right') and `right` flag as one answer, or torch's error."""
    side, right = attrs.get("side"), attrs["right"]
    if side is None:
        return right
    if side not in ("left", "right"):
        raise InvalidArgumentRuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if right and side == "left":
        raise InvalidArgumentRuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side "
                                          "of left while right was True")
    return side == "right"


def _bucketize_shape(shapes: list, attrs: dict) -> tuple:
    if len(shapes[1]) != 1:
        raise InvalidArgumentRuntimeError(f"boundaries tensor must be 1 dimension, but got dim({len(shapes[1])})")
    return tuple(shapes[0])


define(OpRules(
    name="bucketize", dtype_rule=tensors_only("bucketize", _index_dtype, positions=(1,)), differentiable=False,
    min_inputs=2, max_inputs=2, attrs=(OUT_INT32, RIGHT), out_shape=_bucketize_shape, functions=("bucketize",),
    summary="for each value, the index of the bucket of the sorted 1-D boundaries it falls in",
))


def _searchsorted_shape(shapes: list, attrs: dict) -> tuple:
    boundaries, values = tuple(shapes[0]), tuple(shapes[1])
    side_is_right(attrs)
    if len(boundaries) != 1 and (len(boundaries) != len(values) or boundaries[:-1] != values[:-1]):
        raise InvalidArgumentRuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
            f"tensor and input value tensor must match, but we got boundaries tensor {list(boundaries)} and input "
            f"value tensor {list(values)}")
    sorter = tuple(shapes[2]) if len(shapes) > 2 else ()
    if sorter and sorter != boundaries:
        raise InvalidArgumentRuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got "
                                          f"boundary tensor {list(boundaries)}and got sorter tensor {list(sorter)}")
    return values


def _searchsorted_parse(args, kwargs):
    """searchsorted(sorted_sequence, input, *, out_int32, right, side, sorter): sorter is an operand."""
    names = ("sorted_sequence", "input")
    if len(args) > len(names):
        raise ArgumentError("searchsorted() takes 2 positional arguments (sorted_sequence, input); the rest are "
                            "keywords")
    named = dict(zip(names, args))
    for name in names:
        if name in kwargs:
            if name in named:
                raise ArgumentError(f"searchsorted() got multiple values for argument '{name}'")
            named[name] = kwargs.pop(name)
    missing = [name for name in names if name not in named]
    if missing:
        raise ArgumentError(f"searchsorted() missing required argument '{missing[0]}'")
    return [named["sorted_sequence"], named["input"], kwargs.pop("sorter", None)], kwargs


define(OpRules(
    name="searchsorted", dtype_rule=tensors_only("searchsorted", _index_dtype), differentiable=False,
    min_inputs=2, max_inputs=3,
    attrs=(OUT_INT32, RIGHT, AttrSpec("side", "text|none", description="'left' or 'right' (the same as right=True)"),
           AttrSpec("sorter", OPTIONAL_OPERAND, description="indices that sort sorted_sequence along its last dim")),
    parse=_searchsorted_parse,
    out_shape=_searchsorted_shape, functions=("searchsorted",),
    summary="for each value, where it would be inserted into the sorted last dim of sorted_sequence",
))


def _nonzero_shape(shapes: list, attrs: dict) -> Bound:
    shape = tuple(shapes[0])
    return Bound((math.prod(shape), len(shape)))


for _name in ("nonzero", "argwhere"):
    define(OpRules(
        name=_name, dtype_rule=tensors_only(_name, lambda d, o, a: (None, dtypes.int64)), differentiable=False,
        attrs=(AttrSpec("as_tuple", "boolean", default=False, description="one index tensor per dim instead "
                        "(the op nonzero_tuple)"),) if _name == "nonzero" else (),
        out_shape=_nonzero_shape, methods=(_name,), functions=(_name,),
        summary="the indices of the non-zero elements, one row each (a shape that depends on the values)",
    ))
define(OpRules(
    name="nonzero_tuple", dtype_rule=tensors_only("nonzero", lambda d, o, a: (None, dtypes.int64)),
    differentiable=False, attrs=(OUTPUT,), out_shape=lambda shapes, attrs: Bound((math.prod(tuple(shapes[0])),)),
    pieces=lambda shapes, attrs: max(len(tuple(shapes[0])), 1),  # spelled by where(condition), nonzero(as_tuple=True)
    summary="nonzero(x, as_tuple=True) and where(x): the indices of the non-zero elements, one tensor per dim",
))


def tuple_form(op_name: str, operands: list, attrs: dict) -> str | None:
    """The op a call runs instead when torch returns index tuples: where(condition) with one argument and
    nonzero(x, as_tuple=True) are nonzero_tuple (`as_tuple` is taken out of attrs); None otherwise."""
    if op_name == "where" and len(operands) == 1 and not attrs:
        return "nonzero_tuple"
    if op_name == "nonzero" and attrs.get("as_tuple"):
        del attrs["as_tuple"]
        return "nonzero_tuple"
    return None
