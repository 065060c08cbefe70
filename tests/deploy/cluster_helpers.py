"""A local cluster for the tests (deploy/local/cluster.sh: HAProxy and gradwire replicas on loopback)
and a client interceptor that records which replica answered each call ("gradwire-replica")."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import grpc

from deploy_helpers import DEPLOY
from gradwire.client import Client
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

CLUSTER_SH = DEPLOY / "local" / "cluster.sh"
REPLICA_KEY = "gradwire-replica"
SESSION_KEY = "gradwire-session-id"


def free_port_range(count: int) -> int:
    """A port P such that P..P+count-1 are free on 127.0.0.1 now (the kernel's pick, then its neighbours)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count >= 65536:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free range of ports on 127.0.0.1")


class Cluster:
    """deploy/local/cluster.sh driven from a test: up, status, restart, SIGKILL, down."""

    def __init__(self, state_dir: Path, replicas: int) -> None:
        self.replicas = replicas
        self.port = free_port_range(replicas + 1)
        self.address = f"127.0.0.1:{self.port}"
        self.env = dict(os.environ, GRADWIRE_CLUSTER_DIR=str(state_dir),
                        GRADWIRE_BIN=str(Path(sys.executable).parent / "gradwire"))

    def run(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run([str(CLUSTER_SH), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, f"cluster.sh {' '.join(args)} failed: {done.stderr}"
        return done.stdout

    def up(self) -> None:
        self.run("up", "--replicas", str(self.replicas), "--port", str(self.port))

    def status(self) -> dict[str, dict[str, Any]]:
        lines = [json.loads(line) for line in self.run("status").splitlines() if line.strip()]
        return {line["replica"]: line for line in lines}

    def kill(self, replica: str) -> None:
        os.kill(self.status()[replica]["pid"], signal.SIGKILL)

    def restart(self, replica: str) -> None:
        self.run("restart", replica)

    def down(self) -> None:
        self.run("down")


class ReplicaRecorder(grpc.UnaryUnaryClientInterceptor):
    """Records, per session id, the replicas that answered its calls, and the replica of every call."""

    def __init__(self) -> None:
        self.by_session: dict[str, set[str]] = defaultdict(set)
        self.calls: list[tuple[str, str, str]] = []  # (method, session id, replica)
        self._lock = threading.Lock()

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = continuation(details, request)
        replica = dict(call.initial_metadata() or ()).get(REPLICA_KEY, "")
        session = dict(details.metadata or ()).get(SESSION_KEY, "")
        with self._lock:
            self.calls.append((details.method.rsplit("/", 1)[-1], session, replica))
            if session and replica:
                self.by_session[session].add(replica)
        return call

    def replicas_of(self, client: Client) -> set[str]:
        return set(self.by_session.get(client.session_id, set()))


def recording_client(address: str, recorder: ReplicaRecorder, **options: Any) -> Client:
    """A Client whose calls go through `recorder` as well as the SDK's own interceptor."""
    client = Client(address, **options)
    transport = client._runtime.transport
    transport.stub = pb_grpc.GradwireServiceStub(
        grpc.intercept_channel(transport._raw_channel, transport.counter, recorder))
    return client
