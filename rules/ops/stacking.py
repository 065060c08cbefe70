"""Rules of the stacking helpers real code uses: hstack / vstack (row_stack) / dstack / column_stack (a cat
after raising each tensor's rank), atleast_1d / 2d / 3d, broadcast_tensors, block_diag and rot90 (see
rules/spec.py; the engine's computations are in engine/ops/stacking.py)."""

from __future__ import annotations

from .. import promotion
from ..checks import check_tensors, tensors_only
from ..errors import ArgumentError, InvalidArgumentRuntimeError, ShapeError
from ..shapes import broadcast_shapes, normalise_dim
from ..spec import AttrSpec, OpRules, define
from .reductions import OUTPUT
from .shape import _cat_shape


def at_least(shape: tuple, rank: int) -> tuple:
    """torch.atleast_{1,2,3}d's shape: () -> (1,)*rank, (n,) -> (1, n) / (1, n, 1), (n, m) -> (n, m, 1)."""
    shape = tuple(shape)
    if len(shape) >= rank:
        return shape
    if not shape:
        return (1,) * rank
    if len(shape) == 1:
        return ((1,) + shape + (1,))[:rank]
    return shape + (1,)


def column(shape: tuple) -> tuple:
    """column_stack's view of one tensor: numbers and vectors become columns."""
    shape = tuple(shape)
    return (1, 1) if not shape else (shape[0], 1) if len(shape) == 1 else shape


# name -> (the shape each tensor is raised to, the dim the raised tensors are concatenated along)
STACKERS = {
    "hstack": (lambda s: at_least(s, 1), lambda first: 0 if len(first) == 1 else 1),
    "vstack": (lambda s: at_least(s, 2), lambda first: 0),
    "dstack": (lambda s: at_least(s, 3), lambda first: 2),
    "column_stack": (column, lambda first: 1),
}


def stacked(name: str, shapes: list) -> tuple[list, int]:
    """(the raised shapes, the cat dim) of a stacker's operands."""
    raise_rank, dim_of_first = STACKERS[name]
    raised = [raise_rank(s) for s in shapes]
    return raised, dim_of_first(raised[0])


def _tensor_list(name: str):
    def parse(args, kwargs):
        tensors = kwargs.pop("tensors") if "tensors" in kwargs else args[0] if args else None
        if not isinstance(tensors, (list, tuple)) or len(args) > 1 or kwargs:
            raise ArgumentError(f"{name}() takes one list or tuple of tensors")
        return list(tensors), {}

    return parse


def _stacker_dtype(name: str):
    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        if not operands:
            raise ShapeError(f"{name} expects a non-empty TensorList")
        check_tensors(name, operand_dtypes, operands)
        return promotion.promote_tensors(operand_dtypes, operands, attrs)

    return rule


def _stacker_shape(name: str):
    def rule(shapes: list, attrs: dict) -> tuple:
        if not shapes:
            raise ShapeError(f"{name} expects a non-empty TensorList")
        raised, dim = stacked(name, [tuple(s) for s in shapes])
        return _cat_shape(raised, {"dim": dim})

    return rule


for _name, _summary in (("hstack", "cat along dim 1 (dim 0 for vectors)"), ("vstack", "cat along dim 0 of 2-D views"),
                        ("dstack", "cat along dim 2 of 3-D views"),
                        ("column_stack", "cat along dim 1, vectors as columns")):
    define(OpRules(
        name=_name, grad_fn="CatBackward0", dtype_rule=_stacker_dtype(_name), min_inputs=0, max_inputs=-1,
        functions=(_name, "row_stack") if _name == "vstack" else (_name,), parse=_tensor_list(_name),
        out_shape=_stacker_shape(_name), summary=_summary,
    ))


# ---------------------------------------------------------------- atleast_1d / 2d / 3d
def _one_tensor(name: str):
    def parse(args, kwargs):
        if "input" in kwargs:  # (the one keyword torch's single-tensor form takes)
            args = (*args, kwargs.pop("input"))
        if len(args) != 1 or kwargs or isinstance(args[0], (list, tuple)):
            raise ArgumentError(f"{name}() here takes one tensor (call it once per tensor for several)")
        return [args[0]], {}

    return parse


def _at_least_name(rank: int):
    def name(call) -> str:
        given = len(call.input_shapes[0])
        if given >= rank:
            return "AliasBackward0"  # torch returns the input itself; here it is an alias of it
        return "ViewBackward0" if given == 0 else "UnsqueezeBackward0"

    return name


for _rank in (1, 2, 3):
    _name = f"atleast_{_rank}d"
    define(OpRules(
        name=_name, grad_fn=_at_least_name(_rank), dtype_rule=tensors_only(_name, promotion.same), view=True,
        out_shape=lambda shapes, attrs, rank=_rank: at_least(shapes[0], rank), parse=_one_tensor(_name),
        functions=(_name,), inplace_variant=False, summary=f"a view with at least {_rank} dims",
    ))


