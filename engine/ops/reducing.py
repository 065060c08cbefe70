"""More reductions: logsumexp, std, norms, amax/amin/aminmax, argmax/argmin, all/any, count_nonzero.

amax, amin and aminmax share the gradient evenly between tied extremes, as torch does; argmax and the
boolean reductions give results that do not require grad.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules import dtypes, promotion
from gradwire.rules.errors import ArgumentError, IndexOutOfRange, InvalidArgumentRuntimeError
from ..registry import AttrSpec, OpDef, register
from .checks import tensors_only
from .reductions import _correction, _count, _var_parse, axes_of, expand_reduced, with_kept_dims

DIMS = AttrSpec("dim", "integer|ints", aliases=("axis",),
                description="the dim or dims to reduce; all dims when omitted")
DIM_REQUIRED = AttrSpec("dim", "integer|ints", required=True, aliases=("axis",), description="the dim or dims to reduce")
KEEPDIM = AttrSpec("keepdim", "boolean", default=False, description="keep reduced dims with size 1")
OUTPUT = AttrSpec("output", "integer", description="which output to compute (one node per output; set by the caller's "
                  "library, not by user code)")


def _kept(F, value, c):
    return with_kept_dims(F, value, c.input_shapes[0], c.attrs["dim"], c.attrs["keepdim"])


def _grad_kept(F, g, c):
    return expand_reduced(F, g, c.input_shapes[0], c.attrs["dim"], c.attrs["keepdim"])


# ---------------------------------------------------------------- logsumexp
def _logsumexp_forward(arrays: list, attrs: dict):
    x = arrays[0]
    axes = axes_of(attrs["dim"], x.ndim)
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=axes, keepdims=attrs["keepdim"]))
    peak = np.max(x, axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - peak), axis=axes, keepdims=True)) + peak
    return out if attrs["keepdim"] else np.squeeze(out, axis=axes if axes is not None else None)


register(OpDef(
    name="logsumexp", forward=_logsumexp_forward,
    vjps=(lambda F, g, c: _grad_kept(F, g, c) * F.exp(c.inputs[0] - _kept(F, c.output, c)),),
    grad_fn="LogsumexpBackward0", dtype_rule=tensors_only("logsumexp", promotion.unary_float),
    saves_inputs=(0,), saves_output=True, attrs=(DIM_REQUIRED, KEEPDIM),
    methods=("logsumexp",), functions=("logsumexp", "special.logsumexp"),
    summary="log(sum(exp(x))) over dims, computed stably",
))


# ---------------------------------------------------------------- std
def _std_forward(arrays: list, attrs: dict):
    x = arrays[0]
    with np.errstate(all="ignore"):
        return np.std(x, axis=axes_of(attrs["dim"], x.ndim), ddof=_correction(attrs), keepdims=attrs["keepdim"])


def _std_vjp(F, g, c):
    x = c.inputs[0]
    dim = c.attrs["dim"]
    mean = F.mean(x, dim=axes_of(dim, x.ndim), keepdim=True)
    degrees_of_freedom = _count(c.input_shapes[0], dim) - _correction(c.attrs)
    scale = 1.0 / degrees_of_freedom if degrees_of_freedom > 0 else math.inf
    return _grad_kept(F, g, c) / _kept(F, c.output, c) * (x - mean) * scale


register(OpDef(
    name="std", forward=_std_forward, vjps=(_std_vjp,), grad_fn="StdBackward0",
    dtype_rule=tensors_only("std", promotion.floating_only), saves_inputs=(0,), saves_output=True,
    attrs=(DIMS, KEEPDIM, AttrSpec("correction", "integer", description="subtract this from the count (Bessel: 1)"),
           AttrSpec("unbiased", "boolean", description="older spelling: True is correction=1, False correction=0")),
    parse=_var_parse, methods=("std",), functions=("std",),
    summary="standard deviation with Bessel's correction by default",
))


# ---------------------------------------------------------------- norms
def _vector_norm(x: np.ndarray, ord_: float, axes, keepdim: bool) -> np.ndarray:
    a = np.abs(x)
    if ord_ == math.inf:
        return np.max(a, axis=axes, keepdims=keepdim, initial=0.0)
    if ord_ == -math.inf:
        if a.size == 0:
            raise InvalidArgumentRuntimeError("linalg.vector_norm cannot compute the -inf norm on an empty tensor")
        return np.min(a, axis=axes, keepdims=keepdim)
    if ord_ == 0:
        return np.sum(a != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
    if ord_ == 1:
        return np.sum(a, axis=axes, keepdims=keepdim)
    if ord_ == 2:
        return np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
    with np.errstate(divide="ignore"):
        return np.sum(a ** ord_, axis=axes, keepdims=keepdim) ** (1.0 / ord_)


def _norm_order(attrs: dict) -> float:
    order = attrs["ord"]
    if isinstance(order, str):
        if order != "fro":
            raise InvalidArgumentRuntimeError(f"norm: Order {order} not supported; use a number, 'fro' or 'nuc'")
        return 2.0
    return order


def _vector_norm_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return _vector_norm(x, _norm_order(attrs), axes_of(attrs["dim"], x.ndim), attrs["keepdim"])


def _vector_norm_vjp(F, g, c):
    """torch's linalg_vector_norm_backward: sign(x)|x|^(p-1)/norm^(p-1); ties share the inf-norm's gradient."""
    x, order = c.inputs[0], _norm_order(c.attrs)
    grad, norm = _grad_kept(F, g, c), _kept(F, c.output, c)
    if order == 0:
        return grad * 0.0
    if order == 1:
        return grad * F.sign(x)
    if math.isinf(order):
        ties = F.abs(x) == norm
        count = F.sum(ties, dim=axes_of(c.attrs["dim"], len(c.input_shapes[0])), keepdim=True)
        return F.where(ties, grad * F.sign(x) / count, 0.0)
    safe = F.where(norm == 0, 1.0, norm)
    if order == 2:
        return F.where(norm == 0, 0.0, grad * x / safe)
    return F.where(norm == 0, 0.0, grad * x * F.abs(x) ** (order - 2) / safe ** (order - 1))


NORM_ATTRS = (DIMS, KEEPDIM)
register(OpDef(
    name="linalg_vector_norm", forward=_vector_norm_forward, vjps=(_vector_norm_vjp,),
    grad_fn="LinalgVectorNormBackward0", dtype_rule=tensors_only("linalg.vector_norm", promotion.floating_only),
    saves_inputs=(0,), saves_output=True,
    attrs=(AttrSpec("ord", "real|text", default=2.0, description="the order p: 2, 1, inf, -inf, 0 or any real"),)
    + NORM_ATTRS,
    functions=("linalg.vector_norm",), summary="the p-norm of the elements over dims (all by default)",
))


def _nuclear(x: np.ndarray, dims: tuple, keepdim: bool) -> np.ndarray:
    moved = np.moveaxis(x, dims, (-2, -1))
    out = np.sum(np.linalg.svd(moved, compute_uv=False), axis=-1)
    return np.expand_dims(out, tuple(sorted(dims))) if keepdim else out


def _matrix_dims(attrs: dict, ndim: int) -> tuple:
    dims = attrs["dim"] if attrs["dim"] is not None else (-2, -1)
    if isinstance(dims, int) or len(dims) != 2:
        raise ArgumentError(f"matrix norm: dim must be a pair of dims, got {dims}")
    if ndim < 2:
        raise InvalidArgumentRuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    first, second = (axes_of(d, ndim)[0] for d in dims)
    if first == second:
        raise InvalidArgumentRuntimeError("linalg.matrix_norm: dims must be different")
    return first, second


def _matrix_norm_forward(arrays: list, attrs: dict):
    x = arrays[0]
    dims = _matrix_dims(attrs, x.ndim)
    order = attrs["ord"]
    if order == "nuc":
        return _nuclear(x, dims, attrs["keepdim"])
    if order in (1, -1, math.inf, -math.inf, 2, -2):
        return _extreme_matrix_norm(x, order, dims, attrs["keepdim"])
    if order != "fro":
        raise InvalidArgumentRuntimeError(f"linalg.matrix_norm: Order {order} not supported; use 'fro', 'nuc', "
                                          "1, -1, 2, -2, inf or -inf")
    return _vector_norm(x, 2.0, tuple(sorted(dims)), attrs["keepdim"])


def _sums_and_pick(order, dims: tuple) -> tuple[int, int]:
    """ord +-1: column sums (over dims[0]), then the extreme over dims[1]; ord +-inf the other way round."""
    return (dims[0], dims[1]) if abs(order) == 1 else (dims[1], dims[0])


def _extreme_matrix_norm(x: np.ndarray, order, dims: tuple, keepdim: bool) -> np.ndarray:
    pick = np.max if order > 0 else np.min
    if abs(order) == 2:
        singular = np.linalg.svd(np.moveaxis(x, dims, (-2, -1)), compute_uv=False)
        out = pick(singular, axis=-1)
        return np.expand_dims(out, tuple(sorted(dims))) if keepdim else out
    summed, picked = _sums_and_pick(order, dims)
    sums = np.sum(np.abs(x), axis=summed, keepdims=True)
    out = pick(sums, axis=picked, keepdims=True)
    return out if keepdim else np.squeeze(out, axis=tuple(sorted(dims)))


def _extreme_matrix_norm_vjp(F, g, c, dims: tuple):
    """Ties share the gradient evenly, as torch's amax/amin; ord +-2: u v^T of the extreme singular pair."""
    x, order = c.inputs[0], c.attrs["ord"]
    kept = tuple(sorted(dims))
    grad = expand_reduced(F, g, c.input_shapes[0], kept, c.attrs["keepdim"])
    norm = with_kept_dims(F, c.output, c.input_shapes[0], kept, c.attrs["keepdim"])
    if abs(order) == 2:
        u, s, vh = np.linalg.svd(np.moveaxis(F.value(x), dims, (-2, -1)), full_matrices=False)
        k = np.argmax(s, axis=-1) if order > 0 else np.argmin(s, axis=-1)
        left = np.take_along_axis(u, k[..., None, None], -1)
        right = np.take_along_axis(vh, k[..., None, None], -2)
        return grad * F.constant(np.moveaxis(left @ right, (-2, -1), dims))
    summed, picked = _sums_and_pick(order, dims)
    sums = F.sum(F.abs(x), dim=summed, keepdim=True)
    ties = sums == norm
    count = F.sum(ties, dim=picked, keepdim=True)
    return grad * F.sign(x) * F.where(ties, 1.0, 0.0) / count


