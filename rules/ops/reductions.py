"""Rules of the reductions: sum, mean, prod, var, std, logsumexp, max/min (full and along a dim),
amax/amin/aminmax, argmax/argmin, all/any, count_nonzero, softmax and log_softmax.

The norms (norms.py) and the scans and orderings (ordering.py) are defined by the modules imported at the
end. See rules/spec.py for what an entry holds.
"""

from __future__ import annotations

from .. import dtypes, promotion
from ..arguments import check_no_cast_first
from ..checks import floating_kernel, tensors_only
from ..errors import ArgumentError, DTypeRuntimeError, IndexOutOfRange, InvalidArgumentRuntimeError
from ..shapes import normalise_dim, normalise_dims, reduce, reduced
from ..spec import AttrSpec, OpRules, define

DIM = AttrSpec("dim", "integer|ints", aliases=("axis",))
DIMS = AttrSpec("dim", "integer|ints", aliases=("axis",), description="the dim or dims to reduce; all dims when omitted")
DIM_REQUIRED = AttrSpec("dim", "integer|ints", required=True, aliases=("axis",), description="the dim or dims to reduce")
ONE_DIM = AttrSpec("dim", "integer", required=True, aliases=("axis",))
KEEPDIM = AttrSpec("keepdim", "boolean", default=False)
CORRECTION_ATTRS = (AttrSpec("correction", "integer", description="subtract this from the count (Bessel: 1)"),
                    AttrSpec("unbiased", "boolean", description="older spelling: True is correction=1, False correction=0"))
OUTPUT = AttrSpec("output", "integer", description="which output to compute (one node per output; set by the caller's "
                  "library, not by user code)")


def all_dims(dim) -> bool:
    """dim None or empty: the reduction runs over every dim (torch's sum(dim=()) and mean(dim=[]))."""
    return dim is None or (isinstance(dim, (tuple, list)) and not dim)


def reduce_nonempty(name: str, unspecified_error=InvalidArgumentRuntimeError):
    """The shape rule of reductions without an identity (max, amax, median ...): torch refuses empty input
    over all dims (`unspecified_error`, which torch picks per op) and an empty reduced dim (IndexError)."""

    def rule(shapes: list, attrs: dict) -> tuple:
        shape, dim = tuple(shapes[0]), attrs.get("dim")
        if all_dims(dim):
            if 0 in shape:
                raise unspecified_error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                                        "Specify the reduction dim with the 'dim' argument.")
        elif shape:  # torch finds an empty dim before a repeated one
            for axis in (normalise_dim(d, len(shape)) for d in ((dim,) if isinstance(dim, int) else dim)):
                if shape[axis] == 0:
                    raise IndexOutOfRange(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
        return reduce(shapes, attrs)

    return rule


def along_dim(shapes: list, attrs: dict) -> tuple:
    """The shape rule of ops along one dim that keep their input's shape (softmax, cumsum, sort)."""
    shape = tuple(shapes[0])
    normalise_dim(attrs["dim"], len(shape))
    return shape


def correction(attrs: dict) -> int:
    """Bessel's correction: `correction`, or torch's older spelling unbiased=True/False."""
    unbiased, value = attrs["unbiased"], attrs["correction"]
    if unbiased is not None and value is not None:
        raise ArgumentError("var(): give either unbiased or correction, not both")
    if unbiased is not None:
        return int(unbiased)
    return 1 if value is None else value


def _with_correction(shapes: list, attrs: dict) -> tuple:
    correction(attrs)
    return reduce(shapes, attrs)


def parse_var(args, kwargs):
    """var(dim, unbiased, keepdim) and var(unbiased) as torch accepts them, plus keyword correction."""
    tensor, *rest = args
    if rest and isinstance(rest[0], bool):
        kwargs["unbiased"] = rest.pop(0)
    for name, value in zip(("dim", "unbiased", "keepdim"), rest):
        if name in kwargs:
            raise ArgumentError(f"var() got multiple values for argument '{name}'")
        kwargs[name] = value
    if len(rest) > 3:
        raise ArgumentError("var() takes at most 3 positional arguments after the tensor")
    return [tensor], kwargs


def _dim_variant(full: str, along: str):
    return lambda call: full if call.attrs["dim"] is None else along


def _prod_shape(shapes: list, attrs: dict) -> tuple:
    if isinstance(attrs["dim"], tuple):
        raise ArgumentError(f"prod(): dim must be one integer, not {attrs['dim']}; prod reduces one dim at a time")
    return reduce(shapes, attrs)


def _reduction(name: str, grad_fn, rule, *, out_shape=reduce, extra_attrs=(), parse=None, summary="") -> None:
    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=tensors_only(name, rule), attrs=(DIM, KEEPDIM) + tuple(extra_attrs),
        methods=(name,), functions=(name,), parse=parse, out_shape=out_shape, summary=summary,
    ))


