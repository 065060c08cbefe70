"""How more elementwise ops compute: addcmul / addcdiv, fmax / fmin, logit, sinc, logaddexp2 and heaviside
(their rules: gradwire.rules.ops.pointwise_more). VJPs follow torch's derivatives.yaml."""

from __future__ import annotations

import math

import numpy as np

from ..registry import implement
from .elementwise import _quiet
from .elementwise_binary import _not_implemented


def _attrs_forward(function):
    def forward(arrays: list, attrs: dict):
        with np.errstate(all="ignore"):
            return function(*arrays, **attrs)

    return forward


# ---------------------------------------------------------------- addcmul, addcdiv
def _addcmul(x, t1, t2, value):
    return x + value * (t1 * t2)


def _addcdiv(x, t1, t2, value):
    return x + value * (t1 / t2)


implement("addcmul", _attrs_forward(_addcmul), saves_all_inputs=True,
          vjps=(lambda F, g, c: g, lambda F, g, c: g * c.inputs[2] * c.attrs["value"],
                lambda F, g, c: g * c.inputs[1] * c.attrs["value"]))
implement("addcdiv", _attrs_forward(_addcdiv), saves_all_inputs=True,
          vjps=(lambda F, g, c: g, lambda F, g, c: g * c.attrs["value"] / c.inputs[2],
                lambda F, g, c: -g * c.attrs["value"] * c.inputs[1] / (c.inputs[2] * c.inputs[2])))


# ---------------------------------------------------------------- fmax, fmin
def _input_wins(bigger: bool):
    """Where the gradient goes to input: it is kept (ties included) or other is nan, as torch."""

    def wins(F, c):
        a, b = c.inputs
        kept = a >= b if bigger else a <= b
        return F.logical_or(kept, F.isnan(b))

    return wins


for _name, _function, _bigger in (("fmax", np.fmax, True), ("fmin", np.fmin, False)):
    _wins = _input_wins(_bigger)
    implement(_name, forward=_quiet(_function), saves_all_inputs=True,
              vjps=(lambda F, g, c, wins=_wins: F.where(wins(F, c), g, 0.0),
                    lambda F, g, c, wins=_wins: F.where(wins(F, c), 0.0, g)))


# ---------------------------------------------------------------- logaddexp2
implement("logaddexp2", _quiet(np.logaddexp2), saves_all_inputs=True, saves_output=True,
          vjps=(lambda F, g, c: g * F.exp2(c.inputs[0] - c.output), lambda F, g, c: g * F.exp2(c.inputs[1] - c.output)))


# ---------------------------------------------------------------- heaviside (no derivative in torch)
def _heaviside(x, values):
    return np.heaviside(x, values).astype(np.result_type(x, values))


implement("heaviside", _quiet(_heaviside), vjps=(_not_implemented("heaviside"), _not_implemented("heaviside")))


# ---------------------------------------------------------------- logit, sinc
def _logit(arrays: list, attrs: dict):
    x, eps = arrays[0], attrs["eps"]
    with np.errstate(all="ignore"):
        if eps is not None:
            x = np.clip(x, eps, 1 - eps)
        return np.log(x / (1 - x))


def _logit_vjp(F, g, c):
    x, eps = c.inputs[0], c.attrs["eps"]
    grad = g / (x * (1 - x))
    if eps is None:  # outside [0, 1] the gradient is nan, as torch
        return F.where(F.logical_or(x < 0, x > 1), math.nan, grad)
    return F.where(F.logical_or(x < eps, x > 1 - eps), 0.0, grad)


implement("logit", _logit, vjps=(_logit_vjp,), saves_inputs=(0,))


def _sinc(x):
    return np.sinc(x).astype(x.dtype) if hasattr(x, "dtype") else np.sinc(x)


def _sinc_vjp(F, g, c):
    x = c.inputs[0]
    if not F.as_tensors and x.dtype == np.float16:  # torch computes half in float32 (the cancellation is severe)
        wide = _sinc_vjp(F, g.astype(np.float32), _Widened(c, x.astype(np.float32)))
        return wide.astype(np.float16)
    angle = x * math.pi
    zero = x == 0
    safe = F.where(zero, 1.0, x)  # keeps 0/0 out of the recorded graph too
    slope = (F.cos(angle) * angle - F.sin(angle)) / (safe * safe * math.pi)
    return g * F.where(zero, 0.0, slope)


class _Widened:
    def __init__(self, c, x) -> None:
        self.inputs, self.attrs = (x,), c.attrs


implement("sinc", _quiet(_sinc), vjps=(_sinc_vjp,), saves_inputs=(0,))
