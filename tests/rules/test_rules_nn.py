"""The torch.nn.functional ops' rules (gradwire.rules.ops.nn_*) against torch, without the engine's forward:
every op of the family is defined in gradwire.rules with a shape and a dtype rule; for every op-table row
the shape and dtype the rules predict for torch's own call equal torch's result; and mistakes torch
refuses are refused by the rules alone with torch's exception class."""

from __future__ import annotations

import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode

import gradwire.engine as gw  # noqa: F401  (registers the engine ops: the family is known by its forwards)
from gradwire.engine.registry import OPS
from gradwire.rules import dtypes, rules_of
from gradwire.rules.attrs import normalise_attrs
from gradwire.rules.spec import Bound

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from ops_harness import builtin_class, make_tensors  # noqa: E402
from ops_table import ROWS  # noqa: E402

NN_MODULES = ("nn_linear", "nn_loss_class", "nn_loss_elementwise", "nn_conv", "nn_norm", "nn_dropout", "nn_pool",
              "nn_adaptive_pool", "nn_misc", "nn_resample", "nn_composite")
FAMILY = sorted(op.name for op in OPS.values()
                if getattr(op.forward, "__module__", "").rsplit(".", 1)[-1] in NN_MODULES)


class Meta:
    """What a rule sees of a tensor: its shape and dtype (as the SDK's lazy metadata)."""

    def __init__(self, shape, dtype) -> None:
        self.shape, self.dtype = tuple(shape), dtype


def meta(value):
    if isinstance(value, torch.Tensor):
        return Meta(value.shape, dtypes.by_name(str(value.dtype).removeprefix("torch.")))
    if isinstance(value, (list, tuple)):
        return type(value)(meta(v) for v in value)
    return value


def predict(name: str, args: tuple, kwargs: dict):
    """(shape, dtype name) the rules give for the call name(*args, **kwargs), args as torch passes them."""
    op = rules_of(name)
    known = {spec.name for spec in op.attrs} | {alias for spec in op.attrs for alias in spec.aliases}
    # torch's handlers pass every parameter, its deprecated ones (size_average, reduce) as None
    kwargs = {k: meta(v) for k, v in kwargs.items() if v is not None or k in known}
    operands, attrs = op.parse_call(meta(args), kwargs)
    if attrs.get("return_indices") and f"{name}_with_indices" in OPS:
        op = rules_of(f"{name}_with_indices")
    operands, attrs = op.place_operands(list(operands), dict(attrs))
    if op.operand_attrs and len(operands) < op.max_inputs:
        operands = operands + [None] * (op.max_inputs - len(operands))
    attrs = normalise_attrs(op, attrs)
    kinds = [x.dtype if isinstance(x, Meta) else None for x in operands]
    shapes = [x.shape if isinstance(x, Meta) else () for x in operands]
    dtype = op.dtype_rule(kinds, operands, attrs)[1]  # the dtype rule first, as the engine and the SDK run them
    shape = op.out_shape(shapes, attrs)
    if op.num_outputs > 1 and not isinstance(shape, tuple):
        shape = shape[0]
    return shape, dtype.name


def _short(spelling: str) -> str:
    return spelling.rpartition(".")[2]


