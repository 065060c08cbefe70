"""Normalisation layers: layer_norm, batch_norm (training and eval, running statistics updated in
place as torch does), group_norm and instance_norm.

All four normalise x over some axes: xhat = (x - mean) / sqrt(var + eps) (biased variance), then scale
and shift per channel. The input gradient, for an upstream gradient gh of xhat, is
rstd * (gh - mean(gh) - xhat * mean(gh * xhat)); it is written with F and recomputes xhat from x, so it
is itself differentiable (second derivatives). Rules: gradwire.rules.ops.nn_norm.
"""

from __future__ import annotations

import math

import numpy as np

from ..registry import implement
from .nn_common import compute


def normalize_array(x: np.ndarray, axes: tuple, eps: float) -> np.ndarray:
    mean = np.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=axes, keepdims=True)
    return centred / np.sqrt(var + eps)


def normalized(F, x, axes: tuple, eps: float):
    """(xhat, rstd) written with F."""
    centred = x - F.mean(x, dim=axes, keepdim=True)
    rstd = 1 / F.sqrt(F.mean(centred * centred, dim=axes, keepdim=True) + eps)
    return centred * rstd, rstd


def normalized_input_grad(F, gh, x, axes: tuple, eps: float):
    xhat, rstd = normalized(F, x, axes, eps)
    return rstd * (gh - F.mean(gh, dim=axes, keepdim=True) - xhat * F.mean(gh * xhat, dim=axes, keepdim=True))


def _channel_shape(ndim: int, axis: int = 1) -> tuple:
    return tuple(-1 if i == axis else 1 for i in range(ndim))


def _affine(y: np.ndarray, w, b, shape: tuple) -> np.ndarray:
    if w is not None:
        y = y * compute(w).reshape(shape)
    if b is not None:
        y = y + compute(b).reshape(shape)
    return y


# ---------------------------------------------------------------- layer_norm
def _normalized_shape(attrs: dict) -> tuple:
    shape = attrs["normalized_shape"]
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _layer_axes(ndim: int, normalized_shape) -> tuple:
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    return tuple(range(ndim - len(normalized_shape), ndim))


_STATS = "_mean_rstd"  # layer_norm's forward leaves (mean, rstd) here; plain backward reuses them
_WEIGHT_GRAD = "_weight_grad"  # during a backward: the weight's gradient, computed with the input's


def _layer_norm_forward(arrays: list, attrs: dict):
    x, w, b = arrays
    shape = _normalized_shape(attrs)
    data = compute(x)
    rows = data.reshape(-1, math.prod(shape))  # one row per normalised group
    mean = np.mean(rows, axis=1, keepdims=True)
    y = rows - mean
    rstd = 1 / np.sqrt(np.einsum("ij,ij->i", y, y)[:, None] / max(rows.shape[1], 1) + attrs["eps"])
    y *= rstd
    attrs[_STATS] = (mean, rstd)
    y = y.reshape(data.shape)
    if w is not None:
        y *= compute(w)
    if b is not None:
        y += compute(b)
    return y


def _layer_grads_on_arrays(g: np.ndarray, c) -> np.ndarray:
    """The input gradient on arrays, from the forward's statistics. The weight's gradient needs the
    same normalised input: when the weight wants a gradient it is computed here too and left in the
    attributes for the weight's VJP, which runs next and takes it."""
    x, w = c.inputs[0], c.inputs[1]
    width = math.prod(_normalized_shape(c.attrs))
    mean, rstd = c.attrs[_STATS]
    xhat = compute(x).reshape(-1, width) - mean
    xhat *= rstd
    gh = (g * w if w is not None else np.array(g, copy=True)).reshape(xhat.shape)
    if w is not None and c.node.next_edges[1] is not None:
        c.attrs[_WEIGHT_GRAD] = np.einsum("ij,ij->j", g.reshape(xhat.shape), xhat)
    mean_gh = np.sum(gh, axis=1, keepdims=True) / width
    projection = np.einsum("ij,ij->i", gh, xhat)[:, None] / width
    xhat *= projection * rstd  # xhat is not needed any more: reuse it for the projection term
    gh *= rstd
    gh -= xhat
    gh -= mean_gh * rstd
    return gh.reshape(c.input_shapes[0])


