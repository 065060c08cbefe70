"""Rules of the in-place writes that are not an op's result written back (copy_, fill_, normal_, uniform_)
and of the ops on a tensor's `.grad` (grad, zero_grad_).

Each writes into (or reads from) its first operand, which must be a tensor: the result has its shape and
dtype. torch's errors for a source that does not broadcast to the target, a fill value with dims, random
fills of integer tensors and bad distribution parameters come from these rules.
"""

from __future__ import annotations

from .. import dtypes
from ..checks import check_tensors
from ..errors import InvalidArgumentRuntimeError, NotImplementedForDTypeError, ShapeError
from ..shapes import broadcast_shapes
from ..spec import AttrSpec, OpRules, define

def _target_rule(name: str, check=None):
    """The dtype rule of an op on its first operand: a tensor (torch's TypeError for a number), whose
    dtype the result keeps; `check(dtype, attrs)` adds the op's own refusals."""

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        check_tensors(name, operand_dtypes, operands, positions=(0,))
        if check is not None:
            check(operand_dtypes[0], attrs)
        return None, operand_dtypes[0]

    return rule


def _target_shape(shapes: list, attrs: dict) -> tuple:
    return tuple(shapes[0])


def _copy_shape(shapes: list, attrs: dict) -> tuple:
    """The source broadcasts to the target's shape (torch's RuntimeError otherwise)."""
    target = tuple(shapes[0])
    together = broadcast_shapes([target, tuple(shapes[1])])
    if together != target:
        raise ShapeError(f"output with shape {list(target)} doesn't match the broadcast shape {list(together)}")
    return target


def _fill_shape(shapes: list, attrs: dict) -> tuple:
    if len(shapes[1]):
        raise InvalidArgumentRuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                                          f"{len(shapes[1])} dimensions.")
    return tuple(shapes[0])


def _floating_target(kernel: str):
    def check(dtype, attrs: dict) -> None:
        if not dtype.is_floating_point:
            raise NotImplementedForDTypeError(f'"{kernel}" not implemented for \'{dtypes.TORCH_NAMES[dtype]}\'; '
                                              "fill a floating tensor (convert with .float())")

    return check


def _normal_check(dtype, attrs: dict) -> None:
    _floating_target("normal_kernel_cpu")(dtype, attrs)
    if attrs["std"] < 0:
        raise InvalidArgumentRuntimeError(f"normal expects std >= 0.0, but found std {attrs['std']}")


def _uniform_check(dtype, attrs: dict) -> None:
    _floating_target("check_uniform_bounds")(dtype, attrs)
    if attrs["from"] > attrs["to"]:
        raise InvalidArgumentRuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                                          f"from={attrs['from']} > to={attrs['to']}")


# ---------------------------------------------------------------- in-place writes
define(OpRules(
    name="copy_", grad_fn="torch::autograd::CopyBackwards", dtype_rule=_target_rule("copy_"), out_shape=_copy_shape,
    min_inputs=2, max_inputs=2, inplace=True, methods=("copy_",),
    summary="copy the source's values (broadcast) into the tensor, in place",
))
define(OpRules(
    name="fill_", grad_fn="FillBackward0", dtype_rule=_target_rule("fill_"), out_shape=_fill_shape,
    min_inputs=2, max_inputs=2, inplace=True, methods=("fill_",), summary="fill with one value, in place",
))
define(OpRules(
    name="normal_", grad_fn="NormalBackward0", dtype_rule=_target_rule("normal_", _normal_check),
    out_shape=_target_shape, inplace=True, methods=("normal_",),
    attrs=(AttrSpec("mean", "real", default=0.0), AttrSpec("std", "real", default=1.0)),
    summary="fill with samples of N(mean, std**2), in place",
))
define(OpRules(
    name="uniform_", grad_fn="UniformBackward0", dtype_rule=_target_rule("uniform_", _uniform_check),
    out_shape=_target_shape, inplace=True, methods=("uniform_",),
    attrs=(AttrSpec("from", "real", default=0.0), AttrSpec("to", "real", default=1.0)),
    summary="fill with samples of U[from, to), in place",
))

# ---------------------------------------------------------------- .grad as a value
define(OpRules(
    name="grad", dtype_rule=_target_rule("grad"), out_shape=_target_shape, inplace=True, differentiable=False,
    inplace_variant=False, summary="x.grad as a value sharing its memory (in-place ops on it change x.grad)",
))
define(OpRules(
    name="zero_grad_", dtype_rule=_target_rule("zero_grad_"), out_shape=_target_shape, inplace=True,
    differentiable=False, inplace_variant=False, attrs=(AttrSpec("set_to_none", "boolean", default=True),),
    summary="x.grad = None (set_to_none) or x.grad.zero_(), in place (optimizer.zero_grad)",
))