def _matrix_norm_vjp(F, g, c):
    x = c.inputs[0]
    dims = _matrix_dims(c.attrs, len(c.input_shapes[0]))
    kept_dims = tuple(sorted(dims))
    if c.attrs["ord"] not in ("fro", "nuc"):
        return _extreme_matrix_norm_vjp(F, g, c, dims)
    grad = expand_reduced(F, g, c.input_shapes[0], kept_dims, c.attrs["keepdim"])
    if c.attrs["ord"] == "fro":
        norm = with_kept_dims(F, c.output, c.input_shapes[0], kept_dims, c.attrs["keepdim"])
        return F.where(norm == 0, 0.0, grad * x / F.where(norm == 0, 1.0, norm))
    # nuclear norm: d sum(s) = U V^T (U, V from the SVD; a constant under create_graph).
    moved = np.moveaxis(F.value(x), dims, (-2, -1))
    u, _, vh = np.linalg.svd(moved, full_matrices=False)
    return grad * F.constant(np.moveaxis(u @ vh, (-2, -1), dims))


def _matrix_norm_name(order) -> str:
    if isinstance(order, str):
        return "LinalgVectorNormBackward0" if order == "fro" else "SumBackward1"
    return "AmaxBackward0" if order > 0 else "AminBackward0"


