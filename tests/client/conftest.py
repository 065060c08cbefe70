"""Fixtures for the SDK tests: a real gradwire server on 127.0.0.1:0 and Clients talking to it."""

from __future__ import annotations

import pytest

from gradwire.client import Client
from gradwire.server import ServerConfig, create_server


@pytest.fixture(scope="module")
def server():
    """One server with the default settings, shared by the tests of a module."""
    server, _ = create_server("127.0.0.1:0")
    yield server
    server.stop(None).wait()


@pytest.fixture(scope="module")
def address(server) -> str:
    return f"127.0.0.1:{server.port}"


@pytest.fixture
def client(address):
    """A fresh Client (fresh session, fresh RPC counts) per test."""
    with Client(address) as client:
        yield client


@pytest.fixture
def start_server():
    """Starts servers with custom settings; stops them all at the end of the test."""
    started = []

    def start(address="127.0.0.1:0", **settings):
        server, port = create_server(address, ServerConfig(**settings))
        started.append(server)
        return server, f"127.0.0.1:{port}"

    yield start
    for server in started:
        server.stop(None).wait()
