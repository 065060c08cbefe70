"""Building a request's graph into a session (or a one-shot scope) with the engine.

Two phases, so that a rejected request changes nothing (in-place nodes that wrote to a session's values
are undone by rollback.Undo, here when a node fails, by the caller when a later step refuses):
1. check: ids (non-empty, unique, no ':'), ops against the registry, arity and attribute kinds, every
   reference naming an earlier value (a later one is a forward reference, the only way to write a cycle),
   "id:k" within the op's outputs, and every inline tensor decoded. Nothing runs.
2. run: leaves become engine tensors, nodes run in program order through ge.apply; new values go into a
   scratch dict that the caller commits only when the whole request succeeded.
Torch semantics (promotion, shapes, in-place rules) are the engine's: its errors come back naming the node.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import numpy as np

import gradwire.engine as ge
from gradwire.rules.errors import GradwireError, UnknownOpError
from gradwire.v1 import gradwire_pb2 as pb

from . import attributes, codec
from .echo import shown
from .errors import NUMPY_VALUE_ERRORS, from_engine, from_numpy_error, invalid, with_node
from .rollback import Undo
from .uploads import UploadStore

log = logging.getLogger("gradwire.server")

# Printable ASCII without spaces or ':' (ids travel in the gradwire-node-id trailer).
ID_PATTERN = re.compile(r"[!-9;-~]{1,256}")


def split_ref(ref: str) -> tuple[str, int]:
    """'out:1' -> ('out', 1); 'out' -> ('out', 0)."""
    if ":" not in ref:
        return ref, 0
    base, _, suffix = ref.rpartition(":")
    if suffix.isdigit():
        return base, int(suffix)
    return ref, 0


class Scope:
    """The values a graph can name: those already committed to the session, plus the new ones."""

    def __init__(self, committed: Mapping[str, Any]) -> None:
        self.committed = committed
        self.new: dict[str, Any] = {}

    def __contains__(self, value_id: str) -> bool:
        return value_id in self.new or value_id in self.committed

    def value(self, value_id: str) -> Any:
        return self.new[value_id] if value_id in self.new else self.committed[value_id]

    def items(self):
        yield from self.committed.items()
        yield from self.new.items()

    def resolve(self, ref: str, what: str, node_id: str = "") -> Any:
        """The tensor a reference names; INVALID_ARGUMENT (naming node_id) if there is none."""
        base, output = split_ref(ref)
        if base not in self:
            raise invalid(f"{what} refers to unknown id {ref!r}", node_id=node_id)
        value = self.value(base)
        outputs = value if isinstance(value, tuple) else (value,)
        if output >= len(outputs):
            raise invalid(f"{what} refers to {ref!r} but {base!r} has {len(outputs)} output(s)", node_id=node_id)
        return outputs[output]


@dataclass
class Built:
    """What a graph added: ids in program order, committed ids an in-place node changed, uploads used."""

    new_ids: list[str] = field(default_factory=list)
    changed_ids: list[str] = field(default_factory=list)
    upload_ids: list[str] = field(default_factory=list)
    undo: Undo = field(default_factory=Undo)


@dataclass
class CheckedGraph:
    # Lists, not the repeated fields: every walk over a protobuf repeated field makes new wrappers.
    leaves: list[pb.Leaf]
    nodes: list[pb.Node]
    leaf_arrays: list[np.ndarray]
    ops: list[Any]
    upload_ids: list[str]

    @property
    def leaf_bytes(self) -> int:
        return sum(array.nbytes for array in self.leaf_arrays)

    @property
    def has_inplace(self) -> bool:
        return any(op.inplace for op in self.ops)


def check(graph: pb.Graph, scope: Scope, uploads: UploadStore) -> CheckedGraph:
    """Phase 1: everything that can be checked without running an op."""
    leaves, nodes = list(graph.leaves), list(graph.nodes)
    leaf_ids, node_ids = [leaf.id for leaf in leaves], [node.id for node in nodes]
    seen: set[str] = set()
    for value_id in leaf_ids + node_ids:
        if not ID_PATTERN.fullmatch(value_id):
            raise invalid(f"id {shown(value_id)} must be 1 to 256 printable ASCII characters without spaces "
                          "or ':'", node_id=value_id)
        if value_id in seen or value_id in scope:
            raise invalid(f"duplicate id {value_id!r}", node_id=value_id)
        seen.add(value_id)

    leaf_arrays: list[np.ndarray] = []
    upload_ids: list[str] = []
    for leaf in leaves:
        source = leaf.WhichOneof("source")
        if source == "value":
            leaf_arrays.append(codec.decode(leaf.value, f"leaf {leaf.id!r}"))
        elif source == "upload_id":
            leaf_arrays.append(uploads.peek(leaf.upload_id, f"leaf {leaf.id!r}"))
            upload_ids.append(leaf.upload_id)
        else:
            raise invalid(f"leaf {leaf.id!r} has neither a value nor an upload_id", node_id=leaf.id)

    # Outputs of each id defined so far in this request (leaves have one).
    outputs_here = dict.fromkeys(leaf_ids, 1)
    later = set(node_ids)
    ops = []
    for node, node_id in zip(nodes, node_ids):
        try:
            op = ge.registry.get(node.op)
        except UnknownOpError as error:
            raise from_engine(error, node_id=node_id, context=f"node {node_id!r}") from None
        attributes.check_node(node, op)
        later.discard(node_id)
        for ref in attributes.refs_of(node):
            _check_ref(ref, node_id, outputs_here, later, scope)
        outputs_here[node_id] = op.num_outputs
        ops.append(op)
    return CheckedGraph(leaves, nodes, leaf_arrays, ops, upload_ids)


def _check_ref(ref: str, node_id: str, outputs_here: dict[str, int], later: set[str], scope: Scope) -> None:
    base, output = split_ref(ref)
    if base in outputs_here:
        if output >= outputs_here[base]:
            raise invalid(f"node {node_id!r} refers to {ref!r} but {base!r} has {outputs_here[base]} output(s)",
                          node_id=node_id)
    elif base == node_id or base in later:
        raise invalid(f"node {node_id!r} refers to {ref!r}, which is defined later: nodes run in program order, "
                      "so a forward reference (or a cycle) cannot be evaluated", node_id=node_id)
    else:
        scope.resolve(ref, f"node {node_id!r}", node_id)


def run(checked: CheckedGraph, scope: Scope, *, writable_leaves: bool) -> Built:
    """Phase 2: leaves then nodes into scope.new (the caller commits them).

    Leaf arrays view the request's bytes read-only; with writable_leaves (a session, or a graph with an
    in-place op) read-only leaves are copied so in-place ops can write to them.
    """
    built = Built(upload_ids=list(checked.upload_ids))
    for leaf, array in zip(checked.leaves, checked.leaf_arrays):
        if writable_leaves and not array.flags.writeable:
            array = array.copy()
        tensor = ge.from_numpy(array)
        if leaf.requires_grad:
            with with_node(leaf.id, f"leaf {leaf.id!r}"):  # only floating-point tensors can require grad
                tensor.requires_grad_(True)
        scope.new[leaf.id] = tensor
        built.new_ids.append(leaf.id)
    fresh = {id(tensor) for tensor in scope.new.values()}
    try:
        for node, op in zip(checked.nodes, checked.ops):
            _run_node(node, op, scope, built, fresh)
    except BaseException:
        built.undo.restore()
        raise
    return built


def _run_node(node: pb.Node, op: Any, scope: Scope, built: Built, fresh: set[int]) -> None:
    operands = attributes.operands(node, scope.resolve)
    attrs = attributes.attributes(node, op, scope.resolve)
    if op.inplace and operands:
        built.undo.before_inplace(operands[0], fresh, lambda: _tensors(scope.committed.values()))
    result = _apply(node, operands, attrs)
    scope.new[node.id] = result
    built.new_ids.append(node.id)
    if op.inplace:
        built.changed_ids.extend(
            value_id for value_id, value in scope.committed.items()
            if value is result and value_id not in built.changed_ids
        )
    else:  # memory this request made: in-place writes to it need no undo
        fresh.update(id(tensor) for tensor in (result if isinstance(result, tuple) else (result,)))


def _tensors(values: Any) -> Any:
    for value in values:
        yield from value if isinstance(value, tuple) else (value,)


def _apply(node: pb.Node, operands: list[Any], attrs: dict[str, Any]) -> Any:
    """One node through the engine (under no_grad if it says so); engine errors name the node."""
    with node_errors(node.id, f"node {node.id!r} ({node.op})", operands):
        if node.no_grad:
            with ge.no_grad():
                return ge.apply(node.op, operands, attrs)
        return ge.apply(node.op, operands, attrs)


@contextlib.contextmanager
def node_errors(node_id: str, context: str, operands: list[Any]) -> Iterator[None]:
    """Errors of one node's engine call as the caller sees them (the graph path and the plan path alike).

    Besides the engine's and numpy's errors, an op handed operands or attributes of a kind its maths
    cannot take (a number where it reads a tensor's shape, a bool as a size) is the request's fault:
    INVALID_ARGUMENT, but logged in full in case it is the op's."""
    try:
        yield
    except GradwireError as error:
        raise from_engine(error, node_id=node_id, context=context) from error
    except NUMPY_VALUE_ERRORS as error:
        raise from_numpy_error(error, node_id=node_id, context=context) from error
    except (TypeError, AttributeError, ZeroDivisionError) as error:
        log.warning("%s refused operands of kinds %s", context, [type(x).__name__ for x in operands], exc_info=True)
        raise invalid(f"{context}: the op cannot take these operands or attributes (check their kinds: "
                      f"tensors, numbers, ints): {error}", node_id=node_id, error_type="TypeError") from error
