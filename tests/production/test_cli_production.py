"""The `gradwire` command against secured servers: --version, TLS and token options, health --verbose,
JSON output of one shape, and an exit code per class of failure printed with the gRPC status."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from gradwire.client.cli import main
from production_helpers import TOKEN_ALICE, write_tokens

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "json"
GRADWIRE = Path(sys.executable).with_name("gradwire")


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version():
    result = subprocess.run([str(GRADWIRE), "--version"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, f"gradwire {version('gradwire')}")


def test_health_verbose_over_tls_with_a_token(capsys, start_server, pki, tmp_path):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key),
                          auth_tokens=str(write_tokens(tmp_path)), max_sessions=77)
    address = f"127.0.0.1:{server.port}"
    code, out, err = run_cli(capsys, "health", "--address", address, "--ca", str(pki.ca), "--token", TOKEN_ALICE,
                             "--verbose")
    assert code == 0, err
    assert out.splitlines()[0] == f"{address}: SERVING"
    assert f"gradwire {version('gradwire')} (contract gradwire.v1" in out
    assert "you are: alice" in out and "sessions 77" in out and "auth_tokens" in out
    code, out, _ = run_cli(capsys, "health", "--address", address, "--ca", str(pki.ca), "--token", TOKEN_ALICE,
                           "--verbose", "--format", "json")
    result = json.loads(out)
    assert (result["status"], result["server"]["principal"], result["server"]["limits"]["max_sessions"]) == (
        "SERVING", "alice", "77")  # protobuf's JSON mapping writes int64 as a string
    # Health is open, GetServerInfo is not: without the token the verbose part fails as UNAUTHENTICATED (4).
    code, out, err = run_cli(capsys, "health", "--address", address, "--ca", str(pki.ca), "--verbose")
    assert code == 4 and "UNAUTHENTICATED" in err and TOKEN_ALICE not in err
    # Plaintext against TLS: unreachable (3).
    code, out, _ = run_cli(capsys, "health", "--address", address, "--timeout", "3")
    assert code == 3 and "UNREACHABLE" in out


def test_token_and_ca_from_the_environment(capsys, start_server, pki, tmp_path, monkeypatch):
    server = start_server(tls_cert=str(pki.server_cert), tls_key=str(pki.server_key),
                          auth_tokens=str(write_tokens(tmp_path)))
    monkeypatch.setenv("GRADWIRE_TOKEN", TOKEN_ALICE)
    monkeypatch.setenv("GRADWIRE_CA", str(pki.ca))
    code, out, err = run_cli(capsys, "ops", "--address", f"127.0.0.1:{server.port}", "--format", "json")
    assert code == 0, err
    catalogue = json.loads(out)
    assert catalogue["count"] == len(catalogue["ops"]) > 10
    add = next(op for op in catalogue["ops"] if op["name"] == "add")
    assert add["min_inputs"] == 2 and "__add__" in add["operators"]


def test_compute_json_is_one_object_per_request_of_one_shape(capsys, start_server):
    server = start_server()
    code, out, err = run_cli(capsys, "compute", str(EXAMPLES / "5_retain_graph"), "--address",
                             f"127.0.0.1:{server.port}", "--format", "json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 5 and "FAILED_PRECONDITION" in err
    assert [line["method"] for line in lines] == ["CreateSession", "Backward", "Backward", "Backward", "CloseSession"]
    assert [line["ok"] for line in lines] == [True, True, True, False, True]
    assert lines[1]["grads"]["a"] == {"dtype": "float32", "shape": [2], "data": [15.0, 18.0]}
    assert lines[0]["info"]["out"] == {"dtype": "float32", "shape": [], "requires_grad": True, "is_leaf": False,
                                       "grad_fn": "MeanBackward0"}
    assert lines[3]["error"]["status"] == "FAILED_PRECONDITION" and lines[3]["error"]["type"] == "RuntimeError"
    for line in lines[:3]:
        assert set(line) >= {"file", "method", "ok", "values", "grads", "info"}


def test_exit_codes_per_class(capsys, start_server, tmp_path):
    server = start_server(auth_tokens=str(write_tokens(tmp_path)), max_sessions=1)
    address = f"127.0.0.1:{server.port}"
    one_shot = str(EXAMPLES / "5_one_shot" / "1-Compute.json")
    assert run_cli(capsys, "compute", one_shot, "--address", address)[0] == 4           # no token
    assert run_cli(capsys, "compute", one_shot, "--address", address, "--token", TOKEN_ALICE)[0] == 0
    create = tmp_path / "1-CreateSession.json"
    create.write_text("{}")  # an empty session: the server chooses its id
    create = str(create)
    assert run_cli(capsys, "compute", create, "--address", address, "--token", TOKEN_ALICE)[0] == 0
    code, _, err = run_cli(capsys, "compute", create, "--address", address, "--token", TOKEN_ALICE)
    assert code == 6 and "RESOURCE_EXHAUSTED" in err                                     # over the session cap
    assert run_cli(capsys, "compute", one_shot, "--address", "127.0.0.1:1", "--timeout", "2")[0] == 3
    assert run_cli(capsys, "compute", str(tmp_path / "missing.json"), "--address", address)[0] == 8
