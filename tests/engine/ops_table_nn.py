"""Op-table rows for torch.nn.functional: linear layers, losses, convolution, pooling, normalisation,
dropout, embedding and the rest (included in ops_table.ROWS)."""

from __future__ import annotations

import numpy as np

from ops_table import away_from_zero, fixed, inputs, normal, positive, row


def F(m):
    return m.nn.functional


def ints(low, high, shape):
    return lambda rng: rng.integers(low, high, shape).astype(np.int64)


def uniform(low, high, shape):
    return lambda rng: rng.uniform(low, high, shape)


def signs(shape):
    return lambda rng: rng.choice([-1.0, 1.0], shape)


def constants(**options):
    """Rows whose program detaches some float inputs (class weights, targets torch does not
    differentiate): central differences would see those inputs, autograd does not."""
    return dict(finite_differences=False, **options)


# ---------------------------------------------------------------- linear, bilinear
row("linear", "2d_bias", inputs(normal((4, 3)), normal((5, 3)), normal((5,))), lambda m, x, w, b: F(m).linear(x, w, b))
row("linear", "2d_no_bias", inputs(normal((4, 3)), normal((5, 3))), lambda m, x, w: F(m).linear(x, w))
row("linear", "3d_bias_keyword", inputs(normal((2, 4, 3)), normal((5, 3)), normal((5,))),
    lambda m, x, w, b: F(m).linear(x, w, bias=b))
row("linear", "3d_no_bias", inputs(normal((2, 4, 3)), normal((5, 3))), lambda m, x, w: F(m).linear(x, w, None))
row("linear", "1d_bias", inputs(normal((3,)), normal((5, 3)), normal((5,))), lambda m, x, w, b: F(m).linear(x, w, b))
row("linear", "1d_weight", inputs(normal((4, 3)), normal((3,))), lambda m, x, w: F(m).linear(x, w))
row("linear", "empty_batch", inputs(normal((0, 3)), normal((5, 3)), normal((5,))), lambda m, x, w, b: F(m).linear(x, w, b))
row("bilinear", "bias", inputs(normal((4, 3)), normal((4, 2)), normal((5, 3, 2)), normal((5,))),
    lambda m, a, b, w, bias: F(m).bilinear(a, b, w, bias))
row("bilinear", "3d_no_bias", inputs(normal((2, 4, 3)), normal((2, 4, 2)), normal((5, 3, 2))),
    lambda m, a, b, w: F(m).bilinear(a, b, w))

# ---------------------------------------------------------------- elementwise losses
REDUCTIONS = ("mean", "sum", "none")
for reduction in REDUCTIONS:
    row("mse_loss", reduction, inputs(normal((3, 4)), normal((3, 4))),
        lambda m, x, t, r=reduction: F(m).mse_loss(x, t, reduction=r))
    row("l1_loss", reduction, inputs(normal((3, 4)), normal((3, 4))),
        lambda m, x, t, r=reduction: F(m).l1_loss(x, t, reduction=r))
    row("smooth_l1_loss", reduction, inputs(normal((3, 4)), normal((3, 4))),
        lambda m, x, t, r=reduction: F(m).smooth_l1_loss(x, t, reduction=r, beta=0.7))
    row("huber_loss", reduction, inputs(normal((3, 4)), normal((3, 4))),
        lambda m, x, t, r=reduction: F(m).huber_loss(x, t, reduction=r, delta=0.8))
    row("soft_margin_loss", reduction, inputs(normal((3, 4)), signs((3, 4))),
        lambda m, x, t, r=reduction: F(m).soft_margin_loss(x, t.detach(), reduction=r), **constants())
    row("binary_cross_entropy", reduction, inputs(uniform(0.05, 0.95, (3, 4)), uniform(0, 1, (3, 4))),
        lambda m, x, t, r=reduction: F(m).binary_cross_entropy(x, t, reduction=r))
    row("binary_cross_entropy_with_logits", reduction, inputs(normal((3, 4)), uniform(0, 1, (3, 4))),
        lambda m, x, t, r=reduction: F(m).binary_cross_entropy_with_logits(x, t, reduction=r))
    row("kl_div", reduction, inputs(normal((3, 4)), uniform(0.1, 1, (3, 4))),
        lambda m, x, t, r=reduction: F(m).kl_div(x, t, reduction=r))
    row("poisson_nll_loss", reduction, inputs(normal((3, 4)), uniform(0, 3, (3, 4))),
        lambda m, x, t, r=reduction: F(m).poisson_nll_loss(x, t, reduction=r))
    row("margin_ranking_loss", reduction, inputs(normal((6,)), normal((6,)), signs((6,))),
        lambda m, a, b, t, r=reduction: F(m).margin_ranking_loss(a, b, t, margin=0.1, reduction=r))
    row("hinge_embedding_loss", reduction, inputs(normal((3, 4)), signs((3, 4))),
        lambda m, x, t, r=reduction: F(m).hinge_embedding_loss(x, t.detach(), margin=0.5, reduction=r), **constants())
