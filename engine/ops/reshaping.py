"""Rearranging ops: flatten, unflatten, flip (fliplr, flipud), roll, repeat, tile, repeat_interleave,
movedim, and the *_as forms (expand_as, view_as, reshape_as) that take their shape from a second tensor."""

from __future__ import annotations

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import ArgumentError, DTypeRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .checks import check_tensors, tensors_only
from .reductions import axes_of
from .shape import _expand_forward, _reshape_forward, _view_forward, shape_args


def _dim(d: int, ndim: int) -> int:
    return axes_of(d, ndim)[0] if ndim else 0


def _reshape_back(F, g, c):
    return F.reshape(g, shape=c.input_shapes[0])


def _simple(name, forward, vjp, grad_fn, attrs=(), methods=None, functions=None, summary="", **options):
    register(OpDef(
        name=name, forward=forward, vjps=(vjp,), grad_fn=grad_fn, dtype_rule=tensors_only(name, promotion.same),
        attrs=attrs, methods=(name,) if methods is None else methods,
        functions=(name,) if functions is None else functions, summary=summary, **options,
    ))


# ---------------------------------------------------------------- flatten, unflatten
def _flatten_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        return x.reshape(1)
    start, end = _dim(attrs["start_dim"], x.ndim), _dim(attrs["end_dim"], x.ndim)
    if start > end:
        raise ShapeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return x.reshape(x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:])


_simple("flatten", _flatten_forward, _reshape_back, "ViewBackward0",
        attrs=(AttrSpec("start_dim", "integer", default=0, description="first dim to merge"),
               AttrSpec("end_dim", "integer", default=-1, description="last dim to merge")),
        view=True, summary="merge dims start_dim..end_dim into one")


def _unflatten_forward(arrays: list, attrs: dict):
    x = arrays[0]
    axis = _dim(attrs["dim"], x.ndim)
    sizes = attrs["sizes"]
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[axis]) or (known and x.shape[axis] % known):
        raise ShapeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {axis} "
                         f"({x.shape[axis]}) in the input tensor")
    return x.reshape(x.shape[:axis] + tuple(sizes) + x.shape[axis + 1:])


_simple("unflatten", _unflatten_forward, _reshape_back, "ViewBackward0",
        attrs=(AttrSpec("dim", "integer", required=True, description="the dim to split"),
               AttrSpec("sizes", "ints", required=True, description="its new sizes (one may be -1)")),
        view=True, summary="split one dim into several")


# ---------------------------------------------------------------- flips and roll
def _flip_axes(dims, ndim: int) -> tuple:
    if dims == () or not ndim:
        return ()
    return axes_of(dims, ndim)


def _flip_forward(arrays: list, attrs: dict):
    x = arrays[0]
    axes = _flip_axes(attrs["dims"], x.ndim)
    return np.flip(x, axes).copy() if axes else x.copy()


_simple("flip", _flip_forward, lambda F, g, c: F.flip(g, dims=c.attrs["dims"]), "FlipBackward0",
        attrs=(AttrSpec("dims", "ints", required=True, description="the dims to reverse"),),
        parse=shape_args("dims"), summary="reverse the order of elements along dims")


def _flip_fixed(name: str, axis: int, least: int):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        if x.ndim < least:
            raise ShapeError(f"{name}: Input must be >= {least}-d.")
        return np.flip(x, axis).copy()

    _simple(name, forward, lambda F, g, c: F.flip(g, dims=(axis,)), "FlipBackward0",
            summary=f"reverse dim {axis} (input of at least {least} dims)")


_flip_fixed("fliplr", 1, 2)
_flip_fixed("flipud", 0, 1)


