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
from .tangents import pinv_adjoint_tangent, pinv_tangent


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
    not square), each over its singular value (NaN over a zero one: no derivative)."""
    da = np.zeros(np.shape(a))
    if gu is not None and m > n:
        da = da + _over(((np.eye(m) - u @ _mt(u)) @ gu,), s, -1) @ vh
    if gvh is not None and m < n:
        da = da + u @ _over((gvh @ (np.eye(n) - v @ vh),), s, -2)
    return da


def _over(parts, s, axis, power=1):
    """The sum of `parts` with each column (axis -1) or row (axis -2) divided by its
    singular value (to `power`): NaN where that value is zero to within what the SVD
    resolves (a relative 1e-13) and the column holds anything, 0 where it holds nothing
    (a vector that nothing reads needs no derivative)."""
    tiny = s <= 1e-13 * np.max(s, axis=-1, keepdims=True)
    inverse = np.where(tiny, np.nan, 1.0 / np.where(tiny, 1.0, s) ** power)
    inverse = inverse[..., None, :] if axis == -1 else inverse[..., :, None]
    return sum(np.where(q == 0, 0.0, q * inverse) for q in parts)


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
def svd_tangent(t, u, s, vh):
    """The tangents (du, ds, dvh) of `u, s, vh = np.linalg.svd(a)` along t (distinct nonzero
    values for the vectors). A full SVD's columns (rows) past the thin one's are not
    unique: their tangent is NaN."""
    m, n = np.shape(t)[-2:]
    k = min(m, n)
    uk, v = u[..., :, :k], _mt(vh[..., :k, :])
    p = _mt(uk) @ t @ v
    ps, sp = p * s[..., None, :], s[..., :, None] * p                   # p S, S p
    f = _gaps(s)
    with np.errstate(invalid="ignore", divide="ignore"):
        du, dv = uk @ (f * (ps + _mt(ps))), v @ (f * (sp + _mt(sp)))
        if m > k:                      # (the parts outside the thin factors': a matrix not square)
            du = du + _over(((np.eye(m) - uk @ _mt(uk)) @ t @ v,), s, -1)
        if n > k:
            dv = dv + _over(((np.eye(n) - v @ _mt(v)) @ _mt(t) @ uk,), s, -1)
    du, dvh = _unique_part(du, np.shape(u), -1), _unique_part(_mt(dv), np.shape(vh), -2)
    return du, np.diagonal(p, axis1=-2, axis2=-1).copy(), dvh


def _unique_part(d, shape, axis):
    """A thin SVD part's tangent as the full one's: NaN past the thin columns (rows)."""
    if d.shape[axis] == shape[axis]:
        return d
    extra = list(shape)
    extra[axis] = shape[axis] - d.shape[axis]
    return np.concatenate([d, np.full(extra, np.nan)], axis=axis)


@helper()
def unsvd_tangent(tgu, tgs, tgvh, ta, tu, ts, tvh, gu, gs, gvh, a, u, s, vh):
    """The tangent of `unsvd(gu, gs, gvh, a, u, s, vh)` along those of its arguments (forward
    mode over a gradient, Hessians): the product rule through each term of unsvd."""
    m, n = np.shape(a)[-2:]
    k = min(m, n)
    gu, tgu = _thin(gu, u, k, -1), _thin_tangent(tgu, gu, k, -1)
    gvh, tgvh = _thin(gvh, vh, k, -2), _thin_tangent(tgvh, gvh, k, -2)
    u, tu, vh, tvh = u[..., :, :k], _thin_part(tu, u, k, -1), vh[..., :k, :], _thin_part(tvh, vh, k, -2)
    gs, tgs = (np.zeros(np.shape(s)) if g is None else np.broadcast_to(g, np.shape(s)) for g in (gs, tgs))
    ts = np.broadcast_to(ts, np.shape(s))
    v, tv = _mt(vh), _mt(tvh)
    f = _gaps(s)
    with np.errstate(invalid="ignore", divide="ignore"):
        tf = -f * f * 2.0 * (s * ts)[..., None, :] + f * f * 2.0 * (s * ts)[..., :, None]
        inner, tinner = _on_diagonal(gs), _on_diagonal(tgs)
        if gu is not None or tgu is not None:
            gu0, tgu0 = _or_zeros(gu, u), _or_zeros(tgu, u)
            kk, tkk = _mt(u) @ gu0, _mt(tu) @ gu0 + _mt(u) @ tgu0
            kk, tkk = kk - _mt(kk), tkk - _mt(tkk)
            inner = inner + f * kk * s[..., None, :]
            tinner = tinner + (tf * kk + f * tkk) * s[..., None, :] + f * kk * ts[..., None, :]
        if gvh is not None or tgvh is not None:
            gv, tgv = _mt(_or_zeros(gvh, vh)), _mt(_or_zeros(tgvh, vh))
            kk, tkk = _mt(v) @ gv, _mt(tv) @ gv + _mt(v) @ tgv
            kk, tkk = kk - _mt(kk), tkk - _mt(tkk)
            inner = inner + s[..., :, None] * (f * kk)
            tinner = tinner + ts[..., :, None] * (f * kk) + s[..., :, None] * (tf * kk + f * tkk)
        out = tu @ inner @ vh + u @ tinner @ vh + u @ inner @ tvh
        return out + _outside_tangent(u, tu, s, ts, vh, tvh, gu, tgu, gvh, tgvh, m, n)


def _outside_tangent(u, tu, s, ts, vh, tvh, gu, tgu, gvh, tgvh, m, n):
    """The tangent of `_outside` (a matrix that is not square)."""
    out = 0.0
    if m > n and (gu is not None or tgu is not None):          # (away gu) S^-1 vh
        gu, tgu = _or_zeros(gu, u), _or_zeros(tgu, u)
        away, taway = np.eye(m) - u @ _mt(u), -(tu @ _mt(u) + u @ _mt(tu))
        part, tpart = away @ gu, taway @ gu + away @ tgu
        out = out + (_over((tpart,), s, -1) - _over((part * ts[..., None, :],), s, -1, 2)) @ vh \
            + _over((part,), s, -1) @ tvh
    if m < n and (gvh is not None or tgvh is not None):        # u S^-1 (gvh away)
        gvh, tgvh = _or_zeros(gvh, vh), _or_zeros(tgvh, vh)
        v, tv = _mt(vh), _mt(tvh)
        away, taway = np.eye(n) - v @ vh, -(tv @ vh + v @ tvh)
        part, tpart = gvh @ away, tgvh @ away + gvh @ taway
        out = out + tu @ _over((part,), s, -2) + u @ (_over((tpart,), s, -2) - _over((part * ts[..., :, None],), s, -2, 2))
    return out


def _on_diagonal(values):
    return values[..., :, None] * np.eye(np.shape(values)[-1])


def _or_zeros(g, like):
    """`g` as an array shaped like `like` (None, or a number standing for zeros: a tangent
    of something that does not vary)."""
    return np.zeros(np.shape(like)) if g is None else np.broadcast_to(g, np.shape(like))


def _thin_part(t, part, k, axis):
    """The first k columns (rows) of a full SVD part's tangent (0: none)."""
    if t is None or np.ndim(t) == 0:
        return np.zeros(np.shape(part[..., :, :k] if axis == -1 else part[..., :k, :]))
    return t[..., :, :k] if axis == -1 else t[..., :k, :]


