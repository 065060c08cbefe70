"""dropout and its variants (dropout, dropout1d/2d/3d, alpha_dropout, feature_alpha_dropout): forwards
and VJPs; rules in gradwire.rules.ops.nn_dropout. Masks come from the engine's generator (manual_seed
makes them reproducible; they need not equal torch's); training=False is the identity.

The forward keeps the mask it drew in the call's attributes (the backward node holds them), so the
backward multiplies by the very same mask: y = x * scale + shift, dy/dx = scale.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops.nn_dropout import FEATURE_DIMS, MASK, mask_shape

from .. import factories
from ..registry import implement

ALPHA = 1.7580993408473766  # SELU's alpha * scale: what alpha dropout sets dropped units to (negated)


def _forward(name: str, feature_dims: int | None, alpha: bool):
    def forward(arrays: list, attrs: dict):
        x, p = arrays[0], attrs["p"]
        if not attrs["training"]:
            attrs[MASK] = None
            return x.copy()
        shape = mask_shape(name, x.shape, feature_dims)
        if p == 1.0:  # torch multiplies by zero (no draw), whatever the variant
            attrs[MASK] = np.zeros(shape, dtype=x.dtype)
            return x * attrs[MASK]
        keep = factories._generator.random(shape) < 1.0 - p
        if alpha:
            a = 1.0 / np.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
            scale = (keep * a).astype(x.dtype)
            shift = ((keep - 1.0) * ALPHA * a + ALPHA * a * p).astype(x.dtype)
            attrs[MASK] = scale
            return x * scale + shift
        scale = (keep / (1.0 - p)).astype(x.dtype)
        attrs[MASK] = scale
        return x * scale

    return forward


def _vjp(F, g, c):
    scale = c.attrs.get(MASK)
    return g if scale is None else g * F.constant(scale.astype(F.value(g).dtype))


for _name, _dims in FEATURE_DIMS.items():
    implement(_name, _forward(_name, _dims, "alpha" in _name), vjps=(_vjp,))