row("mse_loss", "broadcast_target", inputs(normal((3, 4)), normal((4,))), lambda m, x, t: F(m).mse_loss(x, t))
row("mse_loss", "0d", inputs(normal(()), normal(())), lambda m, x, t: F(m).mse_loss(x, t))
row("mse_loss", "empty_sum", inputs(normal((0, 3)), normal((0, 3))), lambda m, x, t: F(m).mse_loss(x, t, reduction="sum"))
row("smooth_l1_loss", "beta_0", inputs(normal((3, 4)), normal((3, 4))),
    lambda m, x, t: F(m).smooth_l1_loss(x, t, beta=0.0))
row("binary_cross_entropy", "weight", inputs(uniform(0.05, 0.95, (3, 4)), uniform(0, 1, (3, 4)), positive((4,))),
    lambda m, x, t, w: F(m).binary_cross_entropy(x, t, weight=w.detach()), **constants())
row("binary_cross_entropy_with_logits", "weight_pos_weight",
    inputs(normal((3, 4)), uniform(0, 1, (3, 4)), positive((4,)), positive((4,))),
    lambda m, x, t, w, p: F(m).binary_cross_entropy_with_logits(x, t, w.detach(), pos_weight=p.detach()), **constants())
row("binary_cross_entropy_with_logits", "pos_weight_sum",
    inputs(normal((3, 4)), uniform(0, 1, (3, 4)), positive((4,))),
    lambda m, x, t, p: F(m).binary_cross_entropy_with_logits(x, t, pos_weight=p.detach(), reduction="sum"), **constants())
row("kl_div", "log_target_batchmean", inputs(normal((3, 4)), normal((3, 4))),
    lambda m, x, t: F(m).kl_div(x, t, reduction="batchmean", log_target=True))
row("poisson_nll_loss", "rate_full", inputs(uniform(0.5, 2, (3, 4)), uniform(0, 4, (3, 4))),
    lambda m, x, t: F(m).poisson_nll_loss(x, t, log_input=False, full=True))


# an integer target: torch promotes it with the input (mixed float dtypes: tests/torchlike/test_loss_dtypes.py)
row("mse_loss", "int_target", inputs(normal((3, 4)), ints(-2, 3, (3, 4))), lambda m, x, t: F(m).mse_loss(x, t))
row("l1_loss", "int_target_none", inputs(normal((3, 4)), ints(-2, 3, (3, 4))),
    lambda m, x, t: F(m).l1_loss(x, t, reduction="none"))

# ---------------------------------------------------------------- cross_entropy, nll_loss
for reduction in REDUCTIONS:
    row("cross_entropy", f"indices_{reduction}", inputs(normal((5, 4)), ints(0, 4, (5,))),
        lambda m, x, t, r=reduction: F(m).cross_entropy(x, t, reduction=r))
    row("cross_entropy", f"probabilities_{reduction}", inputs(normal((5, 4)), uniform(0, 1, (5, 4))),
        lambda m, x, t, r=reduction: F(m).cross_entropy(x, t.softmax(1), reduction=r))
    row("cross_entropy", f"weight_ignore_smoothing_{reduction}",
        inputs(normal((6, 4)), fixed(np.array([0, 3, -100, 1, 2, 3])), positive((4,))),
        lambda m, x, t, w, r=reduction: F(m).cross_entropy(x, t, weight=w.detach(), reduction=r,
                                                           label_smoothing=0.2), **constants())
    row("cross_entropy", f"kdim_{reduction}", inputs(normal((2, 3, 4, 2)), ints(0, 3, (2, 4, 2))),
        lambda m, x, t, r=reduction: F(m).cross_entropy(x, t, reduction=r))
    row("nll_loss", reduction, inputs(normal((5, 4)), ints(0, 4, (5,))),
        lambda m, x, t, r=reduction: F(m).nll_loss(x, t, reduction=r))
