"""torch's rules for the arguments of factories and conversions, which are not ops: shapes (`zeros(2, 3)`,
`zeros((2, 3))`, `size=`), the `dtype=` keyword, nested lists, linspace's values, `to(...)` and Python number
conversions.

The engine's factories and Tensor, and the SDK's, parse their arguments with these, so a mistake raises
the same error at the same statement in both (the SDK before anything is sent).
"""

from __future__ import annotations

import warnings

import operator
from typing import Any, Callable

import numpy as np

from . import dtypes
from .errors import ArgumentError, DTypeError, InvalidArgumentRuntimeError, InvalidValueError


def shape_of(sizes: tuple, size: Any = None) -> tuple[int, ...]:
    """zeros(2, 3), zeros((2, 3)), zeros([2, 3]) and zeros(size=(2, 3)) all mean shape (2, 3)."""
    if size is not None:
        if sizes:
            raise InvalidValueError("give the shape either positionally or as size=, not both")
        sizes = (size,)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    shape = tuple(size_of(n) for n in sizes)
    if any(n < 0 for n in shape):
        raise InvalidArgumentRuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    return shape


def size_of(n: Any) -> int:
    """One entry of a shape: an integer (a 0-d integer tensor too); a string or a float is torch's TypeError."""
    try:
        if isinstance(n, bool):
            raise TypeError
        return operator.index(n)
    except TypeError:
        raise ArgumentError(
            f"argument 'size' must be tuple of ints, but found element of type {type(n).__name__}") from None


def dtype_argument(dtype: Any, default: Any) -> Any:
    """torch's dtype keyword takes a torch dtype only: a name or a numpy type is torch's TypeError."""
    if dtype is None:
        return default
    if not isinstance(dtype, dtypes.DType):
        raise DTypeError(f"argument 'dtype' must be torch.dtype, not {type(dtype).__name__} "
                         "(numpy's dtypes and names are not torch's: use torch.float32)")
    return dtype


def nested_array(data: Any, numpy_dtype: np.dtype | None = None) -> np.ndarray:
    """The array of nested lists; ragged lists are torch's ValueError naming the first dim that differs."""
    try:
        return np.array(data, dtype=numpy_dtype)
    except ValueError:
        if not isinstance(data, (list, tuple)):
            raise
    level, dim = [data], 0
    while all(isinstance(item, (list, tuple)) for item in level):
        lengths = [len(item) for item in level]
        if len(set(lengths)) > 1:
            other = next(n for n in lengths if n != lengths[0])
            raise InvalidValueError(f"expected sequence of length {lengths[0]} at dim {dim} (got {other}); "
                                    "nested lists must be rectangular")
        level, dim = [inner for item in level for inner in item], dim + 1
    raise ArgumentError(f"not a sequence: the lists at dim {dim} mix numbers and lists")


def cast_target(args: tuple, kwargs: dict, *, is_tensor: Callable[[Any], bool], dtype_of: Callable[[Any], Any],
                is_device: Callable[[Any], bool] = lambda value: False) -> Any:
    """The dtype `to(...)` casts to (None: no cast): to(dtype), to(device), to(device, dtype), to(tensor),
    to(dtype=..., device=...). As in torch a string is a device (to("float64") is not a cast) and numpy's
    dtypes are not torch's (TypeError). Devices are checked by the caller."""
    target = kwargs.get("dtype")
    if not isinstance(target, (dtypes.DType, type(None))):
        raise ArgumentError(f"to(): argument 'dtype' must be torch.dtype, not {type(target).__name__}")
    for arg in args:
        if isinstance(arg, str) and arg.partition(":")[0] != "cpu":
            raise InvalidArgumentRuntimeError(f"Invalid device string: {arg!r} (to() reads a string as a device; "
                                              "to cast, pass a torch dtype such as torch.float64)")
        if isinstance(arg, str) or is_device(arg):
            continue
        if is_tensor(arg):
            target = dtype_of(arg)
        elif isinstance(arg, dtypes.DType):
            target = arg
        elif arg is not None and not isinstance(arg, bool):  # bools: non_blocking, copy
            raise ArgumentError(f"to() takes a torch dtype, a device or a tensor, not {type(arg).__name__} "
                                "(numpy's dtypes are not torch's: use torch.float64, not np.float64)")
    return target


