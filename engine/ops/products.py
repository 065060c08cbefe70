"""Products: einsum, tensordot, outer (ger), kron, cross, and the fused addmm / addmv / baddbmm / addbmm.

einsum's VJP for an operand is another einsum (the output gradient contracted with the other operands
onto that operand's subscripts), so it is differentiable to any order; tensordot is an einsum with a
generated equation.
"""

from __future__ import annotations

import string

import numpy as np

from gradwire.rules.errors import ArgumentError, DTypeRuntimeError, ShapeError
from ..registry import AttrSpec, OpDef, register
from .checks import check_tensors
from .reductions import axes_of


def _same_dtype(name: str):
    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        check_tensors(name, operand_dtypes, operands)
        if any(d is not operand_dtypes[0] for d in operand_dtypes):
            raise DTypeRuntimeError(f"{name}(): expected all operands to have the same dtype, got "
                                    f"{', '.join(d.name for d in operand_dtypes)}; convert them with .to(dtype)")
        return None, operand_dtypes[0]

    return rule


# ---------------------------------------------------------------- einsum
def parse_equation(equation: str, count: int) -> tuple[list[str], str]:
    """(input subscripts, output subscripts), spaces removed, the implicit output made explicit."""
    equation = equation.replace(" ", "")
    left, arrow, right = equation.partition("->")
    inputs = left.split(",")
    if len(inputs) != count:
        raise ShapeError(f"einsum(): more operands were provided than specified in the equation" if count > len(inputs)
                         else "einsum(): fewer operands were provided than specified in the equation")
    if not arrow:
        letters = [c for c in left if c.isalpha()]
        right = ("..." if "..." in left else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, right


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


def _einsum_parse(args, kwargs):
    equation, *rest = args if args else (kwargs.pop("equation"),)
    operands = list(rest[0]) if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else list(rest)
    if not isinstance(equation, str):
        raise ArgumentError("einsum(): the first argument must be the equation string")
    return operands, {"equation": equation, **kwargs}


register(OpDef(
    name="einsum", forward=_einsum_forward, variadic_vjp=_einsum_vjp, grad_fn="ViewBackward0",
    dtype_rule=_same_dtype("einsum"), saves_all_inputs=True, min_inputs=1, max_inputs=-1,
    attrs=(AttrSpec("equation", "text", required=True, description="subscripts such as 'ij,jk->ik' ('...' broadcasts)"),),
    parse=_einsum_parse, functions=("einsum",), summary="Einstein summation over the operands",
))


# ---------------------------------------------------------------- tensordot
def _tensordot_dims(shape_a: tuple, shape_b: tuple, dims) -> tuple[list[int], list[int]]:
    if isinstance(dims, int):
        if dims < 0 or dims > min(len(shape_a), len(shape_b)):
            raise ShapeError(f"tensordot expects dims >= 0 and at most the operands' ranks, got {dims}")
        return list(range(len(shape_a) - dims, len(shape_a))), list(range(dims))
    if len(dims) % 2:
        raise ShapeError("tensordot expects dims as two lists of the same length")
    half = len(dims) // 2
    first = [axes_of(d, len(shape_a))[0] for d in dims[:half]]
    second = [axes_of(d, len(shape_b))[0] for d in dims[half:]]
    return first, second


def tensordot_equation(shape_a: tuple, shape_b: tuple, dims) -> str:
    first, second = _tensordot_dims(shape_a, shape_b, dims)
    letters = iter(string.ascii_letters)
    a = [next(letters) for _ in shape_a]
    b = [next(letters) for _ in shape_b]
    for i, j in zip(first, second):
        if shape_a[i] != shape_b[j]:
            raise ShapeError(f"contracted dimensions need to match, but first has size {shape_a[i]} in dim {i} and "
                             f"second has size {shape_b[j]} in dim {j}")
        b[j] = a[i]
    out = [ch for k, ch in enumerate(a) if k not in first] + [ch for k, ch in enumerate(b) if k not in second]
    return "".join(a) + "," + "".join(b) + "->" + "".join(out)


def _tensordot_parse(args, kwargs):
    args = list(args)
    dims = kwargs.pop("dims", args.pop(2) if len(args) > 2 else 2)
    if isinstance(dims, (list, tuple)) and len(dims) == 2 and all(isinstance(d, (list, tuple)) for d in dims):
        dims = tuple(dims[0]) + tuple(dims[1])
    return args, {"dims": dims, **kwargs}


def _tensordot_vjp(position):
    def vjp(F, g, c):
        equation = tensordot_equation(c.input_shapes[0], c.input_shapes[1], c.attrs["dims"])
        inputs, output = equation.split("->")
        a, b = inputs.split(",")
        if position == 0:
            return F.einsum(g, c.inputs[1], equation=f"{output},{b}->{a}")
        return F.einsum(c.inputs[0], g, equation=f"{a},{output}->{b}")

    return vjp


register(OpDef(
    name="tensordot",
    forward=lambda arrays, attrs: np.einsum(tensordot_equation(arrays[0].shape, arrays[1].shape, attrs["dims"]), *arrays),
    vjps=(_tensordot_vjp(0), _tensordot_vjp(1)), grad_fn="ViewBackward0", dtype_rule=_same_dtype("tensordot"),
    saves_all_inputs=True, min_inputs=2, max_inputs=2,
    attrs=(AttrSpec("dims", "integer|ints", default=2, description="how many trailing/leading dims to contract, or "
                    "the dims of a then the dims of b (the SDK flattens torch's pair of lists)"),),
    parse=_tensordot_parse, functions=("tensordot",), summary="contract a and b over the given dims",
))


# ---------------------------------------------------------------- outer, kron, cross
def _outer_forward(arrays: list, attrs: dict):
    a, b = arrays
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"outer: expected 1-D vectors, got {a.ndim}-D and {b.ndim}-D")
    return np.multiply.outer(a, b)


