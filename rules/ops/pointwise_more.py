"""Rules of more elementwise ops real code uses: addcmul / addcdiv (and their in-place variants, which
optimizers use), fmax / fmin, logit, sinc, logaddexp2 and heaviside (see rules/spec.py; the engine's
computations are in engine/ops/pointwise_more.py)."""

from __future__ import annotations

from gradwire.rules import promotion

from ..checks import tensors_only
from ..errors import DTypeRuntimeError
from ..spec import AttrSpec
from .elementwise import binary, unary

VALUE = AttrSpec("value", "real", default=1, description="the scale of the product (or quotient) added to input")


def _addcdiv_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if all(dtype is not None and not dtype.is_floating_point for dtype in operand_dtypes[1:]):
        raise DTypeRuntimeError("Integer division with addcdiv is no longer supported, and in a future release "
                                "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
                                "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
                                ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
                                "float inputs. The future addcdiv behavior is just the latter implementation: "
                                "(input + value * tensor1 / tensor2), for all dtypes.")
    return promotion.promote(operand_dtypes, operands, attrs)


binary("addcmul", "AddcmulBackward0", arity=3, attrs=(VALUE,),
       rule=tensors_only("addcmul", promotion.promote, positions=None),
       summary="input + value * tensor1 * tensor2 (broadcasting)")
binary("addcdiv", "AddcdivBackward0", arity=3, attrs=(VALUE,),
       rule=tensors_only("addcdiv", _addcdiv_rule, positions=None),
       summary="input + value * tensor1 / tensor2 (broadcasting)")

binary("fmax", "FmaxBackward0", rule=tensors_only("fmax", promotion.promote, positions=None),
       summary="elementwise max that ignores nan (nan only where both are nan); ties give the gradient to input")
binary("fmin", "FminBackward0", rule=tensors_only("fmin", promotion.promote, positions=None),
       summary="elementwise min that ignores nan (nan only where both are nan); ties give the gradient to input")
binary("logaddexp2", "Logaddexp2Backward0",
       rule=tensors_only("logaddexp2", promotion.promote_to_float, positions=None),
       summary="log2(2**a + 2**b) without overflow")


def _heaviside_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[0] is not operand_dtypes[1]:
        raise DTypeRuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    return promotion.promote(operand_dtypes, operands, attrs)


binary("heaviside", "torch::autograd::NotImplemented", rule=tensors_only("heaviside", _heaviside_rule, positions=None),
       summary="0 where input < 0, values where input == 0, 1 where input > 0; torch has no derivative for it")

unary("logit", "LogitBackward0", special=("logit",),
      attrs=(AttrSpec("eps", "real|none", description="clamp the input to [eps, 1 - eps] first (None: no clamp)"),),
      summary="log(x / (1 - x)); with eps the input is clamped to [eps, 1 - eps] (and the gradient is 0 outside)")
unary("sinc", "SincBackward0", special=("sinc",), summary="sin(pi x) / (pi x), 1 at 0")
