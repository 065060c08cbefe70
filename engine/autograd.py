"""The backward engine: torch.autograd.backward and torch.autograd.grad.

Backward is iterative: an explicit-stack walk finds the nodes reachable from the roots and counts their
incoming edges, Kahn's algorithm orders them, and each node runs once with the sum of the gradients
flowing into it. Nothing is written until the whole pass has succeeded: `.grad` accumulation and the
freeing of saved values (retain_graph=False) are committed at the end, so a failed backward changes
nothing.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from gradwire.rules import autograd_checks
from gradwire.rules.errors import AutogradError

from . import budget, modes
from .broadcast import reduce_to_shape
from .graph import AccumulateGrad, Ctx, Node
from .tensor import Tensor
from .views import bump_version, edge_of
from .vjp_math import ARRAY_MATH, TENSOR_MATH


class Variable:
    """autograd.Variable(t, requires_grad=False): an alias of Tensor kept for old code."""

    def __new__(cls, data: Any, requires_grad: bool = False) -> Tensor:  # type: ignore[misc]
        tensor = data if isinstance(data, Tensor) else Tensor._from_array(np.asarray(data))
        out = tensor.detach()
        out.requires_grad_(requires_grad)
        return out


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, Tensor):
        return [value]
    return list(value)


def _seed(root: Tensor, gradient: Any, position: int, batched: bool, as_tensor: bool) -> Any:
    """The seed gradient for one root: checked (shape exactly, never broadcast) and cast to its dtype."""
    gradient_shape = None if gradient is None else np.shape(gradient._data if isinstance(gradient, Tensor) else gradient)
    autograd_checks.check_backward_root(position, shape=root._data.shape, requires_grad=root._requires_grad,
                                        gradient_shape=gradient_shape, batched=batched)
    if gradient is None:
        seed = Tensor._from_array(np.ones(root.shape, dtype=root._data.dtype))
    else:
        seed = gradient if isinstance(gradient, Tensor) else Tensor._from_array(np.asarray(gradient))
        if seed.dtype is not root.dtype:
            seed = Tensor._from_array(seed._data.astype(root._data.dtype))
    return seed if as_tensor else seed._data


def _collect(root_nodes: list) -> list:
    """Nodes reachable from the roots in topological order (roots first)."""
    in_degree: dict[Any, int] = {}
    seen = set(root_nodes)
    stack = list(root_nodes)
    while stack:
        node = stack.pop()
        for child in node.next_edges:
            if child is None:
                continue
            in_degree[child] = in_degree.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    ready = [n for n in dict.fromkeys(root_nodes) if in_degree.get(n, 0) == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for child in node.next_edges:
            if child is None:
                continue
            in_degree[child] -= 1
            if in_degree[child] == 0:
                ready.append(child)
    return order


def _schedule(root_nodes: list) -> list:
    """_collect's order for these roots; for a lone root node, computed once and kept on the node.

    A node's edges never change once it is made (an in-place write gives the tensor a new grad_fn; the
    old node keeps its edges), so neither does the order of what a node reaches: the repeated backward
    of a retained graph (a session's, the tutorial's retain_graph=True) replays it. The root is left out
    of what it keeps, so the node does not refer to itself.
    """
    if len(root_nodes) != 1 or type(root_nodes[0]) is not Node:
        return _collect(root_nodes)
    root = root_nodes[0]
    rest = root.schedule
    if rest is None:
        order = _collect(root_nodes)
        root.schedule = tuple(order[1:])
        return order
    return [root, *rest]


def _needed(order: list, targets: dict) -> set:
    """Nodes from which some target can be reached (the only ones a pass with `inputs` runs)."""
    needed: set = set()
    for node in reversed(order):
        if node in targets or any(child in needed for child in node.next_edges if child is not None):
            needed.add(node)
    return needed


def _run(roots: list[Tensor], seeds: list, targets: dict | None, create_graph: bool,
         order: list | None = None) -> tuple[dict, dict, list]:
    """One pass. Returns (gradients reaching target/leaf nodes, gradients for retain_grad tensors, nodes run).

    `order`, when given, is what `_collect` gives for the roots' nodes (precomputed by a caller that runs
    the same graph again); it is used as it is."""
    F = TENSOR_MATH if create_graph else ARRAY_MATH
    root_nodes = [edge_of(r) for r in roots]
    buffers: dict[Any, Any] = {}
    for node, seed in zip(root_nodes, seeds):
        buffers[node] = buffers[node] + seed if node in buffers else seed
    if order is None:
        order = _schedule(root_nodes)
    needed = _needed(order, targets) if targets is not None else None
    arrived: dict[Any, Any] = {}
    retained: dict[Any, Any] = {}
    executed: list[Node] = []
    state = modes._state
    metered = state.budget_left is not None or state.work_left is not None or state.interrupt is not None
    for node in order:
        grad = buffers.pop(node, None)
        if grad is None or (needed is not None and node not in needed):
            continue
        is_sink = type(node) is AccumulateGrad
        if (is_sink and targets is None) or (targets is not None and node in targets):
            arrived[node] = grad
        if is_sink:
            continue
        if node.retained_tensors:
            for ref in node.retained_tensors:
                tensor = ref()
                if tensor is not None and tensor.grad_fn is node:
                    retained[tensor] = grad
        if needed is None:
            children = [(position, child) for position, child in enumerate(node.next_edges) if child is not None]
        else:
            children = [(position, child) for position, child in enumerate(node.next_edges)
                        if child is not None and child in needed]
        if not children:
            continue
        if node.has_saved:
            node.check_saved()
        if metered:
            charged = budget.charge_backward_step(node, math.prod(F.shape(grad)),
                                                  [p for p, _ in children], _itemsize(grad), not create_graph)
        ctx = Ctx(node, create_graph)
        op = node.op
        vjps = op.vjps if op.variadic_vjp is None else None
        input_shapes, input_dtypes = node.input_shapes, node.input_dtypes
        for position, child in children:
            vjp = vjps[position] if vjps is not None and position < len(vjps) else op.vjp_for(position)
            input_grad = vjp(F, grad, ctx)
            shape = input_shapes[position]
            if F.shape(input_grad) != shape:
                input_grad = reduce_to_shape(F, input_grad, shape)
            input_grad = F.cast(input_grad, input_dtypes[position])
            existing = buffers.get(child)
            buffers[child] = input_grad if existing is None else existing + input_grad
        executed.append(node)
        if metered and charged and node not in arrived:
            modes.refund(_itemsize(grad) * math.prod(F.shape(grad)))  # this node's gradient is consumed
    return arrived, retained, executed


def _itemsize(grad: Any) -> int:
    data = getattr(grad, "_data", grad)
    return data.dtype.itemsize if hasattr(data, "dtype") else 8


def _accumulate(tensor: Tensor, grad: Any, create_graph: bool) -> None:
    """Add `grad` into tensor.grad: None, then a new tensor, then in place (out of place when recording)."""
    if create_graph:
        if tensor._grad is None and grad._base is not None:
            grad = grad.clone()  # as torch, .grad owns its memory: never an expand()ed view (read-only here)
        tensor._grad = grad if tensor._grad is None else tensor._grad + grad
        return
    if tensor._grad is None:
        tensor._grad = Tensor._from_array(np.array(grad, dtype=tensor._data.dtype, copy=True))
    else:
        np.add(tensor._grad._data, grad, out=tensor._grad._data, casting="unsafe")
        bump_version(tensor._grad)


def _target_nodes(inputs: list[Tensor], what: str) -> dict:
    targets: dict[Any, list[int]] = {}
    for position, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor):
            raise AutogradError(f"{what}: inputs must be Tensors, got {type(tensor).__name__}")
        if not tensor._requires_grad:
            raise AutogradError(
                f"One of the differentiated Tensors (input {position}) does not require grad; "
                "create it with requires_grad=True or call .requires_grad_() on it first"
            )
        targets.setdefault(edge_of(tensor), []).append(position)
    return targets


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None, *, order: list | None = None) -> None:
    """torch.autograd.backward: accumulate d(sum(tensors * grad_tensors))/d(leaf) into leaf.grad.

    `order` (not torch's): the nodes reachable from the roots as `_collect` orders them, precomputed."""
    _not_traced("backward()")
    roots = _as_list(tensors)
    gradients = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(roots)
    if len(gradients) != len(roots):
        raise AutogradError(f"got {len(gradients)} gradients for {len(roots)} tensors")
    if inputs is not None:
        inputs = _as_list(inputs)
        if not inputs:
            raise AutogradError("'inputs' argument to backward() cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [_seed(r, g, i, False, create_graph) for i, (r, g) in enumerate(zip(roots, gradients))]
    targets = _target_nodes(inputs, "backward") if inputs is not None else None
    with modes.set_grad_enabled(create_graph), np.errstate(all="ignore"):  # inf/nan silently, as torch
        arrived, retained, executed = _run(roots, seeds, targets, create_graph, order)
    # Commit: nothing above wrote any state.
    if inputs is not None:
        for tensor in dict.fromkeys(inputs):
            grad = arrived.get(edge_of(tensor))
            if grad is not None:
                _accumulate(tensor, grad, create_graph)
    else:
        for node, grad in arrived.items():
            if type(node) is AccumulateGrad:
                _accumulate(node.variable, grad, create_graph)
        for tensor, grad in retained.items():
            _accumulate(tensor, grad, create_graph)
    if not retain_graph:
        for node in executed:
            node.free()


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False, is_grads_batched: bool = False) -> tuple:
    """torch.autograd.grad: the gradients of outputs w.r.t. inputs, as a tuple; no .grad is written."""
    _not_traced("autograd.grad()")
    roots = _as_list(outputs)
    input_list = _as_list(inputs)
    if not input_list:
        raise AutogradError("grad requires at least one input")
    gradients = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(roots)
    if len(gradients) != len(roots):
        raise AutogradError(f"grad_outputs has {len(gradients)} entries but outputs has {len(roots)}")
    if retain_graph is None:
        retain_graph = create_graph
    targets = _target_nodes(input_list, "grad")
    seeds = [_seed(r, g, i, is_grads_batched, create_graph) for i, (r, g) in enumerate(zip(roots, gradients))]
    if is_grads_batched:
        batch = {len(s) for s in seeds}
        if len(batch) != 1:
            raise AutogradError(f"is_grads_batched: every grad_output needs the same batch size, got {sorted(batch)}")
        passes = [[s[b] for s in seeds] for b in range(batch.pop())]
    else:
        passes = [seeds]
    results: list[list] = []
    executed: list = []
    with modes.set_grad_enabled(create_graph), np.errstate(all="ignore"):  # inf/nan silently, as torch
        for pass_seeds in passes:
            arrived, _, executed_now = _run(roots, pass_seeds, targets, create_graph)
            executed.extend(executed_now)
            results.append([arrived.get(edge_of(t)) for t in input_list])
    for position, tensor in enumerate(input_list):
        if results[0][position] is None and not allow_unused:
            raise AutogradError(
                f"One of the differentiated Tensors (input {position}) appears to not have been used in "
                "the graph. Set allow_unused=True if this is the desired behavior."
            )
    if not retain_graph:
        for node in executed:
            node.free()
    return tuple(_result(tensor, [r[p] for r in results], is_grads_batched, create_graph)
                 for p, tensor in enumerate(input_list))


def _not_traced(what: str) -> None:
    """A function being compiled (compiled.py) that runs backward inside cannot be replayed."""
    if modes._state.tracer is not None:
        modes._state.tracer.break_trace(f"it runs {what} inside")


def _result(tensor: Tensor, per_pass: list, batched: bool, create_graph: bool) -> Tensor | None:
    if per_pass[0] is None:
        return None
    if create_graph:
        if not batched:
            return per_pass[0]
        from .dispatch import apply

        return apply("stack", per_pass, {"dim": 0})
    if batched:
        return Tensor._from_array(np.stack(per_pass))
    return Tensor._from_array(np.array(per_pass[0], copy=True))


def iter_graph(tensor: Tensor) -> Iterable[Any]:
    """The nodes of a tensor's backward graph in topological order (for tools and tests)."""
    node = edge_of(tensor)
    return _collect([node]) if node is not None else []

