"""matmul with torch's semantics for 1-D, 2-D and batched operands, and mm, bmm, dot, mv: how they compute.

The VJPs lift 1-D operands to matrices (a vector on the left is a row, on the right a column), apply
dA = dC @ B^T and dB = A^T @ dC, and drop the lifted dim again; summing over broadcast batch dims is
left to the engine's broadcast reduction. Their rules (shapes, torch's errors, dtypes, grad_fn names)
are gradwire.rules.ops.matmul; the shape rule refuses what torch refuses before numpy runs.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.ops import matmul  # noqa: F401  (their rules)

from ..registry import implement


def _matmul_forward(arrays: list, attrs: dict):
    return np.matmul(*arrays)


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


for _name in ("matmul", "mm", "bmm", "dot", "mv"):
    implement(_name, _matmul_forward, vjps=(_grad_a, _grad_b), saves_all_inputs=True)
