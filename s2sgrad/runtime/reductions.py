"""Adjoints of reductions: sums, maxima, products, moments, norms, traces and running sums
and products."""
from __future__ import annotations

import numpy as np

from .registry import helper
from .broadcasting import gradient_dtype, unbroadcast


@helper(linear=(0,))
def unsum(g, x, axis=None, keepdims=False):
    """The adjoint of `np.sum(x, axis, keepdims)`: `g` spread back over `x` (a read-only view)."""
    if axis is None and type(g) is float:     # a full reduction: a zero-stride view of g
        shape = np.shape(x)
        view = np.ndarray(shape, float, np.asarray(g), 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(x))


@helper()
def resum(t, g, axis=None, keepdims=False):
    """unsum's transpose: `t`, shaped like the array `unsum(g, x, axis, keepdims)` spread g
    over, summed back to the shape of g."""
    return unbroadcast(t, g) if axis is None else np.sum(t, axis=axis, keepdims=keepdims)


@helper(linear=(0,))
def unmax(g, x, ans, axis=None, keepdims=False):
    """The adjoint of `np.max(x, axis, keepdims)` (or of np.min): `g` shared equally by the
    entries of `x` equal to the result."""
    if axis is not None and not keepdims:
        g, ans = np.expand_dims(g, axis), np.expand_dims(ans, axis)
    hits = x == ans
    return g * hits / np.sum(hits, axis=axis, keepdims=True).astype(gradient_dtype(g, x))


@helper(linear=(0,))
def max_tangent(t, x, ans, axis=None, keepdims=False):
    """The tangent of `np.max(x, axis, keepdims)` (or of np.min) along `t`: the mean of t
    over the entries of `x` equal to the result (unmax's transpose)."""
    full = ans if axis is None or keepdims else np.expand_dims(ans, axis)
    hits = x == full
    return np.sum(t * hits, axis=axis, keepdims=keepdims) / np.sum(hits, axis=axis, keepdims=keepdims).astype(
        gradient_dtype(t, x))


def _last(a, axis, shape):
    """`a` (shaped `shape`, or like it) with `axis` moved last, or flattened for axis None."""
    a = np.broadcast_to(np.asarray(a, dtype=gradient_dtype(a)), shape)
    return np.moveaxis(a.reshape(-1) if axis is None else a, -1 if axis is None else axis, -1)


def _unlast(a, axis, shape):
    """`_last`'s inverse: the last axis back to `axis`, in `shape`."""
    return np.moveaxis(a, -1, -1 if axis is None else axis).reshape(shape)


def _weights_along(w, x, axis):
    """np.average's weights, shaped to broadcast against x (a 1-D weight per entry along axis)."""
    w = np.asarray(w)
    if axis is not None and w.ndim == 1 and np.ndim(x) > 1:
        return np.expand_dims(w, tuple(i for i in range(np.ndim(x)) if i != axis % np.ndim(x)))
    return w


def _inverse_gaps(w):
    """1 / (w_j - w_i) off the diagonal, 0 on it (eigh's derivatives, distinct eigenvalues)."""
    eye = np.eye(np.shape(w)[-1], dtype=bool)
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, w[..., None, :] - w[..., :, None]))


def _expanded(g, axis, keepdims):
    """`g` with the reduced axes back (as length 1), so it broadcasts against `x`."""
    return g if axis is None or keepdims else np.expand_dims(g, axis)


@helper(complex=True)
def unprod(g, x, axis=None, keepdims=False):
    """The adjoint of `np.prod(x, axis)`: `g` times the product of the other entries
    (exclusive prefix and suffix products: right where `x` has zeros too)."""
    moved = _last(x, axis, np.shape(x))
    ones = np.ones(moved.shape[:-1] + (1,), moved.dtype)
    before = np.cumprod(np.concatenate([ones, moved[..., :-1]], -1), -1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(moved, -1)[..., :-1]], -1), -1), -1)
    return _expanded(g, axis, keepdims) * _unlast(before * after, axis, np.shape(x))


@helper(linear=(0, 1))
def unvar(g, x, axis=None, ddof=0, keepdims=False):
    """The adjoint of `np.var(x, axis, ddof)`."""
    count = np.size(x) // max(np.size(np.mean(x, axis=axis)), 1)
    centred = x - np.mean(x, axis=axis, keepdims=True)
    return _expanded(g, axis, keepdims) * 2.0 * centred / (count - ddof)


