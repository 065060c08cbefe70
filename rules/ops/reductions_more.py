"""Rules of more reductions and distances real code uses: nansum / nanmean, var_mean / std_mean,
linalg.norm, dist, cdist and diff (see rules/spec.py; the engine's computations are in
engine/ops/reductions_more.py)."""

from __future__ import annotations

import math

from .. import dtypes, promotion
from ..checks import tensors_only
from ..errors import DTypeRuntimeError, NotImplementedForDTypeError, InvalidArgumentRuntimeError, ShapeError
from ..shapes import broadcast_shapes, normalise_dim, reduce, reduced
from ..spec import OPTIONAL_OPERAND, AttrSpec, OpRules, define
from .norms import matrix_dims, matrix_norm_grad_fn, _matrix_norm_shape, _vector_norm_shape
from .reductions import CORRECTION_ATTRS, DIMS, KEEPDIM, OUTPUT, _with_correction, parse_var

COMPUTE_DTYPE = AttrSpec("dtype", "dtype", description="the dtype to cast the input to and compute in")


# ---------------------------------------------------------------- nansum, nanmean
def _with_requested(rule):
    def checked(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        requested = attrs.get("dtype")
        return rule(operand_dtypes, operands, attrs) if requested is None else (requested, requested)

    return checked


def _nanmean_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    dtype = attrs.get("dtype") or operand_dtypes[0]
    if not dtype.is_floating_point:
        raise DTypeRuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                                f"{dtypes.TORCH_NAMES[dtype]}")
    return dtype, dtype


define(OpRules(
    name="nansum", grad_fn="NansumBackward0", dtype_rule=tensors_only("nansum", _with_requested(promotion.sum_like)),
    attrs=(DIMS, KEEPDIM, COMPUTE_DTYPE), out_shape=reduce, methods=("nansum",), functions=("nansum",),
    summary="sum over dims (all by default) counting nan as 0",
))
define(OpRules(
    name="nanmean", grad_fn="DivBackward0", dtype_rule=tensors_only("nanmean", _nanmean_rule),
    attrs=(DIMS, KEEPDIM, COMPUTE_DTYPE), out_shape=reduce, methods=("nanmean",), functions=("nanmean",),
    summary="mean over dims (all by default) of the elements that are not nan",
))

# ---------------------------------------------------------------- var_mean, std_mean
for _name, _title in (("var_mean", "VarMean"), ("std_mean", "StdMean")):
    define(OpRules(
        name=_name, grad_fn=f"{_title}Backward0", dtype_rule=tensors_only(_name, promotion.floating_only),
        attrs=(DIMS, KEEPDIM) + CORRECTION_ATTRS + (OUTPUT,), parse=parse_var, out_shape=_with_correction,
        pieces=lambda shapes, attrs: 2, functions=(_name,),
        summary=f"({_name.split('_')[0]}, mean) over dims (all by default), with Bessel's correction by default",
    ))


# ---------------------------------------------------------------- linalg.norm
def is_matrix_norm(ord_, dim, ndim: int) -> bool:
    """linalg.norm is a matrix norm for two dims, or for a 2-D input with an ord and no dim."""
    if dim is not None:
        return not isinstance(dim, int) and len(dim) == 2
    if ord_ is None:
        return False
    if ndim not in (1, 2):
        raise InvalidArgumentRuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                                          f"or 2D. Got {ndim}D.")
    return ndim == 2


def as_norm_attrs(attrs: dict, ndim: int) -> dict:
    """linalg.norm's attributes as linalg.vector_norm's or linalg.matrix_norm's."""
    ord_, dim = attrs["ord"], attrs["dim"]
    if is_matrix_norm(ord_, dim, ndim):
        return {"ord": "fro" if ord_ is None else ord_, "dim": (-2, -1) if dim is None else tuple(dim),
                "keepdim": attrs["keepdim"]}
    if isinstance(ord_, str):
        raise InvalidArgumentRuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    return {"ord": 2.0 if ord_ is None else ord_, "dim": dim, "keepdim": attrs["keepdim"]}