def _thin_tangent(t, g, k, axis):
    """The tangent of `_thin(g, ...)`: its first k columns (rows); None where zero."""
    if t is None or np.ndim(t) == 0 and not t:
        return None
    return t[..., :, :k] if axis == -1 else t[..., :k, :]


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


@helper(complex=True)
def uneigvals(g, a):
    """The adjoint of `np.linalg.eigvals(a)` (distinct eigenvalues): v^-T diag(g) v^T, with
    v the eigenvectors (complex, as the eigenvalues may be)."""
    _, v = np.linalg.eig(a)
    vt = _mt(v)
    da = np.linalg.solve(vt, np.asarray(g)[..., :, None] * vt)
    return np.where(np.linalg.cond(v)[..., None, None] > 1e12, np.nan, da)    # (defective: no derivative)


@helper()
def uneigvals_tangent(tg, ta, g, a):
    """The tangent of `uneigvals(g, a)` = p^T diag(g) v^T (p = v^-1) along tg and ta: with
    the eigenvectors' tangent v c, c = (p ta v) / (w_j - w_i) off the diagonal (their
    scaling drops out), it is p^T (diag(tg) + diag(g) c^T - c^T diag(g)) v^T."""
    w, v = np.linalg.eig(a)
    p, ta = np.linalg.inv(v), _or_zeros(ta, a)
    gap = w[..., None, :] - w[..., :, None]
    eye = np.eye(np.shape(w)[-1], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(eye, 0.0, (p @ ta @ v) / np.where(eye, 1.0, gap))
    g, tg = np.broadcast_to(g, np.shape(w)), np.broadcast_to(tg, np.shape(w))
    ct = _mt(c)
    middle = _on_diagonal(tg) + g[..., :, None] * ct - ct * g[..., None, :]
    da = _mt(p) @ middle @ _mt(v)
    return np.where(np.linalg.cond(v)[..., None, None] > 1e12, np.nan, da)


@helper()
def unqr_tangent(tgq, tgr, tq, tr, gq, gr, a, q, r):
    """The tangent of `unqr(gq, gr, a, q, r)` = (gq + q copied(mid)) r^-T, mid = r gr^T -
    gq^T q, along the tangents of gq, gr, q and r."""
    n = np.shape(a)[-1]
    gq, gr, tgq, tgr, tq, tr = (_or_zeros(g, like) for g, like in ((gq, q), (gr, r), (tgq, q), (tgr, r), (tq, q), (tr, r)))
    copied = lambda m: np.tril(m, -1) + _mt(np.tril(m, -1)) + np.eye(n) * m     # noqa: E731
    mid = r @ _mt(gr) - _mt(gq) @ q
    tmid = tr @ _mt(gr) + r @ _mt(tgr) - _mt(tgq) @ q - _mt(gq) @ tq
    result = unqr(gq, gr, a, q, r)
    change = tgq + tq @ copied(mid) + q @ copied(tmid) - result @ _mt(tr)
    return _mt(np.linalg.solve(r, _mt(change)))


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


def _columns(b, x):
    """b and x as matrices (a vector: one column), and whether b was a vector."""
    vector = np.ndim(b) == 1
    return (b[:, None], x[:, None], True) if vector else (b, x, False)


@helper()
def lstsq_tangent(ta, tb, a, b, x, rank):
    """The tangents of `np.linalg.lstsq(a, b)`'s (solution, residuals, rank, singular values)
    along ta and tb, for a of full rank (else NaN): the solution's is pinv(a) @ b's; the
    residuals' is 2 r . (tb - ta x), as a^T r = 0."""
    p = np.linalg.pinv(a)
    ta, tb = _or_zeros(ta, a), _or_zeros(tb, b)
    b2, x2, vector = _columns(b, x)
    tb2 = tb[:, None] if vector else tb
    tx = pinv_tangent(ta, a, p) @ b2 + p @ tb2
    m, n = np.shape(a)
    residuals = np.zeros(0)
    if m > n and rank == n:
        residuals = 2.0 * np.sum((b2 - a @ x2) * (tb2 - ta @ x2), axis=0)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    if rank < min(m, n):
        tx = np.full(np.shape(tx), np.nan)
    return tx[:, 0] if vector else tx, residuals, 0, svd_values_tangent(ta, u, vh)


@helper()
def unlstsq_tangent(tgx, tgres, tgs, ta, tb, tx, gx, gres, gs, a, b, x, rank):
    """The tangents (for a, for b) of `unlstsq(gx, gres, gs, a, b, x, rank)` along those of
    its arguments (Hessians), term by term."""
    p = np.linalg.pinv(a)
    ta, tp = _or_zeros(ta, a), pinv_tangent(_or_zeros(ta, a), a, p)
    b2, x2, vector = _columns(b, x)
    tb2, tx2, _ = _columns(_or_zeros(tb, b), _or_zeros(tx, x))
    column = (lambda g: np.asarray(g)[:, None]) if vector else np.asarray      # noqa: E731
    gx2, tgx2 = column(_or_zeros(gx, x)), column(_or_zeros(tgx, x))
    top, ttop = gx2 @ _mt(b2), tgx2 @ _mt(b2) + gx2 @ _mt(tb2)
    tda = pinv_adjoint_tangent(ttop, ta, tp, top, a, p)
    tdb = _mt(tp) @ gx2 + _mt(p) @ tgx2
    if gres is not None and np.size(gres):
        residual, tresidual = b2 - a @ x2, tb2 - ta @ x2 - a @ tx2
        gres, tgres = np.asarray(gres), _or_zeros(tgres, gres)
        change = tresidual * gres + residual * tgres
        tda = tda - 2.0 * (change @ _mt(x2) + (residual * gres) @ _mt(tx2))
        tdb = tdb + 2.0 * change
    if gs is not None and np.any(gs) or tgs is not None and np.any(tgs):
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        tu, ts, tvh = svd_tangent(ta, u, s, vh)
        tda = tda + unsvd_tangent(None, tgs, None, ta, tu, ts, tvh, None, gs, None, a, u, s, vh)
    if rank < min(np.shape(a)):
        tda = np.full(np.shape(a), np.nan)
    return tda, (tdb[:, 0] if vector else tdb)


@helper(complex=True)
def uneig(gw, gv, a):
    """The adjoint of `w, v = np.linalg.eig(a)` for its eigenvalues; the eigenvectors of a
    general matrix are fixed only up to a complex factor each, so an adjoint reaching them
    is refused."""
    _no_vectors(gv)
    return uneigvals(gw, a)


def _no_vectors(gv) -> None:
    if gv is not None and np.any(gv):
        raise ValueError("the eigenvectors of np.linalg.eig are fixed only up to a complex factor each, so they "
                         "have no derivative: use the eigenvalues, or np.linalg.eigh for a symmetric matrix")


@helper()
def uneig_tangent(tgw, tgv, ta, gw, gv, a):
    """The tangent of `uneig(gw, gv, a)` along those of gw and a (the vectors' adjoint:
    refused, as by uneig)."""
    _no_vectors(gv)
    return uneigvals_tangent(tgw, ta, gw, a)


@helper()
def eig_tangent(t, a):
    """The tangents of `np.linalg.eig(a)` along t: the eigenvalues'; NaN for the vectors,
    which have no derivative (their complex factors are not fixed)."""
    dw = eigvals_tangent(t, a)
    return dw, np.full(np.shape(a), np.nan, dtype=complex)
