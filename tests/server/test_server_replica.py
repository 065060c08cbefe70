"""Replica identity and draining: every response names the replica in its "gradwire-replica" initial
metadata (unary and streaming calls, errors, health, CreateSession's own metadata kept), and a replica
given --drain-seconds answers SIGTERM with NOT_SERVING and refuses new sessions while it keeps serving
the sessions it holds, then stops and exits 0."""

from __future__ import annotations

import signal
import socket
import sys
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc
from server_helpers import arrays, graph, leaf, node, root
from test_server_process import ServerProcess

REPLICA = "gradwire-replica"


def replica_of(call: grpc.Call) -> str | None:
    return dict(call.initial_metadata() or ()).get(REPLICA)


def test_every_response_names_the_replica(start_server):
    _, stub, channel = start_server(replica_id="replica-a")
    _, call = stub.ListOps.with_call(pb.ListOpsRequest())
    assert replica_of(call) == "replica-a"
    response, call = stub.CreateSession.with_call(
        pb.CreateSessionRequest(session_id="ab" * 16, graph=graph(leaf("a", [2.0, 3.0], requires_grad=True),
                                                                  node("s", "sum", "a"))))
    metadata = dict(call.initial_metadata())
    assert metadata[REPLICA] == "replica-a" and metadata["gradwire-session-id"] == "ab" * 16
    _, call = stub.Backward.with_call(pb.BackwardRequest(session_id="ab" * 16, roots=[root("s")]))
    assert replica_of(call) == "replica-a"
    stream = stub.DownloadTensor(pb.DownloadTensorRequest(session_id="ab" * 16, id="a", chunk_bytes=4))
    assert len(list(stream)) == 2 and replica_of(stream) == "replica-a"  # header and one chunk (64 KiB minimum)
    with pytest.raises(grpc.RpcError) as missing:
        stub.Extend(pb.ExtendRequest(session_id="cd" * 16))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND and replica_of(missing.value) == "replica-a"
    _, call = health_pb2_grpc.HealthStub(channel).Check.with_call(health_pb2.HealthCheckRequest())
    assert replica_of(call) == "replica-a"


def test_the_default_replica_id_is_the_host_name_and_port(start_server):
    server, stub, _ = start_server()
    _, call = stub.ListOps.with_call(pb.ListOpsRequest())
    assert replica_of(call) == f"{socket.gethostname()}:{server.port}"


def test_a_draining_replica_refuses_new_sessions_serves_held_ones_and_exits_zero(tmp_path):
    running = ServerProcess([sys.executable, "-m", "gradwire.server", "--address", "127.0.0.1:0"],
                            GRADWIRE_DRAIN_SECONDS="3", GRADWIRE_REPLICA_ID="draining")
    try:
        stub = pb_grpc.GradwireServiceStub(running.channel)
        health = health_pb2_grpc.HealthStub(running.channel)
        stub.CreateSession(pb.CreateSessionRequest(
            session_id="ef" * 16, graph=graph(leaf("a", [1.0, 2.0], requires_grad=True), node("s", "sum", "a"))))
        running.process.send_signal(signal.SIGTERM)
        for _ in range(200):  # the handler runs between the interpreter's bytecodes: soon, not at once
            if health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.NOT_SERVING:
                break
            time.sleep(0.01)
        else:
            pytest.fail("health never turned NOT_SERVING")
        with pytest.raises(grpc.RpcError) as refused:
            stub.CreateSession(pb.CreateSessionRequest(session_id="01" * 16))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE and "draining" in refused.value.details()
        # The session it holds is still served during the drain.
        response = stub.Backward(pb.BackwardRequest(session_id="ef" * 16, roots=[root("s")]))
        np.testing.assert_array_equal(arrays(response.grads)["a"], [1.0, 1.0])
        assert running.process.wait(timeout=30) == 0
        assert any("draining for 3 s" in line for line in running.log)
    finally:
        running.close()
