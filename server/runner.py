"""Running a request's graph: through its cached plan when its structure was seen, else checked and built.

A structure's first requests take the slow path (graph.check then graph.run); the second time one runs
without error its plan is compiled and cached (plan_cache.py), and the next ones run the plan on their
own values (plans.bind then plans.run). Either way the graph runs inside the request's budgets (limits.metered),
then the one-shot backward from `roots`, if any.
"""

from __future__ import annotations

from typing import Any, Sequence

import grpc

from gradwire.v1 import gradwire_pb2 as pb

from . import gradients, graph, plans
from .config import ServerConfig
from .limits import metered
from .plan_cache import PlanCache, structure_key
from .uploads import UploadStore


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
        with metered(self.config, context, bound.leaf_bytes, on_progress):
            built = plans.run(plan, bound, scope, writable_leaves=session or plan.has_inplace)
            if roots:
                gradients.backward(scope, roots, retain_graph=None, create_graph=False, inputs=())
        return built
