"""Rules of the products: einsum, tensordot, outer (ger), kron, cross and the fused addmm / addmv /
baddbmm / addbmm (see rules/spec.py); matmul, mm, bmm, dot and mv are in matmul.py.

The shape rules raise torch's RuntimeError with torch's message for operands that cannot be multiplied,
and the dtype rules torch's RuntimeError for operands of different dtypes (products never promote).
"""

from __future__ import annotations

import string

from ..checks import check_tensors
from ..errors import ArgumentError, DTypeRuntimeError, ShapeError
from ..shapes import broadcast_shapes, normalise_dim
from ..spec import AttrSpec, OpRules, define
from .matmul import bmm_sizes, mm_sizes, mv_sizes


def same_dtype(name: str):
    """The dtype rule of products: every operand a Tensor, all of one dtype (torch does not promote)."""

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
        raise ShapeError("einsum(): more operands were provided than specified in the equation" if count > len(inputs)
                         else "einsum(): fewer operands were provided than specified in the equation")
    if not arrow:
        letters = [c for c in left if c.isalpha()]
        right = ("..." if "..." in left else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs, right


def _split_ellipsis(subscripts: str, shape: tuple, position: int) -> tuple[list[tuple[str, int]], tuple]:
    """The (letter, size) pairs of one operand and the sizes its ellipsis stands for."""
    before, ellipsis, after = subscripts.partition("...")
    letters = before + after
    if any(not c.isalpha() for c in letters):
        raise ShapeError(f"einsum(): invalid subscript given in the equation: {subscripts!r} (letters and '...' only)")
    if not ellipsis and len(letters) != len(shape):
        raise ShapeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) does not match the "
                         f"number of dimensions ({len(shape)}) for operand {position} and no ellipsis was given")
    if len(letters) > len(shape):
        raise ShapeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) is more than the number "
                         f"of dimensions ({len(shape)}) for operand {position}")
    spanned = len(shape) - len(letters)
    sizes = shape[:len(before)] + shape[len(before) + spanned:]
    return list(zip(letters, sizes)), shape[len(before):len(before) + spanned]


def _einsum_shape(shapes: list, attrs: dict) -> tuple:
    inputs, output = parse_equation(attrs["equation"], len(shapes))
    sizes: dict[str, int] = {}
    spans = []
    for position, (subscripts, shape) in enumerate(zip(inputs, shapes)):
        pairs, span = _split_ellipsis(subscripts, tuple(shape), position)
        spans.append(span)
        own: dict[str, int] = {}
        for letter, size in pairs:
            if own.setdefault(letter, size) != size:
                raise ShapeError(f"einsum(): subscript {letter} is repeated for operand {position} but the sizes don't "
                                 f"match, {own[letter]} != {size}")
            seen = sizes.get(letter)
            if seen is not None and size not in (1, seen) and seen != 1:
                raise ShapeError(f"einsum(): subscript {letter} has size {size} for operand {position} which does not "
                                 f"broadcast with previously seen size {seen}")
            sizes[letter] = size if seen in (None, 1) else seen
    before, _, after = output.partition("...")
    for letter in before + after:
        if letter not in sizes:
            raise ShapeError(f"einsum(): output subscript {letter} does not appear in the equation for any input operand")
    span = broadcast_shapes([s for s in spans]) if "..." in output else ()
    return tuple(sizes[c] for c in before) + tuple(span) + tuple(sizes[c] for c in after)


def _einsum_parse(args, kwargs):
    equation, *rest = args if args else (kwargs.pop("equation"),)
    operands = list(rest[0]) if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else list(rest)
    if not isinstance(equation, str):
        raise ArgumentError("einsum(): the first argument must be the equation string")
    return operands, {"equation": equation, **kwargs}


define(OpRules(
    name="einsum", grad_fn="ViewBackward0", dtype_rule=same_dtype("einsum"), min_inputs=1, max_inputs=-1,
    attrs=(AttrSpec("equation", "text", required=True, description="subscripts such as 'ij,jk->ik' ('...' broadcasts)"),),
    out_shape=_einsum_shape, parse=_einsum_parse, functions=("einsum",), summary="Einstein summation over the operands",
))


