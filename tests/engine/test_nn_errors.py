"""Bad calls to the torch.nn.functional ops raise the builtin exception class torch raises, with a
message naming what was wrong (engine in-process, and the SDK against a real server)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradwire.engine as gw
from ops_harness import builtin_class, outcome

F = lambda m: m.nn.functional  # noqa: E731

X4 = np.ones((2, 3, 5, 5))
W4 = np.ones((4, 3, 3, 3))
LOGITS = np.ones((4, 3))

CASES = [
    ("linear_shapes", lambda m, x, w: F(m).linear(x, w), [np.ones((2, 3)), np.ones((4, 5))], "linear"),
    ("linear_dtypes", lambda m, x, w: F(m).linear(x, w.float()), [np.ones((2, 3)), np.ones((4, 3))], "dtype"),
    ("conv2d_channels", lambda m, x, w: F(m).conv2d(x, w), [X4, np.ones((4, 2, 3, 3))], "channels"),
    ("conv2d_groups", lambda m, x, w: F(m).conv2d(x, w, groups=2), [X4, W4], "groups"),
    ("conv2d_kernel_too_big", lambda m, x, w: F(m).conv2d(x, w), [np.ones((1, 3, 2, 2)), W4], "small"),
    ("conv2d_same_strided", lambda m, x, w: F(m).conv2d(x, w, stride=2, padding="same"), [X4, W4], "same"),
    ("conv2d_bad_padding_string", lambda m, x, w: F(m).conv2d(x, w, padding="full"), [X4, W4], "padding"),
    ("conv2d_rank", lambda m, x, w: F(m).conv2d(x, w), [np.ones((5, 5)), W4], "input"),
    ("max_pool_padding", lambda m, x: F(m).max_pool2d(x, 2, padding=2), [X4], "pad"),
    ("layer_norm_shape", lambda m, x: F(m).layer_norm(x, (4,)), [X4], "normalized_shape"),
    ("batch_norm_eval_without_stats", lambda m, x: F(m).batch_norm(x, None, None), [X4], "running"),
    ("batch_norm_one_value", lambda m, x: F(m).batch_norm(x, None, None, training=True), [np.ones((1, 3))], "1 value"),
    ("group_norm_groups", lambda m, x: F(m).group_norm(x, 2), [X4], "divisible"),
    ("cross_entropy_bad_reduction", lambda m, x, t: F(m).cross_entropy(x, t, reduction="avg"),
     [LOGITS, np.array([0, 1, 2, 0])], "reduction"),
    ("cross_entropy_target_out_of_range", lambda m, x, t: F(m).cross_entropy(x, t),
     [LOGITS, np.array([0, 1, 5, 0])], "out of bounds"),
    ("cross_entropy_target_shape", lambda m, x, t: F(m).cross_entropy(x, t), [LOGITS, np.array([0, 1])], "target"),
    ("nll_loss_float_target", lambda m, x, t: F(m).nll_loss(x, t), [LOGITS, np.ones(4)], "Long"),
    ("bce_out_of_range", lambda m, x, t: F(m).binary_cross_entropy(x * 2, t), [np.ones((2, 2)), np.ones((2, 2))],
     "between 0 and 1"),
    ("bce_logits_sizes", lambda m, x, t: F(m).binary_cross_entropy_with_logits(x, t), [np.ones((2, 2)), np.ones(2)],
     "size"),
    ("dropout_probability", lambda m, x: F(m).dropout(x, 1.5), [X4], "between 0 and 1"),
    ("dropout1d_rank", lambda m, x: F(m).dropout1d(x, 0.5), [X4], "input"),
    ("embedding_index", lambda m, i, w: F(m).embedding(i, w), [np.array([0, 7]), np.ones((5, 2))], "index"),
    ("one_hot_float", lambda m, i: F(m).one_hot(i), [np.ones(3)], "Long"),
    ("pixel_shuffle_channels", lambda m, x: F(m).pixel_shuffle(x, 2), [X4], "divisible"),
    ("interpolate_both", lambda m, x: F(m).interpolate(x, size=3, scale_factor=2.0), [X4], "size"),
    ("interpolate_nearest_align", lambda m, x: F(m).interpolate(x, size=3, align_corners=True), [X4], "align_corners"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_error_class_matches_torch(case):
    _, program, values, words = case
    theirs = outcome(torch, program, values)
    ours = outcome(gw, program, values)
    assert theirs[0] == "error", f"torch accepted it: {theirs[1]}"
    assert ours[0] == "error", f"gradwire accepted it: {ours[1]}"
    assert builtin_class(ours[1]) is builtin_class(theirs[1]), f"{ours[1]!r} vs torch {theirs[1]!r}"
    assert words.lower() in str(ours[1]).lower(), str(ours[1])
