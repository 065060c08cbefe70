"""How the in-place variants compute: `x.add_(y)`, `x += y`, `x.exp_()`, `x.clamp_(0, 1)` ...

Which ops have a variant, its spellings and its two errors are rules (gradwire.rules.inplace). Its forward
runs the op out of place, checks that the result fits the target (the rules' check), and hands it to
views.py, which writes it into the target's memory and bumps the version counter. Under grad mode the
target takes the op's backward node as its grad_fn (AddBackward0 on the updated tensor, as torch); a
view's write lands on its base as CopySlices.

The derived entries are ordinary ops: the server's lookup, the ListOps catalogue and the SDK read them.
"""

from __future__ import annotations

from gradwire.rules import inplace as inplace_rules
from gradwire.rules.errors import ArgumentError

from . import views
from .dispatch import apply_op
from .registry import OPS, RULES, OpDef, implement
from .tensor import Tensor


def derive_all() -> list[OpDef]:
    """Implements `<name>_` for every op whose rules have an in-place variant (idempotent); returns the new
    entries."""
    return [implement(op.name + "_", forward=_inplace_forward(op), extra={**op.extra, "of": op.name})
            for op in list(OPS.values()) if op.name + "_" in RULES and op.name + "_" not in OPS and not op.inplace]


def _inplace_forward(op: OpDef):
    def forward(operands: list, attrs: dict):
        return run_inplace(op, operands, attrs)

    return forward


def run_inplace(op: OpDef, operands: list, attrs: dict):
    """`operands[0] = op(*operands)` in place, with torch's checks, version bump and grad_fn (views.py)."""
    target = operands[0] if operands else None
    if not isinstance(target, Tensor):
        raise ArgumentError(f"{op.name}_(): the target must be a Tensor, not {type(target).__name__}")
    views.check_inplace(target, op.name + "_", tuple(operands[1:]))
    result = apply_op(op, operands, attrs)
    inplace_rules.check_result_fits(target._data.shape, target._dtype, result._data.shape, result._dtype)
    return views.write_result(target, result)
