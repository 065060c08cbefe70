"""embedding, one_hot, pixel_shuffle/pixel_unshuffle, and the composites normalize,
cosine_similarity, pairwise_distance, local_response_norm, triplet_margin_loss and
cosine_embedding_loss (see nn_composite.py)."""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.spec import Bound

from gradwire.rules import dtypes
from gradwire.rules.errors import DTypeRuntimeError, IndexOutOfRange, InvalidArgumentRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .nn_common import REDUCTION, check_reduction, same_float
from .nn_composite import composite

# ---------------------------------------------------------------- embedding
EMBEDDING_ATTRS = (AttrSpec("padding_idx", "integer"), AttrSpec("max_norm", "real"),
                   AttrSpec("norm_type", "real", default=2.0), AttrSpec("scale_grad_by_freq", "boolean", default=False),
                   AttrSpec("sparse", "boolean", default=False))


def _padding(attrs: dict, rows: int):
    index = attrs.get("padding_idx")
    if index is None:
        return None
    if not -rows <= index < rows:
        raise InvalidArgumentRuntimeError(f"embedding(): padding_idx {index} must be within num_embeddings ({rows})")
    return index % rows


def _embedding_forward(arrays: list, attrs: dict):
    indices, weight = arrays
    if weight.ndim != 2:
        raise ShapeError(f"embedding(): 'weight' must be 2-D (num_embeddings, embedding_dim), got {list(weight.shape)}")
    _padding(attrs, weight.shape[0])
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexOutOfRange(f"index out of range in self: embedding indices must be in [0, {weight.shape[0]}), "
                              f"got {int(indices.min())}..{int(indices.max())}")
    if attrs.get("max_norm") is not None:  # torch renormalises the rows used, in place, without grad
        used = np.unique(indices)
        norms = np.linalg.norm(weight[used], ord=attrs["norm_type"], axis=1)
        scale = np.where(norms > attrs["max_norm"], attrs["max_norm"] / (norms + 1e-7), 1.0)
        weight[used] *= scale[:, None].astype(weight.dtype)
    return weight[indices]


def _frequency_scale(indices: np.ndarray, attrs: dict, rows: int) -> np.ndarray:
    """Per looked-up position: 1/count when scale_grad_by_freq, 0 at padding_idx, else 1."""
    flat = indices.reshape(-1)
    factor = np.ones(flat.shape)
    if attrs["scale_grad_by_freq"]:
        factor = factor / np.bincount(flat, minlength=rows)[flat]
    padding = _padding(attrs, rows)
    if padding is not None:
        factor[flat == padding] = 0.0
    return factor.reshape(indices.shape)


def _embedding_backward_forward(arrays: list, attrs: dict):
    g, indices = arrays
    rows, width = attrs["num_weights"], g.shape[-1]
    factor = _frequency_scale(indices, attrs, rows)
    weighted = (g.reshape(-1, width) * factor.reshape(-1, 1)).astype(np.float64)
    out = np.zeros((rows, width))
    np.add.at(out, indices.reshape(-1), weighted)
    return out.astype(g.dtype)


def _embedding_backward_vjp(F, g, c):
    indices = c.inputs[1]
    factor = _frequency_scale(F.value(indices), c.attrs, c.attrs["num_weights"])
    picked = F.embedding(indices, g)
    return picked * F.constant(factor[..., None].astype(F.value(g).dtype))


def _embedding_weight_vjp(F, g, c):
    indices, weight_shape = c.inputs[0], c.input_shapes[1]
    return F.embedding_dense_backward(g, indices, num_weights=weight_shape[0], padding_idx=c.attrs.get("padding_idx"),
                                      scale_grad_by_freq=c.attrs["scale_grad_by_freq"])


