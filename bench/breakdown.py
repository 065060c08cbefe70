"""What a small Compute's latency is made of: the gRPC floor, gradwire's call stack, its handler, the engine.

    python -m bench.breakdown [--calls 2000]

Over loopback (servers in subprocesses, the calls taking turns): a bare grpcio echo of the request's
bytes; a Compute of an empty graph (gradwire's whole call stack: interceptors, parsing, access log,
with almost no work in the handler); the prepared-graph Compute of the tutorial graph; and the same Compute sending
the graph. In this process, without gRPC: the servicer's Compute by graph_id (bind, run, backward,
response), and the plan's run and backward alone (the engine's share): untyped (every step through
apply_op, the backward collecting its graph), typed (engine.typed.apply_typed), and typed with the plan's
backward schedule; "typed plan vs untyped plan (same run)" is their ratio. Medians in microseconds; the
differences say where the time above the echo goes (issue 14's bound for the latency rows).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any, Callable

import grpc
import numpy as np

from bench.rows import interleaved
from bench.service import (CHANNEL_OPTIONS, ECHO_METHOD, _tensor, echo_server, gradwire_server_process,
                           tutorial_request)
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc


class _Call:
    """What the servicer reads of a gRPC call's context, for calling it in-process (no deadline)."""

    def invocation_metadata(self) -> tuple:
        return ()

    def is_active(self) -> bool:
        return True

    def time_remaining(self) -> None:
        return None


def _prepared(stub_or_servicer: Any, context: Any = None) -> tuple[pb.ComputeRequest, str]:
    graph = tutorial_request().graph
    graph.leaves[0].value.data = b""
    prepare = pb.PrepareGraphRequest(graph=graph, inputs=["a"])
    graph_id = (stub_or_servicer.PrepareGraph(prepare, context) if context is not None
                else stub_or_servicer.PrepareGraph(prepare)).graph_id
    request = pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=_tensor(np.array([2., 3.], np.float32)))],
                                roots=[pb.Root(id="out")], return_grads=["a"])
    return request, graph_id


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def over_grpc(calls: int) -> dict[str, float]:
    with gradwire_server_process() as (address, _), echo_server() as echo_address, \
            grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel, \
            grpc.insecure_channel(echo_address, options=CHANNEL_OPTIONS) as echo_channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        request, _ = _prepared(stub)
        payload = request.SerializeToString()
        echo = echo_channel.unary_unary(ECHO_METHOD)
        full = tutorial_request()
        empty = pb.ComputeRequest()
        sides: list[Callable[[], Any]] = [lambda: echo(payload), lambda: stub.Compute(empty),
                                          lambda: stub.Compute(request), lambda: stub.Compute(full)]
        echo_s, info_s, prepared_s, full_s = interleaved(sides, calls, warmup=50)
    return {"bare grpcio echo of the request bytes": _median_us(echo_s),
            "Compute of an empty graph (gradwire's call stack, no work)": _median_us(info_s),
            "prepared-graph Compute, tutorial": _median_us(prepared_s),
            "Compute sending the tutorial graph": _median_us(full_s)}


def in_process(calls: int) -> dict[str, float]:
    from gradwire.server import gradients, graph
    from gradwire.server.app import GradwireServer
    from gradwire.server.config import ServerConfig

    server = GradwireServer(ServerConfig(address="127.0.0.1:0"))  # built, never started: its servicer only
    servicer, context = server.servicer, _Call()
    request, graph_id = _prepared(servicer, context)
    prepared = servicer.prepared.get(graph_id, "anonymous")
    runner = servicer.runner

    def engine_only() -> None:
        scope = graph.Scope({})
        bound = prepared.bind(request.inputs, servicer.uploads)
        runner.run_plan(prepared.plan, bound, scope, None, session=False, roots=request.roots)

    from gradwire.server import plans, schedule

    def plan_run_only() -> None:  # the present path: every step through apply_op, backward collects
        scope = graph.Scope({})
        plans.run(prepared.plan, prepared.bind(request.inputs, servicer.uploads), scope, writable_leaves=False)
        gradients.backward(scope, request.roots, retain_graph=None, create_graph=False, inputs=())

    def typed_only() -> None:  # typed steps (engine.typed.apply_typed), backward still collects
        scope = graph.Scope({})
        plans.run(prepared.plan, prepared.bind(request.inputs, servicer.uploads), scope, writable_leaves=False,
                  typed=True)
        gradients.backward(scope, request.roots, retain_graph=None, create_graph=False, inputs=())

    def typed_scheduled() -> None:  # typed steps and the plan's backward schedule
        scope = graph.Scope({})
        plans.run(prepared.plan, prepared.bind(request.inputs, servicer.uploads), scope, writable_leaves=False,
                  typed=True)
        schedule.backward(prepared.plan, scope, request.roots)

    handler, runner_s, bare, typed_s, scheduled = interleaved(
        [lambda: servicer.Compute(request, context), engine_only, plan_run_only, typed_only, typed_scheduled],
        calls, warmup=50)
    assert prepared.plan.runs.typed_agrees and prepared.plan.runs.scheduled_backwards > 0, "the fast path was not taken"
    return {"servicer.Compute by graph_id (no gRPC)": _median_us(handler),
            "runner.run_plan: bind + plan run + backward as served (no response)": _median_us(runner_s),
            "bind + plan run + backward, untyped plan (apply_op, backward collects)": _median_us(bare),
            "bind + plan run + backward, typed plan (backward collects)": _median_us(typed_s),
            "bind + plan run + backward, typed plan + backward schedule": _median_us(scheduled)}


