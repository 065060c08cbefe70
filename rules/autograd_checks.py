"""torch's autograd checks on a tensor's metadata: who may be written in place, and who may change
requires_grad (a result's fit into its target is rules.inplace.check_result_fits).

The SDK runs them on a lazy tensor's metadata before sending anything, so the error is raised at the
statement that makes the mistake; the messages are the engine's (engine/ops/indexing.py
check_inplace_allowed, engine/tensor.py requires_grad_), which can call these instead.
"""

from __future__ import annotations

from typing import Any

from .errors import AutogradError, DTypeRuntimeError, InplaceError


def check_target(what: str, *, requires_grad: bool, is_leaf: bool, view_of_leaf: bool, grad_enabled: bool) -> None:
    """Under grad mode, a leaf that requires grad (or a view of one) cannot be written in place."""
    if not grad_enabled or not requires_grad:
        return
    if is_leaf:
        raise InplaceError(
            f"a leaf Variable that requires grad is being used in an in-place operation ({what}); "
            "do it under no_grad(), or on a .clone() of the tensor"
        )
    if view_of_leaf:
        raise InplaceError(
            f"a view of a leaf Variable that requires grad is being used in an in-place operation ({what}); "
            "do it under no_grad(), or on a .clone() of the tensor"
        )


def check_requires_grad(flag: bool, *, is_leaf: bool, dtype: Any) -> None:
    """requires_grad_(flag): only on a leaf, and True only on a floating tensor."""
    if not is_leaf:
        hint = (" If you want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach()." if not flag else "")
        raise AutogradError(f"you can only change requires_grad flags of leaf variables.{hint}")
    if flag and not dtype.is_floating_point:
        raise DTypeRuntimeError(
            "Only Tensors of floating point and complex dtype can require gradients "
            f"(this tensor is {dtype.name}); create it with a floating dtype, "
            "e.g. dtype=float32, or convert it with .float()"
        )
