"""Shape ops: reshape/view, transpose, permute, squeeze, unsqueeze, expand, cat, stack.

Views (reshape, transpose, permute, squeeze, unsqueeze, expand) share memory with their input where
numpy can, and then share its version counter too, as torch's views do.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError, IndexOutOfRange, InvalidValueError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .checks import check_tensors, tensors_only
from .reductions import axes_of


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


def _reshape_forward(arrays: list, attrs: dict):
    x = arrays[0]
    try:
        return np.reshape(x, attrs["shape"])
    except ValueError:
        raise ShapeError(f"shape '{list(attrs['shape'])}' is invalid for input of size {x.size}") from None


def _view_forward(arrays: list, attrs: dict):
    """Like reshape, but never copies: torch refuses a view whose strides would need one."""
    x = _reshape_forward(arrays, attrs)  # checks the size
    if not np.may_share_memory(x, arrays[0]) and x.size:
        raise ShapeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead."
        )
    return x


def _dim(d: int, ndim: int) -> int:
    return axes_of(d, ndim)[0] if ndim else 0


def _transpose_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        return x
    return np.swapaxes(x, _dim(attrs["dim0"], x.ndim), _dim(attrs["dim1"], x.ndim))


def _permute_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if len(attrs["dims"]) != x.ndim:
        raise ShapeError(f"permute(): number of dims don't match: the tensor has {x.ndim} dims, "
                         f"dims {list(attrs['dims'])} has {len(attrs['dims'])}")
    dims = tuple(_dim(d, x.ndim) for d in attrs["dims"])
    if sorted(dims) != list(range(x.ndim)):
        raise ShapeError(f"permute(): dims {list(attrs['dims'])} are not a permutation of {x.ndim} dims")
    return np.transpose(x, dims)


def _permute_vjp(F, g, c):
    dims = [_dim(d, len(c.input_shapes[0])) for d in c.attrs["dims"]]
    return F.permute(g, dims=tuple(int(i) for i in np.argsort(dims)))


def _squeeze_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if attrs["dim"] is None:
        return np.squeeze(x)
    if attrs["dim"] == ():
        return x.view()  # squeeze(()) squeezes nothing
    axes = tuple(a for a in axes_of(attrs["dim"], x.ndim) if x.shape[a] == 1)  # torch ignores non-1 dims
    return np.squeeze(x, axis=axes) if axes else x.view()


def _squeeze_name(node) -> str:
    dim = node.attrs["dim"]
    return "SqueezeBackward0" if dim is None else "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"


def _t_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D; use transpose(dim0, dim1)")
    return x.T


def _unsqueeze_forward(arrays: list, attrs: dict):
    x = arrays[0]
    dim = attrs["dim"]
    rank = x.ndim + 1
    if not -rank <= dim < rank:
        from gradwire.rules.errors import IndexOutOfRange

        raise IndexOutOfRange(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})")
    return np.expand_dims(x, dim % rank)


def _expand_forward(arrays: list, attrs: dict):
    x = arrays[0]
    sizes = list(attrs["shape"])
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({x.ndim})"
        )
    for i, n in enumerate(x.shape):
        if sizes[lead + i] == -1:
            sizes[lead + i] = n
    try:
        return np.broadcast_to(x, tuple(sizes))
    except ValueError:
        raise ShapeError(f"The expanded size of the tensor {sizes} must match the existing size "
                         f"{list(x.shape)} at non-singleton dimensions") from None


def _cat_forward(arrays: list, attrs: dict):
    try:
        return np.concatenate(arrays, axis=_dim(attrs["dim"], arrays[0].ndim))
    except ValueError as error:
        raise ShapeError(f"cat(): tensors must have the same shape except in the concatenating dim: {error}") from None


def _cat_vjp(F, g, c, position):
    dim = _dim(c.attrs["dim"], len(c.input_shapes[0]))
    start = sum(shape[dim] for shape in c.input_shapes[:position])
    stop = start + c.input_shapes[position][dim]
    return F.getitem(g, index=(slice(None),) * dim + (slice(start, stop),))


def _stack_forward(arrays: list, attrs: dict):
    axis = axes_of(attrs["dim"], arrays[0].ndim + 1)[0]
    try:
        return np.stack(arrays, axis=axis)
    except ValueError as error:
        raise ShapeError(f"stack expects each tensor to be equal size: {error}") from None


def _stack_shape(shapes: list, dim: int) -> tuple:
    if not shapes:
        return (0,)
    for position, shape in enumerate(shapes):
        if tuple(shape) != tuple(shapes[0]):
            raise ShapeError(f"stack expects each tensor to be equal size, but got {list(shapes[0])} at entry 0 "
                             f"and {list(shape)} at entry {position}")
    rank = len(shapes[0]) + 1
    if not -rank <= dim < rank:
        raise IndexOutOfRange(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})")
    dim %= rank
    return tuple(shapes[0][:dim]) + (len(shapes),) + tuple(shapes[0][dim:])


def _stack_vjp(F, g, c, position):
    dim = axes_of(c.attrs["dim"], len(c.input_shapes[0]) + 1)[0]
    return F.getitem(g, index=(slice(None),) * dim + (position,))


def _non_empty(message: str, error: type):
    """cat / stack dtype rule: promote over the tensors, refusing an empty list as torch does."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        if not operands:
            raise error(message)
        check_tensors("cat/stack", operand_dtypes, operands)
        return promotion.promote_tensors(operand_dtypes, operands, attrs)

    return rule