# ---------------------------------------------------------------- tensordot
def tensordot_dims(shape_a: tuple, shape_b: tuple, dims) -> tuple[list[int], list[int]]:
    """The contracted dims of a and of b."""
    if isinstance(dims, int):
        if dims < 0 or dims > min(len(shape_a), len(shape_b)):
            raise ShapeError(f"tensordot expects dims >= 0 and at most the operands' ranks, got dims={dims}")
        return list(range(len(shape_a) - dims, len(shape_a))), list(range(dims))
    if len(dims) % 2:
        raise ShapeError("tensordot expects dims as two lists of the same length")
    half = len(dims) // 2
    return [normalise_dim(d, len(shape_a)) for d in dims[:half]], [normalise_dim(d, len(shape_b)) for d in dims[half:]]


def tensordot_equation(shape_a: tuple, shape_b: tuple, dims) -> str:
    """The einsum equation of tensordot(a, b, dims); torch's error for contracted dims of different sizes."""
    first, second = tensordot_dims(shape_a, shape_b, dims)
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


def _tensordot_shape(shapes: list, attrs: dict) -> tuple:
    a, b = (tuple(s) for s in shapes)
    tensordot_equation(a, b, attrs["dims"])  # checks the contracted sizes
    first, second = tensordot_dims(a, b, attrs["dims"])
    return tuple(n for k, n in enumerate(a) if k not in first) + tuple(n for k, n in enumerate(b) if k not in second)


def _tensordot_parse(args, kwargs):
    args = list(args)
    dims = kwargs.pop("dims", args.pop(2) if len(args) > 2 else 2)
    if isinstance(dims, (list, tuple)) and len(dims) == 2 and all(isinstance(d, (list, tuple)) for d in dims):
        dims = tuple(dims[0]) + tuple(dims[1])
    return args, {"dims": dims, **kwargs}


define(OpRules(
    name="tensordot", grad_fn="ViewBackward0", dtype_rule=same_dtype("tensordot"), min_inputs=2, max_inputs=2,
    attrs=(AttrSpec("dims", "integer|ints", default=2, description="how many trailing/leading dims to contract, or "
                    "the dims of a then the dims of b (the SDK flattens torch's pair of lists)"),),
    out_shape=_tensordot_shape, parse=_tensordot_parse, functions=("tensordot",),
    summary="contract a and b over the given dims",
))


# ---------------------------------------------------------------- outer, kron, cross
def _outer_shape(shapes: list, attrs: dict) -> tuple:
    for name, shape in zip(("self", "vec2"), shapes):
        if len(shape) != 1:
            raise ShapeError(f"outer: Expected 1-D argument {name}, but got {len(shape)}-D")
    return tuple(shapes[0]) + tuple(shapes[1])


define(OpRules(
    name="outer", grad_fn="MulBackward0", dtype_rule=same_dtype("outer"), min_inputs=2, max_inputs=2,
    methods=("outer", "ger"), functions=("outer", "ger"), out_shape=_outer_shape,
    summary="the outer product of two vectors",
))


def kron_parts(shape_a: tuple, shape_b: tuple) -> tuple[tuple, tuple, tuple]:
    """Both shapes padded to one rank, and the interleaved (a0, b0, a1, b1, ...) shape of the result's blocks."""
    ndim = max(len(shape_a), len(shape_b))
    a = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    b = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    return a, b, tuple(x for pair in zip(a, b) for x in pair)


define(OpRules(
    name="kron", grad_fn="UnsafeViewBackward0", dtype_rule=same_dtype("kron"), min_inputs=2, max_inputs=2,
    methods=("kron",), functions=("kron",),
    out_shape=lambda shapes, attrs: tuple(x * y for x, y in zip(*kron_parts(*shapes)[:2])),
    summary="the Kronecker product",
))


def cross_axis(shapes: list, attrs: dict) -> int:
    """The dim holding the 3-vectors (cross without dim: the first of size 3), or torch's error."""
    a, b = (tuple(s) for s in shapes)
    if len(a) != len(b):
        raise ShapeError(f"linalg.cross: inputs must have the same number of dimensions (got {len(a)} and {len(b)})")
    shape = broadcast_shapes([a, b])
    dim = attrs["dim"]
    if dim is None:
        found = [i for i, n in enumerate(shape) if n == 3]
        if not found:
            raise ShapeError(f"no dimension of size 3 in input of shape {list(shape)}")
        return found[0]
    axis = normalise_dim(dim, len(shape))
    if a[axis] != 3 or b[axis] != 3:
        raise ShapeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a[axis]} and {b[axis]}")
    return axis


