"""Tutorial-style programs (tutorial_programs.py) run with `import gradwire.engine as torch` print what
torch prints (object addresses aside; numbers to print precision)."""

from __future__ import annotations

import contextlib
import io

import pytest

import gradwire.engine as gw
from tutorial_programs import PROGRAMS, assert_prints_like_torch, seeded_values

torch = pytest.importorskip("torch", reason="torch is the reference output")


def printed(program, module) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        program(module, seeded_values(20261201))
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_prints_what_torch_prints(name):
    ours = printed(PROGRAMS[name], gw)
    theirs = printed(PROGRAMS[name], torch)
    assert ours.count("\n") > 5
    assert_prints_like_torch(ours, theirs)
