"""Rules of gather and scatter_add (reading and accumulating along a dim at integer positions), and the
checks of an index tensor against the tensors it reads or writes, which the ops of selecting.py share."""

from __future__ import annotations

from .. import dtypes
from ..checks import check_tensors
from ..errors import DTypeRuntimeError, ShapeError
from ..spec import AttrSpec, OpRules, define
from .shape import dim_of

DIM = AttrSpec("dim", "integer", required=True, aliases=("axis",), description="the dim the index runs along")


def check_fits(name: str, index: tuple, other: tuple, axis: int | None, what: str) -> None:
    """torch's rule for gather/scatter index tensors: as many dims as `other` (0-dim counts as 1-dim) and no
    larger in any dim (but `axis`; None: every dim)."""
    index, other = tuple(index) or (1,), tuple(other) or (1,)
    if len(index) != len(other) and not (len(index) <= 1 and len(other) <= 1):
        raise ShapeError(f"{name}(): Index tensor must have the same number of dimensions as {what} tensor "
                         f"({len(index)} vs {len(other)})")
    for d, (i, n) in enumerate(zip(index, other)):
        if d != axis and i > n:
            apart = "" if axis is None else f" apart from dimension {axis}"
            raise ShapeError(f"{name}(): Size does not match at dimension {d} expected index {list(index)} to be no "
                             f"larger than {what} {list(other)}{apart}")


def index_dtype(name: str, index_position: int, same_positions=()):
    """dtype rule: tensors only, an int64 index, and `same_positions` of the input's dtype."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        check_tensors(name, operand_dtypes, operands)
        if operand_dtypes[index_position] is not dtypes.int64:
            raise DTypeRuntimeError(f"{name}(): Expected dtype int64 for index, got {operand_dtypes[index_position].name}")
        for position in same_positions:
            if operand_dtypes[position] is not operand_dtypes[0]:
                raise DTypeRuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype "
                                        f"({operand_dtypes[0].name} vs {operand_dtypes[position].name})")
        return None, operand_dtypes[0]

    return rule


def _gather_shape(shapes: list, attrs: dict) -> tuple:
    x, index = tuple(shapes[0]), tuple(shapes[1])
    check_fits("gather", index, x, dim_of(attrs["dim"], len(x)), "input")
    return index


def scattered_shape(name: str):
    """The shape rule of scatter-like ops (input, index, src): the input's shape, the index fitting both."""

    def rule(shapes: list, attrs: dict) -> tuple:
        x, index, src = (tuple(s) for s in shapes[:3])
        if any(n == 0 for n in index) and index:  # nothing is written: torch checks nothing
            return x
        axis = dim_of(attrs["dim"], len(x))
        check_fits(name, index, x, axis, "self")
        if src:  # a tensor source (a number has shape ())
            check_fits(name, index, src, None, "src")
        return x

    return rule


define(OpRules(
    name="gather", grad_fn="GatherBackward0", dtype_rule=index_dtype("gather", 1), min_inputs=2, max_inputs=2,
    attrs=(DIM,), signature=("input", "dim", "index"), methods=("gather",), functions=("gather",),
    out_shape=_gather_shape, summary="out[..i..] = input[..index[..i..]..] along dim",
))
define(OpRules(
    name="scatter_add", grad_fn="ScatterAddBackward0", dtype_rule=index_dtype("scatter_add", 1, (2,)),
    min_inputs=3, max_inputs=3, attrs=(DIM,), signature=("input", "dim", "index", "src"),
    methods=("scatter_add",), functions=("scatter_add",), out_shape=scattered_shape("scatter_add"),
    summary="a copy of input with src added at index along dim (repeated indices accumulate)",
))