register(OpDef(
    name="linalg_matrix_norm", forward=_matrix_norm_forward, vjps=(_matrix_norm_vjp,),
    grad_fn=lambda node: _matrix_norm_name(node.attrs["ord"]),
    dtype_rule=tensors_only("linalg.matrix_norm", promotion.floating_only), saves_inputs=(0,), saves_output=True,
    attrs=(AttrSpec("ord", "real|text", default="fro",
                    description="'fro' (Frobenius), 'nuc' (nuclear), 1 / inf (max column / row abs sum), 2 (largest "
                    "singular value), or their negatives (the minima)"),
           AttrSpec("dim", "ints", default=(-2, -1), description="the two dims holding the matrices"), KEEPDIM),
    functions=("linalg.matrix_norm",), summary="a matrix norm ('fro', 'nuc', +-1, +-2, +-inf) of the matrices in dims",
))


def _norm_parse(args, kwargs):
    """norm(input, p='fro', dim=None, keepdim=False, dtype=None): p picks the vector or matrix norm."""
    names = ("input", "p", "dim", "keepdim")
    for name, value in zip(names, args):
        if name in kwargs:
            raise ArgumentError(f"norm() got multiple values for argument '{name}'")
        kwargs[name] = value
    if len(args) > len(names):
        raise ArgumentError("norm() takes at most 4 positional arguments")
    tensor = kwargs.pop("input")
    kwargs.setdefault("p", "fro")
    return [tensor], kwargs


