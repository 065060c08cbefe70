"""Products: einsum, tensordot, outer (ger), kron, cross, and the fused addmm / addmv / baddbmm / addbmm.

einsum's VJP for an operand is another einsum (the output gradient contracted with the other operands
onto that operand's subscripts), so it is differentiable to any order; tensordot is an einsum with a
generated equation. Their rules (shapes with torch's errors, dtypes, parsing, grad_fn names) are
gradwire.rules.ops.products.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import ArgumentError, ShapeError
from gradwire.rules.ops.products import cross_axis, kron_parts, parse_equation, tensordot_equation

from ..registry import implement


# ---------------------------------------------------------------- einsum
def _einsum_forward(arrays: list, attrs: dict):
    inputs, output = parse_equation(attrs["equation"], len(arrays))
    try:
        return np.einsum(",".join(inputs) + "->" + output, *arrays, optimize=len(arrays) > 2)
    except ValueError as error:
        raise ShapeError(f"einsum(): {error}") from None


def _letters(subscripts: str) -> list[str]:
    return [c for c in subscripts.replace("...", "") if c.isalpha()]


def _einsum_vjp(F, g, c, position):
    inputs, output = parse_equation(c.attrs["equation"], len(c.input_shapes))
    mine = inputs[position]
    if len(set(_letters(mine))) != len(_letters(mine)):
        raise ArgumentError(f"einsum(): the gradient for operand {position} with a repeated subscript ({mine}) is "
                            "not supported; take the diagonal with torch.diagonal first")
    others = [(s, x) for k, (s, x) in enumerate(zip(inputs, c.inputs)) if k != position]
    available = set(_letters(output)) | {ch for s, _ in others for ch in _letters(s)}
    target = "".join(ch if ch.isalpha() else "" for ch in mine.replace("...", "")) if "..." not in mine else mine
    kept = "".join(ch for ch in target if not ch.isalpha() or ch in available or ch == ".")
    if "..." in mine and "..." not in output and all("..." not in s for s, _ in others):
        raise ArgumentError("einsum(): the gradient of a summed-out ellipsis is not supported")
    equation = ",".join([output] + [s for s, _ in others]) + "->" + kept
    grad = F.einsum(g, *[x for _, x in others], equation=equation)
    if kept == target:
        return grad
    # Letters only this operand has were summed in the forward: their gradient is the same along them.
    shape = c.input_shapes[position]
    ellipsis_dims = len(shape) - len(_letters(mine))
    sizes, lifted = [], []
    grad_shape = list(F.shape(grad))
    cursor = 0
    for ch in target.replace("...", "."):
        if ch == ".":
            lifted += grad_shape[cursor:cursor + ellipsis_dims]
            sizes += grad_shape[cursor:cursor + ellipsis_dims]
            cursor += ellipsis_dims
        elif ch in available:
            lifted.append(grad_shape[cursor])
            sizes.append(grad_shape[cursor])
            cursor += 1
        else:
            lifted.append(1)
            sizes.append(shape[len(sizes)])
    return F.expand(F.reshape(grad, shape=tuple(lifted)), shape=tuple(sizes))


implement("einsum", _einsum_forward, variadic_vjp=_einsum_vjp, saves_all_inputs=True)


# ---------------------------------------------------------------- tensordot
def _tensordot_vjp(position):
    def vjp(F, g, c):
        equation = tensordot_equation(c.input_shapes[0], c.input_shapes[1], c.attrs["dims"])
        inputs, output = equation.split("->")
        a, b = inputs.split(",")
        if position == 0:
            return F.einsum(g, c.inputs[1], equation=f"{output},{b}->{a}")
        return F.einsum(c.inputs[0], g, equation=f"{a},{output}->{b}")

    return vjp


implement("tensordot", lambda arrays, attrs: np.einsum(tensordot_equation(arrays[0].shape, arrays[1].shape,
                                                                          attrs["dims"]), *arrays),
          vjps=(_tensordot_vjp(0), _tensordot_vjp(1)), saves_all_inputs=True)


# ---------------------------------------------------------------- outer, kron, cross
implement("outer", lambda arrays, attrs: np.multiply.outer(*arrays), saves_all_inputs=True,
          vjps=(lambda F, g, c: F.matmul(g, c.inputs[1]), lambda F, g, c: F.matmul(F.t(g), c.inputs[0])))


def _kron_vjp(position):
    """g viewed as (a0, b0, a1, b1, ...): each operand's gradient is the other contracted over its axes."""

    def vjp(F, g, c):
        a_shape, b_shape, split = kron_parts(*c.input_shapes)
        ndim = len(a_shape)
        blocks = F.reshape(g, shape=split)
        if position == 0:
            other = F.reshape(c.inputs[1], shape=tuple(x for n in b_shape for x in (1, n)))
            axes = tuple(range(1, 2 * ndim, 2))
        else:
            other = F.reshape(c.inputs[0], shape=tuple(x for n in a_shape for x in (n, 1)))
            axes = tuple(range(0, 2 * ndim, 2))
        summed = F.sum(blocks * other, dim=axes) if axes else blocks * other
        return F.reshape(summed, shape=c.input_shapes[position])

    return vjp


