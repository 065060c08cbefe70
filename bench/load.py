"""A bounded load test: many clients at once against one server process, well-formed calls mixed with
abusive ones, while a prober checks health every 200 ms.

- `compute` clients send the tutorial's Compute (and check its gradient) back to back;
- `slow` clients open uploads that send a header and then dribble or stall (ended by the server's stream
  idle time, or refused at its stream cap);
- `oversized` clients send requests past the budgets (a 512 MiB clone of an expanded scalar, a sum over
  2**40 elements, a leaf over the per-request budget).

Well-formed calls must all succeed and every health check, made from a process of its own as a kubelet
would, must be answered SERVING within its deadline (1 s by default); the abusive calls must be refused
with RESOURCE_EXHAUSTED or ended (CANCELLED).

    python -m bench.load [--seconds 20] [--clients 32]
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.service import CHANNEL_OPTIONS, _node, _tensor, gradwire_server_process, tutorial_request
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

# The tutorial: a = [2, 3]; out = mean(3 * (a + 3)**2); d out / d a = 3 * (a + 3).
TUTORIAL_GRAD = np.array([15.0, 18.0], np.float32)
SERVER_FLAGS = ("--workers", "16", "--max-request-bytes", "16MiB", "--max-session-bytes", "256MiB",
                "--stream-idle-seconds", "2", "--max-request-work", str(1 << 28))


def _oversized_requests() -> list[pb.ComputeRequest]:
    scalar = pb.Leaf(id="x", value=_tensor(np.ones((1, 1), np.float32)))
    expanded = pb.Node(id="e", op="expand", inputs=[pb.Operand(ref="x")],
                       attrs={"shape": pb.AttrValue(ints=pb.Ints(values=[16384, 8192]))})
    huge = pb.Node(id="e", op="expand", inputs=[pb.Operand(ref="x")],
                   attrs={"shape": pb.AttrValue(ints=pb.Ints(values=[1 << 20, 1 << 20]))})
    big_leaf = pb.Leaf(id="x", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[(18 << 20) // 4],
                                               data=bytes(18 << 20)))
    return [
        pb.ComputeRequest(graph=pb.Graph(leaves=[scalar], nodes=[expanded, _node("y", "clone", "e")])),
        pb.ComputeRequest(graph=pb.Graph(leaves=[scalar], nodes=[huge, _node("s", "sum", "e")])),
        pb.ComputeRequest(graph=pb.Graph(leaves=[big_leaf], nodes=[_node("s", "sum", "x")])),
    ]


class Tally:
    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def add(self, key: str, failure: str = "") -> None:
        with self._lock:
            self.counts[key] += 1
            if failure:
                self.failures.append(failure)


def _compute_client(channel: grpc.Channel, stop: threading.Event, tally: Tally) -> None:
    stub = pb_grpc.GradwireServiceStub(channel)
    request = tutorial_request()
    while not stop.is_set():
        try:
            response = stub.Compute(request, timeout=60)
            grad = np.frombuffer(response.grads[0].tensor.data, np.float32)
            ok = np.allclose(grad, TUTORIAL_GRAD)
            tally.add("compute ok" if ok else "compute wrong", "" if ok else f"wrong gradient {grad}")
        except grpc.RpcError as error:
            tally.add("compute error", f"Compute: {error.code().name} {error.details()}")


def _slow_client(channel: grpc.Channel, stop: threading.Event, tally: Tally) -> None:
    stub = pb_grpc.GradwireServiceStub(channel)
    while not stop.is_set():
        def parts():
            yield pb.UploadTensorRequest(header=pb.Tensor(dtype=pb.DTYPE_BOOL, shape=[1 << 20]))
            for _ in range(8):
                if stop.wait(0.5):
                    return
                yield pb.UploadTensorRequest(chunk=bytes(16))
            stop.wait(10)  # then stall

        try:
            stub.UploadTensor(parts(), timeout=60)
            tally.add("slow upload finished")
        except grpc.RpcError as error:
            expected = error.code() in (grpc.StatusCode.CANCELLED, grpc.StatusCode.RESOURCE_EXHAUSTED,
                                        grpc.StatusCode.INVALID_ARGUMENT)
            tally.add(f"slow upload {error.code().name}", "" if expected else f"upload: {error.details()}")
            if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                stop.wait(0.2)


def _oversized_client(channel: grpc.Channel, stop: threading.Event, tally: Tally) -> None:
    stub = pb_grpc.GradwireServiceStub(channel)
    requests = _oversized_requests()
    k = 0
    while not stop.is_set():
        k += 1
        try:
            stub.Compute(requests[k % len(requests)], timeout=60)
            tally.add("oversized accepted", "an oversized request was accepted")
        except grpc.RpcError as error:
            refused = error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            tally.add(f"oversized {error.code().name}", "" if refused else f"oversized: {error.details()}")


def probe(address: str, seconds: float, timeout: float) -> dict[str, Any]:
    """Health checks every 200 ms for `seconds`: how many, how many failed, their latencies."""
    channel = grpc.insecure_channel(address)
    health = health_pb2_grpc.HealthStub(channel)
    latencies, failures = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        try:
            status = health.Check(health_pb2.HealthCheckRequest(), timeout=timeout).status
            if status != health_pb2.HealthCheckResponse.SERVING:
                failures.append(f"health {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}")
        except grpc.RpcError as error:
            failures.append(f"health: {error.code().name}")
        latencies.append(time.perf_counter() - started)
        time.sleep(0.2)
    channel.close()
    latencies.sort()
    return {"checks": len(latencies), "failures": failures, "p50_s": latencies[len(latencies) // 2],
            "max_s": latencies[-1]}


def _probe_process(address: str, seconds: float, timeout: float) -> subprocess.Popen:
    """The prober in a process of its own (as a kubelet would be): the clients' GIL does not slow it."""
    return subprocess.Popen([sys.executable, "-m", "bench.load", "--probe", address, "--seconds", str(seconds),
                             "--health-timeout", str(timeout)], stdout=subprocess.PIPE, text=True,
                            cwd=str(Path(__file__).resolve().parents[1]))


