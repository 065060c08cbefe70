"""The Go and Node.js examples against real servers, plaintext and with TLS, mTLS and a token: each prints
the gradients PyTorch gives for the tutorial and the error of a third backward through a freed graph.

The Go example is built with Debian's Go packages in GOPATH mode (examples/go/build.sh); the test skips,
saying so, only where Go or protoc is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from production_helpers import TOKEN_ALICE, write_tokens

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 60


def torch_results() -> dict[str, list[float]]:
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    out = ((a + 3) * (a + 3) * 3).mean()
    out.backward(retain_graph=True)
    first = a.grad.tolist()
    out.backward()
    m = torch.tensor([2.0, 3.0], requires_grad=True)
    n = torch.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    n.backward(torch.tensor([1.0, 1.0]))
    return {"a.grad after backward 1": first, "a.grad after backward 2": a.grad.tolist(), "m.grad": m.grad.tolist()}


def printed_results(output: str) -> dict[str, list[float]]:
    found = re.findall(r"^example \d: (.+?) = \[([^\]]*)\]$", output, flags=re.MULTILINE)
    return {label: [float(number) for number in numbers.split(",")] for label, numbers in found}


def check_run(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert printed_results(result.stdout) == torch_results()
    assert re.search(r"^example 1: backward 3 -> FAILED_PRECONDITION RuntimeError: .*second time", result.stdout,
                     flags=re.MULTILINE), result.stdout


@pytest.fixture(scope="module")
def go_tutorial(tmp_path_factory) -> str:
    missing = [tool for tool in ("go", "protoc", "protoc-gen-go", "protoc-gen-go-grpc") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install golang-go protobuf-compiler protoc-gen-go "
                    "protoc-gen-go-grpc golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev)")
    binary = tmp_path_factory.mktemp("go") / "tutorial"
    build = subprocess.run([str(REPO / "examples" / "go" / "build.sh"), str(binary)], capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    return str(binary)


@pytest.fixture(scope="module")
def node_tutorial() -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (Node.js 18 or later)")
    folder = REPO / "examples" / "node"
    if not (folder / "node_modules" / "@grpc" / "grpc-js").is_dir():
        npm = shutil.which("npm") or pytest.skip("npm is not installed")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, check=True, capture_output=True,
                       timeout=300)
    return [node, str(folder / "tutorial.js")]


def _command(request, language: str) -> list[str]:
    return [request.getfixturevalue("go_tutorial")] if language == "go" else request.getfixturevalue("node_tutorial")


def _run(command: list[str], address: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("GRADWIRE_")}
    return subprocess.run([*command, address], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          env={**clean, **env})


@pytest.mark.parametrize("language", ["go", "node"])
def test_plaintext(request, language, start_server):
    server = start_server()
    check_run(_run(_command(request, language), f"127.0.0.1:{server.port}"))


@pytest.mark.parametrize("language", ["go", "node"])
def test_tls_and_a_token(request, language, start_server, pki, tmp_path):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key),
                          auth_tokens=str(write_tokens(tmp_path)))
    command, address = _command(request, language), f"127.0.0.1:{server.port}"
    check_run(_run(command, address, GRADWIRE_CA=str(pki.ca), GRADWIRE_TOKEN=TOKEN_ALICE))
    refused = _run(command, address, GRADWIRE_CA=str(pki.ca))  # no token
    assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr
    assert TOKEN_ALICE not in refused.stderr


@pytest.mark.parametrize("language", ["go", "node"])
def test_mutual_tls(request, language, start_server, pki):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key), tls_client_ca=str(pki.ca))
    command, address = _command(request, language), f"127.0.0.1:{server.port}"
    check_run(_run(command, address, GRADWIRE_CA=str(pki.ca), GRADWIRE_CLIENT_CERT=str(pki.client_cert),
                   GRADWIRE_CLIENT_KEY=str(pki.client_key)))
    refused = _run(command, address, GRADWIRE_CA=str(pki.ca))  # no client certificate
    assert refused.returncode == 1 and "UNAVAILABLE" in refused.stderr


def test_go_reads_its_address_from_the_environment(go_tutorial, start_server):
    server = start_server()
    clean = {key: value for key, value in os.environ.items() if not key.startswith("GRADWIRE_")}
    result = subprocess.run([go_tutorial], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                            env={**clean, "GRADWIRE_ADDRESS": f"127.0.0.1:{server.port}"})
    check_run(result)
