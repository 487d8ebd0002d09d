"""The few helpers that generated code calls.

They undo what NumPy does implicitly (broadcasting, reductions) so that the
rules stay one line each. Generated modules import them by name:
`from s2sgrad.runtime import unbroadcast, ...`.
"""
from __future__ import annotations

import numpy as np


_SCALARS = {float, int, np.float64}


def unbroadcast(g, x):
    """`g` brought to the shape of `x`: summed over the axes NumPy broadcast
    `x` along, or broadcast up when `g` is a scalar seed."""
    if type(x) in _SCALARS and type(g) in _SCALARS:
        return g                              # a scalar for a scalar, checked cheaply first
    shape = x.shape if type(x) is np.ndarray else np.shape(x)
    if type(g) is not np.ndarray:
        if not shape:
            return g                          # a scalar for a scalar
        g = np.asarray(g)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:                             # (asarray: a sum of objects is an object)
        g = np.asarray(g.sum(axis=0 if extra == 1 else tuple(range(extra))))
    if extra >= 0:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
    return g if g.shape == shape else np.broadcast_to(g, shape)


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


def resum(t, g, axis=None, keepdims=False):
    """unsum's transpose: `t`, shaped like the array `unsum(g, x, axis, keepdims)` spread g
    over, summed back to the shape of g."""
    return unbroadcast(t, g) if axis is None else np.sum(t, axis=axis, keepdims=keepdims)


def unmax(g, x, ans, axis=None, keepdims=False):
    """The adjoint of `np.max(x, axis, keepdims)` (or of np.min): `g` shared equally by the
    entries of `x` equal to the result."""
    if axis is not None and not keepdims:
        g, ans = np.expand_dims(g, axis), np.expand_dims(ans, axis)
    hits = x == ans
    return g * hits / np.sum(hits, axis=axis, keepdims=True)


def zero_tangent(x):
    """Forward mode's tangent of a value that does not vary: zeros shaped like it, and for
    a list or tuple the same container of zeros (its tangent grows with it)."""
    if isinstance(x, (list, tuple)):
        return type(x)(zero_tangent(item) for item in x)
    if isinstance(x, (int, float)) or np.ndim(x) == 0:
        return 0.0
    return np.zeros(np.shape(x))


def max_tangent(t, x, ans, axis=None, keepdims=False):
    """The tangent of `np.max(x, axis, keepdims)` (or of np.min) along `t`: the mean of t
    over the entries of `x` equal to the result (unmax's transpose)."""
    full = ans if axis is None or keepdims else np.expand_dims(ans, axis)
    hits = x == full
    return np.sum(t * hits, axis=axis, keepdims=keepdims) / np.sum(hits, axis=axis, keepdims=keepdims)


def untranspose(g, axes=None):
    """The adjoint of `np.transpose(x, axes)`: the inverse permutation."""
    return np.transpose(g) if axes is None else np.transpose(g, np.argsort(np.mod(axes, np.ndim(g))))


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


def matmul_dleft_uniform(g, x, y):
    """matmul_dleft(g, x, y) for matrices when every entry of `g` is the same number c
    (the adjoint of a mean or a sum, spread): c times y's row sums, in every row; no
    matrix product."""
    if np.size(g) == 0:
        return matmul_dleft(g, x, y)
    return np.broadcast_to(np.ravel(g)[0] * np.sum(y, axis=1), np.shape(x)).copy()


def matmul_dright_uniform(g, x, y):
    """matmul_dright(g, x, y) for matrices when every entry of `g` is the same number c:
    c times x's column sums, in every column."""
    if np.size(g) == 0:
        return matmul_dright(g, x, y)
    return np.broadcast_to((np.ravel(g)[0] * np.sum(x, axis=0))[:, None], np.shape(y)).copy()


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


def matmul_dright_sum(gs, xs, y):
    """The sum over turns of `matmul_dright(g, x, y)` (y the same matrix every turn)."""
    if not gs:
        return 0.0
    if type(y) is np.ndarray and y.ndim == 2 and all(np.ndim(g) == np.ndim(x) == 1 for g, x in zip(gs, xs)):
        return np.stack(xs, axis=1) @ np.stack(gs)
    if type(y) is np.ndarray and y.ndim == 2 and all(np.ndim(g) == np.ndim(x) == 2 for g, x in zip(gs, xs)):
        return np.concatenate(xs, axis=0).T @ np.concatenate(gs, axis=0)
    return sum(matmul_dright(g, x, y) for g, x in zip(gs, xs))


