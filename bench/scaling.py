"""Scaling out: one server vs 2 replicas behind HAProxy (deploy/local/cluster.sh), and what the proxy
itself costs (a bare gRPC echo behind the same proxy configuration vs the echo reached directly).

With 32 clients (threads, each on its own connection): tutorial Compute calls, and Backward calls on
one retained session per client (retain_graph=True; the proxy hashes each session onto a replica).
Rows report calls/s ratios (targets: 2 replicas >= 1.7x one server) and the proxy's added p50
(target: <= 0.3 ms). Skipped, saying so, where haproxy is not installed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import grpc
import numpy as np

from bench.plan import Plan
from bench.rows import Target, row
from bench.service import ECHO_METHOD, echo_server, gradwire_server, tutorial_request
from bench.serving import _run_clients
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

LOCAL = Path(__file__).resolve().parents[1] / "deploy" / "local"
CLIENTS = 32
# (calls per repetition, repetitions) by plan
SIZES = {"full": (3200, 3), "quick": (1600, 2), "tiny": (64, 1)}
SESSION_KEY = "gradwire-session-id"


def _free_base_port(count: int) -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free range of ports")


@contextlib.contextmanager
def cluster(replicas: int) -> Iterator[str]:
    """deploy/local/cluster.sh with `replicas` replicas; yields the proxy's address."""
    port = _free_base_port(replicas + 1)
    with tempfile.TemporaryDirectory(prefix="gradwire-bench-cluster-") as state:
        env = dict(os.environ, GRADWIRE_CLUSTER_DIR=state, GRADWIRE_BIN=str(Path(sys.executable).parent / "gradwire"))
        script = str(LOCAL / "cluster.sh")
        subprocess.run([script, "up", "--replicas", str(replicas), "--port", str(port)], env=env, check=True,
                       capture_output=True, timeout=180)
        try:
            yield f"127.0.0.1:{port}"
        finally:
            subprocess.run([script, "down"], env=env, capture_output=True, timeout=120)


@contextlib.contextmanager
def proxied(backend: str) -> Iterator[str]:
    """HAProxy with the cluster's configuration in front of one backend that has no health service (the
    echo): the same frontend, balancing and retries, without the active check."""
    port = _free_base_port(1)
    config = (LOCAL / "haproxy.cfg.in").read_text().replace("@BIND@", f"127.0.0.1:{port}")
    config = config.replace("default-server proto h2 check ", "default-server proto h2 ")
    config = config.replace("@SERVERS@", f"    server echo {backend}")
    with tempfile.TemporaryDirectory(prefix="gradwire-bench-proxy-") as folder:
        path = Path(folder) / "haproxy.cfg"
        path.write_text(config)
        process = subprocess.Popen(["haproxy", "-db", "-f", str(path)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            _wait_connectable(port)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_connectable(port: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def _compute(channel: grpc.Channel) -> Callable[[], Any]:
    stub, request = pb_grpc.GradwireServiceStub(channel), tutorial_request()
    return lambda: stub.Compute(request)


def _session_backward(channel: grpc.Channel) -> Callable[[], Any]:
    """A session holding the tutorial graph, then Backward(retain_graph=True) on it, routed by its id."""
    stub, graph = pb_grpc.GradwireServiceStub(channel), tutorial_request().graph
    session_id = secrets.token_hex(16)
    metadata = ((SESSION_KEY, session_id),)
    stub.CreateSession(pb.CreateSessionRequest(session_id=session_id, graph=graph), metadata=metadata)
    request = pb.BackwardRequest(session_id=session_id, roots=[pb.Root(id="out")], retain_graph=True)
    return lambda: stub.Backward(request, metadata=metadata)


def _echo(channel: grpc.Channel) -> Callable[[], Any]:
    method, payload = channel.unary_unary(ECHO_METHOD), tutorial_request().SerializeToString()
    return lambda: method(payload)


def _stats(runs: list[tuple[list[float], float]]) -> dict[str, float]:
    every = np.concatenate([times for times, _ in runs]) * 1e3
    return {"p50_ms": float(np.percentile(every, 50)), "p99_ms": float(np.percentile(every, 99)),
            "calls_per_s": len(every) / sum(elapsed for _, elapsed in runs)}


def _rates(runs: list[tuple[list[float], float]]) -> list[float]:
    return [len(times) / elapsed for times, elapsed in runs]


def _p50s(runs: list[tuple[list[float], float]]) -> list[float]:
    return [float(np.percentile(times, 50)) * 1e3 for times, _ in runs]


def run(plan: Plan) -> list[dict]:
    if shutil.which("haproxy") is None:
        print("scaling: skipped, haproxy is not installed (apt-get install haproxy)", file=sys.stderr)
        return []
    calls, repeats = SIZES.get(plan.name, SIZES["quick"])
    measured: dict[str, dict[str, list[tuple[list[float], float]]]] = {"compute": {}, "backward": {}, "echo": {}}
    with gradwire_server() as one, cluster(2) as two, echo_server() as echo, proxied(echo) as echo_via_proxy:
        for name, make_call, targets in (("compute", _compute, {"one": one, "two": two}),
                                         ("backward", _session_backward, {"one": one, "two": two}),
                                         ("echo", _echo, {"direct": echo, "proxy": echo_via_proxy})):
            for _ in range(repeats):  # the sides take turns, so both see the same noise
                for side, address in targets.items():
                    measured[name].setdefault(side, []).append(_run_clients(address, make_call, CLIENTS, calls))
    rows = []
    for name, workload in (("compute", "Compute, tutorial graph"), ("backward", "session Backward, tutorial graph")):
        one, two = measured[name]["one"], measured[name]["two"]
        rows.append(row("scaling", f"{workload}, {CLIENTS} clients: 2 replicas behind HAProxy", "calls/s",
                        _rates(two), "one server", _rates(one), Target(">= 1.7", ratio_min=1.7),
                        higher_is_better=True, gradwire_stats=_stats(two), baseline_stats=_stats(one)))
    direct, via_proxy = measured["echo"]["direct"], measured["echo"]["proxy"]
    direct_p50 = float(np.median(_p50s(direct)))
    rows.append(row("scaling", f"bare gRPC echo, {CLIENTS} clients: through HAProxy", "p50 ms", _p50s(via_proxy),
                    "echo direct", _p50s(direct),
                    Target("adds <= 0.3 ms", ratio_max=(direct_p50 + 0.3) / direct_p50),
                    gradwire_stats=_stats(via_proxy), baseline_stats=_stats(direct),
                    added_p50_ms=float(np.median(_p50s(via_proxy))) - direct_p50))
    return rows
