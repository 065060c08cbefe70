"""Rules of the activation functions, as torch.nn.functional spells them (and torch.X / Tensor.X where torch
has them): relu6, hardtanh, leaky_relu, elu, selu, celu, gelu (approximate 'none' | 'tanh'), silu, mish,
softplus, softsign, hardsigmoid, hardswish, logsigmoid, tanhshrink, softshrink, hardshrink, threshold,
glu, prelu, softmin.

Where torch records a composite (softsign is a division, softmin a softmax), the grad_fn name is torch's.
`inplace=True` runs the op's in-place variant (`elu_`, derived by rules/inplace.py); torch names some of
those nodes `...Backward1` (the in-place kernels save the result instead of the input).
"""

from __future__ import annotations

from .. import dtypes
from ..arguments import check_no_cast_first
from ..checks import check_tensors
from ..errors import DTypeRuntimeError, InvalidArgumentRuntimeError, NotImplementedForDTypeError, ShapeError
from ..shapes import normalise_dim, same
from ..spec import AttrSpec, OpRules, define

INPLACE = AttrSpec("inplace", "boolean", default=False, description="True: change the input in place (the op `<name>_`)")
LAMBD = AttrSpec("lambd", "real", default=0.5, description="the half-width of the band around 0")
ALPHA = AttrSpec("alpha", "real", default=1.0, description="the scale of the negative part")
GELU_APPROXIMATIONS = ("none", "tanh")


# torch's kernels that refuse integer and bool tensors (NotImplementedError naming the kernel).
FLOATING_KERNELS = {
    "leaky_relu": "leaky_relu_cpu", "elu": "elu_cpu", "selu": "elu_cpu", "celu": "elu_cpu", "gelu": "GeluKernelImpl",
    "silu": "silu_cpu", "mish": "mish_cpu", "softplus": "softplus_cpu", "hardsigmoid": "hardsigmoid_cpu",
    "hardswish": "hardswish_cpu", "logsigmoid": "log_sigmoid_cpu", "softshrink": "softshrink_check",
    "hardshrink": "hardshrink_cpu", "glu": "glu_cpu", "softmin": "softmax_lastdim_kernel_impl", "prelu": "prelu_cpu",
}
# Activations torch computes on integer tensors too: the result keeps their dtype (hardtanh's family)
# or is the default float (softsign and tanhshrink divide and subtract a tanh); bools are refused.
INTEGRAL_KEEPS_DTYPE = {"relu6", "hardtanh", "threshold"}
INTEGRAL_TO_FLOAT = {"softsign", "tanhshrink"}


def _integral_rule(name: str, dtype: dtypes.DType, attrs: dict) -> tuple:
    """An activation's dtype rule for an integer or bool tensor, as torch decides it."""
    if name in FLOATING_KERNELS:
        raise NotImplementedForDTypeError(f'"{FLOATING_KERNELS[name]}" not implemented for '
                                          f"'{dtypes.TORCH_NAMES[dtype]}'; convert the input with .float()")
    if dtype is dtypes.bool_:
        if name == "threshold":
            raise NotImplementedForDTypeError("\"threshold_cpu\" not implemented for 'Bool'")
        if name == "softsign":
            raise NotImplementedForDTypeError("\"abs_cpu\" not implemented for 'Bool'")
        if name == "tanhshrink":
            raise DTypeRuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported.")
        raise DTypeRuntimeError("Bool inputs not supported for hardtanh")
    if name == "hardtanh" and dtype is dtypes.uint8 and min(attrs["min_val"], attrs["max_val"]) < 0:
        raise InvalidArgumentRuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    if name in INTEGRAL_TO_FLOAT:
        return dtypes.DEFAULT_FLOAT, dtypes.DEFAULT_FLOAT
    return None, dtype


def activation_rule(name: str):
    """The dtype rule of an activation: tensors only, integers as torch treats them, and the attribute
    values torch refuses (celu's alpha = 0, an unknown gelu approximation)."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        check_tensors(name, operand_dtypes, operands, positions=None)
        dtype = operand_dtypes[0]
        result = (None, dtype) if dtype.is_floating_point else _integral_rule(name, dtype, attrs)
        check_no_cast_first(name, attrs)
        if name == "celu" and attrs["alpha"] == 0:
            raise InvalidArgumentRuntimeError("ZeroDivisionError: celu's alpha must not be 0")
        if name == "gelu" and attrs["approximate"] not in GELU_APPROXIMATIONS:
            raise InvalidArgumentRuntimeError(
                f"approximate argument must be either none or tanh, not {attrs['approximate']!r}")
        return result

    return rule


def _inplace_name(grad_fn: str):
    """torch's in-place kernels of some activations are other backward nodes: EluBackward1 for elu_."""
    return lambda call: grad_fn.replace("Backward0", "Backward1") if call.attrs.get("inplace") else grad_fn


def activation(name: str, grad_fn, *, attrs: tuple[AttrSpec, ...] = (), torch_function=False, method=False,
               summary: str = "") -> None:
    """One activation; torch_function / method: torch.X / Tensor.X exist too."""
    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=activation_rule(name), out_shape=same, attrs=attrs,
        methods=(name,) if method else (), functions=(f"nn.functional.{name}", *((name,) if torch_function else ())),
        summary=summary,
    ))


# ---------------------------------------------------------------- piecewise linear
activation("relu6", "HardtanhBackward0", attrs=(INPLACE,), summary="min(max(x, 0), 6)")
activation("hardtanh", "HardtanhBackward0",
           attrs=(AttrSpec("min_val", "real", default=-1.0, description="the lower bound"),
                  AttrSpec("max_val", "real", default=1.0, description="the upper bound"), INPLACE),
           summary="x clamped to [min_val, max_val]")