def dot_dleft(g, x, y):
    """The adjoint of `np.dot(x, y)` with respect to `x` (for a right operand of more than
    2 dimensions, dot contracts x's last axis with y's second to last: a tensordot)."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * y, x)
    if np.ndim(y) > 2:
        return untensordot(g, x, y, ([-1], [-2]))[0]
    return matmul_dleft(g, x, y)


def dot_dright(g, x, y):
    """The adjoint of `np.dot(x, y)` with respect to `y`."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * x, y)
    if np.ndim(y) > 2:
        return untensordot(g, x, y, ([-1], [-2]))[1]
    return matmul_dright(g, x, y)


# -- reductions -------------------------------------------------------------------

def _last(a, axis, shape):
    """`a` (shaped `shape`, or like it) with `axis` moved last, or flattened for axis None."""
    a = np.broadcast_to(np.asarray(a, dtype=float), shape)
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


def unprod(g, x, axis=None, keepdims=False):
    """The adjoint of `np.prod(x, axis)`: `g` times the product of the other entries
    (exclusive prefix and suffix products: right where `x` has zeros too)."""
    moved = _last(x, axis, np.shape(x))
    ones = np.ones(moved.shape[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, moved[..., :-1]], -1), -1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(moved, -1)[..., :-1]], -1), -1), -1)
    return _expanded(g, axis, keepdims) * _unlast(before * after, axis, np.shape(x))


def unvar(g, x, axis=None, ddof=0, keepdims=False):
    """The adjoint of `np.var(x, axis, ddof)`."""
    count = np.size(x) // max(np.size(np.mean(x, axis=axis)), 1)
    centred = x - np.mean(x, axis=axis, keepdims=True)
    return _expanded(g, axis, keepdims) * 2.0 * centred / (count - ddof)


def unstd(g, x, ans, axis=None, ddof=0, keepdims=False):
    """The adjoint of `np.std(x, axis, ddof)`: that of the variance over 2 std (zero where
    the std is zero: one entry, or all equal; the convention of autograd and JAX)."""
    return unvar(g / (2.0 * np.where(ans == 0, 1.0, ans)), x, axis, ddof, keepdims)


def uncumsum(g, x, axis=None):
    """The adjoint of `np.cumsum(x, axis)`: sums from the end."""
    if axis is None:
        return np.flip(np.cumsum(np.flip(np.ravel(g)))).reshape(np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


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


def unnorm(g, x, ans, ord=None, axis=None, keepdims=False):
    """The adjoint of `np.linalg.norm(x, ord, axis)`: vector norms (any p, inf) and every
    matrix norm NumPy has (of stacks too: `axis` a pair)."""
    x = np.asarray(x, dtype=float)
    matrix = (axis is None and x.ndim == 2) or isinstance(axis, tuple)
    ge, a = _expanded(g, axis, keepdims), _expanded(ans, axis, keepdims)
    if ord == 0:
        return np.zeros(np.shape(x))          # a count of non-zero entries
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


def untrace(g, x, offset=0):
    """The adjoint of `np.trace(x, offset)` over the first two axes."""
    eye = np.eye(np.shape(x)[0], np.shape(x)[1], offset)
    return np.expand_dims(eye, tuple(range(2, np.ndim(x)))) * g


# -- shapes and indexing ----------------------------------------------------------

def add_at(x, index, g):
    """`x[index] += g` that adds every time an index repeats (np.add.at for advanced
    indexing; plain `+=` for basic indexing), returning x."""
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, (np.ndarray, list)) for i in items):
        np.add.at(x, index, g)
    else:
        x[index] += g
    return x


def unindex(g, x, index):
    """The adjoint of `x[index]`: zeros shaped like x, with g added where index points."""
    return add_at(zero_grad(x), index, g)


