"""linear and bilinear (torch.nn.functional): forwards and VJPs (rules: gradwire.rules.ops.nn_linear)."""

from __future__ import annotations

import numpy as np

from ..registry import implement
from .nn_common import compute


def _linear_forward(arrays: list, attrs: dict):
    x, w, b = arrays
    out = np.matmul(compute(x), compute(w).T)
    return out if b is None else out + b


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


implement("linear", _linear_forward, vjps=(_linear_grad_input, _linear_grad_weight, _linear_grad_bias),
          saves_inputs=(0, 1))


def _bilinear_forward(arrays: list, attrs: dict):
    x1, x2, w, b = arrays
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


implement("bilinear", _bilinear_forward,
          vjps=(_bilinear_grad_x1, _bilinear_grad_x2, _bilinear_grad_weight, _linear_grad_bias), saves_inputs=(0, 1, 2))
