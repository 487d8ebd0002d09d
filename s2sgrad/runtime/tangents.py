"""Forward-mode helpers: tangents of the ops and helpers whose tangent is not one line (a
gradient differentiated forwards uses those of the helpers)."""
from __future__ import annotations

import numpy as np

from .registry import helper
from .broadcasting import gradient_dtype, unbroadcast
from .linalg import WELL_CONDITIONED, _factor, _lower_half, _mt, cofactor, to_triangle, uneinsum
from .reductions import (_exclusive_cumprod, _expanded, _finite, _inverse_gaps, _last,
    _matrix_norm_direction_tangent, _matrix_norm_part, _normal, _unlast, _weights_along, unaverage,
    uncumsum, unnorm)


@helper()
def eigh_tangent(t, w, v):
    """The tangents of `w, v = np.linalg.eigh(a)` along `t` (symmetrised, distinct
    eigenvalues): the diagonal of v.T t v, and v times its off-diagonal part over the gaps."""
    s = 0.5 * (t + np.swapaxes(t, -1, -2))
    p = np.swapaxes(v, -1, -2) @ s @ v
    return np.diagonal(p, axis1=-2, axis2=-1).copy(), v @ (_inverse_gaps(w) * p)


@helper()
def cumprod_tangent(t, x, ans, axis=None):
    """The tangent of `np.cumprod(x, axis)` along `t`: through the quotient where x and the
    products are normal numbers, else by the product rule step by step, exact with zeros
    and subnormals (each product's tangent from the one before)."""
    if _normal(x, ans) and (fast := _finite(ans * np.cumsum(t / x, axis=axis))) is not None:
        return fast
    moved, tm = _last(x, axis, np.shape(x)), _last(t, axis, np.shape(x))
    kind = gradient_dtype(t, x)
    out, before, total = np.zeros(moved.shape, kind), np.ones(moved.shape[:-1], kind), np.zeros(moved.shape[:-1], kind)
    for i in range(moved.shape[-1]):
        total = total * moved[..., i] + before * tm[..., i]
        before = before * moved[..., i]
        out[..., i] = total
    return _unlast(out, axis, np.shape(ans))


@helper()
def average_tangent(t, tw, x, weights, ans, axis=None):
    """The tangent of `ans = np.average(x, axis, weights)` along `t` (for x) and `tw` (for
    the weights): the weighted average of t, plus tw's weighting of x less the average."""
    if weights is None:
        return np.average(t, axis=axis)
    w = _weights_along(weights, x, axis)
    tw = _weights_along(tw, x, axis) if np.ndim(tw) else tw
    total = np.sum(w * np.ones(np.shape(x)), axis=axis, keepdims=True)
    avg = np.sum(w * x, axis=axis, keepdims=True) / total
    return np.reshape(np.sum(w * t + tw * (x - avg), axis=axis, keepdims=True) / total, np.shape(ans))


@helper()
def unprod_tangent(tg, tx, g, x, axis=None, keepdims=False):
    """The tangent of `unprod(g, x, axis, keepdims)` along tg and tx: the products of the
    other entries and their tangents, from exclusive prefix and suffix products (exact
    where x has zeros)."""
    mx, mt = _last(x, axis, np.shape(x)), _last(tx, axis, np.shape(x))
    ones, zeros = np.ones(mx.shape[:-1] + (1,)), np.zeros(mx.shape[:-1] + (1,))
    px, pt = np.concatenate([ones, mx[..., :-1]], -1), np.concatenate([zeros, mt[..., :-1]], -1)
    sx = np.concatenate([ones, np.flip(mx, -1)[..., :-1]], -1)
    st = np.concatenate([zeros, np.flip(mt, -1)[..., :-1]], -1)
    before, after = np.cumprod(px, -1), np.cumprod(sx, -1)
    dbefore, dafter = cumprod_tangent(pt, px, before, -1), np.flip(cumprod_tangent(st, sx, after, -1), -1)
    after = np.flip(after, -1)
    return _expanded(tg, axis, keepdims) * _unlast(before * after, axis, np.shape(x)) + \
        _expanded(g, axis, keepdims) * _unlast(dbefore * after + before * dafter, axis, np.shape(x))


