"""The adjoints and tangents of matrix decompositions: singular values and vectors,
QR, the eigenvalues of a general matrix, and least squares.

Each holds where the decomposition is differentiable: distinct nonzero singular
values (for the vectors), a QR of a matrix with independent columns, distinct
eigenvalues, a least-squares matrix of full rank. Where it is not, the formulas
divide by zero: the result is inf or NaN (or NumPy's LinAlgError), never a
finite wrong number. Stacks of matrices work throughout.
"""
from __future__ import annotations

import numpy as np

from .registry import helper
from .linalg import pinv_adjoint


def _mt(m):
    return np.swapaxes(m, -1, -2)


def _gaps(s):
    """1 / (s_j^2 - s_i^2) off the diagonal, 0 on it; inf where two values are equal to
    within what the SVD resolves (a relative 1e-13 of the largest), so that the vectors'
    derivative there is NaN, never a huge finite number made of rounding."""
    square = s[..., None, :] ** 2 - s[..., :, None] ** 2
    eye = np.eye(s.shape[-1], dtype=bool)
    tied = np.abs(square) <= 1e-13 * np.max(s, axis=-1, keepdims=True)[..., None] ** 2
    with np.errstate(divide="ignore"):
        return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, np.where(tied, 0.0, square)))


@helper()
def unsvd(gu, gs, gvh, a, u, s, vh):
    """The adjoint of the SVD `u, s, vh = np.linalg.svd(a)` for the adjoints of its three
    parts (None or zeros: a part not used). The singular values alone need nothing more
    than themselves; the vectors need distinct nonzero values. Of a full SVD of a matrix
    that is not square, the columns past the thin one's are not unique: an adjoint there
    is refused."""
    m, n = np.shape(a)[-2:]
    k = min(m, n)
    gu, gvh = _thin(gu, u, k, -1), _thin(gvh, vh, k, -2)
    u, vh = u[..., :, :k], vh[..., :k, :]
    da = (u * np.asarray(gs)[..., None, :]) @ vh if gs is not None else 0.0
    if gu is None and gvh is None:
        return da + np.zeros(np.shape(a))
    v = _mt(vh)
    f = _gaps(s)
    with np.errstate(invalid="ignore"):            # (inf * 0 at equal values: NaN, as meant)
        return da + u @ _inner(f, s, u, v, gu, gvh) @ vh + _outside(a, u, s, v, vh, gu, gvh, m, n)


def _inner(f, s, u, v, gu, gvh):
    inner = 0.0
    if gu is not None:
        utgu = _mt(u) @ gu
        inner = inner + f * (utgu - _mt(utgu)) * s[..., None, :]
    if gvh is not None:
        vtgv = _mt(v) @ _mt(gvh)
        inner = inner + s[..., :, None] * (f * (vtgv - _mt(vtgv)))
    return inner


def _outside(a, u, s, v, vh, gu, gvh, m, n):
    """The parts of gu outside u's columns and of gvh outside vh's rows (a matrix that is
    not square)."""
    da = np.zeros(np.shape(a))
    if gu is not None and m > n:
        da = da + (np.eye(m) - u @ _mt(u)) @ gu @ (vh / s[..., :, None])
    if gvh is not None and m < n:
        da = da + ((u / s[..., None, :]) @ gvh) @ (np.eye(n) - v @ vh)
    return da


def _thin(g, part, k, axis):
    """The adjoint of a full SVD's u (or vh) on its first k columns (rows); None when it
    is zero throughout."""
    if g is None or not np.any(g):
        return None
    if np.shape(part)[axis] > k:
        rest = g[..., :, k:] if axis == -1 else g[..., k:, :]
        if np.any(rest):
            raise ValueError("the singular vectors of np.linalg.svd past the smaller dimension are not unique, so "
                             "they have no derivative: use full_matrices=False")
        g = g[..., :, :k] if axis == -1 else g[..., :k, :]
    return g


@helper()
def svd_values_tangent(t, u, vh):
    """The tangent of the singular values along t: the diagonal of u^T t v."""
    return np.einsum("...ij,...ik,...kj->...j", u, t, _mt(vh))