row("cross_entropy", "weight_ignore_index", inputs(normal((6, 4)), fixed(np.array([0, 3, 2, 1, 2, 3])), positive((4,))),
    lambda m, x, t, w: F(m).cross_entropy(x, t, w.detach(), ignore_index=3), **constants())
row("cross_entropy", "1d_input", inputs(normal((4,)), fixed(np.array(2))), lambda m, x, t: F(m).cross_entropy(x, t))
row("cross_entropy", "3d_input", inputs(normal((2, 3, 4)), ints(0, 3, (2, 4))), lambda m, x, t: F(m).cross_entropy(x, t))
row("cross_entropy", "probabilities_weight_smoothing", inputs(normal((5, 4)), uniform(0, 1, (5, 4)), positive((4,))),
    lambda m, x, t, w: F(m).cross_entropy(x, t, weight=w.detach(), label_smoothing=0.1), **constants())
row("nll_loss", "weight_ignore_kdim", inputs(normal((2, 3, 4)), fixed(np.array([[0, 2, 1, 1], [2, 0, -1, 1]])), positive((3,))),
    lambda m, x, t, w: F(m).nll_loss(x, t, weight=w.detach(), ignore_index=-1), **constants())

# ---------------------------------------------------------------- convolutions
row("conv2d", "bias_stride_padding", inputs(normal((2, 2, 5, 4)), normal((3, 2, 3, 2)), normal((3,))),
    lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2, padding=1))
row("conv2d", "no_bias_groups_dilation", inputs(normal((1, 4, 5, 5)), normal((2, 2, 2, 2))),
    lambda m, x, w: F(m).conv2d(x, w, groups=2, dilation=(2, 1)))
row("conv2d", "same_padding", inputs(normal((1, 2, 4, 4)), normal((2, 2, 3, 2)), normal((2,))),
    lambda m, x, w, b: m.conv2d(x, w, b, padding="same"))
row("conv2d", "valid_unbatched", inputs(normal((2, 4, 4)), normal((2, 2, 3, 3))),
    lambda m, x, w: F(m).conv2d(x, w, padding="valid"))
row("conv1d", "stride_padding_bias", inputs(normal((2, 3, 7)), normal((4, 3, 3)), normal((4,))),
    lambda m, x, w, b: F(m).conv1d(x, w, bias=b, stride=2, padding=1))
row("conv1d", "groups", inputs(normal((2, 4, 6)), normal((2, 2, 2))), lambda m, x, w: m.conv1d(x, w, None, 1, 0, 1, 2))
row("conv3d", "stride", inputs(normal((1, 2, 3, 4, 3)), normal((2, 2, 2, 2, 2)), normal((2,))),
    lambda m, x, w, b: F(m).conv3d(x, w, b, stride=(1, 2, 1)))
row("conv_transpose1d", "stride_output_padding", inputs(normal((2, 3, 4)), normal((3, 2, 3)), normal((2,))),
    lambda m, x, w, b: F(m).conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1))
row("conv_transpose2d", "bias_stride", inputs(normal((1, 2, 3, 3)), normal((2, 3, 2, 2)), normal((3,))),
    lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=2))
row("conv_transpose2d", "groups_dilation_unbatched", inputs(normal((4, 3, 2)), normal((4, 1, 2, 2))),
    lambda m, x, w: m.conv_transpose2d(x, w, groups=2, dilation=2))
row("conv_transpose3d", "no_bias", inputs(normal((1, 2, 2, 2, 2)), normal((2, 1, 2, 1, 2))),
    lambda m, x, w: F(m).conv_transpose3d(x, w, stride=2))


def _internal_conv(m, op, a, b, **attrs):
    return m.apply(op, [a, b], attrs)


_GEOMETRY = dict(stride=(2, 1), padding=(1, 0, 0, 1), dilation=(1, 2), groups=1)
row("convolution_nd", "asymmetric_padding", inputs(normal((2, 2, 5, 5)), normal((3, 2, 2, 2))),
    lambda m, x, w: _internal_conv(m, "convolution_nd", x, w, **_GEOMETRY),
    torch_program=lambda m, x, w: m.nn.functional.conv2d(m.nn.functional.pad(x, (0, 1, 1, 0)), w,
                                                         stride=(2, 1), dilation=(1, 2)),
    compare_grad_fn=False)
