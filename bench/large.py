"""Large tensors: MB/s moving a big leaf up and its gradient down, and the server's peak memory meanwhile.

Three ways, taking turns, the first two through bench.service's helpers: one Compute message each way
(the server's message cap raised above the tensor), streamed chunks (UploadTensor + DownloadTensor, the
cap far below the tensor so only streaming can move it), and raw loopback TCP as the machine's floor.
Each gRPC way has a server subprocess of its own, so its peak resident memory (VmHWM in
/proc/<pid>/status) belongs to that way alone; the figure is quoted as a multiple of the leaf's size.

Beside them, the floors gRPC itself sets (issue 14 asks what bounds a missed target): a bare grpcio
server echoing the leaf's bytes in one message each way (its throughput, and its own peak memory), and
bare grpcio streams moving the same bytes up then down in the same chunks, no gradwire code on either.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

import grpc
import numpy as np

from bench.plan import Plan
from bench.rows import Target, interleaved, row
from bench.service import (CHANNEL_OPTIONS, ECHO_METHOD, SINK_METHOD, SOURCE_METHOD, MiB, _big_leaf,
                           _single_message, _streamed, _tcp_round_trip, echo_server_process,
                           gradwire_server_process)
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

GROUP = "large tensors"


def memory_kib(pid: int, field: str) -> int:
    """A kB field of /proc/<pid>/status: VmRSS now, VmHWM the peak since the process started."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(f"{field} not in /proc/{pid}/status")


