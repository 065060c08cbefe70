"""Running a request's graph: through its cached plan when its structure was seen, else checked and built.

A structure's first requests take the slow path (graph.check then graph.run); the second time one runs
without error its plan is compiled and cached (plan_cache.py), and the next ones run the plan on their
own values (plans.bind then plans.run). Either way the graph runs inside the request's budgets (limits.metered),
then the one-shot backward from `roots`, if any.

A plan's shapes and dtypes are fixed by its structure, so what one metered run charged (its peak bytes
and its work, recorded per set of roots) is what every run charges. A small plan (at most FAST_WORK
elements of work, so it ends within about a millisecond) that is known to fit the budgets runs without
metering: the deadline and cancellation are checked before it starts, and no budget can refuse it.
Plans whose shapes are not fixed by their structure (plans.Plan.shapes_fixed: values read from a
session, in-place writes, value-shaped ops) are always metered.

Both paths run a plan's typed steps (plans.run(typed=True), engine.typed.apply_typed) once the plan's
typed inference has been checked against the engine: its first run takes apply_op and compares (that run
is always metered, as no cost is known yet). A metered typed step charges the budgets exactly as apply_op
would (the same budget.charge_op call, with the shape its rule gave at compile time), so what a run is
charged does not depend on the path. A plan run's one-shot backward replays the plan's backward schedule
for its roots (schedule.py) on both paths.
"""

from __future__ import annotations

from typing import Any, Sequence

import grpc

import gradwire.engine as ge
from gradwire.v1 import gradwire_pb2 as pb

from . import gradients, graph, plans, schedule
from .config import ServerConfig
from .limits import interrupt_for, metered
from .plan_cache import PlanCache, structure_key
from .uploads import UploadStore

FAST_WORK = 1 << 20
# Costs recorded per plan (one per set of roots a caller used); past it, new sets stay metered.
MAX_COSTS_PER_PLAN = 16


class GraphRunner:
    def __init__(self, config: ServerConfig, uploads: UploadStore, cache: PlanCache | None = None) -> None:
        self.config = config
        self.uploads = uploads
        self.cache = cache if cache is not None else PlanCache(config.plan_cache_entries, config.plan_cache_bytes)

    def build(self, request_graph: pb.Graph, scope: graph.Scope, context: grpc.ServicerContext | None, *,
              session: bool, roots: Sequence[pb.Root] = (), uploads: Any = None,
              on_progress: Any = None) -> graph.Built:
        """Checks (or binds to its plan) then runs a graph, and a one-shot backward from roots.

        uploads: where leaves' upload ids are read (the caller's own uploads); the whole store if None.
        on_progress: called as the request makes progress (keeps a held session alive).
        """
        uploads = uploads if uploads is not None else self.uploads
        key = structure_key(request_graph) if self.cache.max_entries > 0 else b""
        plan = self.cache.get(key) if key else None
        if plan is not None:
            return self.run_plan(plan, plans.bind(plan, request_graph, scope, uploads), scope, context,
                                 session=session, roots=roots, on_progress=on_progress)
        checked = graph.check(request_graph, scope, uploads)
        with metered(self.config, context, checked.leaf_bytes, on_progress):
            built = graph.run(checked, scope, writable_leaves=session or checked.has_inplace)
            if roots:
                gradients.backward(scope, roots, retain_graph=None, create_graph=False, inputs=())
        if key and self.cache.seen_before(key):
            plan = plans.compile_plan(checked)
            self.cache.put(key, plan, plan.nbytes)
        return built

    def run_plan(self, plan: plans.Plan, bound: plans.Bound, scope: graph.Scope,
                 context: grpc.ServicerContext | None, *, session: bool, roots: Sequence[Any] = (),
                 on_progress: Any = None) -> graph.Built:
        writable = session or plan.has_inplace
        signature = _roots_signature(roots) if plan.shapes_fixed else None
        cost = plan.costs.get(signature) if signature is not None else None
        if cost is not None and self._fits(cost, bound.leaf_bytes):
            interrupt = interrupt_for(context, on_progress)
            if interrupt is not None:
                interrupt()
            built = plans.run(plan, bound, scope, writable_leaves=writable, typed=True)
            if roots:
                schedule.backward(plan, scope, roots)
            return built
        with metered(self.config, context, bound.leaf_bytes, on_progress):
            built = plans.run(plan, bound, scope, writable_leaves=writable, typed=True)
            if roots:
                schedule.backward(plan, scope, roots)
            peak, work = ge.modes.charged_so_far()
        if signature is not None and peak is not None and work is not None and len(plan.costs) < MAX_COSTS_PER_PLAN:
            plan.costs[signature] = (peak, work)
        return built

    def _fits(self, cost: tuple[int, int], leaf_bytes: int) -> bool:
        peak, work = cost
        return (work <= FAST_WORK and leaf_bytes + peak <= self.config.max_request_bytes
                and work <= self.config.max_request_work)


def _roots_signature(roots: Sequence[Any]) -> tuple:
    """What of the roots decides a backward's cost: their ids and their seeds' dtypes and shapes."""
    return tuple((root.id, root.gradient.dtype, tuple(root.gradient.shape)) if root.HasField("gradient")
                 else (root.id,) for root in roots)
