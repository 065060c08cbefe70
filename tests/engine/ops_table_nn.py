"""Op-table rows for torch.nn.functional: linear layers, losses, convolution, pooling, normalisation,
dropout, embedding and the rest (included in ops_table.ROWS)."""

from __future__ import annotations

import numpy as np

from ops_table import ROWS, fixed, inputs, normal, positive, row

_FIRST = len(ROWS)


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
    lambda m, a, b, w: F(m).bilinear(a, b, w), compare_grad_fn=False)

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

# ---------------------------------------------------------------- cross_entropy, nll_loss
for reduction in REDUCTIONS:
    row("cross_entropy", f"indices_{reduction}", inputs(normal((5, 4)), ints(0, 4, (5,))),
        lambda m, x, t, r=reduction: F(m).cross_entropy(x, t, reduction=r))
    row("cross_entropy", f"probabilities_{reduction}", inputs(normal((5, 4)), uniform(0, 1, (5, 4))),
        lambda m, x, t, r=reduction: F(m).cross_entropy(x, t.softmax(1), reduction=r), compare_grad_fn=False)
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


NN_ROWS = ROWS[_FIRST:]  # this file's rows, which the SDK test runs against a real server