register(OpDef(
    name="outer", forward=_outer_forward,
    vjps=(lambda F, g, c: F.matmul(g, c.inputs[1]), lambda F, g, c: F.matmul(F.t(g), c.inputs[0])),
    grad_fn="MulBackward0", dtype_rule=_same_dtype("outer"), saves_all_inputs=True, min_inputs=2, max_inputs=2,
    methods=("outer", "ger"), functions=("outer", "ger"),
    out_shape=lambda shapes, attrs: tuple(shapes[0]) + tuple(shapes[1]), summary="the outer product of two vectors",
))


def _kron_parts(shape_a: tuple, shape_b: tuple) -> tuple[tuple, tuple, tuple]:
    ndim = max(len(shape_a), len(shape_b))
    a = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    b = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    return a, b, tuple(x for pair in zip(a, b) for x in pair)


def _kron_vjp(position):
    """g viewed as (a0, b0, a1, b1, ...): each operand's gradient is the other contracted over its axes."""

    def vjp(F, g, c):
        a_shape, b_shape, split = _kron_parts(*c.input_shapes)
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


register(OpDef(
    name="kron", forward=lambda arrays, attrs: np.kron(*arrays), vjps=(_kron_vjp(0), _kron_vjp(1)),
    grad_fn="UnsafeViewBackward0", dtype_rule=_same_dtype("kron"), saves_all_inputs=True, min_inputs=2, max_inputs=2,
    methods=("kron",), functions=("kron",),
    out_shape=lambda shapes, attrs: tuple(x * y for x, y in zip(*_kron_parts(*shapes)[:2])),
    summary="the Kronecker product",
))


def _cross_axis(shapes: list, attrs: dict) -> int:
    shape = np.broadcast_shapes(*shapes)
    dim = attrs["dim"]
    if dim is None:
        found = [i for i, n in enumerate(shape) if n == 3]
        if not found:
            raise ShapeError(f"no dimension of size 3 in input of shape {list(shape)}")
        return found[0]
    axis = axes_of(dim, len(shape))[0]
    if any(s[axis] != 3 for s in shapes):
        raise ShapeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {list(shapes[0])} and "
                         f"{list(shapes[1])}")
    return axis


def _cross_forward(arrays: list, attrs: dict):
    a, b = arrays
    if a.ndim != b.ndim:
        raise ShapeError(f"linalg.cross: inputs must have the same number of dimensions, got {a.ndim} and {b.ndim}")
    axis = _cross_axis([a.shape, b.shape], attrs)
    return np.cross(a, b, axis=axis)


def _cross(name: str, default_dim, functions: tuple, methods: tuple) -> None:
    register(OpDef(
        name=name, forward=_cross_forward,
        vjps=(lambda F, g, c: getattr(F, name)(c.inputs[1], g, dim=_cross_axis(list(c.input_shapes), c.attrs)),
              lambda F, g, c: getattr(F, name)(g, c.inputs[0], dim=_cross_axis(list(c.input_shapes), c.attrs))),
        grad_fn="LinalgCrossBackward0", dtype_rule=_same_dtype(name), saves_all_inputs=True, min_inputs=2, max_inputs=2,
        attrs=(AttrSpec("dim", "integer", default=default_dim, aliases=("axis",), description="the dim of length 3 holding the vectors"
                        + ("; the first dim of size 3 when omitted" if default_dim is None else "")),),
        methods=methods, functions=functions, summary="the cross product of 3-vectors along dim (broadcasting)",
    ))


