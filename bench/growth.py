"""Growth curves, engine vs torch: cost against graph size (nodes) and against tensor size (elements).

Both sweeps run bench.engine's own workloads (the scalar chain and the 20-op elementwise chain) at
several sizes. Each curve is fitted twice: a straight line (seconds per node or per element, the
marginal cost) and a line in log-log space, whose slope is the growth exponent (1.0 = linear).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.engine import elementwise_chain, scalar_chain
from bench.plan import Plan
from bench.rows import Target, interleaved, row

GROUP = "engine growth"
ENGINE_TARGET = Target("<= 2.0", ratio_max=2.0)


def fit(sizes: list[int], seconds: list[float]) -> dict[str, float]:
    """Least-squares fits of seconds against size: linear (slope, intercept) and log-log (exponent)."""
    slope, intercept = np.polyfit(sizes, seconds, 1)
    exponent, _ = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return {"slope_s_per_unit": float(slope), "intercept_s": float(intercept), "loglog_exponent": float(exponent)}


def _sweep(label: str, unit_name: str, sizes: tuple[int, ...], inputs_for: Any, workload: Any,
           repeats: int) -> tuple[list[dict], dict[str, Any]]:
    import torch

    import gradwire.engine as ge

    rows, medians = [], {"gradwire": [], "torch": []}
    for size in sizes:
        inputs = inputs_for(size)
        ours, theirs = interleaved([lambda: workload(ge, inputs), lambda: workload(torch, inputs)], repeats)
        rows.append(row(GROUP, f"{label}, {size:,} {unit_name}", "ms", [s * 1e3 for s in ours],
                        "torch", [s * 1e3 for s in theirs], ENGINE_TARGET, size=size, size_unit=unit_name))
        medians["gradwire"].append(rows[-1]["gradwire"]["median"] / 1e3)
        medians["torch"].append(rows[-1]["baseline"]["median"] / 1e3)
    curve = {"label": label, "unit": unit_name, "sizes": list(sizes),
             "median_s": medians, "fit": {side: fit(list(sizes), medians[side]) for side in medians}}
    return rows, curve


def run(plan: Plan) -> tuple[list[dict], list[dict]]:
    """Rows for every size of both sweeps, and the two fitted curves."""
    rng = np.random.default_rng(2)
    node_rows, nodes = _sweep("scalar chain", "nodes", plan.node_sizes, lambda n: {"length": n},
                              scalar_chain, plan.growth_repeats)
    element_rows, elements = _sweep(
        "20 elementwise ops", "elements", plan.element_sizes,
        lambda n: {"big": rng.standard_normal(n).astype(np.float32)}, elementwise_chain, plan.growth_repeats)
    return node_rows + element_rows, [nodes, elements]
