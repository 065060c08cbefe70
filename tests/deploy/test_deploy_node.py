"""examples/node: the Node.js client (proto loaded at run time, no generated code) runs the tutorial's two
examples against a real server and prints the gradients PyTorch gives."""

from __future__ import annotations

import re
import subprocess

import pytest
import torch

from deploy_helpers import REPO, require_tool, tutorial_gradients

NODE_EXAMPLE = REPO / "examples" / "node"
RUN_TIMEOUT_SECONDS = 60
INSTALL_TIMEOUT_SECONDS = 300


def install_dependencies() -> None:
    """npm ci (or install) into examples/node when node_modules is absent."""
    if (NODE_EXAMPLE / "node_modules" / "@grpc" / "grpc-js").is_dir():
        return
    npm = require_tool("npm", "install Node.js 18 or later")
    command = "ci" if (NODE_EXAMPLE / "package-lock.json").is_file() else "install"
    subprocess.run([npm, command, "--no-audit", "--no-fund"], cwd=NODE_EXAMPLE, check=True,
                   capture_output=True, timeout=INSTALL_TIMEOUT_SECONDS)


def parse_gradients(output: str) -> dict[str, list[float]]:
    """'example 1: a.grad after backward 1 = [15, 18]' -> {'a.grad after backward 1': [15.0, 18.0]}."""
    found = re.findall(r"^example \d: (.+?) = \[([^\]]*)\]$", output, flags=re.MULTILINE)
    return {label: [float(number) for number in numbers.split(",")] for label, numbers in found}


@pytest.fixture(scope="module")
def node() -> str:
    path = require_tool("node", "install Node.js 18 or later")
    install_dependencies()
    return path


@pytest.fixture(scope="module")
def tutorial_run(node: str, server_target: str) -> subprocess.CompletedProcess[str]:
    """One run of tutorial.js against a real server, shared by the checks below."""
    return subprocess.run([node, "tutorial.js", server_target], cwd=NODE_EXAMPLE, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_SECONDS, check=False)


def test_node_tutorial_prints_pytorchs_gradients(tutorial_run: subprocess.CompletedProcess[str]) -> None:
    assert tutorial_run.returncode == 0, tutorial_run.stdout + tutorial_run.stderr
    assert parse_gradients(tutorial_run.stdout) == tutorial_gradients(torch)


def test_node_tutorial_reports_a_freed_graph_as_pytorch_does(tutorial_run: subprocess.CompletedProcess[str]) -> None:
    # The third backward runs through a graph the second one freed: PyTorch raises RuntimeError.
    assert re.search(r"^example 1: backward 3 -> FAILED_PRECONDITION RuntimeError: .+$", tutorial_run.stdout,
                     flags=re.MULTILINE), tutorial_run.stdout + tutorial_run.stderr


def test_node_client_reports_an_unreachable_server(node: str) -> None:
    result = subprocess.run([node, "tutorial.js", "127.0.0.1:1"], cwd=NODE_EXAMPLE, capture_output=True,
                            text=True, timeout=RUN_TIMEOUT_SECONDS, check=False)
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr


def test_node_prepared_graph_sends_only_values(node: str, server_target: str) -> None:
    run = subprocess.run([node, "prepared.js", server_target], cwd=NODE_EXAMPLE, capture_output=True, text=True,
                         timeout=RUN_TIMEOUT_SECONDS, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    grads = re.findall(r"^prepared: a = \[([^\]]*)\] -> a\.grad = \[([^\]]*)\]$", run.stdout, flags=re.MULTILINE)
    for a_text, grad_text in grads:
        a = torch.tensor([float(x) for x in a_text.split(",")], requires_grad=True)
        (3 * (a + 3) ** 2).mean().backward()
        assert [float(x) for x in grad_text.split(",")] == a.grad.tolist()
    assert len(grads) == 2
    assert "prepared: after ReleaseGraph -> NOT_FOUND" in run.stdout
