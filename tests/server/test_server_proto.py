"""The wire contract's hygiene: buf lint passes and the committed generated stubs are not stale."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server_helpers import REPO, buf_command



def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # The venv's bin/ must be on PATH so protoc finds protoc-gen-mypy.
    environ = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=120)


def test_generated_stubs_are_up_to_date():
    result = _run(["bash", "scripts/gen_proto.sh", "--check"], REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(buf_command() is None, reason="buf not installed (npm install @bufbuild/buf)")
def test_buf_lint_passes():
    result = _run([buf_command(), "lint"], REPO / "proto")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(buf_command() is None, reason="buf not installed (npm install @bufbuild/buf)")
def test_buf_lint_catches_a_violation(tmp_path):
    # The lint test can fail: a message named in snake case is reported.
    shutil.copy(REPO / "proto" / "buf.yaml", tmp_path / "buf.yaml")
    (tmp_path / "gradwire" / "v1").mkdir(parents=True)
    (tmp_path / "gradwire" / "v1" / "bad.proto").write_text(
        'syntax = "proto3";\npackage gradwire.v1;\nmessage bad_name { int32 x = 1; }\n')
    result = _run([buf_command(), "lint"], tmp_path)
    assert result.returncode != 0 and "bad_name" in result.stdout + result.stderr
