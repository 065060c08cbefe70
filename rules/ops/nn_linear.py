"""Rules of linear and bilinear (torch.nn.functional), with an optional bias operand."""

from __future__ import annotations

from gradwire.rules.errors import IndexOutOfRange, ShapeError
from gradwire.rules.spec import OpRules, define

from .nn_common import optional, same_float


def expand_bias(name: str, bias: tuple, out: tuple) -> None:
    """torch adds the bias by expanding it to the result's shape: it must fit without growing it."""
    if not bias:
        return
    if len(bias) > len(out):
        raise ShapeError(f"{name}(): the bias of shape {list(bias)} has more dims than the result {list(out)}")
    for dim, (size, target) in enumerate(zip(bias[::-1], out[::-1])):
        if size not in (1, target):
            position = len(out) - 1 - dim
            raise ShapeError(f"{name}(): the bias does not fit the result: The expanded size of the tensor ({target}) "
                             f"must match the existing size ({size}) at non-singleton dimension {position}.  Target sizes: {list(out)}.  Tensor sizes: "
                             f"{list(bias)}")


def linear_shape(shapes: list, attrs: dict) -> tuple:
    x, w, b = (tuple(s) for s in shapes[:3]) if len(shapes) > 2 else (tuple(shapes[0]), tuple(shapes[1]), ())
    if not x or not w:
        raise ShapeError(f"linear(): both arguments to linear need to be at least 1D, but they are {len(x)}D and "
                         f"{len(w)}D")
    if len(w) > 2:
        raise ShapeError(f"linear(): t() expects a tensor with <= 2 dimensions, but self is {len(w)}D")
    if len(w) == 1:
        if b:
            raise ShapeError("linear(): mat2 must be a matrix, got 1-D tensor (a 1-D weight takes no bias)")
        if x[-1] != w[0]:
            raise ShapeError(f"linear(): size mismatch, got input ({x[0] if len(x) > 1 else 1}), mat "
                             f"({'x'.join(map(str, x))}), vec ({w[0]})")
        out = x[:-1]
    else:
        if x[-1] != w[1]:
            raise ShapeError(f"linear(): mat1 and mat2 shapes cannot be multiplied ({_prod(x[:-1])}x{x[-1]} and "
                             f"{w[1]}x{w[0]}): the input's last dim must equal weight.shape[-1]")
        out = x[:-1] + (w[0],)
    expand_bias("linear", b, out)
    return out


def _prod(sizes: tuple) -> int:
    total = 1
    for n in sizes:
        total *= n
    return total


def _linear_name(call) -> str:
    rank, has_bias = len(call.input_shapes[0]), call.input_dtypes[2] is not None
    if len(call.input_shapes[1]) == 1:
        return "AddBackward0" if has_bias else ("DotBackward0" if rank == 1 else "MvBackward0")
    if rank == 2:
        return "AddmmBackward0" if has_bias else "MmBackward0"
    if rank == 1:
        return "ViewBackward0" if has_bias else "SqueezeBackward4"
    return "ViewBackward0" if has_bias else "UnsafeViewBackward0"


define(OpRules(
    name="linear", grad_fn=_linear_name, dtype_rule=same_float("linear"), min_inputs=2, max_inputs=3,
    attrs=(optional("bias"),), functions=("nn.functional.linear",), out_shape=linear_shape,
    summary="x @ weight.T + bias (bias optional)",
))


def bilinear_shape(shapes: list, attrs: dict) -> tuple:
    x1, x2, w = (tuple(s) for s in shapes[:3])
    b = tuple(shapes[3]) if len(shapes) > 3 else ()
    if len(x1) != len(x2):
        raise ShapeError(f"bilinear(): input dimensions do not match: got {len(x1)} and {len(x2)}")
    if not x1:
        raise IndexOutOfRange("bilinear(): Dimension specified as -1 but tensor has no dimensions")
    for dim, (a, c) in enumerate(zip(x1[:-1], x2[:-1])):
        if a != c:
            raise ShapeError(f"bilinear(): input batch dimensions do not match at dim {dim}: got {a} and {c}")
    if len(w) >= 2 and x1[-1] != w[1]:
        raise ShapeError(f"bilinear(): input1 size does not match weight size: got {x1[-1]} but expected {w[1]}")
    if len(w) < 3:
        raise IndexOutOfRange(f"bilinear(): Dimension out of range (expected to be in range of "
                              f"[-{max(len(w), 1)}, {max(len(w), 1) - 1}], but got 2): the weight must be 3-D")
    if len(w) > 3:
        raise ShapeError(f"bilinear(): weight must be 3-D (out, in1, in2), got {list(w)}")
    if x1[-1] != w[1]:
        raise ShapeError(f"bilinear(): input1 size does not match weight size: got {x1[-1]} but expected {w[1]}")
    if x2[-1] != w[2]:
        raise ShapeError(f"bilinear(): input2 size does not match weight size: got {x2[-1]} but expected {w[2]}")
    if b and (len(b) != 1 or b[0] != w[0]):
        raise ShapeError(f"bilinear(): bias size does not match weight size: got {b[-1]} but expected {w[0]}")
    return x1[:-1] + (w[0],)


define(OpRules(
    name="bilinear",
    grad_fn=lambda call: "AddBackward0" if call.input_dtypes[3] is not None else "ViewBackward0",
    dtype_rule=same_float("bilinear"), min_inputs=3, max_inputs=4,
    attrs=(optional("bias"),), functions=("nn.functional.bilinear", "bilinear"), out_shape=bilinear_shape,
    summary="x1^T W_o x2 + b_o for each output o (bias optional)",
))
