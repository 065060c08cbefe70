"""Fixtures of the production tests: real servers on loopback with TLS, tokens, metrics and logs."""

from __future__ import annotations

import pytest

from gradwire.server import ServerConfig, create_server
from production_helpers import make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def start_server():
    """start(**settings) -> a started server on 127.0.0.1:0; all stopped at the end of the test."""
    started = []

    def start(**settings):
        server, _ = create_server("127.0.0.1:0", ServerConfig(**settings))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(None).wait()
