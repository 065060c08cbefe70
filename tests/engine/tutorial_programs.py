"""Programs in the manner of PyTorch's autograd tutorials (the "Autograd: automatic differentiation"
walkthrough and the third-order polynomial fitted with autograd), written here for gradwire's tests.

Each takes the torch-like module (`torch`, `gradwire.engine` or a `Client`) and `values`, a function
returning the same seeded numbers in every run, used where the tutorials draw random starting values so
that the printed output can be compared with torch's. Everything else is plain torch code.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import numpy as np


def seeded_values(seed: int) -> Callable[..., Any]:
    """values(*shape): float32 normal draws as nested lists (values() is a Python float)."""
    rng = np.random.default_rng(seed)
    return lambda *shape: rng.standard_normal(shape).astype(np.float32).tolist()


def autograd_walkthrough(torch: Any, values: Callable[..., Any]) -> None:
    """Leaves, grad_fn, backward of a scalar and of a vector, requires_grad_ and no_grad."""
    w = torch.ones(2, 3, requires_grad=True)
    print(w)
    shifted = w * 4 - 1
    print(shifted)
    print(shifted.grad_fn)
    squares = shifted * shifted / 2
    total = squares.mean()
    print(squares, total)
    print(torch.randn(3, 2).shape)

    m = torch.tensor(values(3, 2))
    m = (m + 2) / (m * m + 1)
    print(m.requires_grad)
    m.requires_grad_(True)
    print(m.requires_grad)
    energy = (m * m * m).sum()
    print(energy.grad_fn)
    total.backward()
    print(w.grad)

    v = torch.tensor(values(4), requires_grad=True)
    grown = v * 3
    steps = 0
    while grown.data.norm() < 500:
        grown = grown * 3
        steps += 1
    print(steps, grown)
    weights = torch.tensor([1.0, 0.01, 0.5, 0.001], dtype=torch.float)
    grown.backward(weights)
    print(v.grad)
    print(v.requires_grad, (v.exp() + 1).requires_grad)
    with torch.no_grad():
        print((v.exp() + 1).requires_grad)
    print(v.detach().requires_grad, energy.item() > 0)


def polynomial_fit(torch: Any, values: Callable[..., Any], iterations: int = 200, report_every: int = 25) -> None:
    """Fit y = a + b x + c x^2 + d x^3 to cos(x) on [-pi/2, pi/2] by gradient descent with autograd."""
    dtype = torch.float
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"Using {device} device")
    torch.set_default_device(device)

    x = torch.linspace(-math.pi / 2, math.pi / 2, 1500, dtype=dtype)
    y = torch.cos(x)
    probe = torch.randn((), dtype=dtype, requires_grad=True)
    print(probe.shape, probe.dtype, probe.requires_grad, probe.is_leaf)

    a, b, c, d = (torch.tensor(values(), dtype=dtype, requires_grad=True) for _ in range(4))
    learning_rate = 2e-4
    for step in range(iterations):
        prediction = a + b * x + c * x ** 2 + d * x ** 3
        loss = (prediction - y).pow(2).sum()
        if step % report_every == report_every - 1:
            print(step, loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    print(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")


PROGRAMS = {"autograd_walkthrough": autograd_walkthrough, "polynomial_fit": polynomial_fit}

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")


def normalised(text: str) -> str:
    """Output with object addresses dropped and the module's name spelled as torch's."""
    return _ADDRESS.sub("", text).replace("gradwire.", "torch.")


def assert_prints_like_torch(ours: str, theirs: str, rtol: float = 1e-4, atol: float = 1e-4) -> None:
    """Same text around the numbers, and the numbers equal to print precision (rtol/atol)."""
    ours, theirs = normalised(ours), normalised(theirs)
    assert _NUMBER.sub("#", ours) == _NUMBER.sub("#", theirs), f"--- gradwire:\n{ours}\n--- torch:\n{theirs}"
    mine = [float(n) for n in _NUMBER.findall(ours)]
    reference = [float(n) for n in _NUMBER.findall(theirs)]
    np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol, err_msg=f"--- gradwire:\n{ours}\n--- torch:\n{theirs}")
