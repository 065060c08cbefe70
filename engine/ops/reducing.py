"""More reductions: logsumexp, std, norms, amax/amin/aminmax, argmax/argmin, all/any, count_nonzero.

amax, amin and aminmax share the gradient evenly between tied extremes, as torch does; argmax and the
boolean reductions give results that do not require grad. Their rules are gradwire.rules.ops.reductions
and .norms.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.ops.norms import matrix_dims, vector_order
from gradwire.rules.ops.reductions import OUTPUT, correction  # noqa: F401  (OUTPUT: re-exported)

from ..registry import implement
from .reductions import _count, axes_of, expand_reduced, with_kept_dims


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


implement("logsumexp", _logsumexp_forward, saves_inputs=(0,), saves_output=True,
          vjps=(lambda F, g, c: _grad_kept(F, g, c) * F.exp(c.inputs[0] - _kept(F, c.output, c)),))


# ---------------------------------------------------------------- std
def _std_forward(arrays: list, attrs: dict):
    x = arrays[0]
    with np.errstate(all="ignore"):
        return np.std(x, axis=axes_of(attrs["dim"], x.ndim), ddof=correction(attrs), keepdims=attrs["keepdim"])


def _std_vjp(F, g, c):
    x = c.inputs[0]
    dim = c.attrs["dim"]
    mean = F.mean(x, dim=axes_of(dim, x.ndim), keepdim=True)
    degrees_of_freedom = _count(c.input_shapes[0], dim) - correction(c.attrs)
    scale = 1.0 / degrees_of_freedom if degrees_of_freedom > 0 else math.inf
    return _grad_kept(F, g, c) / _kept(F, c.output, c) * (x - mean) * scale


implement("std", _std_forward, vjps=(_std_vjp,), saves_inputs=(0,), saves_output=True)


# ---------------------------------------------------------------- norms
def _vector_norm(x: np.ndarray, ord_: float, axes, keepdim: bool) -> np.ndarray:
    a = np.abs(x)
    if ord_ == math.inf:
        return np.max(a, axis=axes, keepdims=keepdim, initial=0.0)
    if ord_ == -math.inf:  # (an empty input is refused by the shape rule)
        return np.min(a, axis=axes, keepdims=keepdim)
    if ord_ == 0:
        return np.sum(a != 0, axis=axes, keepdims=keepdim).astype(x.dtype)
    if ord_ == 1:
        return np.sum(a, axis=axes, keepdims=keepdim)
    if ord_ == 2:
        return np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
    with np.errstate(divide="ignore"):
        return np.sum(a ** ord_, axis=axes, keepdims=keepdim) ** (1.0 / ord_)


def _vector_norm_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return _vector_norm(x, vector_order(attrs["ord"]), axes_of(attrs["dim"], x.ndim), attrs["keepdim"])


def _vector_norm_vjp(F, g, c):
    """torch's linalg_vector_norm_backward: sign(x)|x|^(p-1)/norm^(p-1); ties share the inf-norm's gradient."""
    x, order = c.inputs[0], vector_order(c.attrs["ord"])
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


implement("linalg_vector_norm", _vector_norm_forward, vjps=(_vector_norm_vjp,), saves_inputs=(0,), saves_output=True)


def _nuclear(x: np.ndarray, dims: tuple, keepdim: bool) -> np.ndarray:
    moved = np.moveaxis(x, dims, (-2, -1))
    out = np.sum(np.linalg.svd(moved, compute_uv=False), axis=-1)
    return np.expand_dims(out, tuple(sorted(dims))) if keepdim else out


def _matrix_norm_forward(arrays: list, attrs: dict):
    x = arrays[0]
    dims = matrix_dims(attrs["dim"], x.ndim)
    order = attrs["ord"]
    if order == "nuc":
        return _nuclear(x, dims, attrs["keepdim"])
    if order != "fro":  # the shape rule allows only the orders below
        return _extreme_matrix_norm(x, order, dims, attrs["keepdim"])
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
    dims = matrix_dims(c.attrs["dim"], len(c.input_shapes[0]))
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


implement("linalg_matrix_norm", _matrix_norm_forward, vjps=(_matrix_norm_vjp,), saves_inputs=(0,), saves_output=True)


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


implement("norm", _norm_forward, vjps=(_norm_vjp,), saves_inputs=(0,), saves_output=True)


# ---------------------------------------------------------------- amax, amin, aminmax
def _extreme_forward(function, name: str):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        return function(x, axis=axes_of(attrs["dim"], x.ndim), keepdims=attrs["keepdim"])

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
    implement(_name, _extreme_forward(_function, _name), vjps=(_even_ties_vjp,), saves_inputs=(0,), saves_output=True)


def _aminmax_forward(arrays: list, attrs: dict):
    function = np.min if attrs["output"] == 0 else np.max
    return _extreme_forward(function, "aminmax")(arrays, attrs)


implement("aminmax", _aminmax_forward, vjps=(_even_ties_vjp,), saves_inputs=(0,), saves_output=True)


# ---------------------------------------------------------------- argmax, argmin
def _arg_forward(pick, name: str):
    def forward(arrays: list, attrs: dict):
        x, dim = arrays[0], attrs["dim"]
        if dim is None:  # (an empty input is refused by the shape rule)
            index = np.asarray(pick(x.reshape(-1)), dtype=np.int64)
            return index.reshape((1,) * x.ndim) if attrs["keepdim"] else index
        if x.ndim == 0:
            return np.zeros((), dtype=np.int64)
        return pick(x, axis=axes_of(dim, x.ndim)[0], keepdims=attrs["keepdim"]).astype(np.int64)

    return forward


for _name, _pick in (("argmax", np.argmax), ("argmin", np.argmin)):
    implement(_name, _arg_forward(_pick, _name))


# ---------------------------------------------------------------- all, any, count_nonzero
def _logical_reduce(function):
    def forward(arrays: list, attrs: dict):
        x = arrays[0]
        return function(x != 0, axis=axes_of(attrs["dim"], x.ndim), keepdims=attrs["keepdim"])

    return forward


for _name, _function in (("all", np.all), ("any", np.any)):
    implement(_name, _logical_reduce(_function))


def _count_nonzero_forward(arrays: list, attrs: dict):
    x = arrays[0]
    return np.count_nonzero(x, axis=axes_of(attrs["dim"], x.ndim)).astype(np.int64)


implement("count_nonzero", _count_nonzero_forward)
