"""Rules of the rearranging ops: flatten, unflatten, flip (fliplr, flipud), roll, repeat, tile,
repeat_interleave, movedim, and the *_as forms (expand_as, view_as, reshape_as)."""

from __future__ import annotations

import math

from gradwire.rules import promotion
from gradwire.rules.errors import ShapeError

from ..checks import check_tensors, tensors_only
from ..shapes import normalise_dims
from ..spec import AttrSpec, Bound, OpRules, define
from .shape import dim_of, expanded, reshaped, shape_args


def _simple(name, grad_fn, out_shape, attrs=(), methods=None, functions=None, summary="", **options):
    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=tensors_only(name, promotion.same), attrs=attrs,
        methods=(name,) if methods is None else methods, functions=(name,) if functions is None else functions,
        out_shape=out_shape, summary=summary, **options,
    ))


# ---------------------------------------------------------------- flatten, unflatten
def flattened(shape: tuple, start_dim: int, end_dim: int) -> tuple:
    if not shape:
        dim_of(start_dim, 0), dim_of(end_dim, 0)
        return (1,)
    start, end = dim_of(start_dim, len(shape)), dim_of(end_dim, len(shape))
    if start > end:
        raise ShapeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return tuple(shape[:start]) + (math.prod(shape[start:end + 1]),) + tuple(shape[end + 1:])


_simple("flatten", "ViewBackward0", lambda shapes, attrs: flattened(tuple(shapes[0]), attrs["start_dim"], attrs["end_dim"]),
        attrs=(AttrSpec("start_dim", "integer", default=0, description="first dim to merge"),
               AttrSpec("end_dim", "integer", default=-1, description="last dim to merge")),
        view=True, summary="merge dims start_dim..end_dim into one")


def unflattened(shape: tuple, dim: int, sizes: tuple) -> tuple:
    axis = dim_of(dim, len(shape))
    size = shape[axis] if shape else 1
    sizes = tuple(sizes)
    known = math.prod(n for n in sizes if n != -1)
    if -1 in sizes and sizes.count(-1) == 1 and known and size % known == 0:
        sizes = tuple(size // known if n == -1 else n for n in sizes)
    if -1 in sizes or math.prod(sizes) != size or any(n < 0 for n in sizes):
        raise ShapeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {axis} "
                         f"({size}) in the input tensor")
    return tuple(shape[:axis]) + sizes + tuple(shape[axis + 1:])


_simple("unflatten", "ViewBackward0", lambda shapes, attrs: unflattened(tuple(shapes[0]), attrs["dim"], attrs["sizes"]),
        attrs=(AttrSpec("dim", "integer", required=True, description="the dim to split"),
               AttrSpec("sizes", "ints", required=True, description="its new sizes (one may be -1)")),
        view=True, summary="split one dim into several")


# ---------------------------------------------------------------- flips and roll
def flip_axes(dims, rank: int) -> tuple:
    """The dims to reverse, in [0, rank) (torch's errors for out of range or repeated dims)."""
    axes = normalise_dims(dims, rank)
    return axes if rank else ()


def _flip_shape(shapes: list, attrs: dict) -> tuple:
    flip_axes(attrs["dims"], len(shapes[0]))
    return tuple(shapes[0])


_simple("flip", "FlipBackward0", _flip_shape,
        attrs=(AttrSpec("dims", "ints", required=True, description="the dims to reverse"),),
        parse=shape_args("dims"), summary="reverse the order of elements along dims")


def _at_least(least: int):
    def rule(shapes: list, attrs: dict) -> tuple:
        if len(shapes[0]) < least:
            raise ShapeError(f"Input must be >= {least}-d.")
        return tuple(shapes[0])

    return rule


_simple("fliplr", "FlipBackward0", _at_least(2), summary="reverse dim 1 (input of at least 2 dims)")
_simple("flipud", "FlipBackward0", _at_least(1), summary="reverse dim 0 (input of at least 1 dims)")