def _layer_norm_grad_input(F, g, c):
    x, w = c.inputs[0], c.inputs[1]
    if not F.as_tensors and _STATS in c.attrs:
        return _layer_grads_on_arrays(g, c)
    axes = _layer_axes(len(c.input_shapes[0]), c.attrs["normalized_shape"])
    return normalized_input_grad(F, g if w is None else g * w, x, axes, c.attrs["eps"])


def _layer_norm_grad_weight(F, g, c):
    if not F.as_tensors and _STATS in c.attrs:
        grad = c.attrs.pop(_WEIGHT_GRAD, None)
        if grad is None:  # the input's VJP did not run (autograd.grad w.r.t. the weight only)
            width = math.prod(_normalized_shape(c.attrs))
            mean, rstd = c.attrs[_STATS]
            xhat = (compute(c.inputs[0]).reshape(-1, width) - mean) * rstd
            grad = np.einsum("ij,ij->j", g.reshape(xhat.shape), xhat)
        return grad.reshape(c.input_shapes[1])
    axes = _layer_axes(len(c.input_shapes[0]), c.attrs["normalized_shape"])
    return g * normalized(F, c.inputs[0], axes, c.attrs["eps"])[0]  # leading dims summed by the engine


implement("layer_norm", _layer_norm_forward,
          vjps=(_layer_norm_grad_input, _layer_norm_grad_weight, lambda F, g, c: g), saves_inputs=(0, 1))


# ---------------------------------------------------------------- batch_norm
def _stat_axes(ndim: int) -> tuple:
    return (0,) + tuple(range(2, ndim))


