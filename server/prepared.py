"""Prepared graphs (PrepareGraph): a compiled plan with its fixed leaves, run again by graph_id.

A prepared graph is checked once (graph.check, with each input leaf standing in as an empty array of its
dtype) and compiled (plans.compile_plan). A call by graph_id then sends only the input leaves' values;
each is checked against its declared dtype and shape before anything runs.

Ownership: a prepared graph belongs to the principal of the call that made it (principal.py), as sessions
do; any other principal, like an unknown or expired id, gets NOT_FOUND,
so ids of other callers cannot be probed. Prepared graphs expire after an idle TTL, and their bytes (the
fixed leaves and the plan) are reserved in the server's retained-bytes budget, shared with sessions.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

import gradwire.engine as ge
from gradwire.v1 import gradwire_pb2 as pb

from . import codec, graph, lifted, plans
from .budget import RetainedBytes
from .echo import shown
from .errors import exhausted, invalid, not_found, with_node
from .uploads import UploadStore


@dataclass(eq=False)
class PreparedGraph:
    graph_id: str
    owner: str
    plan: plans.Plan
    # Per leaf in plan order: its fixed array, or None for an input leaf.
    fixed: list[np.ndarray | None]
    # Input leaf id -> (position among the leaves, dtype enum, shape).
    inputs: dict[str, tuple[int, int, tuple[int, ...]]]
    ttl: float
    nbytes: int
    last_used: float = 0.0
    released: bool = field(default=False)

    def bind(self, given: Sequence[pb.Leaf], uploads: UploadStore) -> plans.Bound:
        """The leaves of one call: fixed arrays plus each input's value, checked against its declaration."""
        arrays: list[np.ndarray | None] = list(self.fixed)
        upload_ids: list[str] = []
        for leaf in given:
            declared = self.inputs.get(leaf.id)
            if declared is None:
                known = ", ".join(map(repr, self.inputs)) or "none"
                raise invalid(f"prepared graph {self.graph_id}: {shown(leaf.id)} is not one of its input leaves "
                              f"({known})", node_id=leaf.id)
            position, dtype, shape = declared
            if arrays[position] is not None:
                raise invalid(f"input leaf {leaf.id!r} is given twice", node_id=leaf.id)
            what = f"input leaf {leaf.id!r}"
            source = leaf.WhichOneof("source")
            if source == "value":
                got_dtype, got_shape = leaf.value.dtype, tuple(leaf.value.shape)
            elif source == "upload_id":
                array = uploads.peek(leaf.upload_id, what)
                got_dtype, got_shape = codec.DTYPE_ENUMS[array.dtype.name], array.shape
            else:
                raise invalid(f"{what} has neither a value nor an upload_id", node_id=leaf.id)
            if got_dtype != dtype or got_shape != shape:
                raise invalid(
                    f"{what} of prepared graph {self.graph_id} was declared {codec.dtype_name(dtype, what)} of "
                    f"shape {list(shape)} but the call gives {_dtype_text(got_dtype)} of shape {list(got_shape)}",
                    node_id=leaf.id, error_type="RuntimeError")
            if leaf.requires_grad and not self.plan.leaf_requires_grad[position]:
                raise invalid(f"{what}: requires_grad is set by PrepareGraph, where this leaf does not require "
                              "grad; prepare the graph again to change it", node_id=leaf.id)
            if source == "value":
                arrays[position] = codec.decode(leaf.value, what)
            else:
                arrays[position] = array
                upload_ids.append(leaf.upload_id)
        missing = [leaf_id for leaf_id, (position, _, _) in self.inputs.items() if arrays[position] is None]
        if missing:
            raise invalid(f"prepared graph {self.graph_id} needs a value for input leaf(s) "
                          f"{', '.join(map(repr, missing))}", node_id=missing[0])
        return plans.Bound(arrays, upload_ids)  # type: ignore[arg-type]


def _dtype_text(dtype_enum: int) -> str:
    return codec.DTYPE_NAMES.get(dtype_enum, f"dtype {dtype_enum}")


