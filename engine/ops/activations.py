"""Activation functions, as torch.nn.functional spells them (and torch.X / Tensor.X where torch has them):
relu6, hardtanh, leaky_relu, elu, selu, celu, gelu (approximate 'none' | 'tanh'), silu, mish, softplus,
softsign, hardsigmoid, hardswish, logsigmoid, tanhshrink, softshrink, hardshrink, threshold, glu,
prelu, softmin.

Each VJP is written with registered ops (F.exp, F.where ...), so second derivatives work too. Where
torch records a composite (softsign is a division, softmin a softmax), the grad_fn name is torch's.
`inplace=True` is refused: the engine's activations always return a new tensor.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules import promotion
from gradwire.rules.errors import InvalidArgumentRuntimeError, ShapeError
from gradwire.rules.indexing import normalise_index
from ..registry import AttrSpec, OpDef, register
from .checks import tensors_only
from .elementwise_math import erf
from .reductions import _softmax_forward

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
INPLACE = AttrSpec("inplace", "boolean", default=False, description="must be False: the result is always a new tensor")
# torch's hardsigmoid gradient uses 1/6 rounded to float32, also for float64 tensors.
HARDSIGMOID_SLOPE = float(np.float32(1.0 / 6.0))


def activation(name: str, function, vjp, grad_fn: str, *, attrs: tuple[AttrSpec, ...] = (), torch_function=False,
               method=False, saves_output=False, summary: str = "") -> OpDef:
    """One activation; `function(x, **attrs)`. torch_function / method: torch.X / Tensor.X exist too."""

    def forward(arrays: list, attrs_given: dict):
        if attrs_given.get("inplace"):
            raise InvalidArgumentRuntimeError(f"{name}(): inplace=True is not supported here; use the returned tensor")
        with np.errstate(all="ignore"):
            return function(arrays[0], **{k: v for k, v in attrs_given.items() if k != "inplace"})

    return register(OpDef(
        name=name, forward=forward, vjps=(vjp,), grad_fn=grad_fn,
        dtype_rule=tensors_only(name, promotion.floating_only), saves_inputs=(0,), saves_output=saves_output,
        attrs=attrs, methods=(name,) if method else (),
        functions=(f"nn.functional.{name}", *((name,) if torch_function else ())), summary=summary,
    ))


def _x(c):
    return c.inputs[0]


# ---------------------------------------------------------------- piecewise linear
def _inside(F, x, low, high):
    return F.logical_and(x > low, x < high)


activation("relu6", lambda x: np.clip(x, 0.0, 6.0), lambda F, g, c: F.where(_inside(F, _x(c), 0.0, 6.0), g, 0.0),
           "HardtanhBackward0", attrs=(INPLACE,), summary="min(max(x, 0), 6)")
activation("hardtanh", lambda x, min_val, max_val: np.minimum(np.maximum(x, min_val), max_val),
           lambda F, g, c: F.where(_inside(F, _x(c), c.attrs["min_val"], c.attrs["max_val"]), g, 0.0), "HardtanhBackward0",
           attrs=(AttrSpec("min_val", "real", default=-1.0, description="the lower bound"), AttrSpec("max_val", "real", default=1.0, description="the upper bound"), INPLACE),
           summary="x clamped to [min_val, max_val]")
activation("leaky_relu", lambda x, negative_slope: np.where(x > 0, x, x * negative_slope),
           lambda F, g, c: F.where(_x(c) > 0, g, g * c.attrs["negative_slope"]), "LeakyReluBackward0",
           attrs=(AttrSpec("negative_slope", "real", default=0.01, description="the slope below 0"), INPLACE), summary="x, or negative_slope * x below 0")
activation("threshold", lambda x, threshold, value: np.where(x > threshold, x, value),
           lambda F, g, c: F.where(_x(c) > c.attrs["threshold"], g, 0.0), "ThresholdBackward0",
           attrs=(AttrSpec("threshold", "real", required=True, description="values at or below it are replaced"), AttrSpec("value", "real", required=True, description="the replacement"), INPLACE),
           torch_function=True, summary="x where x > threshold, else value")
activation("hardshrink", lambda x, lambd: np.where(np.abs(x) > lambd, x, 0.0),
           lambda F, g, c: F.where(F.abs(_x(c)) > c.attrs["lambd"], g, 0.0), "HardshrinkBackward0",
           attrs=(AttrSpec("lambd", "real", default=0.5, description="the half-width of the band around 0"),), torch_function=True, method=True,
           summary="x where |x| > lambd, else 0")
activation("softshrink", lambda x, lambd: np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0)),
           lambda F, g, c: F.where(F.abs(_x(c)) > c.attrs["lambd"], g, 0.0), "SoftshrinkBackward0",
           attrs=(AttrSpec("lambd", "real", default=0.5, description="the half-width of the band around 0"),), summary="x shrunk toward 0 by lambd")
activation("hardsigmoid", lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
           lambda F, g, c: g * _inside(F, _x(c), -3.0, 3.0) * HARDSIGMOID_SLOPE, "HardsigmoidBackward0", attrs=(INPLACE,),
           summary="relu6(x + 3) / 6")


def _hardswish_vjp(F, g, c):
    x = _x(c)
    # torch: 0 for x <= -3, g for x >= 3, the slope (2x + 3) / 6 strictly between.
    middle = F.logical_and(x > -3.0, x < 3.0)
    return F.where(x >= 3.0, g, g * middle * (2 * x + 3) / 6.0)


activation("hardswish", lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0, _hardswish_vjp, "HardswishBackward0",
           attrs=(INPLACE,), summary="x * relu6(x + 3) / 6")


# ---------------------------------------------------------------- exponential family
def _elu(x, alpha, scale=1.0, input_scale=1.0):
    return scale * np.where(x > 0, x, alpha * np.expm1(x * input_scale))


def _elu_vjp(alpha_of, scale=1.0, input_scale=1.0):
    def vjp(F, g, c):
        x, alpha = _x(c), alpha_of(c)
        return F.where(x > 0, g * scale, g * (scale * alpha * input_scale) * F.exp(x * input_scale))

    return vjp


activation("elu", lambda x, alpha: _elu(x, alpha), _elu_vjp(lambda c: c.attrs["alpha"]), "EluBackward0",
           attrs=(AttrSpec("alpha", "real", default=1.0, description="the scale of the negative part"), INPLACE), summary="x, or alpha * (exp(x) - 1) below 0")
activation("selu", lambda x: _elu(x, SELU_ALPHA, SELU_SCALE), _elu_vjp(lambda c: SELU_ALPHA, SELU_SCALE), "EluBackward0",
           attrs=(INPLACE,), torch_function=True, summary="scale * elu(x, alpha) with the self-normalising constants")


def _celu(x, alpha):
    if alpha == 0:
        raise InvalidArgumentRuntimeError("ZeroDivisionError: celu's alpha must not be 0")
    return _elu(x, alpha, input_scale=1.0 / alpha)


activation("celu", _celu, lambda F, g, c: _elu_vjp(lambda c: c.attrs["alpha"], 1.0, 1.0 / c.attrs["alpha"])(F, g, c),
           "CeluBackward0", attrs=(AttrSpec("alpha", "real", default=1.0, description="the scale of the negative part"), INPLACE), torch_function=True,
           summary="max(0, x) + min(0, alpha * (exp(x / alpha) - 1))")


def _softplus(x, beta, threshold):
    scaled = x * beta
    return np.where(scaled > threshold, x, np.logaddexp(0.0, scaled) / beta)


def _softplus_vjp(F, g, c):
    x, beta, threshold = _x(c), c.attrs["beta"], c.attrs["threshold"]
    return F.where(x * beta > threshold, g, g * F.sigmoid(x * beta))


activation("softplus", _softplus, _softplus_vjp, "SoftplusBackward0",
           attrs=(AttrSpec("beta", "real", default=1.0, description="the sharpness: softplus(beta * x) / beta"), AttrSpec("threshold", "real", default=20.0, description="linear where beta * x exceeds it")),
           summary="log(1 + exp(beta * x)) / beta, linear where beta * x > threshold")
activation("logsigmoid", lambda x: -np.logaddexp(0.0, -x), lambda F, g, c: g * F.sigmoid(-_x(c)), "LogSigmoidBackward0",
           summary="log(sigmoid(x)), computed stably")


# ---------------------------------------------------------------- smooth gates
def _gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    if approximate == "none":
        return 0.5 * x * (1.0 + erf(x * INV_SQRT_2))
    raise InvalidArgumentRuntimeError(f"approximate argument must be either none or tanh, not {approximate!r}")


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


activation("gelu", _gelu, _gelu_vjp, "GeluBackward0", attrs=(AttrSpec("approximate", "text", default="none", description="'none' (exact, with erf) or 'tanh'"),),
           summary="x * Phi(x) (approximate='none') or its tanh approximation (approximate='tanh')")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _silu_vjp(F, g, c):
    s = F.sigmoid(_x(c))
    return g * s * (1 + _x(c) * (1 - s))


activation("silu", lambda x: x * _sigmoid(x), _silu_vjp, "SiluBackward0", attrs=(INPLACE,), summary="x * sigmoid(x)")


def _mish_vjp(F, g, c):
    x = _x(c)
    t = F.tanh(F.softplus(x))
    return g * (t + x * F.sigmoid(x) * (1 - t * t))


activation("mish", lambda x: x * np.tanh(np.logaddexp(0.0, x)), _mish_vjp, "MishBackward0", attrs=(INPLACE,),
           summary="x * tanh(softplus(x))")
activation("softsign", lambda x: x / (1.0 + np.abs(x)),
           lambda F, g, c: g / ((1 + F.abs(_x(c))) * (1 + F.abs(_x(c)))), "DivBackward0",
           summary="x / (1 + |x|) (torch records the division)")
activation("tanhshrink", lambda x: x - np.tanh(x), lambda F, g, c: g * F.tanh(_x(c)) * F.tanh(_x(c)), "SubBackward0",
           summary="x - tanh(x) (torch records the subtraction)")


# ---------------------------------------------------------------- glu, prelu, softmin
def _glu_halves(x: np.ndarray, dim: int) -> tuple:
    if x.ndim == 0:
        raise ShapeError("glu does not support scalars because halving size must be even")
    axis = dim % x.ndim if -x.ndim <= dim < x.ndim else None
    if axis is None:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-x.ndim}, {x.ndim - 1}], but got {dim})")
    if x.shape[axis] % 2:
        raise ShapeError(f"Halving dimension must be even, but dimension {axis} is size {x.shape[axis]}")
    return np.split(x, 2, axis=axis)


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


register(OpDef(
    name="glu", forward=_glu_forward, vjps=(_glu_vjp,), grad_fn="GluBackward0",
    dtype_rule=tensors_only("glu", promotion.floating_only), saves_inputs=(0,),
    attrs=(AttrSpec("dim", "integer", default=-1, description="the dim to halve"),), functions=("nn.functional.glu",),
    out_shape=lambda shapes, attrs: tuple(n // 2 if i == attrs["dim"] % len(shapes[0]) else n
                                          for i, n in enumerate(shapes[0])) if shapes[0] else (),
    summary="first half * sigmoid(second half) along dim",
))


def _prelu_weight_shape(x_shape: tuple, weight: np.ndarray) -> tuple:
    """The weight as broadcast against x: one value, or one per channel (dim 1)."""
    count = weight.size
    channels = x_shape[1] if len(x_shape) >= 2 else 1
    if count != 1 and count != channels:
        raise ShapeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                         f"{count} and channel size = {channels}.")
    if count == 1 or len(x_shape) < 2:
        return (1,) * len(x_shape)
    return (1, count) + (1,) * (len(x_shape) - 2)


def _prelu_forward(arrays: list, attrs: dict):
    x, weight = arrays
    w = weight.reshape(_prelu_weight_shape(x.shape, weight)) if x.ndim else weight.reshape(())
    return np.where(x > 0, x, w * x)


def _prelu_weight(F, c):
    x, weight = c.inputs
    shape = _prelu_weight_shape(F.shape(x), F.value(weight))
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


register(OpDef(
    name="prelu", forward=_prelu_forward, vjps=(_prelu_vjp_x, _prelu_vjp_weight), grad_fn="PreluKernelBackward0",
    dtype_rule=tensors_only("prelu", promotion.floating_only, positions=None), saves_all_inputs=True,
    min_inputs=2, max_inputs=2, methods=("prelu",), functions=("prelu", "nn.functional.prelu"),
    summary="x, or weight * x below 0; weight has one value or one per channel (dim 1)",
))


def _softmin_forward(arrays: list, attrs: dict):
    return _softmax_forward([-arrays[0]], attrs)


register(OpDef(
    name="softmin", forward=_softmin_forward,
    vjps=(lambda F, g, c: -c.output * (g - F.sum(g * c.output, dim=c.attrs["dim"], keepdim=True)),),
    grad_fn="SoftmaxBackward0", dtype_rule=tensors_only("softmin", promotion.floating_only), saves_output=True,
    attrs=(AttrSpec("dim", "integer", required=True),), functions=("nn.functional.softmin",),
    summary="softmax(-x) along dim",
))