def _linalg_norm_shape(shapes: list, attrs: dict) -> tuple:
    ndim = len(shapes[0])
    norm_attrs = as_norm_attrs(attrs, ndim)
    if is_matrix_norm(attrs["ord"], attrs["dim"], ndim):
        return _matrix_norm_shape(shapes, norm_attrs)
    return _vector_norm_shape(shapes, norm_attrs)


def _linalg_norm_name(call) -> str:
    attrs = call.attrs
    if is_matrix_norm(attrs["ord"], attrs["dim"], len(call.input_shapes[0])):
        return matrix_norm_grad_fn("fro" if attrs["ord"] is None else attrs["ord"])
    return "LinalgVectorNormBackward0"


define(OpRules(
    name="linalg_norm", grad_fn=_linalg_norm_name, dtype_rule=tensors_only("linalg.norm", promotion.floating_only),
    attrs=(AttrSpec("ord", "real|text|none", description="the order; None: the 2-norm (vectors) or 'fro' (matrices)"),
           AttrSpec("dim", "integer|ints", aliases=("axis",),
                    description="one dim (a vector norm) or two (a matrix norm); all dims as one vector when omitted"),
           KEEPDIM),
    out_shape=_linalg_norm_shape, functions=("linalg.norm",),
    summary="torch.linalg.norm: a vector norm over one dim or all, or a matrix norm over two dims",
))


# ---------------------------------------------------------------- dist, cdist
def _distance_rule(name: str, message: str, half: bool = True):
    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        compute, result = promotion.promote(operand_dtypes, operands, attrs)
        if not result.is_floating_point:
            raise DTypeRuntimeError(message.format(dtypes.TORCH_NAMES[operand_dtypes[0]]))
        if not half and result is dtypes.float16:  # torch's CPU kernel has no half version
            raise NotImplementedForDTypeError(f'"{name}" not implemented for \'Half\'')
        return compute, result

    return tensors_only(name, rule, positions=None)


def _dist_shape(shapes: list, attrs: dict) -> tuple:
    broadcast_shapes(shapes)
    return ()


define(OpRules(
    name="dist", grad_fn="DistBackward0",
    dtype_rule=_distance_rule("dist", "norm(): input dtype should be either floating point or complex. Got {} instead."),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("p", "real", default=2.0, description="the order of the norm"),),
    out_shape=_dist_shape, methods=("dist",), functions=("dist",),
    summary="the p-norm of input - other (broadcasting)",
))

EUCLID_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def _cdist_shape(shapes: list, attrs: dict) -> tuple:
    x1, x2 = (tuple(s) for s in shapes)
    for label, shape in (("X1", x1), ("X2", x2)):
        if len(shape) < 2:
            raise ShapeError(f"cdist only supports at least 2D tensors, {label} got: {len(shape)}D")
    if x1[-1] != x2[-1]:
        raise ShapeError(f"X1 and X2 must have the same number of columns. X1: {x1[-1]} X2: {x2[-1]}")
    if attrs["p"] < 0:
        raise InvalidArgumentRuntimeError(f"cdist only supports non-negative p values, got {attrs['p']}")
    if attrs["compute_mode"] not in (None, *EUCLID_MODES):
        raise InvalidArgumentRuntimeError(f"{attrs['compute_mode']} is not a valid value for compute_mode")
    return broadcast_shapes([x1[:-2], x2[:-2]]) + (x1[-2], x2[-2])


def _cdist_name(call) -> str:
    # torch computes p=2 with a matrix product (and a view node) for more than 25 rows, or when asked to.
    mode = call.attrs["compute_mode"] or EUCLID_MODES[0]
    rows = max(call.input_shapes[0][-2], call.input_shapes[1][-2])
    if call.attrs["p"] == 2 and (mode == EUCLID_MODES[1] or (mode == EUCLID_MODES[0] and rows > 25)):
        return "ViewBackward0"
    return "CdistBackward0"


define(OpRules(
    name="cdist", grad_fn=_cdist_name,
    dtype_rule=_distance_rule("cdist", "cdist only supports floating-point dtypes, X1 got: {}", half=False),
    min_inputs=2, max_inputs=2,
    attrs=(AttrSpec("p", "real", default=2.0, description="the order of the norm"),
           AttrSpec("compute_mode", "text|none", description="torch's choice of a matrix-product method for p=2 "
                    "(the distances here are always computed directly)")),
    out_shape=_cdist_shape, work=lambda shapes, attrs: math.prod(_cdist_shape(shapes, attrs)) * shapes[0][-1],
    functions=("cdist",), summary="the p-norm distance between each row of x1 and each row of x2 (batched)",
))