def _chain_graph(length: int) -> pb.Graph:
    """A diamond-rich chain: each link reads the previous two values (x_k = tanh(x_{k-1}) * x_{k-2} + 0.5)."""
    from bench.service import _node

    nodes, previous, before = [], "a", "a"
    for k in range(length):
        nodes += [_node(f"t{k}", "tanh", previous), _node(f"m{k}", "mul", f"t{k}", before),
                  _node(f"x{k}", "add", f"m{k}", 0.5)]
        previous, before = f"x{k}", previous
    nodes.append(_node("out", "sum", previous))
    leaf = pb.Leaf(id="a", value=pb.Tensor(dtype=pb.DTYPE_FLOAT32, shape=[16]), requires_grad=True)
    return pb.Graph(leaves=[leaf], nodes=nodes)


def long_plan(calls: int, length: int = 100) -> dict[str, float]:
    """Typed + scheduled vs untyped on a longer prepared graph (3 * length + 1 nodes), where the backward's
    graph walk is a larger share than in the tutorial's 4 nodes."""
    from gradwire.server import gradients, graph, plans, schedule
    from gradwire.server.app import GradwireServer
    from gradwire.server.config import ServerConfig

    servicer = GradwireServer(ServerConfig(address="127.0.0.1:0")).servicer
    context = _Call()
    graph_id = servicer.PrepareGraph(pb.PrepareGraphRequest(graph=_chain_graph(length), inputs=["a"]), context).graph_id
    prepared = servicer.prepared.get(graph_id, "anonymous")
    inputs = [pb.Leaf(id="a", value=_tensor(np.linspace(-1, 1, 16).astype(np.float32)))]
    roots = [pb.Root(id="out")]
    for _ in range(2):
        servicer.runner.run_plan(prepared.plan, prepared.bind(inputs, servicer.uploads), graph.Scope({}), None,
                                 session=False, roots=roots)

    def untyped() -> None:
        scope = graph.Scope({})
        plans.run(prepared.plan, prepared.bind(inputs, servicer.uploads), scope, writable_leaves=False)
        gradients.backward(scope, roots, retain_graph=None, create_graph=False, inputs=())

    def typed() -> None:
        scope = graph.Scope({})
        plans.run(prepared.plan, prepared.bind(inputs, servicer.uploads), scope, writable_leaves=False, typed=True)
        schedule.backward(prepared.plan, scope, roots)

    slow, fast = interleaved([untyped, typed], max(50, calls // 10), warmup=5)
    assert prepared.plan.runs.typed_agrees and prepared.plan.runs.scheduled_backwards > 0
    nodes = 3 * length + 1
    return {f"{nodes}-node chain: bind + plan run + backward, untyped plan": _median_us(slow),
            f"{nodes}-node chain: bind + plan run + backward, typed plan + backward schedule": _median_us(fast)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    arguments = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    figures = {**over_grpc(arguments.calls), **in_process(arguments.calls), **long_plan(arguments.calls)}
    print(f"# small-call breakdown, {started}, {arguments.calls} calls per side, medians")
    for name, micros in figures.items():
        print(f"{micros:9.1f} us  {name}")
    echo, stack = figures["bare grpcio echo of the request bytes"], figures["Compute of an empty graph (gradwire's call stack, no work)"]
    compute, handler = figures["prepared-graph Compute, tutorial"], figures["servicer.Compute by graph_id (no gRPC)"]
    print(f"# prepared Compute / echo = {compute / echo:.2f}; empty Compute / echo = {stack / echo:.2f}; "
          f"(empty Compute + handler) / echo = {(stack + handler) / echo:.2f}")
    untyped = figures["bind + plan run + backward, untyped plan (apply_op, backward collects)"]
    typed = figures["bind + plan run + backward, typed plan (backward collects)"]
    scheduled = figures["bind + plan run + backward, typed plan + backward schedule"]
    print(f"# typed plan vs untyped plan (same run) = {typed / untyped:.2f}; "
          f"typed + schedule vs untyped = {scheduled / untyped:.2f}")
    chain = [micros for name, micros in figures.items() if "-node chain" in name]
    print(f"# long chain: typed plan + schedule vs untyped plan (same run) = {chain[1] / chain[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
