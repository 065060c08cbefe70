"""Rules of the shape ops: reshape/view, transpose, t, permute, squeeze, unsqueeze, expand, cat, stack
(see rules/spec.py for what an entry holds). The rearranging and splitting ops are in reshaping.py and
splitting.py, imported below.

Views share memory with their input where the engine can (the view flag); whether a view needs a copy
depends on strides, which only the engine knows, so view()'s "not compatible with stride" stays there.
"""

from __future__ import annotations

import math

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError, IndexOutOfRange, InvalidValueError, ShapeError

from ..checks import check_tensors, tensors_only
from ..shapes import normalise_dim, normalise_dims
from ..spec import AttrSpec, OpRules, define


def shape_args(name: str):
    """parse for methods that take sizes as varargs or one sequence: x.view(2, 3) or x.view((2, 3))."""

    def parse(args, kwargs):
        tensor, *sizes = args
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            kwargs[name] = tuple(sizes[0])  # may be () : reshape(()) makes a 0-dim tensor
        elif sizes:
            kwargs[name] = tuple(sizes)
        return [tensor], kwargs

    return parse


def dim_of(dim: int, rank: int) -> int:
    """`dim` in [0, rank) (torch's IndexError otherwise); a 0-dim tensor takes 0 and -1 as dim 0."""
    return normalise_dim(dim, rank)


# ---------------------------------------------------------------- the shape rules
def reshaped(shape: tuple, sizes: tuple) -> tuple:
    """The shape `sizes` (one -1 inferred) for a tensor of `shape`, or torch's RuntimeError."""
    sizes = tuple(sizes)
    if sum(1 for n in sizes if n == -1) > 1:
        raise ShapeError("only one dimension can be inferred")
    for position, n in enumerate(sizes):
        if n < -1:
            raise ShapeError(f"invalid shape dimension {n} at index {position} of shape {list(sizes)}")
    numel = math.prod(shape)
    known = math.prod(n for n in sizes if n != -1)
    if -1 in sizes:
        if known == 0:
            if numel == 0:
                raise ShapeError(f"cannot reshape tensor of 0 elements into shape {list(sizes)} because the "
                                 "unspecified dimension size -1 can be any value and is ambiguous")
        elif numel % known == 0:
            return tuple(numel // known if n == -1 else n for n in sizes)
    elif known == numel:
        return sizes
    raise ShapeError(f"shape '{list(sizes)}' is invalid for input of size {numel}")


def _reshape_shape(shapes: list, attrs: dict) -> tuple:
    return reshaped(tuple(shapes[0]), attrs["shape"])


def _transpose_shape(shapes: list, attrs: dict) -> tuple:
    shape = list(shapes[0])
    first, second = dim_of(attrs["dim0"], len(shape)), dim_of(attrs["dim1"], len(shape))
    if shape:
        shape[first], shape[second] = shape[second], shape[first]
    return tuple(shape)


def _t_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    if len(shape) > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {len(shape)}D; "
                         "use transpose(dim0, dim1)")
    return shape[::-1]


def permutation(dims: tuple, rank: int) -> tuple:
    """`dims` as a permutation of range(rank), or torch's error (wrong length, out of range, repeated)."""
    if len(dims) != rank:
        raise ShapeError(f"permute(): number of dimensions in the tensor input does not match the length of the "
                         f"desired ordering of dimensions i.e. input.dim() = {rank} is not equal to "
                         f"len(dims) = {len(dims)}")
    normal = tuple(dim_of(d, rank) for d in dims)
    if len(set(normal)) != len(normal):
        raise ShapeError("permute(): duplicate dims are not allowed.")
    return normal


def _permute_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    return tuple(shape[d] for d in permutation(tuple(attrs["dims"]), len(shape))) if shape else ()


def squeezed(shape: tuple, dim) -> tuple:
    """`shape` without the size-1 dims among `dim` (None: all; (): none); other dims stay, as torch."""
    if dim is None:
        return tuple(n for n in shape if n != 1)
    axes = normalise_dims(dim, len(shape))
    return tuple(n for d, n in enumerate(shape) if not (d in axes and n == 1))


