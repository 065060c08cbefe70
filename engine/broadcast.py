"""Broadcast reduction: the one place where a gradient is summed back to its input's shape.

Op VJPs return gradients in the broadcast (output) shape; the backward engine calls `reduce_to_shape`
for every input, so no rule deals with broadcasting. Works on arrays and on Tensors alike (through F).
"""

from __future__ import annotations

from typing import Any


def reduce_to_shape(F: Any, grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum `grad` over the leading dims broadcasting added and the dims where `shape` has size 1."""
    grad_shape = F.shape(grad)
    if grad_shape == shape:
        return grad
    lead = len(grad_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad_shape[lead + i] != 1
    )
    if axes:
        grad = F.sum(grad, dim=axes, keepdim=True)
    return F.reshape(grad, shape=shape)
