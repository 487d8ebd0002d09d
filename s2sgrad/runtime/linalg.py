"""Adjoints of linear algebra: matrix and dot products (with their batched forms),
tensordot, kron, einsum, eigh, cholesky, pinv, solve, and the cofactor matrix."""
from __future__ import annotations

import numpy as np

from .registry import helper
from .broadcasting import unbroadcast
from .reductions import _inverse_gaps, unprod


@helper(linear=(0, 2))
def matmul_dleft(g, x, y):
    """The adjoint of `x @ y` with respect to `x`, for any ranks NumPy allows."""
    if type(x) is np.ndarray and type(y) is np.ndarray and x.ndim == 2:
        if y.ndim == 2:
            return g @ y.T                    # matrices, and matrix times vector: first
        if y.ndim == 1:
            return np.outer(g, y)
    if np.ndim(y) == 1:
        return g * y if np.ndim(x) == 1 else unbroadcast(np.asarray(g)[..., None] * y, x)
    if np.ndim(x) == 1:
        return unbroadcast(np.matmul(y, np.asarray(g)[..., None])[..., 0], x)
    return unbroadcast(np.matmul(g, np.swapaxes(y, -1, -2)), x)


@helper(linear=(0, 1))
def matmul_dright(g, x, y):
    """The adjoint of `x @ y` with respect to `y`, for any ranks NumPy allows."""
    if type(x) is np.ndarray and type(y) is np.ndarray and x.ndim == 2 and y.ndim <= 2:
        return x.T @ g
    if np.ndim(x) == 1:
        if np.ndim(y) == 1:
            return g * x
        return unbroadcast(np.asarray(x)[:, None] * np.asarray(g)[..., None, :], y)
    if np.ndim(y) == 1:
        return unbroadcast(np.matmul(np.swapaxes(x, -1, -2), np.asarray(g)[..., None])[..., 0], y)
    return unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y)


@helper()
def matmul_dleft_uniform(g, x, y):
    """matmul_dleft(g, x, y) for matrices when every entry of `g` is the same number c
    (the adjoint of a mean or a sum, spread): c times y's row sums, in every row; no
    matrix product."""
    if np.size(g) == 0:
        return matmul_dleft(g, x, y)
    return np.broadcast_to(np.ravel(g)[0] * np.sum(y, axis=1), np.shape(x)).copy()


@helper()
def matmul_dright_uniform(g, x, y):
    """matmul_dright(g, x, y) for matrices when every entry of `g` is the same number c:
    c times x's column sums, in every column."""
    if np.size(g) == 0:
        return matmul_dright(g, x, y)
    return np.broadcast_to((np.ravel(g)[0] * np.sum(x, axis=0))[:, None], np.shape(y)).copy()


@helper()
def matmul_dleft_sum(gs, x, ys):
    """The sum over turns of `matmul_dleft(g, x, y)` (x the same matrix every turn): one
    product of the stacked factors where their ranks allow, else the plain sum."""
    if not gs:
        return 0.0
    if type(x) is np.ndarray and x.ndim == 2 and all(np.ndim(g) == np.ndim(y) == 1 for g, y in zip(gs, ys)):
        return np.stack(gs, axis=1) @ np.stack(ys)
    if type(x) is np.ndarray and x.ndim == 2 and all(np.ndim(g) == np.ndim(y) == 2 for g, y in zip(gs, ys)):
        return np.concatenate(gs, axis=1) @ np.concatenate(ys, axis=1).T
    return sum(matmul_dleft(g, x, y) for g, y in zip(gs, ys))


@helper()
def matmul_dright_sum(gs, xs, y):
    """The sum over turns of `matmul_dright(g, x, y)` (y the same matrix every turn)."""
    if not gs:
        return 0.0
    if type(y) is np.ndarray and y.ndim == 2 and all(np.ndim(g) == np.ndim(x) == 1 for g, x in zip(gs, xs)):
        return np.stack(xs, axis=1) @ np.stack(gs)
    if type(y) is np.ndarray and y.ndim == 2 and all(np.ndim(g) == np.ndim(x) == 2 for g, x in zip(gs, xs)):
        return np.concatenate(xs, axis=0).T @ np.concatenate(gs, axis=0)
    return sum(matmul_dright(g, x, y) for g, x in zip(gs, xs))


