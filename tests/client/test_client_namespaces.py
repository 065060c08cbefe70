"""torch.nn.functional / torch.linalg / torch.special on a Client, and keyword aliases (dim/axis), vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

VALUES = [[1.0, -2.0, 0.5], [3.0, 4.0, -1.5]]


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_nn_functional_unary_matches_torch(client, name):
    x = client.tensor(VALUES, requires_grad=True)
    getattr(client.nn.functional, name)(x).sum().backward()
    reference = torch.tensor(VALUES, requires_grad=True)
    getattr(torch.nn.functional, name)(reference).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), reference.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_nn_functional_softmax_takes_dim_as_keyword(client):
    F = client.nn.functional
    x = client.tensor(VALUES)
    expected = torch.nn.functional.softmax(torch.tensor(VALUES), dim=1)
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["sum", "mean", "prod", "var"])
def test_axis_is_an_alias_of_dim(client, reduction):
    x = client.tensor(VALUES)
    expected = getattr(torch.tensor(VALUES), reduction)(axis=0)
    np.testing.assert_allclose(getattr(x, reduction)(axis=0).numpy(), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(getattr(client, reduction)(x, axis=0).numpy(), expected.numpy(), rtol=1e-6)


def test_unknown_namespace_function_is_an_attribute_error(client):
    with pytest.raises(AttributeError, match="nn.functional"):
        client.nn.functional.no_such_function
    assert "relu" in dir(client.nn.functional)
    assert "functional" in dir(client.nn)