_cross("cross", None, ("cross",), ("cross",))
_cross("linalg_cross", -1, ("linalg.cross",), ())


# ---------------------------------------------------------------- addmm, addmv, baddbmm, addbmm
def _scaled(value, factor):
    return value if factor == 1 else value * factor


def _fused(name: str, product, grad_fn: str, left_vjp, right_vjp, summary: str) -> None:
    def forward(arrays: list, attrs: dict):
        base, left, right = arrays
        made = product(left, right)
        beta, alpha = attrs["beta"], attrs["alpha"]
        if beta == 0:
            return np.broadcast_to(_scaled(made, alpha), np.broadcast_shapes(base.shape, made.shape)).copy()
        try:
            return _scaled(base, beta) + _scaled(made, alpha)
        except ValueError:
            raise ShapeError(f"{name}(): input of shape {list(base.shape)} does not broadcast to the product's "
                             f"shape {list(made.shape)}") from None

    register(OpDef(
        name=name, forward=forward,
        vjps=(lambda F, g, c: g * c.attrs["beta"] if c.attrs["beta"] != 1 else g,
              lambda F, g, c: _scaled(left_vjp(F, g, c), c.attrs["alpha"]),
              lambda F, g, c: _scaled(right_vjp(F, g, c), c.attrs["alpha"])),
        grad_fn=grad_fn, dtype_rule=_same_dtype(name), saves_all_inputs=True, min_inputs=3, max_inputs=3,
        attrs=(AttrSpec("beta", "real", default=1, description="the multiplier of input"),
               AttrSpec("alpha", "real", default=1, description="the multiplier of the product")),
        methods=(name,), functions=(name,), summary=summary,
    ))


def _mT(F, x):
    return F.transpose(x, dim0=-1, dim1=-2)


def _checked(name: str, check):
    def product(a, b):
        message = check(a.shape, b.shape)
        if message:
            raise ShapeError(f"{name}(): {message}")
        return np.matmul(a, b)

    return product


def _check_mm(a, b):
    if len(a) != 2 or len(b) != 2:
        return f"mat1 and mat2 must be matrices, got {len(a)}-D and {len(b)}-D"
    return "" if a[1] == b[0] else f"mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[1]} and {b[0]}x{b[1]})"


def _check_mv(a, b):
    if len(a) != 2 or len(b) != 1:
        return f"expected a matrix and a vector, got {len(a)}-D and {len(b)}-D"
    return "" if a[1] == b[0] else f"size mismatch, got mat ({a[0]}x{a[1]}), vec ({b[0]})"


def _check_bmm(a, b):
    if len(a) != 3 or len(b) != 3:
        return f"batch1 and batch2 must be 3D tensors, got {len(a)}-D and {len(b)}-D"
    return "" if a[0] == b[0] and a[2] == b[1] else f"batch shapes {list(a)} and {list(b)} cannot be multiplied"


_fused("addmm", _checked("addmm", _check_mm), "AddmmBackward0",
       lambda F, g, c: F.matmul(g, F.t(c.inputs[2])), lambda F, g, c: F.matmul(F.t(c.inputs[1]), g),
       "beta * input + alpha * (mat1 @ mat2)")
_fused("addmv", _checked("addmv", _check_mv), "AddmvBackward0",
       lambda F, g, c: F.matmul(F.unsqueeze(g, dim=1), F.unsqueeze(c.inputs[2], dim=0)),
       lambda F, g, c: F.matmul(F.t(c.inputs[1]), g), "beta * input + alpha * (mat @ vec)")
_fused("baddbmm", _checked("baddbmm", _check_bmm), "BaddbmmBackward0",
       lambda F, g, c: F.matmul(g, _mT(F, c.inputs[2])), lambda F, g, c: F.matmul(_mT(F, c.inputs[1]), g),
       "beta * input + alpha * (batch1 @ batch2), per batch")
_fused("addbmm", lambda a, b: _checked("addbmm", _check_bmm)(a, b).sum(0), "AddbmmBackward0",
       lambda F, g, c: F.matmul(F.unsqueeze(g, dim=0), _mT(F, c.inputs[2])),
       lambda F, g, c: F.matmul(_mT(F, c.inputs[1]), F.unsqueeze(g, dim=0)),
       "beta * input + alpha * (sum over the batch of batch1 @ batch2)")
