"""The bounded load test (issue 11): 32 clients against a real server process for GRADWIRE_LOAD_SECONDS
(default 20), mixing the tutorial's Compute with stalled uploads and oversized requests (bench/load.py).
Every well-formed call succeeds, every health check (from a process of its own) is answered SERVING, and
every abusive call is refused or ended. Nothing here is timed: the health deadline only bounds a hang."""

from __future__ import annotations

import os
import sys

from server_helpers import REPO

if str(REPO) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from bench import load  # noqa: E402
from bench.service import gradwire_server_process  # noqa: E402

SECONDS = float(os.environ.get("GRADWIRE_LOAD_SECONDS", "20"))


def test_32_clients_mixing_good_and_abusive_calls():
    with gradwire_server_process(*load.SERVER_FLAGS) as (address, process):
        result = load.run(address, seconds=SECONDS, clients=32, health_timeout=5.0)
        assert process.poll() is None, "the server exited under load"
    counts = result["counts"]
    print(f"\nload: {result}")
    assert result["failure_count"] == 0, result["failures"]
    assert counts.get("compute ok", 0) > 0 and counts.get("compute error", 0) == 0
    assert result["health_checks"] > 0
    assert any(key.startswith("oversized RESOURCE_EXHAUSTED") for key in counts)
    assert any(key.startswith("slow upload") for key in counts)
