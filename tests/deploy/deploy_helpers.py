"""Shared pieces of the deployment tests: repository paths, tool lookup and the tutorial as a function."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def find_tool(name: str) -> str | None:
    """The executable `name` from this interpreter's venv (pip-installed tools) or else from PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which(name)


def require_tool(name: str, how_to_get: str) -> str:
    """The path of tool `name`, or skip the test saying it is absent and how to install it."""
    path = find_tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed ({how_to_get})")
    return path


def tutorial_gradients(torch: Any) -> dict[str, list[float]]:
    """The tutorial's two examples run with `torch`: PyTorch itself or a gradwire.client.Client, which
    takes the same code. Returns the gradients, keyed like the Node example's output lines."""
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    b = a + 3
    c = b * b * 3
    out = c.mean()
    out.backward(retain_graph=True)
    first = a.grad.tolist()
    out.backward()
    second = a.grad.tolist()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()

    m = torch.tensor([2.0, 3.0], requires_grad=True)
    n = torch.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    n.backward(torch.tensor([1.0, 1.0]))
    return {"a.grad after backward 1": first, "a.grad after backward 2": second, "m.grad": m.grad.tolist()}