implement("kron", lambda arrays, attrs: np.kron(*arrays), vjps=(_kron_vjp(0), _kron_vjp(1)), saves_all_inputs=True)


def _cross_forward(arrays: list, attrs: dict):
    a, b = arrays
    return np.cross(a, b, axis=cross_axis([a.shape, b.shape], attrs))


def _cross(name: str) -> None:
    implement(name, _cross_forward, saves_all_inputs=True, vjps=(
        lambda F, g, c: getattr(F, name)(c.inputs[1], g, dim=cross_axis(list(c.input_shapes), c.attrs)),
        lambda F, g, c: getattr(F, name)(g, c.inputs[0], dim=cross_axis(list(c.input_shapes), c.attrs))))


_cross("cross")
_cross("linalg_cross")


# ---------------------------------------------------------------- addmm, addmv, baddbmm, addbmm
def _scaled(value, factor):
    return value if factor == 1 else value * factor


def _fused(name: str, product, left_vjp, right_vjp) -> None:
    def forward(arrays: list, attrs: dict):
        base, left, right = arrays
        made = product(left, right)
        beta, alpha = attrs["beta"], attrs["alpha"]
        if beta == 0:  # input is ignored, nan and inf included (the shape rule checked it expands to made)
            return np.array(_scaled(made, alpha), copy=True)
        return _scaled(base, beta) + _scaled(made, alpha)

    # addmm_ and the like write into input when it has the product's shape (engine/inplace.py derives them).
    implement(name, forward, saves_all_inputs=True, vjps=(
        lambda F, g, c: g * c.attrs["beta"] if c.attrs["beta"] != 1 else g,
        lambda F, g, c: _scaled(left_vjp(F, g, c), c.attrs["alpha"]),
        lambda F, g, c: _scaled(right_vjp(F, g, c), c.attrs["alpha"])))


def _mT(F, x):
    return F.transpose(x, dim0=-1, dim1=-2)


_fused("addmm", np.matmul,
       lambda F, g, c: F.matmul(g, F.t(c.inputs[2])), lambda F, g, c: F.matmul(F.t(c.inputs[1]), g))
_fused("addmv", np.matmul,
       lambda F, g, c: F.matmul(F.unsqueeze(g, dim=1), F.unsqueeze(c.inputs[2], dim=0)),
       lambda F, g, c: F.matmul(F.t(c.inputs[1]), g))
_fused("baddbmm", np.matmul,
       lambda F, g, c: F.matmul(g, _mT(F, c.inputs[2])), lambda F, g, c: F.matmul(_mT(F, c.inputs[1]), g))
_fused("addbmm", lambda a, b: np.matmul(a, b).sum(0),
       lambda F, g, c: F.matmul(F.unsqueeze(g, dim=0), _mT(F, c.inputs[2])),
       lambda F, g, c: F.matmul(_mT(F, c.inputs[1]), F.unsqueeze(g, dim=0)))