row("convolution_input_grad", "conv2d_input", inputs(normal((2, 3, 3, 3)), normal((3, 2, 2, 2))),
    lambda m, g, w: _internal_conv(m, "convolution_input_grad", g, w, input_size=(5, 5), stride=(2, 2),
                                   padding=(1, 1, 1, 1), dilation=(1, 1), groups=1),
    torch_program=lambda m, g, w: m.nn.grad.conv2d_input((2, 2, 5, 5), w, g, stride=2, padding=1),
    compare_grad_fn=False)
row("convolution_weight_grad", "conv2d_weight", inputs(normal((2, 2, 5, 5)), normal((2, 3, 3, 3))),
    lambda m, x, g: _internal_conv(m, "convolution_weight_grad", x, g, weight_size=(3, 2, 2, 2), stride=(2, 2),
                                   padding=(1, 1, 1, 1), dilation=(1, 1), groups=1),
    torch_program=lambda m, x, g: m.nn.grad.conv2d_weight(x, (3, 2, 2, 2), g, stride=2, padding=1),
    compare_grad_fn=False)

# ---------------------------------------------------------------- normalisation
row("layer_norm", "affine", inputs(normal((3, 4, 5)), normal((4, 5)), normal((4, 5))),
    lambda m, x, w, b: F(m).layer_norm(x, (4, 5), w, b))
row("layer_norm", "plain_int_shape", inputs(normal((3, 5))), lambda m, x: m.layer_norm(x, [5], eps=1e-3))
row("layer_norm", "weight_only", inputs(normal((2, 6)), normal((6,))), lambda m, x, w: F(m).layer_norm(x, (6,), weight=w))


def _batch_norm_training(m, x, w, b, rm, rv):
    rm, rv = rm.detach().clone(), rv.detach().clone()
    y = F(m).batch_norm(x, rm, rv, w, b, training=True, momentum=0.3)
    return y, rm * 1, rv * 1  # the updated running statistics are compared too


def _batch_norm_eval(m, x, w, b, rm, rv):
    return F(m).batch_norm(x, rm.detach(), rv.detach().abs() + 0.5, weight=w, bias=b)


row("batch_norm", "training_running_stats",
    inputs(normal((4, 3, 2)), normal((3,)), normal((3,)), normal((3,)), positive((3,))), _batch_norm_training,
    **constants())
row("batch_norm", "eval", inputs(normal((4, 3, 2, 2)), normal((3,)), normal((3,)), normal((3,)), positive((3,))),
    _batch_norm_eval, **constants())
row("batch_norm", "training_no_stats_no_affine", inputs(normal((5, 2))),
    lambda m, x: F(m).batch_norm(x, None, None, training=True))
row("group_norm", "affine", inputs(normal((2, 4, 3)), normal((4,)), normal((4,))),
    lambda m, x, w, b: F(m).group_norm(x, 2, w, b))
row("group_norm", "plain_4d", inputs(normal((2, 6, 2, 2))), lambda m, x: m.group_norm(x, 3))
row("instance_norm", "affine", inputs(normal((2, 3, 4)), normal((3,)), normal((3,))),
    lambda m, x, w, b: F(m).instance_norm(x, weight=w, bias=b))


def _instance_running(m, x, rm, rv):
    rm, rv = rm.detach().clone(), rv.detach().clone()
    return F(m).instance_norm(x, rm, rv, momentum=0.2), rm * 1, rv * 1


row("instance_norm", "running_stats", inputs(normal((2, 3, 2, 3)), normal((3,)), positive((3,))), _instance_running,
    **constants())

# ---------------------------------------------------------------- dropout (random masks: see test_nn_dropout.py)
for name in ("dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"):
    shape = {"dropout3d": (2, 3, 2, 2, 2), "dropout1d": (2, 3, 4)}.get(name, (2, 3, 2, 2))
    row(name, "eval_is_identity", inputs(normal(shape)),
        lambda m, x, n=name: getattr(F(m), n)(x * 2, p=0.3, training=False), compare_grad_fn=False)
    row(name, "p_1_zeroes", inputs(normal(shape)),
        lambda m, x, n=name: getattr(F(m), n)(x, 1.0, True))
row("dropout", "torch_dropout_train_keyword", inputs(normal((3, 4))), lambda m, x: m.dropout(x, 0.2, train=False),
    compare_grad_fn=False)

