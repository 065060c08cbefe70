"""Compiled plans: a checked graph turned into a flat list of steps that runs again on new leaf values.

A plan is compiled from a graph that graph.check accepted and graph.run ran without error: ops are
resolved, attributes decoded and normalised (engine.attrs), every reference turned into a (value id,
output) pair, and the references to values outside the graph (a session's) listed in the order the slow
path checks them. Running a plan skips every structural check (the structure is the cache key, so it has
passed them) and keeps the checks that depend on the request's values or the session, in the slow
path's order: ids already in the session, then each leaf's bytes, then each outer reference. Each step
runs through the same engine call as the slow path (engine.dispatch.apply_op), so results and errors
are the same bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import gradwire.engine as ge
from gradwire.rules.attrs import normalise_attrs
from gradwire.engine.dispatch import apply_op
from gradwire.rules.errors import GradwireError
from gradwire.v1 import gradwire_pb2 as pb

from . import attributes, codec, graph
from .errors import from_engine, invalid, with_node
from .uploads import UploadStore

# What a cached plan costs beyond its key, per step and per leaf (Python objects, measured roughly).
STEP_BYTES = 600
LEAF_BYTES = 200


@dataclass(frozen=True)
class Step:
    node_id: str
    op: Any
    # Per operand: (value id, output) for a reference, else the Python scalar itself.
    operands: tuple[Any, ...]
    refs: tuple[bool, ...]
    # Normalised attributes; None when an index attribute names a value (resolved at each run from `node`).
    attrs: dict[str, Any] | None
    node: pb.Node | None
    no_grad: bool
    context: str  # "node 'b' (add)": how errors name the node, as in the slow path


@dataclass(frozen=True)
class Plan:
    leaf_ids: tuple[str, ...]
    leaf_requires_grad: tuple[bool, ...]
    node_ids: tuple[str, ...]
    steps: tuple[Step, ...]
    # (ref, node id) of every reference to a value the graph does not define, in the slow path's order.
    outer_refs: tuple[tuple[str, str], ...]
    has_inplace: bool
    nbytes: int


@dataclass
class Bound:
    """A plan's leaves for one request: decoded arrays and the uploads they came from."""

    arrays: list[np.ndarray]
    upload_ids: list[str]

    @property
    def leaf_bytes(self) -> int:
        return sum(array.nbytes for array in self.arrays)


def compile_plan(checked: graph.CheckedGraph) -> Plan:
    """The plan of a graph that was checked and ran once (so every attribute normalises)."""
    outputs_here = {leaf.id: 1 for leaf in checked.leaves}
    steps: list[Step] = []
    outer: list[tuple[str, str]] = []
    extra_bytes = 0
    for node, op in zip(checked.nodes, checked.ops):
        for ref in attributes.refs_of(node):
            if graph.split_ref(ref)[0] not in outputs_here:
                outer.append((ref, node.id))
        dynamic = any(value.WhichOneof("value") == "index" and
                      any(item.WhichOneof("item") == "ref" for item in value.index.items)
                      for value in node.attrs.values())
        attrs = None
        kept_node = None
        if dynamic:
            kept_node = pb.Node()
            kept_node.CopyFrom(node)
            extra_bytes += kept_node.ByteSize()
        else:
            try:  # cannot fail for a graph that ran; PrepareGraph compiles before any run
                attrs = normalise_attrs(op, attributes.attributes(node, op, _no_refs))
            except GradwireError as error:
                raise from_engine(error, node_id=node.id, context=f"node {node.id!r} ({node.op})") from error
            extra_bytes += sum(value.nbytes for value in _arrays_in(attrs))
        operands, refs = [], []
        for operand in node.inputs:
            kind = operand.WhichOneof("operand")
            refs.append(kind == "ref")
            operands.append(graph.split_ref(operand.ref) if kind == "ref" else getattr(operand, kind))
        steps.append(Step(node.id, op, tuple(operands), tuple(refs), attrs, kept_node, node.no_grad,
                          f"node {node.id!r} ({node.op})"))
        outputs_here[node.id] = op.num_outputs
    return Plan(
        leaf_ids=tuple(leaf.id for leaf in checked.leaves),
        leaf_requires_grad=tuple(leaf.requires_grad for leaf in checked.leaves),
        node_ids=tuple(node.id for node in checked.nodes),
        steps=tuple(steps), outer_refs=tuple(outer), has_inplace=checked.has_inplace,
        nbytes=STEP_BYTES * len(steps) + LEAF_BYTES * len(checked.leaves) + extra_bytes,
    )


