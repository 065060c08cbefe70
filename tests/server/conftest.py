"""Fixtures for the server tests: a real gradwire server on 127.0.0.1:0 and a raw stub talking to it."""

from __future__ import annotations

import grpc
import pytest

from gradwire.server import ServerConfig, create_server
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc
from server_helpers import CHANNEL_OPTIONS


@pytest.fixture
def start_server():
    """Starts servers with custom settings (e.g. tiny caps); stops them all at the end of the test."""
    started = []

    def start(**settings):
        server, port = create_server("127.0.0.1:0", ServerConfig(**settings))
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS)
        started.append((server, channel))
        return server, pb_grpc.GradwireServiceStub(channel), channel

    yield start
    for server, channel in started:
        channel.close()
        server.stop(None).wait()


@pytest.fixture(scope="module")
def server():
    """One server with the default settings, shared by the tests of a module."""
    server, _ = create_server("127.0.0.1:0")
    yield server
    server.stop(None).wait()


@pytest.fixture(scope="module")
def channel(server):
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}", options=CHANNEL_OPTIONS)
    yield channel
    channel.close()


@pytest.fixture(scope="module")
def stub(channel):
    return pb_grpc.GradwireServiceStub(channel)
