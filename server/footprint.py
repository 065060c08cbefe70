"""What a session really holds in memory: its named tensors, their grads, and the backward graph behind
them (each node, and the tensors it saved, including values the caller released but the graph still needs).

Memory is counted by buffer: views of one array count their base once, and a tensor reachable by several
paths counts once. A graph node counts NODE_BYTES (measured: a Node with its edges, shapes and attrs is
about 0.5-1 KiB of Python objects).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

NODE_BYTES = 1024
TENSOR_BYTES = 256  # a Tensor object and its small members, whatever its size


class _Counter:
    def __init__(self) -> None:
        self.buffers: set[int] = set()
        self.objects: set[int] = set()
        self.total = 0

    def array(self, array: Any) -> None:
        if not isinstance(array, np.ndarray):
            return
        owner = array
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        if id(owner) not in self.buffers:
            self.buffers.add(id(owner))
            self.total += owner.nbytes

    def tensor(self, tensor: Any) -> bool:
        """Counts a tensor once; True if it was new."""
        if tensor is None or id(tensor) in self.objects:
            return False
        self.objects.add(id(tensor))
        self.total += TENSOR_BYTES
        self.array(tensor._data)
        return True


def footprint(values: Iterable[Any]) -> int:
    """Bytes held by the values (tensors or tuples of tensors), their grads and their backward graphs."""
    counter = _Counter()
    nodes: list[Any] = []
    seen_nodes: set[int] = set()

    def visit(tensor: Any) -> None:
        if not counter.tensor(tensor):
            return
        counter.tensor(tensor._grad)
        if tensor._base is not None:
            visit(tensor._base)
        node = tensor.grad_fn
        if node is not None and id(node) not in seen_nodes:
            seen_nodes.add(id(node))
            nodes.append(node)

    for value in values:
        for tensor in value if isinstance(value, tuple) else (value,):
            visit(tensor)
    while nodes:  # iterative: graphs may be deep
        node = nodes.pop()
        counter.total += NODE_BYTES
        variable = getattr(node, "variable", None)  # AccumulateGrad: its leaf (and the leaf's .grad)
        if variable is not None:
            visit(variable)
        for entry in getattr(node, "saved_inputs", None) or ():
            if hasattr(entry, "tensor"):
                visit(entry.tensor)
        saved_output = getattr(node, "saved_output", None)
        if saved_output is not None:
            counter.array(saved_output.data)
        for child in node.next_edges:
            if child is not None and id(child) not in seen_nodes:
                seen_nodes.add(id(child))
                nodes.append(child)
    return counter.total