def _norm_forward(arrays: list, attrs: dict):
    p = attrs["p"]
    if p == "nuc":
        return _matrix_norm_forward(arrays, {"ord": "nuc", "dim": attrs["dim"], "keepdim": attrs["keepdim"]})
    return _vector_norm_forward(arrays, {"ord": p, "dim": attrs["dim"], "keepdim": attrs["keepdim"]})


class _AsNorm:
    """A Ctx seen through torch.norm's arguments as linalg's (p becomes ord)."""

    def __init__(self, c) -> None:
        self.inputs, self.output, self.input_shapes, self.node = c.inputs, c.output, c.input_shapes, c.node
        self.attrs = {"ord": c.attrs["p"], "dim": c.attrs["dim"], "keepdim": c.attrs["keepdim"]}


def _norm_vjp(F, g, c):
    view = _AsNorm(c)
    return _matrix_norm_vjp(F, g, view) if c.attrs["p"] == "nuc" else _vector_norm_vjp(F, g, view)


register(OpDef(
    name="norm", forward=_norm_forward, vjps=(_norm_vjp,),
    grad_fn=lambda node: "SumBackward1" if node.attrs["p"] == "nuc" else "LinalgVectorNormBackward0",
    dtype_rule=tensors_only("norm", promotion.floating_only), saves_inputs=(0,), saves_output=True,
    attrs=(AttrSpec("p", "real|text", default="fro", description="the order: a number, 'fro' or 'nuc'"),) + NORM_ATTRS,
    parse=_norm_parse, methods=("norm",), functions=("norm",),
    summary="torch.norm: the p-norm over dims (all by default); 'fro' is the 2-norm, 'nuc' the nuclear norm",
))


# ---------------------------------------------------------------- amax, amin, aminmax
def _extreme_forward(function, name: str):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        axes = axes_of(attrs["dim"], x.ndim)
        reduced = range(x.ndim) if axes is None else axes
        if any(x.shape[a] == 0 for a in reduced) or (x.size == 0 and axes is None):
            raise IndexOutOfRange(f"{name}(): Expected reduction dim to have non-zero size; "
                                  "an empty tensor has no extreme")
        return function(x, axis=axes, keepdims=attrs["keepdim"])

    return forward


def _even_ties_vjp(F, g, c, output=None):
    """The gradient of amax/amin: shared evenly between the elements equal to the extreme."""
    x = c.inputs[0]
    axes = axes_of(c.attrs["dim"], len(c.input_shapes[0]))
    extreme = with_kept_dims(F, c.output if output is None else output, c.input_shapes[0], c.attrs["dim"],
                             c.attrs["keepdim"])
    ties = x == extreme
    count = F.sum(ties, dim=axes, keepdim=True) if axes != () else 1
    return F.where(ties, _grad_kept(F, g, c) / count, 0.0)


