"""Checks shared by the op families' rules: torch's errors for operands that do not broadcast, and for
Python numbers where an op takes only Tensors (`exp(2)`, `cat([1.5])`), before numpy sees them."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .errors import ArgumentError, NotImplementedForDTypeError
from .shapes import raise_not_broadcastable


def check_broadcast(shapes: list) -> None:
    """torch's error (a RuntimeError naming the dim) for operand shapes that do not broadcast."""
    raise_not_broadcastable(shapes)


def check_tensors(name: str, operand_dtypes: list, operands: list, positions=None) -> None:
    """ArgumentError (TypeError, as torch) when an operand at `positions` (default: all) is a number."""
    for position, dtype in enumerate(operand_dtypes):
        if dtype is None and (positions is None or position in positions):
            raise ArgumentError(
                f"{name}(): argument {position} must be a Tensor, not {type(operands[position]).__name__}; "
                "wrap numbers with tensor(...)"
            )


def tensors_only(name: str, rule, positions=(0,)):
    """`rule` (a dtype rule) after checking that the operands at `positions` are Tensors (None: all)."""

    def checked(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        check_tensors(name, operand_dtypes, operands, positions)
        return rule(operand_dtypes, operands, attrs)

    return checked


def is_tensor(value: Any) -> bool:
    """Is `value` a tensor (the engine's or the SDK's lazy one) rather than a Python or numpy number?"""
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, (np.generic, np.ndarray))


def floating_kernel(kernel: str):
    """The dtype rule of an op torch has only floating kernels for (softmax, log_softmax, softmin): an
    integer or bool input is torch's NotImplementedError naming the kernel, not a promotion."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        dtype = operand_dtypes[0]
        if not dtype.is_floating_point:
            raise NotImplementedForDTypeError(f'"{kernel}" not implemented for '
                                              f"'{dtypes.TORCH_NAMES[dtype]}'; convert the input with .float() first")
        return None, dtype

    return rule