def run(address: str, seconds: float = 20.0, clients: int = 32, health_timeout: float = 1.0,
        abusive: bool = True) -> dict[str, Any]:
    """Runs the mix (or only well-formed Computes) against a server at `address`; returns the tally."""
    slow = max(1, clients // 8) if abusive else 0
    oversized = max(1, clients // 8) if abusive else 0
    roles: list[Callable[..., None]] = ([_slow_client] * slow + [_oversized_client] * oversized
                                        + [_compute_client] * (clients - slow - oversized))
    options = CHANNEL_OPTIONS + [("grpc.use_local_subchannel_pool", 1)]  # a connection per client
    channels = [grpc.insecure_channel(address, options=options) for _ in roles]
    stop = threading.Event()
    tally = Tally()
    threads = [threading.Thread(target=role, args=(channel, stop, tally), daemon=True)
               for role, channel in zip(roles, channels)]
    prober = _probe_process(address, seconds, health_timeout)
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    for channel in channels:
        channel.close()
    health = json.loads(prober.communicate(timeout=120)[0])
    computing = clients - slow - oversized
    return {
        "seconds": seconds, "clients": clients, "counts": dict(tally.counts),
        "computes_per_client": tally.counts["compute ok"] / max(1, computing),
        "failures": (tally.failures + health["failures"])[:20],
        "failure_count": len(tally.failures) + len(health["failures"]),
        "health_checks": health["checks"], "health_p50_s": health["p50_s"], "health_max_s": health["max_s"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--health-timeout", type=float, default=1.0)
    parser.add_argument("--probe", metavar="ADDRESS", help="only probe health at ADDRESS (prints JSON)")
    arguments = parser.parse_args(argv)
    if arguments.probe:
        print(json.dumps(probe(arguments.probe, arguments.seconds, arguments.health_timeout)))
        return 0
    with gradwire_server_process(*SERVER_FLAGS) as (address, _):
        result = run(address, arguments.seconds, arguments.clients, arguments.health_timeout)
    with gradwire_server_process(*SERVER_FLAGS) as (address, _):  # the same clients, all well-formed
        baseline = run(address, arguments.seconds, arguments.clients, arguments.health_timeout, abusive=False)
    for key, value in result.items():
        print(f"{key}: {value}")
    print(f"computes per client, mixed / all well-formed: "
          f"{result['computes_per_client'] / max(baseline['computes_per_client'], 1e-9):.2f}")
    print(f"health p50, mixed / all well-formed: {result['health_p50_s'] / baseline['health_p50_s']:.2f}")
    return 0 if result["failure_count"] == 0 and baseline["failure_count"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
