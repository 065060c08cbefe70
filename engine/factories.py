"""Tensor factories shaped like torch's: tensor, zeros, ones, full, empty, eye, arange, linspace, logspace,
the *_like forms and from_numpy (random factories: random_factories.py).

Every factory takes torch's keywords (dtype, device, requires_grad); the only device is "cpu".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradwire.rules import arguments, dtypes
from gradwire.rules.errors import InvalidArgumentRuntimeError, InvalidValueError

from . import modes
from .device import check_device
from .tensor import Tensor

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind every random factory, for reproducible programs."""
    global _generator
    _generator = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The generator random factories (and random ops) draw from."""
    return _generator


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    tensor = Tensor._from_array(array)
    if requires_grad:
        tensor.requires_grad_(True)
    tracer = modes._state.tracer
    if tracer is not None:  # a function being compiled makes a constant (compiled.py)
        tracer.made_tensor(tensor)
    return tensor


_shape = arguments.shape_of
_dtype = arguments.dtype_argument


def _numpy_dtype(dtype: Any, default: dtypes.DType) -> np.dtype:
    return _dtype(dtype, default).numpy


def _charge(shape: tuple, numpy_dtype: np.dtype, what: str) -> None:
    modes.charge(int(np.prod(shape, dtype=np.int64)) * numpy_dtype.itemsize, what)


def _element_dtype(value: Any) -> dtypes.DType:
    """torch.tensor's dtype for one element: numpy scalars keep theirs, Python numbers get the defaults."""
    if isinstance(value, (np.generic, np.ndarray)):
        return dtypes.from_numpy(value.dtype)
    if isinstance(value, Tensor):
        return value.dtype
    return dtypes.python_scalar_dtype(value)


def _inferred_dtype(data: Any, array: np.ndarray) -> dtypes.DType:
    """torch.tensor's inference from Python data: floats -> the default float, ints -> int64, bools -> bool;
    numpy scalars inside the data keep their dtype (tensor([np.float64(0.1)]) is float64)."""
    if array.dtype.kind not in "biuf":
        raise InvalidValueError(f"could not infer a tensor dtype from data of type {array.dtype}")
    if array.dtype != np.float64 or not isinstance(data, (list, tuple)):
        return dtypes.python_scalar_dtype(array.flat[0].item()) if array.size else dtypes.DEFAULT_FLOAT
    if data and all(type(x) is float for x in data):  # a flat list of Python floats: the set below is one dtype
        return _element_dtype(data[0])
    flat = np.asarray(data, dtype=object).ravel()
    if not flat.size:
        return dtypes.DEFAULT_FLOAT
    return dtypes.promote(*{_element_dtype(x) for x in flat})


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new leaf holding a copy of `data` (nested lists, numbers, numpy arrays or scalars, or Tensors)."""
    check_device(device)
    if isinstance(data, Tensor):
        array = np.array(data._data, copy=True)
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data, copy=True)
        dtypes.from_numpy(array.dtype)  # refuses dtypes torch has no tensor type for
    elif dtype is not None:
        # Straight to the requested dtype: going through float32 first would lose float64 precision.
        array = arguments.nested_array(data, _numpy_dtype(dtype, dtypes.DEFAULT_FLOAT))
    else:
        array = arguments.nested_array(data)
        array = array.astype(_inferred_dtype(data, array).numpy, copy=False)
    if dtype is not None:
        array = array.astype(_numpy_dtype(dtype, dtypes.DEFAULT_FLOAT), copy=False)
    modes.charge(array.nbytes, "creating a tensor")
    made = _make(array, requires_grad)
    if isinstance(data, Tensor) and modes._state.tracer is not None:
        modes._state.tracer.unusable_tensor(made, "torch.tensor() of a tensor")
    return made


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (changes to either show in both)."""
    if not isinstance(array, np.ndarray):
        raise InvalidValueError(f"expected np.ndarray (got {type(array).__name__})")
    tensor = Tensor._from_array(array)
    tracer = modes._state.tracer
    if tracer is not None:
        tracer.unusable_tensor(tensor, "from_numpy()")
    return tensor


