"""Composite nn ops: one registry entry (one node, torch's grad_fn name) whose maths is a function
written once against F, the math namespace of VJPs.

The forward runs the function on arrays. A VJP runs it again on Tensors (recorded) and differentiates
that small graph with the engine's own autograd: on fresh leaves for a plain backward, on the saved
inputs themselves under create_graph=True, so the gradient is itself differentiable. This suits the
small ops torch also builds from other ops (normalize, cosine_similarity, pairwise_distance, the
embedding and margin losses, local_response_norm); the heavy ones have hand-written VJPs.
"""

from __future__ import annotations

from typing import Any, Callable

from gradwire.rules import rules_of

from .. import modes
from ..registry import OpDef, implement
from ..vjp_math import ARRAY_MATH, TENSOR_MATH


def _vjp(function: Callable[..., Any], position: int):
    def vjp(F, g, c):
        from ..autograd import grad
        from ..tensor import Tensor

        if F.as_tensors:
            inputs = list(c.inputs)
        else:
            inputs = [Tensor._from_array(v).requires_grad_(i == position) if hasattr(v, "shape") else v
                      for i, v in enumerate(c.inputs)]
        with modes.enable_grad():
            output = function(TENSOR_MATH, *inputs, **c.attrs)
            seed = g if F.as_tensors else Tensor._from_array(g)
            (result,) = grad([output], [inputs[position]], [seed], create_graph=F.as_tensors, allow_unused=True)
        if result is None:
            return F.zeros(c.input_shapes[position], like=g)
        return result if F.as_tensors else result._data

    return vjp


def composite(name: str, function: Callable[..., Any], *, differentiable: tuple) -> OpDef:
    """Implements op `name` (rules: gradwire.rules.ops.nn_misc) as function(F, *operands, **attrs);
    differentiable: input positions."""
    inputs = rules_of(name).max_inputs
    return implement(
        name, lambda arrays, attrs: function(ARRAY_MATH, *arrays, **attrs),
        vjps=tuple(_vjp(function, i) if i in differentiable else None for i in range(inputs)), saves_all_inputs=True,
    )
