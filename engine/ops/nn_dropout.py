"""dropout and its variants: dropout, dropout1d/2d/3d (whole channels), alpha_dropout and
feature_alpha_dropout. Masks come from the engine's generator (manual_seed makes them reproducible;
they need not equal torch's); training=False is the identity.

The forward keeps the mask it drew in the call's attributes (the backward node holds them), so the
backward multiplies by the very same mask: y = x * scale + shift, dy/dx = scale.
"""

from __future__ import annotations

import numpy as np

from .. import factories
from gradwire.rules.errors import InvalidValueError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .nn_common import same_float

ALPHA = 1.7580993408473766  # SELU's alpha * scale: what alpha dropout sets dropped units to (negated)
_MASK = "_mask"  # where the forward leaves the scale it applied


def _mask_shape(name: str, shape: tuple, feature_dims: int | None) -> tuple:
    if feature_dims is None:
        return shape
    if feature_dims == 0:  # feature_alpha_dropout: one draw per (batch, channel)
        if len(shape) < 2:
            raise ShapeError(f"{name}(): expected an input with at least 2 dims, got {list(shape)}")
        return shape[:2] + (1,) * (len(shape) - 2)
    if len(shape) not in (feature_dims + 1, feature_dims + 2):
        raise ShapeError(f"{name}(): Expected {feature_dims + 1}D or {feature_dims + 2}D input, but received a "
                         f"{len(shape)}D input. Note that {name} exists to provide channel-wise dropout on "
                         f"inputs with {feature_dims} spatial dimensions.")
    return shape[: len(shape) - feature_dims] + (1,) * feature_dims


def _forward(name: str, feature_dims: int | None, alpha: bool):
    def forward(arrays: list, attrs: dict):
        x, p = arrays[0], attrs["p"]
        if not 0.0 <= p <= 1.0:
            raise InvalidValueError(f"{name}(): dropout probability has to be between 0 and 1, but got {p}")
        if not attrs["training"]:
            attrs[_MASK] = None
            return x.copy()
        mask_shape = _mask_shape(name, x.shape, feature_dims)
        if p == 1.0:  # torch multiplies by zero (no draw), whatever the variant
            attrs[_MASK] = np.zeros(mask_shape, dtype=x.dtype)
            return x * attrs[_MASK]
        keep = factories._generator.random(mask_shape) < 1.0 - p
        if alpha:
            a = 1.0 / np.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
            scale = (keep * a).astype(x.dtype)
            shift = ((keep - 1.0) * ALPHA * a + ALPHA * a * p).astype(x.dtype)
            attrs[_MASK] = scale
            return x * scale + shift
        scale = (keep / (1.0 - p)).astype(x.dtype)
        attrs[_MASK] = scale
        return x * scale

    return forward


def _vjp(F, g, c):
    scale = c.attrs.get(_MASK)
    return g if scale is None else g * F.constant(scale.astype(F.value(g).dtype))


def _grad_fn(alpha: bool):
    def name(node) -> str:
        scale = node.attrs.get(_MASK)
        if scale is None:
            return "CloneBackward0"  # torch returns the input itself here
        return "AddBackward0" if alpha and scale.any() else "MulBackward0"

    return name


def dropout(name: str, feature_dims: int | None, alpha: bool, default_training: bool, torch_names=()) -> None:
    register(OpDef(
        name=name, forward=_forward(name, feature_dims, alpha), vjps=(_vjp,), grad_fn=_grad_fn(alpha),
        dtype_rule=same_float(name),
        attrs=(AttrSpec("p", "real", default=0.5),
               AttrSpec("training", "boolean", default=default_training, aliases=("train",)),
               AttrSpec("inplace", "boolean", default=False)),
        functions=(f"nn.functional.{name}",) + tuple(torch_names), out_shape=lambda shapes, a: tuple(shapes[0]),
        summary=f"{name.replace('_', ' ')} with probability p while training (seeded by manual_seed); "
                "identity when training=False; inplace=True is computed out of place",
    ))


dropout("dropout", None, False, True, ("dropout",))
dropout("dropout1d", 1, False, True)
dropout("dropout2d", 2, False, True)
dropout("dropout3d", 3, False, True)
dropout("alpha_dropout", None, True, False, ("alpha_dropout",))
dropout("feature_alpha_dropout", 0, True, False, ("feature_alpha_dropout",))
