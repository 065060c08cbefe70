"""Rules of the normalisation layers: layer_norm, batch_norm, group_norm and instance_norm.

The result has the input's shape. Their shape rules check the input's rank, normalized_shape / groups
and the size of each per-channel operand; whether an optional operand is given at all (running
statistics in evaluation mode) is checked by the dtype rule, which sees the operands themselves.
"""

from __future__ import annotations

import math

from gradwire.rules.errors import IndexOutOfRange, InvalidArgumentRuntimeError, InvalidValueError, ShapeError
from gradwire.rules.spec import UPDATED_OPERAND, AttrSpec, OpRules, define

from .nn_common import float_kernel, optional

EPS = AttrSpec("eps", "real", default=1e-5)


def _layer_norm_shape(shapes: list, attrs: dict) -> tuple:
    x = tuple(shapes[0])
    shape = tuple(attrs["normalized_shape"]) if not isinstance(attrs["normalized_shape"], int) else (
        attrs["normalized_shape"],)
    if not shape:
        raise ShapeError("layer_norm(): Expected normalized_shape to be at least 1-dimensional, i.e., containing at "
                         "least one element, but got normalized_shape = []")
    if len(x) < len(shape) or x[len(x) - len(shape):] != shape:
        raise ShapeError(f"layer_norm(): Given normalized_shape={list(shape)}, expected input with shape "
                         f"[*, {', '.join(map(str, shape))}], but got input of size{list(x)}")
    for name, position in (("weight", 1), ("bias", 2)):
        given = shapes[position] if len(shapes) > position else ()
        if given and tuple(given) != shape:
            raise ShapeError(f"layer_norm(): Expected {name} to be of same shape as normalized_shape, but got {name} "
                             f"of shape {list(given)} and normalized_shape = {list(shape)}")
    return x


define(OpRules(
    name="layer_norm", grad_fn="NativeLayerNormBackward0", dtype_rule=float_kernel("layer_norm"),
    min_inputs=1, max_inputs=3, out_shape=_layer_norm_shape,
    attrs=(AttrSpec("normalized_shape", "integer|ints", required=True), optional("weight"), optional("bias"), EPS),
    functions=("layer_norm", "nn.functional.layer_norm"),
    summary="normalise over the trailing normalized_shape dims, then weight * x + bias (both optional)",
))


def check_channels(name: str, x: tuple, operands: dict, channels: int | None = None) -> None:
    """Each given per-channel operand (shape () when absent) has one element per channel."""
    if len(x) < 2:
        if name == "batch_norm" and not any(operands.values()):
            raise IndexOutOfRange(f"batch_norm(): Dimension out of range (expected to be in range of "
                                  f"[{-max(len(x), 1)}, {max(len(x), 1) - 1}], but got 1): the input needs a "
                                  f"channel dim, got shape {list(x)}")
        raise ShapeError(f"{name}(): Expected at least 2 dimensions for input tensor but received {len(x)}")
    channels = x[1] if channels is None else channels
    for what, shape in operands.items():
        if shape and math.prod(shape) != channels:
            raise ShapeError(f"{name}(): {what} should contain {channels} elements not {math.prod(shape)}")
        if len(shape) > 1:  # torch's forward takes a weight of any shape with C elements, its backward does not
            raise ShapeError(f"{name}(): {what} must be 1-D (one element per channel), got shape {list(shape)}")


def _operand_shapes(shapes: list, names: tuple) -> dict:
    return {name: tuple(shapes[1 + i]) if 1 + i < len(shapes) else () for i, name in enumerate(names)}


STATS = ("running_mean", "running_var", "weight", "bias")


def _batch_norm_shape(shapes: list, attrs: dict) -> tuple:
    x = tuple(shapes[0])
    if not x:
        raise IndexOutOfRange("batch_norm(): tuple index out of range: the input needs batch and channel dims")
    if attrs["training"] and math.prod(x[:1] + x[2:]) <= 1:  # torch checks this first
        raise InvalidValueError(f"Expected more than 1 value per channel when training, got input size {list(x)}")
    check_channels("batch_norm", x, _operand_shapes(shapes, STATS))
    return x


