"""Backward schedules: a plan's one-shot backward replays the node order autograd found on an earlier run.

The engine's backward first walks the graph from the roots (autograd._collect: reachable nodes, in-
degrees, a topological order) and then runs the nodes in that order. A plan's runs build graphs of the
same shape, so the first backward from a given set of roots records the order _collect produced, as
positions: ("step", i) for the backward node of step i's output, ("leaf", j) for leaf j's AccumulateGrad.
Later runs rebuild the list from their own node objects and hand it to the engine (`order`), which then
skips _collect. Only an order _collect itself produced is replayed, so gradients are summed in the same
order and the results stay bit-identical. A schedule is used only when the new run recorded a backward
node for exactly the steps the recorded run did (so both graphs have the same nodes and edges); any
difference, or a node of the order that is not a step's or a leaf's, means no schedule (the engine
collects as usual). Plans with in-place steps or references to a session's values never get one (their
graphs are not fixed by the plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from gradwire.engine.autograd import _collect
from gradwire.engine.views import edge_of
from gradwire.v1 import gradwire_pb2 as pb

from . import gradients, plans
from .graph import Scope

# Schedules kept per plan (one per set of roots); past it, new sets of roots collect every time.
MAX_SCHEDULES_PER_PLAN = 16


@dataclass(frozen=True)
class Schedule:
    positions: tuple[tuple[str, int], ...]
    # Per step: whether its (first) output had a backward node when the schedule was recorded.
    recorded: tuple[bool, ...]


def backward(plan: plans.Plan, scope: Scope, roots: Sequence[pb.Root]) -> None:
    """The one-shot backward of a plan's run (gradients.backward), with its schedule when it has one."""
    if plan.has_inplace or plan.outer_refs:
        gradients.backward(scope, roots, retain_graph=None, create_graph=False, inputs=())
        return
    key = tuple(root.id for root in roots)
    schedules = plan.runs.schedules
    order = None
    if key in schedules:
        schedule = schedules[key]
        order = _replay(plan, scope, schedule) if schedule is not None else None
        if order is not None:
            plan.runs.scheduled_backwards += 1
    elif len(schedules) < MAX_SCHEDULES_PER_PLAN:
        order = _collected(scope, roots)
        if order is not None:
            schedules[key] = _record(plan, scope, order)
    gradients.backward(scope, roots, retain_graph=None, create_graph=False, inputs=(), order=order)


def _collected(scope: Scope, roots: Sequence[pb.Root]) -> list | None:
    """_collect's order for these roots, or None where the engine's backward will refuse them."""
    nodes = []
    for root in roots:
        tensor = scope.new.get(root.id)
        if tensor is None or isinstance(tensor, tuple):
            return None
        node = edge_of(tensor)
        if node is None:
            return None
        nodes.append(node)
    return _collect(nodes)


def _main_outputs(plan: plans.Plan, new: dict) -> list[Any]:
    return [value[0] if isinstance(value, tuple) else value for value in (new[i] for i in plan.node_ids)]


def _record(plan: plans.Plan, scope: Scope, order: list) -> Schedule | None:
    new = scope.new
    outputs = _main_outputs(plan, new)
    where: dict[int, tuple[str, int]] = {}
    for index, tensor in enumerate(outputs):
        if tensor.grad_fn is not None:
            where[id(tensor.grad_fn)] = ("step", index)
    for index, leaf_id in enumerate(plan.leaf_ids):
        leaf = new[leaf_id]
        if leaf._requires_grad:
            where[id(edge_of(leaf))] = ("leaf", index)
    positions = []
    for node in order:
        position = where.get(id(node))
        if position is None:
            return None
        positions.append(position)
    return Schedule(tuple(positions), tuple(tensor.grad_fn is not None for tensor in outputs))


def _replay(plan: plans.Plan, scope: Scope, schedule: Schedule) -> list | None:
    new = scope.new
    outputs = _main_outputs(plan, new)
    if any((tensor.grad_fn is not None) is not was for tensor, was in zip(outputs, schedule.recorded)):
        return None
    leaves = [new[leaf_id] for leaf_id in plan.leaf_ids]
    return [outputs[index].grad_fn if kind == "step" else edge_of(leaves[index])
            for kind, index in schedule.positions]
