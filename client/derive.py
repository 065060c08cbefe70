"""A lazy tensor's metadata from the shared op rules (gradwire.rules), before anything is sent.

For an op the SDK holds the rules of (the catalogue's `rules_id` names an entry of this copy of
gradwire.rules), `results` gives each output's shape, dtype, requires_grad, is_leaf and grad_fn name
(gradwire.rules.results.infer), and a call the rules refuse raises torch's error right there, at the
statement, before any RPC. What depends on tensor values (a boolean mask's count, a grad_fn name only
running can tell) stays unknown, as does everything for an op without local rules: the next flush
fills it in from the server.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from gradwire.rules import autograd_checks
from gradwire.rules import dtypes as rule_dtypes
from gradwire.rules.attrs import normalise_attrs
from gradwire.rules.errors import GradwireError
from gradwire.rules.results import CallInfo, infer

from .errors import torch_error
from .meta import Meta

Operand = Any  # a Meta (a tensor's), a Python scalar, or None (an absent optional operand)


class ValueDependent(Exception):
    """An attribute holds a tensor whose values decide the result and are not known here."""


def results(rules: Any, operands: Sequence[Operand], attrs: dict, grad_enabled: bool, outputs: int) -> list[Meta]:
    """The metadata of each of the call's `outputs`; raises the rules' error (torch's class) for a call
    torch refuses."""
    unknown = [Meta() for _ in range(outputs)]
    tensors = [m for m in operands if isinstance(m, Meta)]
    if rules is None or any(m.shape is None or m.dtype is None for m in tensors):
        return unknown
    return _guarded(lambda: _results(rules, operands, attrs, grad_enabled, tensors), unknown)


def _results(rules: Any, operands: Sequence[Operand], attrs: dict, grad_enabled: bool,
             tensors: list[Meta]) -> list[Meta]:
    outputs = infer(rules, operands, attrs, grad_enabled=grad_enabled, is_tensor=_is_meta)
    if any(m.requires_grad is None for m in tensors):
        return [Meta(out.shape, out.dtype) for out in outputs]
    return [Meta(out.shape, out.dtype, out.requires_grad, not out.requires_grad, out.grad_fn) for out in outputs]


def inplace(rules: Any, target: Meta, operands: Sequence[Operand], attrs: dict, grad_enabled: bool,
            view_of_leaf: bool) -> Meta:
    """The target's metadata after an in-place op; raises torch's error for a write torch refuses."""
    kept = Meta(target.shape, target.dtype)  # an in-place op keeps the target's shape and dtype
    if rules is None or target.shape is None or target.dtype is None:
        return kept
    return _guarded(lambda: _inplace(rules, target, operands, attrs, grad_enabled, view_of_leaf), kept)


def _inplace(rules: Any, target: Meta, operands: Sequence[Operand], attrs: dict, grad_enabled: bool,
             view_of_leaf: bool) -> Meta:
    if rules.name == "requires_grad_":
        flag = bool(normalise_attrs(rules, attrs)["requires_grad"])
        autograd_checks.check_requires_grad(flag, is_leaf=bool(target.is_leaf), dtype=target.dtype)
        return replace(target, requires_grad=flag)
    tensors = [m for m in operands if isinstance(m, Meta)]
    if any(m.requires_grad is None or m.shape is None or m.dtype is None for m in tensors) or target.is_leaf is None:
        return Meta(target.shape, target.dtype)
    autograd_checks.check_target(rules.name, requires_grad=target.requires_grad, is_leaf=target.is_leaf,
                                 view_of_leaf=view_of_leaf, grad_enabled=grad_enabled)
    if rules.dtype_rule is not None:  # a derived variant (add_): its base op's result, checked to fit
        result = infer(rules, operands, attrs, grad_enabled=grad_enabled, is_tensor=_is_meta)[0]
        if result.requires_grad:
            return replace(target, requires_grad=True, is_leaf=False, grad_fn=result.grad_fn)
    else:  # setitem, zero_, fill_ ...: grad flows from the target and the written value
        flows = grad_enabled and any(m.requires_grad for m in tensors)
        if flows and target.dtype.is_floating_point:
            attrs = normalise_attrs(rules, attrs)
            call = CallInfo(attrs, tuple(not isinstance(m, Meta) for m in operands),
                            tuple(tuple(m.shape) if isinstance(m, Meta) else () for m in operands),
                            tuple(m.dtype if isinstance(m, Meta) else None for m in operands),
                            tuple(isinstance(m, Meta) and bool(m.requires_grad) for m in operands))
            return replace(target, requires_grad=True, is_leaf=False, grad_fn=rules.grad_fn_name(call) or None)
    if grad_enabled and target.requires_grad:
        return replace(target, grad_fn=None)  # overwritten without a gradient: the server names the result
    return target


def pieces(rules: Any, shapes: list, attrs: dict) -> int:
    """How many outputs (each its own node) a call of an op like split has; its mistakes raise here."""
    try:
        return rules.pieces(shapes, normalise_attrs(rules, attrs))
    except GradwireError as error:
        raise torch_error(error) from None


def check_new_leaf(requires_grad: bool, dtype: Any) -> None:
    """torch.tensor(..., requires_grad=True) takes floating dtypes only."""
    if requires_grad:
        _guarded(lambda: autograd_checks.check_requires_grad(True, is_leaf=True, dtype=dtype), None)


def index_arrays(index: tuple, arrays: Sequence[np.ndarray | None], metas: Sequence[Meta | None]) -> tuple[tuple, bool]:
    """An index with each tensor in it replaced by an array the rules can read, and whether the result's
    shape follows from it: a tensor's data when known here, else an array of its shape (for a boolean
    mask all True: its count, which decides the result's shape, is the server's to tell)."""
    items, exact = [], True
    for item, array, meta in zip(index, arrays, metas):
        if meta is None:
            items.append(item)
        elif array is not None:
            items.append(array)
        elif meta.shape is None or meta.dtype is None:
            raise ValueDependent
        elif meta.dtype is rule_dtypes.bool_:
            items.append(np.ones(meta.shape, dtype=np.bool_))
            exact = False
        else:
            items.append(np.zeros(meta.shape, dtype=np.int64))
    return tuple(items), exact


def check_roots(roots: Sequence[Meta], seed_shapes: Sequence[tuple | None], batched: bool = False) -> None:
    """backward / autograd.grad roots whose metadata is known: torch's errors for a root that does not
    require grad, a non-scalar root without a gradient, a gradient of another shape."""
    for position, (meta, seed_shape) in enumerate(zip(roots, seed_shapes)):
        if meta.shape is None or meta.requires_grad is None:
            continue  # the server tells
        _guarded(lambda: autograd_checks.check_backward_root(
            position, shape=tuple(meta.shape), requires_grad=bool(meta.requires_grad),
            gradient_shape=seed_shape, batched=batched), None)


def check_grad_assignment(target: Meta, new: Meta) -> None:
    """x.grad = g with g of another shape or dtype (when both are known here)."""
    if None in (target.shape, target.dtype, new.shape, new.dtype):
        return
    _guarded(lambda: autograd_checks.check_grad_assignment(
        shape=tuple(target.shape), dtype=target.dtype, grad_shape=tuple(new.shape), grad_dtype=new.dtype), None)


def _is_meta(value: Any) -> bool:
    return isinstance(value, Meta)


def _guarded(derive: Callable[[], Any], unknown: Any) -> Any:
    """A rule's error for the call (torch's class: a GradwireError) is raised at the statement; anything
    else (a form of argument a rule does not read) leaves the metadata to the server, which decides."""
    try:
        return derive()
    except GradwireError as error:
        raise torch_error(error) from None
    except Exception:  # noqa: BLE001 - see the docstring
        return unknown
