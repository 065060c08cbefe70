"""Fixtures for torch.nn / torch.optim tests: each program runs on the engine and through the SDK
against a real server, and in torch as the reference."""

from __future__ import annotations

import pytest

import gradwire.engine as engine
from gradwire.client import Client
from gradwire.server import create_server


@pytest.fixture(scope="module")
def address():
    server, port = create_server("127.0.0.1:0")
    yield f"127.0.0.1:{port}"
    server.stop(None).wait()


@pytest.fixture(params=["engine", "sdk"])
def backend(request):
    """`import gradwire.engine as torch` or `torch = Client(address)`."""
    if request.param == "engine":
        yield engine
        return
    with Client(request.getfixturevalue("address")) as client:
        yield client