def _squeeze_shape(shapes: list, attrs: dict) -> tuple:
    return squeezed(tuple(shapes[0]), attrs["dim"])


def _unsqueeze_shape(shapes: list, attrs: dict) -> tuple:
    shape = list(shapes[0])
    rank = len(shape) + 1
    dim = attrs["dim"]
    if not -rank <= dim < rank:
        raise IndexOutOfRange(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
                              f"but got {dim})")
    shape.insert(dim % rank, 1)
    return tuple(shape)


def expanded(shape: tuple, sizes: tuple) -> tuple:
    """`shape` broadcast to `sizes` (-1 keeps an existing size), or torch's RuntimeError."""
    shape, sizes = tuple(shape), tuple(sizes)
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ShapeError(f"expand({list(shape)}, size={list(sizes)}): the number of sizes provided ({len(sizes)}) "
                         f"must be greater or equal to the number of dimensions in the tensor ({len(shape)})")
    result = []
    for position, target in enumerate(sizes):
        if position < lead:
            if target < 0:
                raise ShapeError(f"The expanded size of the tensor ({target}) isn't allowed in a leading, "
                                 f"non-existing dimension {position}")
            result.append(target)
            continue
        n = shape[position - lead]
        if target == -1:
            target = n
        if target != n and (n != 1 or target < 0):
            raise ShapeError(f"The expanded size of the tensor ({target}) must match the existing size ({n}) at "
                             f"non-singleton dimension {position}.  Target sizes: {list(sizes)}.  "
                             f"Tensor sizes: {list(shape)}")
        result.append(target)
    return tuple(result)


def _expand_shape(shapes: list, attrs: dict) -> tuple:
    return expanded(tuple(shapes[0]), attrs["shape"])


def cat_kept(shapes: list) -> list[int]:
    """The positions cat concatenates: torch skips 1-D empty tensors (shape (0,)) beside others."""
    kept = [position for position, shape in enumerate(shapes) if tuple(shape) != (0,)]
    return kept or list(range(len(shapes)))


def _cat_shape(shapes: list, attrs: dict) -> tuple:
    if not shapes:
        raise InvalidValueError("torch.cat(): expected a non-empty list of Tensors")
    for position, shape in enumerate(shapes):
        if not shape:
            raise ShapeError(f"zero-dimensional tensor (at position {position}) cannot be concatenated")
    kept = cat_kept(shapes)
    first = list(shapes[kept[0]])
    dim = dim_of(attrs["dim"], len(first))
    for position in kept[1:]:
        shape = shapes[position]
        if len(shape) != len(first):
            raise ShapeError(f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}")
        for d, (expected, got) in enumerate(zip(first, shape)):
            if d != dim and expected != got:
                raise ShapeError(f"Sizes of tensors must match except in dimension {dim}. Expected size {expected} "
                                 f"but got size {got} for tensor number {position} in the list.")
    first[dim] = sum(shapes[position][dim] for position in kept)
    return tuple(first)


def _stack_shape(shapes: list, attrs: dict) -> tuple:
    if not shapes:
        raise ShapeError("stack expects a non-empty TensorList")
    for position, shape in enumerate(shapes):
        if tuple(shape) != tuple(shapes[0]):
            raise ShapeError(f"stack expects each tensor to be equal size, but got {list(shapes[0])} at entry 0 "
                             f"and {list(shape)} at entry {position}")
    dim = dim_of(attrs["dim"], len(shapes[0]) + 1)
    return tuple(shapes[0][:dim]) + (len(shapes),) + tuple(shapes[0][dim:])


# ---------------------------------------------------------------- entries
def _squeeze_name(call) -> str:
    dim = call.attrs["dim"]
    return "SqueezeBackward0" if dim is None else "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"