@helper()
def unnorm_tangent(tg, tx, tans, g, x, ans, ord=None, axis=None, keepdims=False):
    """The tangent of `unnorm(g, x, ans, ord, axis, keepdims)` along tg, tx and tans (the
    tangent of the norm): vector p-norms and the Frobenius norm; the norms made of
    maxima and signs (1, inf) change with g alone."""
    x = np.asarray(x, dtype=float)
    matrix = (axis is None and x.ndim == 2) or isinstance(axis, tuple)
    if matrix and ord not in (None, "fro"):
        along = _matrix_norm_part(g, lambda m, t: _matrix_norm_direction_tangent(t, m, ord), axis, keepdims, x, tx)
        return unnorm(tg, x, ans, ord, axis, keepdims) + along
    if ord == 0 or ord in (1, np.inf, -np.inf):
        return unnorm(tg, x, ans, ord, axis, keepdims)
    p = 2 if ord in (None, "fro") else ord
    a, ta = _expanded(ans, axis, keepdims), _expanded(tans, axis, keepdims)
    a = np.where(a == 0, 1.0, a)
    base = np.sign(x) * np.abs(x) ** (p - 1) / a ** (p - 1)
    dbase = (p - 1) * (np.abs(x) ** (p - 2) * tx / a ** (p - 1) - base * ta / a)
    return _expanded(tg, axis, keepdims) * base + _expanded(g, axis, keepdims) * dbase


@helper()
def unaverage_tangent(tg, tx, tw, g, x, weights, axis=None):
    """The tangents of `unaverage(g, x, weights, axis)` (the adjoints for x and for the
    weights) along tg, tx and tw."""
    if weights is None:
        return unaverage(tg, x, None, axis)[0], None
    w = _weights_along(weights, x, axis)
    tw = _weights_along(tw, x, axis) if np.ndim(tw) else tw
    ones = np.ones(np.shape(x))
    total, ttotal = np.sum(w * ones, axis=axis, keepdims=True), np.sum(tw * ones, axis=axis, keepdims=True)
    avg = np.sum(w * x, axis=axis, keepdims=True) / total
    tavg = np.sum(tw * x + w * tx, axis=axis, keepdims=True) / total - avg * ttotal / total
    ge, tge = _expanded(g, axis, False), _expanded(tg, axis, False)
    tdx = (tge * w + ge * tw) / total - ge * w * ttotal / total ** 2 + np.zeros(np.shape(x))
    tdw = (tge * (x - avg) + ge * (tx - tavg)) / total - ge * (x - avg) * ttotal / total ** 2
    return tdx, np.reshape(unbroadcast(tdw, w), np.shape(weights))


@helper()
def solve_adjoint_tangent(tg, ta, tans, g, a, ans):
    """The tangents of `solve_adjoint(g, a, b, ans)` along tg, ta and tans (the tangent of
    the solution): for a, then for b."""
    swap = lambda m: np.swapaxes(m, -1, -2)  # noqa: E731
    db = np.linalg.solve(swap(a), g)
    if np.ndim(ans) == 1:                      # one right-hand side
        tdb = np.linalg.solve(swap(a), tg - (swap(ta) @ db[..., None])[..., 0])
        return -(tdb[..., :, None] * ans[..., None, :] + db[..., :, None] * tans[..., None, :]), tdb
    tdb = np.linalg.solve(swap(a), tg - swap(ta) @ db)
    return -(tdb @ swap(ans) + db @ swap(tans)), tdb


