"""cross_entropy and nll_loss: class indices (with weight, ignore_index, K-dim inputs) and, for
cross_entropy, class probabilities; label smoothing; reductions none/mean/sum.

Both are written as loss_i = -sum_c a_ic * logp_ic with a coefficient tensor a: for class indices
a = (1 - eps) * W_i * onehot(t_i) + eps/C * valid_i * w_c (W_i = w[t_i], 0 where ignored); for
probabilities a = w_c * (t_ic (1 - eps) + eps/C). Then d/dx = -scale_i (a - softmax(x) * sum_c a) for
cross_entropy (x are logits) and -scale_i * a for nll_loss (x are log-probabilities).
Rules (shapes, dtypes, attribute checks): gradwire.rules.ops.nn_loss_class.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import IndexOutOfRange

from ..registry import implement
from .nn_common import compute

_LSE = "_logsumexp"  # the forward leaves each row's log-sum-exp here for the backward


def _layout(x: np.ndarray, t: np.ndarray, name: str):
    """Input as (N, C, rest...); a 1-D input is one sample. (The shape rules have checked the shapes.)"""
    if x.ndim == 1:  # one sample; its target is a class index of shape () or (1,), or probabilities
        return x[None], (t.reshape(1) if t.size == 1 and not np.issubdtype(t.dtype, np.floating) else t[None])
    return x, t


def _coefficients(name: str, x: np.ndarray, t: np.ndarray, w, attrs: dict):
    """(a, denominator of the mean) for x laid out (N, C, ...)."""
    classes = x.shape[1]
    eps = attrs.get("label_smoothing", 0.0)
    class_shape = (1, classes) + (1,) * (x.ndim - 2)
    w_c = None if w is None else compute(w).reshape(class_shape)
    if np.issubdtype(t.dtype, np.floating):
        a = compute(t) * (1 - eps) + eps / classes
        return (a if w_c is None else a * w_c), x.size // classes if x.size else 0
    valid = t != attrs["ignore_index"]
    bad = valid & ((t < 0) | (t >= classes))
    if np.any(bad):
        raise IndexOutOfRange(f"Target {int(t[bad].flat[0])} is out of bounds (the input has {classes} classes)")
    safe = np.where(valid, t, 0)
    onehot = np.zeros(x.shape, dtype=x.dtype if x.dtype != np.float16 else np.float32)
    np.put_along_axis(onehot, np.expand_dims(safe, 1), 1.0, axis=1)
    weight_i = valid.astype(onehot.dtype) if w_c is None else np.sum(onehot * w_c, axis=1) * valid
    a = (1 - eps) * onehot * np.expand_dims(weight_i, 1)
    if eps:
        a = a + eps / classes * np.expand_dims(valid, 1) * (1.0 if w_c is None else w_c)
    return a, np.sum(weight_i)


def _rows(x: np.ndarray) -> np.ndarray:
    """(N, C, d...) as (N*prod(d), C): the class dim last, one row per sample position."""
    return x if x.ndim == 2 else np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _unrows(rows: np.ndarray, shape: tuple) -> np.ndarray:
    if len(shape) == 2:
        return rows
    return np.moveaxis(rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)), -1, 1)


def _index_parts(name: str, x: np.ndarray, t: np.ndarray, w, attrs: dict) -> tuple:
    """Class indices as a = s_i * onehot(t_i) + r_i * v (r None without label smoothing): (targets, s, r, v,
    denominator of the mean). v is the class weights (None: ones)."""
    classes = x.shape[1]
    eps = attrs.get("label_smoothing", 0.0)
    targets = t.reshape(-1)
    valid = targets != attrs["ignore_index"]
    bad = valid & ((targets < 0) | (targets >= classes))
    if np.any(bad):
        raise IndexOutOfRange(f"Target {int(targets[bad][0])} is out of bounds (the input has {classes} classes)")
    safe = np.where(valid, targets, 0)
    v = None if w is None else compute(w)
    weight_i = valid.astype(x.dtype) if v is None else v[safe] * valid
    r = (eps / classes) * valid.astype(x.dtype) if eps else None
    return safe, (1 - eps) * weight_i, r, v, np.sum(weight_i)


def _forward(name: str, logits: bool):
    def forward(arrays: list, attrs: dict):
        x0, t0, w = arrays
        x, t = _layout(compute(x0), t0, name)
        if np.issubdtype(t.dtype, np.floating):  # class probabilities: dense coefficients
            a, denominator = _coefficients(name, x, t, w, attrs)
            shifted = x - np.max(x, axis=1, keepdims=True) if x.size else x
            logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
            per_sample = -np.sum(a * logp, axis=1)
        else:
            targets, s, r, v, denominator = _index_parts(name, x, t, w, attrs)
            rows = _rows(x)
            picked = rows[np.arange(rows.shape[0]), targets]
            if logits:
                top = np.max(rows, axis=1, keepdims=True) if rows.size else np.zeros((rows.shape[0], 1), rows.dtype)
                shifted = rows - top
                np.exp(shifted, out=shifted)
                lse = np.log(np.sum(shifted, axis=1)) + top[:, 0]
                attrs[_LSE] = lse  # the backward's softmax needs it (kept with the node's attributes)
                picked = picked - lse
            per_sample = -s * picked
            if r is not None:
                total = np.sum(rows, axis=1) if v is None else rows @ v
                mass = rows.shape[1] if v is None else np.sum(v)
                per_sample = per_sample - r * (total - (lse * mass if logits else 0))
            per_sample = per_sample.reshape((x.shape[0],) + x.shape[2:])
        if attrs["reduction"] == "none":
            return per_sample.reshape(x0.shape[:1] + x0.shape[2:] if x0.ndim > 1 else ())
        total = np.sum(per_sample)
        if attrs["reduction"] == "sum":
            return total
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / denominator

    return forward


def _fast_index_grad(name: str, logits: bool, g: np.ndarray, c) -> np.ndarray:
    """The input gradient for class indices on arrays (plain backward): sparse in the targets."""
    x0, t0, w = c.inputs
    x, t = _layout(compute(x0), t0, name)
    targets, s, r, v, denominator = _index_parts(name, x, t, w, c.attrs)
    rows = _rows(x)
    reduction = c.attrs["reduction"]
    scale = g.reshape(-1) if reduction == "none" else np.full(rows.shape[0], g / denominator if reduction == "mean" else g)
    if logits:
        lse = c.attrs.get(_LSE)
        if lse is None:
            top = np.max(rows, axis=1, keepdims=True)
            lse = np.log(np.sum(np.exp(rows - top), axis=1)) + top[:, 0]
        mass = s if r is None else s + r * (rows.shape[1] if v is None else np.sum(v))
        grad = rows - lse[:, None].astype(rows.dtype)
        np.exp(grad, out=grad)  # the softmax, in place
        grad *= (scale * mass).astype(rows.dtype)[:, None]
    else:
        grad = np.zeros_like(rows)
    grad[np.arange(rows.shape[0]), targets] -= scale * s
    if r is not None:
        grad -= (scale * r)[:, None] * (1.0 if v is None else v)
    grad = _unrows(grad, x.shape)
    return (grad[0] if x0.ndim == 1 else grad).astype(x0.dtype, copy=False)


def _vjp_input(name: str, logits: bool):
    def vjp(F, g, c):
        x, t, w = c.inputs
        if not F.as_tensors and not np.issubdtype(t.dtype, np.floating):
            return _fast_index_grad(name, logits, g, c)
        shape = c.input_shapes[0]
        one_sample = len(shape) == 1
        x2 = F.unsqueeze(x, dim=0) if one_sample else x
        raw_t = F.value(t)
        probabilities = np.issubdtype(raw_t.dtype, np.floating)
        raw_x = F.value(x2)
        if probabilities:
            classes = raw_x.shape[1]
            eps = c.attrs.get("label_smoothing", 0.0)
            t2 = F.unsqueeze(t, dim=0) if one_sample else t
            a = t2 * (1 - eps) + eps / classes
            if w is not None:
                a = a * F.reshape(w, shape=(1, classes) + (1,) * (len(raw_x.shape) - 2))
            denominator = raw_x.size // classes
        else:
            a_raw, denominator = _coefficients(name, raw_x, raw_t[None] if one_sample else raw_t,
                                               None if w is None else F.value(w), c.attrs)
            a = F.constant(a_raw.astype(raw_x.dtype))
        sample_shape = (raw_x.shape[0],) + raw_x.shape[2:]
        reduction = c.attrs["reduction"]
        if reduction == "none":
            scale = F.reshape(g, shape=sample_shape)
        else:
            scale = F.expand(g / denominator if reduction == "mean" else g, shape=sample_shape)
        scale = F.unsqueeze(scale, dim=1)
        if logits:
            grad = (F.softmax(x2, dim=1) * F.sum(a, dim=1, keepdim=True) - a) * scale
        else:
            grad = -a * scale
        return F.squeeze(grad, dim=0) if one_sample else grad

    return vjp


def _vjp_target(F, g, c):
    """Probability targets only: d/dt = -scale * w_c * logp * (1 - eps)."""
    x, t, w = c.inputs
    if not np.issubdtype(F.value(t).dtype, np.floating):
        return None
    shape = c.input_shapes[0]
    one_sample = len(shape) == 1
    x2 = F.unsqueeze(x, dim=0) if one_sample else x
    classes = F.shape(x2)[1]
    grad = F.log_softmax(x2, dim=1) * -(1 - c.attrs.get("label_smoothing", 0.0))
    if w is not None:
        grad = grad * F.reshape(w, shape=(1, classes) + (1,) * (len(F.shape(x2)) - 2))
    sample_shape = (F.shape(x2)[0],) + tuple(F.shape(x2)[2:])
    reduction = c.attrs["reduction"]
    if reduction == "none":
        scale = F.reshape(g, shape=sample_shape)
    else:
        count = int(np.prod(sample_shape))
        scale = F.expand(g / count if reduction == "mean" else g, shape=sample_shape)
    grad = grad * F.unsqueeze(scale, dim=1)
    return F.squeeze(grad, dim=0) if one_sample else grad


implement("cross_entropy", _forward("cross_entropy", True),
          vjps=(_vjp_input("cross_entropy", True), _vjp_target, None), saves_all_inputs=True)
implement("nll_loss", _forward("nll_loss", False), vjps=(_vjp_input("nll_loss", False), None, None),
          saves_all_inputs=True)
