"""linear and bilinear (torch.nn.functional), with an optional bias operand."""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import ShapeError
from ..registry import OpDef, register
from .nn_common import compute, optional, same_float


def _linear_forward(arrays: list, attrs: dict):
    x, w, b = arrays
    if w.ndim not in (1, 2) or x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise ShapeError(f"linear(): mat1 and mat2 shapes cannot be multiplied (input {list(x.shape)}, "
                         f"weight {list(w.shape)}): the input's last dim must equal weight.shape[-1]")
    out = np.matmul(compute(x), compute(w).T)
    return out if b is None else out + b


def _linear_out_shape(shapes: list, attrs: dict) -> tuple:
    x, w = shapes[0], shapes[1]
    return tuple(x[:-1]) + tuple(w[:-1])


def _linear_grad_input(F, g, c):
    if len(c.input_shapes[1]) == 1:  # weight (in,): output is x @ w, one number per row
        return F.unsqueeze(g, dim=-1) * c.inputs[1]
    return F.matmul(g, c.inputs[1])


def _flat(F, value, width: int):
    return F.reshape(value, shape=(-1, width))


def _linear_grad_weight(F, g, c):
    x, w = c.inputs[0], c.inputs[1]
    if len(c.input_shapes[1]) == 1:  # weight (in,): output is x @ w
        return F.sum(F.unsqueeze(g, dim=-1) * x, dim=tuple(range(len(c.input_shapes[0]) - 1))) \
            if len(c.input_shapes[0]) > 1 else g * x
    out_features = c.input_shapes[1][0]
    return F.mm(F.t(_flat(F, g, out_features)), _flat(F, x, c.input_shapes[0][-1]))


def _linear_grad_bias(F, g, c):
    return g  # broadcast reduction sums the leading dims


def _linear_name(node) -> str:
    rank, has_bias = len(node.input_shapes[0]), node.input_dtypes[2] is not None
    if len(node.input_shapes[1]) == 1:
        return "AddBackward0" if has_bias else ("DotBackward0" if rank == 1 else "MvBackward0")
    if rank == 2:
        return "AddmmBackward0" if has_bias else "MmBackward0"
    if rank == 1:
        return "ViewBackward0" if has_bias else "SqueezeBackward4"
    return "ViewBackward0" if has_bias else "UnsafeViewBackward0"


register(OpDef(
    name="linear", forward=_linear_forward, vjps=(_linear_grad_input, _linear_grad_weight, _linear_grad_bias),
    grad_fn=_linear_name, dtype_rule=same_float("linear"), saves_inputs=(0, 1), min_inputs=2, max_inputs=3,
    attrs=(optional("bias"),), functions=("nn.functional.linear",), out_shape=_linear_out_shape,
    summary="x @ weight.T + bias (bias optional)",
))


def _bilinear_forward(arrays: list, attrs: dict):
    x1, x2, w, b = arrays
    if w.ndim != 3 or x1.shape[-1] != w.shape[1] or x2.shape[-1] != w.shape[2] or x1.shape[:-1] != x2.shape[:-1]:
        raise ShapeError(f"bilinear(): input1 {list(x1.shape)}, input2 {list(x2.shape)} and weight "
                         f"{list(w.shape)} do not fit: weight must be (out, in1, in2) and the inputs "
                         "must share their leading dims")
    out = np.einsum("...i,oij,...j->...o", compute(x1), compute(w), compute(x2), optimize=True)
    return out if b is None else out + b


def _bilinear_grad_x1(F, g, c):
    x2, w = c.inputs[1], c.inputs[2]
    # d/dx1_i = sum_o g_o sum_j w_oij x2_j
    inner = F.matmul(F.unsqueeze(F.unsqueeze(x2, dim=-2), dim=-2), F.transpose(w, dim0=-1, dim1=-2))
    return F.sum(F.unsqueeze(g, dim=-1) * F.squeeze(inner, dim=-2), dim=-2)


def _bilinear_grad_x2(F, g, c):
    x1, w = c.inputs[0], c.inputs[2]
    inner = F.matmul(F.unsqueeze(F.unsqueeze(x1, dim=-2), dim=-2), w)  # (..., out, 1, in2)
    return F.sum(F.unsqueeze(g, dim=-1) * F.squeeze(inner, dim=-2), dim=-2)


def _bilinear_grad_weight(F, g, c):
    x1, x2 = c.inputs[0], c.inputs[1]
    outer = F.unsqueeze(F.unsqueeze(x1, dim=-1) * F.unsqueeze(x2, dim=-2), dim=-3)  # (..., 1, in1, in2)
    grads = F.unsqueeze(F.unsqueeze(g, dim=-1), dim=-1) * outer
    lead = len(c.input_shapes[0]) - 1
    return F.sum(grads, dim=tuple(range(lead))) if lead else grads


register(OpDef(
    name="bilinear", forward=_bilinear_forward,
    vjps=(_bilinear_grad_x1, _bilinear_grad_x2, _bilinear_grad_weight, _linear_grad_bias),
    grad_fn=lambda node: "AddBackward0" if node.input_dtypes[3] is not None else "ViewBackward0",
    dtype_rule=same_float("bilinear"), saves_inputs=(0, 1, 2), min_inputs=3, max_inputs=4,
    attrs=(optional("bias"),), functions=("nn.functional.bilinear", "bilinear"),
    out_shape=lambda shapes, attrs: tuple(shapes[0][:-1]) + (shapes[2][0],),
    summary="x1^T W_o x2 + b_o for each output o (bias optional)",
))
