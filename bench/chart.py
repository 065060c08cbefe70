"""One PNG of a harness run: six panels, one per question a reader asks (matplotlib, no display needed)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

OURS, THEIRS, TARGET = "tab:blue", "tab:gray", "tab:red"


def _rows(record: dict[str, Any], group: str) -> list[dict]:
    return [r for r in record["rows"] if r["group"] == group]


def _wrap(label: str, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(label, width))


def _plain_log_ticks(*axes: Any) -> None:
    """Ticks of a log axis as plain numbers: the default 10^x labels go through the (slow) mathtext parser."""
    for axis in axes:
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())


def _ratio_bars(axis: Any, rows: list[dict], title: str, target: float | None, invert: bool = False) -> None:
    """Horizontal bars of each row's ratio (or its inverse, a speedup), with the target as a line."""
    labels = [_wrap(f"{r['workload']} vs {r['baseline_name']}") for r in rows]
    values = [1 / r["ratio"] if invert else r["ratio"] for r in rows]
    colours = [{True: OURS, False: TARGET, None: THEIRS}[r["target_met"]] for r in rows]
    axis.barh(labels, values, color=colours)
    if target is not None:
        axis.axvline(target, color=TARGET, linestyle="--", label=f"target {target:g}")
        axis.legend(fontsize=7)
    for y, value in enumerate(values):
        axis.text(value, y, f" {value:.2f}", va="center", fontsize=7)
    axis.set_title(title, fontsize=9)
    axis.tick_params(axis="y", labelsize=7)
    axis.invert_yaxis()


def _growth(axis: Any, curve: dict[str, Any]) -> None:
    for side, colour in (("gradwire", OURS), ("torch", THEIRS)):
        fit = curve["fit"][side]
        axis.loglog(curve["sizes"], curve["median_s"][side], "o-", color=colour,
                    label=f"{side}: slope {fit['loglog_exponent']:.2f}, "
                          f"{fit['slope_s_per_unit'] * 1e6:.3g} us/{curve['unit'].rstrip('s')}")
    _plain_log_ticks(axis.xaxis, axis.yaxis)
    axis.tick_params(which="both", labelsize=7)
    axis.set_xlabel(curve["unit"], fontsize=8)
    axis.set_ylabel("seconds (median)", fontsize=8)
    axis.set_title(f"growth: {curve['label']}", fontsize=9)
    axis.legend(fontsize=7)


def _bars(axis: Any, labels: list[str], sides: list[dict], colours: list[str], title: str, unit: str,
          log: bool = False) -> None:
    """One bar per measured side (a row's gradwire or baseline part): median, with min-max whiskers."""
    medians = [side["median"] for side in sides]
    errors = [[m - side["min"] for m, side in zip(medians, sides)],
              [side["max"] - m for m, side in zip(medians, sides)]]
    axis.bar(range(len(sides)), medians, color=colours, yerr=errors, capsize=3)
    axis.set_xticks(range(len(sides)), [_wrap(label, 22) for label in labels], fontsize=7)
    for x, value in enumerate(medians):
        axis.text(x, value, f"{value:.3g}", ha="center", va="bottom", fontsize=7)
    axis.set_ylabel(unit, fontsize=8)
    if log:
        axis.set_yscale("log")
        _plain_log_ticks(axis.yaxis)
        axis.tick_params(which="both", labelsize=7)
    axis.set_title(title, fontsize=9)


def _latency(axis: Any, rows: list[dict]) -> None:
    labels, sides, colours = [], [], []
    for r in rows:
        clients = r["workload"].rsplit(",", 1)[1].strip()
        labels += [f"Compute, {clients}", f"echo, {clients}"]
        sides += [r["gradwire"], r["baseline"]]
        colours += [OURS, THEIRS]
    _bars(axis, labels, sides, colours, "service p50 vs bare gRPC echo (same run)", rows[0]["unit"])


def _large(axis: Any, rows: list[dict], memory: list[dict]) -> None:
    single, streamed = rows[0], rows[1]
    _bars(axis, ["single message", "streamed", "raw loopback TCP"],
          [single["gradwire"], streamed["gradwire"], single["baseline"]], [OURS, OURS, THEIRS],
          _wrap(single["workload"].split(":")[0], 60) + ", MB/s", single["unit"], log=True)
    axis.set_xlabel("\n".join(f"{r['workload'].split(' (')[0]}: {r['ratio']:.1f}x the leaf" for r in memory),
                    fontsize=7)


def _scaling(throughput_axis: Any, proxy_axis: Any, rows: list[dict]) -> None:
    """Calls/s of one server vs 2 replicas behind HAProxy; the echo's p50 direct vs through HAProxy."""
    labels, sides, colours = [], [], []
    for r in (r for r in rows if r["unit"] == "calls/s"):
        workload = r["workload"].split(",")[0]
        labels += [f"{workload.replace('session ', '')}, 1 server", f"{workload.replace('session ', '')}, 2 + proxy"]
        sides += [r["baseline"], r["gradwire"]]
        colours += [THEIRS, OURS]
    _bars(throughput_axis, labels, sides, colours, "scaling out, 32 clients (higher is better)", "calls/s")
    for r in (r for r in rows if r["unit"] != "calls/s"):
        _bars(proxy_axis, ["echo direct", "echo through HAProxy"], [r["baseline"], r["gradwire"]], [THEIRS, OURS],
              f"what the proxy adds: {r['extra']['added_p50_ms']:+.2f} ms p50", r["unit"])


def draw(record: dict[str, Any], path: Path) -> Path:
    scaling = _rows(record, "scaling")
    figure, axes = plt.subplots(3 if scaling else 2, 3, figsize=(18, 15 if scaling else 10))
    engine = _rows(record, "engine vs torch")
    if engine:
        _ratio_bars(axes[0][0], engine, "engine / torch time (lower is better)", 2.0)
    for axis, curve in zip((axes[0][1], axes[0][2]), record["growth_curves"]):
        _growth(axis, curve)
    if latency := _rows(record, "service vs floor"):
        _latency(axes[1][0], latency)
    if sessions := _rows(record, "sessions"):
        _ratio_bars(axes[1][1], sessions, "speedup over the baseline (higher is better)", 3.0, invert=True)
    if large := _rows(record, "large tensors"):
        _large(axes[1][2], large, _rows(record, "memory"))
    if scaling:
        _scaling(axes[2][0], axes[2][1], scaling)
    for axis in figure.axes:
        if not axis.has_data():
            axis.set_visible(False)
    info = record["machine"]
    figure.suptitle(f"gradwire benchmarks, {record['mode']} mode, {record['timestamp']} - {info['cpu']}, "
                    f"{info['cores']} cores, load {info['load_average_at_start'][0]:.1f}", fontsize=11)
    # Fixed margins: tight_layout would render the whole figure once more.
    figure.subplots_adjust(left=0.11, right=0.98, bottom=0.09, top=0.93, wspace=0.55, hspace=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