# ---------------------------------------------------------------- pooling
def distinct(shape):
    """A permutation of well-separated values: no ties, so max pooling is smooth there."""
    return lambda rng: rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)


row("max_pool2d", "kernel_2", inputs(distinct((2, 2, 4, 4))), lambda m, x: F(m).max_pool2d(x, 2))
row("max_pool2d", "stride_padding_dilation_ceil", inputs(distinct((1, 2, 5, 6))),
    lambda m, x: F(m).max_pool2d(x, (3, 2), stride=2, padding=1, dilation=(1, 2), ceil_mode=True))
row("max_pool2d", "overlapping_unbatched", inputs(distinct((2, 5, 5))), lambda m, x: m.max_pool2d(x, 3, 1))
row("max_pool2d_with_indices", "return_indices", inputs(distinct((2, 2, 5, 5))),
    lambda m, x: F(m).max_pool2d(x, 2, 2, 1, return_indices=True))
row("max_pool2d_with_indices", "direct", inputs(distinct((1, 3, 4, 4))),
    lambda m, x: F(m).max_pool2d_with_indices(x, 3, 1, ceil_mode=True))
row("max_pool1d", "stride_padding", inputs(distinct((2, 3, 7))), lambda m, x: F(m).max_pool1d(x, 3, 2, 1))
row("max_pool1d_with_indices", "return_indices_ceil", inputs(distinct((2, 3, 8))),
    lambda m, x: F(m).max_pool1d(x, 3, stride=2, ceil_mode=True, return_indices=True))
row("avg_pool2d", "kernel_2", inputs(normal((2, 2, 4, 4))), lambda m, x: F(m).avg_pool2d(x, 2))
row("avg_pool2d", "padding_exclude_ceil", inputs(normal((1, 2, 5, 6))),
    lambda m, x: F(m).avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))
row("avg_pool2d", "padding_include_ceil", inputs(normal((1, 2, 5, 6))),
    lambda m, x: F(m).avg_pool2d(x, (3, 2), stride=2, padding=1, ceil_mode=True))
row("avg_pool2d", "divisor_override_unbatched", inputs(normal((2, 4, 4))),
    lambda m, x: m.nn.functional.avg_pool2d(x, 2, 1, divisor_override=3))
row("avg_pool1d", "stride_padding", inputs(normal((2, 3, 7))), lambda m, x: F(m).avg_pool1d(x, 3, 2, 1))
row("avg_pool1d", "exclude_pad_ceil", inputs(normal((2, 3, 8))),
    lambda m, x: m.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False))


def _scatter_torch(m, g, x):
    # torch's spelling of max_pool_scatter: the gradient of max_pool2d at the argmax positions
    _, indices = m.nn.functional.max_pool2d(x.detach(), 2, return_indices=True)
    return m.nn.functional.max_unpool2d(g, indices, 2, output_size=x.shape[-2:])


def _scatter_ours(m, g, x):
    _, indices = m.nn.functional.max_pool2d(x.detach(), 2, return_indices=True)
    return m.apply("max_pool_scatter", [g, indices], {"input_size": (4, 4)})


row("max_pool_scatter", "unpool", inputs(normal((1, 2, 2, 2)), distinct((1, 2, 4, 4))), _scatter_ours,
    torch_program=_scatter_torch, compare_grad_fn=False, finite_differences=False)


def _gather(m, h, x):
    _, indices = m.nn.functional.max_pool2d(x.detach(), 2, return_indices=True)
    if hasattr(m, "apply"):
        return m.apply("max_pool_gather", [h, indices], {"input_size": (4, 4)})
    return h.flatten(2).gather(2, indices.flatten(2)).view(indices.shape)


row("max_pool_gather", "pick", inputs(normal((1, 2, 4, 4)), distinct((1, 2, 4, 4))), _gather, compare_grad_fn=False,
    finite_differences=False)
