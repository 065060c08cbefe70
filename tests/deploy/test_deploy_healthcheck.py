"""deploy/healthcheck.py, the image's HEALTHCHECK: exit 0 only when the server's health service says
SERVING, 1 when it is not serving or cannot be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Iterator

import pytest
from grpc_health.v1 import health_pb2

from deploy_helpers import DEPLOY

TIMEOUT_SECONDS = 30


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    # The image's GRADWIRE_ADDRESS binds every interface; the check must dial loopback anyway.
    environment = {**os.environ, "GRADWIRE_ADDRESS": f"0.0.0.0:{port}"}
    return subprocess.run([sys.executable, str(DEPLOY / "healthcheck.py")], env=environment,
                          capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)


@pytest.fixture
def own_server() -> Iterator[object]:
    from gradwire.server.app import create_server

    server, _port = create_server("127.0.0.1:0")
    try:
        yield server
    finally:
        server.stop(0).wait(10)


def test_serving_server_passes(server_target: str) -> None:
    result = run_healthcheck(int(server_target.rsplit(":", 1)[1]))
    assert result.returncode == 0, result.stderr


def test_not_serving_server_fails(own_server: object) -> None:
    own_server.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    result = run_healthcheck(own_server.port)
    assert result.returncode == 1
    assert "NOT_SERVING" in result.stderr


def test_nothing_listening_fails() -> None:
    with socket.socket() as bound_not_listening:
        bound_not_listening.bind(("127.0.0.1", 0))
        result = run_healthcheck(bound_not_listening.getsockname()[1])
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr
