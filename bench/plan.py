"""Sizes and repetition counts of a harness run: full (a few minutes), quick (about a minute), tiny (tests).

Every benchmark reads its sizes from one Plan, so the three modes run the same code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    engine_quick: bool               # bench.engine.run(quick=..., shrink=...) for the four engine workloads
    engine_shrink: int
    node_sizes: tuple[int, ...]      # growth curve: nodes of a scalar chain
    element_sizes: tuple[int, ...]   # growth curve: elements of a 20-op elementwise chain
    growth_repeats: int
    latency_calls: int               # calls per repetition, shared by all clients
    latency_repeats: int
    concurrencies: tuple[int, ...]
    mlp: tuple[int, int, int]        # batch, width, depth of the session-vs-recompute graph
    session_k: int
    session_repeats: int
    jacobian_outputs: int            # rows of the Jacobian: n single-seed calls vs one batched call
    jacobian_repeats: int
    transfer_mib: int                # the large leaf; its gradient is as large
    chunk_mib: int
    transfer_repeats: int


FULL = Plan(
    name="full", engine_quick=False, engine_shrink=1,
    node_sizes=(1_000, 2_000, 4_000, 8_000, 16_000), element_sizes=(1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22),
    growth_repeats=7, latency_calls=400, latency_repeats=7, concurrencies=(1, 8),
    mlp=(256, 1024, 2), session_k=10, session_repeats=7, jacobian_outputs=64, jacobian_repeats=7,
    transfer_mib=256, chunk_mib=4, transfer_repeats=4,
)

QUICK = Plan(
    name="quick", engine_quick=True, engine_shrink=1,
    node_sizes=(1_000, 2_000, 4_000, 8_000), element_sizes=(1 << 14, 1 << 16, 1 << 18, 1 << 20),
    growth_repeats=3, latency_calls=300, latency_repeats=3, concurrencies=(1, 8),
    mlp=(256, 1024, 2), session_k=10, session_repeats=3, jacobian_outputs=32, jacobian_repeats=3,
    transfer_mib=64, chunk_mib=4, transfer_repeats=2,
)

# For the smoke test: every code path, sizes too small to mean anything.
TINY = Plan(
    name="tiny", engine_quick=True, engine_shrink=10,
    node_sizes=(50, 100, 200, 400), element_sizes=(1 << 8, 1 << 10, 1 << 12, 1 << 14),
    growth_repeats=2, latency_calls=16, latency_repeats=2, concurrencies=(1, 8),
    mlp=(8, 16, 2), session_k=10, session_repeats=2, jacobian_outputs=4, jacobian_repeats=2,
    transfer_mib=8, chunk_mib=1, transfer_repeats=2,
)

PLANS = {plan.name: plan for plan in (FULL, QUICK, TINY)}
