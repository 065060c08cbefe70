"""torch.linalg: inv, det, slogdet, solve, cholesky, qr, eigh, svd, svdvals (real, batched).

VJPs follow torch's own formulas (FunctionsManual.cpp) and are written with recorded ops, so second
derivatives work. Where torch's gradient is ill-defined so is ours, in the same way: eigh with repeated
eigenvalues and svd with repeated singular values divide by zero (inf/nan gradients, as torch); the
gradient of det at an exactly singular matrix is 0, as torch's (not the adjugate).
Multi-output ops (slogdet, qr, eigh, svd) run once per output (OpDef.pieces), each output its own node.
Their rules (square matrices, modes, shapes, dtypes) are gradwire.rules.ops.linalg, which refuses what
torch refuses before these run; only value-dependent failures (a singular matrix) are found here.
"""

from __future__ import annotations

import numpy as np

from gradwire.rules.errors import InvalidArgumentRuntimeError
from gradwire.rules.ops.linalg import is_vector_rhs

from ..registry import implement


def _mT(F, x):
    return F.transpose(x, dim0=-1, dim1=-2)


def _eye(F, n: int, like):
    return F.constant(np.eye(n, dtype=F.value(like).dtype))


def _op(name: str, forward, vjp, saves_output=True) -> None:
    implement(name, forward, vjps=vjp if isinstance(vjp, tuple) else (vjp,), saves_all_inputs=True,
              saves_output=saves_output)


# ---------------------------------------------------------------- inv, det, slogdet, solve
def _inv_forward(arrays: list, attrs: dict):
    a = arrays[0]
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise InvalidArgumentRuntimeError("linalg.inv: The diagonal element 1 is zero, the inversion could not be "
                                          "completed because the input matrix is singular.") from None


_op("linalg_inv", _inv_forward, lambda F, g, c: -F.matmul(F.matmul(_mT(F, c.output), g), _mT(F, c.output)))


def _det_forward(arrays: list, attrs: dict):
    return np.linalg.det(arrays[0])


def _det_vjp(F, g, c):
    a, det = c.inputs[0], c.output
    scale = F.unsqueeze(F.unsqueeze(g * det, dim=-1), dim=-1)
    if np.all(F.value(det) != 0):
        return scale * _mT(F, F.linalg_inv(a))
    # torch solves A^T X = g det: where det is exactly 0 that gives 0 (not the adjugate); so do we.
    singular = F.constant(F.value(det) == 0)
    safe = F.where(F.unsqueeze(F.unsqueeze(singular, dim=-1), dim=-1), F.constant(np.eye(c.input_shapes[0][-1],
                   dtype=F.value(a).dtype)), a)
    return F.where(F.unsqueeze(F.unsqueeze(singular, dim=-1), dim=-1), 0.0, scale * _mT(F, F.linalg_inv(safe)))


_op("linalg_det", _det_forward, _det_vjp)


def _slogdet_forward(arrays: list, attrs: dict):
    sign, logabsdet = np.linalg.slogdet(arrays[0])
    return sign if attrs["output"] == 0 else logabsdet


def _slogdet_vjp(F, g, c):
    if c.attrs["output"] == 0:
        return F.zeros(c.input_shapes[0], like=g)  # the sign is piecewise constant
    return F.unsqueeze(F.unsqueeze(g, dim=-1), dim=-1) * _mT(F, F.linalg_inv(c.inputs[0]))


_op("linalg_slogdet", _slogdet_forward, _slogdet_vjp, saves_output=False)


def _solve_forward(arrays: list, attrs: dict):
    a, b = arrays
    vector = is_vector_rhs(a.shape, b.shape)
    rhs = b[..., None] if vector else b
    try:
        out = np.linalg.solve(a, rhs)
    except np.linalg.LinAlgError:
        message = "linalg.solve: The solver failed because the input matrix is singular."
        raise InvalidArgumentRuntimeError(message) from None
    return out[..., 0] if vector else out


