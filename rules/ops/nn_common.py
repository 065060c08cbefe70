"""Rules shared by the torch.nn.functional families: dtype rules, optional operands, loss reductions,
and the shape checks many of them make (a sliding window's output size, batched or unbatched input)."""

from __future__ import annotations

from gradwire.rules import dtypes
from gradwire.rules.errors import (
    ArgumentError, DTypeRuntimeError, InvalidArgumentRuntimeError, InvalidValueError, NotImplementedForDTypeError,
    ShapeError,
)
from gradwire.rules.spec import OPTIONAL_OPERAND, AttrSpec

REDUCTION = AttrSpec("reduction", "text", default="mean")
REDUCTIONS = ("none", "mean", "sum")


def optional(name: str) -> AttrSpec:
    """An optional tensor operand (bias=None, weight=None), placed where torch's signature has it."""
    return AttrSpec(name, OPTIONAL_OPERAND)


def same_float(name: str, float_positions=None, int_positions=(), integral=DTypeRuntimeError):
    """dtype rule: the tensors at float_positions (None: all) share one floating dtype, as torch's
    kernels require (no promotion); the ones at int_positions are integer (class indices). `integral`:
    the error for an integral input (NotImplementedForDTypeError where torch has no such kernel)."""

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
            raise integral(f"{name}(): expected a floating point input, got {first.name} (not implemented for "
                           f"'{first.name}'); convert it with .float()")
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


def float_kernel(name: str, **options):
    """same_float for ops torch has no integral kernel for: an integral input is NotImplementedError."""
    return same_float(name, integral=NotImplementedForDTypeError, **options)


def same_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """dtype rule of ops that move values around without arithmetic (pixel_shuffle): any dtype, kept."""
    return None, operand_dtypes[0]


def check_reduction(name: str, reduction: str, allowed=REDUCTIONS) -> None:
    if reduction not in allowed:
        raise InvalidValueError(f"{name}(): {reduction!r} is not a valid value for reduction; use one of "
                                f"{', '.join(repr(r) for r in allowed)}")


def loss_grad_fn(elementwise: str):
    """grad_fn of a loss torch builds from several ops: the reduction's, else the last elementwise op's."""
    return lambda call: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(call.attrs["reduction"], elementwise)


def window_out_size(size: int, kernel: int, stride: int, lo: int, hi: int, dilation: int) -> int:
    """A sliding window's output size (every convolution, pooling and fold/unfold goes through here)."""
    if stride <= 0 or dilation <= 0:
        raise InvalidArgumentRuntimeError(f"stride and dilation should be greater than zero, got stride={stride}, "
                                          f"dilation={dilation}")
    return (size + lo + hi - dilation * (kernel - 1) - 1) // stride + 1


def batched_input(name: str, shape: tuple, d: int) -> bool:
    """True for an unbatched input (C, *S) of an op with d spatial dims; torch's error for a wrong rank."""
    if len(shape) not in (d + 1, d + 2):
        raise ShapeError(f"{name}(): Expected {d + 1}D (unbatched) or {d + 2}D (batched) input, "
                         f"but got input of size: {list(shape)}")
    return len(shape) == d + 1
