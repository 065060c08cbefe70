"""Tutorial-style programs (tests/engine/tutorial_programs.py) run with `torch = Client(address)` against a
real server print what torch prints (object addresses aside; numbers to print precision)."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="torch is the reference output")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from tutorial_programs import PROGRAMS, assert_prints_like_torch, seeded_values  # noqa: E402


def printed(program, module) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        program(module, seeded_values(20261201))
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_prints_what_torch_prints(client, name):
    ours = printed(PROGRAMS[name], client)
    theirs = printed(PROGRAMS[name], torch)
    assert ours.count("\n") > 5
    assert_prints_like_torch(ours, theirs)
