"""The one row shape every benchmark of the harness reports, and the statistics behind it.

A row compares gradwire with a baseline measured in the same run: both medians, both spreads (min-max
over the repetitions, warm-up excluded), their ratio gradwire / baseline and, where issue 6 sets one,
the target that ratio must meet. Units differ per row (seconds, milliseconds, MB/s, MiB), so the row
names its unit and whether a larger number is better.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence


@dataclass(frozen=True)
class Target:
    """A bound on the row's ratio gradwire / baseline, with the issue's wording of it."""

    text: str
    ratio_max: float | None = None
    ratio_min: float | None = None

    def met(self, ratio: float) -> bool:
        return ((self.ratio_max is None or ratio <= self.ratio_max)
                and (self.ratio_min is None or ratio >= self.ratio_min))


def spread(samples: Sequence[float]) -> dict[str, Any]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "samples": [float(s) for s in samples]}


def row(group: str, workload: str, unit: str, ours: Sequence[float], baseline_name: str,
        theirs: Sequence[float], target: Target | None = None, higher_is_better: bool = False,
        **extra: Any) -> dict[str, Any]:
    """One comparison; `ours` and `theirs` are per-repetition figures in `unit`."""
    gradwire, baseline = spread(ours), spread(theirs)
    ratio = gradwire["median"] / baseline["median"]
    return {
        "group": group, "workload": workload, "unit": unit, "higher_is_better": higher_is_better,
        "gradwire": gradwire, "baseline_name": baseline_name, "baseline": baseline, "ratio": ratio,
        "target": target.text if target else None, "target_met": target.met(ratio) if target else None,
        "extra": extra,
    }


def timed(function: Callable[[], Any]) -> float:
    """Seconds one call of `function` takes."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def interleaved(functions: Sequence[Callable[[], Any]], repeats: int, warmup: int = 1) -> list[list[float]]:
    """Seconds per call of each function, the functions taking turns, so noise on a busy machine falls on
    all of them alike rather than on whichever ran while it lasted."""
    for _ in range(warmup):
        for function in functions:
            function()
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for function, own in zip(functions, samples):
            own.append(timed(function))
    return samples