register(OpDef(
    name="embedding", forward=_embedding_forward, vjps=(None, _embedding_weight_vjp), grad_fn="EmbeddingBackward0",
    dtype_rule=same_float("embedding", float_positions=(1,), int_positions=(0,)), saves_inputs=(0,),
    min_inputs=2, max_inputs=2, attrs=EMBEDDING_ATTRS, functions=("nn.functional.embedding",),
    out_shape=lambda shapes, a: tuple(shapes[0]) + tuple(shapes[1][1:]),
    summary="rows of weight at the integer indices; padding_idx rows get no gradient, max_norm renormalises "
            "the rows used in place, scale_grad_by_freq divides gradients by index counts",
))
register(OpDef(
    name="embedding_dense_backward", forward=_embedding_backward_forward, vjps=(_embedding_backward_vjp, None),
    grad_fn="EmbeddingDenseBackwardBackward0",
    dtype_rule=same_float("embedding_dense_backward", float_positions=(0,), int_positions=(1,)), saves_inputs=(1,),
    min_inputs=2, max_inputs=2,
    attrs=(AttrSpec("num_weights", "integer", required=True), AttrSpec("padding_idx", "integer"),
           AttrSpec("scale_grad_by_freq", "boolean", default=False)),
    out_shape=lambda shapes, a: (a["num_weights"],) + tuple(shapes[0][-1:]),
    summary="internal: embedding's weight gradient (sums the gradients of each index into its row)",
    internal=True,
))


# ---------------------------------------------------------------- one_hot
def _one_hot_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[0] is not dtypes.int64:
        raise DTypeRuntimeError("one_hot is only applicable to index tensor of type LongTensor (int64); "
                                "convert it with .long()")
    return None, dtypes.int64


def _one_hot_forward(arrays: list, attrs: dict):
    x, classes = arrays[0], attrs["num_classes"]
    if x.size and x.min() < 0:
        raise InvalidArgumentRuntimeError("one_hot(): Class values must be non-negative.")
    if classes == -1:
        classes = int(x.max()) + 1 if x.size else 0
    elif x.size and x.max() >= classes:
        raise InvalidArgumentRuntimeError(f"one_hot(): Class values must be smaller than num_classes ({classes}).")
    return (x[..., None] == np.arange(classes)).astype(np.int64)


register(OpDef(
    name="one_hot", forward=_one_hot_forward, differentiable=False, dtype_rule=_one_hot_rule,
    attrs=(AttrSpec("num_classes", "integer", default=-1),), functions=("nn.functional.one_hot",),
    # num_classes=-1 depends on the values: the budget is charged for one class (a lower bound)
    out_shape=lambda shapes, a: (Bound if a["num_classes"] < 0 else tuple)(tuple(shapes[0]) + (max(a["num_classes"], 1),)),
    summary="int64 one-hot encoding along a new last dim (num_classes=-1: max + 1)",
))


