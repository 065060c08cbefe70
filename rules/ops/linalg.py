"""Rules of the linalg ops: inv, det, slogdet, solve, cholesky, qr, eigh, svd, svdvals (real, batched); the
products are defined by matmul.py (matmul, mm, bmm, dot, mv) and products.py (einsum, addmm ...), which
this module imports. See rules/spec.py.

Multi-output decompositions run once per output (`pieces`, the attribute `output`): their shape rule
gives the shape of the output the call names.
"""

from __future__ import annotations

from ..errors import ArgumentError, InvalidArgumentRuntimeError, ShapeError
from ..shapes import broadcast_shapes
from ..spec import AttrSpec, OpRules, define
from . import matmul  # noqa: F401  (definition side effects)
from .products import same_dtype
from .reductions import OUTPUT


def float_rule(name: str):
    """Every operand a Tensor of one floating dtype of at least single precision, as torch.linalg requires."""
    same = same_dtype(name)

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        result = same(operand_dtypes, operands, attrs)
        if not operand_dtypes[0].is_floating_point:
            raise InvalidArgumentRuntimeError(f"linalg.{name}: Expected a floating point tensor as input. "
                                              f"Got {operand_dtypes[0].name}")
        if operand_dtypes[0].itemsize < 4:
            raise InvalidArgumentRuntimeError(f"linalg.{name}: Low precision dtypes not supported. "
                                              f"Got {operand_dtypes[0].name}; use float32 or float64")
        return result

    return rule


def matrices(name: str, shape: tuple) -> tuple[int, int]:
    """(rows, columns) of a batch of matrices, or torch's error for fewer than 2 dims."""
    if len(shape) < 2:
        raise InvalidArgumentRuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    return shape[-2], shape[-1]


def square(name: str, shape: tuple) -> int:
    """The size of a batch of square matrices, or torch's error."""
    rows, columns = matrices(name, shape)
    if rows != columns:
        raise InvalidArgumentRuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                                          f"{rows} by {columns} matrices")
    return rows


def _square_shape(name: str, keep: int):
    """A square-matrix op whose result keeps the input's shape but the last `2 - keep` dims."""

    def out_shape(shapes: list, attrs: dict) -> tuple:
        shape = tuple(shapes[0])
        square(name, shape)
        return shape[:len(shape) - 2 + keep]

    return out_shape


def is_vector_rhs(a_shape: tuple, b_shape: tuple) -> bool:
    """linalg.solve's B is a (batch of) vector(s) rather than matrices."""
    return len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and tuple(b_shape) == tuple(a_shape[:-1]))


def _solve_shape(shapes: list, attrs: dict) -> tuple:
    if not attrs["left"]:
        raise ArgumentError("linalg.solve: left=False is not supported here; solve X A = B as A^T X^T = B^T")
    a, b = (tuple(s) for s in shapes)
    n = square("solve", a)
    if not b:
        raise ShapeError("linalg.solve: Expected B to have at least 1 dimension")
    vector = is_vector_rhs(a, b)
    rhs = b + (1,) if vector else b
    if rhs[-2] != n:
        raise ShapeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                         f"({n}x{n} and {rhs[-2]}x{rhs[-1]})")
    out = broadcast_shapes([a[:-2], rhs[:-2]]) + (n, rhs[-1])
    return out[:-1] if vector else out


def _qr_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    m, n = matrices("qr", shape)
    mode = attrs["mode"]
    if mode not in ("reduced", "complete"):
        raise InvalidArgumentRuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                                          "(default), 'complete'")
    k = m if mode == "complete" else min(m, n)
    return shape[:-2] + ((m, k) if attrs["output"] == 0 else (k, n))


def _eigh_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    square("eigh", shape)
    if attrs["UPLO"] not in ("L", "U"):
        raise InvalidArgumentRuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {attrs['UPLO']}")
    return shape[:-1] if attrs["output"] == 0 else shape


def _svd_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    m, n = matrices("svd", shape)
    k = min(m, n)
    full = attrs["full_matrices"]
    return shape[:-2] + [(m, m if full else k), (k,), (n if full else k, n)][attrs["output"]]


def _svdvals_shape(shapes: list, attrs: dict) -> tuple:
    shape = tuple(shapes[0])
    m, n = matrices("svd", shape)
    return shape[:-2] + (min(m, n),)


def _op(name: str, out_shape, grad_fn: str, summary: str, functions: tuple, attrs=(), pieces=None, output_names=(),
        min_inputs=1, max_inputs=1, **options) -> None:
    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=float_rule(functions[0].rpartition(".")[2]), out_shape=out_shape,
        attrs=attrs + ((OUTPUT,) if pieces else ()), pieces=pieces, output_names=output_names,
        min_inputs=min_inputs, max_inputs=max_inputs, functions=functions, summary=summary, **options,
    ))


_op("linalg_inv", _square_shape("inv", 2), "LinalgInvExBackward0", "the inverse of square matrices",
    ("linalg.inv", "inverse"), methods=("inverse",))
_op("linalg_det", _square_shape("det", 0), "LinalgDetBackward0", "the determinant of square matrices",
    ("linalg.det", "det"), methods=("det",))
_op("linalg_slogdet", _square_shape("slogdet", 0), "LinalgSlogdetBackward0", "(sign, log|det|) of square matrices",
    ("linalg.slogdet", "slogdet"), pieces=lambda shapes, attrs: 2, output_names=("sign", "logabsdet"),
    methods=("slogdet",))
_op("linalg_solve", _solve_shape, "LinalgSolveExBackward0", "X with A X = B (B a matrix or a vector, batched)",
    ("linalg.solve",), min_inputs=2, max_inputs=2,
    attrs=(AttrSpec("left", "boolean", default=True, description="solve A X = B (only True is supported)"),))
_op("linalg_cholesky", _square_shape("cholesky", 2), "LinalgCholeskyExBackward0",
    "the Cholesky factor of symmetric positive-definite matrices", ("linalg.cholesky",),
    attrs=(AttrSpec("upper", "boolean", default=False, description="return U = L^T instead of L"),))
_op("linalg_qr", _qr_shape, "LinalgQrBackward0", "(Q, R) with A = QR", ("linalg.qr", "qr"),
    attrs=(AttrSpec("mode", "text", default="reduced", description="'reduced' or 'complete'"),),
    pieces=lambda shapes, attrs: 2, output_names=("Q", "R"), methods=("qr",))
_op("linalg_eigh", _eigh_shape, "LinalgEighBackward0",
    "(eigenvalues ascending, eigenvectors) of symmetric matrices (reads one triangle)", ("linalg.eigh",),
    attrs=(AttrSpec("UPLO", "text", default="L", description="which triangle is read: 'L' or 'U'"),),
    pieces=lambda shapes, attrs: 2, output_names=("eigenvalues", "eigenvectors"))
_op("linalg_svd", _svd_shape, "LinalgSvdBackward0", "(U, S, Vh) with A = U diag(S) Vh", ("linalg.svd",),
    attrs=(AttrSpec("full_matrices", "boolean", default=True,
                    description="square U and Vh (True) or the reduced factors (False)"),),
    pieces=lambda shapes, attrs: 3, output_names=("U", "S", "Vh"))
_op("linalg_svdvals", _svdvals_shape, "LinalgSvdBackward0", "the singular values, descending", ("linalg.svdvals",))