@helper(linear=(0, 2))
def dot_dleft(g, x, y):
    """The adjoint of `np.dot(x, y)` with respect to `x` (for a right operand of more than
    2 dimensions, dot contracts x's last axis with y's second to last: a tensordot)."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * y, x)
    if np.ndim(y) > 2:
        return untensordot(g, x, y, ([-1], [-2]))[0]
    return matmul_dleft(g, x, y)


@helper(linear=(0, 1))
def dot_dright(g, x, y):
    """The adjoint of `np.dot(x, y)` with respect to `y`."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * x, y)
    if np.ndim(y) > 2:
        return untensordot(g, x, y, ([-1], [-2]))[1]
    return matmul_dright(g, x, y)


@helper(complex=True)
def untensordot(g, x, y, axes=2):
    """The adjoints of `np.tensordot(x, y, axes)` with respect to x and y."""
    nx, ny = np.ndim(x), np.ndim(y)
    if nx == 0 or ny == 0:                     # np.inner(a, s) is a * s: nothing is contracted
        return unbroadcast(np.multiply(g, y), x), unbroadcast(np.multiply(g, x), y)
    if np.ndim(axes) == 0:
        ax = list(range(nx - axes, nx)), list(range(axes))
    else:
        ax = [list(np.atleast_1d(a) % n) for a, n in zip(axes, (nx, ny))]
    free_x = [i for i in range(nx) if i not in ax[0]]
    free_y = [i for i in range(ny) if i not in ax[1]]
    g = np.asarray(g)
    # y's contracted axes come out in increasing order: each stands for its partner in x
    gx = np.tensordot(g, y, (list(range(len(free_x), g.ndim)), free_y))
    dx = np.transpose(gx, np.argsort(free_x + [ax[0][j] for j in np.argsort(ax[1])]))
    gy = np.tensordot(x, g, (free_x, list(range(len(free_x)))))
    dy = np.transpose(gy, np.argsort([ax[1][j] for j in np.argsort(ax[0])] + free_y))
    return dx, dy


