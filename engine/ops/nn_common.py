"""Helpers shared by the torch.nn.functional families: dtype rules, optional operands, loss reductions."""

from __future__ import annotations

import numpy as np

from gradwire.rules import dtypes
from gradwire.rules.errors import ArgumentError, DTypeRuntimeError, InvalidArgumentRuntimeError, InvalidValueError
from ..registry import OPTIONAL_OPERAND, AttrSpec

REDUCTION = AttrSpec("reduction", "text", default="mean")
REDUCTIONS = ("none", "mean", "sum")


def optional(name: str) -> AttrSpec:
    """An optional tensor operand (bias=None, weight=None), placed where torch's signature has it."""
    return AttrSpec(name, OPTIONAL_OPERAND)


def same_float(name: str, float_positions=None, int_positions=()):
    """dtype rule: the tensors at float_positions (None: all) share one floating dtype, as torch's
    kernels require (no promotion); the ones at int_positions are integer (class indices)."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        positions = range(len(operand_dtypes)) if float_positions is None else float_positions
        present = [(p, operand_dtypes[p]) for p in positions
                   if p < len(operand_dtypes) and operands[p] is not None]
        for position, dtype in present:
            if dtype is None:
                raise ArgumentError(f"{name}(): argument {position} must be a Tensor, not "
                                    f"{type(operands[position]).__name__}")
        first = present[0][1]
        if not first.is_floating_point:
            raise DTypeRuntimeError(f"{name}(): expected a floating point input, got {first.name}; "
                                    "convert it with .float()")
        for position, dtype in present[1:]:
            if dtype is not first:
                raise DTypeRuntimeError(
                    f"{name}(): expected all tensors to have the same dtype, but argument {position} is "
                    f"{dtype.name} and the input is {first.name}; convert one with .to()")
        for position in int_positions:
            if position < len(operands) and operands[position] is not None:
                dtype = operand_dtypes[position]
                if dtype is None or dtype.is_floating_point or dtype is dtypes.bool_:
                    found = "a number" if dtype is None else dtype.name
                    raise DTypeRuntimeError(f"{name}(): expected an integer (int64) tensor of indices for "
                                            f"argument {position}, got {found}")
        return None, first

    return rule


def compute(array: np.ndarray) -> np.ndarray:
    """float16 is computed in float32 (as torch's CPU kernels accumulate), cast back on the way out."""
    return array.astype(np.float32) if array.dtype == np.float16 else array


def check_reduction(name: str, reduction: str, allowed=REDUCTIONS) -> None:
    if reduction not in allowed:
        raise InvalidValueError(f"{name}(): {reduction!r} is not a valid value for reduction; use one of "
                            f"{', '.join(repr(r) for r in allowed)}")


def reduce_loss(values: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return values
    if reduction == "sum":
        return np.sum(values)
    return np.mean(values) if values.size else np.array(np.nan, dtype=values.dtype)


def expand_loss_grad(F, g, shape: tuple, reduction: str, count: int | None = None):
    """The gradient of a reduced loss spread over the elementwise losses (shape `shape`)."""
    if reduction == "none":
        return g
    if reduction == "mean":
        g = g / (count if count is not None else max(int(np.prod(shape, dtype=np.int64)), 1))
    return F.expand(g, shape=shape)


def loss_grad_fn(elementwise: str):
    """grad_fn of a loss torch builds from several ops: the reduction's, else the last elementwise op's."""
    return lambda node: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(node.attrs["reduction"], elementwise)


def positive_int(name: str, what: str, value: int) -> None:
    if value <= 0:
        raise InvalidArgumentRuntimeError(f"{name}(): {what} must be positive, got {value}")
