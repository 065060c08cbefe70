"""Running an op: dtype promotion, the memory budget, the numpy forward and recording the graph.

Every Tensor method, operator and module function ends here, and so does the server's op lookup
(`apply(name, operands, attrs)`), so all callers share one behaviour.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from gradwire.rules.attrs import _NO_ATTRS, normalise_attrs
from gradwire.rules.errors import ArgumentError
from gradwire.rules.results import check_arity
from gradwire.rules.spec import Bound

from . import budget, modes
from .graph import Node
from .registry import OpDef, get
from .tensor import Tensor, is_scalar
from .views import edge_of, mark_view, sync_view


def apply(op_name: str, operands: Sequence[Any], attrs: Mapping[str, Any] | None = None) -> Any:
    """Run the op called `op_name` on Tensors / Python scalars with the given attributes."""
    op = get(op_name)
    operands, attrs = op.place_operands(list(operands), dict(attrs or {}))
    return apply_op(op, operands, attrs)


def apply_pieces(op: OpDef, operands: list[Any], attrs: dict[str, Any]) -> Any:
    """An op with several differentiable outputs (OpDef.pieces): one node per output, as a tuple.

    A call that names its `output` already (the server running one node of a graph) gets that one.
    """
    if op.pieces is None or attrs.get("output") is not None:
        return apply_op(op, operands, attrs)
    attrs = normalise_attrs(op, attrs)
    shapes = [x.shape if isinstance(x, Tensor) else () for x in operands]
    return tuple(apply_op(op, operands, {**attrs, "output": k}) for k in range(op.pieces(shapes, attrs)))


def apply_op(op: OpDef, operands: list[Any], attrs: dict[str, Any], *, normalised: bool = False) -> Any:
    """Run `op`; `normalised` attrs (already through normalise_attrs, e.g. by a compiled plan) skip it."""
    if modes._state.tracer is not None:  # a function being compiled (compiled.py) records this call
        return modes._state.tracer.call(op, operands, attrs, normalised)
    count = len(operands)
    if count < op.min_inputs or (op.max_inputs != -1 and count > op.max_inputs):
        check_arity(op, count)
    optional_from = op.min_inputs if op.operand_attrs else count
    if op.operand_attrs and count < op.max_inputs:
        operands = operands + [None] * (op.max_inputs - count)
    dtypes: list[Any] = []
    shapes: list[tuple] = []
    any_requires_grad = False
    for position, value in enumerate(operands):
        if isinstance(value, Tensor):
            if value._base is not None:
                sync_view(value)  # a view whose base was written in place may now require grad
            dtypes.append(value._dtype)
            shapes.append(value._data.shape)
            if value._requires_grad:
                any_requires_grad = True
        elif is_scalar(value) or (value is None and position >= optional_from):
            dtypes.append(None)  # a Python scalar, or an absent optional tensor operand
            shapes.append(())
        else:
            raise ArgumentError(
                f"{op.name}(): operand {position} must be a Tensor or a Python number, "
                f"not {type(value).__name__}"
            )
    if not normalised:
        attrs = normalise_attrs(op, attrs) if attrs or op.attrs else _NO_ATTRS  # (what it gives for none)
    if op.pieces is not None and attrs.get("output") is None:  # a graph node must name the output it is
        count = op.pieces([x.shape if isinstance(x, Tensor) else () for x in operands], attrs)
        raise ArgumentError(f"{op.name}() has {count} outputs, each its own node: give the attribute output "
                            f"(0 to {count - 1})")
    if op.inplace:
        if not isinstance(operands[0], Tensor):  # a graph node can name a number where the target goes
            raise ArgumentError(f"{op.name}(): the tensor written in place must be a Tensor, "
                                f"not {type(operands[0]).__name__}")
        if modes._state.work_left is not None or modes._state.interrupt is not None:
            budget.charge_inplace(op, operands)
        return op.forward(operands, attrs)  # in-place ops work on the Tensors and keep their own books
    compute_dtype, result_dtype = op.dtype_rule(dtypes, operands, attrs)
    # The shape rule refuses what torch refuses, before anything is allocated; the result must agree.
    out_shape = None if op.out_shape is None else op.out_shape(shapes, attrs)
    state = modes._state
    metered = state.budget_left is not None or state.work_left is not None or state.interrupt is not None
    charged = budget.charge_op(op, operands, dtypes, compute_dtype, result_dtype, attrs, out_shape) if metered else None
    arrays = [  # (_as_compute_array, inline)
        x if dtype is None else x._data if compute_dtype is None or dtype is compute_dtype
        else x._data.astype(compute_dtype.numpy) for x, dtype in zip(operands, dtypes)
    ]
    raw = op.forward(arrays, attrs)
    if out_shape is not None and not (op.num_outputs == 1 and getattr(raw, "shape", None) == out_shape):
        _check_rule_shape(op, out_shape, raw)  # (the common case, one array of the predicted shape, is above)
    if charged is not None:
        budget.settle(charged, raw, arrays)
    if op.num_outputs > 1:
        outputs = tuple(_wrap(value, result_dtype if i == 0 else None) for i, value in enumerate(raw))
        main = outputs[0]
    else:
        main = outputs = _wrap(raw, result_dtype)
    if op.view and isinstance(operands[0], Tensor) and np.may_share_memory(main._data, operands[0]._data):
        mark_view(main, operands[0], multi_output=op.extra.get("multi_output_view", False))
    if any_requires_grad and op.differentiable and state.grad_enabled and main._dtype.is_floating_point:
        record(op, operands, attrs, main, input_shapes=tuple(shapes), input_dtypes=dtypes)
    return outputs


def record(op: OpDef, operands: list[Any], attrs: dict[str, Any], output: Tensor, *,
           input_shapes: tuple | None = None, input_dtypes: list | None = None) -> Node:
    """Attach a backward node for `op` to `output`. A caller that has the operands' shapes and dtypes at
    hand (apply_op's operand loop) passes them, so the node need not read them again."""
    mask = op.edge_mask
    if mask is None:  # a variadic VJP: every tensor operand
        edges = tuple([_edge(x) if isinstance(x, Tensor) else None for x in operands])
    else:
        edges = tuple([_edge(x) if i < len(mask) and mask[i] and isinstance(x, Tensor) else None
                       for i, x in enumerate(operands)])
    node = Node(op, edges, attrs, operands, input_shapes, input_dtypes)
    node.save(operands, output)
    output.grad_fn = node
    output._requires_grad = True
    return node


def _edge(tensor: Tensor) -> Any:
    """edge_of(tensor), without the call for the common case: not a view, already in a graph."""
    grad_fn = tensor.grad_fn
    return grad_fn if grad_fn is not None and tensor._base is None else edge_of(tensor)


def _check_rule_shape(op: OpDef, out_shape: Any, raw: Any) -> None:
    """The forward's result against the op's shape rule: a disagreement is a bug in the rules, never the
    caller's mistake, and would make the SDK's metadata wrong, so it fails loudly (a Bound is not exact)."""
    if type(out_shape) is Bound:
        return
    if op.num_outputs == 1 or isinstance(out_shape, tuple):  # a rule may give the first output's shape only
        got, expected = tuple(np.shape(raw if op.num_outputs == 1 else raw[0])), tuple(out_shape)
    else:
        got, expected = [tuple(np.shape(r)) for r in raw], [tuple(s) for s in out_shape]
    if got != expected:
        raise AssertionError(f"the shape rule of {op.name}() says {expected}, its forward made {got}")


def _as_compute_array(tensor: Tensor, dtype: Any) -> np.ndarray:
    return tensor._data if dtype is None or tensor._dtype is dtype else tensor._data.astype(dtype.numpy)


def _wrap(value: Any, dtype: Any) -> Tensor:
    array = value if type(value) is np.ndarray else np.asarray(value)
    if dtype is not None and array.dtype != dtype.numpy:
        array = array.astype(dtype.numpy)
    return Tensor._from_array(array)
