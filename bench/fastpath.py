"""The fast path (issue 14) in the harness's row shape, each side measured in the same run, taking turns:

- plan cache: Compute of the tutorial graph whose structure is cached (hit) vs one the server has not seen
  (miss: the slow path, checking and building node by node);
- prepared graph: Compute by graph_id with the leaf's value vs a bare gRPC echo of the same request bytes;
- the SDK moving a large leaf (`tensor(x, requires_grad=True)`, `x.sum().backward()`, `x.grad.numpy()`)
  vs raw loopback TCP moving the same bytes both ways, and the server's peak RSS growth over the leaf.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any, Callable

import grpc
import numpy as np

from bench.large import memory_kib
from bench.plan import Plan
from bench.rows import Target, interleaved, row
from bench.service import (CHANNEL_OPTIONS, ECHO_METHOD, MiB, _big_leaf, _tcp_round_trip, _tensor, echo_server,
                           gradwire_server_process, tutorial_request)
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc


def _per_repeat(sides: list[Callable[[], Any]], plan: Plan) -> list[list[float]]:
    """p50 (ms) of each side per repetition, the sides taking turns call by call."""
    samples: list[list[float]] = [[] for _ in sides]
    for _ in range(plan.latency_repeats):
        times = interleaved(sides, max(8, plan.latency_calls // 2), warmup=3)
        for own, side_times in zip(samples, times):
            own.append(float(np.percentile(side_times, 50)) * 1e3)
    return samples


def plan_cache_rows(plan: Plan) -> list[dict]:
    hit_request = tutorial_request()
    names = itertools.count()

    def miss_request() -> pb.ComputeRequest:  # a new leaf id: a structure the server has not seen
        request = pb.ComputeRequest()
        request.CopyFrom(hit_request)
        leaf_id = f"a{next(names)}"
        request.graph.leaves[0].id = leaf_id
        request.graph.nodes[0].inputs[0].ref = leaf_id
        request.return_grads[:] = [leaf_id]
        return request

    misses = [miss_request() for _ in range(plan.latency_calls * plan.latency_repeats + 16)]
    next_miss = iter(misses)
    with gradwire_server_process() as (address, _), grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        stub.Compute(hit_request)
        hits, cold = _per_repeat([lambda: stub.Compute(hit_request), lambda: stub.Compute(next(next_miss))], plan)
    return [row("fast path", "Compute, tutorial graph: plan cache hit", "p50 ms", hits,
                "miss (checked and built)", cold)]


def prepared_rows(plan: Plan) -> list[dict]:
    value = np.array([2.0, 3.0], np.float32)
    graph = tutorial_request().graph
    graph.leaves[0].value.data = b""  # declared by dtype and shape only
    prepare = pb.PrepareGraphRequest(graph=graph, inputs=["a"])
    with gradwire_server_process() as (address, _), echo_server() as echo_address, \
            grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel, \
            grpc.insecure_channel(echo_address, options=CHANNEL_OPTIONS) as echo_channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        graph_id = stub.PrepareGraph(prepare).graph_id
        request = pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=_tensor(value))],
                                    roots=[pb.Root(id="out")], return_grads=["a"])
        assert np.frombuffer(stub.Compute(request).grads[0].tensor.data, np.float32).tolist() == [15.0, 18.0]
        payload = request.SerializeToString()
        echo = echo_channel.unary_unary(ECHO_METHOD)
        full = tutorial_request()
        ours, floor, whole = _per_repeat([lambda: stub.Compute(request), lambda: echo(payload),
                                          lambda: stub.Compute(full)], plan)
    return [
        row("fast path", "prepared-graph Compute, tutorial", "p50 ms", ours, f"gRPC echo ({len(payload)} B)", floor,
            Target("<= 1.1", ratio_max=1.1)),
        row("fast path", "prepared-graph Compute, tutorial", "p50 ms", ours, "Compute sending the graph", whole),
    ]


def sdk_transfer_rows(plan: Plan) -> list[dict]:
    """The SDK's 64 MiB round trip (streamed by itself) vs raw TCP, and the server's peak RSS growth."""
    from gradwire.client import Client

    mib = min(64, plan.transfer_mib)
    x = _big_leaf(mib)

    def sdk_round_trip(client: Any, array: np.ndarray) -> np.ndarray:
        leaf = client.tensor(array, requires_grad=True)
        leaf.sum().backward()
        return leaf.grad.numpy()

    with contextlib.ExitStack() as stack:
        address, process = stack.enter_context(gradwire_server_process())
        client = stack.enter_context(Client(address))
        sdk_round_trip(client, x[: MiB // 4])
        idle_mib = memory_kib(process.pid, "VmRSS") / 1024
        grad = sdk_round_trip(client, x)
        assert grad.shape == x.shape and bool(np.all(grad == 1.0)), "wrong gradient"
        ours, tcp = interleaved([lambda: sdk_round_trip(client, x), lambda: _tcp_round_trip(x.nbytes)],
                                plan.transfer_repeats, warmup=0)
        peak_mib = memory_kib(process.pid, "VmHWM") / 1024
    moved_mb = 2 * x.nbytes / 1e6
    return [
        row("fast path", f"SDK: {mib} MiB tensor(requires_grad) + sum().backward() + grad.numpy()", "MB/s",
            [moved_mb / s for s in ours], "raw loopback TCP", [moved_mb / s for s in tcp],
            Target(">= 0.8", ratio_min=0.8), higher_is_better=True),
        row("memory", f"peak server RSS growth, SDK {mib} MiB round trip", "MiB", [peak_mib - idle_mib],
            "leaf size", [x.nbytes / MiB], Target("<= 3.0", ratio_max=3.0), idle_rss_mib=idle_mib,
            peak_rss_mib=peak_mib),
    ]


def run(plan: Plan) -> list[dict]:
    return [*plan_cache_rows(plan), *prepared_rows(plan), *sdk_transfer_rows(plan)]

