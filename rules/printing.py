"""torch's printing conventions, shared by the engine's and the SDK's tensors: torch.Size and a tensor's
repr (`tensor([15., 18.])`, `tensor(3.0000, grad_fn=<MeanBackward0>)`, `dtype=` for the dtypes torch names)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes

# Dtypes torch leaves out of a tensor's repr.
_IMPLIED_DTYPES = (dtypes.float32, dtypes.int64, dtypes.bool_)


class Size(tuple):
    """A tensor's shape: a tuple that prints as torch prints it (`torch.Size([2, 3])`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        count = 1
        for n in self:
            count *= n
        return count


def tensor_repr(array: np.ndarray, dtype: Any, grad_fn_name: str | None, requires_grad: bool) -> str:
    """tensor([1., 2.], dtype=gradwire.float64, requires_grad=True), or grad_fn=<MulBackward0>."""
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    # torch prints floats that are all whole as "15." and others with 4 fixed decimals.
    whole = array.dtype.kind != "f" or bool(np.all(np.mod(finite, 1) == 0))
    body = np.array2string(array, separator=", ", prefix="tensor(", threshold=1000,
                           precision=None if whole else 4, floatmode="maxprec" if whole else "fixed")
    extras = []
    if dtype not in _IMPLIED_DTYPES:
        extras.append(f"dtype={dtype}")
    if grad_fn_name:
        extras.append(f"grad_fn=<{grad_fn_name.rsplit('::', 1)[-1]}>")
    elif requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