def _filled(shape: tuple, value: Any, dtype: Any, requires_grad: bool, default: dtypes.DType,
            device: Any = None) -> Tensor:
    check_device(device)
    numpy_dtype = _numpy_dtype(dtype, default)
    if modes._state.budget_left is not None:  # (modes.charge does nothing without a memory budget)
        _charge(shape, numpy_dtype, f"a tensor of shape {list(shape)}")
    # np.zeros is np.full(shape, 0) without its Python steps (the same +0 in every dtype)
    array = np.zeros(shape, dtype=numpy_dtype) if type(value) is int and value == 0 else np.full(shape, value, dtype=numpy_dtype)
    return _make(array, requires_grad)


def zeros(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(_shape(sizes, size), 0, dtype, requires_grad, dtypes.DEFAULT_FLOAT, device)


def ones(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(_shape(sizes, size), 1, dtype, requires_grad, dtypes.DEFAULT_FLOAT, device)


def empty(*sizes: Any, size: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """torch.empty: uninitialised memory in torch; zeros here (any values are allowed)."""
    return _filled(_shape(sizes, size), 0, dtype, requires_grad, dtypes.DEFAULT_FLOAT, device)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    default = dtypes.python_scalar_dtype(fill_value)
    return _filled(_shape((size,)), fill_value, dtype, requires_grad, default, device)


def zeros_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _filled(input.shape, 0, dtype, requires_grad, input.dtype, device)


def ones_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _filled(input.shape, 1, dtype, requires_grad, input.dtype, device)


def empty_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _filled(input.shape, 0, dtype, requires_grad, input.dtype, device)


def full_like(input: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    return _filled(input.shape, fill_value, dtype, requires_grad, input.dtype, device)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    columns = n if m is None else m
    numpy_dtype = _numpy_dtype(dtype, dtypes.DEFAULT_FLOAT)
    modes.charge(n * columns * numpy_dtype.itemsize, f"eye({n}, {columns})")
    return _make(np.eye(n, columns, dtype=numpy_dtype), requires_grad)


def _number(value: Any) -> Any:
    return value.item() if isinstance(value, Tensor) else value


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """torch.arange: int64 when start, end and step are all integers, else the default float; the values
    are start + i * step computed in float64 (int64) and then cast, as torch does."""
    check_device(device)
    start, end, step = _number(start), _number(end), _number(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise InvalidArgumentRuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise InvalidArgumentRuntimeError("upper bound and larger bound inconsistent with step sign")
    integral = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
    numpy_dtype = _numpy_dtype(dtype, dtypes.DEFAULT_INT if integral else dtypes.DEFAULT_FLOAT)
    count = max(int(np.ceil((end - start) / step)), 0)
    modes.charge(count * numpy_dtype.itemsize, f"arange of {count} elements")
    values = start + np.arange(count, dtype=np.int64 if integral else np.float64) * step
    return _make(values.astype(numpy_dtype), requires_grad)


def linspace(start: Any, end: Any, steps: int, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    check_device(device)
    numpy_dtype = _numpy_dtype(dtype, dtypes.DEFAULT_FLOAT)
    modes.charge(int(steps) * numpy_dtype.itemsize, f"linspace of {steps} elements")
    values = arguments.linspace_values(float(_number(start)), float(_number(end)), int(steps))
    if numpy_dtype.kind in "iu":
        values = np.trunc(values)
    return _make(values.astype(numpy_dtype), requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    check_device(device)
    numpy_dtype = _numpy_dtype(dtype, dtypes.DEFAULT_FLOAT)
    modes.charge(int(steps) * numpy_dtype.itemsize, f"logspace of {steps} elements")
    exponents = arguments.linspace_values(float(_number(start)), float(_number(end)), int(steps))
    return _make(np.power(float(base), exponents).astype(numpy_dtype), requires_grad)
