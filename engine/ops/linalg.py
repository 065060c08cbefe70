"""matmul with torch's semantics for 1-D, 2-D and batched operands.

The VJPs lift 1-D operands to matrices (a vector on the left is a row, on the right a column), apply
dA = dC @ B^T and dB = A^T @ dC, and drop the lifted dim again; summing over broadcast batch dims is
left to the engine's broadcast reduction.
"""

from __future__ import annotations

import numpy as np

from .. import promotion
from ..errors import ShapeError
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


def _name(node) -> str:
    ranks = tuple(len(s) for s in node.input_shapes)
    return {(1, 1): "DotBackward0", (2, 2): "MmBackward0", (2, 1): "MvBackward0",
            (1, 2): "SqueezeBackward4"}.get(ranks, "UnsafeViewBackward0")


register(OpDef(
    name="matmul", forward=_matmul_forward, vjps=(_grad_a, _grad_b), grad_fn=_name,
    dtype_rule=promotion.promote, saves_all_inputs=True, min_inputs=2, max_inputs=2, out_shape=_out_shape,
    methods=("matmul",), functions=("matmul", "mm", "bmm", "dot", "mv"), operators=("__matmul__",),
    reflected_operators=("__rmatmul__",), summary="matrix product: 1-D, 2-D and batched with broadcasting",
))