row("adaptive_avg_pool2d", "uneven", inputs(normal((2, 2, 5, 7))), lambda m, x: F(m).adaptive_avg_pool2d(x, (3, 4)))
row("adaptive_avg_pool2d", "global_unbatched", inputs(normal((3, 4, 4))), lambda m, x: F(m).adaptive_avg_pool2d(x, 1))
row("adaptive_avg_pool2d", "upsampling_size", inputs(normal((1, 2, 3, 2))), lambda m, x: F(m).adaptive_avg_pool2d(x, 4))
row("adaptive_avg_pool1d", "uneven", inputs(normal((2, 3, 7))), lambda m, x: F(m).adaptive_avg_pool1d(x, 3))
row("adaptive_max_pool2d", "uneven", inputs(distinct((2, 2, 5, 7))), lambda m, x: F(m).adaptive_max_pool2d(x, (3, 4)))
row("adaptive_max_pool2d_with_indices", "return_indices", inputs(distinct((1, 2, 6, 5))),
    lambda m, x: F(m).adaptive_max_pool2d(x, 3, return_indices=True))
row("adaptive_max_pool1d", "uneven", inputs(distinct((2, 3, 7))), lambda m, x: F(m).adaptive_max_pool1d(x, 3))
row("adaptive_max_pool1d_with_indices", "return_indices", inputs(distinct((2, 3, 8))),
    lambda m, x: F(m).adaptive_max_pool1d(x, 3, True))
# integer inputs: max pooling keeps any integer dtype, average pooling int64 (each sum divided toward zero)
row("max_pool2d", "int64_padding", inputs(ints(-50, 50, (2, 2, 5, 6))), lambda m, x: F(m).max_pool2d(x, 3, 2, 1))
row("max_pool2d", "int32_ceil", inputs(ints(-50, 50, (1, 2, 5, 5))),
    lambda m, x: F(m).max_pool2d(x.int(), 2, ceil_mode=True))
row("max_pool2d_with_indices", "uint8", inputs(ints(0, 250, (1, 2, 4, 6))),
    lambda m, x: F(m).max_pool2d(x.to(m.uint8), 2, return_indices=True))
row("max_pool1d_with_indices", "int16", inputs(ints(-50, 50, (2, 3, 7))),
    lambda m, x: F(m).max_pool1d(x.short(), 3, 2, 1, return_indices=True))
row("avg_pool2d", "int64_padding", inputs(ints(-50, 50, (2, 2, 5, 6))), lambda m, x: F(m).avg_pool2d(x, 3, 2, 1))
row("avg_pool2d", "int64_exclude_pad", inputs(ints(-50, 50, (1, 2, 5, 5))),
    lambda m, x: F(m).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False))
row("avg_pool2d", "int64_divisor", inputs(ints(-50, 50, (1, 2, 4, 4))),
    lambda m, x: F(m).avg_pool2d(x, 2, divisor_override=3))
row("avg_pool1d", "int64_exclude_pad", inputs(ints(-50, 50, (2, 3, 7))),
    lambda m, x: F(m).avg_pool1d(x, 3, 2, 1, count_include_pad=False))

# ---------------------------------------------------------------- embedding, one_hot, pixel shuffle, composites
row("embedding", "lookup", inputs(ints(0, 5, (2, 3)), normal((5, 4))), lambda m, i, w: F(m).embedding(i, w))
row("embedding", "padding_idx_repeats", inputs(fixed(np.array([[0, 2, 2], [4, 0, 1]])), normal((5, 3))),
    lambda m, i, w: F(m).embedding(i, w, padding_idx=2), finite_differences=False)  # torch's defined gradient
row("embedding", "scale_grad_by_freq", inputs(fixed(np.array([1, 3, 1, 1, 0])), normal((4, 2))),
    lambda m, i, w: F(m).embedding(i, w, scale_grad_by_freq=True), finite_differences=False)
row("embedding", "max_norm", inputs(fixed(np.array([[0, 1], [3, 1]])), normal((4, 3))),
    lambda m, i, w: F(m).embedding(i, w.detach() * 3, max_norm=1.0) * 1, **constants())


def _embedding_backward_torch(m, g, i):
    weight = m.zeros(5, 3, dtype=g.dtype, requires_grad=True)
    (grad,) = m.autograd.grad(m.nn.functional.embedding(i, weight, padding_idx=1), weight, g, create_graph=True)
    return grad


row("embedding_dense_backward", "with_padding", inputs(normal((2, 3, 3)), fixed(np.array([[0, 1, 4], [4, 4, 2]]))),
    lambda m, g, i: m.apply("embedding_dense_backward", [g, i], {"num_weights": 5, "padding_idx": 1}),
    torch_program=_embedding_backward_torch, compare_grad_fn=False)
