"""What a call of an op produces, from its rules alone: each output's shape, dtype, requires_grad and
grad_fn name, or the error torch raises for the call.

This is how the SDK knows a lazy tensor's metadata without asking the server, and raises a mistake at
the statement that makes it. Operands are the tensors' metadata (anything with `shape`, `dtype` and
`requires_grad`), Python scalars, or None for an absent optional tensor operand. The engine runs the same
rules in its dispatcher (engine/dispatch.py) before computing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from gradwire.rules.attrs import normalise_attrs
from gradwire.rules.errors import ArgumentError

from .spec import Bound, OpRules


_SCALARS = (int, float, bool, np.integer, np.floating, np.bool_)


@dataclass(frozen=True)
class Result:
    """One output: None in a field the rules cannot tell (a shape that depends on values)."""

    shape: tuple[int, ...] | None
    dtype: Any
    requires_grad: bool
    grad_fn: str | None  # "" when the output does not require grad


@dataclass(frozen=True)
class CallInfo:
    """What a grad_fn rule reads of a call (the engine passes its graph Node, which has the same fields)."""

    attrs: Mapping[str, Any]
    scalar_mask: tuple[bool, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    input_dtypes: tuple[Any, ...]
    grad_mask: tuple[bool, ...]


def is_scalar(value: Any) -> bool:
    """A Python (or numpy) number, as ops take them in place of tensors."""
    return isinstance(value, _SCALARS)


def check_arity(op: OpRules, count: int) -> None:
    """torch's TypeError for a call with the wrong number of tensor operands."""
    if count < op.min_inputs or (op.max_inputs != -1 and count > op.max_inputs):
        expected = (
            f"at least {op.min_inputs}" if op.max_inputs == -1
            else str(op.min_inputs) if op.min_inputs == op.max_inputs
            else f"{op.min_inputs} to {op.max_inputs}"
        )
        raise ArgumentError(f"{op.name}() takes {expected} operands, got {count}")


def infer(op: OpRules, operands: Sequence[Any], attrs: Mapping[str, Any], *, grad_enabled: bool = True,
          is_tensor: Any = None) -> list[Result]:
    """The outputs of `op` called on `operands` with `attrs` (already parsed into operands/attrs).

    `is_tensor(x)` tells a tensor's metadata from a Python scalar (default: it has a shape and a dtype).
    Raises what torch raises for the call when the rules can tell without the values.
    """
    is_tensor = is_tensor or (lambda x: hasattr(x, "shape") and hasattr(x, "dtype") and not is_scalar(x))
    operands = list(operands)
    check_arity(op, len(operands))
    optional_from = op.min_inputs if op.operand_attrs else len(operands)
    if op.operand_attrs and len(operands) < op.max_inputs:
        operands += [None] * (op.max_inputs - len(operands))
    dtypes, shapes, requires = [], [], []
    for position, value in enumerate(operands):
        if is_tensor(value):
            dtypes.append(value.dtype)
            shapes.append(tuple(value.shape))
            requires.append(bool(getattr(value, "requires_grad", False)))
        elif is_scalar(value) or (value is None and position >= optional_from):
            dtypes.append(None)
            shapes.append(())
            requires.append(False)
        else:
            raise ArgumentError(f"{op.name}(): operand {position} must be a Tensor or a Python number, "
                                f"not {type(value).__name__}")
    attrs = normalise_attrs(op, dict(attrs))
    _, result_dtype = op.dtype_rule(dtypes, operands, attrs) if op.dtype_rule is not None else (None, None)
    shape = op.out_shape(shapes, attrs) if op.out_shape is not None else None
    out_shapes = _output_shapes(op, shape)
    out_dtypes = _output_dtypes(op, result_dtype)
    requires_grad = (grad_enabled and op.differentiable and any(requires) and result_dtype is not None
                     and result_dtype.is_floating_point)
    grad_fn = ""
    if requires_grad:
        grad_fn = op.grad_fn if isinstance(op.grad_fn, str) else op.grad_fn(CallInfo(
            attrs, tuple(d is None for d in dtypes), tuple(shapes), tuple(dtypes), tuple(requires)))
    results = []
    for k, (out_shape, out_dtype) in enumerate(zip(out_shapes, out_dtypes)):
        grad = requires_grad and (k == 0 or (out_dtype is not None and out_dtype.is_floating_point))
        results.append(Result(out_shape, out_dtype, grad, grad_fn if grad else ""))
    return results


def _output_shapes(op: OpRules, shape: Any) -> list:
    if shape is None or type(shape) is Bound:
        return [None] * op.num_outputs
    if op.num_outputs == 1:
        return [tuple(shape)]
    if isinstance(shape, tuple):  # the rule gives the first output's shape; the others share it (values, indices)
        return [tuple(shape)] * op.num_outputs
    return [None if s is None or type(s) is Bound else tuple(s) for s in shape]


def _output_dtypes(op: OpRules, result_dtype: Any) -> list:
    if op.num_outputs == 1:
        return [result_dtype]
    from gradwire.rules import dtypes

    rest = [(result_dtype if d is None else d) for d in op.output_dtypes] if op.output_dtypes \
        else [dtypes.int64] * (op.num_outputs - 1)
    return [result_dtype, *rest]