@helper()
def uncumprod_tangent(tg, tx, tans, g, x, ans, axis=None):
    """The tangent of `uncumprod(g, x, ans, axis)` along tg, tx and tans (the tangent of
    the cumulative product): through the quotient where x and the products are normal
    numbers, else uncumprod's two sweeps differentiated step by step (exact)."""
    if _normal(x, ans):
        quotient = (uncumsum(tg * ans + g * tans, x, axis) - uncumsum(g * ans, x, axis) * tx / x) / x
        if _finite(quotient) is not None:
            return quotient
    mx, mt = _last(x, axis, np.shape(x)), _last(tx, axis, np.shape(x))
    mg, mtg = _last(g, axis, np.shape(ans)), _last(tg, axis, np.shape(ans))
    before, dbefore = _exclusive_cumprod(mx, mt)
    after, dafter = np.zeros(mx.shape), np.zeros(mx.shape)
    total, dtotal = np.zeros(mx.shape[:-1]), np.zeros(mx.shape[:-1])
    for i in reversed(range(mx.shape[-1])):   # total_i = g_i + x_{i+1} total_{i+1}
        if i + 1 < mx.shape[-1]:
            total, dtotal = mg[..., i] + mx[..., i + 1] * total, \
                mtg[..., i] + mt[..., i + 1] * total + mx[..., i + 1] * dtotal
        else:
            total, dtotal = mg[..., i], mtg[..., i]
        after[..., i], dafter[..., i] = total, dtotal
    return _unlast(dbefore * after + before * dafter, axis, np.shape(x))


@helper()
def cholesky_adjoint_tangent(tg, tlower, g, lower):
    """The tangent of `cholesky_adjoint(g, lower)` along tg and tlower."""
    inv = np.linalg.inv(lower)
    tinv = -inv @ tlower @ inv
    p, tp = _lower_half(lower.T @ g), _lower_half(tlower.T @ g + lower.T @ tg)
    t = tinv.T @ p @ inv + inv.T @ tp @ inv + inv.T @ p @ tinv
    return 0.5 * (t + t.T)


@helper()
def pinv_tangent(t, a, p):
    """The tangent of the pseudo-inverse p = pinv(a) along t (a of constant rank)."""
    tt, pt = np.swapaxes(t, -1, -2), np.swapaxes(p, -1, -2)
    return (-(p @ t @ p) + p @ pt @ tt @ (np.eye(np.shape(a)[-2]) - a @ p)
            + (np.eye(np.shape(a)[-1]) - p @ a) @ tt @ pt @ p)


@helper()
def pinv_adjoint_tangent(tg, ta, tp, g, a, p):
    """The tangent of `pinv_adjoint(g, a, p)` along tg, ta and tp (the pseudo-inverse's
    tangent), term by term of its three products (stacks of matrices too)."""
    m, n = np.shape(a)[-2:]
    left, tleft = np.eye(m) - a @ p, -(ta @ p + a @ tp)
    right, tright = np.eye(n) - p @ a, -(tp @ a + p @ ta)
    first = -(_mt(tp) @ g @ _mt(p) + _mt(p) @ tg @ _mt(p) + _mt(p) @ g @ _mt(tp))
    second = (tleft @ _mt(g) @ p @ _mt(p) + left @ _mt(tg) @ p @ _mt(p) + left @ _mt(g) @ tp @ _mt(p)
              + left @ _mt(g) @ p @ _mt(tp))
    third = (_mt(tp) @ p @ _mt(g) @ right + _mt(p) @ tp @ _mt(g) @ right + _mt(p) @ p @ _mt(tg) @ right
             + _mt(p) @ p @ _mt(g) @ tright)
    return first + second + third


