"""How clamp / clip computes, with number bounds (attributes) or tensor bounds (operands after x); its
rules (call parsing, the tensor_bounds attribute, dtype and shape) are in gradwire.rules.ops.clamp.

The gradient reaches x where min <= x <= max, the min bound where x < min < max and the max bound where
x > max or min > max (the result is max there), as in torch.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.clamp import bounds as _bounds

from ..registry import implement


def _forward(arrays: list, attrs: dict):
    x, low, high = _bounds(arrays, attrs)  # the rules checked the bounds and their shapes
    result = x if low is None else np.maximum(x, low)  # torch: min(max(x, low), high), also when low > high
    return result if high is None else np.minimum(result, high)


def _grad_x(F, g, c):
    x, low, high = _bounds(c.inputs, c.attrs)
    inside = (x >= low) if low is not None else None
    if high is not None:
        inside = (x <= high) if inside is None else F.logical_and(inside, x <= high)
    return g * inside


def _grad_low(F, x, low, high):
    below = x < low
    # Crossed or equal bounds: the result is `high`, so the min bound gets nothing (torch's rule).
    return below if high is None else F.logical_and(below, low < high)


def _grad_high(F, x, low, high):
    above = x > high
    return above if low is None else above + (low > high)  # bool + bool: or


def _grad_first_bound(F, g, c):
    x, low, high = _bounds(c.inputs, c.attrs)
    return g * (_grad_low(F, x, low, high) if low is not None else _grad_high(F, x, low, high))


def _grad_max_of_both(F, g, c):
    x, low, high = _bounds(c.inputs, c.attrs)
    return g * _grad_high(F, x, low, high)


implement("clamp", forward=_forward, vjps=(_grad_x, _grad_first_bound, _grad_max_of_both), saves_all_inputs=True)