activation("leaky_relu", _inplace_name("LeakyReluBackward0"),
           attrs=(AttrSpec("negative_slope", "real", default=0.01, description="the slope below 0"), INPLACE),
           summary="x, or negative_slope * x below 0")
activation("threshold", _inplace_name("ThresholdBackward0"),
           attrs=(AttrSpec("threshold", "real", required=True, description="values at or below it are replaced"),
                  AttrSpec("value", "real", required=True, description="the replacement"), INPLACE),
           torch_function=True, summary="x where x > threshold, else value")
activation("hardshrink", "HardshrinkBackward0", attrs=(LAMBD,), torch_function=True, method=True,
           summary="x where |x| > lambd, else 0")
activation("softshrink", "SoftshrinkBackward0", attrs=(LAMBD,), summary="x shrunk toward 0 by lambd")
activation("hardsigmoid", "HardsigmoidBackward0", attrs=(INPLACE,), summary="relu6(x + 3) / 6")
activation("hardswish", "HardswishBackward0", attrs=(INPLACE,), summary="x * relu6(x + 3) / 6")

# ---------------------------------------------------------------- exponential family
activation("elu", _inplace_name("EluBackward0"), attrs=(ALPHA, INPLACE), summary="x, or alpha * (exp(x) - 1) below 0")
activation("selu", _inplace_name("EluBackward0"), attrs=(INPLACE,), torch_function=True,
           summary="scale * elu(x, alpha) with the self-normalising constants")
activation("celu", _inplace_name("CeluBackward0"), attrs=(ALPHA, INPLACE), torch_function=True,
           summary="max(0, x) + min(0, alpha * (exp(x / alpha) - 1))")
activation("softplus", "SoftplusBackward0",
           attrs=(AttrSpec("beta", "real", default=1.0, description="the sharpness: softplus(beta * x) / beta"),
                  AttrSpec("threshold", "real", default=20.0, description="linear where beta * x exceeds it")),
           summary="log(1 + exp(beta * x)) / beta, linear where beta * x > threshold")
activation("logsigmoid", "LogSigmoidBackward0", summary="log(sigmoid(x)), computed stably")

# ---------------------------------------------------------------- smooth gates
activation("gelu", "GeluBackward0",
           attrs=(AttrSpec("approximate", "text", default="none", description="'none' (exact, with erf) or 'tanh'"),),
           summary="x * Phi(x) (approximate='none') or its tanh approximation (approximate='tanh')")
activation("silu", "SiluBackward0", attrs=(INPLACE,), summary="x * sigmoid(x)")
activation("mish", "MishBackward0", attrs=(INPLACE,), summary="x * tanh(softplus(x))")
activation("softsign", "DivBackward0", summary="x / (1 + |x|) (torch records the division)")
activation("tanhshrink", "SubBackward0", summary="x - tanh(x) (torch records the subtraction)")


# ---------------------------------------------------------------- glu, prelu, softmin
def glu_dim(shape: tuple, dim: int) -> int:
    """The dim glu halves, in [0, rank); torch's errors for a 0-dim input, a bad dim or an odd size."""
    if not shape:
        raise ShapeError("glu does not support scalars because halving size must be even")
    axis = normalise_dim(dim, len(shape))
    if shape[axis] % 2:
        raise ShapeError(f"Halving dimension must be even, but dimension {axis} is size {shape[axis]}")
    return axis


def _glu_shape(shapes: list, attrs: dict) -> tuple:
    axis = glu_dim(tuple(shapes[0]), attrs["dim"])
    return tuple(n // 2 if i == axis else n for i, n in enumerate(shapes[0]))


define(OpRules(
    name="glu", grad_fn="GluBackward0", dtype_rule=activation_rule("glu"),
    attrs=(AttrSpec("dim", "integer", default=-1, description="the dim to halve"),), functions=("nn.functional.glu",),
    out_shape=_glu_shape, summary="first half * sigmoid(second half) along dim",
))


def prelu_weight_shape(x_shape: tuple, weight_shape: tuple) -> tuple:
    """The weight's shape as broadcast against x: one value, or one per channel (dim 1)."""
    count = 1
    for n in weight_shape:
        count *= n
    channels = x_shape[1] if len(x_shape) >= 2 else 1
    if count != 1 and count != channels:
        raise ShapeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                         f"{count} and channel size = {channels}.")
    if count == 1 or len(x_shape) < 2:
        return (1,) * len(x_shape)
    return (1, count) + (1,) * (len(x_shape) - 2)


def _prelu_shape(shapes: list, attrs: dict) -> tuple:
    prelu_weight_shape(tuple(shapes[0]), tuple(shapes[1]))
    return tuple(shapes[0])


define(OpRules(
    name="prelu", grad_fn="PreluKernelBackward0",
    dtype_rule=activation_rule("prelu"), min_inputs=2, max_inputs=2,
    out_shape=_prelu_shape, methods=("prelu",), functions=("prelu", "nn.functional.prelu"),
    summary="x, or weight * x below 0; weight has one value or one per channel (dim 1)",
))


def _softmin_shape(shapes: list, attrs: dict) -> tuple:
    normalise_dim(attrs["dim"], len(shapes[0]))
    return tuple(shapes[0])


define(OpRules(
    name="softmin", grad_fn="SoftmaxBackward0", dtype_rule=activation_rule("softmin"),
    attrs=(AttrSpec("dim", "integer", required=True),
           AttrSpec("dtype", "dtype", default=None, description="cast the input to this dtype first")),
    functions=("nn.functional.softmin",),
    out_shape=_softmin_shape, summary="softmax(-x) along dim",
))