@helper()
def eigh_adjoint_tangent(tgw, tgv, tw, tv, gw, gv, w, v):
    """The tangent of `eigh_adjoint(gw, gv, w, v)` along the tangents of its arguments
    (distinct eigenvalues)."""
    n = np.shape(w)[-1]
    f = _inverse_gaps(w)
    tf = -f * f * (tw[..., None, :] - tw[..., :, None])
    vt, tvt = np.swapaxes(v, -1, -2), np.swapaxes(tv, -1, -2)
    gv, tgv = (np.zeros(np.shape(v)) if a is None or np.ndim(a) == 0 else a for a in (gv, tgv))
    on_diagonal = lambda a: 0.0 if a is None or np.ndim(a) == 0 else np.eye(n) * np.asarray(a)[..., None, :]  # noqa: E731
    middle = f * (vt @ gv) + on_diagonal(gw)
    tmiddle = tf * (vt @ gv) + f * (tvt @ gv + vt @ tgv) + on_diagonal(tgw)
    t = tv @ middle @ vt + v @ tmiddle @ vt + v @ middle @ tvt
    return 0.5 * (t + np.swapaxes(t, -1, -2))


@helper()
def uneinsum_tangent(tg, g, subscripts, operands, toperands, i):
    """The tangent of `uneinsum(g, subscripts, operands, i)` along tg and the operands'
    tangents: one term per factor, as for any multilinear function."""
    kept = [(o, t) for o, t in zip(operands, toperands) if o is not None]   # (as uneinsum counts i)
    operands = [o for o, _ in kept]
    total = uneinsum(tg, subscripts, operands, i)
    for j, (_, t) in enumerate(kept):
        if j != i:
            total = total + uneinsum(g, subscripts, operands[:j] + [t] + operands[j + 1:], i)
    return total


@helper()
def cofactor_tangent(t, a):
    """The tangent of `cofactor(a)` along t: cofactor(a + z t) is a polynomial of degree
    n - 1 in z, so its coefficient of z is exact from its values at the k-th roots of unity
    (k >= n) times r (a discrete Fourier transform); r = |a| / (n |t|) keeps rounding near |cofactor|.
    Complex matrices take the inverse (that transform reads real parts): a singular one
    raises NumPy's LinAlgError, never a wrong number."""
    kind = np.result_type(a, t, float)
    a = np.asarray(a, dtype=kind)
    t = np.broadcast_to(np.asarray(t, dtype=kind), a.shape)
    n = a.shape[-1]
    if n > 1 and (kind.kind == "c" or np.all(np.linalg.cond(a) < WELL_CONDITIONED)):   # one solve, not n SVDs:
        inv_t = np.swapaxes(np.linalg.inv(a), -1, -2)             # d(det a inv(a).T)
        change = np.sum(inv_t * t, axis=(-2, -1))[..., None, None]
        return cofactor(a) * change - np.linalg.det(a)[..., None, None] * (inv_t @ np.swapaxes(t, -1, -2) @ inv_t)
    size, along = np.linalg.norm(a, axis=(-2, -1)), np.linalg.norm(t, axis=(-2, -1))
    r = np.where(size == 0, 1.0, size) / (n * np.where(along == 0, 1.0, along))
    k = max(n, 2)                              # (one point would alias the constant term)
    roots = np.exp(2j * np.pi * np.arange(k) / k)
    z = (r[..., None] * roots)[..., None, None]
    values = cofactor(a[..., None, :, :] + z * t[..., None, :, :])
    return np.real(np.sum(values * np.conj(roots)[:, None, None], axis=-3)) / (k * r[..., None, None])


@helper()
def uncholesky_tangent(tg, tfactor, g, factor, lower):
    """The tangent of `uncholesky(g, factor, lower)` along tg and tfactor."""
    if lower:
        return to_triangle(cholesky_adjoint_tangent(tg, tfactor, g, factor), True)
    return to_triangle(cholesky_adjoint_tangent(np.swapaxes(tg, -1, -2), np.swapaxes(tfactor, -1, -2),
                                                np.swapaxes(g, -1, -2), np.swapaxes(factor, -1, -2)), False)


@helper()
def uncho_factor_tangent(tg, tc, g, c, lower):
    """The tangent of `uncho_factor(g, a, c, lower)` along those of g and c (Hessians)."""
    return uncholesky_tangent(_factor(tg, lower), _factor(tc, lower), _factor(g, lower), _factor(c, lower), lower) \
        + (tg - _factor(tg, lower))
