"""Losses that are an elementwise function of (input, target) then a reduction: mse, l1, smooth_l1,
huber, soft_margin, binary_cross_entropy (+ with_logits), kl_div, poisson_nll, margin_ranking,
hinge_embedding. Each is one registry op: a numpy forward, and VJPs written with F over the elementwise
derivative, so second derivatives work. Input and target broadcast as torch allows (with its warning).
Rules: gradwire.rules.ops.nn_loss_elementwise."""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.dtypes import TORCH_NAMES
from gradwire.rules.errors import DTypeRuntimeError, InvalidArgumentRuntimeError

from ..registry import implement
from .nn_common import compute, expand_loss_grad, reduce_loss


def _shape(c) -> tuple:
    return tuple(np.broadcast_shapes(*[s for s, d in zip(c.input_shapes, c.node.input_dtypes) if d is not None]))


def _spread(F, g, c):
    """The output gradient over the elementwise losses (broadcast shape), mean divided out."""
    return expand_loss_grad(F, g, _shape(c), c.attrs["reduction"])


def elementwise_loss(name: str, loss, grads, *, check=None) -> None:
    """loss(xp, arrays, attrs) -> elementwise values (numpy); grads: one F rule per operand,
    rule(F, c) -> d(loss)/d(operand) elementwise (None: not differentiable); check(arrays, attrs): the
    checks of values (the shape rules have checked shapes and attributes)."""

    def forward(arrays: list, a: dict):
        if check is not None:
            check(arrays, a)
        values = loss([compute(x) if x is not None else None for x in arrays], a)
        if a["reduction"] == "batchmean":
            return np.sum(values) / (values.shape[0] if values.ndim else 1)
        return reduce_loss(values, a["reduction"])

    def vjp_for(rule):
        if rule is None:
            return None

        def vjp(F, g, c):
            if c.attrs["reduction"] == "batchmean":
                shape = _shape(c)
                spread = F.expand(g / (shape[0] if shape else 1), shape=shape)
            else:
                spread = _spread(F, g, c)
            return spread * rule(F, c)

        return vjp

    implement(name, forward, vjps=tuple(vjp_for(r) for r in grads), saves_all_inputs=True)


def _diff(F, c):
    return c.inputs[0] - c.inputs[1]


elementwise_loss(
    "mse_loss", lambda v, a: (v[0] - v[1]) ** 2, (lambda F, c: 2 * _diff(F, c), lambda F, c: -2 * _diff(F, c)))
elementwise_loss(
    "l1_loss", lambda v, a: np.abs(v[0] - v[1]), (lambda F, c: F.sign(_diff(F, c)), lambda F, c: -F.sign(_diff(F, c))))


def _smooth_l1(v, a):
    d = np.abs(v[0] - v[1])
    beta = a["beta"]
    return d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


def _smooth_l1_grad(F, c):
    d = _diff(F, c)
    beta = c.attrs["beta"]
    if beta == 0:
        return F.sign(d)
    return F.where(F.abs(d) <= beta, d / beta, F.sign(d))


elementwise_loss("smooth_l1_loss", _smooth_l1, (_smooth_l1_grad, lambda F, c: -_smooth_l1_grad(F, c)))


def _huber(v, a):
    d, delta = np.abs(v[0] - v[1]), a["delta"]
    return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


def _huber_grad(F, c):
    x, t = c.node.input_dtypes[:2]
    if x is not t:  # torch's forward keeps the input's dtype; its backward kernel refuses the mix
        raise DTypeRuntimeError(f"Found dtype {TORCH_NAMES[t]} but expected {TORCH_NAMES[x]}")
    d, delta = _diff(F, c), c.attrs["delta"]
    return F.where(F.abs(d) <= delta, d, F.sign(d) * delta)


elementwise_loss("huber_loss", _huber, (_huber_grad, lambda F, c: -_huber_grad(F, c)))


def _soft_margin(v, a):
    return np.logaddexp(0, -v[1] * v[0])


elementwise_loss(
    "soft_margin_loss", _soft_margin,
    (lambda F, c: -c.inputs[1] * F.sigmoid(-c.inputs[1] * c.inputs[0]),
     lambda F, c: -c.inputs[0] * F.sigmoid(-c.inputs[1] * c.inputs[0])))


# ---------------------------------------------------------------- binary cross entropy
def _bce_check(arrays, a):
    x = arrays[0]
    if x.size and (np.any(x < 0) or np.any(x > 1)):
        raise InvalidArgumentRuntimeError("binary_cross_entropy(): all elements of input should be between 0 and 1; "
                            "apply sigmoid first, or use binary_cross_entropy_with_logits")


def _bce(v, a):
    x, t, w = v
    with np.errstate(divide="ignore"):
        log_x, log_1mx = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)
    loss = -(t * log_x + (1 - t) * log_1mx)
    return loss if w is None else loss * w


