"""How the activation functions compute: relu6, hardtanh, leaky_relu, elu, selu, celu, gelu, silu, mish,
softplus, softsign, hardsigmoid, hardswish, logsigmoid, tanhshrink, softshrink, hardshrink, threshold,
glu, prelu, softmin (their rules, spellings and attributes: gradwire.rules.ops.activations).

Each VJP is written with registered ops (F.exp, F.where ...), so second derivatives work too.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.indexing import normalise_index
from gradwire.rules.ops.activations import glu_dim, prelu_weight_shape

from ..registry import OpDef, implement
from .elementwise_math import erf
from .reductions import _softmax_forward

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# torch's hardsigmoid gradient uses 1/6 rounded to float32, also for float64 tensors.
HARDSIGMOID_SLOPE = float(np.float32(1.0 / 6.0))


def activation(name: str, function, vjp) -> OpDef:
    """One activation; `function(x, **attrs)` (the rules refused inplace=True)."""

    def forward(arrays: list, attrs_given: dict):
        with np.errstate(all="ignore"):
            return function(arrays[0], **{k: v for k, v in attrs_given.items() if k != "inplace"})

    return implement(name, forward=forward, vjps=(vjp,), saves_inputs=(0,))


def _x(c):
    return c.inputs[0]


# ---------------------------------------------------------------- piecewise linear
def _inside(F, x, low, high):
    return F.logical_and(x > low, x < high)


activation("relu6", lambda x: np.clip(x, 0.0, 6.0), lambda F, g, c: F.where(_inside(F, _x(c), 0.0, 6.0), g, 0.0))
activation("hardtanh", lambda x, min_val, max_val: np.minimum(np.maximum(x, min_val), max_val),
           lambda F, g, c: F.where(_inside(F, _x(c), c.attrs["min_val"], c.attrs["max_val"]), g, 0.0))
activation("leaky_relu", lambda x, negative_slope: np.where(x > 0, x, x * negative_slope),
           lambda F, g, c: F.where(_x(c) > 0, g, g * c.attrs["negative_slope"]))
activation("threshold", lambda x, threshold, value: np.where(x > threshold, x, value),
           lambda F, g, c: F.where(_x(c) > c.attrs["threshold"], g, 0.0))
activation("hardshrink", lambda x, lambd: np.where(np.abs(x) > lambd, x, 0.0),
           lambda F, g, c: F.where(F.abs(_x(c)) > c.attrs["lambd"], g, 0.0))
activation("softshrink", lambda x, lambd: np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0)),
           lambda F, g, c: F.where(F.abs(_x(c)) > c.attrs["lambd"], g, 0.0))
activation("hardsigmoid", lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
           lambda F, g, c: g * _inside(F, _x(c), -3.0, 3.0) * HARDSIGMOID_SLOPE)


def _hardswish_vjp(F, g, c):
    x = _x(c)
    # torch: 0 for x <= -3, g for x >= 3, the slope (2x + 3) / 6 strictly between.
    middle = F.logical_and(x > -3.0, x < 3.0)
    return F.where(x >= 3.0, g, g * middle * (2 * x + 3) / 6.0)


activation("hardswish", lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0, _hardswish_vjp)


# ---------------------------------------------------------------- exponential family
def _elu(x, alpha, scale=1.0, input_scale=1.0):
    return scale * np.where(x > 0, x, alpha * np.expm1(x * input_scale))


def _elu_vjp(alpha_of, scale=1.0, input_scale=1.0):
    def vjp(F, g, c):
        x, alpha = _x(c), alpha_of(c)
        return F.where(x > 0, g * scale, g * (scale * alpha * input_scale) * F.exp(x * input_scale))

    return vjp


activation("elu", lambda x, alpha: _elu(x, alpha), _elu_vjp(lambda c: c.attrs["alpha"]))
activation("selu", lambda x: _elu(x, SELU_ALPHA, SELU_SCALE), _elu_vjp(lambda c: SELU_ALPHA, SELU_SCALE))


def _celu(x, alpha):  # alpha != 0: the rules refuse it
    return _elu(x, alpha, input_scale=1.0 / alpha)


activation("celu", _celu, lambda F, g, c: _elu_vjp(lambda c: c.attrs["alpha"], 1.0, 1.0 / c.attrs["alpha"])(F, g, c))


def _softplus(x, beta, threshold):
    scaled = x * beta
    return np.where(scaled > threshold, x, np.logaddexp(0.0, scaled) / beta)


def _softplus_vjp(F, g, c):
    x, beta, threshold = _x(c), c.attrs["beta"], c.attrs["threshold"]
    return F.where(x * beta > threshold, g, g * F.sigmoid(x * beta))


activation("softplus", _softplus, _softplus_vjp)
activation("logsigmoid", lambda x: -np.logaddexp(0.0, -x), lambda F, g, c: g * F.sigmoid(-_x(c)))


# ---------------------------------------------------------------- smooth gates
def _gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + erf(x * INV_SQRT_2))  # "none" (the rules refuse other names)


def _gelu_vjp(F, g, c):
    x = _x(c)
    if c.attrs["approximate"] == "tanh":
        inner = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
        t = F.tanh(inner)
        d_inner = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
    cdf = 0.5 * (1 + F.erf(x * INV_SQRT_2))
    pdf = INV_SQRT_2PI * F.exp(-0.5 * x * x)
    return g * (cdf + x * pdf)


activation("gelu", _gelu, _gelu_vjp)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _silu_vjp(F, g, c):
    s = F.sigmoid(_x(c))
    return g * s * (1 + _x(c) * (1 - s))


activation("silu", lambda x: x * _sigmoid(x), _silu_vjp)


def _mish_vjp(F, g, c):
    x = _x(c)
    t = F.tanh(F.softplus(x))
    return g * (t + x * F.sigmoid(x) * (1 - t * t))


activation("mish", lambda x: x * np.tanh(np.logaddexp(0.0, x)), _mish_vjp)
activation("softsign", lambda x: x / (1.0 + np.abs(x)),
           lambda F, g, c: g / ((1 + F.abs(_x(c))) * (1 + F.abs(_x(c)))))
activation("tanhshrink", lambda x: x - np.tanh(x), lambda F, g, c: g * F.tanh(_x(c)) * F.tanh(_x(c)))


# ---------------------------------------------------------------- glu, prelu, softmin
def _glu_halves(x: np.ndarray, dim: int) -> tuple:
    return np.split(x, 2, axis=glu_dim(x.shape, dim))


def _glu_forward(arrays: list, attrs: dict):
    first, second = _glu_halves(arrays[0], attrs["dim"])
    with np.errstate(over="ignore"):
        return first * _sigmoid(second)


def _glu_vjp(F, g, c):
    x, dim = _x(c), c.attrs["dim"]
    size = F.shape(x)[dim] // 2
    first = _half(F, x, dim, 0, size)
    second = _half(F, x, dim, size, size)
    s = F.sigmoid(second)
    return F.cat([g * s, g * first * s * (1 - s)], dim=dim)


def _half(F, x, dim, start, length):
    """x's slice [start, start + length) along dim, as a recorded getitem."""
    ndim = len(F.shape(x))
    index = tuple([slice(None)] * (dim % ndim) + [slice(start, start + length)])
    return F.getitem(x, index=normalise_index(index))


