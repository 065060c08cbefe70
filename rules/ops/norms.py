"""Rules of the norms: linalg.vector_norm, linalg.matrix_norm and torch.norm (see rules/spec.py)."""

from __future__ import annotations

import math

from .. import promotion
from ..checks import tensors_only
from ..errors import ArgumentError, InvalidArgumentRuntimeError
from ..shapes import normalise_dim, reduce, reduced
from ..spec import AttrSpec, OpRules, define
from .reductions import DIMS, KEEPDIM

MATRIX_ORDERS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def vector_order(order) -> float:
    """A vector norm's order as a number ('fro' is 2), or torch's error for another string."""
    if isinstance(order, str):
        if order != "fro":
            raise InvalidArgumentRuntimeError(f"linalg.matrix_norm: Order {order} not supported; use a number, "
                                              "'fro' or 'nuc'")
        return 2.0
    return order


def matrix_dims(dim, ndim: int) -> tuple[int, int]:
    """The two dims of a matrix norm (default the last two), non-negative, or torch's error."""
    dims = dim if dim is not None else (-2, -1)
    if isinstance(dims, int) or len(dims) != 2:
        raise ArgumentError(f"matrix norm: dim must be a pair of dims, got {dims}")
    if ndim < 2:
        raise InvalidArgumentRuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    first, second = (normalise_dim(d, ndim) for d in dims)
    if first == second:
        raise InvalidArgumentRuntimeError(f"linalg.matrix_norm: dims must be different. Got {tuple(dims)}")
    return first, second


def _vector_norm_shape(shapes: list, attrs: dict, order_name: str = "ord") -> tuple:
    order = vector_order(attrs[order_name])
    if order == -math.inf and 0 in tuple(shapes[0]):
        raise InvalidArgumentRuntimeError("linalg.vector_norm cannot compute the -inf norm on an empty tensor because "
                                          "the operation does not have an identity")
    return reduce(shapes, attrs)


def _matrix_norm_shape(shapes: list, attrs: dict, order_name: str = "ord") -> tuple:
    shape = tuple(shapes[0])
    dims = matrix_dims(attrs["dim"], len(shape))
    if attrs[order_name] not in MATRIX_ORDERS:
        raise InvalidArgumentRuntimeError(f"linalg.matrix_norm: Order {attrs[order_name]} not supported; use 'fro', "
                                          "'nuc', 1, -1, 2, -2, inf or -inf")
    return reduced(shape, tuple(sorted(dims)), attrs["keepdim"])


def matrix_norm_grad_fn(order) -> str:
    if isinstance(order, str):
        return "LinalgVectorNormBackward0" if order == "fro" else "SumBackward1"
    return "AmaxBackward0" if order > 0 else "AminBackward0"


define(OpRules(
    name="linalg_vector_norm", grad_fn="LinalgVectorNormBackward0",
    dtype_rule=tensors_only("linalg.vector_norm", promotion.floating_only),
    attrs=(AttrSpec("ord", "real", default=2.0, description="the order p: 2, 1, inf, -inf, 0 or any real"),
           DIMS, KEEPDIM),
    out_shape=_vector_norm_shape, functions=("linalg.vector_norm",),
    summary="the p-norm of the elements over dims (all by default)",
))
define(OpRules(
    name="linalg_matrix_norm", grad_fn=lambda call: matrix_norm_grad_fn(call.attrs["ord"]),
    dtype_rule=tensors_only("linalg.matrix_norm", promotion.floating_only),
    attrs=(AttrSpec("ord", "real|text", default="fro",
                    description="'fro' (Frobenius), 'nuc' (nuclear), 1 / inf (max column / row abs sum), 2 (largest "
                    "singular value), or their negatives (the minima)"),
           AttrSpec("dim", "ints", default=(-2, -1), description="the two dims holding the matrices"), KEEPDIM),
    out_shape=_matrix_norm_shape, functions=("linalg.matrix_norm",),
    summary="a matrix norm ('fro', 'nuc', +-1, +-2, +-inf) of the matrices in dims",
))


def _norm_parse(args, kwargs):
    """norm(input, p='fro', dim=None, keepdim=False, dtype=None): p picks the vector or matrix norm."""
    names = ("input", "p", "dim", "keepdim")
    for name, value in zip(names, args):
        if name in kwargs:
            raise ArgumentError(f"norm() got multiple values for argument '{name}'")
        kwargs[name] = value
    if len(args) > len(names):
        raise ArgumentError("norm() takes at most 4 positional arguments")
    tensor = kwargs.pop("input")
    kwargs.setdefault("p", "fro")
    return [tensor], kwargs


def _norm_shape(shapes: list, attrs: dict) -> tuple:
    if attrs["p"] == "nuc":
        return _matrix_norm_shape(shapes, attrs, "p")
    return _vector_norm_shape(shapes, attrs, "p")


define(OpRules(
    name="norm", grad_fn=lambda call: "SumBackward1" if call.attrs["p"] == "nuc" else "LinalgVectorNormBackward0",
    dtype_rule=tensors_only("norm", promotion.floating_only),
    attrs=(AttrSpec("p", "real|text", default="fro", description="the order: a number, 'fro' or 'nuc'"), DIMS, KEEPDIM),
    out_shape=_norm_shape, parse=_norm_parse, methods=("norm",), functions=("norm",),
    summary="torch.norm: the p-norm over dims (all by default); 'fro' is the 2-norm, 'nuc' the nuclear norm",
))