def _solve_vjp(position: int):
    def vjp(F, g, c):
        a = c.inputs[0]
        grad_b = F.linalg_solve(_mT(F, a), g)
        if position == 1:
            return grad_b
        x = c.output
        if is_vector_rhs(c.input_shapes[0], c.input_shapes[1]):
            return -F.unsqueeze(grad_b, dim=-1) * F.unsqueeze(x, dim=-2)
        return -F.matmul(grad_b, _mT(F, x))

    return vjp


_op("linalg_solve", _solve_forward, (_solve_vjp(0), _solve_vjp(1)))


# ---------------------------------------------------------------- cholesky
def _cholesky_forward(arrays: list, attrs: dict):
    a = arrays[0]
    try:
        lower = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise InvalidArgumentRuntimeError("linalg.cholesky: The factorization could not be completed because the "
                                          "input is not positive-definite.") from None
    return np.swapaxes(lower, -1, -2).copy() if attrs["upper"] else lower


def _cholesky_vjp(F, g, c):
    """torch's cholesky_backward: A^-1-sandwiched Phi(L^T gL), symmetrised."""
    lower = _mT(F, c.output) if c.attrs["upper"] else c.output
    grad = _mT(F, g) if c.attrs["upper"] else g
    n = c.input_shapes[0][-1]
    product = F.matmul(_mT(F, lower), grad)
    phi = F.tril(product) - 0.5 * product * _eye(F, n, g)
    inverse = F.linalg_inv(lower)
    sandwich = F.matmul(F.matmul(_mT(F, inverse), phi), inverse)
    return 0.5 * (sandwich + _mT(F, sandwich))


_op("linalg_cholesky", _cholesky_forward, _cholesky_vjp)


# ---------------------------------------------------------------- qr
def _qr_forward(arrays: list, attrs: dict):
    q, r = np.linalg.qr(arrays[0], mode=attrs["mode"])
    return q if attrs["output"] == 0 else r


def _qr_vjp(F, g, c):
    """m >= n, reduced: gA = (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q (torch's linalg_qr_backward)."""
    m, n = c.input_shapes[0][-2:]
    if m < n or (c.attrs["mode"] == "complete" and m != n):
        raise InvalidArgumentRuntimeError("The derivative of linalg.qr is implemented here for mode='reduced' with "
                                          "m >= n only (torch also requires mode='reduced' or a square input)")
    a = c.inputs[0]
    q = F.linalg_qr(a, mode=c.attrs["mode"], output=0)
    r = F.linalg_qr(a, mode=c.attrs["mode"], output=1)
    if c.attrs["output"] == 0:
        grad_q, grad_r = g, F.zeros(F.shape(r), like=g)
    else:
        grad_q, grad_r = F.zeros(F.shape(q), like=g), g
    m_matrix = F.matmul(r, _mT(F, grad_r)) - F.matmul(_mT(F, grad_q), q)
    lower = F.tril(m_matrix, diagonal=-1)
    copyltu = lower + _mT(F, lower) + m_matrix * _eye(F, n, g)
    b = grad_q + F.matmul(q, copyltu)
    return F.matmul(b, _mT(F, F.linalg_inv(r)))


_op("linalg_qr", _qr_forward, _qr_vjp, saves_output=False)


# ---------------------------------------------------------------- eigh
def _eigh_forward(arrays: list, attrs: dict):
    a = arrays[0]
    values, vectors = np.linalg.eigh(a, UPLO=attrs["UPLO"])
    return values if attrs["output"] == 0 else vectors


