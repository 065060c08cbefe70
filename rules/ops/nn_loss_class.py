"""Rules of cross_entropy and nll_loss: class indices (int64 or uint8, with weight, ignore_index,
K-dim inputs) or, for cross_entropy, class probabilities (a float target of the input's shape).

The shape rule tells the two target kinds apart by shape (probabilities have the input's shape, indices
have no class dim); the dtype rule then checks the target's dtype for that kind, as torch does.
"""

from __future__ import annotations

from gradwire.rules import dtypes
from gradwire.rules.errors import (
    ArgumentError, DTypeRuntimeError, IndexOutOfRange, InvalidArgumentRuntimeError, InvalidValueError,
    NotImplementedForDTypeError, ShapeError,
)
from gradwire.rules.spec import AttrSpec, OpRules, define

from .nn_common import REDUCTION, check_reduction, optional

IGNORE_INDEX = AttrSpec("ignore_index", "integer", default=-100)
INDEX_DTYPES = (dtypes.int64, dtypes.uint8)


def probabilities(name: str, x: tuple, t: tuple) -> bool:
    """A target of the input's shape holds class probabilities (cross_entropy only)."""
    return name == "cross_entropy" and tuple(t) == tuple(x)


def class_loss_shape(name: str):
    def out_shape(shapes: list, attrs: dict) -> tuple:
        x, t = tuple(shapes[0]), tuple(shapes[1])
        w = tuple(shapes[2]) if len(shapes) > 2 else ()
        check_reduction(name, attrs["reduction"])
        if not x:
            _no_class_dim(name)
        eps = attrs.get("label_smoothing", 0.0)
        if not 0.0 <= eps <= 1.0:
            raise InvalidArgumentRuntimeError(f"{name}(): label_smoothing must be between 0.0 and 1.0. Got: {eps}")
        classes = x[1] if len(x) > 1 else x[0]
        if len(x) == 1 and len(t) == 1 and t != (1,) and not probabilities(name, x, t):
            raise InvalidValueError(f"{name}(): For 1D input, 1D target must have size 1, but got target size: {t[0]}")
        if w and w != (classes,):
            raise ShapeError(f"{name}(): weight tensor should be defined either for all {classes} classes or no "
                             f"classes but got weight tensor of shape: {list(w)}")
        sample = x[:1] + x[2:] if len(x) > 1 else ()
        if not probabilities(name, x, t):
            check_batch_size(x, t)  # torch checks the batch before the target's rank
            if len(x) <= 2 and len(t) > 1:
                raise ShapeError(f"{name}(): 0D or 1D target tensor expected, multi-target not supported "
                                 f"(input {list(x)}, target {list(t)})")
            if len(x) == 1 and len(t) == 1:
                if t != (1,):
                    raise InvalidValueError(f"{name}(): For 1D input, 1D target must have size 1, but got target "
                                            f"size: {t[0]}")
            elif t != sample:
                raise ShapeError(f"{name}(): Expected target size {list(sample)}, got {list(t)}")
        return sample if attrs["reduction"] == "none" else ()

    return out_shape


def check_batch_size(x: tuple, t: tuple) -> None:
    """torch's first check of a class-index target (before its dtype): one target per sample."""
    if len(x) > 1 and (not t or t[0] != x[0]):
        raise InvalidValueError(f"Expected input batch_size ({x[0]}) to match target batch_size "
                                f"({t[0] if t else 0}).")


def _no_class_dim(name: str) -> None:
    if name == "nll_loss":
        raise InvalidValueError("nll_loss(): Expected 1 or more dimensions (got 0): the input needs a class dim")
    raise IndexOutOfRange("cross_entropy(): Dimension specified as 1 but tensor has no dimensions: the input needs "
                          "a class dim")


def class_loss_dtypes(name: str):
    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        x, t, w = operand_dtypes[0], operand_dtypes[1], operand_dtypes[2]
        if x is None or t is None:
            raise ArgumentError(f"{name}(): input and target must be Tensors")
        if name == "nll_loss" and not operands[0].shape:
            _no_class_dim(name)
        if not probabilities(name, operands[0].shape, operands[1].shape):
            check_batch_size(tuple(operands[0].shape), tuple(operands[1].shape))
        if not x.is_floating_point:
            raise NotImplementedForDTypeError(f"{name}(): not implemented for '{x.name}' input; convert it with "
                                              ".float()")
        if w is not None and w is not x:
            raise DTypeRuntimeError(f"{name}(): expected scalar type {x.name} but found {w.name} (the weight); "
                                    "use one dtype")
        if probabilities(name, operands[0].shape, operands[1].shape):
            if not t.is_floating_point:
                raise DTypeRuntimeError(f"{name}(): Expected floating point type for target with class "
                                        f"probabilities, got {t.name}")
            if t is not x:  # torch promotes a probability target and the input (the weight must be the input's)
                promoted = dtypes.promote(x, t)
                return promoted, promoted
        elif t not in INDEX_DTYPES:
            raise DTypeRuntimeError(f"{name}(): expected target dtype to be Long or Byte, but got {t.name}; pass "
                                    "class indices as an int64 tensor")
        return None, x

    return rule


def _grad_fn(smoothing: bool):
    def name(call) -> str:
        rank, reduction = len(call.input_shapes[0]), call.attrs["reduction"]
        if call.input_dtypes[1] is not None and call.input_dtypes[1].is_floating_point:
            return "DivBackward1" if reduction == "mean" else "NegBackward0"
        if smoothing and call.attrs["label_smoothing"] > 0:
            return "AddBackward0"
        if rank == 4:
            return "NllLoss2DBackward0"
        if rank == 3 or rank > 4:
            return "ViewBackward0" if reduction == "none" else "NllLoss2DBackward0"
        return "NllLossBackward0"

    return name


define(OpRules(
    name="cross_entropy", grad_fn=_grad_fn(True), dtype_rule=class_loss_dtypes("cross_entropy"),
    min_inputs=2, max_inputs=3,
    attrs=(optional("weight"), IGNORE_INDEX, REDUCTION, AttrSpec("label_smoothing", "real", default=0.0)),
    functions=("nn.functional.cross_entropy",), out_shape=class_loss_shape("cross_entropy"),
    summary="log_softmax over dim 1 then nll_loss; class indices or probabilities, weight, ignore_index, "
            "label_smoothing",
))
define(OpRules(
    name="nll_loss", grad_fn=_grad_fn(False), dtype_rule=class_loss_dtypes("nll_loss"), min_inputs=2, max_inputs=3,
    attrs=(optional("weight"), IGNORE_INDEX, REDUCTION),
    functions=("nn.functional.nll_loss",), out_shape=class_loss_shape("nll_loss"),
    summary="negative log likelihood of class indices given log-probabilities (dim 1); weight, ignore_index",
))