@helper()
def unqr(gq, gr, a, q, r):
    """The adjoint of the reduced QR `q, r = np.linalg.qr(a)` of a matrix with at least as
    many rows as columns and independent columns (None: a part not used)."""
    m, n = np.shape(a)[-2:]
    if m < n:
        raise ValueError("the derivative of np.linalg.qr of a wide matrix (fewer rows than columns) is not "
                         "supported yet; differentiate the QR of its transpose")
    gq = np.zeros(np.shape(q)) if gq is None else gq
    gr = np.zeros(np.shape(r)) if gr is None else gr
    mid = r @ _mt(gr) - _mt(gq) @ q
    lower = np.tril(mid, -1)
    copied = lower + _mt(lower) + np.eye(n) * mid          # the lower triangle copied up
    return _mt(np.linalg.solve(r, _mt(gq + q @ copied)))


@helper()
def qr_tangent(t, q, r):
    """The tangents (dq, dr) of the reduced QR along t."""
    if np.shape(t)[-2] < np.shape(t)[-1]:
        raise ValueError("the derivative of np.linalg.qr of a wide matrix (fewer rows than columns) is not "
                         "supported yet; differentiate the QR of its transpose")
    x = _mt(np.linalg.solve(_mt(r), _mt(_mt(q) @ t)))       # q^T t r^-1
    omega = np.tril(x, -1) - _mt(np.tril(x, -1))
    dr = (x - omega) @ r
    dq = _mt(np.linalg.solve(_mt(r), _mt(t))) - q @ (x - omega)
    return dq, dr


@helper()
def uneigvals(g, a):
    """The adjoint of `np.linalg.eigvals(a)` (distinct eigenvalues): v^-T diag(g) v^T, with
    v the eigenvectors (complex, as the eigenvalues may be)."""
    _, v = np.linalg.eig(a)
    vt = _mt(v)
    da = np.linalg.solve(vt, np.asarray(g)[..., :, None] * vt)
    return np.where(np.linalg.cond(v)[..., None, None] > 1e12, np.nan, da)    # (defective: no derivative)


@helper()
def eigvals_tangent(t, a):
    """The tangent of the eigenvalues along t: the diagonal of v^-1 t v."""
    _, v = np.linalg.eig(a)
    dw = np.diagonal(np.linalg.solve(v, t @ v), axis1=-2, axis2=-1)
    return np.where(np.linalg.cond(v)[..., None] > 1e12, np.nan, dw)


@helper()
def unlstsq(gx, gres, gs, a, b, x, rank):
    """The adjoints (for a, for b) of the solution, the residuals and the singular values
    of `np.linalg.lstsq(a, b)` for a of full rank: the solution is pinv(a) @ b, and the
    residuals, sums of squares where a has more rows than columns, are stationary in x."""
    p = np.linalg.pinv(a)
    vector = np.ndim(b) == 1
    b2, x2 = (b[:, None], x[:, None]) if vector else (b, x)
    gx2 = np.zeros(np.shape(x2)) if gx is None else (np.asarray(gx)[:, None] if vector else gx)
    da = pinv_adjoint(gx2 @ _mt(b2), a, p)
    db = _mt(p) @ gx2
    if gres is not None and np.size(gres):
        residual = b2 - a @ x2
        da = da - 2.0 * (residual * np.asarray(gres)) @ _mt(x2)
        db = db + 2.0 * residual * np.asarray(gres)
    if gs is not None and np.any(gs):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        da = da + unsvd(None, gs, None, a, u, s, vh)
    if rank < min(np.shape(a)):            # (rank-deficient: the solution is not differentiable in a)
        da = np.full(np.shape(a), np.nan)
    return da, (db[:, 0] if vector else db)


@helper()
def uneig(gw, gv, a):
    """The adjoint of `w, v = np.linalg.eig(a)` for its eigenvalues; the eigenvectors of a
    general matrix are fixed only up to a complex factor each, so an adjoint reaching them
    is refused."""
    if gv is not None and np.any(gv):
        raise ValueError("the eigenvectors of np.linalg.eig are fixed only up to a complex factor each, so they "
                         "have no derivative: use the eigenvalues, or np.linalg.eigh for a symmetric matrix")
    return uneigvals(gw, a)


@helper()
def eig_tangent(t, a):
    """The tangents of `np.linalg.eig(a)` along t: the eigenvalues'; NaN for the vectors,
    which have no derivative (their complex factors are not fixed)."""
    dw = eigvals_tangent(t, a)
    return dw, np.full(np.shape(a), np.nan, dtype=complex)
