"""torch's autograd checks on a tensor's metadata: who may be written in place, who may change
requires_grad, what backward may start from and what may be assigned to .grad (a result's fit into its
target is rules.inplace.check_result_fits).

The engine (views.py, tensor.py, autograd.py) and the SDK run the same checks; the SDK runs them on a lazy
tensor's metadata before sending anything, so the error is raised at the statement that makes the mistake.
"""

from __future__ import annotations

from typing import Any

from .errors import ArgumentError, AutogradError, DTypeRuntimeError, InplaceError


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


def check_backward_root(position: int, *, shape: tuple, requires_grad: bool, gradient_shape: tuple | None,
                        batched: bool = False) -> None:
    """A root of backward / autograd.grad: it must require grad, and without a gradient be a scalar; a
    gradient must have exactly its shape (after the batch dim when batched)."""
    if not requires_grad:
        raise AutogradError(
            f"element {position} of tensors does not require grad and does not have a grad_fn; "
            "call backward on a result computed from a tensor created with requires_grad=True"
        )
    if gradient_shape is None:
        size = 1
        for n in shape:
            size *= n
        if size != 1:
            raise AutogradError(
                f"grad can be implicitly created only for scalar outputs: output {position} has shape "
                f"{list(shape)}; pass gradient= a tensor of that shape (backward(gradient) "
                "differentiates sum(output * gradient))"
            )
        if batched:
            raise AutogradError("is_grads_batched=True needs explicit grad_outputs with a batch dimension")
        return
    actual = tuple(gradient_shape[1:]) if batched else tuple(gradient_shape)
    if actual != tuple(shape):
        what = "a batch of shape" if batched else "a shape of"
        raise AutogradError(
            f"Mismatch in shape: grad_output[{position}] has {what} {list(gradient_shape)} and "
            f"output[{position}] has a shape of {list(shape)}; the gradient must have exactly "
            "the output's shape" + (" after the batch dimension" if batched else "")
        )


def check_grad_assignment(*, shape: tuple, dtype: Any, grad_shape: tuple, grad_dtype: Any) -> None:
    """x.grad = g: g must have x's shape and dtype."""
    if tuple(grad_shape) != tuple(shape):
        raise AutogradError(f"assigned grad has data of a different size: {list(grad_shape)} vs {list(shape)}")
    if grad_dtype is not dtype:
        raise AutogradError(f"assigned grad has data of a different type: {grad_dtype.name} vs {dtype.name}")


def not_a_tensor_grad(value: Any) -> ArgumentError:
    return ArgumentError(f"assigned grad expected to be a Tensor or None but got grad of type "
                         f"{type(value).__name__}")
