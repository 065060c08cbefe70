"""F.softmax / F.log_softmax / F.softmin without `dim`, and nn.Softmax() / nn.LogSoftmax() / nn.Softmin():
torch's legacy dim (0 for 0-D, 1-D and 3-D inputs, else 1) with its UserWarning, on the engine and through
the SDK against a real server, compared with torch (values and gradients)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

CALLS = {
    "softmax": lambda m, x: m.nn.functional.softmax(x),
    "log_softmax": lambda m, x: m.nn.functional.log_softmax(x, None),
    "softmin": lambda m, x: m.nn.functional.softmin(x),
    "Softmax": lambda m, x: m.nn.Softmax()(x),
    "LogSoftmax": lambda m, x: m.nn.LogSoftmax()(x),
    "Softmin": lambda m, x: m.nn.Softmin()(x),
}


def _run(m, call, values):
    x = m.tensor(values, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call(m, x)
    (out * out).sum().backward()
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return out.detach().numpy(), x.grad.numpy(), messages


@pytest.mark.parametrize("shape", [(), (4,), (3, 4), (2, 3, 4), (2, 3, 2, 2)], ids=str)
@pytest.mark.parametrize("name", CALLS)
def test_implicit_dim_is_torchs_with_its_warning(backend, name, shape):
    values = np.random.default_rng(len(shape)).standard_normal(shape)
    ours, theirs = _run(backend, CALLS[name], values), _run(torch, CALLS[name], values)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)
    assert ours[2] == theirs[2] and len(theirs[2]) == 1
