"""Losses given an input and target (or weights) of different dtypes, on the engine and through the SDK
against a real server, against torch 2.13: the same result dtype and values (or the same builtin error
class), and gradients of torch's dtype and values. torch promotes for most losses, keeps the input's dtype
for soft_margin and hinge_embedding, the target's for binary_cross_entropy_with_logits, and refuses a mix
for huber and binary_cross_entropy. Some steps run in float32 before torch promotes, so values agree to
float32's precision."""

from __future__ import annotations

import numpy as np
import pytest
import torch

LOSSES = {
    "mse": lambda F, a, b: F.mse_loss(a, b),
    "mse_none": lambda F, a, b: F.mse_loss(a, b, reduction="none"),
    "l1": lambda F, a, b: F.l1_loss(a, b, reduction="sum"),
    "smooth_l1": lambda F, a, b: F.smooth_l1_loss(a, b, beta=0.5),
    "smooth_l1_beta0": lambda F, a, b: F.smooth_l1_loss(a, b, beta=0.0),
    "huber": lambda F, a, b: F.huber_loss(a, b),
    "soft_margin": lambda F, a, b: F.soft_margin_loss(a, b.detach()),  # torch refuses a target requiring grad
    "bce": lambda F, a, b: F.binary_cross_entropy(a.sigmoid(), b),
    "bce_weight": lambda F, a, b: F.binary_cross_entropy(a.sigmoid(), (a * 0).detach(), weight=b.detach()),
    "bce_logits": lambda F, a, b: F.binary_cross_entropy_with_logits(a, b),
    "bce_logits_weight": lambda F, a, b: F.binary_cross_entropy_with_logits(a, (a * 0).detach(), weight=b.detach()),
    "bce_logits_pos_weight": lambda F, a, b: F.binary_cross_entropy_with_logits(a, (a * 0).detach(),
                                                                                  pos_weight=b.detach()),
    "kl_div": lambda F, a, b: F.kl_div(a, b, reduction="batchmean"),
    "kl_div_log_target": lambda F, a, b: F.kl_div(a, b, reduction="sum", log_target=True),
    "poisson": lambda F, a, b: F.poisson_nll_loss(a, b),
    "poisson_rate_full": lambda F, a, b: F.poisson_nll_loss(a.abs() + 0.5, b, log_input=False, full=True),
    "margin_ranking": lambda F, a, b: F.margin_ranking_loss(a, b, (b * 0 + 1).detach(), margin=0.1),
    "hinge": lambda F, a, b: F.hinge_embedding_loss(a, b),
    "cross_entropy_probabilities": lambda F, a, b: F.cross_entropy(a.view(2, 3), b.view(2, 3)),
}
PAIRS = [("float32", "float64"), ("float64", "float32"), ("float32", "int64"), ("int64", "float32"),
         ("float64", "float16"), ("float32", "bool")]
INPUT = np.array([0.3, -1.2, 0.8, 2.0, -0.4, 0.1])
TARGET = np.array([0.6, 0.2, 1.0, 0.05, 0.9, 0.5])  # no 0: kl_div's and xlogy's gradients are singular there


def _run(m, loss, input_dtype, target_dtype):
    a = m.tensor(INPUT if input_dtype.startswith("float") else INPUT * 4, dtype=getattr(m, input_dtype))
    b = m.tensor(TARGET if target_dtype.startswith("float") else TARGET * 3, dtype=getattr(m, target_dtype))
    for tensor in (a, b):
        if tensor.dtype.is_floating_point:
            tensor.requires_grad_()
    try:
        out = LOSSES[loss](m.nn.functional, a, b)
        seed = m.tensor(np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(tuple(out.shape)), dtype=out.dtype)
        if out.requires_grad:
            out.backward(seed)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error)
    grads = [None if t.grad is None else (str(t.grad.dtype).rsplit(".", 1)[-1], t.grad.numpy().astype(float))
             for t in (a, b)]
    return str(out.dtype).rsplit(".", 1)[-1], out.detach().numpy().astype(float), grads


@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
@pytest.mark.parametrize("loss", LOSSES)
def test_mixed_dtype_losses_match_torch(backend, loss, pair):
    theirs, ours = _run(torch, loss, *pair), _run(backend, loss, *pair)
    if isinstance(theirs, type):
        assert isinstance(ours, type) and issubclass(ours, theirs.__mro__[0] if theirs.__module__ == "builtins"
                                                     else next(c for c in theirs.__mro__ if c.__module__ == "builtins"))
        return
    assert not isinstance(ours, type), f"torch runs it, we raised {ours}"
    assert ours[0] == theirs[0]
    tolerance = dict(rtol=2e-3, atol=2e-4) if "float16" in pair else dict(rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(ours[1], theirs[1], **tolerance)
    for mine, reference in zip(ours[2], theirs[2]):
        assert (mine is None) == (reference is None)
        if reference is not None:
            assert mine[0] == reference[0]
            np.testing.assert_allclose(mine[1], reference[1], **tolerance)
