"""torchlike's compositions for backends without a torch.nn.functional function (an older server's
catalogue): each against torch's own function, on the engine with its nn.functional hidden."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch

import gradwire.engine as engine
from gradwire.torchlike.functional import Functional


class _EngineWithoutFunctional:
    """The engine, minus torch.nn.functional: every F call takes the fallback."""

    nn = types.SimpleNamespace(functional=types.SimpleNamespace())

    def __getattr__(self, name):
        return getattr(engine, name)


RNG = np.random.default_rng(3)
X = RNG.standard_normal((4, 6)).astype(np.float32)
T = RNG.standard_normal((4, 6)).astype(np.float32)
P = (RNG.random((4, 6)) * 0.9 + 0.05).astype(np.float32)
IMG = RNG.standard_normal((2, 3, 4, 4)).astype(np.float32)
W = RNG.standard_normal((5, 6)).astype(np.float32)
B = RNG.standard_normal(5).astype(np.float32)
LABELS = np.array([0, 5, 2, 1])

CASES = {
    "linear": (lambda m, F, t: F.linear(t(X), t(W), t(B))),
    "mse_loss": (lambda m, F, t: F.mse_loss(t(X), t(T), reduction="sum")),
    "l1_loss": (lambda m, F, t: F.l1_loss(t(X), t(T))),
    "smooth_l1_loss": (lambda m, F, t: F.smooth_l1_loss(t(X), t(T), beta=0.5)),
    "huber_loss": (lambda m, F, t: F.huber_loss(t(X), t(T), delta=0.7)),
    "cross_entropy": (lambda m, F, t: F.cross_entropy(t(X), m.tensor(LABELS))),
    "nll_loss": (lambda m, F, t: F.nll_loss(t(X).log_softmax(1), m.tensor(LABELS), reduction="sum")),
    "binary_cross_entropy": (lambda m, F, t: F.binary_cross_entropy(t(P), m.tensor((P > 0.5).astype(np.float32)))),
    "binary_cross_entropy_with_logits": (lambda m, F, t: F.binary_cross_entropy_with_logits(t(X), t(P))),
    "kl_div": (lambda m, F, t: F.kl_div(t(X).log_softmax(1), t(P), reduction="batchmean")),
    "softplus": (lambda m, F, t: F.softplus(t(X) * 10, beta=0.5)),
    "leaky_relu": (lambda m, F, t: F.leaky_relu(t(X), 0.1)),
    "elu": (lambda m, F, t: F.elu(t(X))),
    "silu": (lambda m, F, t: F.silu(t(X))),
    "gelu_tanh": (lambda m, F, t: F.gelu(t(X), approximate="tanh")),
    "hardtanh": (lambda m, F, t: F.hardtanh(t(X), -0.5, 0.5)),
    "layer_norm": (lambda m, F, t: F.layer_norm(t(X), (6,), t(X[0]), t(T[0]))),
    "group_norm": (lambda m, F, t: F.group_norm(t(IMG), 3)),
    "batch_norm_training": (lambda m, F, t: F.batch_norm(t(IMG), None, None, training=True)),
    "max_pool2d": (lambda m, F, t: F.max_pool2d(t(IMG), 2)),
    "avg_pool2d": (lambda m, F, t: F.avg_pool2d(t(IMG), 2)),
    "adaptive_avg_pool2d": (lambda m, F, t: F.adaptive_avg_pool2d(t(IMG), (2, 2))),
}


@pytest.mark.parametrize("name", CASES)
def test_fallback_matches_torch(name):
    program = CASES[name]
    results = []
    for m, functions in ((engine, Functional(_EngineWithoutFunctional())), (torch, torch.nn.functional)):
        leaves = []

        def leaf(array, m=m, leaves=leaves):
            tensor = m.tensor(array, requires_grad=True)
            leaves.append(tensor)
            return tensor

        out = program(m, functions, leaf)
        out.sum().backward()
        results.append((np.asarray(out.tolist()), [np.asarray(x.grad.tolist()) for x in leaves]))
    (ours, our_grads), (theirs, their_grads) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    for a, b in zip(our_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
