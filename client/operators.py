"""Python's operator protocol and torch's overloaded methods on the SDK Tensor.

Which op a Python operator means is the catalogue's business (its `operators` and
`reflected_operators` spellings): the SDK only knows Python's own protocol, and torch's few signatures
that depend on argument types (max(dim) vs max(), median(dim) vs median()). In-place operators
(x += y) are the catalogue's derived in-place ops (`__iadd__` is add_'s operator spelling); against a server
without them they run as a copy, the op, and an index assignment of the whole tensor, which keeps torch's
in-place rules and gradients; only the grad_fn name differs there (CopySlices, not AddBackward0).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from . import dtypes
from .catalogue import OpSpec
from .namespaces import cast_first

if TYPE_CHECKING:
    from .runtime import Runtime
    from .tensor import Tensor

BINARY_OPERATORS = (
    "__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__matmul__", "__eq__", "__ne__",
    "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__or__", "__xor__", "__floordiv__", "__mod__",
    "__lshift__", "__rshift__",
)
REFLECTED_OPERATORS = (
    "__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rpow__", "__rmatmul__", "__rand__", "__ror__",
    "__rxor__", "__rfloordiv__", "__rmod__", "__rlshift__", "__rrshift__",
)
UNARY_OPERATORS = ("__neg__", "__pos__", "__invert__")
# x += y runs as x[...] = x.clone() + y (see the module docstring).
INPLACE_OPERATORS = {"__iadd__": "__add__", "__isub__": "__sub__", "__imul__": "__mul__",
                     "__itruediv__": "__truediv__", "__ipow__": "__pow__", "__ifloordiv__": "__floordiv__",
                     "__imod__": "__mod__", "__iand__": "__and__", "__ior__": "__or__", "__ixor__": "__xor__"}


@contextlib.contextmanager
def grad_mode(runtime: Runtime, enabled: bool) -> Iterator[None]:
    previous = runtime.grad_enabled
    runtime.set_grad_enabled(enabled)
    try:
        yield
    finally:
        runtime.set_grad_enabled(previous)


def _is_operand(value: Any, tensor_class: type) -> bool:
    return isinstance(value, tensor_class) or (np.isscalar(value) and not isinstance(value, (str, bytes)))


def operator(name: str, base: type, *, reflected: bool) -> Any:
    """Python's `name` operator: the catalogue's op of that spelling, or NotImplemented."""
    def method(self: Tensor, other: Any = None) -> Any:
        runtime = type(self)._runtime
        catalogue = runtime.catalogue
        op = (catalogue.reflected_operators if reflected else catalogue.operators).get(name)
        if op is None:
            return NotImplemented
        if name in UNARY_OPERATORS:
            return runtime.apply(op, [self], {})
        if not _is_operand(other, base):
            return NotImplemented
        return runtime.apply(op, [other, self] if reflected else [self, other], {})

    method.__name__ = name
    return method


def inplace_operator(name: str, binary: str, base: type) -> Any:
    """x op= y: the catalogue's derived in-place op, or the binary op on a copy assigned back."""
    def method(self: Tensor, other: Any) -> Any:
        runtime = type(self)._runtime
        catalogue = runtime.catalogue
        inplace = catalogue.operators.get(name)  # the registry's derived in-place op (add_ for __iadd__)
        if inplace is not None and inplace.inplace and _is_operand(other, base):
            return runtime.apply(inplace, [self, other], {})
        op = catalogue.operators.get(binary)
        if op is None or not _is_operand(other, base):
            return NotImplemented
        self[...] = runtime.apply(op, [self._copy_for_update(), other], {})
        return self

    method.__name__ = name
    return method


def cast_method(name: str, dtype: dtypes.DType) -> Any:
    """x.float(), x.long(), ...: x.to(dtype)."""
    def cast(self: Tensor) -> Tensor:
        return self.to(dtype)

    cast.__name__ = name
    cast.__doc__ = f"self.to({dtype})"
    return cast


def bound_method(tensor: Tensor, op: OpSpec) -> Any:
    """tensor.<method> for a catalogue op: Python arguments split into operands and attributes."""
    def method(*args: Any, **kwargs: Any) -> Any:
        operands, attrs = op.parse_call((tensor, *args), kwargs)
        cast_first(op, operands, attrs)
        return type(tensor)._runtime.apply(op, operands, attrs)

    method.__name__ = op.name
    method.__doc__ = op.summary
    return method


def extreme(runtime: Runtime, name: str, pairwise: str, tensor: Tensor, dim: Any, keepdim: bool) -> Any:
    """max()/min(): over everything, along a dim (values, indices), or elementwise with a tensor."""
    catalogue = runtime.catalogue
    if isinstance(dim, runtime.tensor_class):
        return runtime.apply(catalogue.op(pairwise), [tensor, dim], {})
    if dim is None:
        return runtime.apply(catalogue.op(name), [tensor], {})
    values, indices = runtime.apply(catalogue.op(f"{name}_dim"), [tensor], {"dim": dim, "keepdim": keepdim})
    return ValuesIndices(values, indices)


class ValuesIndices(tuple):
    """torch.return_types.max / min: a (values, indices) pair with names."""

    def __new__(cls, values: Tensor, indices: Tensor) -> ValuesIndices:
        return super().__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:  # type: ignore[override]
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]


def median(runtime: Runtime, tensor: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """median(): the lower median of everything; median(dim): (values, indices) along dim."""
    if dim is None:
        return runtime.apply(runtime.catalogue.op("median"), [tensor], {})
    return runtime.apply(runtime.catalogue.op("median_dim"), [tensor], {"dim": dim, "keepdim": keepdim})
