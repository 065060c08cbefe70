"""What one op may cost, charged to the memory and work budgets (modes.py) before the op runs.

Memory: an op is charged an upper bound of what it allocates before its forward runs, then refunded down
to what it really kept once it returned:
- an op with an `out_shape` rule is charged its result's bytes;
- any other op is bounded by its largest operand (counted in elements, so an expanded view counts at
  its full logical size: `clone(expand(x, [n, m]))` is charged n*m elements, not x's);
- a view op on a contiguous operand is free (numpy never copies then); on any other operand it may copy,
  so it is charged like a copy and refunded if the result shares the operand's memory;
- converting an operand to the compute dtype is charged too (a transient copy, refunded afterwards).
What stays charged are the results that own new memory, so a request's intermediates, which the
request keeps alive until it ends, add up.

Work: each op is charged the elements it reads and writes (every operand at its logical size plus its
result; an op's own `work` rule where it does more, as a matrix product's multiply-adds), and each backward step the elements of its gradient and of its input; the interrupt check
(deadline, cancellation) runs at each charge.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import modes

# Extra outputs (e.g. indices of max) are at most int64.
_INDEX_ITEMSIZE = 8


def _size(value: Any) -> int:
    data = getattr(value, "_data", None)
    return data.size if data is not None else 1


def _out_elements(op: Any, operands: list, attrs: dict, out_shape: Any = None) -> int:
    """Elements of the result: from the op's shape rule, a 'shape'/'size' attribute, or its largest operand."""
    if out_shape is not None:
        return math.prod(out_shape) if op.num_outputs == 1 or isinstance(out_shape, tuple) else math.prod(out_shape[0])
    sizes = [x._data.size for x in operands if hasattr(x, "_data")]
    if sizes:
        return max(sizes)
    for name in ("shape", "size"):
        if isinstance(attrs.get(name), tuple):
            return math.prod(max(0, int(d)) for d in attrs[name])
    return 1


def charge_op(op: Any, operands: list, dtypes: list, compute_dtype: Any, result_dtype: Any,
              attrs: dict, out_shape: Any = None) -> tuple[int, int]:
    """Charges work and an upper bound of memory for one op (out_shape: what its shape rule said);
    returns (bytes charged, transient bytes)."""
    out_elements = _out_elements(op, operands, attrs, out_shape)
    label = lambda: f"{op.name}() on operands of {[_size(x) for x in operands]} elements"  # noqa: E731
    if op.work is not None:
        work = op.work([x._data.shape if hasattr(x, "_data") else () for x in operands], attrs)
    else:
        # a broadcast view (expand) writes nothing: its elements are work for the ops that read them
        work = sum(_size(x) for x in operands) + (0 if op.extra.get("broadcast_view") else out_elements)
    if modes._state.budget_left is None:
        modes.charge_work(work, label)
        return 0, 0
    first = operands[0] if operands else None
    # a view allocates nothing: one no larger than its input, or a broadcast (expand) of it
    if op.view and first is not None and first._data.flags.c_contiguous and (
            out_elements <= first._data.size or op.extra.get("broadcast_view")):
        out_bytes = 0
    else:
        # an op whose rule leaves the result dtype to its forward: charge the widest dtype
        itemsize = result_dtype.itemsize if result_dtype is not None else 8
        out_bytes = out_elements * (itemsize + (op.num_outputs - 1) * max(itemsize, _INDEX_ITEMSIZE))
    casts = sum(
        x._data.size * compute_dtype.itemsize for x, dtype in zip(operands, dtypes)
        if dtype is not None and compute_dtype is not None and dtype is not compute_dtype
    )
    modes.charge(out_bytes + casts, lambda: f"{op.name}() with a result of {out_elements:,} elements")
    modes.charge_work(work, label)
    return out_bytes, casts


def settle(charged: tuple[int, int], raw: Any, arrays: list) -> None:
    """After the forward: keep charged only the result bytes that own new memory."""
    out_bytes, casts = charged
    if modes._state.budget_left is None:
        return
    outputs = raw if isinstance(raw, tuple) else (raw,)
    inputs = [a for a in arrays if type(a) is np.ndarray]
    kept = 0
    for out in outputs:
        if type(out) is np.ndarray and not any(np.may_share_memory(out, a) for a in inputs):
            kept += out.nbytes
        elif type(out) is not np.ndarray:
            kept += np.asarray(out).nbytes
    if kept > out_bytes:  # an op without a shape rule outgrew its operands: count it all the same
        modes._state.budget_left -= kept - out_bytes
    else:
        modes.refund(out_bytes - kept)
    modes.refund(casts)


def charge_inplace(op: Any, operands: list) -> None:
    """An in-place op reads its operands and writes its target: work only (it allocates nothing kept)."""
    modes.charge_work(sum(_size(x) for x in operands) + (_size(operands[0]) if operands else 0),
                      lambda: f"{op.name}() on operands of {[_size(x) for x in operands]} elements")


def charge_backward_step(node: Any, grad_size: int, positions: list[int], itemsize: int,
                         with_memory: bool) -> int:
    """Charges one backward node: work for its gradient and inputs, memory for its input gradients."""
    input_elements = sum(math.prod(node.input_shapes[p]) for p in positions)
    work = grad_size + input_elements
    if node.op.work is not None:  # each input's gradient costs about what the forward did
        work += node.op.work(list(node.input_shapes), node.attrs) * len(positions)
    modes.charge_work(work, lambda: f"the backward of {node.name()}")
    if not with_memory or modes._state.budget_left is None:
        return 0
    nbytes = input_elements * itemsize
    modes.charge(nbytes, lambda: f"the backward of {node.name()}")
    return nbytes
