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
