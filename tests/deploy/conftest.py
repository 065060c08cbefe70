"""Fixtures of the deployment tests: a real gradwire server on loopback."""

from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture(scope="module")
def server_target() -> Iterator[str]:
    """host:port of a real gradwire server on an ephemeral loopback port, stopped after the module."""
    from gradwire.server.app import create_server

    server, port = create_server("127.0.0.1:0")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(0).wait(10)
