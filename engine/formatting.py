"""How an engine tensor prints: like torch (`tensor([15., 18.])`, `tensor(3.0000, grad_fn=<MeanBackward0>)`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradwire.rules import dtypes

# Dtypes torch leaves out of a tensor's repr.
_IMPLIED_DTYPES = (dtypes.float32, dtypes.int64, dtypes.bool_)


def tensor_repr(tensor: Any) -> str:
    array = tensor._data
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    # torch prints floats that are all whole as "15." and others with 4 fixed decimals.
    whole = array.dtype.kind != "f" or bool(np.all(np.mod(finite, 1) == 0))
    body = np.array2string(array, separator=", ", prefix="tensor(", threshold=1000,
                           precision=None if whole else 4, floatmode="maxprec" if whole else "fixed")
    extras = []
    if tensor.dtype not in _IMPLIED_DTYPES:
        extras.append(f"dtype={tensor.dtype}")
    if tensor.grad_fn is not None:
        extras.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
