"""embedding, one_hot, pixel_shuffle/pixel_unshuffle, and the composites normalize,
cosine_similarity, pairwise_distance, local_response_norm, triplet_margin_loss and
cosine_embedding_loss (see nn_composite.py): forwards and VJPs (rules: gradwire.rules.ops.nn_misc)."""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import IndexOutOfRange, InvalidArgumentRuntimeError
from gradwire.rules.ops.nn_misc import padding_row

from ..registry import implement
from .nn_composite import composite

# ---------------------------------------------------------------- embedding
def _embedding_forward(arrays: list, attrs: dict):
    indices, weight = arrays
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
    padding = padding_row(attrs, rows)
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


implement("embedding", _embedding_forward, vjps=(None, _embedding_weight_vjp), saves_inputs=(0,))
implement("embedding_dense_backward", _embedding_backward_forward, vjps=(_embedding_backward_vjp, None),
          saves_inputs=(1,))


# ---------------------------------------------------------------- one_hot
def _one_hot_forward(arrays: list, attrs: dict):
    x, classes = arrays[0], attrs["num_classes"]
    if x.size and x.min() < 0:
        raise InvalidArgumentRuntimeError("one_hot(): Class values must be non-negative.")
    if classes == -1:
        classes = int(x.max()) + 1 if x.size else 0
    elif x.size and x.max() >= classes:
        raise InvalidArgumentRuntimeError(f"one_hot(): Class values must be smaller than num_classes ({classes}).")
    return (x[..., None] == np.arange(classes)).astype(np.int64)


implement("one_hot", _one_hot_forward)


# ---------------------------------------------------------------- pixel_shuffle / pixel_unshuffle
def _shuffle(x: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = x.shape
    y = x.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return y.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def _unshuffle(x: np.ndarray, r: int) -> np.ndarray:
    *lead, c, h, w = x.shape
    y = x.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return y.reshape(tuple(lead) + (c * r * r, h // r, w // r))


implement("pixel_shuffle", lambda arrays, a: np.ascontiguousarray(_shuffle(arrays[0], a["upscale_factor"])),
          vjps=(lambda F, g, c: F.pixel_unshuffle(g, downscale_factor=c.attrs["upscale_factor"]),))
implement("pixel_unshuffle", lambda arrays, a: np.ascontiguousarray(_unshuffle(arrays[0], a["downscale_factor"])),
          vjps=(lambda F, g, c: F.pixel_shuffle(g, upscale_factor=c.attrs["downscale_factor"]),))


# ---------------------------------------------------------------- composites
def _norm(F, x, p: float, dim, keepdim: bool):
    if p == 2:
        return F.sqrt(F.sum(x * x, dim=dim, keepdim=keepdim))
    if p == 0:  # torch's 0-"norm": the count of non-zero entries (its gradient is zero)
        return F.sum(F.sign(F.abs(x)), dim=dim, keepdim=keepdim)
    return F.sum(F.abs(x) ** p, dim=dim, keepdim=keepdim) ** (1.0 / p)


def _normalize(F, x, p, dim, eps):
    return x / F.clamp(_norm(F, x, p, dim, True), min=eps)


composite("normalize", _normalize, differentiable=(0,))


def _cosine_similarity(F, x1, x2, dim, eps):
    n1 = F.clamp(_norm(F, x1, 2, dim, True), min=eps)
    n2 = F.clamp(_norm(F, x2, 2, dim, True), min=eps)
    return F.sum((x1 / n1) * (x2 / n2), dim=dim)


composite("cosine_similarity", _cosine_similarity, differentiable=(0, 1))


def _pairwise_distance(F, x1, x2, p, eps, keepdim):
    return _norm(F, x1 - x2 + eps, p, -1, keepdim)


composite("pairwise_distance", _pairwise_distance, differentiable=(0, 1))


def _reduced(F, values, reduction: str, name: str):
    return F.mean(values) if reduction == "mean" else F.sum(values) if reduction == "sum" else values


def _triplet(F, anchor, positive, negative, margin, p, eps, swap, reduction):
    d_ap = _pairwise_distance(F, anchor, positive, p, eps, False)
    d_an = _pairwise_distance(F, anchor, negative, p, eps, False)
    if swap:
        d_an = F.minimum(d_an, _pairwise_distance(F, positive, negative, p, eps, False))
    return _reduced(F, F.clamp(d_ap - d_an + margin, min=0.0), reduction, "triplet_margin_loss")


composite("triplet_margin_loss", _triplet, differentiable=(0, 1, 2))


def _cosine_embedding(F, x1, x2, target, margin, reduction):
    dim = 1 if len(F.shape(x1)) == 2 else 0
    product = F.sum(x1 * x2, dim=dim)
    magnitude = F.sqrt((F.sum(x1 * x1, dim=dim) + 1e-12) * (F.sum(x2 * x2, dim=dim) + 1e-12))
    cos = product / magnitude
    positive = F.where(target == 1, 1 - cos, 0.0)
    negative = F.where(target == -1, F.clamp(cos - margin, min=0.0), 0.0)
    return _reduced(F, positive + negative, reduction, "cosine_embedding_loss")


composite("cosine_embedding_loss", _cosine_embedding, differentiable=(0, 1))


def _lrn_band(channels: int, size: int, dtype) -> np.ndarray:
    c = np.arange(channels)
    offset = c[None, :] - c[:, None]  # column minus row
    return ((offset >= -(size // 2)) & (offset <= (size - 1) // 2)).astype(dtype) / size


def _local_response_norm(F, x, size, alpha, beta, k):
    shape = F.shape(x)
    band = F.constant(_lrn_band(shape[1], size, F.value(x).dtype).T)
    squares = F.transpose(x * x, dim0=1, dim1=-1)
    averaged = F.transpose(F.matmul(squares, band), dim0=1, dim1=-1)
    return x / (averaged * alpha + k) ** beta


composite("local_response_norm", _local_response_norm, differentiable=(0,))
