"""Compiled plans: a checked graph turned into a flat list of steps that runs again on new leaf values.

A plan is compiled from a graph that graph.check accepted and graph.run ran without error: ops are
resolved, attributes decoded and normalised (engine.attrs), every reference turned into a (value id,
output) pair, and the references to values outside the graph (a session's) listed in the order the slow
path checks them. Running a plan skips every structural check (the structure is the cache key, so it has
passed them) and keeps the checks that depend on the request's values or the session, in the slow
path's order: ids already in the session, then each leaf's bytes, then each outer reference. Each step
runs through the same engine call as the slow path (engine.dispatch.apply_op), so results and errors
are the same bit for bit.

Typed plans: a plan whose shapes its structure fixes is also typed at compile time, when it can be: from
the leaves' dtypes and shapes, each step's compute dtype, result dtype and output shapes are inferred
through the op's rules (engine.typed.infer). If every step types exactly, a run whose leaves have those
dtypes and shapes can run each step through engine.typed.apply_typed, which skips the arity check, the
attribute normalisation and both rules. The inference is checked once against what the engine really
produced (the plan's first run, on apply_op, compares every step's output dtype and shape); a plan whose
inference disagrees is never run typed. The runner (runner.py) takes the typed path metered or not:
apply_typed charges the budgets exactly as apply_op does.

Backward schedules (schedule.py): the order autograd's _collect gave a plan's one-shot backward, per set
of roots, replayed on later runs of the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

import gradwire.engine as ge
from gradwire.rules.attrs import normalise_attrs
from gradwire.engine.dispatch import apply_op
from gradwire.engine.typed import Meta, TypedCall, apply_typed, infer
from gradwire.rules import dtypes as rule_dtypes
from gradwire.rules.errors import GradwireError
from gradwire.v1 import gradwire_pb2 as pb

from . import attributes, codec, graph
from .errors import from_engine, with_node
from .ids import duplicate_id
from .uploads import UploadStore

# Ops whose result's size can depend on their operands' values (a mask's count, repeats given as a tensor,
# num_classes=-1, a boolean index): a plan with one does not have its shapes fixed by its structure.
VALUE_SHAPED_OPS = frozenset({"masked_select", "repeat_interleave", "one_hot", "getitem", "index_backward",
                              "nonzero", "argwhere", "unique", "bincount"})

# What a cached plan costs beyond its key, per step and per leaf (Python objects, measured roughly).
STEP_BYTES = 600
LEAF_BYTES = 200
TYPED_STEP_BYTES = 300


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


@dataclass
class PlanRuns:
    """What a plan learns as it runs (shared by the threads running it; plain assignments only)."""

    # The typed inference against the first run whose leaves matched: None until checked.
    typed_agrees: bool | None = None
    typed_runs: int = 0
    scheduled_backwards: int = 0
    # Backward schedules by the roots' ids (schedule.py); None where a set of roots cannot have one.
    schedules: dict = field(default_factory=dict)


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
    # Every shape, hence every budget charge, follows from the structure alone: no value read from a
    # session, no in-place write, no value-shaped op, no index naming a value.
    shapes_fixed: bool
    # What a metered run cost, by the roots' signature (runner.py): (peak bytes charged, elements of work).
    costs: dict[tuple, tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)
    # Typed steps (engine.typed), one per step, for leaves of exactly these (numpy dtype, shape); None if
    # the plan is untyped (shapes not fixed, or some step not typed exactly).
    typed: tuple[TypedCall, ...] | None = field(default=None, compare=False, repr=False)
    leaf_types: tuple[tuple[np.dtype, tuple[int, ...]], ...] | None = field(default=None, compare=False, repr=False)
    # Bytes of the forward's outputs, from the typed shapes (None if untyped).
    forward_bytes: int | None = field(default=None, compare=False)
    runs: PlanRuns = field(default_factory=PlanRuns, compare=False, repr=False)


@dataclass
class Bound:
    """A plan's leaves for one request: decoded arrays and the uploads they came from."""

    arrays: list[np.ndarray]
    upload_ids: list[str]

    @property
    def leaf_bytes(self) -> int:
        return sum(array.nbytes for array in self.arrays)


def compile_plan(checked: graph.CheckedGraph, leaf_shapes: list[tuple[int, ...]] | None = None) -> Plan:
    """The plan of a graph that was checked and ran once (so every attribute normalises).

    leaf_shapes: the leaves' shapes where checked.leaf_arrays stand in for them (PrepareGraph's inputs)."""
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
            # kind None: an absent optional tensor operand (bias=None), as attributes.operands reads it
            operands.append(graph.split_ref(operand.ref) if kind == "ref" else None if kind is None
                            else getattr(operand, kind))
        steps.append(Step(node.id, op, tuple(operands), tuple(refs), attrs, kept_node, node.no_grad,
                          f"node {node.id!r} ({node.op})"))
        outputs_here[node.id] = op.num_outputs
    shapes_fixed = not outer and not checked.has_inplace and all(
        step.attrs is not None and step.op.name not in VALUE_SHAPED_OPS for step in steps)
    leaf_types = tuple((array.dtype, tuple(array.shape) if leaf_shapes is None else tuple(leaf_shapes[i]))
                       for i, array in enumerate(checked.leaf_arrays))
    typed = type_steps(steps, checked.leaves, leaf_types) if shapes_fixed else None
    forward_bytes = None if typed is None else sum(
        dtype.itemsize * int(np.prod(shape)) for call in typed for dtype, shape in call.outputs)
    return Plan(
        leaf_ids=tuple(leaf.id for leaf in checked.leaves),
        leaf_requires_grad=tuple(leaf.requires_grad for leaf in checked.leaves),
        node_ids=tuple(node.id for node in checked.nodes),
        steps=tuple(steps), outer_refs=tuple(outer), has_inplace=checked.has_inplace,
        nbytes=STEP_BYTES * len(steps) + LEAF_BYTES * len(checked.leaves) + extra_bytes
        + (TYPED_STEP_BYTES * len(steps) if typed is not None else 0),
        shapes_fixed=shapes_fixed, typed=typed, leaf_types=leaf_types if typed is not None else None,
        forward_bytes=forward_bytes,
    )