def recorded_call(row, op_name: str):
    """Runs the row's program in torch and returns the first call of one of the op's spellings."""
    names = {_short(s) for s in rules_of(op_name).functions} | {op_name.removesuffix("_with_indices")}
    calls = []

    class Recorder(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            if getattr(func, "__name__", None) in names:
                calls.append((func.__name__, args, kwargs, result))
            return result

    values = row.inputs(np.random.default_rng(zlib.crc32(row.id.encode())))
    tensors = make_tensors(torch, values, np.float64)
    with Recorder():
        row.program_for(torch)(torch, *tensors)
    return calls[0] if calls else None


def test_every_nn_op_has_its_rules_in_gradwire_rules():
    assert len(FAMILY) > 60
    for name in FAMILY:
        op = rules_of(name)
        assert op.out_shape is not None and op.dtype_rule is not None, name
        assert op.rules_id == f"{name}@{op.version}"


NN_ROWS = [row for row in ROWS if row.op in FAMILY and not rules_of(row.op).internal]


@pytest.mark.parametrize("row", NN_ROWS, ids=lambda row: row.id)
def test_rules_predict_torchs_shape_and_dtype(row):
    call = recorded_call(row, row.op)
    if call is None:
        pytest.fail(f"the torch program of {row.id} calls no spelling of {row.op}")
    name, args, kwargs, result = call
    op_name = name if name in OPS else row.op
    if row.op.endswith("_with_indices"):
        op_name = row.op.removesuffix("_with_indices")
        if not kwargs.get("return_indices") and f"{op_name}_with_indices" == row.op:
            kwargs = dict(kwargs, return_indices=True)
    shape, dtype = predict(op_name, args, kwargs)
    first = result[0] if isinstance(result, tuple) else result
    if type(shape) is Bound:  # a shape that depends on values: the rules know its rank and leading dims
        shape = tuple(shape[:-1]) + tuple(first.shape[-1:])
    assert shape == tuple(first.shape), f"{row.id}: rules say {shape}, torch made {tuple(first.shape)}"
    assert dtype == str(first.dtype).removeprefix("torch."), f"{row.id}: rules say {dtype}, torch {first.dtype}"


def z(*shape, dtype=torch.float32):
    return torch.zeros(shape, dtype=dtype)


def ints(*shape):
    return torch.zeros(shape, dtype=torch.int64)


F = torch.nn.functional
# (label, op name, args, kwargs): calls torch refuses; the rules alone must refuse them with its class.
MISTAKES = [
    ("linear_in_features", "linear", (z(2, 3), z(4, 5)), {}),
    ("linear_0d_input", "linear", (z(), z(4, 5)), {}),
    ("linear_3d_weight", "linear", (z(2, 3), z(2, 4, 3)), {}),
    ("linear_bias_size", "linear", (z(2, 3), z(4, 3), z(5)), {}),
    ("linear_1d_weight_with_bias", "linear", (z(2, 3), z(3), z(1)), {}),
    ("bilinear_ranks", "bilinear", (z(2, 4, 3), z(4, 2), z(5, 3, 2)), {}),
    ("bilinear_2d_weight", "bilinear", (z(4, 3), z(4, 2), z(5, 3)), {}),
    ("cross_entropy_batch_before_dtype", "cross_entropy", (z(3, 2), z(4)), {}),
    ("nll_loss_1d_input_target_size", "nll_loss", (z(3), ints(3)), {}),
    ("group_norm_one_value", "group_norm", (z(2, 2), 3), {}),
    ("batch_norm_order", "batch_norm", (z(1, 3), z(2), z(2)), {"training": True}),
    ("linear_int_input", "linear", (ints(2, 3), z(4, 3)), {}),
    ("linear_mixed_dtypes", "linear", (z(2, 3), z(4, 3, dtype=torch.float64)), {}),
    ("bilinear_in2", "bilinear", (z(4, 3), z(4, 2), z(5, 3, 3)), {}),
    ("bilinear_batch", "bilinear", (z(4, 3), z(3, 2), z(5, 3, 2)), {}),
    ("conv2d_in_channels", "conv2d", (z(2, 3, 5, 5), z(4, 2, 3, 3)), {}),
    ("conv2d_groups_channels", "conv2d", (z(2, 4, 5, 5), z(4, 3, 3, 3)), {"groups": 2}),
    ("conv2d_groups_out", "conv2d", (z(2, 6, 5, 5), z(3, 3, 3, 3)), {"groups": 2}),
    ("conv2d_kernel_too_big", "conv2d", (z(1, 3, 2, 2), z(4, 3, 3, 3)), {}),
    ("conv2d_dilated_too_big", "conv2d", (z(1, 3, 4, 4), z(4, 3, 3, 3)), {"dilation": 2}),
    ("conv2d_same_strided", "conv2d", (z(2, 3, 5, 5), z(4, 3, 3, 3)), {"stride": 2, "padding": "same"}),
    ("conv2d_padding_string", "conv2d", (z(2, 3, 5, 5), z(4, 3, 3, 3)), {"padding": "full"}),
    ("conv2d_rank", "conv2d", (z(5, 5), z(4, 3, 3, 3)), {}),
    ("conv2d_weight_rank", "conv2d", (z(2, 3, 5, 5), z(4, 3, 3)), {}),
    ("conv2d_bias", "conv2d", (z(2, 3, 5, 5), z(4, 3, 3, 3), z(3)), {}),
    ("conv2d_stride_0", "conv2d", (z(2, 3, 5, 5), z(4, 3, 3, 3)), {"stride": 0}),
    ("conv2d_stride_3", "conv2d", (z(2, 3, 5, 5), z(4, 3, 3, 3)), {"stride": (1, 1, 1)}),
    ("conv2d_negative_padding", "conv2d", (z(2, 3, 5, 5), z(4, 3, 3, 3)), {"padding": -1}),
    ("conv2d_groups_0", "conv2d", (z(2, 3, 5, 5), z(4, 3, 3, 3)), {"groups": 0}),
    ("conv2d_no_filters", "conv2d", (z(2, 3, 5, 5), z(0, 3, 3, 3)), {}),
    ("conv1d_unbatched_channels", "conv1d", (z(3, 5), z(4, 2, 3)), {}),
    ("conv1d_int_input", "conv1d", (ints(2, 3, 5), z(4, 3, 3)), {}),
    ("conv_transpose2d_channels", "conv_transpose2d", (z(2, 3, 5, 5), z(4, 3, 3, 3)), {}),
    ("conv_transpose2d_output_padding", "conv_transpose2d", (z(2, 4, 5, 5), z(4, 3, 3, 3)), {"output_padding": 1}),
    ("conv_transpose2d_groups", "conv_transpose2d", (z(2, 4, 5, 5), z(4, 3, 3, 3)), {"groups": 3}),
    ("conv_transpose2d_bias", "conv_transpose2d", (z(2, 4, 5, 5), z(4, 3, 3, 3), z(4)), {}),
    ("conv_transpose2d_rank", "conv_transpose2d", (z(4, 5), z(4, 3, 3, 3)), {}),
    ("max_pool2d_padding", "max_pool2d", (z(2, 3, 5, 5), 2), {"padding": 2}),
    ("max_pool2d_dilated_padding", "max_pool2d", (z(2, 3, 7, 7), 3), {"dilation": 2, "padding": 2}),
    ("max_pool2d_negative_padding", "max_pool2d", (z(2, 3, 5, 5), 2), {"padding": -1}),
    ("max_pool2d_kernel_0", "max_pool2d", (z(2, 3, 5, 5), 0), {}),
    ("max_pool2d_stride_0", "max_pool2d", (z(2, 3, 5, 5), 2), {"stride": 0}),
    ("max_pool2d_kernel_too_big", "max_pool2d", (z(2, 3, 5, 5), 6), {}),
    ("max_pool2d_dilated_too_big", "max_pool2d", (z(2, 3, 5, 5), 3), {"dilation": 3}),
    ("max_pool2d_rank", "max_pool2d", (z(5, 5), 2), {}),
    ("max_pool2d_three_kernel_sizes", "max_pool2d", (z(2, 3, 5, 5), (2, 2, 2)), {}),
    ("max_pool2d_no_channels", "max_pool2d", (z(2, 0, 5, 5), 2), {}),
    ("max_pool1d_rank", "max_pool1d", (z(5), 2), {}),
    ("max_pool1d_with_indices_too_big", "max_pool1d", (z(2, 3, 5), 6), {"return_indices": True}),
    ("avg_pool2d_padding", "avg_pool2d", (z(2, 3, 5, 5), 2), {"padding": 2}),
    ("avg_pool2d_kernel_too_big", "avg_pool2d", (z(2, 3, 5, 5), 6), {}),
    ("avg_pool2d_rank", "avg_pool2d", (z(5, 5), 2), {}),
    ("avg_pool2d_divisor_0", "avg_pool2d", (z(2, 3, 5, 5), 2), {"divisor_override": 0}),
    ("avg_pool1d_rank", "avg_pool1d", (z(5), 2), {}),
    ("avg_pool1d_empty", "avg_pool1d", (z(3, 0), 2), {}),
    ("adaptive_avg_pool2d_rank", "adaptive_avg_pool2d", (z(5, 5), 2), {}),
    ("adaptive_avg_pool2d_three_sizes", "adaptive_avg_pool2d", (z(2, 3, 5, 5), (2, 2, 2)), {}),
    ("adaptive_avg_pool2d_negative", "adaptive_avg_pool2d", (z(2, 3, 5, 5), -1), {}),
    ("adaptive_avg_pool1d_two_sizes", "adaptive_avg_pool1d", (z(2, 3, 5), (2, 2)), {}),
    ("cross_entropy_bad_reduction", "cross_entropy", (z(4, 3), ints(4)), {"reduction": "avg"}),
    ("cross_entropy_batch_size", "cross_entropy", (z(4, 3), ints(2)), {}),
    ("cross_entropy_int_probabilities", "cross_entropy", (z(4, 3), ints(4, 3)), {}),
    ("cross_entropy_multi_target", "cross_entropy", (z(4, 3), ints(4, 1)), {}),
    ("cross_entropy_float_indices", "cross_entropy", (z(4, 3), z(4)), {}),
    ("cross_entropy_bool_target", "cross_entropy", (z(4, 3), torch.zeros(4, dtype=torch.bool)), {}),
    ("cross_entropy_int32_target", "cross_entropy", (z(4, 3), torch.zeros(4, dtype=torch.int32)), {}),
    ("cross_entropy_weight_size", "cross_entropy", (z(4, 3), ints(4)), {"weight": z(4)}),
    ("cross_entropy_weight_dtype", "cross_entropy", (z(4, 3), ints(4)), {"weight": z(3, dtype=torch.float64)}),
    ("cross_entropy_label_smoothing", "cross_entropy", (z(4, 3), ints(4)), {"label_smoothing": 1.5}),
    ("cross_entropy_0d", "cross_entropy", (z(), ints()), {}),
    ("cross_entropy_0d_probabilities", "cross_entropy", (z(), z()), {}),
    ("nll_loss_0d", "nll_loss", (z(), ints()), {}),
    ("cross_entropy_kdim_target", "cross_entropy", (z(4, 3, 5), ints(4, 6)), {}),
    ("cross_entropy_int_input", "cross_entropy", (ints(4, 3), ints(4)), {}),
    ("nll_loss_float_target", "nll_loss", (z(4, 3), z(4)), {}),
    ("nll_loss_batch_size", "nll_loss", (z(4, 3), ints(2)), {}),
    ("nll_loss_bad_reduction", "nll_loss", (z(4, 3), ints(4)), {"reduction": "avg"}),
    ("nll_loss_weight_size", "nll_loss", (z(4, 3), ints(4)), {"weight": z(4)}),
    ("nll_loss_multi_target", "nll_loss", (z(4, 3), ints(4, 3)), {}),
    ("nll_loss_kdim_target", "nll_loss", (z(4, 3, 5), ints(4, 6)), {}),
    ("nll_loss_int_input", "nll_loss", (ints(4, 3), ints(4)), {}),
    ("mse_loss_bad_reduction", "mse_loss", (z(3, 4), z(3, 4)), {"reduction": "avg"}),
    ("mse_loss_shapes", "mse_loss", (z(3, 4), z(2, 4)), {}),
    ("mse_loss_int", "mse_loss", (ints(3, 4), ints(3, 4)), {}),
    ("l1_loss_shapes", "l1_loss", (z(3, 4), z(2, 4)), {}),
    ("smooth_l1_loss_negative_beta", "smooth_l1_loss", (z(3, 4), z(3, 4)), {"beta": -1.0}),
    ("huber_loss_zero_delta", "huber_loss", (z(3, 4), z(3, 4)), {"delta": 0.0}),
    ("bce_target_size", "binary_cross_entropy", (z(3, 4), z(4)), {}),
    ("bce_weight_size", "binary_cross_entropy", (z(3, 4), z(3, 4)), {"weight": z(5)}),
    ("bce_int_target", "binary_cross_entropy", (z(3, 4), ints(3, 4)), {}),
    ("bce_logits_target_size", "binary_cross_entropy_with_logits", (z(3, 4), z(4)), {}),
    ("bce_logits_pos_weight", "binary_cross_entropy_with_logits", (z(3, 4), z(3, 4)), {"pos_weight": z(5)}),
    ("kl_div_bad_reduction", "kl_div", (z(3, 4), z(3, 4)), {"reduction": "bad"}),
    ("kl_div_shapes", "kl_div", (z(3, 4), z(2, 4)), {}),
    ("poisson_nll_loss_shapes", "poisson_nll_loss", (z(3, 4), z(2, 4)), {}),
    ("margin_ranking_loss_sizes", "margin_ranking_loss", (z(6), z(5), z(6)), {}),
    ("margin_ranking_loss_ranks", "margin_ranking_loss", (z(6, 1), z(6), z(6)), {}),
    ("margin_ranking_loss_bad_reduction", "margin_ranking_loss", (z(6), z(6), z(6)), {"reduction": "x"}),
    ("hinge_embedding_loss_shapes", "hinge_embedding_loss", (z(3, 4), z(2, 4)), {}),
    ("soft_margin_loss_shapes", "soft_margin_loss", (z(3, 4), z(2, 4)), {}),
    ("adaptive_avg_pool2d_int", "adaptive_avg_pool2d", (ints(2, 3, 5, 5), 2), {}),
    ("huber_loss_int", "huber_loss", (ints(3), ints(3)), {}),
    ("l1_loss_int", "l1_loss", (ints(3), ints(3)), {}),
    ("layer_norm_shape", "layer_norm", (z(2, 3, 5, 5), (4,)), {}),
    ("layer_norm_weight", "layer_norm", (z(2, 3), (3,)), {"weight": z(4)}),
    ("layer_norm_bias", "layer_norm", (z(2, 3), (3,)), {"bias": z(2, 3)}),
    ("layer_norm_empty_shape", "layer_norm", (z(2, 3), ()), {}),
    ("layer_norm_longer_shape", "layer_norm", (z(3), (2, 3)), {}),
    ("layer_norm_weight_dtype", "layer_norm", (z(2, 3), (3,)), {"weight": z(3, dtype=torch.float64)}),
    ("layer_norm_int", "layer_norm", (ints(2, 3), (3,)), {}),
    ("batch_norm_eval_without_stats", "batch_norm", (z(2, 3, 5), None, None), {}),
    ("batch_norm_one_value", "batch_norm", (z(1, 3), None, None), {"training": True}),
    ("batch_norm_1d", "batch_norm", (z(3), None, None), {"training": True}),
    ("batch_norm_running_mean", "batch_norm", (z(2, 3), z(4), z(3)), {"training": True}),
    ("batch_norm_weight", "batch_norm", (z(2, 3), z(3), z(3)), {"weight": z(4)}),
    ("batch_norm_bias", "batch_norm", (z(2, 3), z(3), z(3)), {"bias": z(2)}),
    ("batch_norm_weight_dtype", "batch_norm", (z(2, 3), z(3), z(3), z(3, dtype=torch.float64)), {}),
    ("batch_norm_int", "batch_norm", (ints(2, 3), None, None), {"training": True}),
    ("group_norm_groups", "group_norm", (z(2, 6, 5), 4), {}),
    ("group_norm_weight", "group_norm", (z(2, 6, 5), 3), {"weight": z(5)}),
    ("group_norm_1d", "group_norm", (z(6), 3), {}),
    ("instance_norm_one_element", "instance_norm", (z(2, 3, 1),), {}),
    ("instance_norm_no_spatial", "instance_norm", (z(2, 3),), {}),
    ("instance_norm_without_stats", "instance_norm", (z(2, 3, 4),), {"use_input_stats": False}),
    ("instance_norm_weight", "instance_norm", (z(2, 3, 4),), {"weight": z(4)}),
    ("dropout_probability", "dropout", (z(3), 1.5), {}),
    ("dropout_probability_eval", "dropout", (z(3), -0.1), {"training": False}),
    ("dropout_int", "dropout", (ints(3), 0.5), {}),
    ("dropout1d_rank", "dropout1d", (z(2, 3, 5, 5), 0.5), {}),
    ("dropout1d_rank_eval", "dropout1d", (z(2, 3, 5, 5), 0.5), {"training": False}),
    ("dropout1d_1d", "dropout1d", (z(5), 0.5), {}),
    ("feature_alpha_dropout_1d", "feature_alpha_dropout", (z(3), 0.5), {"training": True}),
    ("alpha_dropout_probability", "alpha_dropout", (z(3), 2.0), {}),
    ("embedding_1d_weight", "embedding", (ints(3), z(4)), {}),
    ("embedding_3d_weight", "embedding", (ints(3), z(4, 2, 2)), {}),
    ("embedding_float_indices", "embedding", (z(3), z(4, 2)), {}),
    ("one_hot_float", "one_hot", (z(3),), {}),
    ("pixel_shuffle_channels", "pixel_shuffle", (z(2, 3, 5, 5), 2), {}),
    ("pixel_shuffle_rank", "pixel_shuffle", (z(4, 5), 2), {}),
    ("pixel_shuffle_factor_0", "pixel_shuffle", (z(4, 5, 5), 0), {}),
    ("pixel_unshuffle_height", "pixel_unshuffle", (z(2, 3, 5, 5), 2), {}),
    ("pixel_unshuffle_rank", "pixel_unshuffle", (z(5, 5), 2), {}),
    ("normalize_dim", "normalize", (z(2, 3),), {"dim": 2}),
    ("cosine_similarity_shapes", "cosine_similarity", (z(2, 3), z(4, 3)), {}),
    ("cosine_similarity_dim", "cosine_similarity", (z(2, 3), z(2, 3)), {"dim": 2}),
    ("pairwise_distance_shapes", "pairwise_distance", (z(2, 3), z(4, 3)), {}),
    ("triplet_margin_loss_shapes", "triplet_margin_loss", (z(2, 3), z(2, 3), z(4, 3)), {}),
    ("triplet_margin_loss_ranks", "triplet_margin_loss", (z(2, 3), z(2, 3), z(3)), {}),
    ("triplet_margin_loss_bad_reduction", "triplet_margin_loss", (z(2, 3), z(2, 3), z(2, 3)), {"reduction": "x"}),
    ("cosine_embedding_loss_target", "cosine_embedding_loss", (z(2, 3), z(2, 3), z(3)), {}),
    ("cosine_embedding_loss_inputs", "cosine_embedding_loss", (z(2, 3), z(4, 3), z(2)), {}),
    ("cosine_embedding_loss_rank", "cosine_embedding_loss", (z(2, 3, 4), z(2, 3, 4), z(2)), {}),
    ("cosine_embedding_loss_bad_reduction", "cosine_embedding_loss", (z(2, 3), z(2, 3), z(2)), {"reduction": "x"}),
    ("local_response_norm_rank", "local_response_norm", (z(2, 3), 2), {}),
    ("local_response_norm_size_0", "local_response_norm", (z(2, 3, 4), 0), {}),
    ("interpolate_size_and_scale", "interpolate", (z(2, 3, 5, 5),), {"size": 3, "scale_factor": 2.0}),
    ("interpolate_neither", "interpolate", (z(2, 3, 5, 5),), {}),
    ("interpolate_nearest_align", "interpolate", (z(2, 3, 5, 5),), {"size": 3, "align_corners": True}),
    ("interpolate_three_sizes", "interpolate", (z(2, 3, 5, 5),), {"size": (3, 3, 3)}),
    ("interpolate_linear_4d", "interpolate", (z(2, 3, 5, 5),), {"size": 3, "mode": "linear"}),
    ("interpolate_bilinear_3d", "interpolate", (z(2, 3, 5),), {"size": 3, "mode": "bilinear"}),
    ("interpolate_1d_input", "interpolate", (z(5),), {"size": 3}),
    ("interpolate_scale_to_0", "interpolate", (z(2, 3, 5, 5),), {"scale_factor": 0.1}),
    ("interpolate_size_0", "interpolate", (z(2, 3, 5, 5),), {"size": 0}),
    ("unfold_rank", "unfold", (z(2, 3), 2), {}),
    ("unfold_kernel_too_big", "unfold", (z(1, 3, 4, 4), 5), {}),
    ("unfold_three_kernel_sizes", "unfold", (z(1, 3, 4, 4), (2, 2, 2)), {}),
    ("unfold_stride_0", "unfold", (z(1, 3, 4, 4), 2), {"stride": 0}),
    ("unfold_kernel_0", "unfold", (z(1, 3, 4, 4), 0), {}),
    ("fold_channels", "fold", (z(1, 11, 9), (4, 4), 2), {}),
    ("fold_blocks", "fold", (z(1, 12, 8), (4, 4), 2), {}),
    ("fold_rank", "fold", (z(12), (4, 4), 2), {}),
    ("fold_three_sizes", "fold", (z(1, 12, 9), (4, 4, 4), 2), {}),
    ("fold_kernel_too_big", "fold", (z(1, 12, 1), (1, 1), 2), {}),
    ("adaptive_max_pool2d_empty", "adaptive_max_pool2d", (z(2, 3, 5, 0), 2), {}),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m[0])
def test_rules_refuse_what_torch_refuses(mistake):
    _, name, args, kwargs = mistake
    function = getattr(F, name, None) or getattr(torch, name)
    with pytest.raises(Exception) as theirs:
        function(*args, **kwargs)
    with pytest.raises(Exception) as ours:
        predict(name, args, kwargs)
    assert builtin_class(ours.value) is builtin_class(theirs.value), f"{ours.value!r} vs torch {theirs.value!r}"
    assert ours.value.__class__.__module__.startswith("gradwire.rules"), repr(ours.value)


def _random_call(rng: np.random.Generator):
    """A random call of a window op (convolution, pooling, unfold, interpolate): often valid, often not."""
    kind = rng.choice(["conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "max_pool1d", "unfold",
                       "adaptive_avg_pool2d", "interpolate"])
    rank = int(rng.integers(2, 6))
    x = z(*(int(n) for n in rng.integers(0 if rng.random() < 0.1 else 1, 7, rank)))
    small = lambda: int(rng.integers(0, 4))  # noqa: E731
    if kind.startswith("conv"):
        d = 1 if kind == "conv1d" else 2
        groups = int(rng.choice([1, 1, 2, 3]))
        w = z(*(int(n) for n in rng.integers(1, 5, d + 2 if rng.random() < 0.9 else d + 1)))
        kwargs = {"stride": small() or 1, "padding": small() if rng.random() < 0.8 else "same",
                  "dilation": small() or 1, "groups": groups}
        if kind == "conv_transpose2d":
            # torch's grouped and empty-batch transposed kernels skip some of its own checks (an output of size
            # 0, output_padding): the rules keep the checks, so those calls are left out here
            x = z(*((max(x.shape[0], 1),) + tuple(x.shape[1:])))
            kwargs = {"stride": small() or 1, "padding": small(), "output_padding": small() % 2, "groups": 1}
        return kind, (x, w), kwargs
    if kind == "unfold":
        return kind, (x, int(rng.integers(0, 4))), {"stride": small() or 1, "padding": small(), "dilation": small() or 1}
    if kind == "adaptive_avg_pool2d":
        return kind, (x, int(rng.integers(0, 4))), {}
    if kind == "interpolate":
        return kind, (x,), {"size": int(rng.integers(0, 5))}
    kwargs = {"stride": small() or None, "padding": small(), "ceil_mode": bool(rng.random() < 0.3)}
    if kind.startswith("max"):
        kwargs["dilation"] = small() or 1
    return kind, (x, int(rng.integers(0, 4))), kwargs


def _shown(args) -> list:
    return [tuple(a.shape) if hasattr(a, "shape") else a for a in args]


def test_window_rules_agree_with_torch_on_random_calls():
    """Random geometries: the rules accept exactly what torch accepts, with its shape, else raise its class."""
    rng = np.random.default_rng(20261201)
    checked = 0
    for _ in range(400):
        name, args, kwargs = _random_call(rng)
        function = getattr(F, name)
        try:
            expected = tuple(function(*args, **kwargs).shape)
        except Exception as error:  # noqa: BLE001  (torch's refusal is what is compared)
            with pytest.raises(Exception) as ours:
                predict(name, args, kwargs)
            assert builtin_class(ours.value) is builtin_class(error), \
                f"{name}{kwargs} {_shown(args)}: {ours.value!r} vs torch {error!r}"
            continue
        if name == "conv_transpose2d" and 0 in expected[-2:]:
            continue  # torch gives an empty output on some CPU paths (float32) and refuses it on others (float64)
        try:
            shape, _ = predict(name, args, kwargs)
        except Exception as error:  # noqa: BLE001
            raise AssertionError(f"{name}{kwargs} {_shown(args)}: torch gives {expected}, the rules raise "
                                 f"{error!r}") from None
        assert tuple(shape) == expected, f"{name}{kwargs}: rules {shape}, torch {expected}"
        checked += 1
    assert checked > 50  # enough valid calls among the random ones to mean something


def _random_loss_or_norm_call(rng: np.random.Generator):
    """A random call of a loss, normalisation, linear or embedding op: often valid, often not. Optional
    tensor operands are never 0-d here (a rule's shape list cannot tell a 0-d operand from an absent one;
    the dtype rules check those)."""

    def shape(low=1, high=4, min_rank=0, max_rank=4):
        return tuple(int(n) for n in rng.integers(low, high, int(rng.integers(min_rank, max_rank))))

    def pick(*options):
        return options[int(rng.integers(len(options)))]

    def given(size):  # an optional operand: never 0-d
        return z(*(size or (2,)))

    def indices(size):
        return torch.zeros(size, dtype=pick(torch.int64, torch.int64, torch.int32, torch.float32))

    a = shape()
    b = shape() if rng.random() < 0.5 else a
    reduction = {"reduction": pick("mean", "sum", "none")}
    kind = pick("linear", "bilinear", "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                "kl_div", "margin_ranking_loss", "cross_entropy", "nll_loss", "layer_norm", "batch_norm", "group_norm",
                "instance_norm", "embedding", "pixel_shuffle", "normalize", "cosine_similarity", "pairwise_distance",
                "triplet_margin_loss", "cosine_embedding_loss", "local_response_norm")
    if kind == "linear":
        return kind, (z(*a), z(*shape(max_rank=3))), ({"bias": given(shape(max_rank=3))} if rng.random() < 0.5 else {})
    if kind == "bilinear":
        return kind, (z(*a), z(*b), z(*shape(min_rank=2))), {}
    if kind in ("mse_loss", "l1_loss", "kl_div"):
        return kind, (z(*a), z(*b)), reduction
    if kind.startswith("binary"):
        extra = {("weight" if kind == "binary_cross_entropy" else "pos_weight"): given(shape())} if rng.random() < 0.3 else {}
        return kind, (z(*a), z(*b)), {**reduction, **extra}
    if kind == "margin_ranking_loss":
        return kind, (z(*a), z(*b), z(*pick(a, b, shape()))), reduction
    if kind in ("cross_entropy", "nll_loss"):
        x = shape(min_rank=1, max_rank=5)
        target = pick(x[:1] + x[2:], x, shape())
        kwargs = dict(reduction)
        if rng.random() < 0.3:
            kwargs["weight"] = given(pick((x[1] if len(x) > 1 else x[0],), shape()))
        return kind, (z(*x), z(*target) if rng.random() < 0.3 else indices(target)), kwargs
    if kind == "layer_norm":
        normalized = a[len(a) // 2:] if rng.random() < 0.7 else shape(max_rank=3)
        return kind, (z(*a), normalized), ({"weight": given(shape())} if rng.random() < 0.3 else {})
    if kind == "batch_norm":
        x = shape(min_rank=2, max_rank=5)
        stats = pick(None, z(x[1]), given(shape(max_rank=2)))
        weight = pick(None, z(x[1]), given(shape(max_rank=2)))
        kwargs = {"training": bool(rng.random() < 0.5), **({"weight": weight} if weight is not None else {})}
        return kind, (z(*x), stats, None if stats is None else z(*stats.shape)), kwargs
    if kind == "group_norm":
        return kind, (z(*a), int(rng.integers(1, 4))), ({"weight": given(shape())} if rng.random() < 0.3 else {})
    if kind == "instance_norm":
        return kind, (z(*a),), {"use_input_stats": bool(rng.random() < 0.7)}
    if kind == "embedding":
        return kind, (indices(a), z(*shape(min_rank=1))), {}
    if kind == "pixel_shuffle":
        return pick("pixel_shuffle", "pixel_unshuffle"), (z(*shape(max_rank=5)), int(rng.integers(0, 3))), {}
    if kind == "normalize":
        return kind, (z(*a),), {"dim": int(rng.integers(-3, 3))}
    if kind == "cosine_similarity":
        return kind, (z(*a), z(*b)), {"dim": int(rng.integers(-3, 3))}
    if kind == "pairwise_distance":
        return kind, (z(*(a or (2,))), z(*(b or (2,)))), {"keepdim": bool(rng.random() < 0.5)}
    if kind == "triplet_margin_loss":
        return kind, (z(*a), z(*b), z(*pick(a, b))), reduction
    if kind == "cosine_embedding_loss":
        return kind, (z(*a), z(*b), z(*shape(max_rank=2))), reduction
    return kind, (z(*a), int(rng.integers(0, 3))), {}


def test_loss_and_norm_rules_agree_with_torch_on_random_calls():
    rng = np.random.default_rng(20261202)
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about broadcast targets and kl_div's 'mean'
        for _ in range(600):
            name, args, kwargs = _random_loss_or_norm_call(rng)
            try:
                result = getattr(F, name)(*args, **kwargs)
            except Exception as error:  # noqa: BLE001  (torch's refusal is what is compared)
                with pytest.raises(Exception) as ours:
                    predict(name, args, kwargs)
                assert builtin_class(ours.value) is builtin_class(error), \
                    f"{name}{kwargs} {_shown(args)}: {ours.value!r} vs torch {error!r}"
                continue
            try:
                shape, _ = predict(name, args, kwargs)
            except Exception as error:  # noqa: BLE001
                raise AssertionError(f"{name} {_shown(args)}: torch accepts it, the rules raise {error!r}") from None
            assert tuple(shape) == tuple(result.shape), f"{name} {_shown(args)}: rules {shape}, torch {result.shape}"
            checked += 1
    assert checked > 100