# ---------------------------------------------------------------- diff
def _diff_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    if not shape:
        raise InvalidArgumentRuntimeError("diff expects input to be at least one-dimensional")
    if attrs["n"] < 0:
        raise InvalidArgumentRuntimeError(f"order must be non-negative but got {attrs['n']}")
    dim = normalise_dim(attrs["dim"], len(shape))
    size = shape[dim]
    for extra in shapes[1:]:
        extra = tuple(extra)
        if not extra:  # an absent prepend / append
            continue
        if len(extra) != len(shape):
            raise InvalidArgumentRuntimeError("diff expects prepend or append to be the same dimension as input")
        for axis, (ours, theirs) in enumerate(zip(shape, extra)):
            if axis != dim and ours != theirs:
                raise InvalidArgumentRuntimeError(
                    "diff expects the shape of tensor to prepend or append to match that of input except along the "
                    f"differencing dimension; input.size({axis}) = {ours}, but got tensor.size({axis}) = {theirs}")
        size += extra[dim]
    return shape[:dim] + (max(size - attrs["n"], 0),) + shape[dim + 1:]


define(OpRules(
    name="diff", grad_fn=lambda call: "CopyBackwards" if call.attrs["n"] == 0 else "SubBackward0",
    dtype_rule=tensors_only("diff", promotion.promote_tensors), min_inputs=1, max_inputs=3,
    attrs=(AttrSpec("n", "integer", default=1, description="how many times to take differences"),
           AttrSpec("dim", "integer", default=-1, aliases=("axis",)),
           AttrSpec("prepend", OPTIONAL_OPERAND, description="values put before input along dim"),
           AttrSpec("append", OPTIONAL_OPERAND, description="values put after input along dim")),
    out_shape=_diff_shape, methods=("diff",), functions=("diff",), inplace_variant=False,
    summary="the n-th forward difference along dim (prepend / append joined first)",
))


# ---------------------------------------------------------------- trapezoid
def trapezoid_x_shape(y: tuple, x: tuple, dim: int) -> tuple:
    """The shape x takes part with: a 1-D x lies along dim; otherwise x broadcasts with y."""
    if len(x) == 1:
        if x[0] != y[dim]:
            raise InvalidArgumentRuntimeError("trapezoid: There must be one `x` value for each sample point")
        return tuple(x[0] if axis == dim else 1 for axis in range(len(y)))
    broadcast_shapes([y, x])
    return x


def _trapezoid_shape(shapes: list, attrs: dict) -> tuple:
    y = tuple(shapes[0])
    if not y:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    dim = normalise_dim(attrs["dim"], len(y))
    x = tuple(shapes[1]) if len(shapes) > 1 else ()
    if len(shapes) > 1 and shapes[1] != ():
        if attrs["dx"] is not None:
            raise InvalidArgumentRuntimeError("trapezoid(): give either x or dx, not both")
        trapezoid_x_shape(y, x, dim)
    return y[:dim] + y[dim + 1:]


def _trapezoid_name(call) -> str:
    with_x = len(call.input_dtypes) > 1 and call.input_dtypes[1] is not None
    return "DivBackward1" if with_x else "MulBackward1"  # torch's last step: / 2, or * dx


define(OpRules(
    name="trapezoid", grad_fn=_trapezoid_name,
    dtype_rule=tensors_only("trapezoid", promotion.promote_to_float), min_inputs=1, max_inputs=2,
    attrs=(AttrSpec("x", OPTIONAL_OPERAND, description="the sample points (1-D along dim, or shaped like y)"),
           AttrSpec("dx", "real|none", description="the spacing of evenly spaced samples (default 1)"),
           AttrSpec("dim", "integer", default=-1, aliases=("axis",))),
    out_shape=_trapezoid_shape, functions=("trapezoid", "trapz"), summary="the trapezoidal rule along dim",
))