def type_steps(steps: list[Step], leaves: list[pb.Leaf], leaf_types: tuple) -> tuple[TypedCall, ...] | None:
    """Each step's typed call, inferred from the leaves' dtypes and shapes; None unless all are exact."""
    metas: dict[str, Any] = {}
    for leaf, (numpy_dtype, shape) in zip(leaves, leaf_types):
        try:
            metas[leaf.id] = Meta(shape, rule_dtypes.from_numpy(numpy_dtype))
        except GradwireError:
            return None
    calls = []
    for step in steps:
        operands = [_lookup(metas, {}, value) if is_ref else value
                    for value, is_ref in zip(step.operands, step.refs)]
        call = infer(step.op, operands, step.attrs)
        if call is None:
            return None
        outputs = [Meta(shape, dtype) for dtype, shape in call.outputs]
        metas[step.node_id] = tuple(outputs) if step.op.num_outputs > 1 else outputs[0]
        calls.append(call)
    return tuple(calls)


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
                raise duplicate_id(value_id)
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


def run(plan: Plan, bound: Bound, scope: graph.Scope, *, writable_leaves: bool, typed: bool = False) -> graph.Built:
    """graph.run's effect, step by step without per-node checks or decoding.

    typed: run the typed steps if the plan has them, they agreed with the engine, and the leaves have
    the dtypes and shapes they were inferred for (else, and always when False, apply_op)."""
    matches = plan.typed is not None and plan.runs.typed_agrees is not False and _leaves_match(plan, bound)
    if typed and matches and plan.runs.typed_agrees:
        return _run_typed(plan, bound, scope, writable_leaves)
    built = _run(plan, bound, scope, writable_leaves)
    if matches and plan.runs.typed_agrees is None:
        plan.runs.typed_agrees = _typed_agrees(plan, scope.new)
    return built


def _leaves_match(plan: Plan, bound: Bound) -> bool:
    return all(array.dtype == dtype and array.shape == shape
               for array, (dtype, shape) in zip(bound.arrays, plan.leaf_types))  # type: ignore[arg-type]


def _typed_agrees(plan: Plan, new: dict) -> bool:
    """Every step's outputs have the dtypes and shapes the typed inference gave."""
    for step, call in zip(plan.steps, plan.typed):  # type: ignore[arg-type]
        value = new[step.node_id]
        outputs = value if isinstance(value, tuple) else (value,)
        if len(outputs) != len(call.outputs) or any(
                tensor._dtype is not dtype or tensor._data.shape != shape
                for tensor, (dtype, shape) in zip(outputs, call.outputs)):
            return False
    return True


def _run_typed(plan: Plan, bound: Bound, scope: graph.Scope, writable_leaves: bool) -> graph.Built:
    """run's typed path: the same effect, each step through engine.typed.apply_typed (no in-place
    steps, no outer references: shapes_fixed plans only)."""
    built = graph.Built(upload_ids=list(bound.upload_ids))
    new = scope.new
    _add_leaves(plan, bound, new, writable_leaves)
    built.new_ids.extend(plan.leaf_ids)
    try:
        for step, call in zip(plan.steps, plan.typed):  # type: ignore[arg-type]
            operands = [_lookup(new, new, value) if is_ref else value
                        for value, is_ref in zip(step.operands, step.refs)]
            attrs = dict(step.attrs)  # type: ignore[arg-type]  # a copy per run: the engine keeps it on the node
            try:
                if step.no_grad:
                    with ge.no_grad():
                        result = apply_typed(step.op, operands, attrs, call)
                else:
                    result = apply_typed(step.op, operands, attrs, call)
            except BaseException as error:  # named as the slow path names it
                with graph.node_errors(step.node_id, step.context, operands):
                    raise error
            new[step.node_id] = result
    except BaseException:
        built.undo.restore()
        raise
    built.new_ids.extend(plan.node_ids)
    plan.runs.typed_runs += 1
    return built


def _add_leaves(plan: Plan, bound: Bound, new: dict, writable_leaves: bool) -> None:
    for leaf_id, requires_grad, array in zip(plan.leaf_ids, plan.leaf_requires_grad, bound.arrays):
        if writable_leaves and not array.flags.writeable:
            array = array.copy()
        tensor = ge.from_numpy(array)
        if requires_grad:
            with with_node(leaf_id, f"leaf {leaf_id!r}"):
                tensor.requires_grad_(True)
        new[leaf_id] = tensor


def _run(plan: Plan, bound: Bound, scope: graph.Scope, writable_leaves: bool) -> graph.Built:
    built = graph.Built(upload_ids=list(bound.upload_ids))
    new = scope.new
    _add_leaves(plan, bound, new, writable_leaves)
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
