"""Access-log lines in JSON: one per call, for a success and each class of error, with no token and no
tensor data in them; and a `gradwire serve --log-format json` process logging that way."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys

import grpc
import numpy as np
import pytest

from gradwire.server.logs import JsonFormatter
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc
from production_helpers import TOKEN_ALICE, write_tokens

ALICE = (("authorization", f"Bearer {TOKEN_ALICE}"),)
# Leaf values whose bytes would show up if tensor data ever reached the log.
MARKER = np.array([1234.5, 6789.25], np.float32)


@pytest.fixture
def access_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gradwire.access")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


def _graph(*nodes):
    leaf = pb.Leaf(id="a", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[2], data=MARKER.tobytes()),
                   requires_grad=True)
    return pb.Graph(leaves=[leaf], nodes=list(nodes))


def test_one_json_line_per_call_for_each_outcome(start_server, tmp_path, access_lines):
    server = start_server(auth_tokens=str(write_tokens(tmp_path)), max_sessions=1)
    total = pb.Node(id="s", op="sum", inputs=[pb.Operand(ref="a")])
    square = pb.Node(id="p", op="mul", inputs=[pb.Operand(ref="a"), pb.Operand(ref="a")])
    squares = pb.Node(id="q", op="sum", inputs=[pb.Operand(ref="p")])  # saves a: a second backward fails
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        attempts = [
            lambda: stub.Compute(pb.ComputeRequest(graph=_graph(total), roots=[pb.Root(id="s")]), metadata=ALICE),
            lambda: stub.Compute(pb.ComputeRequest(graph=_graph(pb.Node(id="bad", op="nope"))), metadata=ALICE),
            lambda: stub.Compute(pb.ComputeRequest(), metadata=(("authorization", "Bearer wrong-secret-42"),)),
            lambda: stub.Read(pb.ReadRequest(session_id="a" * 32), metadata=ALICE),
            lambda: stub.CreateSession(pb.CreateSessionRequest(session_id="b" * 32, graph=_graph(square, squares)),
                                       metadata=ALICE),
            lambda: stub.CreateSession(pb.CreateSessionRequest(), metadata=ALICE),
            lambda: stub.Backward(pb.BackwardRequest(session_id="b" * 32, roots=[pb.Root(id="q")]), metadata=ALICE),
            lambda: stub.Backward(pb.BackwardRequest(session_id="b" * 32, roots=[pb.Root(id="q")]), metadata=ALICE),
        ]
        for attempt in attempts:
            try:
                attempt()
            except grpc.RpcError:
                pass
    lines = access_lines()
    assert [(line["method"].rsplit("/", 1)[1], line["code"]) for line in lines] == [
        ("Compute", "OK"), ("Compute", "INVALID_ARGUMENT"), ("Compute", "UNAUTHENTICATED"), ("Read", "NOT_FOUND"),
        ("CreateSession", "OK"), ("CreateSession", "RESOURCE_EXHAUSTED"), ("Backward", "OK"),
        ("Backward", "FAILED_PRECONDITION"),
    ]
    ok, bad_op, unauthenticated, _, created = lines[:5]
    assert ok["principal"] == "alice" and ok["request_bytes"] > 0 and ok["response_bytes"] > 0
    assert ok["peer"].startswith("ipv4:127.0.0.1:") and ok["duration_ms"] >= 0
    assert {"time", "level", "logger", "event"} <= set(ok) and ok["logger"] == "gradwire.access"
    assert bad_op["node_id"] == "bad" and "nope" in bad_op["error"]
    assert unauthenticated["principal"] == "anonymous" and "not valid" in unauthenticated["error"]
    assert created["session_id"] == "b" * 32 and lines[-1]["session_id"] == "b" * 32
    text = json.dumps(lines)
    for secret in ("wrong-secret-42", TOKEN_ALICE, "Bearer"):
        assert secret not in text
    assert "1234.5" not in text and MARKER.tobytes().hex() not in text


def test_serve_writes_json_lines_and_reloads_on_sighup(tmp_path):
    tokens = write_tokens(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRADWIRE_LOG_FORMAT": "json", "GRADWIRE_AUTH_TOKENS": str(tokens)}
    process = subprocess.Popen([sys.executable, "-m", "gradwire.server", "--address", "127.0.0.1:0"],
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        started = json.loads(process.stderr.readline())
        assert started["level"] == "INFO" and "listening on 127.0.0.1:" in started["message"]
        port = int(started["message"].rsplit(":", 1)[1])
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = pb_grpc.GradwireServiceStub(channel).GetServerInfo(pb.GetServerInfoRequest(), metadata=ALICE,
                                                                       timeout=10)
        assert info.principal == "alice"
        access = json.loads(process.stderr.readline())
        assert (access["event"], access["code"], access["principal"]) == ("access", "OK", "alice")
        tokens.write_text("carol:carol-token-abcdef0123\n")
        process.send_signal(signal.SIGHUP)
        messages = [json.loads(process.stderr.readline())["message"] for _ in range(2)]
        assert "SIGHUP" in messages[0] and "reloaded 1 token(s)" in messages[1]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.RpcError) as refused:
                pb_grpc.GradwireServiceStub(channel).GetServerInfo(pb.GetServerInfoRequest(), metadata=ALICE,
                                                                    timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        process.stderr.close()


def test_access_log_off_writes_no_lines(start_server, access_lines):
    server = start_server(access_log="off")
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        pb_grpc.GradwireServiceStub(channel).GetServerInfo(pb.GetServerInfoRequest())
    assert access_lines() == []
