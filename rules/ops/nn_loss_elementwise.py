"""Rules of the losses that are an elementwise function of (input, target) then a reduction: mse, l1,
smooth_l1, huber, soft_margin, binary_cross_entropy (+ with_logits), kl_div, poisson_nll, margin_ranking,
hinge_embedding. Input and target broadcast as torch allows (it warns); the checks torch makes of
shapes and attributes are each loss's `check`."""

from __future__ import annotations

from gradwire.rules.errors import InvalidArgumentRuntimeError, InvalidValueError, ShapeError
from gradwire.rules.shapes import broadcast_shapes
from gradwire.rules.spec import AttrSpec, OpRules, define

from .nn_common import REDUCTION, REDUCTIONS, check_reduction, float_kernel, loss_grad_fn, optional, same_float

KL_REDUCTIONS = REDUCTIONS + ("batchmean",)


def loss_shape(name: str, check=None):
    """The shape rule of an elementwise loss: the operands broadcast; reduction 'none' keeps that shape."""

    def out_shape(shapes: list, attrs: dict) -> tuple:
        check_reduction(name, attrs["reduction"], KL_REDUCTIONS if name == "kl_div" else REDUCTIONS)
        if check is not None:
            check([tuple(s) for s in shapes], attrs)
        shape = broadcast_shapes([tuple(s) for s in shapes])
        return shape if attrs["reduction"] == "none" else ()

    return out_shape


# torch has no integral kernel for these (NotImplementedError); the others refuse ints with RuntimeError
NO_INTEGRAL_KERNEL = ("mse_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
                      "binary_cross_entropy_with_logits")


def elementwise_loss(name: str, grad_fn, *, attrs=(), operands=2, optional_operands=(), trailing=(),
                     check=None, summary="") -> None:
    specs = tuple(optional(o) for o in optional_operands) + tuple(attrs) + (REDUCTION,) + tuple(trailing)
    define(OpRules(
        name=name, grad_fn=grad_fn, min_inputs=operands,
        dtype_rule=float_kernel(name) if name in NO_INTEGRAL_KERNEL else same_float(name),
        max_inputs=operands + sum(spec.kind == "tensor" for spec in specs), attrs=specs,
        functions=(f"nn.functional.{name}",), out_shape=loss_shape(name, check), summary=summary,
    ))


elementwise_loss("mse_loss", "MseLossBackward0", summary="mean squared error")
L1_NAME = loss_grad_fn("AbsBackward0")
elementwise_loss("l1_loss", L1_NAME, summary="mean absolute error")


def _beta(shapes: list, attrs: dict) -> None:
    if attrs["beta"] < 0:
        raise InvalidArgumentRuntimeError(f"smooth_l1_loss(): smooth_l1_loss does not support negative values for "
                                          f"beta (got {attrs['beta']})")


def _delta(shapes: list, attrs: dict) -> None:
    if attrs["delta"] <= 0:
        raise InvalidArgumentRuntimeError(f"huber_loss(): huber_loss does not support non-positive values for delta "
                                          f"(got {attrs['delta']})")


elementwise_loss(
    "smooth_l1_loss", lambda call: "SmoothL1LossBackward0" if call.attrs["beta"] else L1_NAME(call),  # beta=0: l1
    attrs=(AttrSpec("beta", "real", default=1.0),), check=_beta,
    summary="Huber-like loss: quadratic below beta, then linear")
elementwise_loss(
    "huber_loss", "HuberLossBackward0", attrs=(AttrSpec("delta", "real", default=1.0),), check=_delta,
    summary="quadratic below delta, then delta-scaled linear")
elementwise_loss("soft_margin_loss", "SoftMarginLossBackward0", summary="log(1 + exp(-target * input))")


def _weights_fit(name: str, x: tuple, weights: dict) -> None:
    for what, shape in weights.items():
        if shape and broadcast_shapes([x, shape]) != x:
            raise ShapeError(f"{name}(): the {what} of shape {list(shape)} does not broadcast to the input's shape "
                             f"{list(x)}")


def _bce_check(shapes: list, attrs: dict) -> None:
    x, t, w = shapes[:3]
    if x != t:
        raise InvalidValueError(f"Using a target size ({list(t)}) that is different to the input size ({list(x)}) "
                                "is deprecated. Please ensure they have the same size.")
    _weights_fit("binary_cross_entropy", x, {"weight": w})


elementwise_loss(
    "binary_cross_entropy", "BinaryCrossEntropyBackward0", optional_operands=("weight",), check=_bce_check,
    summary="-(t log x + (1-t) log(1-x)), logs clamped at -100 as torch; weight optional")


def _bce_logits_check(shapes: list, attrs: dict) -> None:
    x, t, w, pos_weight = shapes[:4]
    if x != t:
        raise InvalidValueError(f"Target size ({list(t)}) must be the same as input size ({list(x)})")
    _weights_fit("binary_cross_entropy_with_logits", x, {"weight": w, "pos_weight": pos_weight})


elementwise_loss(
    "binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0",
    optional_operands=("weight",), trailing=(optional("pos_weight"),), check=_bce_logits_check,
    summary="binary cross entropy on logits, computed stably; weight and pos_weight optional")
elementwise_loss(
    "kl_div",
    lambda call: {"mean": "MeanBackward0", "sum": "SumBackward0", "batchmean": "DivBackward0"}.get(
        call.attrs["reduction"], "SubBackward0"),
    trailing=(AttrSpec("log_target", "boolean", default=False),),
    summary="Kullback-Leibler divergence of target from exp(input); reduction also 'batchmean'")
elementwise_loss(
    "poisson_nll_loss",
    lambda call: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(
        call.attrs["reduction"], "AddBackward0" if call.attrs["full"] else "SubBackward0"),
    attrs=(AttrSpec("log_input", "boolean", default=True), AttrSpec("full", "boolean", default=False),
           AttrSpec("eps", "real", default=1e-8)),
    summary="negative log likelihood of a Poisson target (log_input: input is the log rate)")


def _same_rank(shapes: list, attrs: dict) -> None:
    x1, x2, t = shapes[:3]
    if not len(x1) == len(x2) == len(t):
        raise ShapeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                         f"input1: {list(x1)}, input2: {list(x2)}, target: {list(t)}")


elementwise_loss(
    "margin_ranking_loss",
    lambda call: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(call.attrs["reduction"], "ClampMinBackward0"),
    operands=3, attrs=(AttrSpec("margin", "real", default=0.0),), check=_same_rank,
    summary="max(0, -target * (input1 - input2) + margin)")
elementwise_loss(
    "hinge_embedding_loss",
    lambda call: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(call.attrs["reduction"], "AddBackward0"),
    attrs=(AttrSpec("margin", "real", default=1.0),),
    summary="x where target is 1, max(0, margin - x) where it is -1")
