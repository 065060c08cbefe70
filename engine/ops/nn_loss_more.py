"""How more torch.nn.functional losses compute: gaussian_nll_loss, multilabel_soft_margin_loss and
multi_margin_loss, composites written once against F (nn_composite.py) with torch's grad_fn names (their
rules: gradwire.rules.ops.nn_loss_more)."""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.errors import IndexOutOfRange, InvalidValueError
from gradwire.rules.ops.nn_loss_more import gaussian_var_shape

from .nn_composite import composite


def _reduced(F, values, reduction: str):
    return F.mean(values) if reduction == "mean" else F.sum(values) if reduction == "sum" else values


def _gaussian_nll(F, x, target, var, full, eps, reduction):
    raw = F.value(var)
    if np.any(raw < 0):
        raise InvalidValueError("var has negative entry/entries")
    var = F.reshape(var, shape=gaussian_var_shape(tuple(F.shape(x)), tuple(F.shape(var))))
    # clamped to eps as a constant shift: the value is clamped, the gradient passes as if it were not (torch
    # clamps a clone under no_grad)
    var = var - F.constant(np.asarray(raw - np.maximum(raw, eps)).reshape(F.shape(var)))
    loss = 0.5 * (F.log(var) + (x - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduced(F, loss, reduction)


def _multilabel_soft_margin(F, x, target, weight, reduction):
    loss = -(target * F.logsigmoid(x) + (1 - target) * F.logsigmoid(-x))
    if weight is not None:
        loss = loss * weight
    classes = F.shape(x)[-1]
    return _reduced(F, F.sum(loss, dim=-1) / classes, reduction)


def _multi_margin(F, x, target, weight, p, margin, reduction):
    shape = tuple(F.shape(x))
    batched = len(shape) == 2
    scores = x if batched else F.reshape(x, shape=(1, shape[-1] if shape else 1))
    labels = np.asarray(F.value(target)).reshape(-1)
    classes = F.shape(scores)[1]
    if np.any((labels < 0) | (labels >= classes)):
        raise IndexOutOfRange("target out of range")
    onehot = np.zeros(tuple(F.shape(scores)), dtype=F.value(x).dtype)
    onehot[np.arange(labels.size), labels] = 1
    picked = F.sum(scores * F.constant(onehot), dim=1, keepdim=True)
    hinge = F.clamp(margin - picked + scores, min=0.0) * F.constant(1 - onehot)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * F.constant(np.asarray(F.value(weight))[labels].reshape(-1, 1))
    loss = F.sum(hinge, dim=1) / classes
    if not batched:
        loss = F.reshape(loss, shape=())
    return _reduced(F, loss, reduction)


composite("gaussian_nll_loss", _gaussian_nll, differentiable=(0, 1, 2))
composite("multilabel_soft_margin_loss", _multilabel_soft_margin, differentiable=(0, 1, 2))
composite("multi_margin_loss", _multi_margin, differentiable=(0,))