def unassigned(g, index):
    """The adjoint of the value in `x[index] = value`: g[index], except that where the
    index writes one entry more than once, only the last write (the one that stays)
    gets it."""
    picked = np.copy(g[index])
    where = np.arange(np.size(g)).reshape(np.shape(g))[index]
    flat = np.ravel(where)
    _, last_reversed = np.unique(flat[::-1], return_index=True)
    kept = np.zeros(flat.size, dtype=bool)
    kept[flat.size - 1 - last_reversed] = True
    kept = kept.reshape(np.shape(where))
    return np.where(kept.reshape(kept.shape + (1,) * (np.ndim(picked) - kept.ndim)), picked, 0.0)


def unsplit(g, axis=0):
    """The adjoint of `np.split(x, n, axis)` (a list of equal parts): the parts' adjoints
    joined back."""
    return np.concatenate(list(g), axis=axis)


def unconcatenate(g, xs, axis=0):
    """The adjoints of `np.concatenate(xs, axis)`: `g` cut at the parts' lengths."""
    if axis is None:
        sizes = np.cumsum([np.size(x) for x in xs])[:-1]
        return [p.reshape(np.shape(x)) for p, x in zip(np.split(np.ravel(g), sizes), xs)]
    sizes = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
    return np.split(g, sizes, axis=axis)


def unstacked(g, xs, axis, expand):
    """The adjoints of `np.hstack`/`np.vstack`/`np.column_stack`-like joins: cut, then
    each part back to the shape of its input."""
    parts = unconcatenate(g, [expand(x) for x in xs], axis)
    return [np.reshape(p, np.shape(x)) for p, x in zip(parts, xs)]


def unhstack(g, xs):
    """The adjoints of `np.hstack(xs)`."""
    return unstacked(g, xs, 0 if np.ndim(g) == 1 else 1, np.atleast_1d)


def unvstack(g, xs):
    """The adjoints of `np.vstack(xs)`."""
    return unstacked(g, xs, 0, np.atleast_2d)


def unroll(g, shift, axis=None):
    """The adjoint of `np.roll(x, shift, axis)`: rolled back."""
    back = np.negative(shift)
    return np.reshape(np.roll(np.ravel(g), back), np.shape(g)) if axis is None else np.roll(g, back, axis)


def untile(g, x, reps):
    """The adjoint of `np.tile(x, reps)`: the tiles summed."""
    shape = np.shape(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    split = [d for r, n in zip(reps, shape) for d in (r, n)]
    return np.reshape(np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * ndim, 2))), np.shape(x))


def unrepeat(g, x, repeats, axis=None):
    """The adjoint of `np.repeat(x, repeats, axis)` (an integer count, or one per entry)."""
    flat = axis is None
    source = np.ravel(x) if flat else np.asarray(x)
    ax = 0 if flat else axis % source.ndim
    counts = np.broadcast_to(repeats, (source.shape[ax],))
    summed = np.zeros(source.shape)
    np.add.at(np.moveaxis(summed, ax, 0), np.repeat(np.arange(source.shape[ax]), counts),
              np.moveaxis(np.asarray(g), ax, 0))
    return np.reshape(summed, np.shape(x))


COPYING_PADS = ("edge", "reflect", "symmetric", "wrap")        # the margin copies entries of x
PAD_MODES = ("constant", "empty") + COPYING_PADS              # the modes unpad knows


def unpad(g, x, pad_width, mode="constant"):
    """The adjoint of `np.pad(x, pad_width, mode)`: the middle for a constant margin; for
    a margin that copies entries of x, each margin entry's adjoint added to the entry it
    copies as well (found by padding the entries' positions the same way)."""
    if mode in COPYING_PADS:
        source = np.pad(np.arange(np.size(x)).reshape(np.shape(x)), pad_width, mode=mode)
        return np.bincount(np.ravel(source), np.ravel(g), np.size(x)).reshape(np.shape(x))
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (np.ndim(x), 2))
    return np.asarray(g)[tuple(slice(b, np.shape(g)[i] - a) for i, (b, a) in enumerate(widths))]


def undiagonal(g, x, offset=0, axis1=0, axis2=1):
    """The adjoint of `np.diagonal(x, offset, axis1, axis2)`: g placed on that diagonal."""
    out = np.zeros(np.shape(x))
    view = np.diagonal(out, offset, axis1, axis2)
    view.setflags(write=True)
    view[...] = g
    return out


