"""Rules of the losses that are an elementwise function of (input, target) then a reduction: mse, l1,
smooth_l1, huber, soft_margin, binary_cross_entropy (+ with_logits), kl_div, poisson_nll, margin_ranking,
hinge_embedding. Input and target broadcast as torch allows (it warns); the checks torch makes of
shapes and attributes are each loss's `check`.

Input and target of different dtypes (`loss_dtypes`), as torch 2.13 treats them: most losses promote
(float32 input, float64 target: a float64 loss; an integer target with a float input), soft_margin and
hinge_embedding and huber keep the input's dtype (huber's backward then refuses the mix), bce_with_logits
takes the target's, and binary_cross_entropy refuses a mix. Optional weights may have any dtype (they are cast)."""

from __future__ import annotations

from gradwire.rules import dtypes
from gradwire.rules.errors import (DTypeRuntimeError, InvalidArgumentRuntimeError, InvalidValueError,
                                   NotImplementedForDTypeError, ShapeError)
from gradwire.rules.promotion import result_type
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


# How each loss treats an input and target of different dtypes (the module docstring).
PROMOTING = {"mse_loss", "l1_loss", "smooth_l1_loss", "poisson_nll_loss", "margin_ranking_loss", "kl_div"}
# huber_loss's forward too, but its backward refuses a mix (engine/ops/nn_loss_elementwise.py)
INPUT_TYPED = {"soft_margin_loss", "hinge_embedding_loss", "huber_loss"}
TARGET_TYPED = {"binary_cross_entropy_with_logits"}
SAME_TYPED = {"binary_cross_entropy"}


def _takes_bool_target(name: str, found: list, attrs: dict) -> bool:
    """torch computes these with a bool target (no subtraction or negation of it)."""
    if found[0] is dtypes.bool_:
        return False
    return (name in ("mse_loss", "hinge_embedding_loss") or (name == "smooth_l1_loss" and attrs.get("beta", 1.0) > 0)
            or (name == "poisson_nll_loss" and attrs.get("log_input", True)))


def loss_dtypes(name: str, operands: int):
    """The dtype rule of an elementwise loss; `operands` (input, target / input1, input2, target) are the
    ones whose dtypes combine, the optional weights after them are cast to the compute dtype."""
    main = tuple(range(operands))
    uniform = (float_kernel if name in NO_INTEGRAL_KERNEL else same_float)(name, float_positions=main)

    def rule(operand_dtypes: list, operands_given: list, attrs: dict) -> tuple:
        if name in TARGET_TYPED and len(operand_dtypes) > 3 and operand_dtypes[3] is dtypes.bool_:
            raise DTypeRuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                                    "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        found = [operand_dtypes[p] for p in main]
        if any(d is None for d in found) or all(d is found[0] for d in found):
            return uniform(operand_dtypes, operands_given, attrs)
        if dtypes.bool_ in found and not _takes_bool_target(name, found, attrs):
            return uniform(operand_dtypes, operands_given, attrs)
        x, t = found[0], found[-1]
        if name in SAME_TYPED:
            raise DTypeRuntimeError(f"Found dtype {dtypes.TORCH_NAMES[t]} but expected {dtypes.TORCH_NAMES[x]}")
        if name == "kl_div" and not all(d.is_floating_point for d in found):
            raise DTypeRuntimeError("kl_div: Integral inputs not supported.")
        if name in TARGET_TYPED:
            if not x.is_floating_point:
                raise NotImplementedForDTypeError(f"\"log_sigmoid_cpu\" not implemented for '{dtypes.TORCH_NAMES[x]}'")
            if not t.is_floating_point:
                raise DTypeRuntimeError(f"result type {dtypes.TORCH_NAMES[x]} can't be cast to the desired output "
                                        f"type {dtypes.TORCH_NAMES[t]}")
            return result_type(found, [operands_given[p] for p in main]), t
        if name in INPUT_TYPED:
            if not x.is_floating_point:
                return uniform(operand_dtypes, operands_given, attrs)
            return x, x
        promoted = result_type(found, [operands_given[p] for p in main])
        if not promoted.is_floating_point:
            return uniform(operand_dtypes, operands_given, attrs)
        return promoted, promoted

    return rule


def elementwise_loss(name: str, grad_fn, *, attrs=(), operands=2, optional_operands=(), trailing=(),
                     check=None, summary="") -> None:
    specs = tuple(optional(o) for o in optional_operands) + tuple(attrs) + (REDUCTION,) + tuple(trailing)
    define(OpRules(
        name=name, grad_fn=grad_fn, min_inputs=operands, dtype_rule=loss_dtypes(name, operands),
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
