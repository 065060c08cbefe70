"""In-place variants derived from the registry: `x.add_(y)`, `x += y`, `x.exp_()`, `x.clamp_(0, 1)` ...

No op is written twice. Every out-of-place op that could write its result back into its first input
(one output, not a view, not variadic, not a reduction, and not opted out with `inplace_variant=False`)
gets a second registry entry `<name>_` whose forward runs the op out of place, checks that the result has
the target's shape and can be cast to its dtype (torch's two errors), writes it into the target's memory
and bumps the version counter. Under grad mode the target takes the op's backward node as its grad_fn
(AddBackward0 on the updated tensor, as torch); a view's write lands on its base as CopySlices. Python's
augmented operators (`__iadd__` ...) follow from each op's binary operator spellings.

The derived entries are ordinary ops: the server's lookup, the ListOps catalogue and the SDK read them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import modes
from gradwire.rules.errors import ArgumentError, DTypeRuntimeError, InplaceError, ShapeError
from .graph import SavedTensor
from .registry import OPS, OpDef, register

_TORCH_DTYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int32": "Int",
                      "int64": "Long", "bool": "Bool", "int8": "Char", "uint8": "Byte", "int16": "Short"}


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


def eligible(op: OpDef) -> bool:
    """Can `op` have an in-place variant? (Whether a given call fits is checked when it runs.)"""
    return (op.inplace_variant and not op.inplace and not op.view and op.num_outputs == 1
            and op.max_inputs != -1 and bool(op.methods) and op.variadic_vjp is None
            and not any(spec.name == "keepdim" for spec in op.attrs) and _keeps_first_shape(op))


def _keeps_first_shape(op: OpDef) -> bool:
    """Does the op's shape rule give same-shaped operands their shape back? (No shape rule: elementwise.)
    This keeps out matmul, dot, mv and the like, whose results have other shapes."""
    if op.out_shape is None:
        return True
    defaults = {spec.name: spec.default for spec in op.attrs}
    try:
        return all(tuple(op.out_shape([probe] * max(op.min_inputs, 1), defaults)) == probe
                   for probe in ((3,), (2, 3)))
    except Exception:  # noqa: BLE001 - a shape rule refusing the probe: not an elementwise op
        return False


def derive_all() -> list[OpDef]:
    """Registers `<name>_` for every eligible op that has none yet (idempotent); returns the new entries."""
    taken_methods = {method for op in OPS.values() for method in op.methods}
    made = []
    for op in list(OPS.values()):
        name = op.name + "_"
        if name in OPS or not eligible(op):
            continue
        methods = tuple(m + "_" for m in op.methods if m + "_" in TORCH_INPLACE_METHODS and m + "_" not in taken_methods)
        if not methods:
            continue
        operators = tuple("__i" + dunder[2:] for dunder in op.operators
                          if "__i" + dunder[2:] in AUGMENTED) if op.max_inputs >= 2 else ()
        made.append(register(dataclasses.replace(
            op, name=name, forward=_inplace_forward(op), inplace=True, methods=methods, functions=(),
            operators=operators, reflected_operators=(), out_shape=None, extra={**op.extra, "of": op.name},
            summary=f"{op.methods[0]}, written into the first operand in place",
        )))
        taken_methods.update(methods)
    return made


def _inplace_forward(op: OpDef):
    def forward(operands: list, attrs: dict):
        return run_inplace(op, operands, attrs)

    return forward


def run_inplace(op: OpDef, operands: list, attrs: dict):
    """`operands[0] = op(*operands)` in place, with torch's checks, version bump and grad_fn."""
    from .dispatch import apply_op
    from .ops.indexing import SETITEM, check_inplace_allowed, write_inplace
    from .tensor import Tensor

    target = operands[0] if operands else None
    if not isinstance(target, Tensor):
        raise ArgumentError(f"{op.name}_(): the target must be a Tensor, not {type(target).__name__}")
    check_inplace_allowed(target, op.name + "_")
    if not target._data.flags.writeable:
        raise InplaceError(
            "unsupported operation: more than one element of the written-to tensor refers to a single "
            "memory location (it is an expand()ed view); clone() the tensor before writing into it"
        )
    result = apply_op(op, operands, attrs)
    if result.shape != target.shape:
        raise ShapeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                         f"{list(result.shape)}")
    if result._dtype.category > target._dtype.category:
        raise DTypeRuntimeError(
            f"result type {_TORCH_DTYPE_NAMES[result._dtype.name]} can't be cast to the desired output type "
            f"{_TORCH_DTYPE_NAMES[target._dtype.name]}"
        )
    node = result.grad_fn
    if node is not None and node.saved_inputs:
        # The backward needs the target's old value: keep a copy (torch saves `original_self` too).
        # Only as the first operand: saved as another operand, it is the tensor itself (a later change of
        # it fails the backward, as in torch: `b.mul_(b)` then `b.add_(1)`).
        first = node.saved_inputs[0]
        if type(first) is SavedTensor and first.tensor is target:
            node.saved_inputs = (SavedTensor(_snapshot(target)), *node.saved_inputs[1:])
    if node is None and target._requires_grad and modes._state.grad_enabled:
        # A result without a gradient (eq_, a no-grad op) overwrites values that had one: cut the
        # flow to them (torch's EqBackward0 and the like give zeros).
        return write_inplace(target, (Ellipsis,), result._data, SETITEM)
    if node is not None and target._base is not None:
        # Into a view of a graph tensor: the base records it (CopySlices), as torch does.
        return write_inplace(target, (Ellipsis,), result, SETITEM)
    np.copyto(target._data, result._data, casting="unsafe")
    target._version[0] += 1
    if node is not None:
        if node.saved_output is not None:  # the saved result is now the target: changing it again invalidates it
            node.saved_output.version_box = target._version
            node.saved_output.version = target._version[0]
        target.grad_fn = node
        target._requires_grad = True
    return target


def _snapshot(target):
    """The target as it was: a copy of its data with its history (for create_graph backward)."""
    from .tensor import Tensor

    copy = Tensor._from_array(target._data.copy())
    copy.grad_fn, copy._requires_grad = target.grad_fn, target._requires_grad
    return copy