def undiag(g, x, k=0):
    """The adjoint of `np.diag(x, k)`: the diagonal of g for a vector x, g placed on the
    diagonal for a matrix x."""
    return np.diagonal(g, k) if np.ndim(x) == 1 else undiagonal(g, x, k)


def untake(g, x, indices, axis=None):
    """The adjoint of `np.take(x, indices, axis)`."""
    out = np.zeros(np.size(x) if axis is None else np.shape(x))
    if axis is None:
        np.add.at(out, np.ravel(indices), np.ravel(g))
        return out.reshape(np.shape(x))
    axis = axis % np.ndim(x)
    moved = np.moveaxis(out, axis, 0)
    np.add.at(moved, indices, np.moveaxis(g, tuple(range(axis, axis + np.ndim(indices))),
                                          tuple(range(np.ndim(indices)))))
    return out


def untake_along_axis(g, x, indices, axis):
    """The adjoint of `np.take_along_axis(x, indices, axis)`."""
    out = np.zeros(np.shape(x))
    grids = list(np.ix_(*(np.arange(n) for n in np.shape(indices))))
    grids[axis % np.ndim(x)] = indices
    np.add.at(out, tuple(np.broadcast_arrays(*grids)), g)
    return out


def unsort(g, x, axis=-1):
    """The adjoint of `np.sort(x, axis)`: g put back where each entry came from."""
    if axis is None:
        out = np.zeros(np.size(x))
        out[np.argsort(np.ravel(x))] = g
        return out.reshape(np.shape(x))
    out = np.zeros(np.shape(x))
    np.put_along_axis(out, np.argsort(x, axis=axis), g, axis=axis)
    return out


# -- linear algebra ---------------------------------------------------------------

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


def eigh_adjoint(gw, gv, w, v):
    """The adjoint of `w, v = np.linalg.eigh(a)` for distinct eigenvalues, symmetrised
    (the input is taken as the symmetric matrix it stands for)."""
    n = np.shape(w)[-1]
    f = _inverse_gaps(w)
    inner = np.zeros(np.shape(v)) if gv is None else f * (np.swapaxes(v, -1, -2) @ gv)
    middle = inner + (0.0 if gw is None else np.eye(n) * np.asarray(gw)[..., None, :])
    da = v @ middle @ np.swapaxes(v, -1, -2)
    return 0.5 * (da + np.swapaxes(da, -1, -2))


def eigh_tangent(t, w, v):
    """The tangents of `w, v = np.linalg.eigh(a)` along `t` (symmetrised, distinct
    eigenvalues): the diagonal of v.T t v, and v times its off-diagonal part over the gaps."""
    s = 0.5 * (t + np.swapaxes(t, -1, -2))
    p = np.swapaxes(v, -1, -2) @ s @ v
    return np.diagonal(p, axis1=-2, axis2=-1).copy(), v @ (_inverse_gaps(w) * p)


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


def cumprod_tangent(t, x, ans, axis=None):
    """The tangent of `np.cumprod(x, axis)` along `t`: through the quotient where x and the
    products are normal numbers, else by the product rule step by step, exact with zeros
    and subnormals (each product's tangent from the one before)."""
    if _normal(x, ans) and (fast := _finite(ans * np.cumsum(t / x, axis=axis))) is not None:
        return fast
    moved, tm = _last(x, axis, np.shape(x)), _last(t, axis, np.shape(x))
    out, before, total = np.zeros(moved.shape), np.ones(moved.shape[:-1]), np.zeros(moved.shape[:-1])
    for i in range(moved.shape[-1]):
        total = total * moved[..., i] + before * tm[..., i]
        before = before * moved[..., i]
        out[..., i] = total
    return _unlast(out, axis, np.shape(ans))


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


# -- tangents of the adjoint helpers (second derivatives: forward over reverse) -------

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


def _exclusive_cumprod(x, t):
    """The products of the entries before each one along the last axis, and their tangents
    along t, step by step (exact with zeros and subnormals)."""
    before, dbefore = np.ones(x.shape), np.zeros(x.shape)
    for i in range(1, x.shape[-1]):
        before[..., i] = before[..., i - 1] * x[..., i - 1]
        dbefore[..., i] = dbefore[..., i - 1] * x[..., i - 1] + before[..., i - 1] * t[..., i - 1]
    return before, dbefore


