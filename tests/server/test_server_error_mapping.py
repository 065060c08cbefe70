"""The error boundary over real gRPC: engine errors keep their status and torch type, server refusals
their code, and an unexpected fault is INTERNAL with no stack trace sent (but logged)."""

from __future__ import annotations

import logging
from concurrent import futures

import grpc
import pytest

from gradwire.rules import errors as engine_errors
from gradwire.server.errors import RequestError, rpc_errors, with_node
from server_helpers import raises_status

FAULTS = {
    "freed": lambda: _in_node(engine_errors.GraphFreedError("Trying to backward through the graph a second time")),
    "budget": lambda: _in_node(engine_errors.BudgetExceededError("add[100000, 100000] would pass the budget")),
    "index": lambda: _in_node(engine_errors.IndexOutOfRange("index 5 is out of bounds")),
    "refused": lambda: _refuse(RequestError(grpc.StatusCode.NOT_FOUND, "session x not found")),
    "bug": lambda: 1 / 0,
}


def _refuse(error: Exception) -> None:
    raise error


def _in_node(error: Exception) -> None:
    with with_node("n7", "node 'n7' (add)"):
        raise error


class Faulty:
    @rpc_errors
    def Call(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        FAULTS[request.decode()]()
        return b"unreachable"


@pytest.fixture(scope="module")
def call():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    faulty = Faulty()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "test.Faulty", {"Call": grpc.unary_unary_rpc_method_handler(faulty.Call)}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield lambda fault: channel.unary_unary("/test.Faulty/Call")(fault.encode())
    channel.close()
    server.stop(None)


@pytest.mark.parametrize("fault, code, torch_type", [
    ("freed", grpc.StatusCode.FAILED_PRECONDITION, "RuntimeError"),
    ("budget", grpc.StatusCode.RESOURCE_EXHAUSTED, "RuntimeError"),
    ("index", grpc.StatusCode.INVALID_ARGUMENT, "IndexError"),
])
def test_engine_errors_keep_their_status_type_and_node(call, fault, code, torch_type):
    with raises_status(code, "node 'n7' (add): ") as error:
        call(fault)
    assert error["trailers"] == {"gradwire-error-type": torch_type, "gradwire-node-id": "n7"}


def test_server_refusals_keep_their_code(call):
    with raises_status(grpc.StatusCode.NOT_FOUND, "session x not found"):
        call("refused")


def test_an_unexpected_fault_is_internal_without_details_and_logged(call, caplog):
    with caplog.at_level(logging.ERROR, logger="gradwire.server"):
        with raises_status(grpc.StatusCode.INTERNAL, "internal error in Call (logged on the server)") as error:
            call("bug")
    assert "Traceback" not in error["details"] and "ZeroDivisionError" not in error["details"]
    assert any(record.exc_info and record.exc_info[0] is ZeroDivisionError for record in caplog.records)
