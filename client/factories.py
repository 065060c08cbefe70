"""Tensor factories (tensor, zeros, ones, full, eye, arange, randn, from_numpy) with torch's dtypes.

Each builds its data locally with numpy and records a leaf: nothing goes over the wire until the next
flush. Python floats default to float32, Python ints to int64, as torch's defaults are.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from gradwire.rules import arguments

from . import dtypes
from .errors import checked

if TYPE_CHECKING:
    from .runtime import Runtime
    from .tensor import Tensor


def _shape(size: Sequence[Any]) -> tuple[int, ...]:
    """zeros(2, 3), zeros((2, 3)) and zeros([2, 3]) all mean shape (2, 3) (rules.arguments)."""
    return checked(arguments.shape_of, tuple(size))


def size_option(size: tuple, options: dict) -> tuple:
    """The shape of zeros(2, 3) or zeros(size=(2, 3)); device= may only be the CPU; other keywords
    are refused like torch refuses them."""
    device = options.pop("device", None)
    if device is not None and str(getattr(device, "type", device)).partition(":")[0] != "cpu":
        raise RuntimeError(f"device {device!r} is not available: gradwire computes on the CPU only; use 'cpu'")
    if "size" in options:
        if size:
            raise TypeError("give the shape either positionally or as size=, not both")
        size = (options.pop("size"),)
    if options:
        raise TypeError(f"unexpected keyword argument(s) {', '.join(options)}")
    return size


def _element_dtype(value: Any) -> dtypes.DType:
    """torch.tensor's dtype for one element: numpy scalars keep theirs, Python numbers get the defaults."""
    if isinstance(value, np.generic):
        return dtypes.from_numpy(value.dtype)
    return dtypes.scalar_dtype(value)


def _python_data_dtype(data: Any) -> dtypes.DType:
    """torch.tensor's dtype for nested Python data: the promotion of its elements' dtypes, where Python
    floats are the default float, ints int64 and bools bool, and numpy scalars keep their dtype
    (tensor([np.float64(0.1)]) is float64, as in torch)."""
    flat = np.asarray(data, dtype=object).ravel()
    if not flat.size:
        return dtypes.DEFAULT_FLOAT
    return dtypes.promote(*{_element_dtype(x) for x in flat})


def _resolve_tensors(runtime: Runtime, data: Any) -> Any:
    """Nested data with SDK tensors replaced by their values (tensor([a, b]) of 0-dim tensors)."""
    if isinstance(data, runtime.tensor_class):
        return data._data_copy()
    if isinstance(data, (list, tuple)):
        return [_resolve_tensors(runtime, item) for item in data]
    return data


def tensor(runtime: Runtime, data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """torch.tensor: a new leaf copying `data`."""
    data = _resolve_tensors(runtime, data)
    if isinstance(data, np.ndarray):
        inferred = dtypes.from_numpy(data.dtype)
    elif isinstance(data, np.generic):
        inferred = dtypes.from_numpy(data.dtype)
    else:
        inferred = _python_data_dtype(data)
    target = dtypes.as_dtype(dtype) if dtype is not None else inferred
    array = checked(arguments.nested_array, data, target.numpy)
    return runtime.leaf(array, requires_grad)


def from_numpy(runtime: Runtime, array: np.ndarray) -> Tensor:
    """torch.from_numpy: the array's dtype; its data is read when the leaf is sent (changes to the
    array before then are seen by the server, later ones are not: the memory cannot be shared)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy(array.dtype)  # refuses dtypes torch has no tensor type for
    return runtime.leaf(array)


def filled(runtime: Runtime, size: Sequence[Any], value: Any, dtype: Any = None,
           requires_grad: bool = False, default: dtypes.DType | None = None) -> Tensor:
    """zeros / ones / full."""
    target = dtypes.as_dtype(dtype) if dtype is not None else default or dtypes.scalar_dtype(value)
    return runtime.leaf(np.full(_shape(size), value, dtype=target.numpy), requires_grad)


def eye(runtime: Runtime, n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    target = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
    return runtime.leaf(np.eye(n, n if m is None else m, dtype=target.numpy), requires_grad)


def arange(runtime: Runtime, start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """torch.arange: int64 when every bound is an integer, else the default float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    integral = all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in (start, end, step))
    target = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_INT if integral else dtypes.DEFAULT_FLOAT
    count = max(0, math.ceil((end - start) / step))
    # Computed in float64 (or int64) and then cast, as torch does.
    values = start + np.arange(count, dtype=np.int64 if integral else np.float64) * step
    return runtime.leaf(values.astype(target.numpy), requires_grad)


def randn(runtime: Runtime, size: Sequence[Any], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    target = dtypes.as_dtype(dtype) if dtype is not None else dtypes.DEFAULT_FLOAT
    if not target.is_floating_point:
        raise RuntimeError(f'"normal_kernel_cpu" not implemented for \'{target.name.capitalize()}\'')
    array = runtime.random.standard_normal(_shape(size)).astype(target.numpy)
    return runtime.leaf(array, requires_grad)
