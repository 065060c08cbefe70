"""A server session seen from the SDK: values recorded locally, sent in batches, read on demand.

Every tensor the SDK hands out names a Value of one Session. Creating tensors and applying ops only
records leaves and nodes here (no round trip); `flush` sends everything pending in one call
(CreateSession the first time, Extend afterwards), asking in the same call for any values the caller
needs. The server answers with a ValueInfo per new value, which fills in whatever the SDK could not
infer locally. A request the server refuses changes nothing there (it is atomic), so the SDK marks the
value the error names, and everything computed from it, as failed, and sends the rest again.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from gradwire.v1 import gradwire_pb2 as pb

from . import codec, dtypes
from .errors import TORCH_ERROR_TYPES, SessionLostError, node_id_of
from .journal import journaled
from .meta import Meta
from .transport import Transport

# Without a caller-given message limit, requests stay under gRPC's default 4 MiB (the server's own
# limit is unknown); larger leaves go up through UploadTensor.
DEFAULT_REQUEST_BUDGET = 3 << 20


class Value:
    """One value of a session: its id, what is known of it, and any local copy of its data."""

    __slots__ = ("id", "session", "meta", "leaf_array", "leaf_requires_grad", "sent", "error", "cache", "grad",
                 "view_of_leaf", "names", "grad_proxy", "storage", "__weakref__")

    def __init__(self, session: Session, value_id: str, meta: Meta) -> None:
        self.id = value_id
        self.session = session
        self.meta = meta
        self.leaf_array: np.ndarray | None = None  # a leaf's data until it is sent
        self.leaf_requires_grad = False  # the flag it is sent with (meta may change with in-place ops)
        self.sent = False
        self.error: BaseException | None = None  # why this value could not be computed
        self.cache: np.ndarray | None = None  # the value's data, while known to be current
        self.grad = GradState()
        # Is this a view of a leaf that requires grad (in-place changes to it are refused)?
        self.view_of_leaf = False
        # The server-side names this value keeps alive (its own, and those of in-place nodes on it).
        self.names: list[Name] = []
        # The tensor `x.grad` returned last, while the program holds it (x.grad is x.grad, as in torch).
        self.grad_proxy: weakref.ref | None = None
        # The id of the value whose memory this one shares (a view's base; its own id otherwise).
        self.storage = value_id

    def check_usable(self) -> None:
        if self.session.lost is not None:
            raise self.session.lost
        if self.error is not None:
            kind = type(self.error) if type(self.error) in TORCH_ERROR_TYPES.values() else RuntimeError
            raise kind(f"this tensor could not be computed: {self.error}") from self.error


class Name:
    """A server-side name (a leaf or node id). When no Value holds it any more, the session queues
    it for release, and the next Extend tells the server to forget it."""

    __slots__ = ("id", "__weakref__")

    def __init__(self, value_id: str) -> None:
        self.id = value_id


@dataclass
class GradState:
    """What the SDK knows of a value's .grad on the server."""

    known: bool = True  # False: ask the server (Read) before answering
    array: np.ndarray | None = None  # None with known=True means .grad is None
    deferred: bool = False  # the server holds it but it was too large to send inline
    version: int = 0  # bumped whenever the grad changes, so proxies can tell


@dataclass
class PendingNode:
    message: pb.Node
    outputs: list[Value]
    refs: set[str] = field(default_factory=set)
    # An in-place node's own id: a second name of its target, needed only until its response is read.
    alias: Name | None = None