def _batch_norm_forward(arrays: list, attrs: dict):
    x, running_mean, running_var, w, b = arrays
    axes, shape, eps = _stat_axes(x.ndim), _channel_shape(x.ndim), attrs["eps"]
    data = compute(x)
    if attrs["training"]:
        y = normalize_array(data, axes, eps)
        momentum = attrs["momentum"]
        if running_mean is not None:  # torch updates the buffers in place (unbiased variance)
            running_mean[...] = (1 - momentum) * running_mean + momentum * np.mean(data, axis=axes)
        if running_var is not None:
            running_var[...] = (1 - momentum) * running_var + momentum * np.var(data, axis=axes, ddof=1)
    else:
        y = (data - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
    return _affine(y, w, b, shape)


def _batch_norm_grad_input(F, g, c):
    x, running_mean, running_var, w = c.inputs[:4]
    shape = _channel_shape(len(c.input_shapes[0]))
    gh = g if w is None else g * F.reshape(w, shape=shape)
    if c.attrs["training"]:
        return normalized_input_grad(F, gh, x, _stat_axes(len(c.input_shapes[0])), c.attrs["eps"])
    return gh / F.sqrt(F.reshape(running_var, shape=shape) + c.attrs["eps"])


def _batch_norm_xhat(F, c):
    x, running_mean, running_var = c.inputs[:3]
    if c.attrs["training"]:
        return normalized(F, x, _stat_axes(len(c.input_shapes[0])), c.attrs["eps"])[0]
    shape = _channel_shape(len(c.input_shapes[0]))
    return (x - F.reshape(running_mean, shape=shape)) / F.sqrt(F.reshape(running_var, shape=shape) + c.attrs["eps"])


implement("batch_norm", _batch_norm_forward,
          vjps=(_batch_norm_grad_input, None, None,
                lambda F, g, c: F.sum(g * _batch_norm_xhat(F, c), dim=_stat_axes(len(c.input_shapes[0]))),
                lambda F, g, c: F.sum(g, dim=_stat_axes(len(c.input_shapes[0])))),
          saves_inputs=(0, 1, 2, 3))


# ---------------------------------------------------------------- group_norm, instance_norm
def _grouped(x_shape: tuple, groups: int) -> tuple:
    return (x_shape[0], groups, -1)


def _group_norm_forward(arrays: list, attrs: dict):
    x, w, b = arrays
    groups = attrs["num_groups"]
    data = compute(x)
    y = normalize_array(data.reshape(_grouped(x.shape, groups)), (2,), attrs["eps"]).reshape(x.shape)
    return _affine(y, w, b, _channel_shape(x.ndim))


def _group_norm_grad_input(F, g, c):
    x, w = c.inputs[0], c.inputs[1]
    shape = c.input_shapes[0]
    gh = g if w is None else g * F.reshape(w, shape=_channel_shape(len(shape)))
    grouped = _grouped(shape, c.attrs["num_groups"])
    grad = normalized_input_grad(F, F.reshape(gh, shape=grouped), F.reshape(x, shape=grouped), (2,), c.attrs["eps"])
    return F.reshape(grad, shape=shape)


def _group_xhat(F, c):
    shape = c.input_shapes[0]
    grouped = _grouped(shape, c.attrs["num_groups"])
    return F.reshape(normalized(F, F.reshape(c.inputs[0], shape=grouped), (2,), c.attrs["eps"])[0], shape=shape)


implement("group_norm", _group_norm_forward,
          vjps=(_group_norm_grad_input,
                lambda F, g, c: F.sum(g * _group_xhat(F, c), dim=_stat_axes(len(c.input_shapes[0]))),
                lambda F, g, c: F.sum(g, dim=_stat_axes(len(c.input_shapes[0])))),
          saves_inputs=(0, 1))


def _instance_forward(arrays: list, attrs: dict):
    x, running_mean, running_var, w, b = arrays
    data = compute(x)
    axes = tuple(range(2, x.ndim))
    if not attrs["use_input_stats"]:
        shape = _channel_shape(x.ndim)
        y = (data - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + attrs["eps"])
        return _affine(y, w, b, shape)
    y = normalize_array(data, axes, attrs["eps"])
    momentum = attrs["momentum"]
    if running_mean is not None:  # averaged over the batch, as torch's instance_norm does
        running_mean[...] = (1 - momentum) * running_mean + momentum * np.mean(data, axis=(0,) + axes)
    if running_var is not None:
        per_instance = np.var(data, axis=axes, ddof=1)
        running_var[...] = (1 - momentum) * running_var + momentum * np.mean(per_instance, axis=0)
    return _affine(y, w, b, _channel_shape(x.ndim))


def _instance_grad_input(F, g, c):
    x, running_mean, running_var, w = c.inputs[:4]
    shape = _channel_shape(len(c.input_shapes[0]))
    gh = g if w is None else g * F.reshape(w, shape=shape)
    if not c.attrs["use_input_stats"]:
        return gh / F.sqrt(F.reshape(running_var, shape=shape) + c.attrs["eps"])
    return normalized_input_grad(F, gh, x, tuple(range(2, len(c.input_shapes[0]))), c.attrs["eps"])


def _instance_xhat(F, c):
    x, running_mean, running_var = c.inputs[:3]
    if not c.attrs["use_input_stats"]:
        shape = _channel_shape(len(c.input_shapes[0]))
        return (x - F.reshape(running_mean, shape=shape)) / F.sqrt(F.reshape(running_var, shape=shape) + c.attrs["eps"])
    return normalized(F, x, tuple(range(2, len(c.input_shapes[0]))), c.attrs["eps"])[0]


implement("instance_norm", _instance_forward,
          vjps=(_instance_grad_input, None, None,
                lambda F, g, c: F.sum(g * _instance_xhat(F, c), dim=_stat_axes(len(c.input_shapes[0]))),
                lambda F, g, c: F.sum(g, dim=_stat_axes(len(c.input_shapes[0])))),
          saves_inputs=(0, 1, 2, 3))
