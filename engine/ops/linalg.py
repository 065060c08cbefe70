"""matmul with torch's semantics for 1-D, 2-D and batched operands, and mm, bmm, dot, mv.

The VJPs lift 1-D operands to matrices (a vector on the left is a row, on the right a column), apply
dA = dC @ B^T and dB = A^T @ dC, and drop the lifted dim again; summing over broadcast batch dims is
left to the engine's broadcast reduction.
"""

from __future__ import annotations

import math

import numpy as np

from gradwire.rules.errors import ArgumentError, DTypeRuntimeError, ShapeError
from ..registry import OpDef, register


def _matmul_forward(arrays: list, attrs: dict):
    a, b = arrays
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("both arguments to matmul need to be at least 1D, but they are "
                         f"{a.ndim}D and {b.ndim}D")
    try:
        return np.matmul(a, b)
    except ValueError:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied ({_describe(a.shape)} and "
                         f"{_describe(b.shape)})") from None


def _describe(shape: tuple) -> str:
    return "x".join(str(n) for n in shape)


def _out_shape(shapes: list, attrs: dict) -> tuple:
    a, b = shapes
    if len(a) == 0 or len(b) == 0:
        return ()
    a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        return ()  # the forward reports the mismatch
    out = batch + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


# A multiply-add in BLAS costs about an eighth of an elementwise numpy pass over one element.
MULTIPLY_ADDS_PER_ELEMENT = 8


def _work(shapes: list, attrs: dict) -> int:
    """Multiply-adds (every result element sums over the contracted dim, a's last), in elements' worth."""
    a, b = shapes
    contracted = a[-1] if len(a) else 1
    multiply_adds = math.prod(_out_shape(shapes, attrs)) * max(1, contracted)
    return multiply_adds // MULTIPLY_ADDS_PER_ELEMENT + math.prod(a) + math.prod(b)


def _lifted(F, g, c):
    """Operands and output gradient with 1-D operands lifted to matrices."""
    a, b = c.inputs
    a_is_vector, b_is_vector = len(c.input_shapes[0]) == 1, len(c.input_shapes[1]) == 1
    if a_is_vector:
        a = F.unsqueeze(a, dim=0)
        g = F.unsqueeze(g, dim=-2 if not b_is_vector else 0)
    if b_is_vector:
        b = F.unsqueeze(b, dim=1)
        g = F.unsqueeze(g, dim=-1)
    return a, b, g, a_is_vector, b_is_vector


def _grad_a(F, g, c):
    a, b, g, a_is_vector, _ = _lifted(F, g, c)
    grad = F.matmul(g, F.transpose(b, dim0=-1, dim1=-2))
    return F.squeeze(grad, dim=-2) if a_is_vector else grad


def _grad_b(F, g, c):
    a, b, g, _, b_is_vector = _lifted(F, g, c)
    grad = F.matmul(F.transpose(a, dim0=-1, dim1=-2), g)
    return F.squeeze(grad, dim=-1) if b_is_vector else grad


def _matmul_name(shapes: tuple, requires_grad: tuple) -> str:
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
            return _matmul_name((shapes[0][1:], shapes[1]), requires_grad)
        if shapes[1][0] == 1 and requires_grad[1]:
            return _matmul_name((shapes[0], shapes[1][1:]), requires_grad)
    return "UnsafeViewBackward0"


def _name(node) -> str:
    return _matmul_name(node.input_shapes, tuple(edge is not None for edge in node.next_edges))


def _same_dtype(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
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


def _ranked_forward(name: str, check):
    """The forward of mm / bmm / dot / mv: matmul restricted to the ranks the function accepts."""

    def forward(arrays: list, attrs: dict):
        a, b = arrays
        message = check(a.shape, b.shape)
        if message:
            raise ShapeError(f"{name}(): {message}")
        return _matmul_forward(arrays, attrs)

    return forward


def _check_mm(a: tuple, b: tuple) -> str:
    if len(a) != 2 or len(b) != 2:
        return f"self must be a matrix (got {len(a)}D and {len(b)}D tensors); use matmul for other ranks"
    return "" if a[1] == b[0] else f"mat1 and mat2 shapes cannot be multiplied ({_describe(a)} and {_describe(b)})"


def _check_bmm(a: tuple, b: tuple) -> str:
    if len(a) != 3 or len(b) != 3:
        return f"batch1 and batch2 must be 3D tensors (got {len(a)}D and {len(b)}D)"
    if b[:2] != (a[0], a[2]):
        return f"Expected size for first two dimensions of batch2 tensor to be: {[a[0], a[2]]} but got: {list(b[:2])}"
    return ""


def _check_dot(a: tuple, b: tuple) -> str:
    if len(a) != 1 or len(b) != 1:
        return f"1D tensors expected, but got {len(a)}D and {len(b)}D tensors"
    return "" if a == b else f"inconsistent tensor size, expected tensor [{a[0]}] and src [{b[0]}] to have the same number of elements"


def _check_mv(a: tuple, b: tuple) -> str:
    if len(a) != 2 or len(b) != 1:
        return f"vector + matrix @ vector expected, got {len(a)}D and {len(b)}D"
    return "" if a[1] == b[0] else f"size mismatch, got mat ({_describe(a)}), vec ({b[0]})"


def _product(name: str, forward, grad_fn, summary: str, **spellings) -> None:
    register(OpDef(
        name=name, forward=forward, vjps=(_grad_a, _grad_b), grad_fn=grad_fn, dtype_rule=_same_dtype,
        saves_all_inputs=True, min_inputs=2, max_inputs=2, out_shape=_out_shape, work=_work, summary=summary,
        **spellings,
    ))


_product("matmul", _matmul_forward, _name, "matrix product: 1-D, 2-D and batched with broadcasting",
         methods=("matmul",), functions=("matmul",), operators=("__matmul__",),
         reflected_operators=("__rmatmul__",))
_product("mm", _ranked_forward("mm", _check_mm), "MmBackward0", "matrix x matrix (2-D only)",
         methods=("mm",), functions=("mm",))
_product("bmm", _ranked_forward("bmm", _check_bmm), "BmmBackward0", "batched matrix x matrix (3-D, same batch)",
         methods=("bmm",), functions=("bmm",))
_product("dot", _ranked_forward("dot", _check_dot), "DotBackward0", "vector . vector (1-D only)",
         methods=("dot",), functions=("dot",))
_product("mv", _ranked_forward("mv", _check_mv), "MvBackward0", "matrix x vector",
         methods=("mv",), functions=("mv",))
