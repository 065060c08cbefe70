"""How the in-place variants compute: `x.add_(y)`, `x += y`, `x.exp_()`, `x.clamp_(0, 1)` ...

Which ops have a variant, its spellings and its two errors are rules (gradwire.rules.inplace). Its forward
runs the op out of place, checks that the result fits the target (the rules' check), writes it into the
target's memory and bumps the version counter. Under grad mode the target takes the op's backward node as its grad_fn
(AddBackward0 on the updated tensor, as torch); a view's write lands on its base as CopySlices. Python's
augmented operators (`__iadd__` ...) follow from each op's binary operator spellings.

The derived entries are ordinary ops: the server's lookup, the ListOps catalogue and the SDK read them.
"""

from __future__ import annotations

import numpy as np

from . import modes
from gradwire.rules import inplace as inplace_rules
from gradwire.rules.errors import ArgumentError, InplaceError

from .graph import SavedTensor
from .registry import INLINE_RULES, OPS, RULES, OpDef, implement

def derive_all() -> list[OpDef]:
    """Implements `<name>_` for every op whose rules have an in-place variant (idempotent); returns the new
    entries. Variants of ops whose rules are still inline in the engine are derived here as well."""
    taken_methods = {method for op in RULES.values() for method in op.methods}
    made = []
    for op in list(OPS.values()):
        name = op.name + "_"
        if name in OPS or op.inplace:
            continue
        if name not in RULES:
            if op.name not in INLINE_RULES or inplace_rules.derive(RULES[op.name], taken_methods) is None:
                continue
            INLINE_RULES.add(name)
        made.append(implement(name, forward=_inplace_forward(op), extra={**op.extra, "of": op.name}))
    return made


def _inplace_forward(op: OpDef):
    def forward(operands: list, attrs: dict):
        return run_inplace(op, operands, attrs)

    return forward


def run_inplace(op: OpDef, operands: list, attrs: dict):
    """`operands[0] = op(*operands)` in place, with torch's checks, version bump and grad_fn."""
    from .dispatch import apply_op
    from .ops.indexing import SETITEM, check_inplace_allowed, write_inplace
    from .tensor import Tensor

    target = operands[0] if operands else None
    if not isinstance(target, Tensor):
        raise ArgumentError(f"{op.name}_(): the target must be a Tensor, not {type(target).__name__}")
    check_inplace_allowed(target, op.name + "_")
    if not target._data.flags.writeable:
        raise InplaceError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location (it is an expand()ed view); clone() the tensor before writing into it"
        )
    result = apply_op(op, operands, attrs)
    inplace_rules.check_result_fits(target._data.shape, target._dtype, result._data.shape, result._dtype)
    node = result.grad_fn
    if node is not None and node.saved_inputs:
        # The backward needs the target's old value: keep a copy (torch saves `original_self` too).
        # Only as the first operand: saved as another operand, it is the tensor itself (a later change of
        # it fails the backward, as in torch: `b.mul_(b)` then `b.add_(1)`).
        first = node.saved_inputs[0]
        if type(first) is SavedTensor and first.tensor is target:
            node.saved_inputs = (SavedTensor(_snapshot(target)), *node.saved_inputs[1:])
    if node is None and target._requires_grad and modes._state.grad_enabled:
        # A result without a gradient (eq_, a no-grad op) overwrites values that had one: cut the
        # flow to them (torch's EqBackward0 and the like give zeros).
        return write_inplace(target, (Ellipsis,), result._data, SETITEM)
    if node is not None and target._base is not None:
        # Into a view of a graph tensor: the base records it (CopySlices), as torch does.
        return write_inplace(target, (Ellipsis,), result, SETITEM)
    np.copyto(target._data, result._data, casting="unsafe")
    target._version[0] += 1
    if node is not None:
        if node.saved_output is not None:  # the saved result is now the target: changing it again invalidates it
            node.saved_output.version_box = target._version
            node.saved_output.version = target._version[0]
        target.grad_fn = node
        target._requires_grad = True
    return target


def _snapshot(target):
    """The target as it was: a copy of its data with its history (for create_graph backward)."""
    from .tensor import Tensor

    copy = Tensor._from_array(target._data.copy())
    copy.grad_fn, copy._requires_grad = target.grad_fn, target._requires_grad
    return copy