def compile_prepared(request: pb.PrepareGraphRequest, uploads: UploadStore) -> tuple[plans.Plan, list, dict, list]:
    """Checks and compiles a PrepareGraph request: (plan, fixed arrays, input declarations, upload ids)."""
    inputs = list(request.inputs)
    if len(set(inputs)) != len(inputs):
        raise invalid("PrepareGraph: an input leaf is named twice")
    leaf_ids = [leaf.id for leaf in request.graph.leaves]
    unknown = [value_id for value_id in inputs if value_id not in leaf_ids]
    if unknown:
        raise invalid(f"PrepareGraph: inputs {', '.join(map(shown, unknown))} are not leaves of the graph",
                      node_id=unknown[0])
    wanted = set(inputs)
    probe = pb.Graph()
    declared: dict[str, tuple[int, int, tuple[int, ...]]] = {}
    for position, leaf in enumerate(request.graph.leaves):
        if leaf.id not in wanted:
            probe.leaves.add().CopyFrom(leaf)
            continue
        what = f"input leaf {leaf.id!r}"
        if leaf.WhichOneof("source") != "value" or leaf.value.data:
            raise invalid(f"{what}: give its dtype and shape in value, with no data (its values come with each "
                          "call)", node_id=leaf.id)
        codec.expected_nbytes(leaf.value, what)  # a known dtype, a valid shape
        declared[leaf.id] = (position, leaf.value.dtype, tuple(leaf.value.shape))
        # It stands in as an empty array of its dtype: graph.check needs only its id and dtype.
        probe.leaves.add(id=leaf.id, requires_grad=leaf.requires_grad,
                         value=pb.Tensor(dtype=leaf.value.dtype, shape=[0]))
    probe.nodes.extend(request.graph.nodes)
    checked = graph.check(probe, graph.Scope({}), uploads)
    for leaf, array in zip(checked.leaves, checked.leaf_arrays):
        if leaf.requires_grad:  # what the slow path's leaf would raise (only floats can require grad)
            with with_node(leaf.id, f"leaf {leaf.id!r}"):
                ge.from_numpy(np.empty(0, array.dtype)).requires_grad_(True)
    shapes = [declared[leaf.id][2] if leaf.id in wanted else array.shape
              for leaf, array in zip(checked.leaves, checked.leaf_arrays)]
    plan = plans.compile_plan(checked, shapes)  # typed for the declared shapes of the inputs
    # A fixed leaf viewing the request's bytes in place gets bytes of its own (it outlives the request).
    fixed = [None if leaf.id in wanted else array.copy() if lifted.is_lifted(array) else array
             for leaf, array in zip(checked.leaves, checked.leaf_arrays)]
    for array in fixed:
        if array is not None:
            array.flags.writeable = False  # every call gets its own copy where it writes
    return plan, fixed, declared, checked.upload_ids


class PreparedStore:
    """The live prepared graphs of one server."""

    def __init__(self, default_ttl: float, max_ttl: float, max_graphs: int, retained: RetainedBytes,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self.max_graphs = max_graphs
        self.retained = retained
        self._clock = clock
        self._graphs: dict[str, PreparedGraph] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._graphs)

    def add(self, owner: str, plan: plans.Plan, fixed: list, inputs: dict, ttl_seconds: float,
            already_reserved: int = 0) -> PreparedGraph:
        """Registers a compiled graph, reserving its bytes (refused over the count or bytes caps)."""
        self.expire()
        fixed_bytes = sum(array.nbytes for array in fixed if array is not None)
        nbytes = fixed_bytes + plan.nbytes
        ttl = min(float(ttl_seconds) if ttl_seconds else self.default_ttl, self.max_ttl)
        with self._lock:
            if len(self._graphs) >= self.max_graphs:
                raise exhausted(f"the server holds its maximum of {self.max_graphs} prepared graphs "
                                "(GRADWIRE_MAX_PREPARED_GRAPHS); release some (ReleaseGraph) or retry later")
            self.retained.reserve(nbytes - already_reserved, "a prepared graph")
            prepared = PreparedGraph(secrets.token_hex(16), owner, plan, fixed, inputs, ttl, nbytes,
                                     last_used=self._clock())
            self._graphs[prepared.graph_id] = prepared
        return prepared

    def get(self, graph_id: str, owner: str) -> PreparedGraph:
        """The caller's prepared graph (now used); NOT_FOUND for unknown, expired, released or not its own."""
        now = self._clock()
        with self._lock:
            prepared = self._graphs.get(graph_id)
            if prepared is not None and now - prepared.last_used > prepared.ttl:
                self._drop(prepared)
                raise not_found(f"prepared graph {shown(graph_id)} expired after {prepared.ttl:g} s idle; "
                                "prepare it again")
            if prepared is None or prepared.owner != owner:
                raise not_found(f"prepared graph {shown(graph_id)} not found (unknown, released or expired); "
                                "prepare it again")
            prepared.last_used = now
            return prepared

    def release(self, graph_id: str, owner: str) -> None:
        prepared = self.get(graph_id, owner)
        with self._lock:
            if self._graphs.get(graph_id) is prepared:
                self._drop(prepared)

    def expire(self) -> int:
        now = self._clock()
        with self._lock:
            stale = [p for p in self._graphs.values() if now - p.last_used > p.ttl]
            for prepared in stale:
                self._drop(prepared)
        return len(stale)

    def _drop(self, prepared: PreparedGraph) -> None:
        del self._graphs[prepared.graph_id]
        prepared.released = True
        self.retained.release(prepared.nbytes)

    def clear(self) -> None:
        with self._lock:
            for prepared in list(self._graphs.values()):
                self._drop(prepared)
