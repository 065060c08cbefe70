"""The SDK Tensor's members that are not plain catalogue methods, attached from one table.

As the engine attaches its methods from the registry (engine/methods.py), the SDK attaches here, in one
pass over one table: Python's operators and in-place operators (resolved in the catalogue when called,
operators.py), torch's casts by method name, the overloads torch resolves by argument (max(dim),
median(dim), to, indexing), and the `.grad` property (grad.py). Every other method
is the catalogue's, looked up by Tensor.__getattr__. The .grad proxy kind overrides a few of these in its
class (grad.GradTensor), which comes first in its MRO.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradwire.rules import arguments
from gradwire.rules.indexing import resolve_ellipses

from . import dtypes, factories, grad, operators, surface
from .errors import checked
from .operators import (BINARY_OPERATORS, INPLACE_OPERATORS, REFLECTED_OPERATORS,
                        UNARY_OPERATORS)
from .tensor import Tensor


def _to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """to(dtype), to(device), to(device, dtype), to(tensor), to(dtype=..., device=...) (rules.arguments)."""
    target = checked(arguments.cast_target, args, kwargs, is_tensor=lambda x: isinstance(x, Tensor),
                     dtype_of=lambda x: x.dtype)
    if target is None or target is self.dtype:
        return self
    return self._call_op("to", dtype=target)


def _type(self: Tensor, dtype: Any = None) -> Any:
    """torch's type string ("torch.FloatTensor"), or a cast to `dtype` (a dtype or such a string)."""
    if dtype is None:
        return dtypes.type_string(self.dtype)
    if isinstance(dtype, str) and dtypes.by_type_string(dtype) is not None:
        dtype = dtypes.by_type_string(dtype)
    return self.to(dtype)


def _extreme(name: str, pairwise: str) -> Any:
    def extreme(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        return operators.extreme(self._runtime, name, pairwise, self, dim if axis is None else axis, keepdim)

    extreme.__name__ = name
    return extreme


def _t(self: Tensor) -> Tensor:
    op = self._runtime.catalogue.methods.get("t")
    if op is not None:
        return self._runtime.apply(op, [self], {})
    return self if self.ndim < 2 else self._call_op("transpose", dim0=0, dim1=1)


def _getitem(self: Tensor, index: Any) -> Tensor:
    return self._call_op("getitem", index=_as_index(index, self.ndim))


def _setitem(self: Tensor, index: Any, value: Any) -> None:
    runtime = self._runtime
    if not isinstance(value, runtime.tensor_class) and not np.isscalar(value):
        value = runtime.leaf(np.asarray(value, dtype=self.dtype.numpy))
    runtime.apply(runtime.catalogue.op("setitem"), [self, value], {"index": _as_index(index, self.ndim)})


def _where(self: Tensor, condition: Any, other: Any) -> Tensor:
    """x.where(condition, y) is torch.where(condition, x, y)."""
    runtime = self._runtime
    return runtime.apply(runtime.catalogue.op("where"), [condition, self, other], {})


def _new(kind: str) -> Any:
    """x.new_zeros(size), new_ones, new_empty, new_full(size, value), new_tensor(data): a new leaf of x's
    dtype (unless dtype= says otherwise)."""
    def method(self: Tensor, *args: Any, dtype: Any = None, requires_grad: bool = False, **options: Any) -> Tensor:
        dtype = self.dtype if dtype is None else dtype
        if kind == "tensor":
            factories.size_option((), options)
            return factories.tensor(self._runtime, args[0], dtype, requires_grad)
        if kind == "full":
            factories.size_option((), options)
            return factories.filled(self._runtime, (args[0],), args[1], dtype, requires_grad)
        value = 1 if kind == "ones" else 0  # new_empty: zeros (any values are allowed)
        return factories.filled(self._runtime, factories.size_option(args, options), value, dtype, requires_grad)

    method.__name__ = f"new_{kind}"
    return method


def _as_index(index: Any, rank: int) -> tuple:
    """The index as a tuple; several ellipses resolved as torch reads them (rules.indexing)."""
    return checked(resolve_ellipses, index if isinstance(index, tuple) else (index,), rank)


def _median(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
    return operators.median(self._runtime, self, dim if axis is None else axis, keepdim)


def _module_function(name: str) -> Any:
    """Tensor.allclose / bernoulli / multinomial: the Client's module function with self first."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(surface.Surface(self._runtime), name)(self, *args, **kwargs)

    method.__name__ = name
    return method


def members(base: type[Tensor] = Tensor) -> dict[str, Any]:
    """The table: member name -> function or property (operators check operands against `base`)."""
    table: dict[str, Any] = {}
    for name in BINARY_OPERATORS + UNARY_OPERATORS:
        table[name] = operators.operator(name, base, reflected=False)
    for name in REFLECTED_OPERATORS:
        table[name] = operators.operator(name, base, reflected=True)
    for name, binary in INPLACE_OPERATORS.items():
        table[name] = operators.inplace_operator(name, binary, base)
    for name, dtype in dtypes.CAST_METHODS.items():
        table[name] = operators.cast_method(name, dtype)
    table.update({
        "grad": property(grad.get_grad, grad.set_grad),
        "to": _to, "type": _type, "cpu": lambda self: self, "contiguous": lambda self: self,
        "type_as": lambda self, other: self.to(other.dtype),
        "is_contiguous": lambda self, memory_format=None: True, "element_size": lambda self: self.dtype.itemsize,
        "where": _where,
        **{f"new_{kind}": _new(kind) for kind in ("zeros", "ones", "empty", "full", "tensor")},
        "device": property(lambda self: "cpu"),
        "max": _extreme("max", "maximum"), "min": _extreme("min", "minimum"), "median": _median,
        "t": _t, "T": property(lambda self: self._call_op("permute", dims=tuple(reversed(range(self.ndim))))),
        "mT": property(lambda self: self._call_op("transpose", dim0=-2, dim1=-1)),
        "__abs__": lambda self: self._call_op("abs"),
        "__getitem__": _getitem, "__setitem__": _setitem,
        "allclose": _module_function("allclose"), "bernoulli": _module_function("bernoulli"),
        "multinomial": _module_function("multinomial"),
    })
    table["equal"] = _module_function("equal")
    return table


def install(base: type[Tensor] = Tensor) -> None:
    """Attaches the table to the SDK's Tensor class."""
    for name, member in members(base).items():
        setattr(base, name, member)
