"""dropout's random masks (values need not equal torch's generator): seeded reproducibility, the kept
fraction, torch's scaling, whole-channel masks, alpha dropout's moments, and gradients that use the
same mask as the forward (first and second order)."""

from __future__ import annotations

import numpy as np
import pytest

import gradwire.engine as gw

F = gw.nn.functional


def _x(shape, seed=0):
    return gw.tensor(np.random.default_rng(seed).uniform(0.5, 1.5, shape), requires_grad=True)


def test_seeded_masks_repeat():
    x = _x((50, 40))
    gw.manual_seed(7)
    first = F.dropout(x, 0.3).detach().numpy()
    gw.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.3).detach().numpy(), first)
    assert not np.array_equal(F.dropout(x, 0.3).detach().numpy(), first)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_keeps_about_1_minus_p_and_scales(p):
    x = _x((200, 100))
    gw.manual_seed(1)
    y = F.dropout(x, p)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - (1 - p)) < 0.02
    np.testing.assert_allclose(y.detach().numpy()[kept], x.detach().numpy()[kept] / (1 - p), rtol=1e-12)
    seed = np.random.default_rng(2).standard_normal(x.shape)
    (grad,) = gw.autograd.grad(y, x, gw.tensor(seed))
    np.testing.assert_allclose(grad.detach().numpy(), np.where(kept, seed / (1 - p), 0.0), rtol=1e-12)


@pytest.mark.parametrize("name,shape,channel_axes", [("dropout1d", (20, 30, 5), 2), ("dropout2d", (20, 30, 3, 4), 2),
                                                     ("dropout3d", (10, 30, 2, 2, 2), 2),
                                                     ("dropout2d", (30, 3, 4), 1)])
def test_channel_dropout_zeroes_whole_channels(name, shape, channel_axes):
    x = _x(shape)
    gw.manual_seed(3)
    y = getattr(F, name)(x, 0.5).detach().numpy()
    per_channel = y.reshape(shape[:channel_axes] + (-1,))
    zero = np.all(per_channel == 0, axis=-1)
    assert np.all(zero | np.all(per_channel != 0, axis=-1))
    assert 0.3 < zero.mean() < 0.7


def test_alpha_dropout_keeps_mean_and_variance():
    x = gw.tensor(np.random.default_rng(4).standard_normal((400, 400)))
    gw.manual_seed(5)
    y = F.alpha_dropout(x, 0.3, training=True).detach().numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    gw.manual_seed(5)
    z = F.feature_alpha_dropout(gw.tensor(np.random.default_rng(4).standard_normal((60, 50, 30))), 0.4, True).detach().numpy()
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05


def test_dropout_second_derivative_uses_the_same_mask():
    x = _x((30, 30))
    gw.manual_seed(6)
    y = F.dropout(x, 0.4)
    (grad,) = gw.autograd.grad((y * y).sum(), x, create_graph=True)
    mask = (y.detach().numpy() != 0) / 0.6
    np.testing.assert_allclose(grad.detach().numpy(), 2 * x.detach().numpy() * mask * mask, rtol=1e-12)
    (second,) = gw.autograd.grad(grad.sum(), x)
    np.testing.assert_allclose(second.detach().numpy(), 2 * mask * mask, rtol=1e-12)


def test_bad_probability_is_a_value_error():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(_x((2, 2)), 1.5)