# ---------------------------------------------------------------- broadcast_tensors, block_diag
def _each_tensor(name: str):
    def parse(args, kwargs):
        if kwargs:
            raise ArgumentError(f"{name}() takes tensors as positional arguments")
        return list(args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args), {}

    return parse


def _broadcast_tensors_parse(args, kwargs):
    output = kwargs.pop("output", None)
    operands, _ = _each_tensor("broadcast_tensors")(args, kwargs)
    return operands, {} if output is None else {"output": output}


def _tensors_promoted(name: str):
    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        if not operands:
            raise ArgumentError(f"{name}() needs at least one tensor")
        check_tensors(name, operand_dtypes, operands)
        if name == "cartesian_prod" and len(set(operand_dtypes)) > 1:
            raise InvalidArgumentRuntimeError("meshgrid expects all tensors to have the same dtype")
        if name == "broadcast_tensors":
            dtype = operand_dtypes[attrs.get("output") or 0]
            return dtype, dtype
        return promotion.promote_tensors(operand_dtypes, operands, attrs)

    return rule


define(OpRules(
    name="broadcast_tensors", grad_fn="ExpandBackward0", dtype_rule=_tensors_promoted("broadcast_tensors"),
    min_inputs=0, max_inputs=-1, attrs=(OUTPUT,), parse=_broadcast_tensors_parse,
    out_shape=lambda shapes, attrs: broadcast_shapes([tuple(s) for s in shapes]),
    pieces=lambda shapes, attrs: len(shapes), functions=("broadcast_tensors",),
    summary="views of the tensors expanded to their common broadcast shape",
))


def block_shapes(shapes: list) -> list:
    """block_diag's view of each tensor as a matrix, or torch's error for more than 2 dims."""
    blocks = []
    for position, shape in enumerate(shapes):
        shape = tuple(shape)
        if len(shape) > 2:
            raise InvalidArgumentRuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                                              f"Input {position} has {len(shape)} dimensions")
        blocks.append((1, 1) if not shape else (1, shape[0]) if len(shape) == 1 else shape)
    return blocks


def _block_diag_shape(shapes: list, attrs: dict) -> tuple:
    blocks = block_shapes(shapes)
    return sum(b[0] for b in blocks), sum(b[1] for b in blocks)


define(OpRules(
    name="block_diag", grad_fn="BlockDiagBackward0", dtype_rule=_tensors_promoted("block_diag"), min_inputs=0,
    max_inputs=-1, parse=_each_tensor("block_diag"), out_shape=_block_diag_shape, functions=("block_diag",),
    summary="a block-diagonal matrix of the tensors (numbers and vectors as 1-row blocks)",
))


# ---------------------------------------------------------------- rot90
def rot90_dims(dims, ndim: int) -> tuple[int, int]:
    dims = tuple(dims)
    if len(dims) != 2:
        raise InvalidArgumentRuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise InvalidArgumentRuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    first, second = (normalise_dim(d, ndim) for d in dims)
    if first == second:
        raise InvalidArgumentRuntimeError(f"expected rotation dims to be different, but got dim0 = {first} and "
                                          f"dim1 = {second}")
    return first, second


def _rot90_shape(shapes: list, attrs: dict) -> tuple:
    shape = list(shapes[0])
    first, second = rot90_dims(attrs["dims"], len(shape))
    if attrs["k"] % 2:
        shape[first], shape[second] = shape[second], shape[first]
    return tuple(shape)


define(OpRules(
    name="rot90", grad_fn="Rot90Backward0", dtype_rule=tensors_only("rot90", promotion.same),
    attrs=(AttrSpec("k", "integer", default=1, description="how many quarter turns (negative: clockwise)"),
           AttrSpec("dims", "ints", default=(0, 1), description="the plane to rotate in, from dims[0] towards dims[1]")),
    out_shape=_rot90_shape, methods=("rot90",), functions=("rot90",), inplace_variant=False,
    summary="rotate by k quarter turns in the plane of two dims",
))


# ---------------------------------------------------------------- cartesian_prod
def _cartesian_shape(shapes: list, attrs: dict) -> tuple:
    for shape in shapes:
        if len(shape) != 1:
            raise InvalidArgumentRuntimeError(f"Expect a 1D vector, but got shape {list(shape)}")
    if len(shapes) == 1:
        return tuple(shapes[0])
    count = 1
    for shape in shapes:
        count *= shape[0]
    return count, len(shapes)


define(OpRules(
    name="cartesian_prod",
    grad_fn=lambda call: "AliasBackward0" if len(call.input_shapes) == 1 else "StackBackward0",  # torch: the input itself
    dtype_rule=_tensors_promoted("cartesian_prod"), min_inputs=0, max_inputs=-1, parse=_each_tensor("cartesian_prod"),
    out_shape=_cartesian_shape, functions=("cartesian_prod",),
    summary="every combination of one element from each 1-D tensor, one row each (itertools.product order)",
))
