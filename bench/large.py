"""Large tensors: MB/s moving a big leaf up and its gradient down, and the server's peak memory meanwhile.

Three ways, the first two through bench.service's helpers: one Compute message each way (the server's
message cap raised above the tensor), streamed chunks (UploadTensor + DownloadTensor, the cap far below
the tensor so only streaming can move it), and raw loopback TCP as the machine's floor. Each gRPC way
gets a fresh server subprocess, so its peak resident memory (VmHWM in /proc/<pid>/status) belongs to
that way alone; the figure is quoted as a multiple of the leaf's size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import grpc
import numpy as np

from bench.plan import Plan
from bench.rows import Target, repeat, row
from bench.service import (CHANNEL_OPTIONS, MiB, _big_leaf, _single_message, _streamed, _tcp_round_trip,
                           gradwire_server_process)
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

GROUP = "large tensors"


def memory_kib(pid: int, field: str) -> int:
    """A kB field of /proc/<pid>/status: VmRSS now, VmHWM the peak since the process started."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(f"{field} not in /proc/{pid}/status")


def _measure_way(flags: list[str], move: Callable[[pb_grpc.GradwireServiceStub, np.ndarray], np.ndarray],
                 x: np.ndarray, warmup_mib: int, repeats: int) -> tuple[list[float], dict[str, float]]:
    """Seconds per round trip of x on a fresh server, and that server's memory in MiB.

    A warm-up with the first warmup_mib of x runs the path's code and connects, cheaper than a full one.
    """
    with gradwire_server_process(*flags) as (address, process), \
            grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        stub = pb_grpc.GradwireServiceStub(channel)
        move(stub, x[:warmup_mib * MiB // x.itemsize])
        idle_mib = memory_kib(process.pid, "VmRSS") / 1024
        grad = move(stub, x)
        assert grad.shape == x.shape and bool(np.all(grad == 1.0)), "wrong gradient"
        first_peak_mib = memory_kib(process.pid, "VmHWM") / 1024
        seconds = repeat(lambda: move(stub, x), repeats, warmup=0)
        peak_mib = memory_kib(process.pid, "VmHWM") / 1024
    return seconds, {"idle_rss_mib": idle_mib, "first_call_peak_rss_mib": first_peak_mib, "peak_rss_mib": peak_mib}


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
    single, single_memory = _measure_way(["--max-message-bytes", f"{2 * plan.transfer_mib + 16}MiB"],
                                         _single_message, x, warmup_mib, plan.transfer_repeats)
    chunk = plan.chunk_mib * MiB
    streamed, streamed_memory = _measure_way(["--max-message-bytes", f"{stream_cap_mib}MiB"],
                                             lambda stub, leaf: _streamed(stub, leaf, chunk), x,
                                             warmup_mib, plan.transfer_repeats)
    _tcp_round_trip(warmup_mib * MiB)
    tcp = repeat(lambda: _tcp_round_trip(x.nbytes), plan.transfer_repeats, warmup=0)

    rows = [
        row(GROUP, f"{label}: single message", "MB/s", rates(single), "raw loopback TCP", rates(tcp),
            higher_is_better=True),
        row(GROUP, f"{label}: streamed, {plan.chunk_mib} MiB chunks", "MB/s", rates(streamed),
            "raw loopback TCP", rates(tcp), higher_is_better=True),
        row(GROUP, f"{label}: streamed, {plan.chunk_mib} MiB chunks", "MB/s", rates(streamed), "single message",
            rates(single), Target(">= 3.0", ratio_min=3.0), higher_is_better=True),
    ]
    # Peak after one round trip (the workload once), and after all of them: the two differ when the
    # server keeps memory from call to call.
    for way, memory in (("single message", single_memory), ("streamed", streamed_memory)):
        all_trips = plan.transfer_repeats + 1
        for trips, peak in ((1, memory["first_call_peak_rss_mib"]), (all_trips, memory["peak_rss_mib"])):
            rows.append(row("memory", f"peak server RSS, {way}, {trips} round trip{'s' * (trips > 1)} "
                                      f"(idle {memory['idle_rss_mib']:.0f} MiB)", "MiB", [peak], "leaf size",
                            [x.nbytes / MiB], Target("<= 3.0", ratio_max=3.0), round_trips=trips,
                            above_idle_multiple=(peak - memory["idle_rss_mib"]) * MiB / x.nbytes, **memory))
    return rows
