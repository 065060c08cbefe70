"""deploy/docker-compose.yml: the server plus a one-shot client running the tutorial. The file is parsed
and checked, and the client's command is run here against a real server (with the server's host
name swapped for the test server's address)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from deploy_helpers import DEPLOY, tutorial_gradients

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pip install pyyaml)")

COMPOSE_FILE = DEPLOY / "docker-compose.yml"
TIMEOUT_SECONDS = 120


def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def test_tutorial_starts_once_the_server_is_healthy() -> None:
    server, tutorial = services()["server"], services()["tutorial"]
    build = server["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    assert tutorial["depends_on"]["server"]["condition"] == "service_healthy"
    assert tutorial["image"] == server["image"]
    assert server["healthcheck"]["test"][1:] == ["python", "/opt/gradwire/healthcheck.py"]
    assert (DEPLOY / "healthcheck.py").is_file()


def test_server_gets_sigkilled_only_after_its_grace_period() -> None:
    server = services()["server"]
    grace = float(server["environment"]["GRADWIRE_GRACE_SECONDS"])
    assert float(server["stop_grace_period"].rstrip("s")) > grace


def test_tutorial_command_passes_against_a_real_server(server_target: str) -> None:
    command = services()["tutorial"]["command"]
    assert command[0] == "python"
    host_port = f"server:{services()['server']['environment']['GRADWIRE_ADDRESS'].rsplit(':', 1)[1]}"
    arguments = [argument.replace(host_port, server_target) for argument in command[1:]]
    assert arguments != command[1:], f"the command does not name the server as {host_port}"
    result = subprocess.run([sys.executable, *arguments], capture_output=True, text=True,
                            timeout=TIMEOUT_SECONDS, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    import torch  # only this test needs it

    for gradient in tutorial_gradients(torch).values():
        assert f"-> {gradient}" in result.stdout, result.stdout
