"""The two math namespaces VJP rules are written against (the `F` in `vjp(F, g, ctx)`).

ARRAY_MATH runs the registry's numpy forwards directly on arrays: plain backward, no graph, no dtype
bookkeeping. TENSOR_MATH runs the same ops through the dispatcher on Tensors, so the backward pass is
itself recorded and can be differentiated again (create_graph=True). A rule calls `F.<op name>(...)` for
any registered op, plus the few helpers below; Python operators work on both kinds of value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradwire.rules import dtypes

from .registry import OPS


def _plain(op: Any) -> bool:
    """An op whose call needs none of _call_args's steps: a fixed number of operands and no optional
    tensor operands given as attributes (its operands are the positional arguments as they are)."""
    return op.max_inputs != -1 and not op.operand_attrs


def _filled_defaults(op: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((spec.name, spec.default) for spec in op.attrs if not spec.kind.startswith("tensor"))


def _call_args(op_name: str, operands: tuple, attrs: dict) -> tuple[Any, list, dict, dict]:
    op = OPS[op_name]
    if op.max_inputs == -1 and len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    values, attrs = op.place_operands(list(operands), attrs)
    if op.operand_attrs and len(values) < op.max_inputs:
        values += [None] * (op.max_inputs - len(values))
    filled = {spec.name: attrs.get(spec.name, spec.default) for spec in op.attrs
              if not spec.kind.startswith("tensor")}
    return op, values, attrs, filled


class ArrayMath:
    """F over numpy arrays."""

    as_tensors = False

    def __getattr__(self, op_name: str) -> Any:
        if op_name not in OPS:
            raise AttributeError(op_name)

        op = OPS[op_name]
        if _plain(op):  # what _call_args would give, taken from the arguments directly
            forward, defaults = op.forward, _filled_defaults(op)

            def call(*operands: Any, **attrs: Any) -> Any:
                return forward(list(operands), {name: attrs.get(name, default) for name, default in defaults})
        else:
            def call(*operands: Any, **attrs: Any) -> Any:
                op, values, _, filled = _call_args(op_name, operands, attrs)
                return op.forward(values, filled)

        setattr(self, op_name, call)  # later lookups skip __getattr__
        return call

    @staticmethod
    def shape(value: Any) -> tuple[int, ...]:
        return value.shape if hasattr(value, "shape") else ()

    @staticmethod
    def zeros(shape: tuple[int, ...], like: Any) -> np.ndarray:
        return np.zeros(shape, dtype=like.dtype)

    @staticmethod
    def cast(value: Any, dtype: dtypes.DType | None) -> Any:
        if dtype is None or value.dtype == dtype.numpy:
            return value
        return value.astype(dtype.numpy)

    @staticmethod
    def value(value: Any) -> np.ndarray:
        """The raw array behind a value (for masks and other non-differentiable helpers)."""
        return value

    @staticmethod
    def constant(array: np.ndarray) -> np.ndarray:
        """A value computed with numpy, usable in a rule (a Tensor constant in TensorMath)."""
        return array


class TensorMath:
    """F over Tensors: every step is a recorded op."""

    as_tensors = True

    def __getattr__(self, op_name: str) -> Any:
        if op_name not in OPS:
            raise AttributeError(op_name)
        from .dispatch import apply_op

        op = OPS[op_name]
        if _plain(op):
            def call(*operands: Any, **attrs: Any) -> Any:
                return apply_op(op, list(operands), attrs)
        else:
            def call(*operands: Any, **attrs: Any) -> Any:
                op, values, placed, _ = _call_args(op_name, operands, attrs)
                return apply_op(op, values, placed)

        setattr(self, op_name, call)
        return call

    @staticmethod
    def shape(value: Any) -> tuple[int, ...]:
        return value.shape

    @staticmethod
    def zeros(shape: tuple[int, ...], like: Any) -> Any:
        from .tensor import Tensor

        return Tensor._from_array(np.zeros(shape, dtype=like._data.dtype))

    @staticmethod
    def cast(value: Any, dtype: dtypes.DType | None) -> Any:
        if dtype is None or value.dtype is dtype:
            return value
        from .dispatch import apply

        return apply("to", [value], {"dtype": dtype})

    @staticmethod
    def value(value: Any) -> np.ndarray:
        return value._data

    @staticmethod
    def constant(array: np.ndarray) -> Any:
        from .tensor import Tensor

        return Tensor._from_array(array)


ARRAY_MATH = ArrayMath()
TENSOR_MATH = TensorMath()
