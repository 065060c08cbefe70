"""The `gradwire` command against a real server: ops, health, compute on examples/json, serve, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradwire.client.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "json"
GRADWIRE = Path(sys.executable).with_name("gradwire")
# Flows the examples' README says must fail at some step (the tutorial's error cases).
FAILING_FLOWS = {"2_int_requires_grad", "5_retain_graph", "7_non_scalar"}


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_ops_prints_the_catalogue(capsys, client, address):
    code, out, _ = run_cli(capsys, "ops", "--address", address)
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()[1:] if line.strip() and not line.endswith(" ops")]
    assert names == client.ops()
    assert f"{len(client.ops())} ops" in out


def test_health_exit_code_follows_the_status(capsys, start_server):
    server, address = start_server()
    code, out, _ = run_cli(capsys, "health", "--address", address)
    assert (code, out.strip()) == (0, f"{address}: SERVING")
    server.stop(None).wait()
    code, out, _ = run_cli(capsys, "health", "--address", address, "--timeout", "2")
    assert code == 3 and out.strip() == f"{address}: UNREACHABLE"  # 3: the unreachable class


def test_compute_replays_the_retain_graph_flow(capsys, address):
    code, out, err = run_cli(capsys, "compute", str(EXAMPLES / "5_retain_graph"), "--address", address)
    assert code == 5  # the third backward fails, as the tutorial says: 5 is the refused-request class
    assert "[15., 18.]" in out and "[30., 36.]" in out
    assert "4-Backward.json: FAILED_PRECONDITION RuntimeError" in err and "retain_graph=True" in err


def test_compute_json_output_of_the_one_shot_request(capsys, address):
    code, out, _ = run_cli(capsys, "compute", str(EXAMPLES / "5_one_shot" / "1-Compute.json"),
                           "--address", address, "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["grads"]["a"] == {"dtype": "float32", "shape": [2], "data": [15.0, 18.0]}


@pytest.mark.parametrize("flow", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_example_flow_runs(flow, capsys, address):
    code, out, err = run_cli(capsys, "compute", str(EXAMPLES / flow), "--address", address)
    assert code == (5 if flow in FAILING_FLOWS else 0), err
    if flow in FAILING_FLOWS:
        assert "RuntimeError" in err
    else:
        assert out.strip() and not err


def test_compute_reports_a_bad_file(capsys, address, tmp_path):
    bad = tmp_path / "1-Backward.json"
    bad.write_text('{"roots": [{"idd": "x"}]}')
    code, _, err = run_cli(capsys, "compute", str(bad), "--address", address)
    assert code == 8 and "Backward" in err and "idd" in err  # 8: local input, nothing sent


def test_serve_hands_over_to_the_server():
    result = subprocess.run([str(GRADWIRE), "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--max-message-bytes" in result.stdout


def test_demo_runs_the_tutorial_against_its_own_server():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run([str(GRADWIRE), "demo"], capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in ("[15.0, 18.0]", "[30.0, 36.0]", "[4.0, 27.0]", "implicitly created only for scalar outputs",
                     "Trying to backward through the graph a second time", "floating point",
                     "stopped with SIGTERM (exit code 0)"):
        assert expected in out
    assert "UNEXPECTED" not in out