def _cat_shape(shapes: list, attrs: dict) -> tuple:
    first = list(shapes[0])
    if first:
        first[_dim(attrs["dim"], len(first))] = sum(s[_dim(attrs["dim"], len(s))] for s in shapes if s)
    return tuple(first)


def _view(name: str, forward, vjp, grad_fn, attrs=(), parse=None, methods=None, summary="", functions=None) -> None:
    register(OpDef(
        name=name, forward=forward, vjps=(vjp,), grad_fn=grad_fn, dtype_rule=tensors_only(name, promotion.same),
        attrs=attrs,
        view=True, methods=(name,) if methods is None else methods,
        functions=(name,) if functions is None else functions, parse=parse,
        summary=summary,
    ))


def _reshape_back(F, g, c):
    return F.reshape(g, shape=c.input_shapes[0])


_view("reshape", _reshape_forward, _reshape_back, "ViewBackward0",
      attrs=(AttrSpec("shape", "ints", required=True),), parse=shape_args("shape"),
      summary="the same values in a new shape (-1 infers one size); copies when the strides need it")
_view("view", _view_forward, _reshape_back, "ViewBackward0",
      attrs=(AttrSpec("shape", "ints", required=True),), parse=shape_args("shape"),
      summary="the same memory in a new shape (-1 infers one size); refused where it would need a copy",
      functions=())
_view("transpose", _transpose_forward, lambda F, g, c: F.transpose(g, dim0=c.attrs["dim0"], dim1=c.attrs["dim1"]),
      "TransposeBackward0", attrs=(AttrSpec("dim0", "integer", required=True),
                                   AttrSpec("dim1", "integer", required=True)),
      methods=("transpose", "swapaxes", "swapdims"), functions=("transpose", "swapaxes", "swapdims"),
      summary="swap two dims")
_view("t", _t_forward, lambda F, g, c: F.t(g), "TBackward0", summary="transpose a tensor of at most 2 dims")
_view("permute", _permute_forward, _permute_vjp, "PermuteBackward0",
      attrs=(AttrSpec("dims", "ints", required=True),), parse=shape_args("dims"), summary="reorder dims")
_view("squeeze", _squeeze_forward, _reshape_back, _squeeze_name,
      attrs=(AttrSpec("dim", "integer|ints", aliases=("axis",)),), summary="drop dims of size 1")
_view("unsqueeze", _unsqueeze_forward, _reshape_back, "UnsqueezeBackward0",
      attrs=(AttrSpec("dim", "integer", required=True, aliases=("axis",)),), summary="insert a dim of size 1")
# expand's VJP is the identity: the engine's broadcast reduction sums the gradient back to the input.
_view("expand", _expand_forward, lambda F, g, c: g, "ExpandBackward0",
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


register(OpDef(
    name="cat", forward=_cat_forward, variadic_vjp=_cat_vjp, grad_fn="CatBackward0",
    dtype_rule=_non_empty("torch.cat(): expected a non-empty list of Tensors", InvalidValueError),
    min_inputs=0, max_inputs=-1,
    attrs=(AttrSpec("dim", "integer", default=0, aliases=("axis",)),), functions=("cat", "concatenate"), out_shape=_cat_shape,
    parse=_tensor_list("cat"),
    summary="concatenate along an existing dim",
))
register(OpDef(
    name="stack", forward=_stack_forward, variadic_vjp=_stack_vjp, grad_fn="StackBackward0",
    dtype_rule=_non_empty("stack expects a non-empty TensorList", ShapeError), min_inputs=0, max_inputs=-1,
    attrs=(AttrSpec("dim", "integer", default=0, aliases=("axis",)),), functions=("stack",), parse=_tensor_list("stack"),
    out_shape=lambda shapes, attrs: _stack_shape(shapes, attrs["dim"]),
    summary="stack along a new dim",
))