def _eigh_vjp(F, g, c):
    """gA = V (diag(gL) + skew(V^T gV) / E) V^T, E_ij = L_j - L_i (inf/nan for repeated eigenvalues, as torch)."""
    a = c.inputs[0]
    values = F.linalg_eigh(a, UPLO=c.attrs["UPLO"], output=0)
    vectors = F.linalg_eigh(a, UPLO=c.attrs["UPLO"], output=1)
    n = c.input_shapes[0][-1]
    eye = _eye(F, n, g)
    if c.attrs["output"] == 0:
        inner = F.unsqueeze(g, dim=-2) * eye
    else:
        product = F.matmul(_mT(F, vectors), g)
        skew = 0.5 * (product - _mT(F, product))
        gaps = F.unsqueeze(values, dim=-2) - F.unsqueeze(values, dim=-1)
        inner = F.where(F.constant(np.eye(n, dtype=bool)), 0.0, skew / F.where(F.constant(np.eye(n, dtype=bool)), 1.0, gaps))
    return F.matmul(F.matmul(vectors, inner), _mT(F, vectors))


_op("linalg_eigh", _eigh_forward, _eigh_vjp, saves_output=False)


# ---------------------------------------------------------------- svd, svdvals
def _svd_forward(arrays: list, attrs: dict):
    u, s, vh = np.linalg.svd(arrays[0], full_matrices=attrs["full_matrices"])
    return (u, s, vh)[attrs["output"]]


def svd_backward(F, a, grad_u, grad_s, grad_vh):
    """torch's svd_backward (real, reduced): U[(skew(U^T gU)/E) S + S (skew(V^T gV)/E) + diag(gS)]V^T plus the
    terms orthogonal to U (m > n) or V (m < n); skew(X) = X - X^T, E_jk = s_k^2 - s_j^2, E_jj = 1."""
    u = F.linalg_svd(a, full_matrices=False, output=0)
    s = F.linalg_svd(a, full_matrices=False, output=1)
    vh = F.linalg_svd(a, full_matrices=False, output=2)
    m, n = F.shape(a)[-2:]
    k = min(m, n)
    eye = _eye(F, k, s)
    if grad_u is None and grad_vh is None:
        return F.matmul(u * F.unsqueeze(grad_s, dim=-2), vh)
    squares = s * s
    gaps = F.unsqueeze(squares, dim=-2) - F.unsqueeze(squares, dim=-1)
    gaps = F.where(F.constant(np.eye(k, dtype=bool)), 1.0, gaps)
    inner = F.zeros(F.shape(gaps), like=s)
    if grad_u is not None:
        uhgu = F.matmul(_mT(F, u), grad_u)
        inner = inner + (uhgu - _mT(F, uhgu)) / gaps * F.unsqueeze(s, dim=-2)
    if grad_vh is not None:
        vhgv = F.matmul(vh, _mT(F, grad_vh))
        inner = inner + F.unsqueeze(s, dim=-1) * ((vhgv - _mT(F, vhgv)) / gaps)
    if grad_s is not None:
        inner = inner + F.unsqueeze(grad_s, dim=-2) * eye
    grad = F.matmul(F.matmul(u, inner), vh)
    if m > n and grad_u is not None:
        grad = grad + F.matmul((grad_u - F.matmul(u, F.matmul(_mT(F, u), grad_u))) / F.unsqueeze(s, dim=-2), vh)
    if m < n and grad_vh is not None:
        grad_v = _mT(F, grad_vh)
        v = _mT(F, vh)
        orthogonal = grad_v - F.matmul(v, F.matmul(vh, grad_v))
        grad = grad + F.matmul(u, _mT(F, orthogonal) / F.unsqueeze(s, dim=-1))
    return grad


def _svd_vjp(F, g, c):
    m, n = c.input_shapes[0][-2:]
    if c.attrs["full_matrices"] and m != n and c.attrs["output"] != 1:
        raise InvalidArgumentRuntimeError(
            "linalg_svd_backward: The derivative of linalg.svd is not implemented when full_matrices=True and the "
            "input is not square; use full_matrices=False")
    grads = [None, None, None]
    grads[c.attrs["output"]] = g
    return svd_backward(F, c.inputs[0], *grads)


_op("linalg_svd", _svd_forward, _svd_vjp, saves_output=False)
_op("linalg_svdvals", lambda arrays, attrs: np.linalg.svd(arrays[0], compute_uv=False),
    lambda F, g, c: svd_backward(F, c.inputs[0], None, g, None), saves_output=False)
