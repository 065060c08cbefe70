"""How the in-place writes that are not an op's result written back compute: copy_, fill_, normal_, uniform_
(their rules: gradwire.rules.ops.fills).

Each goes through the same in-place bookkeeping as index assignment (indexing.write_inplace): torch's
check for leaves that require grad, the version bump, CopySlices on a view's base.
"""

from __future__ import annotations

from typing import Any

from gradwire.rules import rules_of
from ..registry import implement
from ..tensor import Tensor, is_scalar
from .indexing import SETITEM, write_inplace

_WHOLE = (Ellipsis,)


def check_rules(op_name: str, operands: list, attrs: dict) -> None:
    """Run the op's dtype and shape rules (the dispatcher leaves an in-place op's checks to the op)."""
    op = rules_of(op_name)
    dtypes: list[Any] = [x.dtype if isinstance(x, Tensor) else None for x in operands]
    if not all(dtype is not None or is_scalar(x) for x, dtype in zip(operands, dtypes)):
        return  # a value the rules cannot read: the forward's own handling reports it
    op.dtype_rule(dtypes, operands, attrs)
    op.out_shape([x.shape if isinstance(x, Tensor) else () for x in operands], attrs)


def _copy_forward(operands: list, attrs: dict):
    check_rules("copy_", operands, attrs)
    return write_inplace(operands[0], _WHOLE, operands[1], COPY)


def _fill_forward(operands: list, attrs: dict):
    check_rules("fill_", operands, attrs)
    return write_inplace(operands[0], _WHOLE, operands[1], FILL)


def _random_forward(op_name: str, draw):
    def forward(operands: list, attrs: dict):
        from .. import factories

        check_rules(op_name, operands, attrs)
        target = operands[0]
        sample = draw(factories.generator(), target.shape, attrs).astype(target._data.dtype)
        return write_inplace(target, _WHOLE, sample, OPS_BY_NAME[op_name])

    return forward


def _normal(rng, shape, attrs):
    return rng.normal(attrs["mean"], attrs["std"], shape)


def _uniform(rng, shape, attrs):
    return rng.uniform(attrs["from"], attrs["to"], shape)


COPY = implement("copy_", forward=_copy_forward, vjps=SETITEM.vjps)
FILL = implement("fill_", forward=_fill_forward, vjps=SETITEM.vjps)
OPS_BY_NAME = {
    "normal_": implement("normal_", forward=_random_forward("normal_", _normal), vjps=(SETITEM.vjps[0],)),
    "uniform_": implement("uniform_", forward=_random_forward("uniform_", _uniform), vjps=(SETITEM.vjps[0],)),
}