def _roll_forward(arrays: list, attrs: dict):
    x = arrays[0]
    shifts, dims = attrs["shifts"], attrs["dims"]
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise ShapeError(f"roll(): shifts {list(shifts)} needs dims of the same length")
        return np.roll(x.reshape(-1), shifts if isinstance(shifts, int) else shifts[0]).reshape(x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else shifts
    dims = (dims,) if isinstance(dims, int) else dims
    if len(shifts) != len(dims):
        raise ShapeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    return np.roll(x, shifts, tuple(_dim(d, x.ndim) for d in dims))


def _negated(value):
    return -value if isinstance(value, int) else tuple(-v for v in value)


_simple("roll", _roll_forward, lambda F, g, c: F.roll(g, shifts=_negated(c.attrs["shifts"]), dims=c.attrs["dims"]),
        "RollBackward0",
        attrs=(AttrSpec("shifts", "integer|ints", required=True, description="places to shift by (per dim)"),
               AttrSpec("dims", "integer|ints", description="dims to roll; the flattened tensor when omitted")),
        summary="shift elements cyclically along dims")


# ---------------------------------------------------------------- repeat, tile, repeat_interleave
def _repeat_forward(arrays: list, attrs: dict):
    x, reps = arrays[0], attrs["repeats"]
    if len(reps) < x.ndim:
        raise ShapeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    return np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps)


def _repeat_vjp(F, g, c):
    """Sum the copies: view g as (r0, n0, r1, n1, ...) and reduce the r axes."""
    reps = c.attrs["repeats"]
    shape = c.input_shapes[0]
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    split = tuple(n for pair in zip(reps, padded) for n in pair)
    summed = F.sum(F.reshape(g, shape=split), dim=tuple(range(0, 2 * len(reps), 2)))
    return F.reshape(summed, shape=shape)


def _repeat_shape(shapes, attrs):
    reps = attrs["repeats"]
    padded = (1,) * (len(reps) - len(shapes[0])) + tuple(shapes[0])
    return tuple(r * n for r, n in zip(reps, padded))


_simple("repeat", _repeat_forward, _repeat_vjp, "RepeatBackward0",
        attrs=(AttrSpec("repeats", "ints", required=True, description="copies along each dim (leading new dims "
                        "allowed)"),), functions=(), parse=shape_args("repeats"), out_shape=_repeat_shape,
        summary="tile the tensor: repeats[i] copies along dim i")


def _tile_attrs(arrays: list, attrs: dict) -> dict:
    reps = attrs["repeats"]
    return {"repeats": (1,) * (arrays[0].ndim - len(reps)) + tuple(reps)}


register(OpDef(
    name="tile", forward=lambda arrays, attrs: _repeat_forward(arrays, _tile_attrs(arrays, attrs)),
    vjps=(lambda F, g, c: _repeat_vjp(F, g, _TileCtx(c)),), grad_fn="RepeatBackward0",
    dtype_rule=tensors_only("tile", promotion.same),
    attrs=(AttrSpec("repeats", "ints", required=True, aliases=("dims",),
                    description="copies along each trailing dim (missing leading ones count as 1)"),),
    methods=("tile",), functions=("tile",), parse=shape_args("repeats"),
    out_shape=lambda shapes, attrs: _repeat_shape(shapes, {"repeats": (1,) * (len(shapes[0]) - len(attrs["repeats"]))
                                                           + tuple(attrs["repeats"])}),
    summary="repeat, padding repeats with leading ones to the tensor's rank",
))


class _TileCtx:
    def __init__(self, c) -> None:
        self.input_shapes = c.input_shapes
        reps = c.attrs["repeats"]
        self.attrs = {"repeats": (1,) * (len(c.input_shapes[0]) - len(reps)) + tuple(reps)}


def _counts(repeats, size: int) -> np.ndarray:
    """Per-element repeat counts: an int for every element, or a tensor of counts (one per element, or one)."""
    counts = np.asarray(repeats).reshape(-1) if isinstance(repeats, np.ndarray) else np.array([repeats])
    if counts.dtype.kind not in "iu":
        raise DTypeRuntimeError(f"repeat_interleave: repeats must be an integer tensor or int, got {counts.dtype}")
    if counts.size == 1:
        counts = np.full(size, int(counts[0]), dtype=np.int64)
    if counts.size != size:
        raise ShapeError(f"repeat_interleave: repeats must have the same size as input along dim, but got "
                         f"repeats.size(0) = {counts.size} and input.size({size})")
    if (counts < 0).any():
        raise ShapeError("repeat_interleave: repeats can not be negative")
    return counts


def _sources(shape: tuple, repeats, dim):
    """(axis, the input index each output position along axis copies); dim None works on the flattened input."""
    if dim is None or not shape:
        return 0, np.repeat(np.arange(int(np.prod(shape))), _counts(repeats, int(np.prod(shape))))
    axis = _dim(dim, len(shape))
    return axis, np.repeat(np.arange(shape[axis]), _counts(repeats, shape[axis]))


