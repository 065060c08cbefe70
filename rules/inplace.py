"""Rules of the in-place variants (`x.add_(y)`, `x += y`, `x.exp_()`), derived from their base ops.

Every out-of-place op that could write its result back into its first input (one output, not a view, not
variadic, not a reduction, not opted out with `inplace_variant=False`) has a variant `<name>_`, spelled by
the in-place methods torch has (TORCH_INPLACE_METHODS) and, for binary operators, Python's augmented
assignments. The variant's result is the target: the base op's result must have the target's shape and a
dtype the target can hold (torch's two errors, `check_result_fits`).

An op with torch's `inplace` flag (nn.functional's activations and dropouts) has a variant too, spelled
by the in-place functions torch has (`F.elu_`, `torch.dropout_`) or by none: `F.elu(x, inplace=True)` runs
it (`inplace_call`), with `inplace=True` among its attributes (torch names some of those backward nodes
`...Backward1`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import dtypes
from .errors import DTypeRuntimeError, ShapeError
from .spec import RULES, OpRules, define

# Python's augmented assignments (there is no `__ieq__`: `x == y` has no in-place form).
AUGMENTED = frozenset({"__iadd__", "__isub__", "__imul__", "__imatmul__", "__itruediv__", "__ifloordiv__", "__imod__",
                       "__ipow__", "__ilshift__", "__irshift__", "__iand__", "__ixor__", "__ior__"})
# The in-place Tensor methods torch has (dir(torch.Tensor) in torch 2.13): a variant is derived only under
# one of these names, so the catalogue never claims a spelling torch lacks (maximum_, softmax_ ...).
TORCH_INPLACE_METHODS = frozenset({
    "abs_", "absolute_", "acos_", "acosh_", "add_", "addbmm_", "addcdiv_", "addcmul_", "addmm_", "addmv_",
    "addr_", "apply_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan2_", "arctan_", "arctanh_",
    "as_strided_", "asin_", "asinh_", "atan2_", "atan_", "atanh_", "baddbmm_", "bernoulli_", "bitwise_and_",
    "bitwise_left_shift_", "bitwise_not_", "bitwise_or_", "bitwise_right_shift_", "bitwise_xor_", "cauchy_",
    "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "conj_physical_", "copy_", "copysign_", "cos_",
    "cosh_", "cumprod_", "cumsum_", "deg2rad_", "detach_", "digamma_", "div_", "divide_", "eq_", "erf_",
    "erfc_", "erfinv_", "exp2_", "exp_", "expm1_", "exponential_", "fill_", "fill_diagonal_", "fix_",
    "float_power_", "floor_", "floor_divide_", "fmod_", "frac_", "gcd_", "ge_", "geometric_", "greater_",
    "greater_equal_", "gt_", "heaviside_", "hypot_", "i0_", "igamma_", "igammac_", "index_add_", "index_copy_",
    "index_fill_", "index_put_", "index_reduce_", "lcm_", "ldexp_", "le_", "lerp_", "less_", "less_equal_",
    "lgamma_", "log10_", "log1p_", "log2_", "log_", "log_normal_", "logical_and_", "logical_not_",
    "logical_or_", "logical_xor_", "logit_", "lt_", "map2_", "map_", "masked_fill_", "masked_scatter_", "mul_",
    "multiply_", "mvlgamma_", "nan_to_num_", "ne_", "neg_", "negative_", "nextafter_", "normal_", "not_equal_",
    "polygamma_", "pow_", "put_", "rad2deg_", "random_", "reciprocal_", "relu_", "remainder_", "renorm_",
    "requires_grad_", "resize_", "resize_as_", "resize_as_sparse_", "round_", "rsqrt_", "scatter_",
    "scatter_add_", "scatter_reduce_", "set_", "sgn_", "share_memory_", "sigmoid_", "sign_", "sin_", "sinc_",
    "sinh_", "sparse_resize_", "sparse_resize_and_clear_", "sqrt_", "square_", "squeeze_", "sub_", "subtract_",
    "swapaxes_", "swapdims_", "t_", "tan_", "tanh_", "transpose_", "tril_", "triu_", "true_divide_", "trunc_",
    "uniform_", "unsqueeze_", "xlogy_", "zero_",
})

# The in-place module functions torch has (torch.nn.functional and torch, 2.13) among ops with the flag.
TORCH_INPLACE_FUNCTIONS = frozenset({
    "nn.functional.celu_", "nn.functional.elu_", "nn.functional.hardtanh_", "nn.functional.leaky_relu_",
    "nn.functional.relu_", "nn.functional.selu_", "nn.functional.threshold_", "alpha_dropout_", "celu_",
    "dropout_", "feature_alpha_dropout_", "relu_", "selu_", "threshold_",
})
INPLACE_FLAG = "inplace"


def has_inplace_flag(op: OpRules) -> bool:
    return any(spec.name == INPLACE_FLAG for spec in op.attrs)


def inplace_call(op: Any, attrs: dict) -> str | None:
    """What `F.<op>(x, ..., inplace=True)` runs: the name of the op's in-place variant; "" when torch
    leaves the input as it is and returns it (a dropout out of training); None for an out-of-place call.
    `op` is an OpRules or the SDK's description of one (name and attrs)."""
    if op.inplace or not attrs.get(INPLACE_FLAG):  # already the variant (F.elu_ sets the flag itself)
        return None
    rules = getattr(op, "rules", op)  # the SDK's catalogue entry holds its copy of the rules (or None)
    training = next((spec for spec in rules.attrs if spec.name == "training"), None) if rules else None
    if training is not None and not attrs.get("training", training.default):
        return ""
    return op.name + "_"