@helper(complex=True)
def unstd(g, x, ans, axis=None, ddof=0, keepdims=False):
    """The adjoint of `np.std(x, axis, ddof)`: that of the variance over 2 std (zero where
    the std is zero: one entry, or all equal; the convention of autograd and JAX)."""
    return unvar(g / (2.0 * np.where(ans == 0, 1.0, ans)), x, axis, ddof, keepdims)


@helper(linear=(0,))
def uncumsum(g, x, axis=None):
    """The adjoint of `np.cumsum(x, axis)`: sums from the end."""
    if axis is None:
        return np.flip(np.cumsum(np.flip(np.ravel(g)))).reshape(np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


@helper()
def unaverage(g, x, weights, axis=None):
    """The adjoints of `np.average(x, axis, weights)` with respect to x and to weights."""
    if weights is None:
        return unsum(g, x, axis) * (np.size(np.mean(x, axis=axis)) / np.size(x)), None
    w = _weights_along(weights, x, axis)
    total = np.sum(w * np.ones(np.shape(x)), axis=axis, keepdims=True)
    avg = np.sum(w * x, axis=axis, keepdims=True) / total
    ge = _expanded(g, axis, False)
    dw = unbroadcast(ge * (x - avg) / total, w)
    return ge * w / total + np.zeros(np.shape(x)), np.reshape(dw, np.shape(weights))


@helper()
def unnorm(g, x, ans, ord=None, axis=None, keepdims=False):
    """The adjoint of `np.linalg.norm(x, ord, axis)`: vector norms (any p, inf) and every
    matrix norm NumPy has (of stacks too: `axis` a pair)."""
    x = np.asarray(x, dtype=gradient_dtype(x))
    matrix = (axis is None and x.ndim == 2) or isinstance(axis, tuple)
    ge, a = _expanded(g, axis, keepdims), _expanded(ans, axis, keepdims)
    if ord == 0:
        return np.zeros(np.shape(x), gradient_dtype(g, x))          # a count of non-zero entries
    if matrix and ord not in (None, "fro"):
        return _matrix_norm_part(g, lambda m: _matrix_norm_direction(m, ord), axis, keepdims, x)
    if ord is None or ord == 2 or ord == "fro":
        return ge * x / np.where(a == 0, 1.0, a)
    if ord == np.inf or ord == -np.inf:
        hits = np.abs(x) == a
        return ge * np.sign(x) * hits / np.sum(hits, axis=axis, keepdims=True)
    if ord == 1:
        return ge * np.sign(x)
    return ge * np.sign(x) * np.abs(x) ** (ord - 1) / np.where(a == 0, 1.0, a) ** (ord - 1)


def _matrix_norm_part(g, direction, axis, keepdims, *arrays):
    """g times `direction` of the matrices of the arrays (shaped like x, on their last two
    axes, or on `axis`), put back in x's shape: a matrix norm's adjoint, or its tangent."""
    axes = (-2, -1) if axis is None else tuple(axis)
    g = np.asarray(g, dtype=float)
    g = np.moveaxis(g, axes, (-2, -1)) if keepdims else g[..., None, None]
    shape = np.shape(arrays[0])
    moved = [np.moveaxis(np.broadcast_to(a, shape), axes, (-2, -1)) for a in arrays]
    return np.moveaxis(g * direction(*moved), (-2, -1), axes)


def _matrix_norm_direction(m, ord):
    """The gradient of the matrix norm `ord` at each matrix of the stack m: from the SVD
    (nuclear: u vt; spectral: the singular vectors of the largest, for -2 the smallest,
    singular value), or the signs of the column (1) or row (inf) of largest (for -1, -inf
    smallest) absolute sum, shared by the ties."""
    if ord in ("nuc", 2, -2):
        u, _, vt = np.linalg.svd(m, full_matrices=False)
        if ord == "nuc":
            return u @ vt
        k = 0 if ord == 2 else -1
        return u[..., :, k, None] * vt[..., None, k, :]
    along = -2 if ord in (1, -1) else -1       # 1: the columns' sums; inf: the rows'
    sums = np.sum(np.abs(m), axis=along, keepdims=True)
    pick = (np.max if ord > 0 else np.min)(sums, axis=-1 if along == -2 else -2, keepdims=True)
    hits = sums == pick
    return np.sign(m) * hits / np.sum(hits, axis=-1 if along == -2 else -2, keepdims=True)


def _matrix_norm_direction_tangent(t, m, ord):
    """The tangent of `_matrix_norm_direction(m, ord)` along t, from the SVD's derivative:
    nuclear norm (the polar factor u vt; full rank), spectral norm (a distinct singular
    value); the 1 and inf norms' directions are constant (zeros)."""
    if ord not in ("nuc", 2, -2):
        return np.zeros(np.shape(m))
    swap = lambda a: np.swapaxes(a, -1, -2)   # noqa: E731
    u, s, vt = np.linalg.svd(m, full_matrices=False)
    p = swap(u) @ t @ swap(vt)
    off_u = (t - u @ (swap(u) @ t)) @ swap(vt)          # the parts outside the singular spaces
    off_v = swap(t) @ u - swap(vt) @ (vt @ (swap(t) @ u))
    if ord == "nuc":
        total = s[..., :, None] + s[..., None, :]
        inner = (p - swap(p)) / np.where(total == 0, 1.0, total)
        return u @ inner @ vt + (off_u / s[..., None, :]) @ vt + u @ swap(off_v / s[..., None, :])
    k = 0 if ord == 2 else -1
    sk = s[..., k, None]
    gaps = sk ** 2 - s ** 2
    gaps = np.where(np.arange(s.shape[-1]) == k % s.shape[-1], np.inf, gaps)
    mixed = lambda a, b: ((a * p[..., :, k] + b * p[..., k, :]) / gaps)[..., None]   # noqa: E731
    du = u @ mixed(sk, s) + off_u[..., :, k, None] / sk[..., None]
    dv = swap(vt) @ mixed(s, sk) + off_v[..., :, k, None] / sk[..., None]
    return du * vt[..., None, k, :] + u[..., :, k, None] * swap(dv)


@helper(linear=(0,))
def untrace(g, x, offset=0):
    """The adjoint of `np.trace(x, offset)` over the first two axes."""
    eye = np.eye(np.shape(x)[0], np.shape(x)[1], offset)
    return np.expand_dims(eye, tuple(range(2, np.ndim(x)))) * g


def _normal(*arrays) -> bool:
    """Whether every entry is a normal number (no zero, subnormal, inf or NaN): where a
    quotient by them, and products that reach them, lose nothing. On symbols (the SymPy
    referee runs the helpers) the quotient is the formula."""
    arrays = [np.asarray(a) for a in arrays]
    return all(a.dtype == object or np.all(np.abs(a) >= np.finfo(float).tiny) and np.all(np.isfinite(a))
               for a in arrays)


def _finite(a):
    """`a` if every entry is finite, else None (a fast path that overflowed)."""
    return a if np.asarray(a).dtype == object or np.all(np.isfinite(a)) else None


def _exclusive_cumprod(x, t):
    """The products of the entries before each one along the last axis, and their tangents
    along t, step by step (exact with zeros and subnormals)."""
    before, dbefore = np.ones(x.shape, gradient_dtype(x, t)), np.zeros(x.shape, gradient_dtype(x, t))
    for i in range(1, x.shape[-1]):
        before[..., i] = before[..., i - 1] * x[..., i - 1]
        dbefore[..., i] = dbefore[..., i - 1] * x[..., i - 1] + before[..., i - 1] * t[..., i - 1]
    return before, dbefore


@helper(complex=True)
def uncumprod(g, x, ans, axis=None):
    """The adjoint of `np.cumprod(x, axis)`: through the quotient where x and the products
    are normal numbers, else exact with zeros and subnormals: entry i's adjoint is the
    product of the entries before it times total_i = g_i + x_{i+1} total_{i+1}."""
    if _normal(x, ans) and (fast := _finite(uncumsum(g * ans, x, axis) / x)) is not None:
        return fast
    moved, gm = _last(x, axis, np.shape(x)), _last(g, axis, np.shape(ans))
    before, _ = _exclusive_cumprod(moved, np.zeros(moved.shape))
    kind = gradient_dtype(g, x)
    out, total = np.zeros(moved.shape, kind), np.zeros(moved.shape[:-1], kind)
    for i in reversed(range(moved.shape[-1])):
        total = gm[..., i] + (moved[..., i + 1] * total if i + 1 < moved.shape[-1] else 0.0)
        out[..., i] = before[..., i] * total
    return _unlast(out, axis, np.shape(x))