class Way:
    """One gRPC way of moving the leaf, on a server subprocess of its own so its memory is its own."""

    def __init__(self, stack: contextlib.ExitStack, flags: list[str],
                 move: Callable[[pb_grpc.GradwireServiceStub, np.ndarray], np.ndarray]) -> None:
        address, self.process = stack.enter_context(gradwire_server_process(*flags))
        channel = stack.enter_context(grpc.insecure_channel(address, options=CHANNEL_OPTIONS))
        self.stub, self.move = pb_grpc.GradwireServiceStub(channel), move
        self.memory: dict[str, float] = {}

    def mib(self, field: str) -> float:
        return memory_kib(self.process.pid, field) / 1024

    def first_round_trip(self, x: np.ndarray, warmup_mib: int) -> None:
        """A warm-up on the first warmup_mib of x (the code and connection, cheaper than a full one),
        then one checked round trip of x; notes the idle memory and the peak after that round trip."""
        self.move(self.stub, x[:warmup_mib * MiB // x.itemsize])
        self.memory["idle_rss_mib"] = self.mib("VmRSS")
        grad = self.move(self.stub, x)
        assert grad.shape == x.shape and bool(np.all(grad == 1.0)), "wrong gradient"
        self.memory["first_call_peak_rss_mib"] = self.mib("VmHWM")


class Floor:
    """Bare grpcio moving the leaf's bytes: one message each way (Echo), or streamed up then down."""

    def __init__(self, stack: contextlib.ExitStack, x: np.ndarray, chunk: int) -> None:
        self.payload, self.chunk = x.tobytes(), chunk
        (echo_address, self.echo_process), (stream_address, _) = (
            stack.enter_context(echo_server_process()), stack.enter_context(echo_server_process()))
        echo_channel = stack.enter_context(grpc.insecure_channel(echo_address, options=CHANNEL_OPTIONS))
        stream_channel = stack.enter_context(grpc.insecure_channel(stream_address, options=CHANNEL_OPTIONS))
        self._echo = echo_channel.unary_unary(ECHO_METHOD)
        self._sink = stream_channel.stream_unary(SINK_METHOD)
        self._source = stream_channel.unary_stream(SOURCE_METHOD)
        self._echo(b"warm-up")
        self.idle_rss_mib = memory_kib(self.echo_process.pid, "VmRSS") / 1024

    def echo(self) -> None:
        assert len(self._echo(self.payload)) == len(self.payload)

    def streams(self) -> None:
        view = memoryview(self.payload)
        self._sink(bytes(view[start:start + self.chunk]) for start in range(0, len(view), self.chunk))
        received = bytearray(len(view))
        offset = 0
        for chunk in self._source(str(self.chunk).encode()):
            received[offset:offset + len(chunk)] = chunk
            offset += len(chunk)
        assert offset == len(view)


def run(plan: Plan) -> list[dict]:
    x = _big_leaf(plan.transfer_mib)
    moved_mb = 2 * x.nbytes / 1e6
    label = f"{plan.transfer_mib} MiB leaf up + grad down"

    def rates(seconds: list[float]) -> list[float]:
        return [moved_mb / s for s in seconds]

    # The streaming server's message cap is far below the leaf: its gradient must be deferred to
    # DownloadTensor (bench.service._streamed checks), so the warm-up leaf too is larger than the cap.
    stream_cap_mib = 2 * plan.chunk_mib + 2
    warmup_mib = stream_cap_mib + 1
    assert plan.transfer_mib > warmup_mib, f"a {plan.transfer_mib} MiB leaf is too small to need streaming"
    chunk = plan.chunk_mib * MiB
    with contextlib.ExitStack() as stack:
        single_way = Way(stack, ["--max-message-bytes", f"{2 * plan.transfer_mib + 16}MiB"], _single_message)
        streamed_way = Way(stack, ["--max-message-bytes", f"{stream_cap_mib}MiB"],
                           lambda stub, leaf: _streamed(stub, leaf, chunk))
        for way in (single_way, streamed_way):
            way.first_round_trip(x, warmup_mib)
        _tcp_round_trip(warmup_mib * MiB)
        floor = Floor(stack, x, chunk)
        single, streamed, tcp, echo, streams = interleaved(
            [lambda: single_way.move(single_way.stub, x), lambda: streamed_way.move(streamed_way.stub, x),
             lambda: _tcp_round_trip(x.nbytes), floor.echo, floor.streams], plan.transfer_repeats, warmup=0)
        for way in (single_way, streamed_way):
            way.memory["peak_rss_mib"] = way.mib("VmHWM")
        echo_peak_mib = memory_kib(floor.echo_process.pid, "VmHWM") / 1024
    single_memory, streamed_memory = single_way.memory, streamed_way.memory

    rows = [
        row(GROUP, f"{label}: single message", "MB/s", rates(single), "raw loopback TCP", rates(tcp),
            Target(">= 0.4", ratio_min=0.4), higher_is_better=True),
        row(GROUP, f"{label}: streamed, {plan.chunk_mib} MiB chunks", "MB/s", rates(streamed),
            "raw loopback TCP", rates(tcp), Target(">= 0.9", ratio_min=0.9), higher_is_better=True),
        row(GROUP, f"{label}: streamed, {plan.chunk_mib} MiB chunks", "MB/s", rates(streamed), "single message",
            rates(single), Target(">= 3.0", ratio_min=3.0), higher_is_better=True),
    ]
    rows += [
        row(GROUP, f"{label}: bare gRPC echo, one message each way (floor)", "MB/s", rates(echo),
            "raw loopback TCP", rates(tcp), higher_is_better=True),
        row(GROUP, f"{label}: single message", "MB/s", rates(single), "bare gRPC echo (floor)", rates(echo),
            higher_is_better=True),
        row(GROUP, f"{label}: bare gRPC streams up then down, {plan.chunk_mib} MiB chunks (floor)", "MB/s",
            rates(streams), "raw loopback TCP", rates(tcp), higher_is_better=True),
        row(GROUP, f"{label}: streamed, {plan.chunk_mib} MiB chunks", "MB/s", rates(streamed),
            "bare gRPC streams (floor)", rates(streams), higher_is_better=True),
        row("memory", f"peak RSS of a bare gRPC echo server, {plan.transfer_repeats} round trips (floor)", "MiB",
            [echo_peak_mib], "leaf size", [x.nbytes / MiB], idle_rss_mib=floor.idle_rss_mib,
            above_idle_multiple=(echo_peak_mib - floor.idle_rss_mib) * MiB / x.nbytes),
    ]
    # Peak after one round trip (the workload once), and after all of them: the two differ when the
    # server keeps memory from call to call.
    for way, memory, bound in (("single message", single_memory, 3.0), ("streamed", streamed_memory, 2.0)):
        all_trips = plan.transfer_repeats + 1
        for trips, peak in ((1, memory["first_call_peak_rss_mib"]), (all_trips, memory["peak_rss_mib"])):
            rows.append(row("memory", f"peak server RSS, {way}, {trips} round trip{'s' * (trips > 1)}", "MiB",
                            [peak], "leaf size", [x.nbytes / MiB], Target(f"<= {bound}", ratio_max=bound),
                            round_trips=trips,
                            above_idle_multiple=(peak - memory["idle_rss_mib"]) * MiB / x.nbytes, **memory))
    return rows