def check_result_fits(target_shape: tuple, target_dtype: Any, result_shape: tuple, result_dtype: Any) -> None:
    """torch's errors for writing a result into the target: another shape, or a dtype it cannot hold."""
    if tuple(result_shape) != tuple(target_shape):
        raise ShapeError(f"output with shape {list(target_shape)} doesn't match the broadcast shape "
                         f"{list(result_shape)}")
    if result_dtype.category > target_dtype.category:
        raise DTypeRuntimeError(
            f"result type {dtypes.TORCH_NAMES[result_dtype]} can't be cast to the desired output type "
            f"{dtypes.TORCH_NAMES[target_dtype]}"
        )


def eligible(op: OpRules) -> bool:
    """Can `op` have an in-place variant? (Whether a given call fits is checked when it runs.)"""
    return (op.inplace_variant and not op.inplace and not op.view and op.num_outputs == 1
            and op.max_inputs != -1 and (bool(op.methods) or has_inplace_flag(op))
            and not any(spec.name == "keepdim" for spec in op.attrs) and _keeps_first_shape(op))


# Ops whose result has their first operand's shape though their operands differ in shape, which the
# probe below cannot see (addmm(input, mat1, mat2) is input-shaped).
INPUT_SHAPED = frozenset({"addmm", "addmv", "baddbmm", "addbmm"})


def _keeps_first_shape(op: OpRules) -> bool:
    """Does the op's shape rule give same-shaped operands their shape back? (No shape rule: elementwise.)
    This keeps out matmul, dot, mv and the like, whose results have other shapes."""
    if op.out_shape is None or op.name in INPUT_SHAPED:
        return True
    defaults = {spec.name: spec.default for spec in op.attrs}
    for probe in ((3,), (2, 3)):
        try:
            shape = tuple(op.out_shape([probe] * max(op.min_inputs, 1), defaults))
        except Exception:  # noqa: BLE001 - a rule refusing the probe (or its default attributes) says nothing
            continue
        if shape != probe:
            return False
    return True


def derive(base: OpRules, taken_methods: set[str]) -> OpRules | None:
    """The rules of `base`'s in-place variant (defined in the table), or None when it has none."""
    name = base.name + "_"
    if name in RULES or not eligible(base):
        return None
    methods = tuple(m + "_" for m in base.methods if m + "_" in TORCH_INPLACE_METHODS and m + "_" not in taken_methods)
    flagged = has_inplace_flag(base)
    if not methods and not flagged:
        return None
    functions = tuple(f + "_" for f in base.functions if f + "_" in TORCH_INPLACE_FUNCTIONS) if flagged else ()
    operators = tuple("__i" + dunder[2:] for dunder in base.operators
                      if "__i" + dunder[2:] in AUGMENTED) if base.max_inputs >= 2 else ()
    taken_methods.update(methods)
    return define(dataclasses.replace(
        base, name=name, inplace=True, methods=methods, functions=functions, operators=operators,
        reflected_operators=(), out_shape=_fitting_shape(base), dtype_rule=_fitting_dtype(base), version=base.version,
        parse=_flagged_parse(base) if flagged else base.parse, signature=() if flagged else base.signature,
        summary=f"{(base.methods or base.functions)[0]}, written into the first operand in place",
    ))


def _flagged_parse(base: OpRules):
    """The variant's call is the base's with `inplace=True` (F.elu_(x) is F.elu(x, inplace=True))."""
    def parse(args: Any, kwargs: dict) -> tuple:
        operands, attrs = base.parse_call(args, kwargs)
        attrs[INPLACE_FLAG] = True
        return operands, attrs

    return parse


def _fitting_shape(base: OpRules):
    def out_shape(shapes: list, attrs: dict) -> tuple:
        result = base.out_shape(shapes, attrs) if base.out_shape is not None else tuple(shapes[0])
        if tuple(result) != tuple(shapes[0]):
            raise ShapeError(f"output with shape {list(shapes[0])} doesn't match the broadcast shape {list(result)}")
        return tuple(shapes[0])

    return out_shape


def _fitting_dtype(base: OpRules):
    def dtype_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        compute, result = base.dtype_rule(operand_dtypes, operands, attrs)
        target = operand_dtypes[0]
        if target is not None and result is not None:
            check_result_fits((), target, (), result)
        return compute, target

    return dtype_rule


def derive_all() -> list[OpRules]:
    """Defines the in-place variant of every eligible op of the table that has none yet (idempotent)."""
    taken = {method for op in RULES.values() for method in op.methods}
    return [made for base in list(RULES.values()) if (made := derive(base, taken)) is not None]
