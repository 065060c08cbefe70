"""Rules of more torch.nn.functional losses real code uses: gaussian_nll_loss, multilabel_soft_margin_loss
and multi_margin_loss (see rules/spec.py; engine: engine/ops/nn_loss_more.py, composites)."""

from __future__ import annotations

from .. import dtypes, promotion
from ..checks import tensors_only
from ..errors import (DTypeRuntimeError, InvalidArgumentRuntimeError, InvalidValueError, NotImplementedForDTypeError,
                      ShapeError)
from ..shapes import broadcast_shapes
from ..spec import AttrSpec, OpRules, define
from .nn_common import REDUCTION, REDUCTIONS, check_reduction, optional


def _reduction_name(elementwise: str):
    return lambda call: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(call.attrs["reduction"], elementwise)


# ---------------------------------------------------------------- gaussian_nll_loss
def gaussian_var_shape(input_shape: tuple, var_shape: tuple) -> tuple:
    """The shape var takes part with: the input's, one dim short (unsqueezed), or broadcastable in one dim."""
    if var_shape == input_shape:
        return var_shape
    if input_shape[:-1] == var_shape:
        return var_shape + (1,)
    if len(input_shape) == len(var_shape) and sum(v for i, v in zip(input_shape, var_shape) if i != v) == 1:
        return var_shape
    raise InvalidValueError("var is of incorrect size")


def _gaussian_shape(shapes: list, attrs: dict) -> tuple:
    x, target, var = (tuple(s) for s in shapes)
    if attrs["reduction"] not in REDUCTIONS:
        raise InvalidValueError(f"{attrs['reduction']} is not valid")
    loss = broadcast_shapes([x, target, gaussian_var_shape(x, var)])
    return loss if attrs["reduction"] == "none" else ()


define(OpRules(
    name="gaussian_nll_loss", grad_fn=lambda call: _reduction_name(
        "AddBackward0" if call.attrs["full"] else "MulBackward0")(call),
    dtype_rule=tensors_only("gaussian_nll_loss", promotion.promote_to_float, positions=None),
    min_inputs=3, max_inputs=3,
    attrs=(AttrSpec("full", "boolean", default=False, description="add the constant 0.5 log(2 pi)"),
           AttrSpec("eps", "real", default=1e-6, description="var is clamped to at least eps (its gradient is not)"),
           REDUCTION),
    out_shape=_gaussian_shape, functions=("nn.functional.gaussian_nll_loss",),
    summary="0.5 (log(var) + (input - target)^2 / var): the negative log-likelihood of a Gaussian",
))


# ---------------------------------------------------------------- multilabel_soft_margin_loss
def _multilabel_shape(shapes: list, attrs: dict) -> tuple:
    if attrs["reduction"] not in REDUCTIONS:
        raise InvalidValueError(f"{attrs['reduction']} is not valid")
    x = tuple(shapes[0])
    loss = broadcast_shapes([tuple(s) for s in shapes])
    if not x:
        raise IndexError("multilabel_soft_margin_loss(): the input needs a class dim (got a 0-d input)")
    return loss[:-1] if attrs["reduction"] == "none" else ()


define(OpRules(
    name="multilabel_soft_margin_loss", grad_fn=_reduction_name("DivBackward0"),
    dtype_rule=tensors_only("multilabel_soft_margin_loss", promotion.promote_to_float, positions=(0, 1)),
    min_inputs=2, max_inputs=3, attrs=(optional("weight"), REDUCTION), out_shape=_multilabel_shape,
    functions=("nn.functional.multilabel_soft_margin_loss",),
    summary="the mean over classes of -(t log sigmoid(x) + (1 - t) log sigmoid(-x)), optionally weighted",
))


# ---------------------------------------------------------------- multi_margin_loss
def _multi_margin_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[1] is None or operand_dtypes[1] is not dtypes.int64:
        found = "a number" if operand_dtypes[1] is None else dtypes.TORCH_NAMES[operand_dtypes[1]]
        raise DTypeRuntimeError(f"expected scalar type Long but found {found}")
    if not operand_dtypes[0].is_floating_point or operand_dtypes[0] is dtypes.float16:  # no such CPU kernels
        raise NotImplementedForDTypeError(f'"multi_margin_loss_cpu_kernel" not implemented for '
                                          f"'{dtypes.TORCH_NAMES[operand_dtypes[0]]}'")
    return None, operand_dtypes[0]


def _multi_margin_shape(shapes: list, attrs: dict) -> tuple:
    check_reduction("multi_margin_loss", attrs["reduction"])
    x, target = tuple(shapes[0]), tuple(shapes[1])
    if attrs["p"] not in (1, 2):
        raise InvalidValueError("only p == 1 and p == 2 supported")
    if len(x) > 2 or (len(x) == 2 and x[1] == 0) or (len(x) == 1 and x[0] == 0):
        raise ShapeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(x)}")
    samples = x[0] if len(x) == 2 else 1
    if target not in ((samples,), () if len(x) < 2 else (samples,)):
        raise ShapeError(f"inconsistent target size, expected {samples} but got {list(target)}")
    weight = tuple(shapes[2]) if len(shapes) > 2 else ()
    classes = x[-1] if x else 1
    if weight and weight != (classes,):
        raise InvalidArgumentRuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight)}")
    return x[:1] if attrs["reduction"] == "none" and len(x) == 2 else ()


define(OpRules(
    name="multi_margin_loss", grad_fn="MultiMarginLossBackward0",
    dtype_rule=tensors_only("multi_margin_loss", _multi_margin_dtype, positions=(0,)),
    min_inputs=2, max_inputs=3,
    attrs=(AttrSpec("p", "integer", default=1, description="1 (hinge) or 2 (squared hinge)"),
           AttrSpec("margin", "real", default=1.0, description="the margin the target's score must win by"),
           optional("weight"), REDUCTION),
    out_shape=_multi_margin_shape, functions=("nn.functional.multi_margin_loss",),
    summary="the mean over classes j != y of max(0, margin - x[y] + x[j])^p (a multi-class hinge loss)",
))
