"""Rules of the matrix products: matmul, mm, bmm, dot and mv (see rules/spec.py).

The shape rules raise torch's RuntimeError with torch's message for operands that cannot be multiplied,
and the dtype rule torch's RuntimeError for operands of different dtypes (matrix products never promote).
"""

from __future__ import annotations

import math

from ..errors import ArgumentError, DTypeRuntimeError, ShapeError
from ..shapes import broadcast_shapes
from ..spec import OpRules, define


def _matmul_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    """torch's matrix products refuse mixed dtypes instead of promoting."""
    for position, operand in enumerate(operands):
        if operand_dtypes[position] is None:
            raise ArgumentError(f"matmul(): argument {position} must be a Tensor, not {type(operand).__name__}")
    first, second = operand_dtypes
    if first is not second:
        raise DTypeRuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {first.name} != {second.name}; "
            "convert one operand with .to(dtype) first"
        )
    return None, first


def mm_sizes(a: tuple, b: tuple) -> tuple:
    """The shape of matrix a @ matrix b; torch's error when the inner sizes differ."""
    if a[1] != b[0]:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[1]} and {b[0]}x{b[1]})")
    return a[0], b[1]


def mv_sizes(a: tuple, b: tuple, rows=None) -> tuple:
    """The shape of matrix a @ vector b; torch's error when the sizes differ (`rows`: addmv's input size)."""
    rows = a[0] if rows is None else rows
    if a[1] != b[0] or rows not in (1, a[0]):
        raise ShapeError(f"size mismatch, got input ({rows}), mat ({a[0]}x{a[1]}), vec ({b[0]})")
    return (a[0],)


def _dot(a: tuple, b: tuple) -> tuple:
    if a != b:
        raise ShapeError(f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have the same number "
                         f"of elements, but got {a[0]} and {b[0]} elements respectively")
    return ()


def _bmm(a: tuple, b: tuple) -> tuple:
    if b[:2] != (a[0], a[2]):
        raise ShapeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a[0]}, {a[2]}] but got: "
                         f"[{b[0]}, {b[1]}].")
    return a[0], a[1], b[2]


def matmul_shape(shapes: list, attrs: dict) -> tuple:
    """torch.matmul's result shape; its error (and message) for operands it cannot multiply."""
    a, b = (tuple(s) for s in shapes)
    if not a or not b:
        raise ShapeError(f"both arguments to matmul need to be at least 1D, but they are {len(a)}D and {len(b)}D")
    if len(a) <= 2 and len(b) <= 2:
        if len(a) == 1:
            return _dot(a, b) if len(b) == 1 else mm_sizes((1,) + a, b)[1:]
        return mv_sizes(a, b) if len(b) == 1 else mm_sizes(a, b)
    if len(b) <= 2:  # torch folds a's batch dims into its rows
        rows = math.prod(a[:-1])
        if len(b) == 1:
            mv_sizes((rows, a[-1]), b)
            return a[:-1]
        mm_sizes((rows, a[-1]), b)
        return a[:-1] + b[1:]
    a2 = (1,) + a if len(a) == 1 else a
    batch = broadcast_shapes([a2[:-2], b[:-2]])
    count = math.prod(batch)
    _bmm((count,) + a2[-2:], (count,) + b[-2:])
    return batch + ((a2[-2],) if len(a) > 1 else ()) + (b[-1],)


def _ranked(check):
    def out_shape(shapes: list, attrs: dict) -> tuple:
        return check(*(tuple(s) for s in shapes))

    return out_shape


def _mm_shape(a: tuple, b: tuple) -> tuple:
    if len(a) != 2:
        raise ShapeError("self must be a matrix")
    if len(b) != 2:
        raise ShapeError("mat2 must be a matrix")
    return mm_sizes(a, b)


