"""Service benchmarks in the harness's row shape, on servers in subprocesses (bench.service's helpers).

- latency: Compute on the tutorial graph vs a bare gRPC echo of the same request bytes, p50/p99 and
  calls/s, with 1 and with 8 concurrent clients (threads, each on its own connection);
- sessions: k Backward calls on one retained session (its CreateSession and CloseSession included) vs
  k one-shot Compute calls that resend and recompute the MLP graph;
- Jacobian: one Grad call with a batch of identity seeds (is_grads_batched) vs n single-seed calls.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import grpc
import numpy as np

from bench.plan import Plan
from bench.rows import Target, interleaved, row
from bench.service import (CHANNEL_OPTIONS, ECHO_METHOD, _node, _tensor, echo_server, gradwire_server,
                           mlp_graph, tutorial_request)
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

# Its own connection per client: channels to one address otherwise share a subchannel.
CLIENT_OPTIONS = CHANNEL_OPTIONS + [("grpc.use_local_subchannel_pool", 1)]

CallFactory = Callable[[grpc.Channel], Callable[[], Any]]


def _run_clients(address: str, make_call: CallFactory, clients: int, calls: int) -> tuple[list[float], float]:
    """`calls` calls shared by `clients` threads started together; per-call seconds and the wall time."""
    channels = [grpc.insecure_channel(address, options=CLIENT_OPTIONS) for _ in range(clients)]
    call_functions = [make_call(channel) for channel in channels]
    for call in call_functions:  # connect and warm up every client before the clock starts
        for _ in range(3):
            call()
    latencies: list[list[float]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        call, own = call_functions[index], latencies[index]
        barrier.wait()
        for _ in range(calls // clients):
            started = time.perf_counter()
            call()
            own.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for channel in channels:
        channel.close()
    return [t for own in latencies for t in own], elapsed


def _latency_row(clients: int, request_bytes: int, ours: list[tuple[list[float], float]],
                 theirs: list[tuple[list[float], float]]) -> dict[str, Any]:
    """Median over repetitions of each repetition's p50; p99 and calls/s over all repetitions."""
    def summary(runs: list[tuple[list[float], float]]) -> dict[str, float]:
        every = np.concatenate([times for times, _ in runs]) * 1e3
        return {"p50_ms": float(np.percentile(every, 50)), "p99_ms": float(np.percentile(every, 99)),
                "calls_per_s": len(every) / sum(elapsed for _, elapsed in runs)}

    def p50s(runs: list[tuple[list[float], float]]) -> list[float]:
        return [float(np.percentile(times, 50)) * 1e3 for times, _ in runs]

    return row("service vs floor", f"Compute, tutorial graph, {clients} client{'s' * (clients > 1)}", "p50 ms",
               p50s(ours), f"gRPC echo ({request_bytes} B)", p50s(theirs),
               Target("<= 1.2", ratio_max=1.2), gradwire_stats=summary(ours), baseline_stats=summary(theirs))


def latency_rows(plan: Plan) -> list[dict]:
    request = tutorial_request()
    payload = request.SerializeToString()
    rows = []
    with gradwire_server() as address, echo_server() as echo_address:
        def compute(channel: grpc.Channel) -> Callable[[], Any]:
            stub = pb_grpc.GradwireServiceStub(channel)
            return lambda: stub.Compute(request)

        def echo(channel: grpc.Channel) -> Callable[[], Any]:
            method = channel.unary_unary(ECHO_METHOD)
            return lambda: method(payload)

        for clients in plan.concurrencies:
            ours, theirs = [], []
            for _ in range(plan.latency_repeats):  # interleaved, so both sides see the same noise
                ours.append(_run_clients(address, compute, clients, plan.latency_calls))
                theirs.append(_run_clients(echo_address, echo, clients, plan.latency_calls))
            rows.append(_latency_row(clients, len(payload), ours, theirs))
    return rows


