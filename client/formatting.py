"""How an SDK tensor prints: like torch (`tensor([15., 18.])`, `tensor(3., grad_fn=<MeanBackward0>)`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import dtypes

if TYPE_CHECKING:
    from .tensor import Tensor

# Dtypes torch leaves out of a tensor's repr.
_DEFAULT_DTYPES = (dtypes.float32, dtypes.int64, dtypes.bool_)


def format_tensor(tensor: Tensor) -> str:
    """tensor([1., 2.], dtype=gradwire.float64, requires_grad=True), or grad_fn=<MulBackward0>."""
    array = tensor._array()
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    # torch prints whole floats as "15." and others with 4 decimals.
    whole = array.dtype.kind != "f" or bool(np.all(np.mod(finite, 1) == 0))
    body = np.array2string(array, separator=", ", prefix="tensor(", threshold=1000,
                           precision=None if whole else 4, floatmode="maxprec" if whole else "fixed")
    suffixes = []
    if tensor.dtype not in _DEFAULT_DTYPES:
        suffixes.append(f"dtype={tensor.dtype}")
    grad_fn = tensor.grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name().rsplit('::', 1)[-1]}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return f"tensor({', '.join([body] + suffixes)})"
