"""Smoke test of the benchmark harness (`python -m bench.run`): every benchmark on tiny sizes, end to end.

Real servers in subprocesses, the real engine and torch. It checks what the harness writes and prints
(the JSON record, the PNG, well-formed rows with positive ratios), never how fast anything ran.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

pytest.importorskip("matplotlib", reason="the harness's chart needs matplotlib (the bench extra)")
pytest.importorskip("threadpoolctl", reason="the harness needs threadpoolctl (the bench extra)")

from bench import run as harness  # noqa: E402
from bench.plan import TINY  # noqa: E402

GROUPS = {"engine vs torch", "engine compile", "engine growth", "service vs floor", "sessions", "large tensors", "memory", "fast path", "training"}
if shutil.which("haproxy"):  # bench.scaling runs a local cluster behind HAProxy, or says it skipped
    GROUPS.add("scaling")


def _check_side(side: dict) -> None:
    assert side["samples"], "no repetitions"
    assert all(math.isfinite(s) and s > 0 for s in side["samples"])
    assert side["min"] == min(side["samples"]) and side["max"] == max(side["samples"])
    assert side["min"] <= side["median"] <= side["max"]


@pytest.fixture(scope="module")
def harness_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    out = tmp_path_factory.mktemp("bench")
    capture = []
    exit_code = harness.main(["--plan", "tiny", "--out", str(out)], write=capture.append)
    assert exit_code == 0
    [json_path] = out.glob("*.json")
    return json.loads(json_path.read_text()), "\n".join(capture), out


def test_writes_the_json_record_and_a_png_chart(harness_run: tuple[dict, str, Path]) -> None:
    record, printed, out = harness_run
    [png] = out.glob("*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert record["chart"] == str(png) and record["mode"] == "tiny"
    assert png.stem == Path(record["json"]).stem == record["timestamp"]
    assert f"wrote {record['json']}" in printed


def test_every_row_is_well_formed_with_a_positive_ratio(harness_run: tuple[dict, str, Path]) -> None:
    record, printed, _ = harness_run
    assert {r["group"] for r in record["rows"]} == GROUPS
    for r in record["rows"]:
        _check_side(r["gradwire"])
        _check_side(r["baseline"])
        assert r["ratio"] > 0 and math.isclose(r["ratio"], r["gradwire"]["median"] / r["baseline"]["median"])
        assert (r["target"] is None) == (r["target_met"] is None)
        assert r["workload"] in printed and r["unit"]


def test_covers_every_workload_of_the_issue(harness_run: tuple[dict, str, Path]) -> None:
    record, printed, _ = harness_run
    by_group = {group: [r for r in record["rows"] if r["group"] == group] for group in GROUPS}
    assert len(by_group["engine vs torch"]) == 4 + 3  # bench.engine's four, bench.nn's three
    assert {r["workload"].split()[0] for r in by_group["engine vs torch"]} >= {"conv2d", "layer_norm", "cross_entropy"}
    assert {r["target"] for r in by_group["engine vs torch"] if r["workload"].startswith("conv2d")} == {"<= 3.0"}
    assert [r["baseline_name"] for r in by_group["engine compile"]] == ["eager engine"] * 3  # bench.compiled
    assert [r["workload"].rsplit(",", 1)[1].strip() for r in by_group["service vs floor"]] == \
        [f"{n} client{'s' * (n > 1)}" for n in TINY.concurrencies]
    assert all({"p50_ms", "p99_ms", "calls_per_s"} <= set(r["extra"]["gradwire_stats"])
               for r in by_group["service vs floor"])
    assert sum(r["workload"].startswith(f"k={TINY.session_k} backward") for r in by_group["sessions"]) == 2
    assert any(r["workload"].startswith("Jacobian") for r in by_group["sessions"])
    assert {r["baseline_name"] for r in by_group["large tensors"]} == {
        "raw loopback TCP", "single message", "bare gRPC echo (floor)", "bare gRPC streams (floor)"}
    assert sum("(floor) vs" in f"{r['workload']} vs" for r in by_group["large tensors"]) == 2  # both floors vs TCP
    assert sum(r["workload"].startswith("peak RSS of a bare gRPC echo server") for r in by_group["memory"]) == 1
    peaks = [r for r in by_group["memory"] if r["workload"].startswith("peak server RSS,")]
    assert [r["extra"]["round_trips"] for r in peaks] == [1, TINY.transfer_repeats + 1] * 2
    assert all(r["gradwire"]["median"] >= r["extra"]["idle_rss_mib"] for r in peaks)
    assert sum(r["workload"].startswith("peak server RSS growth, SDK") for r in by_group["memory"]) == 1
    fast = [f"{r['workload']} vs {r['baseline_name']}" for r in by_group["fast path"]]
    assert any("plan cache hit vs miss" in row for row in fast)
    assert any(row.startswith("prepared-graph Compute") and "gRPC echo" in row for row in fast)
    assert any(row.startswith("SDK:") and row.endswith("raw loopback TCP") for row in fast)


def test_growth_curves_have_four_sizes_and_a_fitted_slope(harness_run: tuple[dict, str, Path]) -> None:
    record, printed, _ = harness_run
    assert [curve["unit"] for curve in record["growth_curves"]] == ["nodes", "elements"]
    for curve in record["growth_curves"]:
        assert len(curve["sizes"]) >= 4 and curve["sizes"] == sorted(curve["sizes"])
        for side in ("gradwire", "torch"):
            assert len(curve["median_s"][side]) == len(curve["sizes"])
            assert all(math.isfinite(value) for value in curve["fit"][side].values())
        assert f"growth, {curve['label']}" in printed


def test_training_loops_have_their_rows(harness_run: tuple[dict, str, Path]) -> None:
    record, _, _ = harness_run
    training = [r["workload"] for r in record["rows"] if r["group"] == "training"]
    for pattern in ("manual", "rebinding", "minibatch", "nn_optim"):
        assert sum(w.startswith(f"SDK {pattern}:") for w in training) == 3
    assert any(w.startswith("engine nn + optim") for w in training)