def _given_operands(name: str, operands: list, names: tuple, channels_of) -> None:
    """0-d tensors given as per-channel operands (the shape rule sees () for absent ones too)."""
    for what, operand in zip(names, operands[1:]):
        if operand is not None and not operand.shape and len(operands[0].shape) >= 2:
            channels = channels_of(operands[0].shape)
            if channels != 1:
                raise ShapeError(f"{name}(): {what} should contain {channels} elements not 1")


def _stats_rule(name: str, needs_stats):
    """float_kernel(name), and running statistics present where the call needs them (evaluation mode)."""
    kernel = float_kernel(name)

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        result = kernel(operand_dtypes, operands, attrs)
        if needs_stats(attrs) and (operands[1] is None or operands[2] is None):
            raise InvalidArgumentRuntimeError(
                f"{name}(): running_mean and running_var must be defined in evaluation mode (training=False)"
                if name == "batch_norm" else
                f"{name}(): Expected running_mean and running_var to be defined when use_input_stats is false")
        _given_operands(name, operands, STATS, lambda shape: shape[1])
        return result

    return rule


define(OpRules(
    name="batch_norm", grad_fn="NativeBatchNormBackward0",
    dtype_rule=_stats_rule("batch_norm", lambda attrs: not attrs["training"]), min_inputs=1, max_inputs=5,
    out_shape=_batch_norm_shape,
    attrs=(AttrSpec("running_mean", UPDATED_OPERAND), AttrSpec("running_var", UPDATED_OPERAND), optional("weight"),
           optional("bias"), AttrSpec("training", "boolean", default=False),
           AttrSpec("momentum", "real", default=0.1), EPS),
    functions=("nn.functional.batch_norm",),
    summary="normalise each channel over the batch (training: batch statistics, and running_mean/var "
            "updated in place with momentum; eval: the running statistics), then weight and bias",
))


def _group_norm_shape(shapes: list, attrs: dict) -> tuple:
    x, groups = tuple(shapes[0]), attrs["num_groups"]
    if len(x) >= 2 and groups > 0 and x[0] * x[1] // groups * math.prod(x[2:]) == 1:
        raise InvalidValueError(f"group_norm(): Expected more than 1 value per channel when training, got input "
                                f"size {[x[0] * x[1] // groups, groups] + list(x[2:])}")
    check_channels("group_norm", x, _operand_shapes(shapes, ("weight", "bias")))
    if groups <= 0 or x[1] % groups:
        raise ShapeError(f"group_norm(): Expected number of channels in input to be divisible by num_groups, but "
                         f"got input of shape {list(x)} and num_groups={groups}")
    return x


define(OpRules(
    name="group_norm", grad_fn="NativeGroupNormBackward0", dtype_rule=float_kernel("group_norm"),
    min_inputs=1, max_inputs=3, out_shape=_group_norm_shape,
    attrs=(AttrSpec("num_groups", "integer", required=True), optional("weight"), optional("bias"), EPS),
    functions=("group_norm", "nn.functional.group_norm"),
    summary="normalise over groups of channels (and all spatial positions) per sample, then weight and bias",
))


def _instance_norm_shape(shapes: list, attrs: dict) -> tuple:
    x = tuple(shapes[0])
    if attrs["use_input_stats"] and math.prod(x[2:]) <= 1:  # torch checks this first
        raise InvalidValueError(f"Expected more than 1 spatial element when training, got input size {list(x)}")
    check_channels("instance_norm", x, _operand_shapes(shapes, STATS))
    return x


define(OpRules(
    name="instance_norm",
    grad_fn=lambda call: "ViewBackward0" if call.attrs["use_input_stats"] else "NativeBatchNormBackward0",
    dtype_rule=_stats_rule("instance_norm", lambda attrs: not attrs["use_input_stats"]), min_inputs=1,
    max_inputs=5, out_shape=_instance_norm_shape,
    attrs=(AttrSpec("running_mean", UPDATED_OPERAND), AttrSpec("running_var", UPDATED_OPERAND), optional("weight"),
           optional("bias"), AttrSpec("use_input_stats", "boolean", default=True),
           AttrSpec("momentum", "real", default=0.1), EPS),
    functions=("instance_norm", "nn.functional.instance_norm"),
    summary="normalise each channel of each sample over its spatial positions, then weight and bias",
))
