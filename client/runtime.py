"""The machinery behind a Client: the op catalogue, the current session, grad mode and the calls that
turn tensor operations into recorded nodes, and backward/grad into RPCs.

Round trips (each is one RPC): the first use of ops fetches the catalogue (ListOps, once per Client);
a flush sends everything pending (CreateSession, then Extend); reading a value that is not known
locally is a Read, or rides on the flush when something is pending; backward and autograd.grad are
one call each after the flush and bring the grads back with them. Large leaves add one UploadTensor
each and large results one DownloadTensor each.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from gradwire.rules.ops.searching import tuple_form
from gradwire.v1 import gradwire_pb2 as pb

from . import codec, derive, dtypes
from .catalogue import Catalogue, OpSpec
from .meta import Meta
from .session import Session, Value
from .transport import Transport

if TYPE_CHECKING:
    from .tensor import Tensor


# Roots of a backward this small come back with the flush before it (losses are printed afterwards).
SMALL_VALUE_ELEMENTS = 1024


class Runtime:
    """One connection's state: transport, catalogue, current session, grad mode, random generator."""

    def __init__(self, transport: Transport, tensor_class: type[Tensor]) -> None:
        self.transport = transport
        self.tensor_class = tensor_class
        self._catalogue: Catalogue | None = None
        self._session: Session | None = None
        self._sessions: list[Session] = []
        self._grad_mode = threading.local()
        self._lock = threading.RLock()
        self.random = np.random.default_rng()
        budget = transport.max_message_bytes * 3 // 4 if transport.max_message_bytes < (2 << 30) - 1 else None
        self._request_budget = budget

    # ------------------------------------------------------------ state

    @property
    def catalogue(self) -> Catalogue:
        if self._catalogue is None:
            self._catalogue = Catalogue.from_response(self.transport.call("ListOps", pb.ListOpsRequest()))
        return self._catalogue

    @property
    def session(self) -> Session:
        """The session new tensors go to; a new one after the previous was lost or closed."""
        with self._lock:
            if self._session is None or self._session.lost is not None or self._session.closed:
                self._session = Session(self.transport, self._request_budget)
                self._sessions.append(self._session)
            return self._session

    @property
    def grad_enabled(self) -> bool:
        return getattr(self._grad_mode, "enabled", True)

    def set_grad_enabled(self, enabled: bool) -> None:
        self._grad_mode.enabled = bool(enabled)

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
            self._session = None
        self.transport.close()

    # ------------------------------------------------------------ making tensors

    def wrap(self, value: Value) -> Tensor:
        return self.tensor_class._wrap(value)

    def leaf(self, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A new leaf holding `array` (sent with the next flush)."""
        derive.check_new_leaf(bool(requires_grad), dtypes.from_numpy(array.dtype))
        return self.wrap(self.session.add_leaf(array, bool(requires_grad)))

    def graph_value(self, tensor: Tensor, session: Session) -> Value:
        """The Value a tensor stands for in `session` (a .grad becomes a leaf holding its data)."""
        value = tensor._graph_value()
        value.check_usable()
        if value.session is not session:
            if value.session.lost is not None:
                raise value.session.lost
            raise RuntimeError("these tensors belong to different gradwire sessions (a closed Client?)")
        return value

    # ------------------------------------------------------------ ops

    def apply(self, op: OpSpec, operands: Sequence[Any], attrs: dict[str, Any]) -> Any:
        """Records `op` on the operands: returns its result tensor(s), or the target of an in-place op.

        The results' metadata comes from the op's rules (derive.py), whose errors are raised here,
        before anything is recorded or sent."""
        routed = tuple_form(op.name, operands, attrs)  # where(condition), nonzero(x, as_tuple=True)
        if routed is not None:
            op = self.catalogue.op(routed)
        outputs = self._pieces(op, operands, attrs)
        if outputs is not None:  # one node per differentiable output
            return op.named(tuple(self.apply(op, operands, {**attrs, "output": k}) for k in range(outputs)))
        tensor_class = self.tensor_class
        session = self._session_of(operands)
        grad_enabled = self.grad_enabled
        # Attributes by their names (torch's aliases, such as axis for dim, are the caller's spelling).
        attrs = {(spec.name if (spec := op.attr(name)) else name): attr for name, attr in attrs.items()}
        node = pb.Node(id=session.new_id(), op=op.name, no_grad=not grad_enabled)
        refs: list[str] = []
        metas: list[Any] = []
        source: Value | None = None  # operand 0's value, which a view op's result shares memory with

        def ref_of(item: Any) -> str | None:
            if not isinstance(item, tensor_class):
                return None
            value = self.graph_value(item, session)
            refs.append(value.id)
            return value.id

        for operand in operands:
            if isinstance(operand, tensor_class):
                value = self.graph_value(operand, session)
                source = source or value
                node.inputs.add(ref=value.id)
                refs.append(value.id)
                metas.append(value.meta)
            elif codec.is_python_scalar(operand):
                node.inputs.append(codec.encode_scalar_operand(operand))
                metas.append(operand)
            elif operand is None and len(metas) >= op.min_inputs:
                node.inputs.add()  # an absent optional tensor operand (bias=None)
                metas.append(None)
            else:
                raise TypeError(f"{op.name}(): expected a Tensor or a Python number, got {type(operand).__name__}")
        for name, attr in attrs.items():
            spec = op.attr(name)
            message = codec.encode_attr(name, spec.kind if spec else "", attr, ref_of)
            if message is not None:
                node.attrs[name].CopyFrom(message)
        if op.inplace:
            return self._apply_inplace(op, operands[0], node, metas, attrs, refs, session)
        try:
            local_attrs, exact = self._local_attrs(attrs)
            derived = derive.results(op.rules, metas, local_attrs, grad_enabled, op.outputs)
            if not exact:  # shaped by a boolean mask's count: the server tells the shape
                derived = [dataclasses.replace(meta, shape=None) for meta in derived]
        except derive.ValueDependent:
            derived = [Meta() for _ in range(op.outputs)]
        values = session.add_node(node, derived, refs)
        for position in op.updated_operands:  # e.g. running stats: the server changes them in place
            if position < len(operands) and isinstance(operands[position], tensor_class):
                operands[position]._value.cache = None
        if op.view and source is not None:
            values[0].view_of_leaf = bool(source.meta.requires_grad and (source.meta.is_leaf or source.view_of_leaf))
            values[0].storage = source.storage
        results = tuple(self.wrap(value) for value in values)
        return results[0] if len(results) == 1 else op.named(results)

    def _apply_inplace(self, op: OpSpec, target_tensor: Tensor, node: pb.Node, metas: list[Any],
                       attrs: dict[str, Any], refs: list[str], session: Session) -> Tensor:
        target = target_tensor._value
        try:
            meta = derive.inplace(op.rules, target.meta, metas, self._local_attrs(attrs)[0], self.grad_enabled,
                                  target.view_of_leaf)
        except derive.ValueDependent:
            meta = Meta(target.meta.shape, target.meta.dtype)
        if op.name == "requires_grad_" and meta.requires_grad is not None and target.leaf_array is not None and not any(
                pending for pending in session.pending_nodes if target.id in pending.refs):
            # A leaf nothing used yet: just change the flag it will be sent with.
            target.meta = meta
            target.leaf_requires_grad = bool(meta.requires_grad)
            return target_tensor
        if meta.requires_grad and target.storage != target.id:
            # Written through a view: the base records the write (CopySlices) and the view reads the base again.
            meta = Meta(meta.shape, meta.dtype, True, False, self._internal_grad_fn("view_of_base"))
            base_value = session.values.get(target.storage)
            if base_value is not None and base_value.meta.dtype is not None and base_value.meta.dtype.is_floating_point:
                base_value.meta = Meta(base_value.meta.shape, base_value.meta.dtype, True, False,
                                       self._internal_grad_fn("copy_slices"))
        target.meta = meta
        session.add_inplace(node, target, refs)
        target_tensor._after_inplace()  # an in-place op on x.grad changes the owner's grad
        return target_tensor

    def _local_attrs(self, attrs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Attributes as the rules see them (a tensor in an index becomes an array, derive.index_arrays),
        and whether they fix the result's shape."""
        tensor_class = self.tensor_class
        local, exact = {}, True
        for name, attr in attrs.items():
            if isinstance(attr, tensor_class):
                raise derive.ValueDependent  # a number given as a one-element tensor: its value is remote
            if isinstance(attr, tuple) and any(isinstance(item, tensor_class) for item in attr):
                tensors = [item._graph_value() if isinstance(item, tensor_class) else None for item in attr]
                attr, fixed = derive.index_arrays(attr, [None if v is None else v.cache for v in tensors],
                                                  [None if v is None else v.meta for v in tensors])
                exact = exact and fixed
            local[name] = attr
        return local, exact

    def _internal_grad_fn(self, name: str) -> str | None:
        """The grad_fn name of an engine-internal op (copy_slices ...) from its local rules; None: the server's."""
        spec = self.catalogue.ops.get(name)
        rules = spec.rules if spec is not None else None
        return rules.grad_fn if rules is not None and isinstance(rules.grad_fn, str) and rules.grad_fn else None

    def _pieces(self, op: OpSpec, operands: Sequence[Any], attrs: dict[str, Any]) -> int | None:
        """How many outputs a call of an op with several differentiable outputs (split ...) has."""
        rules = op.rules
        if rules is None or rules.pieces is None or attrs.get("output") is not None:
            return None
        shapes = [tuple(x.shape) if isinstance(x, self.tensor_class) else () for x in operands]
        return derive.pieces(rules, shapes, attrs)

    def grad_value(self, owner: Value) -> Value | None:
        """owner.grad as a node of the next batch (no round trip), or None without a `grad` op."""
        if "grad" not in self.catalogue.ops:
            return None
        session = owner.session
        node = pb.Node(id=session.new_id(), op="grad", no_grad=True)
        node.inputs.add(ref=owner.id)
        meta = Meta(owner.meta.shape, owner.meta.dtype, False, True, "")
        return session.add_node(node, [meta], [owner.id])[0]

    def zero_grad(self, value: Value, *, set_to_none: bool) -> None:
        """x.grad = None / x.grad.zero_(): recorded, sent with the next batch (UpdateGrads without the op)."""
        state = value.grad
        if "zero_grad_" not in self.catalogue.ops:
            self.update_grads(value, zero=not set_to_none, clear=set_to_none)
            return
        session = value.session
        node = pb.Node(id=session.new_id(), op="zero_grad_", no_grad=True)
        node.inputs.add(ref=value.id)
        node.attrs["set_to_none"].CopyFrom(codec.encode_attr("set_to_none", "boolean", bool(set_to_none), None))
        session.add_effect(node, [value.id])
        state.version += 1
        if set_to_none:
            state.known, state.array, state.deferred = True, None, False
        elif state.known and state.array is not None:
            state.array = np.zeros_like(state.array)

    def _session_of(self, operands: Sequence[Any]) -> Session:
        for operand in operands:
            if isinstance(operand, self.tensor_class) and operand._value is not None:
                session = operand._value.session
                if session.lost is not None:
                    raise session.lost
                return session
        return self.session

    # ------------------------------------------------------------ values

    def array_of(self, value: Value) -> np.ndarray:
        """A value's data (read-only; callers copy before handing it out)."""
        value.check_usable()
        if value.cache is None:
            value.session.flush([value])
        if value.cache is None:
            raise RuntimeError(f"the server sent no value for {value.id}")
        return value.cache

    def meta_of(self, value: Value, field: str) -> Any:
        """One metadata field of a value; a flush fills it when it could not be inferred locally."""
        value.check_usable()
        known = getattr(value.meta, field)
        if known is None:
            value.session.flush()
            known = getattr(value.meta, field)
        if known is None:
            raise RuntimeError(f"the server sent no {field} for {value.id}")
        return known

    # ------------------------------------------------------------ autograd

    def backward(self, tensors: Sequence[Tensor], grad_tensors: Sequence[Any] | None, retain_graph: bool | None,
                 create_graph: bool, inputs: Sequence[Tensor] | None) -> None:
        session = self._session_of(tensors)
        self._check_roots(tensors, grad_tensors, session)
        request = pb.BackwardRequest(session_id=session.id, roots=self._roots(tensors, grad_tensors, session),
                                     create_graph=bool(create_graph))
        if retain_graph is not None:
            request.retain_graph = bool(retain_graph)
        if inputs is not None:
            if not _as_list(inputs):
                # The wire cannot tell an empty list from no list, so this check is the SDK's.
                raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
            request.inputs.extend(self.graph_value(t, session).id for t in _as_list(inputs))
        elif session.retaining_grad and "retain_grad" not in self.catalogue.ops:
            request.inputs.extend(_inputs_with_retained(session))
        # Without a seed a root must have one element, so it is small whatever is known of its shape.
        small_roots = [t._value for t in tensors if t._value is not None and (
            grad_tensors is None or t._value.meta.shape is not None
            and int(np.prod(t._value.meta.shape)) <= SMALL_VALUE_ELEMENTS)]
        with session.lock:
            session.flush(small_roots if session.has_pending else ())
            if not request.inputs:  # (with inputs, Backward returns theirs) after the flush: new leaves count
                request.return_grads.extend(_live_grad_ids(session, request))
            response = session.call("Backward", request, flush=False)
        session.store_grads(response.grads)
        if "retain_grad" in self.catalogue.ops:
            for value in list(session.retaining_grad):
                value.grad.known = False  # Backward returns leaves' grads only: read this one on access

    def grad(self, outputs: Sequence[Tensor], inputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None,
             retain_graph: bool | None, create_graph: bool, allow_unused: bool,
             is_grads_batched: bool) -> tuple[Tensor | None, ...]:
        session = self._session_of(list(outputs) + list(inputs))
        self._check_roots(outputs, grad_outputs, session, batched=is_grads_batched)
        input_ids = [self.graph_value(t, session).id for t in inputs]
        result_ids = [session.new_id() for _ in inputs]
        request = pb.GradRequest(
            session_id=session.id, outputs=self._roots(outputs, grad_outputs, session), inputs=input_ids,
            create_graph=bool(create_graph), allow_unused=bool(allow_unused),
            is_grads_batched=bool(is_grads_batched), result_ids=result_ids,
        )
        if retain_graph is not None:
            request.retain_graph = bool(retain_graph)
        response = session.call("Grad", request)
        infos = {info.id: info for info in response.info}
        results: list[Tensor | None] = []
        for result_id, named in zip(result_ids, response.grads):
            if named.is_none:
                results.append(None)
                continue
            array = (session.download(named.id, grad=False) if named.deferred
                     else codec.decode_array(named.tensor))
            info = infos.get(result_id)
            if info is None:  # the server did not keep it in the graph: a plain leaf of its data
                results.append(self.leaf(np.array(array)))
                continue
            value = Value(session, result_id, Meta())
            value.names.append(session.name(result_id))
            value.sent = True
            value.cache = array
            session.values[result_id] = value
            session.apply_info([info])
            results.append(self.wrap(value))
        return tuple(results)

    def _check_roots(self, tensors: Sequence[Tensor], seeds: Sequence[Any] | None, session: Session,
                     batched: bool = False) -> None:
        """The rules' checks of backward's roots, on what is known locally (no round trip for a mistake)."""
        seeds = list(seeds) if seeds is not None else [None] * len(tensors)
        if len(seeds) != len(tensors):
            return  # _roots raises torch's error
        metas = [self.graph_value(t, session).meta for t in tensors]
        shapes = [None if seed is None else tuple(seed.shape) if isinstance(seed, self.tensor_class)
                  else np.shape(seed) for seed in seeds]
        derive.check_roots(metas, shapes, batched)

    def _roots(self, tensors: Sequence[Tensor], seeds: Sequence[Any] | None, session: Session) -> list[pb.Root]:
        seeds = list(seeds) if seeds is not None else [None] * len(tensors)
        if len(seeds) != len(tensors):
            raise RuntimeError(f"got {len(seeds)} gradients for {len(tensors)} tensors")
        roots = []
        for tensor, seed in zip(tensors, seeds):
            root = pb.Root(id=self.graph_value(tensor, session).id)
            if seed is not None:
                root.gradient.CopyFrom(codec.encode_array(self.as_array(seed)))
            roots.append(root)
        return roots

    def as_array(self, data: Any) -> np.ndarray:
        """The data of a tensor, or a numpy array of a Python value."""
        if isinstance(data, self.tensor_class):
            return data._data_copy()
        array = np.asarray(data)
        if array.dtype == np.float64 and not isinstance(data, np.ndarray):
            array = array.astype(np.float32)  # Python floats are torch's default float
        return array

    def update_grads(self, value: Value, *, set_to: np.ndarray | None = None, zero: bool = False,
                     clear: bool = False) -> None:
        """x.grad = tensor / x.grad.zero_() / x.grad = None, on the server (one UpdateGrads)."""
        session = value.session
        request = pb.UpdateGradsRequest(session_id=session.id)
        if set_to is not None:
            request.set.add(id=value.id, tensor=codec.encode_array(set_to))
        if zero:
            request.zero.append(value.id)
        if clear:
            request.clear.append(value.id)
        # Pending work is independent of .grad (a grad used in an op was captured as a leaf), so it
        # stays pending unless the server has not seen this value yet.
        session.call("UpdateGrads", request, flush=not value.sent)
        state = value.grad
        state.version += 1
        if clear:
            state.known, state.array, state.deferred = True, None, False
        elif set_to is not None:
            state.known, state.array, state.deferred = True, np.array(set_to), False
        elif zero and state.known and state.array is not None:
            state.array = np.zeros_like(state.array)
        else:
            state.known = False


def _inputs_with_retained(session: Session) -> list[str]:
    """retain_grad() without a server op: backward(inputs=...) naming every live leaf that requires grad
    plus the retained non-leaves gives the same .grad everywhere the program can still look (torch and
    the engine leave an input the roots do not reach untouched)."""
    live = {value for value in session.values.values() if value.error is None}
    leaves = [value for value in live if value.meta.is_leaf and value.meta.requires_grad]
    return [value.id for value in leaves + list(session.retaining_grad)]


def _live_grad_ids(session: Session, request: pb.BackwardRequest) -> list[str]:
    """The grads Backward returns: those of the leaves the program still holds. An empty list would mean
    every leaf's, so with none alive it asks for one whose grad is None (a few bytes)."""
    leaves = [value for value_id, value in list(session.values.items())
              if value_id == value.id and value.sent and value.error is None and value.meta.is_leaf]
    ids = [value.id for value in leaves if value.meta.requires_grad]
    return ids or [leaves[0].id if leaves else request.roots[0].id]


def _as_list(tensors: Any) -> list[Any]:
    return list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]


__all__ = ["Runtime", "dtypes"]
