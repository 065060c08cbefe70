"""The SDK's compile and the engine's compile are one API: the same program compiled both ways (the SDK's
against a real server) gives the same values and gradients, and the same errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradwire.engine as ge


def program(t):
    def step(x, w, bias):
        hidden = (x @ w + bias * t.tensor([1.0, 2.0])).tanh()  # a constant made inside
        return (hidden ** 2).mean(), hidden.sum(0)

    return step


def test_the_sdk_and_the_engine_compile_alike(client):
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal((3, 2)).astype(np.float32)
    sdk_step = client.compile(program(client))
    engine_step = ge.compile(program(ge))
    public = {name for name in dir(sdk_step) if not name.startswith("_")}
    assert public <= {name for name in dir(engine_step) if not name.startswith("_")}
    for _ in range(3):
        x = rng.standard_normal((4, 3)).astype(np.float32)
        bias = rng.standard_normal(2).astype(np.float32)
        (sdk_loss, sdk_sums), (sdk_grad,) = sdk_step.value_and_grad(x, w0, client.tensor(bias, requires_grad=True))
        (loss, sums), (grad,) = engine_step.value_and_grad(x, w0, ge.tensor(bias, requires_grad=True))
        np.testing.assert_array_equal(sdk_loss.numpy(), loss.numpy())
        np.testing.assert_array_equal(sdk_sums.numpy(), sums.numpy())
        np.testing.assert_array_equal(sdk_grad.numpy(), grad.numpy())
        sdk_values = sdk_step(x, w0, bias)
        values = engine_step(x, w0, bias)
        assert isinstance(values, tuple) and isinstance(sdk_values, tuple)
        for sdk_value, value in zip(sdk_values, values, strict=True):
            np.testing.assert_array_equal(sdk_value.numpy(), value.detach().numpy())
    assert engine_step.traces == 2 and engine_step.replays == 4  # a bias requiring grad is its own signature
    for compiled, t in ((sdk_step, client), (engine_step, ge)):
        with pytest.raises(RuntimeError, match="requires grad"):
            compiled.value_and_grad(np.ones((4, 3), np.float32), w0, np.ones(2, np.float32))
        not_scalar = t.compile(lambda x: x * 2)
        with pytest.raises(RuntimeError, match="scalar outputs"):
            not_scalar.value_and_grad(t.tensor([1.0, 2.0], requires_grad=True))
        mismatched = t.compile(lambda x, y: x + y)
        with pytest.raises(RuntimeError, match="size"), pytest.warns(UserWarning) if t is ge else _nothing():
            mismatched(np.ones(2, np.float32), np.ones(3, np.float32))
        compiled.release()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
