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


def _check_dot(x, y):
    if np.ndim(y) > 2 and np.ndim(x) > 0:
        raise ValueError("s2sgrad: np.dot with a right operand of more than 2 dimensions has "
                         "no rule yet; write np.matmul or np.einsum")


def dot_dleft(g, x, y):
    """The adjoint of `np.dot(x, y)` with respect to `x`."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * y, x)
    _check_dot(x, y)
    return matmul_dleft(g, x, y)


def dot_dright(g, x, y):
    """The adjoint of `np.dot(x, y)` with respect to `y`."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return unbroadcast(g * x, y)
    _check_dot(x, y)
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
    """The adjoint of `np.linalg.norm(x, ord, axis)`: vector norms (any p, inf) and the
    Frobenius, spectral, 1 and inf norms of matrices."""
    x = np.asarray(x, dtype=float)
    matrix = (axis is None and x.ndim == 2) or isinstance(axis, tuple)
    ge, a = _expanded(g, axis, keepdims), _expanded(ans, axis, keepdims)
    if ord == 0:
        return np.zeros(np.shape(x))          # a count of non-zero entries
    if matrix and ord not in (None, "fro"):
        if x.ndim != 2:
            raise ValueError("s2sgrad: matrix norms other than Frobenius have a rule for 2-D arrays only")
        if ord == 2:
            u, _, vt = np.linalg.svd(x)
            return g * np.outer(u[:, 0], vt[0])
        if ord in (1, np.inf):
            along = 0 if ord == 1 else 1
            sums = np.sum(np.abs(x), axis=along)
            mask = (sums == np.max(sums)) / np.sum(sums == np.max(sums))
            return g * np.sign(x) * (np.expand_dims(mask, along))
        raise ValueError(f"s2sgrad: no rule for the matrix norm ord={ord!r}")
    if ord is None or ord == 2 or ord == "fro":
        return ge * x / np.where(a == 0, 1.0, a)
    if ord == np.inf or ord == -np.inf:
        hits = np.abs(x) == a
        return ge * np.sign(x) * hits / np.sum(hits, axis=axis, keepdims=True)
    if ord == 1:
        return ge * np.sign(x)
    return ge * np.sign(x) * np.abs(x) ** (ord - 1) / np.where(a == 0, 1.0, a) ** (ord - 1)


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


def unpad(g, x, pad_width, mode="constant"):
    """The adjoint of `np.pad(x, pad_width)` with constant padding: the middle."""
    if mode != "constant":
        raise ValueError(f"s2sgrad: np.pad has a rule for mode='constant' only, not {mode!r}")
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


def uneinsum(g, subscripts, operands, i):
    """The adjoint of `np.einsum(subscripts, *operands)` with respect to operand i (explicit
    output, no index repeated within one operand, no ellipsis)."""
    operands = [o for o in operands if o is not None]
    subscripts = subscripts.replace(" ", "")
    if "->" not in subscripts:                 # implicit: the letters used once, in order
        letters = subscripts.replace(",", "")
        subscripts += "->" + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    inputs, output = subscripts.split("->")
    inputs = inputs.split(",")
    if "." in subscripts or any(len(set(s)) != len(s) for s in inputs):
        raise ValueError("s2sgrad: einsum with '...' or a repeated index in one operand has no rule yet")
    others = [s for j, s in enumerate(inputs) if j != i]
    missing = [c for c in inputs[i] if c not in output and not any(c in s for s in others)]
    formula = ",".join([output] + others) + "->" + "".join(c for c in inputs[i] if c not in missing)
    part = np.einsum(formula, g, *[op for j, op in enumerate(operands) if j != i])
    if missing:                    # an index summed over in this operand alone: broadcast back
        part = np.expand_dims(part, [inputs[i].index(c) for c in missing])
        part = np.broadcast_to(part, np.shape(operands[i]))
    return part


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