def _view(name: str, grad_fn, out_shape, attrs=(), parse=None, methods=None, summary="", functions=None) -> None:
    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=tensors_only(name, promotion.same), attrs=attrs, view=True,
        methods=(name,) if methods is None else methods, functions=(name,) if functions is None else functions,
        parse=parse, out_shape=out_shape, summary=summary,
    ))


SHAPE = AttrSpec("shape", "ints", required=True)

_view("reshape", "ViewBackward0", _reshape_shape, attrs=(SHAPE,), parse=shape_args("shape"),
      summary="the same values in a new shape (-1 infers one size); copies when the strides need it")
_view("view", "ViewBackward0", _reshape_shape, attrs=(SHAPE,), parse=shape_args("shape"),
      summary="the same memory in a new shape (-1 infers one size); refused where it would need a copy",
      functions=())
_view("transpose", "TransposeBackward0", _transpose_shape,
      attrs=(AttrSpec("dim0", "integer", required=True), AttrSpec("dim1", "integer", required=True)),
      methods=("transpose", "swapaxes", "swapdims"), functions=("transpose", "swapaxes", "swapdims"),
      summary="swap two dims")
_view("t", "TBackward0", _t_shape, summary="transpose a tensor of at most 2 dims")
_view("permute", "PermuteBackward0", _permute_shape, attrs=(AttrSpec("dims", "ints", required=True),),
      parse=shape_args("dims"), summary="reorder dims")
_view("squeeze", _squeeze_name, _squeeze_shape, attrs=(AttrSpec("dim", "integer|ints", aliases=("axis",)),),
      summary="drop dims of size 1")
_view("unsqueeze", "UnsqueezeBackward0", _unsqueeze_shape,
      attrs=(AttrSpec("dim", "integer", required=True, aliases=("axis",)),), summary="insert a dim of size 1")
_view("expand", "ExpandBackward0", _expand_shape,
      attrs=(AttrSpec("shape", "ints", required=True, aliases=("size",)),), parse=shape_args("shape"),
      methods=("expand", "broadcast_to"), functions=("broadcast_to",),
      summary="broadcast to a larger shape without copying (-1 keeps a size)")


def _tensor_list(name: str):
    """parse for cat/stack: cat(tensors, dim=0), the list also accepted as the keyword `tensors`."""

    def parse(args, kwargs):
        args = list(args)
        tensors = kwargs.pop("tensors") if "tensors" in kwargs else args.pop(0) if args else None
        if tensors is None or not isinstance(tensors, (list, tuple)):
            raise ArgumentError(f"{name}(): expected a list or tuple of Tensors as the first argument")
        if args:
            if "dim" in kwargs or len(args) > 1:
                raise ArgumentError(f"{name}() takes a list of tensors and one dim")
            kwargs["dim"] = args[0]
        return list(tensors), kwargs

    return parse


def _non_empty(message: str, error: type):
    """cat / stack dtype rule: promote over the tensors, refusing an empty list as torch does."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        if not operands:
            raise error(message)
        check_tensors("cat/stack", operand_dtypes, operands)
        return promotion.promote_tensors(operand_dtypes, operands, attrs)

    return rule


DIM_ALONG = AttrSpec("dim", "integer", default=0, aliases=("axis",))

define(OpRules(
    name="cat", grad_fn="CatBackward0",
    dtype_rule=_non_empty("torch.cat(): expected a non-empty list of Tensors", InvalidValueError),
    min_inputs=0, max_inputs=-1, attrs=(DIM_ALONG,), functions=("cat", "concatenate"), out_shape=_cat_shape,
    parse=_tensor_list("cat"), summary="concatenate along an existing dim",
))
define(OpRules(
    name="stack", grad_fn="StackBackward0",
    dtype_rule=_non_empty("stack expects a non-empty TensorList", ShapeError), min_inputs=0, max_inputs=-1,
    attrs=(DIM_ALONG,), functions=("stack",), parse=_tensor_list("stack"), out_shape=_stack_shape,
    summary="stack along a new dim",
))

from . import reshaping, splitting  # noqa: E402,F401  (definition side effects; they use the helpers above)
