"""Ops on a tensor's `.grad`, so that a remote program can use and reset grads inside a batch of ops
(no extra round trip): `grad` reads x.grad as a value (sharing its memory, so in-place ops on the result
change x.grad, as in torch), `zero_grad_` zeroes it or sets it to None (optimizer.zero_grad). Their
rules: gradwire.rules.ops.fills."""

from __future__ import annotations

from gradwire.rules.errors import InvalidValueError

from ..registry import implement
from ..tensor import Tensor
from ..views import bump_version, share_version
from .fills import check_rules


def _grad_forward(operands: list, attrs: dict) -> Tensor:
    check_rules("grad", operands, attrs)
    grad = operands[0]._grad
    if grad is None:
        raise InvalidValueError("grad(): the tensor's .grad is None (no backward has reached it, or it was "
                                "set to None); read it only after a backward that reaches the tensor")
    alias = Tensor._from_array(grad._data)
    share_version(alias, grad)
    return alias


def _zero_grad_forward(operands: list, attrs: dict) -> Tensor:
    check_rules("zero_grad_", operands, attrs)
    target = operands[0]
    if attrs["set_to_none"]:
        target._grad = None
    elif target._grad is not None:
        target._grad._data[...] = 0
        bump_version(target._grad)
    return target


implement("grad", forward=_grad_forward)
implement("zero_grad_", forward=_zero_grad_forward)
