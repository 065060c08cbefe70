"""The harness's outputs: the printed table, the JSON record and a description of the machine."""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """What produced the figures: CPU, cores, versions, BLAS kernel and how busy the machine was."""
    from threadpoolctl import threadpool_info

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())
    versions = {name: metadata.version(name) for name in ("numpy", "torch", "grpcio", "protobuf")}
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions,
            "blas": [{key: info.get(key) for key in ("internal_api", "architecture", "version", "num_threads")}
                     for info in threadpool_info() if info.get("user_api") == "blas"],
            "load_average_at_start": os.getloadavg()}


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _spread(side: dict[str, Any]) -> str:
    return f"{_number(side['min'])}-{_number(side['max'])}"


def table(rows: list[dict]) -> str:
    """One line per row, grouped: workload vs baseline, unit, both medians, ratio, target, both spreads."""
    width = max(len(f"{r['workload']} vs {r['baseline_name']}") for r in rows) + 2
    header = (f"{'workload vs baseline':<{width}}{'unit':>7}{'gradwire':>10}{'baseline':>10}{'ratio':>8}"
              f"{'target':>26}{'met':>5}   spread gradwire | baseline")
    lines, group = [header, "-" * len(header)], None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            lines.append(f"[{group}]")
        met = {True: "yes", False: "NO", None: ""}[r["target_met"]]
        lines.append(f"{r['workload'] + ' vs ' + r['baseline_name']:<{width}}{r['unit']:>7}"
                     f"{_number(r['gradwire']['median']):>10}{_number(r['baseline']['median']):>10}"
                     f"{r['ratio']:>8.2f}{r['target'] or '':>26}{met:>5}   "
                     f"{_spread(r['gradwire'])} | {_spread(r['baseline'])}")
    return "\n".join(lines)


def fits_text(curves: list[dict]) -> str:
    lines = []
    for curve in curves:
        sides = ", ".join(f"{side} {fit['slope_s_per_unit'] * 1e6:.3g} us/{curve['unit'].rstrip('s')} "
                          f"(log-log slope {fit['loglog_exponent']:.2f})" for side, fit in curve["fit"].items())
        lines.append(f"growth, {curve['label']} over {curve['sizes'][0]:,}-{curve['sizes'][-1]:,} "
                     f"{curve['unit']}: {sides}")
    return "\n".join(lines)


def service_text(rows: list[dict]) -> str:
    """p50, p99 and calls/s of both sides of each latency row (over all its repetitions)."""
    def stats(numbers: dict[str, float]) -> str:
        return f"p50 {numbers['p50_ms']:.2f} ms, p99 {numbers['p99_ms']:.2f} ms, {numbers['calls_per_s']:,.0f} calls/s"

    return "\n".join(f"{r['workload']}: {stats(r['extra']['gradwire_stats'])} | "
                     f"{r['baseline_name']}: {stats(r['extra']['baseline_stats'])}" for r in rows if "gradwire_stats" in r["extra"])


def summary_text(rows: list[dict], record: dict[str, Any]) -> str:
    targeted = [r for r in rows if r["target_met"] is not None]
    missed = [r["workload"] for r in targeted if not r["target_met"]]
    info = record["machine"]
    return "\n".join([
        f"targets met: {len(targeted) - len(missed)}/{len(targeted)}" + (f"; missed: {'; '.join(missed)}" if missed
                                                                        else ""),
        f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"numpy {info['versions']['numpy']}, torch {info['versions']['torch']}, grpcio {info['versions']['grpcio']}; "
        f"load average {info['load_average_at_start'][0]:.2f} at start, {record['load_average_at_end'][0]:.2f} at end",
        f"mode {record['mode']}, {record['elapsed_s']:.0f} s",
    ])


def write_json(record: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