def session_vs_recompute_rows(stub: pb_grpc.GradwireServiceStub, plan: Plan) -> list[dict]:
    """k Backward on one session vs k Compute, both returning every weight's grad each call (as the SDK's
    backward does); and the same session returning only the 10-float head bias each call, the weights'
    grads read once at the end (gradient accumulation), which shows what returning the grads costs.
    """
    batch, width, depth = plan.mlp
    graph, weights = mlp_graph(batch, width, depth)
    roots = [pb.Root(id="loss")]
    compute = pb.ComputeRequest(graph=graph, roots=roots, return_grads=weights)
    k = plan.session_k

    def retained_session(returned: list[str], read_at_end: bool) -> None:
        session_id = stub.CreateSession(pb.CreateSessionRequest(graph=graph)).session_id
        backward = pb.BackwardRequest(session_id=session_id, roots=roots, retain_graph=True, return_grads=returned)
        for _ in range(k):
            stub.Backward(backward)
        if read_at_end:
            stub.Read(pb.ReadRequest(session_id=session_id, grads=weights))
        stub.CloseSession(pb.CloseSessionRequest(session_id=session_id))

    def recompute() -> None:
        for _ in range(k):
            stub.Compute(compute)

    every_call, read_once, recomputed = interleaved(
        [lambda: retained_session(weights, False), lambda: retained_session([f"b{depth - 1}"], True), recompute],
        plan.session_repeats)
    theirs = [s * 1e3 for s in recomputed]
    label = f"k={k} backward, MLP {batch}x{width}x{depth} ({graph.ByteSize() / (1 << 20):.1f} MiB): session"
    target = Target("<= 0.59 (>= 1.7x faster)", ratio_max=1 / 1.7)
    return [
        row("sessions", f"{label}, grads each call", "ms", [s * 1e3 for s in every_call],
            f"{k} one-shot Compute", theirs, target),
        row("sessions", f"{label}, grads read at end", "ms", [s * 1e3 for s in read_once],
            f"{k} one-shot Compute", theirs, target),
    ]


def jacobian_row(stub: pb_grpc.GradwireServiceStub, plan: Plan) -> dict:
    """J of y = tanh(W @ x) w.r.t. x, W of shape (n, n): rows by one batched call vs n single calls."""
    n = plan.jacobian_outputs
    rng = np.random.default_rng(3)
    x = rng.standard_normal(n).astype(np.float32)
    w = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)
    graph = pb.Graph(leaves=[pb.Leaf(id="x", value=_tensor(x), requires_grad=True), pb.Leaf(id="W", value=_tensor(w))],
                     nodes=[_node("z", "matmul", "W", "x"), _node("y", "tanh", "z")])
    session_id = stub.CreateSession(pb.CreateSessionRequest(graph=graph)).session_id
    identity = np.eye(n, dtype=np.float32)

    def grad(seed: np.ndarray, batched: bool) -> np.ndarray:
        response = stub.Grad(pb.GradRequest(session_id=session_id, outputs=[pb.Root(id="y", gradient=_tensor(seed))],
                                            inputs=["x"], retain_graph=True, is_grads_batched=batched))
        return np.frombuffer(response.grads[0].tensor.data, np.float32)

    batched = grad(identity, True).reshape(n, n)
    single = np.stack([grad(identity[i], False) for i in range(n)])
    expected = (1 - np.tanh(w @ x) ** 2)[:, None] * w
    assert np.allclose(batched, single) and np.allclose(batched, expected, atol=1e-5), "Jacobians disagree"

    ours, theirs = interleaved([lambda: grad(identity, True), lambda: [grad(identity[i], False) for i in range(n)]],
                               plan.jacobian_repeats)
    stub.CloseSession(pb.CloseSessionRequest(session_id=session_id))
    return row("sessions", f"Jacobian {n}x{n}: 1 batched-seed Grad", "ms", [s * 1e3 for s in ours],
               f"{n} single-seed Grad", [s * 1e3 for s in theirs])


def session_rows(plan: Plan) -> list[dict]:
    with gradwire_server() as address, grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        return [*session_vs_recompute_rows(stub, plan), jacobian_row(stub, plan)]
