"""torch.nn.functional / torch.linalg / torch.special in the engine are importable modules filled from the
registry's dotted function names; keyword aliases (dim/axis) parse as torch's."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import gradwire.engine as gw
from gradwire.engine import registry

VALUES = [[1.0, -2.0, 0.5], [3.0, 4.0, -1.5]]


@pytest.mark.parametrize("module", ["gradwire.engine.nn.functional", "gradwire.engine.linalg",
                                    "gradwire.engine.special"])
def test_namespace_modules_are_importable(module):
    assert importlib.import_module(module) is not None


def test_every_dotted_function_is_reachable_in_its_namespace():
    for op in registry.OPS.values():
        for spelling in op.functions:
            if "." not in spelling:
                continue
            *path, name = spelling.split(".")
            namespace = gw
            for part in path:
                namespace = getattr(namespace, part)
            assert callable(getattr(namespace, name)), spelling
            torch_namespace = torch
            for part in path:
                torch_namespace = getattr(torch_namespace, part)
            assert hasattr(torch_namespace, name), f"torch has no {spelling}"


def test_functional_relu_matches_torch():
    import gradwire.engine.nn.functional as F

    x = gw.tensor(VALUES, requires_grad=True)
    F.relu(x).sum().backward()
    reference = torch.tensor(VALUES, requires_grad=True)
    torch.nn.functional.relu(reference).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), reference.grad.numpy())


@pytest.mark.parametrize("reduction", ["sum", "mean", "prod", "var"])
def test_axis_is_an_alias_of_dim(reduction):
    expected = getattr(torch.tensor(VALUES), reduction)(axis=0)
    np.testing.assert_allclose(getattr(gw.tensor(VALUES), reduction)(axis=0).numpy(), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(getattr(gw, reduction)(gw.tensor(VALUES), axis=0).numpy(), expected.numpy(),
                               rtol=1e-6)