def roll_dims(shifts, dims, rank: int) -> tuple[tuple, tuple | None]:
    """(shifts, axes) of a roll, as tuples; axes None rolls the flattened tensor."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ShapeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return shifts, None
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return shifts, tuple(dim_of(d, rank) for d in dims)


def _roll_shape(shapes: list, attrs: dict) -> tuple:
    roll_dims(attrs["shifts"], attrs["dims"], len(shapes[0]))
    return tuple(shapes[0])


_simple("roll", "RollBackward0", _roll_shape,
        attrs=(AttrSpec("shifts", "integer|ints", required=True, description="places to shift by (per dim)"),
               AttrSpec("dims", "integer|ints", description="dims to roll; the flattened tensor when omitted")),
        summary="shift elements cyclically along dims")


# ---------------------------------------------------------------- repeat, tile, repeat_interleave
def repeated(shape: tuple, reps: tuple) -> tuple:
    reps = tuple(reps)
    if len(reps) < len(shape):
        raise ShapeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    result = tuple(r * n for r, n in zip(reps, padded))
    if any(r < 0 for r in reps):
        raise ShapeError(f"Trying to create tensor with negative dimension {min(result)}: {list(result)}")
    return result


def tile_reps(shape: tuple, reps: tuple) -> tuple:
    """tile's repeats: padded with leading ones to the tensor's rank."""
    return (1,) * (len(shape) - len(reps)) + tuple(reps)


_simple("repeat", "RepeatBackward0", lambda shapes, attrs: repeated(tuple(shapes[0]), attrs["repeats"]),
        attrs=(AttrSpec("repeats", "ints", required=True, description="copies along each dim (leading new dims "
                        "allowed)"),), functions=(), parse=shape_args("repeats"),
        summary="tile the tensor: repeats[i] copies along dim i")
_simple("tile", "RepeatBackward0",
        lambda shapes, attrs: repeated(tuple(shapes[0]), tile_reps(tuple(shapes[0]), attrs["repeats"])),
        attrs=(AttrSpec("repeats", "ints", required=True, aliases=("dims",),
                        description="copies along each trailing dim (missing leading ones count as 1)"),),
        parse=shape_args("repeats"), summary="repeat, padding repeats with leading ones to the tensor's rank")


def _interleave_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    check_tensors("repeat_interleave", operand_dtypes, operands, (0,))
    return None, operand_dtypes[0]


def _interleave_shape(shapes: list, attrs: dict) -> tuple:
    """The length along dim is the sum of the repeat counts, which are values (a Python int's too: a rule
    sees () for it), so no shape bounds it: the answer is a Bound of the result's rank with the input's
    length there (what the budget charged before; it settles on the real result). Shape mistakes raise."""
    shape, counts = tuple(shapes[0]), tuple(shapes[1])
    if len(counts) > 1:
        raise ShapeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor")
    axis = 0 if attrs["dim"] is None else dim_of(attrs["dim"], len(shape))
    size = math.prod(shape) if attrs["dim"] is None else shape[axis] if shape else 1
    if counts and counts[0] not in (1, size):
        raise ShapeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                         f"{counts[0]} and input.size({axis}) = {size}")
    return Bound((size,) if attrs["dim"] is None or not shape else shape)


define(OpRules(
    name="repeat_interleave",
    grad_fn=lambda call: "IndexSelectBackward0" if call.input_dtypes[1] is not None else "ViewBackward0",
    dtype_rule=_interleave_rule, min_inputs=2, max_inputs=2, out_shape=_interleave_shape,
    attrs=(AttrSpec("dim", "integer", description="the dim to repeat along; the flattened tensor when omitted"),),
    signature=("input", "repeats", "dim"), methods=("repeat_interleave",), functions=("repeat_interleave",),
    summary="repeat each element along dim: an int for all, or an integer tensor of counts",
))


# ---------------------------------------------------------------- movedim
def moves(source, destination, rank: int) -> tuple[tuple, tuple]:
    """(source, destination) dims of a movedim in [0, rank), or torch's errors."""
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise ShapeError(f"movedim: Invalid source or destination dims: source ({list(source)} dims) should contain "
                         f"the same number of dims as destination ({list(destination)} dims)")
    normal_source = tuple(dim_of(d, rank) for d in source)
    normal_destination = tuple(dim_of(d, rank) for d in destination)
    for what, given, normal in (("source", source, normal_source), ("destination", destination, normal_destination)):
        if len(set(normal)) != len(normal):
            raise ShapeError(f"movedim: repeated dim in `{what}` ({list(given)})")
    return normal_source, normal_destination


def _movedim_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    source, destination = moves(attrs["source"], attrs["destination"], len(shape))
    if not shape:
        return ()
    result: list = [None] * len(shape)
    for s, d in zip(source, destination):
        result[d] = shape[s]
    rest = iter(n for d, n in enumerate(shape) if d not in source)
    return tuple(n if n is not None else next(rest) for n in result)


define(OpRules(
    name="movedim", grad_fn="PermuteBackward0", dtype_rule=tensors_only("movedim", promotion.same), view=True,
    attrs=(AttrSpec("source", "integer|ints", required=True, description="dims to move"),
           AttrSpec("destination", "integer|ints", required=True, description="where they go")),
    methods=("movedim", "moveaxis"), functions=("movedim", "moveaxis"), out_shape=_movedim_shape,
    summary="move dims to new positions",
))


# ---------------------------------------------------------------- *_as: the shape of another tensor
def _as_op(name: str, grad_fn: str, shape_rule, summary: str) -> None:
    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=tensors_only(name, lambda d, o, a: (None, d[0]), None),
        min_inputs=2, max_inputs=2, view=True, methods=(name,), summary=summary,
        out_shape=lambda shapes, attrs: shape_rule(tuple(shapes[0]), tuple(shapes[1])),
    ))


_as_op("expand_as", "ExpandBackward0", expanded, "expand to other's shape")
_as_op("view_as", "ViewBackward0", reshaped, "view with other's shape")
_as_op("reshape_as", "ViewBackward0", reshaped, "reshape to other's shape")
