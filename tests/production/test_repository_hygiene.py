"""Nothing in the repository points at a document or a path outside it: every tracked text file is
checked for absolute paths of the machine it was written on and for names of documents the
repository does not hold."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Documents that exist only outside the repository, and absolute paths of the machines it was made on.
OUTSIDE = re.compile(r"/work/|shared/reference|\b(?:semantics|serving|toolchain|style|engine_bugs)\.md\b")


def tracked_text_files() -> list[Path]:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout (git is needed to list the tracked files)")
    names = subprocess.run([git, "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    this_file = Path(__file__).resolve()  # it spells the patterns out
    return [REPO / name for name in names if (REPO / name).is_file() and (REPO / name).resolve() != this_file]


def test_no_file_points_outside_the_repository():
    offenders = []
    for path in tracked_text_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # binary (images)
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_markdown_document_named_exists():
    for path in tracked_text_files():
        if path.suffix not in (".py", ".md", ".sh", ".proto", ".yaml", ".yml", ".js", ".go"):
            continue
        for name in re.findall(r"[\w./-]+\.md\b", path.read_text()):
            candidates = [path.parent / name, REPO / name]
            assert any(candidate.exists() for candidate in candidates), f"{path.relative_to(REPO)} names {name}"
