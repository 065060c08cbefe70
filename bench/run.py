"""The benchmark harness: every gradwire benchmark beside its baseline, in one run.

    python -m bench.run            # full: a few minutes on 2 cores   (make bench)
    python -m bench.run --quick    # about a minute                   (make bench-quick)

Writes bench/results/<timestamp>.json and .png and prints a table: the workload, gradwire's median,
the baseline's median from the same run, their ratio, the spread (min-max over repetitions, warm-up
excluded) and the target of issue 6 where there is one. The engine and torch run on one thread each
(torch.set_num_threads(1), numpy's BLAS limited to 1 thread), after the objects that exist once both are
imported are frozen out of garbage collection (gc.freeze); servers run as subprocesses.
"""

from __future__ import annotations

import os

# Set on some machines for old OpenBLAS builds; they slow a current numpy's kernels. They must go before
# numpy is first imported (in this process and the servers it starts), so this runs before the imports,
# and only for the command: a process that imports the harness (the tests) keeps its environment.
REMOVED_ENVIRONMENT = {name: os.environ.pop(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                       if __name__ == "__main__" and name in os.environ}

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

from threadpoolctl import threadpool_limits  # noqa: E402

from bench import fastpath, growth, large, scaling, serving, training  # noqa: E402
from bench.plan import PLANS, Plan  # noqa: E402
from bench.report import fits_text, machine, service_text, summary_text, table, write_json  # noqa: E402
from bench.rows import Target, row  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
GROUPS = ("engine", "growth", "latency", "sessions", "large", "fastpath", "scaling", "training")


def engine_rows(plan: Plan) -> list[dict]:
    """bench.engine's four workloads and bench.nn's three, recast into the harness's row shape, and
    bench.compiled's compiled-vs-eager engine rows."""
    from bench import compiled, engine, nn

    return [row("engine vs torch", result["workload"], "ms", [s * 1e3 for s in result["gradwire_samples_s"]],
                "torch", [s * 1e3 for s in result["torch_samples_s"]], _engine_target(result["workload"]))
            for result in engine.run(quick=plan.engine_quick, shrink=plan.engine_shrink)] + [
        row("engine vs torch", result["workload"], "ms", [s * 1e3 for s in result["gradwire_samples_s"]],
            "torch", [s * 1e3 for s in result["torch_samples_s"]], nn.NN_TARGET)
        for result in nn.run(quick=plan.engine_quick, shrink=plan.engine_shrink)] + compiled.run(
        quick=plan.engine_quick, shrink=plan.engine_shrink)


def _engine_target(workload: str) -> Target:
    """Issue 14's targets for the tutorial and the scalar chain; the general engine target otherwise."""
    if "tutorial" in workload:
        return Target("<= 1.0", ratio_max=1.0)
    if "chain" in workload:
        return Target("<= 1.3", ratio_max=1.3)
    return growth.ENGINE_TARGET


def run(plan: Plan, out_dir: Path = RESULTS, only: tuple[str, ...] = GROUPS, chart: bool = True,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Runs the chosen groups; writes <timestamp>.json (and .png); returns the record."""
    import torch

    importlib.import_module("gradwire.engine")  # before the freeze below, like torch
    torch.set_num_threads(1)
    # The ~170k objects importing torch creates would otherwise be traversed by every full garbage
    # collection during the engine's runs, a cost gradwire's server (which never imports torch) does not pay.
    gc.collect()
    gc.freeze()
    try:
        return _run(plan, out_dir, only, chart, log)
    finally:
        gc.unfreeze()


def _run(plan: Plan, out_dir: Path, only: tuple[str, ...], chart: bool, log: Callable[[str], None]) -> dict[str, Any]:
    started = time.perf_counter()
    timestamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    record: dict[str, Any] = {"timestamp": timestamp, "mode": plan.name, "machine": machine(),
                              "removed_environment": REMOVED_ENVIRONMENT, "rows": [], "growth_curves": []}

    def growth_rows() -> list[dict]:
        rows, record["growth_curves"] = growth.run(plan)
        return rows

    benchmarks: dict[str, Callable[[], list[dict]]] = {
        "engine": lambda: engine_rows(plan), "growth": growth_rows, "latency": lambda: serving.latency_rows(plan),
        "sessions": lambda: serving.session_rows(plan), "large": lambda: large.run(plan),
        "fastpath": lambda: fastpath.run(plan),
        "scaling": lambda: scaling.run(plan),
        "training": lambda: training.run(plan),
    }
    record["group_seconds"] = {}
    for name in (name for name in GROUPS if name in only):
        log(f"{name} ...")
        group_started = time.perf_counter()
        # The engine and torch share one thread count: torch's is set above, numpy's BLAS here.
        with threadpool_limits(limits=1, user_api="blas"):
            record["rows"] += benchmarks[name]()
        record["group_seconds"][name] = time.perf_counter() - group_started
    record["load_average_at_end"] = os.getloadavg()
    record["elapsed_s"] = time.perf_counter() - started
    json_path = out_dir / f"{timestamp}.json"
    if chart:
        from bench.chart import draw

        record["chart"] = str(draw(record, out_dir / f"{timestamp}.png"))
    record["json"] = str(json_path)
    write_json(record, json_path)
    return record


def main(argv: list[str] | None = None, write: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions (~1 minute)")
    parser.add_argument("--plan", choices=sorted(PLANS), help="full, quick or tiny (tiny: for tests only)")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated subset of {','.join(GROUPS)}")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and PNG")
    parser.add_argument("--no-chart", action="store_true")
    arguments = parser.parse_args(argv)
    only = tuple(arguments.only.split(","))
    if unknown := set(only) - set(GROUPS):
        parser.error(f"unknown group(s) {sorted(unknown)}; choose from {','.join(GROUPS)}")
    plan = PLANS[arguments.plan or ("quick" if arguments.quick else "full")]
    record = run(plan, arguments.out, only, chart=not arguments.no_chart,
                 log=lambda message: print(message, file=sys.stderr, flush=True))
    write(table(record["rows"]))
    if record["growth_curves"]:
        write(fits_text(record["growth_curves"]))
    if service := service_text(record["rows"]):
        write(service)
    write(summary_text(record["rows"], record))
    write(f"wrote {record['json']}" + (f" and {record['chart']}" if "chart" in record else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
