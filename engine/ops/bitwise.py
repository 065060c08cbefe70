"""How the bitwise and logical ops compute: bitwise_and/or/xor/not and shifts on integer and bool tensors,
logical_or/xor/not (their rules: gradwire.rules.ops.bitwise). None has a gradient."""

from __future__ import annotations

import numpy as np

from ..registry import implement
from .elementwise import _plain


def _same_kind(x, n):
    """Both operands as arrays of one integer dtype (a Python number takes the tensor's dtype)."""
    x_array, n_array = np.asarray(x), np.asarray(n)
    if not isinstance(x, np.ndarray):
        x_array = x_array.astype(n_array.dtype)
    if not isinstance(n, np.ndarray):
        n_array = n_array.astype(x_array.dtype)
    return x_array, n_array


def _shift(left: bool):
    """torch's shifts: a count below 0 or past the bit width gives 0 (<<) or the sign fill (>>)."""

    def forward(x, n):
        x, n = _same_kind(x, n)
        bits = x.dtype.itemsize * 8
        outside = (n < 0) | (n >= bits)
        safe = np.where(outside, 0, n).astype(x.dtype)
        if left:
            return np.where(outside, 0, np.left_shift(x, safe)).astype(x.dtype)
        return np.where(outside, np.right_shift(x, bits - 1), np.right_shift(x, safe)).astype(x.dtype)

    return forward


for _name, _function in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                         ("bitwise_xor", np.bitwise_xor), ("bitwise_left_shift", _shift(left=True)),
                         ("bitwise_right_shift", _shift(left=False)), ("bitwise_not", np.invert),
                         ("logical_or", np.logical_or), ("logical_xor", np.logical_xor),
                         ("logical_not", np.logical_not)):
    implement(_name, forward=_plain(_function))
