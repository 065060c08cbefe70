"""Ops on a tensor's `.grad`, so that a remote program can use and reset grads inside a batch of ops
(no extra round trip): `grad` reads x.grad as a value (sharing its memory, so in-place ops on the result
change x.grad, as in torch), `zero_grad_` zeroes it or sets it to None (optimizer.zero_grad)."""

from __future__ import annotations

from gradwire.rules.errors import ArgumentError, InvalidValueError
from ..registry import AttrSpec, OpDef, register
from ..tensor import Tensor


def _target(operands: list, op_name: str) -> Tensor:
    target = operands[0]
    if not isinstance(target, Tensor):
        raise ArgumentError(f"{op_name}(): the operand must be a Tensor, not {type(target).__name__}")
    return target


def _grad_forward(operands: list, attrs: dict) -> Tensor:
    target = _target(operands, "grad")
    grad = target._grad
    if grad is None:
        raise InvalidValueError("grad(): the tensor's .grad is None (no backward has reached it, or it was "
                                "set to None); read it only after a backward that reaches the tensor")
    alias = Tensor._from_array(grad._data)
    alias._version = grad._version
    return alias


def _zero_grad_forward(operands: list, attrs: dict) -> Tensor:
    target = _target(operands, "zero_grad_")
    if attrs["set_to_none"]:
        target._grad = None
    elif target._grad is not None:
        target._grad._data[...] = 0
        target._grad._version[0] += 1
    return target


register(OpDef(
    name="grad", forward=_grad_forward, inplace=True, differentiable=False, inplace_variant=False,
    summary="x.grad as a value sharing its memory (in-place ops on it change x.grad)",
))
register(OpDef(
    name="zero_grad_", forward=_zero_grad_forward, inplace=True, differentiable=False, inplace_variant=False,
    attrs=(AttrSpec("set_to_none", "boolean", default=True),),
    summary="x.grad = None (set_to_none) or x.grad.zero_(), in place (optimizer.zero_grad)",
))
