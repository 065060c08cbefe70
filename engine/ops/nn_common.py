"""Computation helpers shared by the torch.nn.functional families: float16 compute, loss reductions and
their gradients. (Their rules, shared helpers included, are in gradwire.rules.ops.nn_*.)"""

from __future__ import annotations

import numpy as np


def compute(array: np.ndarray) -> np.ndarray:
    """float16 is computed in float32 (as torch's CPU kernels accumulate), cast back on the way out."""
    return array.astype(np.float32) if array.dtype == np.float16 else array


def reduce_loss(values: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return values
    if reduction == "sum":
        return np.sum(values)
    return np.mean(values) if values.size else np.array(np.nan, dtype=values.dtype)


def expand_loss_grad(F, g, shape: tuple, reduction: str, count: int | None = None):
    """The gradient of a reduced loss spread over the elementwise losses (shape `shape`)."""
    if reduction == "none":
        return g
    if reduction == "mean":
        g = g / (count if count is not None else max(int(np.prod(shape, dtype=np.int64)), 1))
    return F.expand(g, shape=shape)