class Session:
    """One server session: pending leaves and nodes, and every live Value by id."""

    def __init__(self, transport: Transport, request_budget: int | None = None) -> None:
        # [scale] every call goes through the session's journal, which rebuilds a lost session (journal.py)
        self.transport: Transport = journaled(transport, self)  # type: ignore[assignment]
        # Chosen here, so the create call already carries the id a proxy can route by.
        self.id = secrets.token_hex(16)
        self.created = False
        self.closed = False
        self.lost: SessionLostError | None = None
        self.request_budget = request_budget or DEFAULT_REQUEST_BUDGET
        self.pending_leaves: list[Value] = []
        self.pending_nodes: list[PendingNode] = []
        self.values: weakref.WeakValueDictionary[str, Value] = weakref.WeakValueDictionary()
        # Ids whose Names died, to release with the next Extend (appended from finalizers).
        self.released: list[str] = []
        # Non-leaves after retain_grad(): backward fills their .grad, which Backward does not return.
        self.retaining_grad: weakref.WeakSet[Value] = weakref.WeakSet()
        self._ids = itertools.count()
        self.lock = threading.RLock()

    # ------------------------------------------------------------ recording

    def new_id(self) -> str:
        return f"v{next(self._ids)}"

    def name(self, value_id: str) -> Name:
        name = Name(value_id)
        weakref.finalize(name, self.released.append, value_id)
        return name

    def add_leaf(self, array: np.ndarray, requires_grad: bool) -> Value:
        meta = Meta(tuple(array.shape), dtypes.from_numpy(array.dtype), requires_grad, True, "")
        value = Value(self, self.new_id(), meta)
        value.leaf_array = array
        value.leaf_requires_grad = requires_grad
        value.names.append(self.name(value.id))
        value.cache = array
        with self.lock:
            self.values[value.id] = value
            self.pending_leaves.append(value)
        return value

    def add_node(self, message: pb.Node, metas: list[Meta], refs: Iterable[str]) -> list[Value]:
        """Records a node (message.id already set) whose outputs have the given metadata."""
        outputs = []
        name = self.name(message.id)  # one name for all outputs: released when all of them are gone
        for k, meta in enumerate(metas):
            value = Value(self, message.id if k == 0 else f"{message.id}:{k}", meta)
            value.names.append(name)
            outputs.append(value)
        with self.lock:
            for value in outputs:
                self.values[value.id] = value
            self.pending_nodes.append(PendingNode(message, outputs, set(refs)))
        return outputs

    def add_inplace(self, message: pb.Node, target: Value, refs: Iterable[str]) -> None:
        """Records an in-place node: its id becomes another name of the target it changes."""
        with self.lock:
            self.values[message.id] = target
            self.pending_nodes.append(PendingNode(message, [target], set(refs), alias=self.name(message.id)))
            # The data of the target and of anything sharing its memory changes: drop local copies.
            storage = target.storage
            for value in list(self.values.values()):
                if value.storage == storage and value.leaf_array is None:
                    value.cache = None
            target.cache = None

    def add_effect(self, message: pb.Node, refs: Iterable[str]) -> None:
        """Records a node run for its effect on the server (zero_grad_): no value of the program changes."""
        with self.lock:
            self.pending_nodes.append(PendingNode(message, [], set(refs), alias=self.name(message.id)))

    @property
    def has_pending(self) -> bool:
        return bool(self.pending_leaves or self.pending_nodes)

    # ------------------------------------------------------------ sending

    def flush(self, want_values: Iterable[Value] = ()) -> None:
        """Sends what is pending (one call), fetching `want_values` in the same call."""
        with self.lock:
            if self.lost is not None:
                raise self.lost
            wanted = [v for v in want_values if v.cache is None]
            if not self.has_pending:
                if wanted:
                    self._read(wanted)
                return
            try:
                self._send_pending(wanted)
            except SessionLostError as error:
                self.lost = error
                raise
            except (ConnectionError, TimeoutError):
                raise  # nothing was refused: the work stays pending for the next attempt
            except Exception as error:
                self._recover(error)
                raise

    def _recover(self, error: BaseException) -> None:
        """After a refused request: fail the value it names and its dependents, send the rest again."""
        while True:
            if not self._drop_failed(error):
                self._fail_all_pending(error)
                return
            if not self.has_pending:
                return
            try:
                self._send_pending([])
                return
            except SessionLostError as lost:
                self.lost = lost
                return
            except Exception as again:  # noqa: BLE001 - another bad node: drop it too and retry
                error = again

    def _send_pending(self, wanted: list[Value]) -> None:
        if self.created and self.released and sum(
                value.leaf_array.nbytes for value in self.pending_leaves if value.leaf_array is not None
        ) > self.request_budget:
            self._release_now()  # before an upload: the server then never holds both at once
        inline_left = self.request_budget
        leaves = []
        for value in self.pending_leaves:
            leaf, inline_left = self._leaf_message(value, inline_left)
            leaves.append(leaf)
        graph = pb.Graph(leaves=leaves, nodes=[pending.message for pending in self.pending_nodes])
        return_ids = [value.id for value in wanted]
        if self.created:
            release = list(self.released)
            response = self.transport.call(
                "Extend",
                pb.ExtendRequest(session_id=self.id, graph=graph, return_values=return_ids, release=release),
                session_id=self.id)
            del self.released[:len(release)]  # finalizers only ever append
        else:
            response = self.transport.call(
                "CreateSession",
                pb.CreateSessionRequest(session_id=self.id, graph=graph, return_values=return_ids),
                session_id=self.id)
            self.created = True
        for value in self.pending_leaves:
            value.sent = True
            if value.cache is value.leaf_array and value.leaf_array is not None:
                value.cache = np.array(value.leaf_array)  # a snapshot of what the server got
            value.leaf_array = None
        for pending in self.pending_nodes:
            for value in pending.outputs:
                value.sent = True
        sent_nodes = self.pending_nodes
        self.pending_leaves, self.pending_nodes = [], []
        self.apply_info(response.info)
        self._store_values(response.values)
        for pending in sent_nodes:
            if pending.alias is not None:  # dropping it queues the alias for release
                self.values.pop(pending.alias.id, None)

    def _release_now(self) -> None:
        """Sends the releases queued so far on their own (an Extend with an empty graph)."""
        release = list(self.released)
        self.transport.call("Extend", pb.ExtendRequest(session_id=self.id, release=release), session_id=self.id)
        del self.released[:len(release)]

    def _leaf_message(self, value: Value, inline_left: int) -> tuple[pb.Leaf, int]:
        """The Leaf message of a pending leaf: inline while the request budget lasts, else uploaded."""
        array = value.leaf_array
        assert array is not None
        leaf = pb.Leaf(id=value.id, requires_grad=value.leaf_requires_grad)
        if array.nbytes > inline_left:
            leaf.upload_id = self.transport.upload(array, description=f"upload {value.id}")
            return leaf, inline_left
        leaf.value.CopyFrom(codec.encode_array(array))
        return leaf, inline_left - array.nbytes

    def _drop_failed(self, error: BaseException) -> bool:
        """Marks the value an error names (and what depends on it) failed; False if none is named."""
        failed_id = node_id_of(error)
        failed = {failed_id} if failed_id and failed_id in self.values else set()
        if not failed:
            return False
        kept_leaves = []
        for value in self.pending_leaves:
            if value.id in failed:
                value.error = error
            else:
                kept_leaves.append(value)
        kept_nodes = []
        for pending in self.pending_nodes:
            base_refs = {ref.split(":")[0] for ref in pending.refs}
            if pending.message.id in failed or base_refs & failed:
                failed.add(pending.message.id)
                for value in pending.outputs:
                    if not value.sent:
                        value.error = error
            else:
                kept_nodes.append(pending)
        self.pending_leaves, self.pending_nodes = kept_leaves, kept_nodes
        return True

    def _fail_all_pending(self, error: BaseException) -> None:
        for value in self.pending_leaves:
            value.error = error
        for pending in self.pending_nodes:
            for value in pending.outputs:
                if not value.sent:
                    value.error = error
        self.pending_leaves.clear()
        self.pending_nodes.clear()

    def call(self, method: str, request: Any, *, piggyback: Iterable[Value] = (), flush: bool = True) -> Any:
        """A session call (Backward, Grad, Read, UpdateGrads), after sending what is pending unless
        `flush` is False (for calls that only touch values the server already has).

        The values in `piggyback` come back with that flush, if there is one (a loss printed after
        its backward then costs nothing); they never cost a call of their own.
        """
        with self.lock:
            if flush:
                self.flush(piggyback if self.has_pending else ())
            try:
                return self.transport.call(method, request, session_id=self.id)
            except SessionLostError as error:
                self.lost = error
                raise

    # ------------------------------------------------------------ reading

    def _read(self, wanted: list[Value]) -> None:
        response = self.call("Read", pb.ReadRequest(session_id=self.id, values=[v.id for v in wanted]))
        self._store_values(response.values)

    def _store_values(self, tensors: Iterable[pb.NamedTensor]) -> None:
        for named in tensors:
            value = self.values.get(_base_id(named.id))
            if value is None or named.is_none:
                continue
            value.cache = (self.download(named.id, grad=False) if named.deferred
                           else codec.decode_array(named.tensor))

    def download(self, value_id: str, *, grad: bool) -> np.ndarray:
        try:
            return self.transport.download(self.id, value_id, grad=grad)
        except SessionLostError as error:
            self.lost = error
            raise

    def apply_info(self, infos: Iterable[pb.ValueInfo]) -> None:
        for info in infos:
            value = self.values.get(_base_id(info.id))
            if value is None:
                continue
            value.meta = Meta(tuple(info.shape), dtypes.from_wire(info.dtype), info.requires_grad,
                              info.is_leaf, info.grad_fn)

    def store_grads(self, tensors: Iterable[pb.NamedTensor]) -> None:
        """Records .grad values the server returned (after backward, or a Read of grads)."""
        for named in tensors:
            value = self.values.get(_base_id(named.id))
            if value is None:
                continue
            state = value.grad
            state.known, state.version = True, state.version + 1
            state.deferred = named.deferred
            state.array = None if (named.is_none or named.deferred) else codec.decode_array(named.tensor)

    def read_grad(self, value: Value) -> None:
        """Brings value.grad up to date (one Read, or a download when it is large)."""
        state = value.grad
        if not state.known:
            # Pending in-place ops on a `grad` node change the grad: they go first (in the same flush rule).
            response = self.call("Read", pb.ReadRequest(session_id=self.id, grads=[value.id]),
                                 flush=self.has_pending)
            self.store_grads(response.grads)
            state.known = True
        if state.deferred:
            if self.has_pending:  # in-place ops on the grad may be pending: they go first
                self.flush()
            state.array = self.download(value.id, grad=True)
            state.deferred = False

    # ------------------------------------------------------------ closing

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            if self.created and self.lost is None:
                try:
                    self.transport.call("CloseSession", pb.CloseSessionRequest(session_id=self.id),
                                        session_id=self.id)
                except (SessionLostError, ConnectionError, TimeoutError):
                    pass  # gone already, or the server will expire it: closing must not fail


def _base_id(value_id: str) -> str:
    """'v3:0' and 'v3' name the same (first) output; 'v3:1' stays as it is."""
    return value_id[:-2] if value_id.endswith(":0") else value_id