def bmm_sizes(a: tuple, b: tuple) -> tuple:
    """The shape of bmm(a, b): both 3-D, same batch, matching inner sizes, or torch's error."""
    for name, shape in (("batch1", a), ("batch2", b)):
        if len(shape) != 3:
            raise ShapeError(f"{name} must be a 3D tensor")
    return _bmm(a, b)


def _dot_shape(a: tuple, b: tuple) -> tuple:
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(f"1D tensors expected, but got {len(a)}D and {len(b)}D tensors")
    return _dot(a, b)


def _mv_shape(a: tuple, b: tuple) -> tuple:
    if len(a) != 2 or len(b) != 1:
        raise ShapeError(f"vector + matrix @ vector expected, got 1, {len(a)}, {len(b)}")
    return mv_sizes(a, b)


# A multiply-add in BLAS costs about an eighth of an elementwise numpy pass over one element.
MULTIPLY_ADDS_PER_ELEMENT = 8


def _work(shapes: list, attrs: dict) -> int:
    """Multiply-adds (every result element sums over the contracted dim, a's last), in elements' worth."""
    a, b = shapes
    contracted = a[-1] if len(a) else 1
    multiply_adds = math.prod(matmul_shape(shapes, attrs)) * max(1, contracted)
    return multiply_adds // MULTIPLY_ADDS_PER_ELEMENT + math.prod(a) + math.prod(b)


def matmul_grad_fn(shapes: tuple, requires_grad: tuple) -> str:
    """The grad_fn torch's matmul leaves, which depends on the path it takes (LinearAlgebra.cpp).

    1-D/2-D pairs go to dot/mv/mm. A >=3-D operand meeting a <=2-D one is folded into an mm (an
    _unsafe_view, or a clone when the 2-D operand was on the left) when the smaller operand requires
    grad or the left one is not 2-D; otherwise, and for two batched operands, bmm then _unsafe_view.
    """
    a, b = (len(s) for s in shapes)
    small = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4", (2, 2): "MmBackward0"}
    if (a, b) in small:
        return small[(a, b)]
    left_larger = a >= b
    if max(a, b) >= 3 and min(a, b) <= 2:
        smaller_requires_grad = requires_grad[1] if left_larger else requires_grad[0]
        if smaller_requires_grad or a != 2:
            return "CloneBackward0" if not left_larger and a == 2 else "UnsafeViewBackward0"
        return "UnsafeViewBackward0"
    if a == 3 and b == 3 and shapes[0][0] != shapes[1][0]:
        # torch drops a batch dim of size 1 on an operand that requires grad and starts again.
        if shapes[0][0] == 1 and requires_grad[0]:
            return matmul_grad_fn((shapes[0][1:], shapes[1]), requires_grad)
        if shapes[1][0] == 1 and requires_grad[1]:
            return matmul_grad_fn((shapes[0], shapes[1][1:]), requires_grad)
    return "UnsafeViewBackward0"


def _product(name: str, out_shape, grad_fn, summary: str, **spellings) -> None:
    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=_matmul_dtype, min_inputs=2, max_inputs=2, out_shape=out_shape,
        work=_work, summary=summary, **spellings,
    ))


_product("matmul", matmul_shape, lambda call: matmul_grad_fn(tuple(call.input_shapes), tuple(call.grad_mask)),
         "matrix product: 1-D, 2-D and batched with broadcasting", methods=("matmul",), functions=("matmul",),
         operators=("__matmul__",), reflected_operators=("__rmatmul__",))
_product("mm", _ranked(_mm_shape), "MmBackward0", "matrix x matrix (2-D only)", methods=("mm",), functions=("mm",))
_product("bmm", _ranked(bmm_sizes), "BmmBackward0", "batched matrix x matrix (3-D, same batch)",
         methods=("bmm",), functions=("bmm",))
_product("dot", _ranked(_dot_shape), "DotBackward0", "vector . vector (1-D only)", methods=("dot",), functions=("dot",))
_product("mv", _ranked(_mv_shape), "MvBackward0", "matrix x vector", methods=("mv",), functions=("mv",))
