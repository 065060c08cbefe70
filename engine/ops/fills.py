"""In-place writes that are not an op's result written back: copy_, fill_, normal_, uniform_.

Each goes through the same in-place bookkeeping as index assignment (indexing.write_inplace): torch's
check for leaves that require grad, the version bump, CopySlices on a view's base.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import ArgumentError, InvalidValueError
from ..registry import AttrSpec, OpDef, register
from ..tensor import Tensor
from .indexing import SETITEM, write_inplace

_WHOLE = (Ellipsis,)


def _copy_forward(operands: list, attrs: dict):
    target, source = operands
    if isinstance(source, Tensor):
        try:
            np.broadcast_to(source._data, target.shape)
        except ValueError:
            raise ArgumentError(f"copy_(): the source's shape {list(source.shape)} does not broadcast to the "
                                f"target's {list(target.shape)}") from None
    return write_inplace(target, _WHOLE, source, COPY)


def _fill_forward(operands: list, attrs: dict):
    target, value = operands
    if isinstance(value, Tensor) and value.ndim != 0:
        raise InvalidValueError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                                f"{value.ndim} dimensions.")
    return write_inplace(target, _WHOLE, value, FILL)


def _random_forward(op_name: str, draw):
    def forward(operands: list, attrs: dict):
        from .. import factories

        target = operands[0]
        if not isinstance(target, Tensor):
            raise ArgumentError(f"{op_name}(): the target must be a Tensor, not {type(target).__name__}")
        sample = draw(factories.generator(), target.shape, attrs).astype(target._data.dtype)
        return write_inplace(target, _WHOLE, sample, OPS_BY_NAME[op_name])

    return forward


def _normal(rng, shape, attrs):
    if attrs["std"] < 0:
        raise InvalidValueError(f"normal expects std >= 0.0, but found std {attrs['std']}")
    return rng.normal(attrs["mean"], attrs["std"], shape)


def _uniform(rng, shape, attrs):
    if attrs["from"] > attrs["to"]:
        raise InvalidValueError(f"uniform_ expects to return a [from, to) range, but found from={attrs['from']} "
                                f"> to={attrs['to']}")
    return rng.uniform(attrs["from"], attrs["to"], shape)


COPY = register(OpDef(
    name="copy_", forward=_copy_forward, vjps=SETITEM.vjps, grad_fn="torch::autograd::CopyBackwards", min_inputs=2, max_inputs=2,
    inplace=True, methods=("copy_",), summary="copy the source's values (broadcast) into the tensor, in place",
))
FILL = register(OpDef(
    name="fill_", forward=_fill_forward, vjps=SETITEM.vjps, grad_fn="FillBackward0",
    min_inputs=2, max_inputs=2, inplace=True, methods=("fill_",), summary="fill with one value, in place",
))
OPS_BY_NAME = {
    "normal_": register(OpDef(
        name="normal_", forward=_random_forward("normal_", _normal), vjps=(SETITEM.vjps[0],),
        grad_fn="NormalBackward0", inplace=True, methods=("normal_",),
        attrs=(AttrSpec("mean", "real", default=0.0), AttrSpec("std", "real", default=1.0)),
        summary="fill with samples of N(mean, std**2), in place",
    )),
    "uniform_": register(OpDef(
        name="uniform_", forward=_random_forward("uniform_", _uniform), vjps=(SETITEM.vjps[0],),
        grad_fn="UniformBackward0", inplace=True, methods=("uniform_",),
        attrs=(AttrSpec("from", "real", default=0.0), AttrSpec("to", "real", default=1.0)),
        summary="fill with samples of U[from, to), in place",
    )),
}