def _requested_dtype(rule):
    """sum(dtype=...) / prod(dtype=...): the input is cast to that dtype and the result has it."""
    def checked(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        requested = attrs.get("dtype")
        return rule(operand_dtypes, operands, attrs) if requested is None else (requested, requested)

    return checked


DTYPE_TO_COMPUTE = AttrSpec("dtype", "dtype", description="the dtype to cast the input to and compute in")
_reduction("sum", _dim_variant("SumBackward0", "SumBackward1"), _requested_dtype(promotion.sum_like),
           extra_attrs=(DTYPE_TO_COMPUTE,), summary="sum over all elements or the given dims")
def _mean_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """mean: a floating input, or an explicit floating dtype to compute in (mean(dtype=float32) of ints)."""
    requested = attrs.get("dtype")
    if requested is None:
        return promotion.floating_only(operand_dtypes, operands, attrs)
    if not requested.is_floating_point:
        raise DTypeRuntimeError("mean(): could not infer output dtype. Optional dtype must be either a floating "
                                f"point or complex dtype. Got: {requested.name}")
    return requested, requested


_reduction("mean", _dim_variant("MeanBackward0", "MeanBackward1"), _mean_dtype,
           extra_attrs=(AttrSpec("dtype", "dtype", description="the floating dtype to compute in"),),
           summary="mean over all elements or the given dims")
_reduction("prod", _dim_variant("ProdBackward0", "ProdBackward1"), _requested_dtype(promotion.sum_like),
           out_shape=_prod_shape, extra_attrs=(DTYPE_TO_COMPUTE,),
           summary="product; exact gradients with zeros")
_reduction("var", "VarBackward0", promotion.floating_only, out_shape=_with_correction, parse=parse_var,
           extra_attrs=(AttrSpec("correction", "integer"), AttrSpec("unbiased", "boolean")),
           summary="variance with Bessel's correction by default (unbiased=False: none)")
define(OpRules(
    name="std", grad_fn="StdBackward0", dtype_rule=tensors_only("std", promotion.floating_only),
    attrs=(DIMS, KEEPDIM) + CORRECTION_ATTRS, parse=parse_var, methods=("std",), functions=("std",),
    out_shape=_with_correction, summary="standard deviation with Bessel's correction by default",
))
define(OpRules(
    name="logsumexp", grad_fn="LogsumexpBackward0", dtype_rule=tensors_only("logsumexp", promotion.unary_float),
    attrs=(DIM_REQUIRED, KEEPDIM), methods=("logsumexp",), functions=("logsumexp", "special.logsumexp"),
    out_shape=reduce, summary="log(sum(exp(x))) over dims, computed stably",
))

for _name in ("max", "min"):
    _title = _name.capitalize()
    define(OpRules(
        name=_name, grad_fn=f"{_title}Backward1", dtype_rule=tensors_only(_name, promotion.same),
        out_shape=reduce_nonempty(_name), summary=f"{_name} over all elements; ties share the gradient evenly",
    ))
    define(OpRules(
        name=f"{_name}_dim", grad_fn=f"{_title}Backward0", dtype_rule=tensors_only(_name, promotion.same),
        attrs=(ONE_DIM, KEEPDIM), num_outputs=2, out_shape=reduce_nonempty(_name),
        summary=f"{_name} along a dim: (values, indices); the gradient goes to the returned index",
    ))

# dtype=: the input is cast first, as its own node (rules/arguments.py CAST_FIRST)
CAST_DTYPE = AttrSpec("dtype", "dtype", default=None, description="cast the input to this dtype first")


def _cast_first(name: str, rule):
    def checked(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        check_no_cast_first(name, attrs)
        return rule(operand_dtypes, operands, attrs)

    return checked


for _name, _title in (("softmax", "Softmax"), ("log_softmax", "LogSoftmax")):
    define(OpRules(
        name=_name, grad_fn=f"{_title}Backward0",
        dtype_rule=_cast_first(_name, tensors_only(_name, floating_kernel(f"{_name}_lastdim_kernel_impl"))),
        out_shape=along_dim, attrs=(ONE_DIM, CAST_DTYPE), methods=(_name,), functions=(_name, f"nn.functional.{_name}"),
        summary="softmax along dim" if _name == "softmax" else "log(softmax(x)) along dim, computed stably",
    ))

# ---------------------------------------------------------------- amax, amin, aminmax
for _name in ("amax", "amin"):
    define(OpRules(
        name=_name, grad_fn=f"{_name.capitalize()}Backward0", dtype_rule=tensors_only(_name, promotion.same),
        attrs=(AttrSpec("dim", "integer|ints", default=(), aliases=("axis",), description="dims to reduce; () means all"),
               KEEPDIM),
        out_shape=reduce_nonempty(_name), methods=(_name,), functions=(_name,),
        summary=f"{_name[1:]}imum over dims (all by default); ties share the gradient evenly",
    ))
define(OpRules(
    name="aminmax", grad_fn="AminmaxBackward0", dtype_rule=tensors_only("aminmax", promotion.same),
    attrs=(AttrSpec("dim", "integer", aliases=("axis",), description="the dim to reduce; all dims when omitted"),
           KEEPDIM, OUTPUT),
    out_shape=reduce_nonempty("aminmax"), pieces=lambda shapes, attrs: 2, output_names=("min", "max"),
    methods=("aminmax",), functions=("aminmax",),
    summary="(min, max) over a dim or everything; ties share the gradient evenly",
))


# ---------------------------------------------------------------- argmax, argmin
def index_result(operand_dtypes, operands, attrs):
    return None, dtypes.int64


def _arg_shape(name: str):
    nonempty = reduce_nonempty(name, IndexOutOfRange)

    def rule(shapes: list, attrs: dict) -> tuple:
        shape = tuple(shapes[0])
        if attrs["dim"] is None:  # the index into the flattened tensor
            nonempty(shapes, attrs)
            return (1,) * len(shape) if attrs["keepdim"] else ()
        return nonempty(shapes, attrs)

    return rule


for _name in ("argmax", "argmin"):
    define(OpRules(
        name=_name, differentiable=False, dtype_rule=tensors_only(_name, index_result),
        attrs=(AttrSpec("dim", "integer", aliases=("axis",), description="the dim to search; the flattened tensor "
                        "when omitted"), KEEPDIM),
        out_shape=_arg_shape(_name), methods=(_name,), functions=(_name,),
        summary=f"index of the {_name[3:]}imum (first one on ties)",
    ))


# ---------------------------------------------------------------- all, any, count_nonzero
def _bool_result(operand_dtypes, operands, attrs):
    return None, dtypes.bool_


for _name in ("all", "any"):
    define(OpRules(
        name=_name, differentiable=False, dtype_rule=tensors_only(_name, _bool_result), attrs=(DIMS, KEEPDIM),
        out_shape=reduce, methods=(_name,), functions=(_name,),
        summary=f"whether {'every' if _name == 'all' else 'any'} element is non-zero, over dims (all by default)",
    ))
define(OpRules(
    name="count_nonzero", differentiable=False, dtype_rule=tensors_only("count_nonzero", index_result), attrs=(DIMS,),
    out_shape=lambda shapes, attrs: reduced(tuple(shapes[0]), attrs["dim"], False),
    methods=("count_nonzero",), functions=("count_nonzero",), summary="number of non-zero elements over dims",
))

from . import norms, ordering  # noqa: E402,F401  (definition side effects)
