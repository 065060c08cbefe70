"""Backward and autograd.grad on a built graph: roots and seeds off the wire, then one engine call.

The engine owns every rule (implicit seeds only for one-element roots, exact seed shapes, freed graphs,
version counters) and a failed backward changes nothing, so this module only resolves ids and decodes.
"""

from __future__ import annotations

from typing import Any, Sequence

import gradwire.engine as ge
from gradwire.v1 import gradwire_pb2 as pb

from . import codec
from .echo import shown
from .errors import invalid, with_node
from .graph import Scope
from .ids import check_new_ids


def _roots(roots: Sequence[pb.Root], scope: Scope, what: str) -> tuple[list[Any], list[Any] | None]:
    """Root tensors and their seeds (None where implicit; None overall if no seed is given)."""
    if not roots:
        raise invalid(f"{what} needs at least one root")
    tensors, seeds = [], []
    for root in roots:
        tensors.append(scope.resolve(root.id, f"{what} root"))
        if root.HasField("gradient"):
            # A copy: the engine may accumulate into a seed buffer, and request bytes are read-only.
            array = codec.decode(root.gradient, f"seed gradient of root {root.id!r}").copy()
            seeds.append(ge.from_numpy(array))
        else:
            seeds.append(None)
    return tensors, (seeds if any(seed is not None for seed in seeds) else None)


def _inputs(ids: Sequence[str], scope: Scope, what: str) -> list[Any]:
    return [scope.resolve(value_id, f"{what} input") for value_id in ids]


def _node_of(roots: Sequence[pb.Root]) -> str:
    return roots[0].id if len(roots) == 1 else ""


def backward(scope: Scope, roots: Sequence[pb.Root], *, retain_graph: bool | None, create_graph: bool,
             inputs: Sequence[str], order: list | None = None) -> None:
    """tensor.backward / autograd.backward: accumulates into .grad (order: a plan's schedule, schedule.py)."""
    tensors, seeds = _roots(roots, scope, "backward")
    chosen = _inputs(inputs, scope, "backward") if inputs else None
    with with_node(_node_of(roots), "backward"):
        ge.autograd.backward(tensors, grad_tensors=seeds, retain_graph=retain_graph,
                             create_graph=create_graph, inputs=chosen, order=order)


def grad(scope: Scope, request: pb.GradRequest) -> tuple[Any, ...]:
    """autograd.grad: the gradients, parallel to request.inputs; no .grad is touched."""
    tensors, seeds = _roots(request.outputs, scope, "grad")
    if not request.inputs:
        raise invalid("grad needs at least one input")
    _check_result_ids(request, scope)
    if request.is_grads_batched:
        for root, seed in zip(request.outputs, seeds or [None] * len(request.outputs)):
            if seed is not None and (seed.ndim == 0 or seed.shape[0] == 0):
                raise invalid(f"is_grads_batched: the grad_output of {shown(root.id)} needs a batch dimension "
                              f"of at least 1, got shape {list(seed.shape)}", error_type="RuntimeError")
    inputs = _inputs(request.inputs, scope, "grad")
    retain_graph = request.retain_graph if request.HasField("retain_graph") else None
    with with_node(_node_of(request.outputs), "grad"):
        return tuple(ge.autograd.grad(
            tensors, inputs, grad_outputs=seeds, retain_graph=retain_graph,
            create_graph=request.create_graph, allow_unused=request.allow_unused,
            is_grads_batched=request.is_grads_batched,
        ))


def _check_result_ids(request: pb.GradRequest, scope: Scope) -> None:
    if not request.result_ids:
        return
    if len(request.result_ids) != len(request.inputs):
        raise invalid(f"result_ids has {len(request.result_ids)} ids for {len(request.inputs)} inputs")
    check_new_ids(request.result_ids, scope, "result id")


def leaves_with_grad(scope: Scope, inputs: Sequence[str]) -> list[str]:
    """The default set of grads to return: the inputs if given, else every leaf that has a .grad."""
    if inputs:
        return list(inputs)
    return [
        value_id for value_id, value in scope.items()
        if not isinstance(value, tuple) and value.is_leaf and value.grad is not None
    ]


def update_grads(scope: Scope, request: pb.UpdateGradsRequest) -> None:
    """x.grad = tensor, x.grad.zero_(), x.grad = None; every id and tensor is checked before any applies."""
    assignments = [(scope.resolve(item.id, "set"), item) for item in request.set]
    new_grads = [_checked_grad(tensor, item) for tensor, item in assignments]
    zeroed = [scope.resolve(value_id, "zero") for value_id in request.zero]
    cleared = [scope.resolve(value_id, "clear") for value_id in request.clear]
    for (tensor, item), new_grad in zip(assignments, new_grads):
        with with_node(item.id, f"setting the grad of {item.id!r}"):
            tensor.grad = new_grad
    for tensor in zeroed:
        if tensor.grad is not None:  # like optimizer.zero_grad(set_to_none=False)
            tensor.grad.zero_()
    for tensor in cleared:
        tensor.grad = None


def _checked_grad(tensor: Any, item: pb.NamedTensor) -> Any:
    """A writable engine tensor for `x.grad = value`, refused unless shape and dtype match x's."""
    array = codec.decode(item.tensor, f"grad for {item.id!r}")
    if tuple(array.shape) != tuple(tensor.shape) or array.dtype != tensor.dtype.numpy:
        raise invalid(
            f"assigned grad for {item.id!r} has shape {list(array.shape)} and dtype {array.dtype} but the "
            f"tensor has shape {list(tensor.shape)} and dtype {tensor.dtype.name}",
            node_id=item.id, error_type="RuntimeError",
        )
    return ge.from_numpy(array.copy())
