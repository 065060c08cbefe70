"""`gradwire demo`: the product's main job end to end.

Starts `python -m gradwire.server` on a free loopback port, waits until its health check says SERVING,
runs the tutorial through the SDK printing each gradient (and the errors PyTorch gives), then stops the
server with SIGTERM, as an orchestrator would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .client import Client
from .tutorial import run_tutorial

STARTUP_SECONDS = 60.0
STOP_SECONDS = 30.0


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health_status(address: str, *, timeout: float = 2.0, service: str = "",
                  channel: grpc.Channel | None = None) -> str:
    """The server's grpc.health.v1 status name (SERVING, NOT_SERVING, ...), or UNREACHABLE.

    channel: one to use (e.g. with TLS) instead of a plaintext channel to address."""
    if channel is None:
        with grpc.insecure_channel(address) as plaintext:
            return health_status(address, timeout=timeout, service=service, channel=plaintext)
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.RpcError as error:
        return "UNREACHABLE" if error.code() in (grpc.StatusCode.UNAVAILABLE,
                                                   grpc.StatusCode.DEADLINE_EXCEEDED) else error.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def wait_until_serving(address: str, process: subprocess.Popen, deadline_seconds: float) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before serving")
        if health_status(address, timeout=1.0) == "SERVING":
            return
        time.sleep(0.1)
    raise RuntimeError(f"the server at {address} was not SERVING after {deadline_seconds:g} s")


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, then the grace period, then SIGKILL if it is still running."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def main(out: TextIO | None = None) -> int:
    out = out or sys.stdout
    address = f"127.0.0.1:{free_loopback_port()}"
    with tempfile.TemporaryFile(mode="w+") as server_log:
        command = [sys.executable, "-m", "gradwire.server", "--address", address]
        print(f"starting: {' '.join(command)}", file=out)
        process = subprocess.Popen(command, stdout=server_log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            wait_until_serving(address, process, STARTUP_SECONDS)
            print(f"server SERVING on {address} (pid {process.pid})\n", file=out)
            ok = run_and_print(address, out)
        except Exception:
            server_log.seek(0)
            print(f"server output:\n{server_log.read()}", file=sys.stderr)
            raise
        finally:
            if process.poll() is None:
                code = stop(process)
                print(f"\nserver stopped with SIGTERM (exit code {code})", file=out)
    return 0 if ok else 1


def run_and_print(address: str, out: TextIO) -> bool:
    with Client(address) as torch:
        tutorial = run_tutorial(torch)
        for step in tutorial.steps:
            if step.error is not None:
                shown = f"{type(step.error).__name__}: {step.error}"
            else:
                shown = f"{step.result}"
            mark = "" if step.as_expected else "   <-- UNEXPECTED"
            print(f"{step.title}\n    -> {shown}{mark}", file=out)
        counts = ", ".join(f"{name} {count}" for name, count in sorted(torch.rpc_counts.items()))
        print(f"\nround trips: {torch.rpc_total} ({counts})", file=out)
    return tutorial.ok