def cumprod_tangent(t, x, ans, axis=None):
    """The tangent of `np.cumprod(x, axis)` along `t`: through the quotient where x has no
    zeros, else the sum over entries of t times the products of the others (exact)."""
    if np.all(x != 0):
        return ans * np.cumsum(t / x, axis=axis)
    moved, tm = _last(x, axis, np.shape(x)), _last(t, axis, np.shape(x))
    out = np.zeros(moved.shape)
    for i in range(moved.shape[-1]):          # entry i's tangent times the products without it
        without = moved.copy()
        without[..., i] = 1.0
        out[..., i:] += tm[..., i:i + 1] * np.cumprod(without, -1)[..., i:]
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
    if ord == 0 or ord in (1, np.inf, -np.inf) or (matrix and ord not in (None, "fro", 2)):
        return unnorm(tg, x, ans, ord, axis, keepdims)
    if matrix and ord == 2:
        raise ValueError("s2sgrad: second derivatives of the spectral norm (ord=2 of a matrix) have no rule yet")
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
    the cumulative product): through the quotient where x has no zeros, else entry by
    entry from the products of the others (exact)."""
    if np.all(x != 0):
        return (uncumsum(tg * ans + g * tans, x, axis) - uncumsum(g * ans, x, axis) * tx / x) / x
    mx, mt = _last(x, axis, np.shape(x)), _last(tx, axis, np.shape(x))
    mg, mtg = _last(g, axis, np.shape(ans)), _last(tg, axis, np.shape(ans))
    out = np.zeros(mx.shape)
    for j in range(mx.shape[-1]):             # entry j's adjoint: the products without it
        without, t_without = mx.copy(), mt.copy()
        without[..., j], t_without[..., j] = 1.0, 0.0
        products = np.cumprod(without, -1)
        dproducts = cumprod_tangent(t_without, without, products, -1)
        out[..., j] = np.sum((mtg * products + mg * dproducts)[..., j:], -1)
    return _unlast(out, axis, np.shape(x))


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


def pinv_adjoint_tangent(tg, ta, tp, g, a, p):
    """The tangent of `pinv_adjoint(g, a, p)` along tg, ta and tp (the pseudo-inverse's
    tangent), term by term of its three products."""
    m, n = np.shape(a)
    left, tleft = np.eye(m) - a @ p, -(ta @ p + a @ tp)
    right, tright = np.eye(n) - p @ a, -(tp @ a + p @ ta)
    first = -(tp.T @ g @ p.T + p.T @ tg @ p.T + p.T @ g @ tp.T)
    second = (tleft @ g.T @ p @ p.T + left @ tg.T @ p @ p.T + left @ g.T @ tp @ p.T
              + left @ g.T @ p @ tp.T)
    third = (tp.T @ p @ g.T @ right + p.T @ tp @ g.T @ right + p.T @ p @ tg.T @ right
             + p.T @ p @ g.T @ tright)
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


def cholesky_adjoint(g, lower):
    """The adjoint of `lower = np.linalg.cholesky(a)`, symmetrised."""
    phi = _lower_half(lower.T @ g)
    inv = np.linalg.inv(lower)
    da = inv.T @ phi @ inv
    return 0.5 * (da + da.T)


def pinv_adjoint(g, a, ans):
    """The adjoint of `ans = np.linalg.pinv(a)` where a keeps its rank."""
    m, n = np.shape(a)
    return (-ans.T @ g @ ans.T + (np.eye(m) - a @ ans) @ g.T @ ans @ ans.T
            + ans.T @ ans @ g.T @ (np.eye(n) - ans @ a))


def call_adjoint(fn, *args, wrt):
    """The gradients, with respect to the arguments at positions `wrt`, of the call
    `fn(*args[:-1])` pulled back from the cotangent `args[-1]` (a recursive call's
    derivative: `fn`'s own vjp, compiled once by s2sgrad)."""
    from .api import vjp
    *args, cotangent = args
    return vjp(fn, *args, wrt=tuple(wrt))[1](cotangent)


def call_jvp(fn, *args, wrt):
    """`(fn(*primals), tangent)` for a recursive call in forward mode: `args` are the call's
    arguments followed by the tangents of those at positions `wrt` (`fn`'s own jvp,
    compiled once by s2sgrad)."""
    from .api import jvp
    primals, tangents = args[:len(args) - len(wrt)], args[len(args) - len(wrt):]
    return jvp(fn, primals, tangents, wrt=tuple(wrt))


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
    """The adjoint of `np.cumprod(x, axis)`: through the quotient where x has no zeros,
    else from the products of the other entries (exact with zeros)."""
    if np.all(x != 0):
        return uncumsum(g * ans, x, axis) / x
    moved, gm = _last(x, axis, np.shape(x)), _last(g, axis, np.shape(ans))
    out = np.zeros(moved.shape)
    for i in range(moved.shape[-1]):          # the products with entry i taken out
        without = moved.copy()
        without[..., i] = 1.0
        out[..., i] = np.sum((gm * np.cumprod(without, -1))[..., i:], -1)
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
           cholesky_adjoint_tangent, pinv_adjoint_tangent, eigh_adjoint_tangent)