def _no_refs(ref: str, what: str) -> Any:
    raise AssertionError(f"{what}: a plan's static attributes name no value ({ref!r})")


def _arrays_in(attrs: dict[str, Any]) -> list[np.ndarray]:
    found = []
    for value in attrs.values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, np.ndarray):
                found.append(item)
    return found


def bind(plan: Plan, request_graph: pb.Graph, scope: graph.Scope, uploads: UploadStore) -> Bound:
    """The checks of graph.check that depend on values, in its order; the leaves' arrays."""
    if scope.committed:
        for value_id in plan.leaf_ids + plan.node_ids:
            if value_id in scope.committed:
                raise invalid(f"duplicate id {value_id!r}", node_id=value_id)
    arrays: list[np.ndarray] = []
    upload_ids: list[str] = []
    for leaf in request_graph.leaves:
        if leaf.WhichOneof("source") == "value":
            arrays.append(codec.decode(leaf.value, f"leaf {leaf.id!r}"))
        else:
            arrays.append(uploads.peek(leaf.upload_id, f"leaf {leaf.id!r}"))
            upload_ids.append(leaf.upload_id)
    for ref, node_id in plan.outer_refs:
        scope.resolve(ref, f"node {node_id!r}", node_id)
    return Bound(arrays, upload_ids)


def run(plan: Plan, bound: Bound, scope: graph.Scope, *, writable_leaves: bool) -> graph.Built:
    """graph.run's effect, step by step without per-node checks or decoding."""
    built = graph.Built(upload_ids=list(bound.upload_ids))
    new = scope.new
    for leaf_id, requires_grad, array in zip(plan.leaf_ids, plan.leaf_requires_grad, bound.arrays):
        if writable_leaves and not array.flags.writeable:
            array = array.copy()
        tensor = ge.from_numpy(array)
        if requires_grad:
            with with_node(leaf_id, f"leaf {leaf_id!r}"):
                tensor.requires_grad_(True)
        new[leaf_id] = tensor
    built.new_ids.extend(plan.leaf_ids)
    fresh = {id(tensor) for tensor in new.values()} if plan.has_inplace else set()
    committed = scope.committed
    try:
        for step in plan.steps:
            operands = [
                _lookup(new, committed, value) if is_ref else value
                for value, is_ref in zip(step.operands, step.refs)
            ]
            static = step.attrs is not None
            # A copy per run: the engine keeps attrs on the backward node, and plans are shared by threads.
            attrs = dict(step.attrs) if static else attributes.attributes(step.node, step.op, scope.resolve)
            if step.op.inplace and operands:
                built.undo.before_inplace(operands[0], fresh, lambda: graph._tensors(committed.values()))
            result = _apply(step, operands, attrs, static)
            new[step.node_id] = result
            if step.op.inplace:
                built.changed_ids.extend(
                    value_id for value_id, value in committed.items()
                    if value is result and value_id not in built.changed_ids
                )
            elif plan.has_inplace:
                fresh.update(id(tensor) for tensor in (result if isinstance(result, tuple) else (result,)))
    except BaseException:
        built.undo.restore()
        raise
    built.new_ids.extend(plan.node_ids)
    return built


def _lookup(new: dict, committed: Any, ref: tuple[str, int]) -> Any:
    base, output = ref
    value = new[base] if base in new else committed[base]
    return value[output] if isinstance(value, tuple) else value


def _apply(step: Step, operands: list[Any], attrs: dict[str, Any], normalised: bool) -> Any:
    """As graph._apply: the engine call under no_grad if the node says so; errors name the node."""
    with graph.node_errors(step.node_id, step.context, operands):
        if step.no_grad:
            with ge.no_grad():
                return apply_op(step.op, operands, attrs, normalised=normalised)
        return apply_op(step.op, operands, attrs, normalised=normalised)
