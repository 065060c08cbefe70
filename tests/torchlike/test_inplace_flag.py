"""torch's `inplace=True` flag of nn.functional's activations and dropouts, and of their modules, on the
engine and through the SDK against a real server, against torch: the input itself is changed and returned,
its version moves, the values, grad_fn names and gradients are torch's, and the two autograd errors (a leaf
that requires grad; a value saved for backward) are raised as torch raises them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

VALUES = np.array([[-2.5, -0.7, 0.05, 0.4], [1.3, 2.2, -0.2, 7.5]])

# name -> call on (F, x): each changes x in place
CALLS = {
    "relu": lambda F, x: F.relu(x, inplace=True),
    "relu6": lambda F, x: F.relu6(x, inplace=True),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2, inplace=True),
    "elu": lambda F, x: F.elu(x, alpha=0.7, inplace=True),
    "selu": lambda F, x: F.selu(x, inplace=True),
    "celu": lambda F, x: F.celu(x, 1.5, True),
    "hardtanh": lambda F, x: F.hardtanh(x, -0.5, 2.0, inplace=True),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x, inplace=True),
    "hardswish": lambda F, x: F.hardswish(x, inplace=True),
    "silu": lambda F, x: F.silu(x, inplace=True),
    "mish": lambda F, x: F.mish(x, inplace=True),
    "threshold": lambda F, x: F.threshold(x, 0.1, 20.0, inplace=True),
    "dropout_p1": lambda F, x: F.dropout(x, 1.0, inplace=True),
    "dropout2d_p1": lambda F, x: F.dropout2d(x.view(2, 4, 1), 1.0, True, True),
    "elu_": lambda F, x: F.elu_(x),
    "leaky_relu_": lambda F, x: F.leaky_relu_(x, 0.3),
    "threshold_": lambda F, x: F.threshold_(x, 0.0, -1.0),
}
MODULES = {
    "ReLU": lambda nn: nn.ReLU(inplace=True),
    "LeakyReLU": lambda nn: nn.LeakyReLU(0.1, inplace=True),
    "ELU": lambda nn: nn.ELU(inplace=True),
    "SELU": lambda nn: nn.SELU(inplace=True),
    "CELU": lambda nn: nn.CELU(0.5, inplace=True),
    "Hardtanh": lambda nn: nn.Hardtanh(-1.0, 1.0, inplace=True),
    "ReLU6": lambda nn: nn.ReLU6(inplace=True),
    "Hardsigmoid": lambda nn: nn.Hardsigmoid(inplace=True),
    "Hardswish": lambda nn: nn.Hardswish(inplace=True),
    "SiLU": lambda nn: nn.SiLU(inplace=True),
    "Mish": lambda nn: nn.Mish(inplace=True),
    "Threshold": lambda nn: nn.Threshold(0.5, -3.0, inplace=True),
    "Dropout_eval": lambda nn: nn.Dropout(0.5, inplace=True).eval(),
}


def _version(tensor):
    """torch's version counter; the engine reads it as `_version_number`; the SDK keeps none (None)."""
    if hasattr(type(tensor), "_version_number"):
        return tensor._version_number
    version = getattr(tensor, "_version", None)
    return version if isinstance(version, int) else None


def _observe(m, change):
    """Runs `change` on a non-leaf y = x * 2; what torch users look at afterwards."""
    x = m.tensor(VALUES, dtype=m.float64, requires_grad=True)
    y = x * 2
    before = _version(y)
    out = change(y)
    same = out is y
    moved = None if before is None else _version(y) != before
    (y * y).sum().backward()
    return {"same": same, "moved": moved, "grad_fn": y.grad_fn.name(), "value": y.detach().numpy().copy(),
            "grad": x.grad.numpy().copy()}


def _compare(ours, theirs):
    assert (ours["same"], ours["grad_fn"]) == (theirs["same"], theirs["grad_fn"])
    assert ours["moved"] in (None, theirs["moved"])
    np.testing.assert_allclose(ours["value"], theirs["value"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours["grad"], theirs["grad"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CALLS)
def test_functional_inplace_changes_the_input_like_torch(backend, name):
    call = CALLS[name]
    _compare(_observe(backend, lambda y: call(backend.nn.functional, y)),
             _observe(torch, lambda y: call(torch.nn.functional, y)))


@pytest.mark.parametrize("name", MODULES)
def test_modules_with_inplace_change_the_input_like_torch(backend, name):
    make = MODULES[name]
    _compare(_observe(backend, make(backend.nn)), _observe(torch, make(torch.nn)))


def _error(m, call, make_input):
    x = m.tensor(VALUES, requires_grad=True)
    try:
        target = make_input(x)
        call(m.nn.functional, target)
        (target * 1).sum().backward()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error)
    return None


@pytest.mark.parametrize("name", ["relu", "elu", "hardswish", "threshold", "dropout_p1"])
@pytest.mark.parametrize("case", ["leaf", "saved_output", "saved_input"])
def test_inplace_errors_are_torchs(backend, name, case):
    make_input = {"leaf": lambda x: x, "saved_output": lambda x: x.exp(), "saved_input": lambda x: x.sin()}[case]
    theirs = _error(torch, CALLS[name], make_input)
    ours = _error(backend, CALLS[name], make_input)
    assert ours is not None and issubclass(ours, theirs) if theirs is not None else ours is None


def test_dropout_out_of_training_returns_its_input_untouched(backend):
    for m in (backend, torch):
        x = m.ones(3, requires_grad=True) * 1
        before = _version(x)
        assert m.nn.functional.alpha_dropout(x, 0.5, inplace=True) is x
        assert m.nn.functional.dropout(x, 0.5, training=False, inplace=True) is x
        assert _version(x) == before