def linspace_values(start: float, end: float, steps: int) -> np.ndarray:
    """torch's linspace (float64): the first half counts up from start, the second half down from end."""
    if steps < 0:
        raise InvalidArgumentRuntimeError("number of steps must be non-negative")
    if steps == 1:
        return np.array([start], dtype=np.float64)
    step = (end - start) / (steps - 1)
    index = np.arange(steps, dtype=np.float64)
    return np.where(index < steps // 2, start + step * index, end - step * (steps - 1 - index))


def check_python_number(numel: int) -> None:
    """float(t), int(t): one element only (torch's ValueError; item() says RuntimeError)."""
    if numel != 1:
        raise InvalidValueError("only one element tensors can be converted to Python scalars")


def check_item(numel: int) -> None:
    """t.item(): one element only."""
    if numel != 1:
        raise InvalidArgumentRuntimeError(f"a Tensor with {numel} elements cannot be converted to Scalar")


# Functions torch lets omit `dim`, picking it by the legacy rule with a warning (torch.nn.functional).
IMPLICIT_DIM_FUNCTIONS = frozenset({"nn.functional.softmax", "nn.functional.log_softmax", "nn.functional.softmin"})


def fill_implicit_dim(spelling: str, operands: list, attrs: dict) -> None:
    """F.softmax(x) without `dim` (or with dim=None): torch's legacy choice, 0 for a 0-D, 1-D or 3-D input
    and 1 otherwise, with torch's UserWarning. Drops torch's `_stacklevel` keyword too."""
    if spelling not in IMPLICIT_DIM_FUNCTIONS:
        return
    attrs.pop("_stacklevel", None)
    if attrs.get("dim") is not None or not operands or not hasattr(operands[0], "shape"):
        return
    name = spelling.rpartition(".")[2]
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=3)
    attrs["dim"] = 0 if len(operands[0].shape) in (0, 1, 3) else 1


# Ops whose `dtype=` casts the input before the op runs (torch records the cast as its own ToCopyBackward0):
# Python calls cast first and send the op without it.
CAST_FIRST = frozenset({"softmax", "log_softmax", "softmin"})
CAST_FIRST_DTYPE = "dtype"


def take_cast_first(op_name: str, attrs: dict) -> Any:
    """The dtype `softmax(x, dim, dtype=...)` asks for (removed from attrs), or None."""
    return attrs.pop(CAST_FIRST_DTYPE, None) if op_name in CAST_FIRST else None


def check_no_cast_first(op_name: str, attrs: dict) -> None:
    """A graph node of a CAST_FIRST op holds no dtype: the cast is a node of its own."""
    if attrs.get(CAST_FIRST_DTYPE) is not None:
        raise InvalidArgumentRuntimeError(f"{op_name}(): dtype= is a cast of the input before {op_name}; send the "
                                          "cast as its own node (Python calls do this)")


# Ops taking torch's `alpha=` (a + alpha * b): Python calls scale the second operand first and send the op
# without it (torch records one AddBackward0; here a MulBackward0 feeds it).
ALPHA_OPS = frozenset({"add", "sub", "add_", "sub_"})


def take_alpha(op_name: str, operand_dtypes: list, attrs: dict) -> Any:
    """The `alpha` of add/sub (removed from attrs), or None when it is absent or 1; torch's error for a
    float alpha with integral tensors. operand_dtypes: the tensors' dtypes (None for numbers)."""
    if op_name not in ALPHA_OPS or "alpha" not in attrs:
        return None
    alpha = attrs.pop("alpha")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise ArgumentError(f"{op_name}(): argument 'alpha' must be a number, not {type(alpha).__name__}")
    tensors = [d for d in operand_dtypes if d is not None]
    if tensors and all(not d.is_floating_point for d in tensors) and isinstance(alpha, (float, np.floating)):
        raise InvalidArgumentRuntimeError("For integral input tensors, argument alpha must not be a floating point "
                                          "number.")
    return None if alpha == 1 else alpha
