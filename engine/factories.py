"""Tensor factories shaped like torch's: tensor, zeros, ones, full, eye, arange, randn, from_numpy ..."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes, modes
from .errors import InvalidValueError
from .tensor import Tensor

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind randn/rand, for reproducible programs."""
    global _generator
    _generator = np.random.default_rng(seed)


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    tensor = Tensor._from_array(array)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _shape(sizes: tuple) -> tuple[int, ...]:
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    shape = tuple(int(n) for n in sizes)
    if any(n < 0 for n in shape):
        raise InvalidValueError(f"negative dimension in shape {list(shape)}")
    return shape


def _numpy_dtype(dtype: Any, default: dtypes.DType) -> np.dtype:
    if dtype is None:
        return default.numpy
    return (dtypes.by_name(dtype) if isinstance(dtype, str) else dtype).numpy


def _default_dtype_of(array: np.ndarray) -> np.dtype:
    """torch.tensor's inference from Python data: floats -> float32, ints -> int64, bools -> bool."""
    kind = array.dtype.kind
    if kind == "f":
        return dtypes.DEFAULT_FLOAT.numpy
    if kind in "iu":
        return dtypes.DEFAULT_INT.numpy
    if kind == "b":
        return np.dtype(np.bool_)
    raise InvalidValueError(f"could not infer a tensor dtype from data of type {array.dtype}")


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf holding a copy of `data` (nested lists, numbers, numpy arrays or Tensors)."""
    if isinstance(data, Tensor):
        array = np.array(data._data, copy=True)
    elif isinstance(data, np.ndarray):
        array = np.array(data, copy=True)
    else:
        array = np.array(data)
        array = array.astype(_default_dtype_of(array), copy=False)
    if dtype is not None:
        array = array.astype(_numpy_dtype(dtype, dtypes.DEFAULT_FLOAT))
    modes.charge(array.nbytes, "creating a tensor")
    return _make(array, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (changes to either show in both)."""
    if not isinstance(array, np.ndarray):
        raise InvalidValueError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor._from_array(array)


def _filled(sizes: tuple, value: Any, dtype: Any, requires_grad: bool, default: dtypes.DType) -> Tensor:
    shape = _shape(sizes)
    numpy_dtype = _numpy_dtype(dtype, default)
    modes.charge(int(np.prod(shape, dtype=np.int64)) * numpy_dtype.itemsize, f"a tensor of shape {list(shape)}")
    return _make(np.full(shape, value, dtype=numpy_dtype), requires_grad)


def zeros(*sizes: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(sizes, 0, dtype, requires_grad, dtypes.DEFAULT_FLOAT)


def ones(*sizes: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(sizes, 1, dtype, requires_grad, dtypes.DEFAULT_FLOAT)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    default = dtypes.python_scalar_dtype(fill_value)
    return _filled((size,) if isinstance(size, int) else tuple(size), fill_value, dtype, requires_grad, default)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(other.shape, 0, dtype or other.dtype, requires_grad, other.dtype)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(other.shape, 1, dtype or other.dtype, requires_grad, other.dtype)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    columns = n if m is None else m
    numpy_dtype = _numpy_dtype(dtype, dtypes.DEFAULT_FLOAT)
    modes.charge(n * columns * numpy_dtype.itemsize, f"eye({n}, {columns})")
    return _make(np.eye(n, columns, dtype=numpy_dtype), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise InvalidValueError("arange: step must be nonzero")
    all_ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    default = dtypes.DEFAULT_INT if all_ints else dtypes.DEFAULT_FLOAT
    numpy_dtype = _numpy_dtype(dtype, default)
    count = max(int(np.ceil((end - start) / step)), 0)
    modes.charge(count * numpy_dtype.itemsize, f"arange of {count} elements")
    return _make(np.arange(start, end, step).astype(numpy_dtype), requires_grad)


def randn(*sizes: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _shape(sizes)
    numpy_dtype = _numpy_dtype(dtype, dtypes.DEFAULT_FLOAT)
    modes.charge(int(np.prod(shape, dtype=np.int64)) * numpy_dtype.itemsize, f"randn{list(shape)}")
    return _make(_generator.standard_normal(shape).astype(numpy_dtype), requires_grad)


def rand(*sizes: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    shape = _shape(sizes)
    numpy_dtype = _numpy_dtype(dtype, dtypes.DEFAULT_FLOAT)
    modes.charge(int(np.prod(shape, dtype=np.int64)) * numpy_dtype.itemsize, f"rand{list(shape)}")
    return _make(_generator.random(shape).astype(numpy_dtype), requires_grad)