row("one_hot", "inferred_classes", inputs(fixed(np.array([[0, 3], [1, 1]]))), lambda m, i: F(m).one_hot(i))
row("one_hot", "num_classes", inputs(fixed(np.array([2, 0, 1]))), lambda m, i: F(m).one_hot(i, num_classes=5))
row("pixel_shuffle", "factor_2", inputs(normal((2, 8, 2, 3))), lambda m, x: F(m).pixel_shuffle(x, 2))
row("pixel_shuffle", "unbatched", inputs(normal((9, 2, 2))), lambda m, x: m.pixel_shuffle(x, 3))
row("pixel_unshuffle", "factor_2", inputs(normal((2, 2, 4, 6))), lambda m, x: F(m).pixel_unshuffle(x, 2))
row("normalize", "default", inputs(normal((3, 4))), lambda m, x: F(m).normalize(x))
row("normalize", "p1_dim0", inputs(away_from_zero((3, 4))), lambda m, x: F(m).normalize(x, p=1.0, dim=0))
row("normalize", "p0_counts_nonzeros", inputs(away_from_zero((3, 4))), lambda m, x: F(m).normalize(x, p=0.0),
    finite_differences=False)
row("cosine_similarity", "dim1", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: F(m).cosine_similarity(a, b))
row("cosine_similarity", "broadcast_dim0", inputs(normal((4, 3)), normal((4, 1))),
    lambda m, a, b: m.cosine_similarity(a, b, dim=0))
row("pairwise_distance", "p2", inputs(normal((3, 4)), normal((3, 4))), lambda m, a, b: F(m).pairwise_distance(a, b))
row("pairwise_distance", "p3_keepdim", inputs(normal((3, 4)), normal((3, 4))),
    lambda m, a, b: m.pairwise_distance(a, b, p=3.0, keepdim=True))
for reduction in REDUCTIONS:
    row("triplet_margin_loss", reduction, inputs(normal((4, 3)), normal((4, 3)), normal((4, 3))),
        lambda m, a, p, n, r=reduction: F(m).triplet_margin_loss(a, p, n, margin=1.5, reduction=r))
    row("cosine_embedding_loss", reduction, inputs(normal((4, 3)), normal((4, 3)), signs((4,))),
        lambda m, a, b, t, r=reduction: F(m).cosine_embedding_loss(a, b, t.detach(), margin=-0.2, reduction=r),
        **constants())
row("triplet_margin_loss", "swap_p1", inputs(normal((4, 3)), normal((4, 3)), normal((4, 3))),
    lambda m, a, p, n: F(m).triplet_margin_loss(a, p, n, p=1.0, swap=True))
row("local_response_norm", "size_3", inputs(normal((2, 5, 3))), lambda m, x: F(m).local_response_norm(x, 3))
row("local_response_norm", "size_2_4d", inputs(normal((1, 4, 2, 2))),
    lambda m, x: F(m).local_response_norm(x, 2, alpha=0.1, beta=0.5, k=2.0))

# ---------------------------------------------------------------- interpolate, unfold, fold
row("interpolate", "nearest_scale_2", inputs(normal((1, 2, 3, 2))), lambda m, x: F(m).interpolate(x, scale_factor=2))
row("interpolate", "nearest_size_1d", inputs(normal((2, 2, 5))), lambda m, x: F(m).interpolate(x, size=7))
row("interpolate", "bilinear_size", inputs(normal((1, 2, 3, 4))),
    lambda m, x: F(m).interpolate(x, size=(5, 3), mode="bilinear"))
row("interpolate", "bilinear_align_corners", inputs(normal((1, 1, 3, 3))),
    lambda m, x: F(m).interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True))
row("interpolate", "linear_scale", inputs(normal((2, 1, 4))),
    lambda m, x: F(m).interpolate(x, scale_factor=2.5, mode="linear"))
row("unfold", "stride_padding", inputs(normal((2, 2, 4, 5))),
    lambda m, x: F(m).unfold(x, (2, 3), padding=1, stride=(2, 1)))
row("unfold", "dilation_unbatched", inputs(normal((2, 5, 5))), lambda m, x: F(m).unfold(x, 2, dilation=2))
row("fold", "overlapping", inputs(normal((2, 8, 6))), lambda m, x: F(m).fold(x, (3, 4), 2))
row("fold", "stride_padding", inputs(normal((1, 12, 6))),
    lambda m, x: F(m).fold(x, output_size=(4, 4), kernel_size=(2, 3), padding=1, stride=(2, 3)))