implement("glu", forward=_glu_forward, vjps=(_glu_vjp,), saves_inputs=(0,))


def _prelu_forward(arrays: list, attrs: dict):
    x, weight = arrays
    w = weight.reshape(prelu_weight_shape(x.shape, weight.shape)) if x.ndim else weight.reshape(())
    return np.where(x > 0, x, w * x)


def _prelu_weight(F, c):
    x, weight = c.inputs
    shape = prelu_weight_shape(F.shape(x), F.shape(weight))
    return F.reshape(weight, shape=shape) if F.shape(x) else F.reshape(weight, shape=())


def _prelu_vjp_x(F, g, c):
    return F.where(c.inputs[0] > 0, g, g * _prelu_weight(F, c))


def _prelu_vjp_weight(F, g, c):
    x, weight = c.inputs
    contribution = F.where(x > 0, 0.0, g * x)
    shape = F.shape(x)
    if F.value(weight).size == 1 or len(shape) < 2:
        total = F.sum(contribution)
    else:
        total = F.sum(contribution, dim=tuple(d for d in range(len(shape)) if d != 1))
    return F.reshape(total, shape=F.shape(weight))


implement("prelu", forward=_prelu_forward, vjps=(_prelu_vjp_x, _prelu_vjp_weight), saves_all_inputs=True)


def _softmin_forward(arrays: list, attrs: dict):
    return _softmax_forward([-arrays[0]], attrs)


implement("softmin", forward=_softmin_forward, saves_output=True,
          vjps=(lambda F, g, c: -c.output * (g - F.sum(g * c.output, dim=c.attrs["dim"], keepdim=True)),))
