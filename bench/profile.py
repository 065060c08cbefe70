"""Where a gradwire server spends a workload's time: py-spy samples of a server subprocess, condensed to text.

    python -m bench.profile [--seconds 8] [--out docs/perf]    # needs py-spy (pip install py-spy)

For each workload a server subprocess runs while this process drives it; py-spy samples the server.
Small calls are sampled only while a thread holds the GIL (`--gil`: the Python time per call, which is
what bounds calls/s on a GIL-bound server); large transfers by wall time (`--idle` left out), as numpy
and grpcio's C code release the GIL. The text lists each frame's inclusive and own share of the samples,
function names with their file, and is what docs/perf/ quotes for issue 14's missed targets.
`engine_scalar_chain`, `engine_tutorial` and `engine_prepared_plan` (the prepared tutorial Compute's
bind, plan run and backward, as runner.run_plan serves them; `_untyped`: on apply_op and a collecting
backward, as before typed plans) profile the engine in this process instead
(cProfile; its overhead inflates every function alike, so read the shares, not the times).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import grpc
import numpy as np

from bench.service import (CHANNEL_OPTIONS, _big_leaf, _single_message, _streamed, _tensor, gradwire_server_process,
                           tutorial_request)
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

MiB = 1 << 20


def condense(raw: str, top: int = 45) -> str:
    """py-spy's raw (collapsed) stacks as inclusive and own shares per function."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [_frame_name(frame) for frame in stack.split(";")[1:]]  # the first is the thread
        for name in set(frames):
            inclusive[name] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive  function (file)"]
    lines += [f"{100 * n / total:8.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "own        function (file)"]
    lines += [f"{100 * n / total:8.1f}%  {name}" for name, n in own.most_common(top // 2)]
    return "\n".join(lines)


def _frame_name(frame: str) -> str:
    """'handle (server/wire.py:52)' -> 'handle (server/wire.py)'; lines vary, functions do not."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def _prepared_compute(stub: Any) -> Callable[[], Any]:
    graph = tutorial_request().graph
    graph.leaves[0].value.data = b""
    graph_id = stub.PrepareGraph(pb.PrepareGraphRequest(graph=graph, inputs=["a"])).graph_id
    request = pb.ComputeRequest(graph_id=graph_id, inputs=[pb.Leaf(id="a", value=_tensor(np.array([2., 3.], np.float32)))],
                                roots=[pb.Root(id="out")], return_grads=["a"])
    return lambda: stub.Compute(request)


def _tutorial_compute(stub: Any) -> Callable[[], Any]:
    request = tutorial_request()
    return lambda: stub.Compute(request)


def _single(stub: Any) -> Callable[[], Any]:
    x = _big_leaf(64)
    return lambda: _single_message(stub, x)


def _stream(stub: Any) -> Callable[[], Any]:
    x = _big_leaf(64)
    return lambda: _streamed(stub, x, 4 * MiB)


WORKLOADS: dict[str, tuple[Callable[[Any], Callable[[], Any]], bool, tuple[str, ...]]] = {
    # name: (workload, sample only while holding the GIL, server flags)
    "prepared_compute": (_prepared_compute, True, ()),
    "tutorial_compute": (_tutorial_compute, True, ()),
    "single_message_64MiB": (_single, False, ("--max-message-bytes", "200MiB")),
    "streamed_64MiB": (_stream, False, ("--max-message-bytes", "10MiB")),
}


def profile(name: str, seconds: float, py_spy: str) -> str:
    make, gil, flags = WORKLOADS[name]
    with gradwire_server_process(*flags) as (address, process), \
            grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel, \
            tempfile.TemporaryDirectory() as folder:
        call = make(pb_grpc.GradwireServiceStub(channel))
        call()
        stop = threading.Event()
        calls = [0]

        def drive() -> None:
            while not stop.is_set():
                call()
                calls[0] += 1

        driver = threading.Thread(target=drive, daemon=True)
        driver.start()
        output = Path(folder) / "raw.txt"
        command = [py_spy, "record", "-p", str(process.pid), "-d", str(int(seconds)), "-r", "250", "-f", "raw",
                   "-o", str(output), *(["--gil"] if gil else [])]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        elapsed = time.perf_counter() - started
        stop.set()
        driver.join()
        header = (f"# {name}: {calls[0]} calls in {elapsed:.1f} s while sampled "
                  f"({'GIL-holding samples only' if gil else 'wall-clock samples of busy threads'})")
        return header + "\n" + condense(output.read_text())


def _prepared_plan_workload(typed: bool = True) -> Callable[[], Any]:
    """The prepared tutorial Compute's engine share, in this process: runner.run_plan (bind, the plan's run
    and its one-shot backward, as served once the plan's cost is known), 2,000 times; or, typed=False, the
    same unmetered run on the untyped path (every step through apply_op, the backward collecting)."""
    from bench.breakdown import _Call, _prepared
    from gradwire.server import gradients, graph, plans
    from gradwire.server.app import GradwireServer
    from gradwire.server.config import ServerConfig

    servicer = GradwireServer(ServerConfig(address="127.0.0.1:0")).servicer  # built, never started
    request, graph_id = _prepared(servicer, _Call())
    prepared = servicer.prepared.get(graph_id, "anonymous")

    def once() -> None:
        bound = prepared.bind(request.inputs, servicer.uploads)
        if typed:
            servicer.runner.run_plan(prepared.plan, bound, graph.Scope({}), None, session=False, roots=request.roots)
        else:
            scope = graph.Scope({})
            plans.run(prepared.plan, bound, scope, writable_leaves=False)
            gradients.backward(scope, request.roots, retain_graph=None, create_graph=False, inputs=())

    return lambda: [once() for _ in range(2000)]


def profile_engine(name: str) -> str:
    """cProfile of one bench.engine workload on the engine, top functions by own time."""
    import cProfile
    import io
    import pstats

    import gradwire.engine as ge
    from bench.engine import scalar_chain, tutorial

    if name.startswith("engine_prepared_plan"):
        workload = _prepared_plan_workload(typed=not name.endswith("_untyped"))
    elif name == "engine_scalar_chain":
        workload = lambda: scalar_chain(ge, {"length": 10_000})  # noqa: E731
    else:
        workload = lambda: [tutorial(ge, {}) for _ in range(200)]  # noqa: E731
    workload()
    profiler = cProfile.Profile()
    profiler.enable()
    workload()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(30)
    if name.startswith("engine_prepared_plan"):
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(30)
    return f"# {name}: cProfile, sorted by own time (then, for a plan, by cumulative time)\n" + out.getvalue()


ENGINE_WORKLOADS = ("engine_scalar_chain", "engine_tutorial", "engine_prepared_plan", "engine_prepared_plan_untyped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--out", type=Path, default=Path("docs/perf"))
    parser.add_argument("--only", default=",".join((*WORKLOADS, *ENGINE_WORKLOADS)))
    arguments = parser.parse_args(argv)
    names = arguments.only.split(",")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists() and set(names) - set(ENGINE_WORKLOADS):
        print("py-spy is not installed (pip install py-spy)", file=sys.stderr)
        return 2
    arguments.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        text = profile_engine(name) if name in ENGINE_WORKLOADS else profile(name, arguments.seconds, py_spy)
        (arguments.out / f"profile_{name}.txt").write_text(text + "\n")
        print(text.splitlines()[0])
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