@helper(complex=True)
def unkron(g, x, y):
    """The adjoints of `np.kron(x, y)` (vectors or matrices)."""
    x2, y2 = np.atleast_2d(x), np.atleast_2d(y)
    (m, n), (p, q) = x2.shape, y2.shape
    blocks = np.reshape(g, (m, p, n, q))
    dx = np.einsum("ipjq,pq->ij", blocks, y2)
    dy = np.einsum("ipjq,ij->pq", blocks, x2)
    return np.reshape(dx, np.shape(x)), np.reshape(dy, np.shape(y))


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _einsum_letters(subscripts, ndims):
    """The operands' and the output's subscripts of `np.einsum(subscripts, ...)` with each
    `...` spelled out as letters of its own (right-aligned, as NumPy broadcasts them) and an
    implicit output made explicit: the ellipsis first, then the letters used once, sorted."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    inputs = inputs.split(",")
    spare = [c for c in _LETTERS if c not in subscripts]
    widths = [n - len(s.replace("...", "")) if "..." in s else 0 for s, n in zip(inputs, ndims)]
    extra = "".join(spare[:max(widths, default=0)])
    inputs = [s.replace("...", extra[len(extra) - w:]) for s, w in zip(inputs, widths)]
    if not arrow:
        letters = "".join(inputs)
        output = "..." + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in extra))
    return inputs, output.replace("...", extra)


@helper(complex=True)
def uneinsum(g, subscripts, operands, i):
    """The adjoint of `np.einsum(subscripts, *operands)` with respect to operand i: g
    contracted with the other operands onto the letters of operand i that they reach, then
    spread over the letters summed in it alone, and put on the diagonal where a letter
    repeats in it (`ii`); summed where it broadcast (a length-1 axis)."""
    operands = [o for o in operands if o is not None]
    inputs, output = _einsum_letters(subscripts, [np.ndim(o) for o in operands])
    mine, shape = inputs[i], np.shape(operands[i])
    others = [s for j, s in enumerate(inputs) if j != i]
    unique = "".join(dict.fromkeys(mine))
    reached = "".join(c for c in unique if c in output or any(c in s for s in others))
    part = np.einsum(",".join([output] + others) + "->" + reached, g,
                     *[op for j, op in enumerate(operands) if j != i])
    size = dict(zip(mine, shape))
    alone = "".join(c for c in unique if c not in reached)
    spare = iter(c for c in _LETTERS if c not in "".join(inputs) + output)
    spelled, seen, diagonals = "", set(), []
    for c in mine:                 # a repeated letter: a letter of its own, tied by an identity
        spelled += c if c not in seen else (twin := next(spare))
        diagonals += [c + twin] if c in seen else []
        seen.add(c)
    factors = [part] + [np.ones(size[c]) for c in alone] + [np.eye(size[d[0]]) for d in diagonals]
    full = np.einsum(",".join([reached] + list(alone) + diagonals) + "->" + spelled, *factors)
    return unbroadcast(full, operands[i]) if np.shape(full) != shape else full


@helper()
def eigh_adjoint(gw, gv, w, v):
    """The adjoint of `w, v = np.linalg.eigh(a)` for distinct eigenvalues, symmetrised
    (the input is taken as the symmetric matrix it stands for)."""
    n = np.shape(w)[-1]
    f = _inverse_gaps(w)
    inner = np.zeros(np.shape(v)) if gv is None else f * (np.swapaxes(v, -1, -2) @ gv)
    middle = inner + (0.0 if gw is None else np.eye(n) * np.asarray(gw)[..., None, :])
    da = v @ middle @ np.swapaxes(v, -1, -2)
    return 0.5 * (da + np.swapaxes(da, -1, -2))


@helper(linear=(0,))
def covariance_matrix(cov, d):
    """A covariance as the d x d matrix it stands for (scipy.stats' multivariate normal): a
    matrix as it is, a vector as the diagonal, a number as that many times the identity."""
    cov = np.asarray(cov, dtype=float)
    if cov.ndim == 2:
        return cov
    return np.diag(cov) if cov.ndim == 1 else cov * np.eye(d)


@helper(linear=(0,))
def uncovariance(g, cov):
    """The adjoint of `covariance_matrix(cov, d)`: g itself, its diagonal, or its trace."""
    return g if np.ndim(cov) == 2 else np.diagonal(g).copy() if np.ndim(cov) == 1 else np.trace(g)


@helper(linear=(0,))
def triangle(a, lower=False):
    """The lower (or upper) triangle of a, zeros elsewhere: what a triangular solve reads."""
    return np.tril(a) if lower else np.triu(a)


def _lower_half(m):
    """The lower triangle of m with its diagonal halved (Cholesky's adjoint and tangent)."""
    low = np.tril(m)
    return low - 0.5 * np.diag(np.diag(low))


def _mt(m):
    """The matrix transpose of `m`, or of each matrix of a stack."""
    return np.swapaxes(m, -1, -2)


@helper(complex=True)
def cofactor(a):
    """The cofactor matrix of `a` (of each matrix of a stack), det's gradient: det(a) inv(a).T
    where a is invertible, and still right where it is not, from the SVD a = u s vt:
    det(u) det(vt) u diag(the product of the other singular values) vt, with no inverse."""
    u, s, vt = np.linalg.svd(a)
    others = unprod(np.ones(np.shape(s)[:-1]), s, axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    return sign[..., None, None] * (np.conj(u) * others[..., None, :]) @ np.conj(vt)


WELL_CONDITIONED = 1e6       # a condition number below which inverses lose at most 6 digits of 16


@helper()
def cholesky_adjoint(g, lower):
    """The adjoint of `lower = np.linalg.cholesky(a)`, symmetrised."""
    phi = _lower_half(lower.T @ g)
    inv = np.linalg.inv(lower)
    da = inv.T @ phi @ inv
    return 0.5 * (da + da.T)


@helper()
def pinv_adjoint(g, a, ans):
    """The adjoint of `ans = np.linalg.pinv(a)` where a keeps its rank (stacks of matrices too)."""
    m, n = np.shape(a)[-2:]
    return (-_mt(ans) @ g @ _mt(ans) + (np.eye(m) - a @ ans) @ _mt(g) @ ans @ _mt(ans)
            + _mt(ans) @ ans @ _mt(g) @ (np.eye(n) - ans @ a))


@helper(complex=True)
def solve_adjoint(g, a, b, ans):
    """The adjoints of `ans = np.linalg.solve(a, b)` (also stacked), for a and for b."""
    at = np.swapaxes(a, -1, -2)
    if np.ndim(b) == 1:
        db = np.linalg.solve(at, g)
        return -np.multiply.outer(db, ans) if np.ndim(a) == 2 else -db[..., :, None] * ans[..., None, :], db
    db = np.linalg.solve(at, g)
    return -(db @ np.swapaxes(ans, -1, -2)), db


def _banded(ab, l_and_u, n):
    """The dense n x n matrix of the band `ab` (scipy.linalg.solve_banded's storage:
    ab[u + i - j, j] = a[i, j])."""
    lower, upper = l_and_u
    rows, cols = np.indices((n, n))
    band = upper + rows - cols
    inside = (band >= 0) & (band < lower + upper + 1)
    return np.where(inside, np.asarray(ab)[np.clip(band, 0, lower + upper), cols], 0.0), band, inside


@helper()
def unsolve_banded(g, l_and_u, ab, b, x):
    """The adjoints (for ab, for b) of `x = scipy.linalg.solve_banded(l_and_u, ab, b)`: those
    of np.linalg.solve, the matrix's kept to the band and stored as ab is."""
    n = np.shape(ab)[1]
    a, band, inside = _banded(ab, l_and_u, n)
    db = np.linalg.solve(a.T, g)
    da = -np.reshape(db, (n, -1)) @ np.reshape(x, (n, -1)).T
    return _to_band(da, band, inside, ab), db


def _to_band(da, band, inside, ab):
    """The adjoint of the band storage `ab` for the adjoint `da` of the dense matrix."""
    n = np.shape(ab)[1]
    dab = np.zeros(np.shape(ab), np.result_type(da, float))
    np.add.at(dab, (band[inside], np.indices((n, n))[1][inside]), da[inside])
    return dab


@helper()
def unsolve_banded_tangent(tg, tab, tb, tx, g, l_and_u, ab, b, x):
    """The tangents of `unsolve_banded(g, l_and_u, ab, b, x)` (for ab, for b) along those of
    g, ab, b and x: forward mode over a gradient (Hessians)."""
    n = np.shape(ab)[1]
    a, band, inside = _banded(ab, l_and_u, n)
    db = np.linalg.solve(a.T, g)
    tdb = np.linalg.solve(a.T, tg - _banded(tab, l_and_u, n)[0].T @ db)
    column = lambda v: np.reshape(v, (n, -1))             # noqa: E731
    tda = -(column(tdb) @ column(x).T + column(db) @ column(tx).T)
    return _to_band(tda, band, inside, ab), tdb


@helper()
def solve_banded_tangent(l_and_u, ab, b, dab, db, x):
    """The tangent of `x = scipy.linalg.solve_banded(l_and_u, ab, b)` along dab and db."""
    n = np.shape(ab)[1]
    a = _banded(ab, l_and_u, n)[0]
    da = _banded(dab, l_and_u, n)[0]
    return np.linalg.solve(a, db - da @ x)


@helper()
def uncholesky(g, factor, lower):
    """The adjoint of scipy.linalg.cholesky's factor (`lower` or upper: the transpose), on
    the triangle it reads."""
    return to_triangle(cholesky_adjoint(g, factor) if lower else cholesky_adjoint(_mt(g), _mt(factor)), lower)


@helper()
def cholesky_factor_tangent(t, factor, lower):
    """The tangent of scipy.linalg.cholesky's factor along t (`lower` or upper)."""
    low = factor if lower else _mt(factor)
    inner = np.linalg.solve(low, _mt(np.linalg.solve(low, from_triangle(t, lower))))
    dlow = low @ (np.tril(inner, -1) + 0.5 * np.eye(np.shape(t)[-1]) * inner)
    return dlow if lower else _mt(dlow)


@helper(linear=(0,))
def from_triangle(a, lower=True):
    """The symmetric matrix a function that reads one triangle of `a` sees (np.linalg.eigh,
    cholesky): that triangle, mirrored."""
    part = np.tril(a) if lower else np.triu(a)
    return part + _mt(np.tril(a, -1) if lower else np.triu(a, 1))


@helper(linear=(0,))
def to_triangle(s, lower=True):
    """The adjoint of `from_triangle` at a symmetric adjoint `s`: on the triangle read, the
    entries off the diagonal count twice (each stands for itself and its mirror)."""
    s = 0.5 * (s + _mt(s))
    return 2.0 * (np.tril(s, -1) if lower else np.triu(s, 1)) + s * np.eye(np.shape(s)[-1])


def _factor(c, lower):
    return np.tril(c) if lower else np.triu(c)


@helper()
def uncho_factor(g, a, c, lower):
    """The adjoint of `c, lower = scipy.linalg.cho_factor(a, lower)`: the factor's triangle
    through the Cholesky rule; the other triangle of c holds a's own entries."""
    return uncholesky(_factor(g, lower), _factor(c, lower), lower) + (g - _factor(g, lower))


@helper()
def cho_factor_tangent(t, c, lower):
    """The tangent of cho_factor's matrix along t (and of `lower`: none)."""
    return cholesky_factor_tangent(t, _factor(c, lower), lower) + (t - _factor(t, lower)), 0.0


@helper()
def uncho_solve(g, c, lower, b, x):
    """The adjoints ((of c, of lower), of b) of `x = scipy.linalg.cho_solve((c, lower), b)`:
    those of a solve with a = l l^T (or u^T u), taken back to the factor's triangle."""
    from scipy.linalg import cho_solve
    db = cho_solve((c, lower), g)
    da = -np.reshape(db, (len(db), -1)) @ np.reshape(x, (len(x), -1)).T
    both = da + da.T
    factor = _factor(c, lower)
    return (np.tril(both @ factor) if lower else np.triu(factor @ both), 0.0), db


@helper()
def uncho_solve_tangent(tg, tc, tx, g, c, lower, x):
    """The tangents ((of c, of lower), of b) of `uncho_solve(g, c, lower, b, x)` along those
    of g, c and x (Hessians)."""
    from scipy.linalg import cho_solve
    db = cho_solve((c, lower), g)
    tdb = cho_solve_tangent(tc, tg, c, lower, db)
    column = lambda v: np.reshape(v, (len(db), -1))     # noqa: E731
    da = -column(db) @ column(x).T
    tda = -(column(tdb) @ column(x).T + column(db) @ column(tx).T)
    both, tboth = da + da.T, tda + tda.T
    factor, tfactor = _factor(c, lower), _factor(tc, lower)
    tdc = np.tril(tboth @ factor + both @ tfactor) if lower else np.triu(tfactor @ both + factor @ tboth)
    return (tdc, 0.0), tdb


@helper()
def cho_solve_tangent(dc, db, c, lower, x):
    """The tangent of `x = scipy.linalg.cho_solve((c, lower), b)` along the factor's dc and db."""
    from scipy.linalg import cho_solve
    factor, dfactor = _factor(c, lower), _factor(dc, lower)
    da = dfactor @ factor.T + factor @ dfactor.T if lower else dfactor.T @ factor + factor.T @ dfactor
    return cho_solve((c, lower), db - np.reshape(da @ np.reshape(x, (len(x), -1)), np.shape(x)))


def _permutation(piv):
    """The row order LAPACK's pivots (scipy.linalg.lu_factor's `piv`) make: a[order] = l u."""
    order = np.arange(len(piv))
    for i, p in enumerate(piv):
        order[[i, p]] = order[[p, i]]
    return order


def _unpermuted(m, order):
    """p @ m, for the permutation with (p^T a) = a[order]."""
    out = np.empty_like(m)
    out[order] = m
    return out


def _lu_parts(lu):
    n = np.shape(lu)[-1]
    return np.tril(lu, -1) + np.eye(n), np.triu(lu)


@helper()
def unlu_factor(g, lu, piv):
    """The adjoint of `lu, piv = scipy.linalg.lu_factor(a)` (a = p l u) for the adjoint `g`
    of the packed `lu` (l's strict lower triangle, u's upper)."""
    lower, upper = _lu_parts(lu)
    middle = np.tril(lower.T @ np.tril(g, -1), -1) + np.triu(np.triu(g) @ upper.T)
    inner = np.linalg.solve(lower.T, np.linalg.solve(upper, middle.T).T)      # l^-T middle u^-T
    return _unpermuted(inner, _permutation(piv))


@helper()
def unlu_factor_tangent(tg, tlu, g, lu, piv):
    """The tangent of `unlu_factor(g, lu, piv)` along those of g and lu (Hessians): with
    l^T inner u^T = middle, each factor's tangent taken through."""
    lower, upper = _lu_parts(lu)
    tlower, tupper = np.tril(tlu, -1), np.triu(tlu)
    middle = np.tril(lower.T @ np.tril(g, -1), -1) + np.triu(np.triu(g) @ upper.T)
    tmiddle = np.tril(tlower.T @ np.tril(g, -1) + lower.T @ np.tril(tg, -1), -1) + \
        np.triu(np.triu(tg) @ upper.T + np.triu(g) @ tupper.T)
    inner = np.linalg.solve(lower.T, np.linalg.solve(upper, middle.T).T)
    rest = tmiddle - tlower.T @ inner @ upper.T - lower.T @ inner @ tupper.T
    return _unpermuted(np.linalg.solve(lower.T, np.linalg.solve(upper, rest.T).T), _permutation(piv))


@helper()
def lu_factor_tangent(t, lu, piv):
    """The tangents (of lu, of piv: none) of `scipy.linalg.lu_factor(a)` along t."""
    lower, upper = _lu_parts(lu)
    x = np.linalg.solve(upper.T, np.linalg.solve(lower, np.asarray(t)[_permutation(piv)]).T).T   # l^-1 p^T t u^-1
    return lower @ np.tril(x, -1) + np.triu(x) @ upper, 0.0


@helper()
def unlu_solve(g, lu, piv, b, x, trans=0):
    """The adjoints ((of lu, of piv), of b) of `x = scipy.linalg.lu_solve((lu, piv), b, trans)`:
    a solve's, taken back to the packed factors."""
    from scipy.linalg import lu_solve
    db = lu_solve((lu, piv), g, trans=1 - trans if trans in (0, 1) else 0)
    db2, x2 = np.reshape(db, (len(db), -1)), np.reshape(x, (len(x), -1))
    da = -(db2 @ x2.T) if trans == 0 else -(x2 @ db2.T)
    lower, upper = _lu_parts(lu)
    pta = da[_permutation(piv)]                    # p^T da
    return (np.tril(pta @ upper.T, -1) + np.triu(lower.T @ pta), 0.0), db


@helper()
def unlu_solve_tangent(tg, tlu, tx, g, lu, piv, x, trans=0):
    """The tangents ((of lu, of piv), of b) of `unlu_solve(g, lu, piv, b, x, trans)` along
    those of g, lu and x (Hessians)."""
    from scipy.linalg import lu_solve
    flipped = 1 - trans if trans in (0, 1) else 0
    db = lu_solve((lu, piv), g, trans=flipped)
    tdb = lu_solve_tangent(tlu, tg, lu, piv, db, trans=flipped)
    column = lambda v: np.reshape(v, (len(db), -1))     # noqa: E731
    tda = -(column(tdb) @ column(x).T + column(db) @ column(tx).T)
    da = -(column(db) @ column(x).T)
    if trans != 0:
        da, tda = da.T, tda.T
    lower, upper = _lu_parts(lu)
    order = _permutation(piv)
    pta, tpta = da[order], tda[order]
    tdlu = np.tril(tpta @ upper.T + pta @ np.triu(tlu).T, -1) + np.triu(np.tril(tlu, -1).T @ pta + lower.T @ tpta)
    return (tdlu, 0.0), tdb


@helper()
def lu_solve_tangent(dlu, db, lu, piv, x, trans=0):
    """The tangent of `x = scipy.linalg.lu_solve((lu, piv), b, trans)` along dlu and db."""
    from scipy.linalg import lu_solve
    lower, upper = _lu_parts(lu)
    dlower, dupper = np.tril(dlu, -1), np.triu(dlu)
    da = _unpermuted(dlower @ upper + lower @ dupper, _permutation(piv))
    x2 = np.reshape(x, (len(x), -1))
    change = (da if trans == 0 else da.T) @ x2
    return lu_solve((lu, piv), db - np.reshape(change, np.shape(x)), trans=trans)


def _simplex(x, alpha):
    """Dirichlet points with every component (SciPy lets the last be left out: 1 - the
    others), components along the first axis, and alpha shaped to broadcast with them."""
    x, alpha = np.asarray(x, dtype=float), np.asarray(alpha, dtype=float)
    full = x if x.shape[0] == len(alpha) else np.concatenate([x, 1.0 - np.sum(x, axis=0, keepdims=True)])
    return full, alpha.reshape((-1,) + (1,) * (full.ndim - 1))


@helper()
def undirichlet(g, x, alpha):
    """The adjoints (for x, for alpha) of `scipy.stats.dirichlet.logpdf(x, alpha)` =
    gammaln(sum alpha) - sum gammaln(alpha) + sum (alpha - 1) log x, per point."""
    from scipy.special import digamma
    full, a = _simplex(x, alpha)
    dfull = g * (a - 1.0) / full
    dx = dfull if np.shape(x)[0] == len(a) else dfull[:-1] - dfull[-1:]
    dalpha = g * (digamma(np.sum(a)) - digamma(a) + np.log(full))
    return dx, np.reshape(np.sum(dalpha.reshape(len(a), -1), axis=1), np.shape(alpha))


@helper()
def undirichlet_tangent(tg, tx, talpha, g, x, alpha):
    """The tangents (for x, for alpha) of `undirichlet(g, x, alpha)` along those of g, x and
    alpha (Hessians)."""
    from scipy.special import digamma, polygamma
    full, a = _simplex(x, alpha)
    tfull, ta = _simplex_tangent(tx, talpha, a)
    tdfull = tg * (a - 1.0) / full + g * ta / full - g * (a - 1.0) * tfull / full ** 2
    tdx = tdfull if np.shape(x)[0] == len(a) else tdfull[:-1] - tdfull[-1:]
    tdalpha = tg * (digamma(np.sum(a)) - digamma(a) + np.log(full)) + \
        g * (polygamma(1, np.sum(a)) * np.sum(ta) - polygamma(1, a) * ta + tfull / full)
    return tdx, np.reshape(np.sum(tdalpha.reshape(len(a), -1), axis=1), np.shape(alpha))


def _simplex_tangent(tx, talpha, a):
    """The tangents of _simplex's (full, a) along those of x and alpha."""
    tx = np.asarray(tx, dtype=float)
    tfull = tx if tx.shape[0] == len(a) else np.concatenate([tx, -np.sum(tx, axis=0, keepdims=True)])
    return tfull, np.asarray(talpha, dtype=float).reshape(np.shape(a))


@helper()
def dirichlet_tangent(dx, dalpha, x, alpha):
    """The tangent of `scipy.stats.dirichlet.logpdf(x, alpha)` along dx and dalpha."""
    from scipy.special import digamma
    full, a = _simplex(x, alpha)
    dfull, da = _simplex_tangent(dx, dalpha, a)
    return np.sum((a - 1.0) / full * dfull + (digamma(np.sum(a)) - digamma(a) + np.log(full)) * da, axis=0)
