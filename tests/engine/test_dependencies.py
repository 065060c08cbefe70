"""The engine's one-way dependencies: importing and using gradwire.engine loads numpy and nothing of
torch, grpc, protobuf or the rest of gradwire."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import sys
import gradwire.engine as t
a = t.tensor([2., 3.], requires_grad=True)
((a + 3) * (a + 3) * 3).mean().backward()
assert a.grad.tolist() == [15.0, 18.0]
forbidden = ("torch", "grpc", "google.protobuf", "gradwire.server", "gradwire.client", "gradwire.v1")
print(",".join(sorted(m for m in sys.modules if m.startswith(forbidden))) or "none")
"""


def test_engine_imports_numpy_only():
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_engine_sources_import_nothing_but_numpy_and_the_standard_library():
    import pathlib

    import gradwire.engine

    root = pathlib.Path(gradwire.engine.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                module = words[1].split(".")[0]
                if words[1].startswith(("gradwire.torchlike", "gradwire.rules")):
                    continue  # torch.nn / torch.optim and the op rules, numpy only (checked below and in tests/torchlike)
                if module not in ("numpy", "__future__") and module not in sys.stdlib_module_names and module:
                    offenders.append(f"{path.name}: {line.strip()}")
    assert offenders == []


RULES_PROGRAM = """
import sys
import gradwire.rules
print(",".join(sorted(m for m in sys.modules if m.startswith("gradwire.") or m in ("torch", "grpc"))))
"""


def test_the_rules_import_numpy_only_and_know_no_tensor_class():
    result = subprocess.run([sys.executable, "-c", RULES_PROGRAM], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.strip().split(","))
    assert all(name.startswith("gradwire.rules") for name in loaded), loaded


def _engine_root():
    import pathlib

    import gradwire.engine

    return pathlib.Path(gradwire.engine.__file__).parent


def _relative_imports(path) -> list[str]:
    """The engine modules `path` imports, at the top or inside a function, as dotted names under engine."""
    import ast

    package = path.parent.relative_to(_engine_root()).parts
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = list(package[:len(package) - node.level + 1]) + (node.module.split(".") if node.module else [])
            found += [".".join(parts)] if node.module else [".".join(parts + [alias.name]) for alias in node.names]
    return found


def test_the_tensor_and_the_view_bookkeeping_import_no_op_family():
    for name in ("tensor.py", "views.py"):
        imported = _relative_imports(_engine_root() / name)
        assert imported, name  # the scan sees the module's own imports
        assert [module for module in imported if module == "ops" or module.startswith("ops.")] == [], name


def test_versions_and_view_links_are_written_only_by_the_views_module():
    """`_version`, `_base`, `_view_version` and `_view_origin` move only in engine/views.py (tensor.py
    starts them)."""
    import re

    write = re.compile(r"\._(version|base|view_version|view_origin)\b(\[0\])?\s*(\+=|=(?!=))")
    roots = [_engine_root(), _engine_root().parent / "server"]
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for root in roots for path in root.rglob("*.py") if path.name != "views.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if write.search(line) and not (path.name == "tensor.py" and line.strip().startswith("self."))
    ]
    assert offenders == []