def _cross_shape(shapes: list, attrs: dict) -> tuple:
    cross_axis(shapes, attrs)
    return broadcast_shapes([tuple(s) for s in shapes])


for _name, _default, _functions, _methods in (("cross", None, ("cross",), ("cross",)),
                                               ("linalg_cross", -1, ("linalg.cross",), ())):
    define(OpRules(
        name=_name, grad_fn="LinalgCrossBackward0", dtype_rule=same_dtype(_name), min_inputs=2, max_inputs=2,
        attrs=(AttrSpec("dim", "integer", default=_default, aliases=("axis",), description="the dim of length 3 holding "
                        "the vectors" + ("; the first dim of size 3 when omitted" if _default is None else "")),),
        out_shape=_cross_shape, methods=_methods, functions=_functions,
        summary="the cross product of 3-vectors along dim (broadcasting)",
    ))


# ---------------------------------------------------------------- addmm, addmv, baddbmm, addbmm
def _expandable(base: tuple, target: tuple) -> None:
    """torch's error when the added input does not expand to the product's shape."""
    if len(base) > len(target):
        raise ShapeError(f"expand: the number of sizes provided ({len(target)}) must be greater or equal to the number "
                         f"of dimensions in the tensor ({len(base)}) (input {list(base)}, product {list(target)})")
    pad = len(target) - len(base)
    for i, (n, m) in reversed(list(enumerate(zip(base, target[pad:])))):  # torch names the last mismatch
        if n not in (1, m):
            raise ShapeError(f"The expanded size of the tensor ({m}) must match the existing size ({n}) at non-singleton "
                             f"dimension {i + pad}.  Target sizes: {list(target)}.  Tensor sizes: {list(base)}")


def _addmm_product(base: tuple, a: tuple, b: tuple) -> tuple:
    for name, shape in (("mat1", a), ("mat2", b)):
        if len(shape) != 2:
            raise ShapeError(f"{name} must be a matrix, got {len(shape)}-D tensor")
    return mm_sizes(a, b)


def _addmv_product(base: tuple, a: tuple, b: tuple) -> tuple:
    if len(base) > 1 or len(a) != 2 or len(b) != 1:
        raise ShapeError(f"vector + matrix @ vector expected, got {len(base)}, {len(a)}, {len(b)}")
    return mv_sizes(a, b, base[0] if base else 1)


def _baddbmm_product(base: tuple, a: tuple, b: tuple) -> tuple:
    return bmm_sizes(a, b)


def _addbmm_product(base: tuple, a: tuple, b: tuple) -> tuple:
    for name, shape in (("batch1", a), ("batch2", b)):
        if len(shape) != 3:
            raise ShapeError(f"{name} must be a 3D tensor")
    if a[0] != b[0]:
        raise ShapeError(f"batch1 and batch2 must have same number of batches, got {a[0]} and {b[0]}")
    if a[2] != b[1]:
        raise ShapeError(f"Incompatible matrix sizes for bmm ({a[1]}x{a[2]} and {b[1]}x{b[2]})")
    return a[1], b[2]


def _fused_shape(product):
    def out_shape(shapes: list, attrs: dict) -> tuple:
        base, a, b = (tuple(s) for s in shapes)
        made = product(base, a, b)
        _expandable(base, made)
        return made

    return out_shape


for _name, _product_shape, _summary in (
    ("addmm", _addmm_product, "beta * input + alpha * (mat1 @ mat2)"),
    ("addmv", _addmv_product, "beta * input + alpha * (mat @ vec)"),
    ("baddbmm", _baddbmm_product, "beta * input + alpha * (batch1 @ batch2), per batch"),
    ("addbmm", _addbmm_product, "beta * input + alpha * (sum over the batch of batch1 @ batch2)"),
):
    define(OpRules(
        name=_name, grad_fn=f"{_name.capitalize()}Backward0", dtype_rule=same_dtype(_name), min_inputs=3, max_inputs=3,
        attrs=(AttrSpec("beta", "real", default=1, description="the multiplier of input"),
               AttrSpec("alpha", "real", default=1, description="the multiplier of the product")),
        out_shape=_fused_shape(_product_shape), methods=(_name,), functions=(_name,), summary=_summary,
    ))
