"""Every optimizer and option against torch after k steps, every scheduler's lr sequence, optimizer
state_dict, zero_grad(set_to_none), clip_grad_*, on the engine and through the SDK."""

from __future__ import annotations

import numpy as np
import pytest
import torch

OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "sgd_dampening": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd_nesterov": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    "sgd_maximize": ("SGD", dict(lr=0.05, maximize=True)),
    "adam": ("Adam", dict(lr=0.05)),
    "adam_weight_decay": ("Adam", dict(lr=0.05, weight_decay=0.1, betas=(0.8, 0.9))),
    "adam_amsgrad": ("Adam", dict(lr=0.05, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.05)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.05, weight_decay=0.2, amsgrad=True)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_momentum_centered": ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    "adagrad": ("Adagrad", dict(lr=0.1)),
    "adagrad_decay": ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
}

START = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]], dtype=np.float32)
DATA = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.5]], dtype=np.float32)


def _train(m, name, options, steps=6):
    w = m.tensor(START.copy(), requires_grad=True)
    b = m.tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    x = m.tensor(DATA)
    optimizer = getattr(m.optim, name)([{"params": [w]}, {"params": [b], "lr": options["lr"] / 2}], **options)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((w @ x + b) ** 2).sum() + (w * w * w).sum()
        loss.backward()
        optimizer.step()
    return w.detach().numpy().copy(), b.detach().numpy().copy(), optimizer


@pytest.mark.parametrize("label", OPTIMIZERS)
def test_optimizer_matches_torch(label, backend):
    name, options = OPTIMIZERS[label]
    ours_w, ours_b, optimizer = _train(backend, name, options)
    theirs_w, theirs_b, _ = _train(torch, name, options)
    np.testing.assert_allclose(ours_w, theirs_w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours_b, theirs_b, rtol=1e-4, atol=1e-5)
    state = optimizer.state_dict()
    assert [group["params"] for group in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == options["lr"] / 2


def test_zero_grad_sets_to_none_or_zeros(backend):
    w = backend.tensor([1.0, 2.0], requires_grad=True)
    optimizer = backend.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert w.grad is None
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_optimizer_state_dict_round_trip(backend):
    _, _, optimizer = _train(backend, "Adam", dict(lr=0.05), steps=2)
    state = optimizer.state_dict()
    w = backend.tensor(START.copy(), requires_grad=True)
    b = backend.tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    fresh = backend.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.025}], lr=0.05)
    fresh.load_state_dict(state)
    assert fresh.state[w]["step"] == 2
    np.testing.assert_allclose(np.asarray(fresh.state[w]["exp_avg"].tolist()),
                               np.asarray(state["state"][0]["exp_avg"].tolist()))


SCHEDULERS = {
    "step": ("StepLR", dict(step_size=3, gamma=0.5)),
    "multistep": ("MultiStepLR", dict(milestones=[2, 5, 5, 8], gamma=0.3)),
    "exponential": ("ExponentialLR", dict(gamma=0.9)),
    "cosine": ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),
    "lambda": ("LambdaLR", dict(lr_lambda=lambda epoch: 1 / (epoch + 1))),
}


def _lrs(m, name, options, steps=12):
    w = m.tensor([1.0], requires_grad=True)
    optimizer = m.optim.SGD([w], lr=0.5)
    scheduler = getattr(m.optim.lr_scheduler, name)(optimizer, **options)
    seen = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    return seen


@pytest.mark.parametrize("label", SCHEDULERS)
def test_scheduler_lr_sequence_matches_torch(label):
    import gradwire.engine as engine

    name, options = SCHEDULERS[label]
    np.testing.assert_allclose(_lrs(engine, name, options), _lrs(torch, name, options), rtol=1e-12)


def test_reduce_lr_on_plateau_matches_torch():
    import gradwire.engine as engine

    metrics = [5, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 2, 2, 2, 2, 2]
    sequences = []
    for m in (engine, torch):
        optimizer = m.optim.SGD([m.tensor([1.0], requires_grad=True)], lr=1.0)
        scheduler = m.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2, cooldown=1,
                                                           min_lr=0.1)
        lrs = []
        for metric in metrics:
            scheduler.step(metric)
            lrs.append(optimizer.param_groups[0]["lr"])
        sequences.append(lrs)
    assert sequences[0] == sequences[1]


def test_clip_grad_norm_and_value_match_torch(backend):
    results = []
    for m in (backend, torch):
        a = m.tensor([3.0, -4.0], requires_grad=True)
        b = m.tensor([[1.0, 2.0]], requires_grad=True)
        ((a * a).sum() * 2 + (b * 5).sum()).backward()
        total = m.nn.utils.clip_grad_norm_([a, b], max_norm=1.5)
        m.nn.utils.clip_grad_value_([b], 0.5)
        results.append((float(total), a.grad.tolist(), b.grad.tolist()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5)
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-5)