for _name, _function in (("amax", np.max), ("amin", np.min)):
    register(OpDef(
        name=_name, forward=_extreme_forward(_function, _name), vjps=(_even_ties_vjp,),
        grad_fn=f"{_name.capitalize()}Backward0", dtype_rule=tensors_only(_name, promotion.same),
        saves_inputs=(0,), saves_output=True, attrs=(AttrSpec("dim", "integer|ints", default=(), aliases=("axis",),
                                                              description="dims to reduce; () means all"), KEEPDIM),
        methods=(_name,), functions=(_name,),
        summary=f"{_name[1:]}imum over dims (all by default); ties share the gradient evenly",
    ))


def _aminmax_forward(arrays: list, attrs: dict):
    function = np.min if attrs["output"] == 0 else np.max
    return _extreme_forward(function, "aminmax")(arrays, attrs)


register(OpDef(
    name="aminmax", forward=_aminmax_forward, vjps=(_even_ties_vjp,), grad_fn="AminmaxBackward0",
    dtype_rule=tensors_only("aminmax", promotion.same), saves_inputs=(0,), saves_output=True,
    attrs=(AttrSpec("dim", "integer", aliases=("axis",), description="the dim to reduce; all dims when omitted"),
           KEEPDIM, OUTPUT),
    pieces=lambda shapes, attrs: 2, output_names=("min", "max"), methods=("aminmax",), functions=("aminmax",),
    summary="(min, max) over a dim or everything; ties share the gradient evenly",
))


# ---------------------------------------------------------------- argmax, argmin
def _arg_forward(pick, name: str):
    def forward(arrays: list, attrs: dict):
        x, dim = arrays[0], attrs["dim"]
        if dim is None:
            if x.size == 0:
                raise IndexOutOfRange(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            index = np.asarray(pick(x.reshape(-1)), dtype=np.int64)
            return index.reshape((1,) * x.ndim) if attrs["keepdim"] else index
        if x.ndim == 0:
            axes_of(dim, 0)
            return np.zeros((), dtype=np.int64)
        axis = axes_of(dim, x.ndim)[0]
        if x.shape[axis] == 0:
            raise IndexOutOfRange(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
        return pick(x, axis=axis, keepdims=attrs["keepdim"]).astype(np.int64)

    return forward


def _index_result(operand_dtypes, operands, attrs):
    return None, dtypes.int64


for _name, _pick in (("argmax", np.argmax), ("argmin", np.argmin)):
    register(OpDef(
        name=_name, forward=_arg_forward(_pick, _name), differentiable=False,
        dtype_rule=tensors_only(_name, _index_result),
        attrs=(AttrSpec("dim", "integer", aliases=("axis",), description="the dim to search; the flattened tensor "
                        "when omitted"), KEEPDIM),
        methods=(_name,), functions=(_name,), summary=f"index of the {_name[3:]}imum (first one on ties)",
    ))


# ---------------------------------------------------------------- all, any, count_nonzero
def _logical_reduce(function):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        return function(x != 0, axis=axes_of(attrs["dim"], x.ndim), keepdims=attrs["keepdim"])

    return forward


def _bool_result(operand_dtypes, operands, attrs):
    return None, dtypes.bool_


for _name, _function in (("all", np.all), ("any", np.any)):
    register(OpDef(
        name=_name, forward=_logical_reduce(_function), differentiable=False,
        dtype_rule=tensors_only(_name, _bool_result), attrs=(DIMS, KEEPDIM), methods=(_name,), functions=(_name,),
        summary=f"whether {'every' if _name == 'all' else 'any'} element is non-zero, over dims (all by default)",
    ))


def _count_nonzero_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return np.count_nonzero(x, axis=axes_of(attrs["dim"], x.ndim)).astype(np.int64)


register(OpDef(
    name="count_nonzero", forward=_count_nonzero_forward, differentiable=False,
    dtype_rule=tensors_only("count_nonzero", _index_result), attrs=(DIMS,),
    methods=("count_nonzero",), functions=("count_nonzero",), summary="number of non-zero elements over dims",
))
