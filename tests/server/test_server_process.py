"""The real server process: `python -m gradwire.server` (and `gradwire serve` when the CLI has it),
health, reflection, settings from the environment, and a graceful stop on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc
from server_helpers import arrays, graph, leaf, node, root

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _gradwire_serve() -> list[str]:
    """The installed `gradwire serve` command (the package's console script, next to this Python)."""
    command = Path(sys.executable).parent / "gradwire"
    assert command.exists(), f"the gradwire console script is not installed next to {sys.executable}"
    return [str(command), "serve"]


class ServerProcess:
    def __init__(self, command: list[str], **environ: str) -> None:
        env = dict(os.environ, **environ)
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
        self.log: list[str] = []
        for line in self.process.stderr:
            self.log.append(line)
            if match := re.search(r"listening on ([\d.]+):(\d+)", line):
                self.port = int(match.group(2))
                break
        else:
            raise AssertionError(f"server did not start: {''.join(self.log)}")
        self._drain = threading.Thread(target=lambda: self.log.extend(self.process.stderr), daemon=True)
        self._drain.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")

    def close(self) -> None:
        self.channel.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


@pytest.fixture
def server_process():
    started: list[ServerProcess] = []

    def start(command: list[str] | None = None, **environ: str) -> ServerProcess:
        started.append(ServerProcess(command or [sys.executable, "-m", "gradwire.server"], **environ))
        return started[-1]

    yield start
    for process in started:
        process.close()


COMMANDS = {"python -m gradwire.server": [sys.executable, "-m", "gradwire.server"], "gradwire serve": None}


@pytest.mark.parametrize("name", COMMANDS)
def test_the_server_process_serves_health_reflection_and_the_tutorial(server_process, name):
    command = COMMANDS[name] or _gradwire_serve()
    # the address comes from the environment
    running = server_process(command, GRADWIRE_ADDRESS="127.0.0.1:0", GRADWIRE_LOG_LEVEL="INFO")
    health = health_pb2_grpc.HealthStub(running.channel)
    for service in ("", "gradwire.v1.GradwireService"):
        assert health.Check(health_pb2.HealthCheckRequest(service=service)).status == SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(running.channel)
    answer = next(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    services = {service.name for service in answer.list_services_response.service}
    assert {"gradwire.v1.GradwireService", "grpc.health.v1.Health"} <= services
    stub = pb_grpc.GradwireServiceStub(running.channel)
    response = stub.Compute(pb.ComputeRequest(
        graph=graph(leaf("a", [2, 3], requires_grad=True), node("b", "add", "a", 3), node("bb", "mul", "b", "b"),
                    node("c", "mul", "bb", 3), node("out", "mean", "c")), roots=[root("out")]))
    np.testing.assert_array_equal(arrays(response.grads)["a"], [15, 18])


def test_sigterm_turns_health_off_and_lets_the_in_flight_call_finish(server_process):
    running = server_process(GRADWIRE_GRACE_SECONDS="30")
    health_updates = health_pb2_grpc.HealthStub(running.channel).Watch(
        health_pb2.HealthCheckRequest(service="gradwire.v1.GradwireService"))
    assert next(health_updates).status == SERVING

    first_chunk_sent, may_finish = threading.Event(), threading.Event()
    data = np.arange(1024, dtype=np.float32)

    def parts():
        yield pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[1024]))
        yield pb.UploadTensorRequest(chunk=data[:512].tobytes())
        first_chunk_sent.set()  # gRPC asks for the next part only after sending this one
        may_finish.wait(30)
        yield pb.UploadTensorRequest(chunk=data[512:].tobytes())

    stub = pb_grpc.GradwireServiceStub(running.channel)
    in_flight = stub.UploadTensor.future(parts())
    assert first_chunk_sent.wait(30)
    running.process.send_signal(signal.SIGTERM)
    assert next(health_updates).status == NOT_SERVING
    health_updates.cancel()  # a Watch stream is an in-flight call too: it would hold the grace period
    with pytest.raises(grpc.RpcError) as refused:
        stub.ListOps(pb.ListOpsRequest(), timeout=10)
    assert refused.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    may_finish.set()
    assert in_flight.result(timeout=30).received_bytes == data.nbytes
    assert running.process.wait(timeout=30) == 0
    assert any("SIGTERM" in line for line in running.log)


def test_sigint_stops_the_server_cleanly(server_process):
    running = server_process()
    pb_grpc.GradwireServiceStub(running.channel).ListOps(pb.ListOpsRequest())
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=30) == 0


def test_a_second_signal_does_not_wait_for_the_grace_period(server_process):
    running = server_process(GRADWIRE_GRACE_SECONDS="600")
    first_chunk_sent, never = threading.Event(), threading.Event()

    def parts():
        yield pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[4]))
        yield pb.UploadTensorRequest(chunk=bytes(8))
        first_chunk_sent.set()
        never.wait(60)  # this call would hold a 600 s grace period

    in_flight = pb_grpc.GradwireServiceStub(running.channel).UploadTensor.future(parts())
    assert first_chunk_sent.wait(30)
    running.process.send_signal(signal.SIGTERM)
    assert _eventually_logged(running, "SIGTERM: stopping")
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=30) == 0
    with pytest.raises(grpc.RpcError):
        in_flight.result(timeout=30)
    never.set()


def _eventually_logged(running: ServerProcess, text: str, attempts: int = 300) -> bool:
    for _ in range(attempts):
        if any(text in line for line in running.log):
            return True
        time.sleep(0.05)
    return False
