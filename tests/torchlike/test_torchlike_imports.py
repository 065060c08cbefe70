"""gradwire.torchlike is written once over numpy: it imports neither the engine, the client nor torch."""

from __future__ import annotations

import pathlib
import sys

import gradwire.torchlike


def test_torchlike_sources_import_only_numpy_and_the_standard_library():
    root = pathlib.Path(gradwire.torchlike.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                module = words[1].split(".")[0]
                if module and module not in ("numpy", "__future__") and module not in sys.stdlib_module_names:
                    offenders.append(f"{path.name}: {line.strip()}")
    assert offenders == []