def _lower_half(m):
    """The lower triangle of m with its diagonal halved (Cholesky's adjoint and tangent)."""
    low = np.tril(m)
    return low - 0.5 * np.diag(np.diag(low))


def cholesky_adjoint_tangent(tg, tlower, g, lower):
    """The tangent of `cholesky_adjoint(g, lower)` along tg and tlower."""
    inv = np.linalg.inv(lower)
    tinv = -inv @ tlower @ inv
    p, tp = _lower_half(lower.T @ g), _lower_half(tlower.T @ g + lower.T @ tg)
    t = tinv.T @ p @ inv + inv.T @ tp @ inv + inv.T @ p @ tinv
    return 0.5 * (t + t.T)


def _mt(m):
    """The matrix transpose of `m`, or of each matrix of a stack."""
    return np.swapaxes(m, -1, -2)


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


def cofactor(a):
    """The cofactor matrix of `a` (of each matrix of a stack), det's gradient: det(a) inv(a).T
    where a is invertible, and still right where it is not, from the SVD a = u s vt:
    det(u) det(vt) u diag(the product of the other singular values) vt, with no inverse."""
    u, s, vt = np.linalg.svd(a)
    others = unprod(np.ones(np.shape(s)[:-1]), s, axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    return sign[..., None, None] * (np.conj(u) * others[..., None, :]) @ np.conj(vt)


WELL_CONDITIONED = 1e6       # a condition number below which inverses lose at most 6 digits of 16


def cofactor_tangent(t, a):
    """The tangent of `cofactor(a)` along t: cofactor(a + z t) is a polynomial of degree
    n - 1 in z, so its coefficient of z is exact from its values at the k-th roots of unity
    (k >= n) times r (a discrete Fourier transform); r = |a| / (n |t|) keeps rounding near |cofactor|."""
    a = np.asarray(a, dtype=float)
    t = np.broadcast_to(np.asarray(t, dtype=float), a.shape)
    n = a.shape[-1]
    if n > 1 and np.all(np.linalg.cond(a) < WELL_CONDITIONED):   # one solve, not n SVDs:
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


def cholesky_adjoint(g, lower):
    """The adjoint of `lower = np.linalg.cholesky(a)`, symmetrised."""
    phi = _lower_half(lower.T @ g)
    inv = np.linalg.inv(lower)
    da = inv.T @ phi @ inv
    return 0.5 * (da + da.T)


def pinv_adjoint(g, a, ans):
    """The adjoint of `ans = np.linalg.pinv(a)` where a keeps its rank (stacks of matrices too)."""
    m, n = np.shape(a)[-2:]
    return (-_mt(ans) @ g @ _mt(ans) + (np.eye(m) - a @ ans) @ _mt(g) @ ans @ _mt(ans)
            + _mt(ans) @ ans @ _mt(g) @ (np.eye(n) - ans @ a))


COMPILER: dict = {}     # "vjp", "jvp": s2sgrad.api's entry points, which api registers here
                        # when it loads (the runtime never imports the compiler)


def call_adjoint(fn, *args, wrt):
    """The gradients, with respect to the arguments at positions `wrt`, of the call
    `fn(*args[:-1])` pulled back from the cotangent `args[-1]` (a recursive call's
    derivative: `fn`'s own vjp, compiled once by s2sgrad)."""
    *args, cotangent = args
    return COMPILER["vjp"](fn, *args, wrt=tuple(wrt))[1](cotangent)


def call_jvp(fn, *args, wrt):
    """`(fn(*primals), tangent)` for a recursive call in forward mode: `args` are the call's
    arguments followed by the tangents of those at positions `wrt` (`fn`'s own jvp,
    compiled once by s2sgrad)."""
    primals, tangents = args[:len(args) - len(wrt)], args[len(args) - len(wrt):]
    return COMPILER["jvp"](fn, primals, tangents, wrt=tuple(wrt))


def common_length(*seqs):
    """How many times `zip(*seqs)` turns (the number of items of a plain sequence)."""
    return min(len(s) for s in seqs)


class GradDict(dict):
    """The gradient of a dict argument: a dict whose sum with another adds key by key."""

    def __add__(self, other):
        total = GradDict(self)
        for key, value in other.items():
            total[key] = total[key] + value if key in total else value
        return total

    __radd__ = __add__

    def __iadd__(self, other):
        for key, value in other.items():
            self[key] = self[key] + value if key in self else value
        return self


class GradList(list):
    """The gradient of a list whose items differ in shape (np.array_split's parts): a
    list that adds item by item."""

    def __add__(self, other):
        return GradList(a + b for a, b in zip(self, other))

    __radd__ = __iadd__ = __add__


def zero_grad(x):
    """A zero gradient shaped like `x`: 0.0 for a number (or an empty list), a dict of zeros for a dict,
    an array of zeros for an array (or a list, whose gradient is an array, or a list of
    arrays when its items differ in shape)."""
    if isinstance(x, (int, float)) or isinstance(x, list) and not x:
        return 0.0                            # (an empty list's items have no shape to copy)
    if isinstance(x, dict):
        return GradDict((key, zero_grad(value)) for key, value in x.items())
    if isinstance(x, list) and len({np.shape(item) for item in x}) > 1:
        return GradList(zero_grad(item) for item in x)
    return np.zeros(np.shape(x))


def solve_adjoint(g, a, b, ans):
    """The adjoints of `ans = np.linalg.solve(a, b)` (also stacked), for a and for b."""
    at = np.swapaxes(a, -1, -2)
    if np.ndim(b) == 1:
        db = np.linalg.solve(at, g)
        return -np.multiply.outer(db, ans) if np.ndim(a) == 2 else -db[..., :, None] * ans[..., None, :], db
    db = np.linalg.solve(at, g)
    return -(db @ np.swapaxes(ans, -1, -2)), db


def uncumprod(g, x, ans, axis=None):
    """The adjoint of `np.cumprod(x, axis)`: through the quotient where x and the products
    are normal numbers, else exact with zeros and subnormals: entry i's adjoint is the
    product of the entries before it times total_i = g_i + x_{i+1} total_{i+1}."""
    if _normal(x, ans) and (fast := _finite(uncumsum(g * ans, x, axis) / x)) is not None:
        return fast
    moved, gm = _last(x, axis, np.shape(x)), _last(g, axis, np.shape(ans))
    before, _ = _exclusive_cumprod(moved, np.zeros(moved.shape))
    out, total = np.zeros(moved.shape), np.zeros(moved.shape[:-1])
    for i in reversed(range(moved.shape[-1])):
        total = gm[..., i] + (moved[..., i + 1] * total if i + 1 < moved.shape[-1] else 0.0)
        out[..., i] = before[..., i] * total
    return _unlast(out, axis, np.shape(x))


def broadcast_like(t, y):
    """A tangent `t` spread to the shape of the value `y` it belongs to (forward mode: the
    tangent of `x + 1.0 * w` with only x varying is x's, broadcast as the sum is)."""
    if type(y) is float or (type(t) is type(y) is np.ndarray and t.shape == y.shape) or np.shape(t) == np.shape(y):
        return t                               # (a number's tangent is a number)
    return np.broadcast_to(t, np.shape(y)).copy()


HELPERS = (unbroadcast, resum, broadcast_like, max_tangent, zero_tangent, call_jvp, unsum, unmax, untranspose, matmul_dleft, matmul_dright, matmul_dleft_uniform,
           matmul_dright_uniform,
           matmul_dleft_sum, matmul_dright_sum,
           dot_dleft, dot_dright, zero_grad, common_length, call_adjoint,
           unprod, unvar, unstd, uncumsum, unaverage, unnorm, untrace, add_at, unindex, unsplit,
           unconcatenate, unstacked, unhstack, unvstack, unroll, untile, unrepeat, unpad, undiagonal, undiag, untake,
           untake_along_axis, unassigned, unsort, untensordot, unkron, uneinsum, eigh_adjoint, cholesky_adjoint,
           pinv_adjoint, solve_adjoint, uncumprod, eigh_tangent, cumprod_tangent, average_tangent, unprod_tangent,
           unnorm_tangent, unaverage_tangent, solve_adjoint_tangent, uneinsum_tangent, uncumprod_tangent,
           cholesky_adjoint_tangent, pinv_adjoint_tangent, eigh_adjoint_tangent, cofactor, cofactor_tangent)