def _weighted(F, c, value):
    w = c.inputs[2]
    return value if w is None else value * w


def _bce_grad_input(F, c):
    x, t = c.inputs[0], c.inputs[1]
    return _weighted(F, c, (x - t) / F.clamp((1 - x) * x, min=1e-12))


def _bce_grad_target(F, c):
    x = c.inputs[0]
    return _weighted(F, c, F.log(1 - x) - F.log(x))


elementwise_loss("binary_cross_entropy", _bce, (_bce_grad_input, _bce_grad_target, None), check=_bce_check)


def _softplus_neg(x):
    return np.logaddexp(0, -x)


def _bce_logits(v, a):
    x, t, w, pos_weight = v
    if pos_weight is None:
        loss = (1 - t) * x + _softplus_neg(x)
    else:
        loss = (1 - t) * x + ((pos_weight - 1) * t + 1) * _softplus_neg(x)
    return loss if w is None else loss * w


def _softplus_neg_f(F, x):
    return F.log(1 + F.exp(-F.abs(x))) + F.relu(-x)


def _bce_logits_grad_input(F, c):
    x, t, _, pos_weight = c.inputs
    if pos_weight is None:
        return _weighted(F, c, F.sigmoid(x) - t)
    return _weighted(F, c, (1 - t) - ((pos_weight - 1) * t + 1) * F.sigmoid(-x))


def _bce_logits_grad_target(F, c):
    x, _, _, pos_weight = c.inputs
    if pos_weight is None:
        return _weighted(F, c, -x)
    return _weighted(F, c, (pos_weight - 1) * _softplus_neg_f(F, x) - x)


elementwise_loss("binary_cross_entropy_with_logits", _bce_logits,
                 (_bce_logits_grad_input, _bce_logits_grad_target, None, None))


# ---------------------------------------------------------------- kl_div, poisson_nll_loss
def _kl_div(v, a):
    x, t = v
    if a["log_target"]:
        return np.exp(t) * (t - x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t == 0, 0.0, t * np.log(np.where(t == 0, 1.0, t))) - t * x


def _kl_grad_target(F, c):
    x, t = c.inputs
    if c.attrs["log_target"]:
        return F.exp(t) * (t - x + 1)
    return F.log(t) + 1 - x


elementwise_loss(
    "kl_div", _kl_div,
    (lambda F, c: -F.exp(c.inputs[1]) if c.attrs["log_target"] else -c.inputs[1], _kl_grad_target))


def _poisson(v, a):
    x, t = v
    loss = np.exp(x) - t * x if a["log_input"] else x - t * np.log(x + a["eps"])
    if a["full"]:
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = t * np.log(t) - t + 0.5 * np.log(2 * math.pi * t)
        loss = loss + np.where(t > 1, stirling, 0.0)
    return loss


def _poisson_grad_input(F, c):
    x, t = c.inputs
    return F.exp(x) - t if c.attrs["log_input"] else 1 - t / (x + c.attrs["eps"])


def _poisson_grad_target(F, c):
    x, t = c.inputs
    grad = -x if c.attrs["log_input"] else -F.log(x + c.attrs["eps"])
    if c.attrs["full"]:
        grad = grad + F.where(t > 1, F.log(t) + 0.5 / t, 0.0)
    return grad


elementwise_loss("poisson_nll_loss", _poisson, (_poisson_grad_input, _poisson_grad_target))


# ---------------------------------------------------------------- margin losses
def _margin_ranking(v, a):
    x1, x2, t = v
    return np.maximum(-t * (x1 - x2) + a["margin"], 0)


def _ranking_active(F, c):
    x1, x2, t = c.inputs
    return F.constant((-F.value(t) * (F.value(x1) - F.value(x2)) + c.attrs["margin"] > 0).astype(F.value(x1).dtype))


elementwise_loss(
    "margin_ranking_loss", _margin_ranking,
    (lambda F, c: -c.inputs[2] * _ranking_active(F, c), lambda F, c: c.inputs[2] * _ranking_active(F, c),
     lambda F, c: (c.inputs[1] - c.inputs[0]) * _ranking_active(F, c)))


def _hinge(v, a):
    x, t = v
    margin_part = np.where(t != 1, np.maximum(a["margin"] - x, 0), 0.0)
    return margin_part + np.where(t != -1, x, 0.0)


def _hinge_grad_input(F, c):
    x, t = (F.value(v) for v in c.inputs)
    below = (t != 1) & (c.attrs["margin"] - x > 0)
    return F.constant(np.where(t != -1, 1.0, 0.0) - np.where(below, 1.0, 0.0))


elementwise_loss("hinge_embedding_loss", _hinge, (_hinge_grad_input, None))