# ---------------------------------------------------------------- pixel_shuffle / pixel_unshuffle
def _shuffle(x: np.ndarray, r: int, name: str) -> np.ndarray:
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ShapeError(f"{name}(): expected an input of at least 3 dims whose channels ({x.shape[-3] if x.ndim >= 3 else '?'}) "
                         f"are divisible by upscale_factor^2 = {r * r}, got shape {list(x.shape)}")
    *lead, c, h, w = x.shape
    y = x.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return y.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def _unshuffle(x: np.ndarray, r: int, name: str) -> np.ndarray:
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ShapeError(f"{name}(): expected height and width divisible by downscale_factor {r}, "
                         f"got shape {list(x.shape)}")
    *lead, c, h, w = x.shape
    y = x.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return y.reshape(tuple(lead) + (c * r * r, h // r, w // r))


def _shuffled_shape(shape: tuple, r: int, up: bool) -> tuple:
    if len(shape) < 3 or r <= 0:
        return tuple(shape)  # the forward reports the problem
    *lead, c, h, w = shape
    if up:
        return tuple(lead) + (c // (r * r), h * r, w * r)
    return tuple(lead) + (c * r * r, h // r, w // r)


def _factor(attrs: dict, key: str, name: str) -> int:
    if attrs[key] <= 0:
        raise InvalidArgumentRuntimeError(f"{name}(): {key} must be greater than 0, but got {attrs[key]}")
    return attrs[key]


register(OpDef(
    name="pixel_shuffle",
    forward=lambda arrays, a: np.ascontiguousarray(_shuffle(arrays[0], _factor(a, "upscale_factor", "pixel_shuffle"),
                                                            "pixel_shuffle")),
    vjps=(lambda F, g, c: F.pixel_unshuffle(g, downscale_factor=c.attrs["upscale_factor"]),),
    grad_fn="PixelShuffleBackward0", dtype_rule=lambda d, o, a: (None, d[0]),
    out_shape=lambda shapes, a: _shuffled_shape(shapes[0], a["upscale_factor"], True),
    attrs=(AttrSpec("upscale_factor", "integer", required=True),),
    functions=("pixel_shuffle", "nn.functional.pixel_shuffle"),
    summary="(*, C*r*r, H, W) -> (*, C, H*r, W*r)",
))
register(OpDef(
    name="pixel_unshuffle",
    forward=lambda arrays, a: np.ascontiguousarray(_unshuffle(arrays[0], _factor(a, "downscale_factor", "pixel_unshuffle"),
                                                              "pixel_unshuffle")),
    vjps=(lambda F, g, c: F.pixel_shuffle(g, upscale_factor=c.attrs["downscale_factor"]),),
    grad_fn="PixelUnshuffleBackward0", dtype_rule=lambda d, o, a: (None, d[0]),
    out_shape=lambda shapes, a: _shuffled_shape(shapes[0], a["downscale_factor"], False),
    attrs=(AttrSpec("downscale_factor", "integer", required=True),),
    functions=("pixel_unshuffle", "nn.functional.pixel_unshuffle"),
    summary="(*, C, H*r, W*r) -> (*, C*r*r, H, W)",
))


# ---------------------------------------------------------------- composites
def _broadcast(shapes: list, drop) -> tuple:
    """The operands' broadcast shape, without dim `drop` (None: all kept)."""
    try:
        shape = list(np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        return ()  # the forward reports the mismatch
    if drop is not None and shape:
        del shape[drop % len(shape)]
    return tuple(shape)


def _norm(F, x, p: float, dim, keepdim: bool):
    if p == 2:
        return F.sqrt(F.sum(x * x, dim=dim, keepdim=keepdim))
    if p == 0:  # torch's 0-"norm": the count of non-zero entries (its gradient is zero)
        return F.sum(F.sign(F.abs(x)), dim=dim, keepdim=keepdim)
    return F.sum(F.abs(x) ** p, dim=dim, keepdim=keepdim) ** (1.0 / p)


def _normalize(F, x, p, dim, eps):
    return x / F.clamp(_norm(F, x, p, dim, True), min=eps)


composite("normalize", _normalize, inputs=1, differentiable=(0,), grad_fn="DivBackward0",
          out_shape=lambda shapes, a: tuple(shapes[0]),
          dtype_rule=same_float("normalize"),
          attrs=(AttrSpec("p", "real", default=2.0), AttrSpec("dim", "integer", default=1),
                 AttrSpec("eps", "real", default=1e-12)),
          functions=("nn.functional.normalize",), summary="x / max(||x||_p along dim, eps)")


def _cosine_similarity(F, x1, x2, dim, eps):
    n1 = F.clamp(_norm(F, x1, 2, dim, True), min=eps)
    n2 = F.clamp(_norm(F, x2, 2, dim, True), min=eps)
    return F.sum((x1 / n1) * (x2 / n2), dim=dim)


composite("cosine_similarity", _cosine_similarity, inputs=2, differentiable=(0, 1), grad_fn="SumBackward1",
          out_shape=lambda shapes, a: _broadcast(shapes, drop=a["dim"]),
          dtype_rule=same_float("cosine_similarity"),
          attrs=(AttrSpec("dim", "integer", default=1), AttrSpec("eps", "real", default=1e-8)),
          functions=("cosine_similarity", "nn.functional.cosine_similarity"),
          summary="cosine of the angle between x1 and x2 along dim (each norm clamped at eps)")


def _pairwise_distance(F, x1, x2, p, eps, keepdim):
    return _norm(F, x1 - x2 + eps, p, -1, keepdim)


composite("pairwise_distance", _pairwise_distance, inputs=2, differentiable=(0, 1), grad_fn="NormBackward1",
          out_shape=lambda shapes, a: _broadcast(shapes, drop=-1) + ((1,) if a["keepdim"] else ()),
          dtype_rule=same_float("pairwise_distance"),
          attrs=(AttrSpec("p", "real", default=2.0), AttrSpec("eps", "real", default=1e-6),
                 AttrSpec("keepdim", "boolean", default=False)),
          functions=("pairwise_distance", "nn.functional.pairwise_distance"),
          summary="||x1 - x2 + eps||_p over the last dim")


def _reduced(F, values, reduction: str, name: str):
    check_reduction(name, reduction)
    return F.mean(values) if reduction == "mean" else F.sum(values) if reduction == "sum" else values


def _triplet(F, anchor, positive, negative, margin, p, eps, swap, reduction):
    d_ap = _pairwise_distance(F, anchor, positive, p, eps, False)
    d_an = _pairwise_distance(F, anchor, negative, p, eps, False)
    if swap:
        d_an = F.minimum(d_an, _pairwise_distance(F, positive, negative, p, eps, False))
    return _reduced(F, F.clamp(d_ap - d_an + margin, min=0.0), reduction, "triplet_margin_loss")


composite("triplet_margin_loss", _triplet, inputs=3, differentiable=(0, 1, 2),
          out_shape=lambda shapes, a: _broadcast(shapes, drop=-1) if a["reduction"] == "none" else (),
          grad_fn=lambda node: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(node.attrs["reduction"],
                                                                                     "ClampMinBackward0"),
          dtype_rule=same_float("triplet_margin_loss"),
          attrs=(AttrSpec("margin", "real", default=1.0), AttrSpec("p", "real", default=2.0),
                 AttrSpec("eps", "real", default=1e-6), AttrSpec("swap", "boolean", default=False), REDUCTION),
          functions=("nn.functional.triplet_margin_loss",),
          summary="max(d(a, p) - d(a, n) + margin, 0) with pairwise distances")


def _cosine_embedding(F, x1, x2, target, margin, reduction):
    dim = 1 if len(F.shape(x1)) == 2 else 0
    product = F.sum(x1 * x2, dim=dim)
    magnitude = F.sqrt((F.sum(x1 * x1, dim=dim) + 1e-12) * (F.sum(x2 * x2, dim=dim) + 1e-12))
    cos = product / magnitude
    positive = F.where(target == 1, 1 - cos, 0.0)
    negative = F.where(target == -1, F.clamp(cos - margin, min=0.0), 0.0)
    return _reduced(F, positive + negative, reduction, "cosine_embedding_loss")


composite("cosine_embedding_loss", _cosine_embedding, inputs=3, differentiable=(0, 1),
          out_shape=lambda shapes, a: tuple(shapes[0][:1]) if a["reduction"] == "none" and len(shapes[0]) == 2 else (),
          grad_fn=lambda node: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(node.attrs["reduction"],
                                                                                     "AddBackward0"),
          dtype_rule=same_float("cosine_embedding_loss", float_positions=(0, 1)),
          attrs=(AttrSpec("margin", "real", default=0.0), REDUCTION),
          functions=("nn.functional.cosine_embedding_loss",),
          summary="1 - cos(x1, x2) where target is 1, max(0, cos - margin) where it is -1")


def _lrn_band(channels: int, size: int, dtype) -> np.ndarray:
    c = np.arange(channels)
    offset = c[None, :] - c[:, None]  # column minus row
    return ((offset >= -(size // 2)) & (offset <= (size - 1) // 2)).astype(dtype) / size


def _local_response_norm(F, x, size, alpha, beta, k):
    shape = F.shape(x)
    if len(shape) < 3:
        raise ShapeError(f"local_response_norm(): expected 3D or higher dimensionality input, got {len(shape)} dims")
    band = F.constant(_lrn_band(shape[1], size, F.value(x).dtype).T)
    squares = F.transpose(x * x, dim0=1, dim1=-1)
    averaged = F.transpose(F.matmul(squares, band), dim0=1, dim1=-1)
    return x / (averaged * alpha + k) ** beta


composite("local_response_norm", _local_response_norm, inputs=1, differentiable=(0,), grad_fn="DivBackward0",
          out_shape=lambda shapes, a: tuple(shapes[0]),
          dtype_rule=same_float("local_response_norm"),
          attrs=(AttrSpec("size", "integer", required=True), AttrSpec("alpha", "real", default=1e-4),
                 AttrSpec("beta", "real", default=0.75), AttrSpec("k", "real", default=1.0)),
          functions=("nn.functional.local_response_norm",),
          summary="x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta")
