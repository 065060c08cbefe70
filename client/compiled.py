"""`torch.compile(fn)` for a gradwire Client: a function traced once and prepared on the server, then run
again on new tensors with one Compute that carries only their values.

    step = torch.compile(lambda x, w: ((x @ w).tanh() ** 2).mean())
    w = torch.tensor(w0, requires_grad=True)
    loss = step(x, w)                          # values only
    loss, (w_grad,) = step.value_and_grad(x, w)  # like torch.func.grad_and_value: grads w.r.t. the
                                               # arguments that require grad, from the first output

The first call with a given signature (each argument's shape, dtype and requires_grad) records `fn` on
placeholder tensors of a scratch session that is never sent, and prepares the recorded graph
(PrepareGraph): the arguments are its input leaves, tensors `fn` makes itself (constants) are fixed.
Later calls with that signature re-bind the arguments' values only. Arguments are Client tensors or
anything `torch.tensor` accepts; results are Client tensors holding the returned values. `fn` must be a
straight-line tensor program: Python control flow on values is frozen at the first call, as in torch's
tracing. A prepared graph the server lost (expired, restarted) is prepared again, once, transparently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import grpc
import numpy as np

from gradwire.v1 import gradwire_pb2 as pb

from . import codec
from .errors import GradwireRpcError
from .session import Session


@dataclass
class _Prepared:
    graph_id: str
    input_ids: list[str]
    output_ids: list[str]
    single: bool  # fn returned one tensor, not a tuple


class CompiledFunction:
    def __init__(self, client: Any, fn: Callable[..., Any]) -> None:
        self._client = client
        self._runtime = client._runtime
        self.fn = fn
        self._prepared: dict[tuple, _Prepared] = {}

    # ------------------------------------------------------------ calling

    def __call__(self, *args: Any) -> Any:
        arrays, requires = self._arrays(args)
        prepared, response = self._compute(arrays, requires, grads=False)
        return self._outputs(prepared, response)

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple]:
        """(outputs, grads of the first output w.r.t. each argument that requires grad), in one Compute."""
        arrays, requires = self._arrays(args)
        if not any(requires):
            raise RuntimeError("value_and_grad: no argument requires grad; pass a tensor created with "
                               "requires_grad=True")
        prepared, response = self._compute(arrays, requires, grads=True)
        grads = {item.id: item for item in response.grads}
        wanted = [leaf_id for leaf_id, flag in zip(prepared.input_ids, requires) if flag]
        return self._outputs(prepared, response), tuple(self._tensor(grads[leaf_id]) for leaf_id in wanted)

    def release(self) -> None:
        """Frees the prepared graphs on the server (they also expire when idle)."""
        for prepared in self._prepared.values():
            try:
                self._runtime.transport.call("ReleaseGraph", pb.ReleaseGraphRequest(graph_id=prepared.graph_id))
            except GradwireRpcError:
                pass  # already gone
        self._prepared.clear()

    # ------------------------------------------------------------ internals

    def _arrays(self, args: Sequence[Any]) -> tuple[list[np.ndarray], list[bool]]:
        arrays, requires = [], []
        tensor_class = self._runtime.tensor_class
        for arg in args:
            if isinstance(arg, tensor_class):
                arrays.append(np.ascontiguousarray(arg._array()))  # no RPC when known here
                requires.append(bool(arg.requires_grad))
            else:
                arrays.append(np.ascontiguousarray(self._runtime.as_array(arg)))
                requires.append(False)
        return arrays, requires

    def _compute(self, arrays: list[np.ndarray], requires: list[bool], *, grads: bool) -> tuple[_Prepared, Any]:
        signature = tuple((a.shape, a.dtype.str, flag) for a, flag in zip(arrays, requires))
        for attempt in range(2):
            prepared = self._prepared.get(signature)
            if prepared is None:
                prepared = self._prepared[signature] = self._prepare(arrays, requires)
            request = pb.ComputeRequest(graph_id=prepared.graph_id, return_values=prepared.output_ids)
            for leaf_id, array in zip(prepared.input_ids, arrays):
                request.inputs.add(id=leaf_id).value.CopyFrom(codec.encode_array(array))
            if grads:
                request.roots.add(id=prepared.output_ids[0])
                request.return_grads.extend(i for i, flag in zip(prepared.input_ids, requires) if flag)
            try:
                return prepared, self._runtime.transport.call("Compute", request)
            except GradwireRpcError as error:
                if getattr(error, "status", None) != grpc.StatusCode.NOT_FOUND or attempt:
                    raise
                del self._prepared[signature]  # the server lost it (expired, restarted): prepare again
        raise AssertionError("unreachable")

    def _prepare(self, arrays: list[np.ndarray], requires: list[bool]) -> _Prepared:
        """Records fn on placeholders in a scratch session (never sent) and prepares the graph."""
        runtime = self._runtime
        scratch = Session(runtime.transport)
        placeholders = []
        for array, flag in zip(arrays, requires):
            value = scratch.add_leaf(np.zeros_like(array), flag)
            placeholders.append(runtime.wrap(value))
        input_ids = [p._value.id for p in placeholders]
        try:
            with runtime._lock:  # tensors fn makes itself (constants) go to the scratch session too
                current, runtime._session = runtime._session, scratch
                try:
                    result = self.fn(*placeholders)
                finally:
                    runtime._session = current
            if scratch.created:
                raise RuntimeError("compile: the function reads a value while it runs (e.g. .item() or printing "
                                   "a tensor), which a traced graph cannot replay; keep it a tensor program")
            single = not isinstance(result, (tuple, list))
            outputs = [result] if single else list(result)
            output_ids = [scratch_value(t, scratch, runtime).id for t in outputs]
            graph = pb.Graph(nodes=[pending.message for pending in scratch.pending_nodes])
            for value in scratch.pending_leaves:
                leaf = graph.leaves.add(id=value.id, requires_grad=value.leaf_requires_grad)
                array = value.leaf_array
                assert array is not None
                leaf.value.CopyFrom(codec.encode_array(array, with_data=value.id not in input_ids))
            response = runtime.transport.call(
                "PrepareGraph", pb.PrepareGraphRequest(graph=graph, inputs=input_ids))
        finally:
            scratch.pending_leaves, scratch.pending_nodes = [], []
            if scratch.created:
                scratch.close()
        return _Prepared(response.graph_id, input_ids, output_ids, single)

    def _outputs(self, prepared: _Prepared, response: Any) -> Any:
        values = {item.id: item for item in response.values}
        tensors = [self._tensor(values[output_id]) for output_id in prepared.output_ids]
        return tensors[0] if prepared.single else tuple(tensors)

    def _tensor(self, item: pb.NamedTensor) -> Any:
        return self._client.from_numpy(codec.decode_array(item.tensor))


def scratch_value(tensor: Any, session: Session, runtime: Any) -> Any:
    if not isinstance(tensor, runtime.tensor_class) or tensor._value is None or tensor._value.session is not session:
        raise TypeError("compile: the function must return tensors computed from its arguments "
                        f"(got {type(tensor).__name__})")
    return tensor._value