def _interleave_forward(arrays: list, attrs: dict):
    x, repeats = arrays
    axis, sources = _sources(x.shape, repeats, attrs["dim"])
    flat = x.reshape(-1) if attrs["dim"] is None or x.ndim == 0 else x
    return np.take(flat, sources, axis=axis)


def _interleave_vjp(F, g, c):
    shape = c.input_shapes[0]
    repeats = c.inputs[1]
    axis, sources = _sources(shape, repeats if c.node.input_dtypes[1] is None else F.value(repeats), c.attrs["dim"])
    flat_shape = (int(np.prod(shape)),) if c.attrs["dim"] is None or not shape else shape
    grad = F.index_add(F.zeros(flat_shape, like=g), F.constant(sources.astype(np.int64)), g, dim=axis)
    return F.reshape(grad, shape=shape)


def _interleave_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    check_tensors("repeat_interleave", operand_dtypes, operands, (0,))
    return None, operand_dtypes[0]


register(OpDef(
    name="repeat_interleave", forward=_interleave_forward, vjps=(_interleave_vjp, None),
    grad_fn=lambda node: "IndexSelectBackward0" if node.input_dtypes[1] is not None else "ViewBackward0",
    dtype_rule=_interleave_rule, saves_inputs=(1,), min_inputs=2, max_inputs=2,
    attrs=(AttrSpec("dim", "integer", description="the dim to repeat along; the flattened tensor when omitted"),),
    signature=("input", "repeats", "dim"), methods=("repeat_interleave",), functions=("repeat_interleave",),
    summary="repeat each element along dim: an int for all, or an integer tensor of counts",
))


# ---------------------------------------------------------------- movedim
def _moves(attrs: dict, ndim: int) -> tuple:
    source, destination = attrs["source"], attrs["destination"]
    source = (source,) if isinstance(source, int) else source
    destination = (destination,) if isinstance(destination, int) else destination
    if len(source) != len(destination):
        raise ShapeError(f"movedim: Invalid source or destination dims: source ({list(source)} dims) should contain "
                         f"the same number of dims as destination ({list(destination)} dims)")
    return tuple(_dim(d, ndim) for d in source), tuple(_dim(d, ndim) for d in destination)


def _movedim_forward(arrays: list, attrs: dict):
    x = arrays[0]
    if x.ndim == 0:
        _moves(attrs, 0)
        return x
    return np.moveaxis(x, *_moves(attrs, x.ndim))


def _movedim_vjp(F, g, c):
    source, destination = _moves(c.attrs, len(c.input_shapes[0]))
    return F.movedim(g, source=destination, destination=source)


register(OpDef(
    name="movedim", forward=_movedim_forward, vjps=(_movedim_vjp,), grad_fn="PermuteBackward0",
    dtype_rule=tensors_only("movedim", promotion.same), view=True,
    attrs=(AttrSpec("source", "integer|ints", required=True, description="dims to move"),
           AttrSpec("destination", "integer|ints", required=True, description="where they go")),
    methods=("movedim", "moveaxis"), functions=("movedim", "moveaxis"), summary="move dims to new positions",
))


# ---------------------------------------------------------------- *_as: the shape of another tensor
def _as_op(name: str, forward, grad_fn: str, vjp, summary: str, view: bool) -> None:
    register(OpDef(
        name=name, forward=lambda arrays, attrs: forward([arrays[0]], {"shape": arrays[1].shape}),
        vjps=(vjp, None), grad_fn=grad_fn, dtype_rule=tensors_only(name, lambda d, o, a: (None, d[0]), None),
        min_inputs=2, max_inputs=2, view=view, methods=(name,), summary=summary,
        out_shape=lambda shapes, attrs: tuple(shapes[1]),
    ))


_as_op("expand_as", _expand_forward, "ExpandBackward0", lambda F, g, c: g, "expand to other's shape", True)
_as_op("view_as", _view_forward, "ViewBackward0", _reshape_back, "view with other's shape", True)
_as_op("reshape_as", _reshape_forward, "ViewBackward0", _reshape_back, "reshape to other's shape", True)
