"""Adjoints of ops that move entries around: indexing, transposes, splits and joins, rolls,
tiles, repeats, pads, diagonals, takes and sorts."""
from __future__ import annotations

import numpy as np

from .registry import helper
from .broadcasting import gradient_dtype, unbroadcast, zero_grad


@helper(linear=(0,))
def untranspose(g, axes=None):
    """The adjoint of `np.transpose(x, axes)`: the inverse permutation."""
    return np.transpose(g) if axes is None else np.transpose(g, np.argsort(np.mod(axes, np.ndim(g))))


@helper(linear=(0, 2))
def add_at(x, index, g):
    """`x[index] += g` that adds every time an index repeats (np.add.at for advanced
    indexing; plain `+=` for basic indexing), returning x."""
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, (np.ndarray, list)) for i in items):
        np.add.at(x, index, g)
    else:
        x[index] += g
    return x


@helper(linear=(0,))
def unindex(g, x, index):
    """The adjoint of `x[index]`: zeros shaped like x, with g added where index points."""
    return add_at(zero_grad(x), index, g)


@helper(linear=(0,))
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


@helper(linear=(0,))
def unsplit(g, axis=0):
    """The adjoint of `np.split(x, n, axis)` (a list of equal parts): the parts' adjoints
    joined back."""
    return np.concatenate(list(g), axis=axis)


@helper(linear=(0,))
def unconcatenate(g, xs, axis=0):
    """The adjoints of `np.concatenate(xs, axis)`: `g` cut at the parts' lengths."""
    if axis is None:
        sizes = np.cumsum([np.size(x) for x in xs])[:-1]
        return [p.reshape(np.shape(x)) for p, x in zip(np.split(np.ravel(g), sizes), xs)]
    sizes = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
    return np.split(g, sizes, axis=axis)


@helper()
def unstacked(g, xs, axis, expand):
    """The adjoints of `np.hstack`/`np.vstack`/`np.column_stack`-like joins: cut, then
    each part back to the shape of its input."""
    parts = unconcatenate(g, [expand(x) for x in xs], axis)
    return [np.reshape(p, np.shape(x)) for p, x in zip(parts, xs)]


@helper(linear=(0,))
def unhstack(g, xs):
    """The adjoints of `np.hstack(xs)`."""
    return unstacked(g, xs, 0 if np.ndim(g) == 1 else 1, np.atleast_1d)


@helper(linear=(0,))
def unvstack(g, xs):
    """The adjoints of `np.vstack(xs)`."""
    return unstacked(g, xs, 0, np.atleast_2d)


@helper(linear=(0,))
def unroll(g, shift, axis=None):
    """The adjoint of `np.roll(x, shift, axis)`: rolled back."""
    back = np.negative(shift)
    return np.reshape(np.roll(np.ravel(g), back), np.shape(g)) if axis is None else np.roll(g, back, axis)


@helper(linear=(0,))
def untile(g, x, reps):
    """The adjoint of `np.tile(x, reps)`: the tiles summed."""
    shape = np.shape(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    split = [d for r, n in zip(reps, shape) for d in (r, n)]
    return np.reshape(np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * ndim, 2))), np.shape(x))


@helper(linear=(0,))
def unrepeat(g, x, repeats, axis=None):
    """The adjoint of `np.repeat(x, repeats, axis)` (an integer count, or one per entry)."""
    flat = axis is None
    source = np.ravel(x) if flat else np.asarray(x)
    ax = 0 if flat else axis % source.ndim
    counts = np.broadcast_to(repeats, (source.shape[ax],))
    summed = np.zeros(source.shape, gradient_dtype(g, x))
    np.add.at(np.moveaxis(summed, ax, 0), np.repeat(np.arange(source.shape[ax]), counts),
              np.moveaxis(np.asarray(g), ax, 0))
    return np.reshape(summed, np.shape(x))


COPYING_PADS = ("edge", "reflect", "symmetric", "wrap")        # the margin copies entries of x
STATISTIC_PADS = ("maximum", "minimum", "mean", "median", "linear_ramp")   # the margin is made from the
# entries near it, one axis after another


PAD_MODES = ("constant", "empty") + COPYING_PADS + STATISTIC_PADS     # the modes unpad knows


@helper(linear=(0,))
def unpad(g, x, pad_width, mode="constant", stat_length=None):
    """The adjoint of `np.pad(x, pad_width, mode)`: the middle for a constant margin; for
    a margin that copies entries of x, each margin entry's adjoint added to the entry it
    copies as well (found by padding the entries' positions the same way); for a margin
    made from a statistic of the entries near it, or a ramp to the edge, the margin's
    adjoint taken back to those entries, one axis after another in reverse."""
    if mode in COPYING_PADS:
        source, g = np.ravel(np.pad(np.arange(np.size(x)).reshape(np.shape(x)), pad_width, mode=mode)), np.ravel(g)
        summed = np.bincount(source, np.real(g), np.size(x))
        if np.iscomplexobj(g):                     # (bincount adds reals only)
            summed = summed + 1j * np.bincount(source, np.imag(g), np.size(x))
        return summed.reshape(np.shape(x)).astype(gradient_dtype(g, x), copy=False)
    if mode in STATISTIC_PADS:
        for y, axis, widths, lengths in reversed(_pad_steps(x, pad_width, mode, stat_length)):
            g = _unpad_axis(g, y, axis, widths, mode, lengths)
        return g
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (np.ndim(x), 2))
    return np.asarray(g)[tuple(slice(b, np.shape(g)[i] - a) for i, (b, a) in enumerate(widths))]


@helper(linear=(0,))
def pad_tangent(t, x, pad_width, mode="constant", stat_length=None):
    """The tangent of `np.pad(x, pad_width, mode)` along t (constants padded in: none): t
    padded the same way, the statistics' margins taking t where x's statistic is (the
    entries the maximum, minimum or median picks)."""
    if mode not in ("maximum", "minimum", "median"):      # ('empty' margins hold nothing: zeros)
        return np.pad(t, pad_width, mode="constant" if mode == "empty" else mode,
                      **({"stat_length": stat_length} if mode == "mean" else {}))
    t = np.broadcast_to(t, np.shape(x))
    for y, axis, widths, lengths in _pad_steps(x, pad_width, mode, stat_length):
        t = _pad_axis_tangent(t, y, axis, widths, mode, lengths)
    return t


def _pad_steps(x, pad_width, mode, stat_length) -> list:
    """NumPy pads one axis after another, each over the array the earlier ones padded: for
    each axis, (the array before it is padded, the axis, its widths, its statistic's lengths)."""
    ndim = np.ndim(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (ndim, 2))
    lengths = np.broadcast_to(np.asarray(stat_length, dtype=object), (ndim, 2)) if stat_length is not None \
        else np.full((ndim, 2), None)
    steps, y = [], np.asarray(x)
    for axis in range(ndim):
        steps.append((y, axis, tuple(widths[axis]), tuple(lengths[axis])))
        only = [(0, 0)] * ndim
        only[axis] = tuple(widths[axis])
        extra = {"stat_length": [(1, 1) if a != axis else tuple(lengths[axis]) for a in range(ndim)]} \
            if mode != "linear_ramp" and stat_length is not None else {}
        y = np.pad(y, only, mode=mode, **extra)
    return steps


def _margins(n: int, widths, lengths):
    """For each side of an axis of n entries: (side, its width, the entries its statistic reads)."""
    for side, (width, length) in enumerate(zip(widths, lengths)):
        if width:
            count = n if length is None else min(int(length), n)
            yield side, width, slice(0, count) if side == 0 else slice(n - count, n)


def _picked(part, mode) -> list:
    """(positions along the first axis, weight): the entries of `part` a statistic picks."""
    if mode == "maximum":
        return [(np.argmax(part, axis=0), 1.0)]
    if mode == "minimum":
        return [(np.argmin(part, axis=0), 1.0)]
    order, count = np.argsort(part, axis=0, kind="stable"), part.shape[0]        # the median
    if count % 2:
        return [(order[count // 2], 1.0)]
    return [(order[count // 2 - 1], 0.5), (order[count // 2], 0.5)]


def _ramp(width: int, side: int):
    """The weight of the edge value in each entry of a linear_ramp margin (outermost first
    before the array, innermost first after it)."""
    ramp = np.arange(width) / width
    return ramp if side == 0 else ramp[::-1]


def _unpad_axis(g, y, axis, widths, mode, lengths):
    """The adjoint of padding y along one axis, for the adjoint g of the padded array."""
    g, y = np.moveaxis(np.asarray(g), axis, 0), np.moveaxis(y, axis, 0)
    n, before = y.shape[0], widths[0]
    out = g[before:before + n].astype(gradient_dtype(g, y), copy=True)
    for side, width, near in _margins(n, widths, lengths):
        margin = g[:before] if side == 0 else g[before + n:]
        if mode == "linear_ramp":
            out[0 if side == 0 else n - 1] += np.tensordot(_ramp(width, side), margin, axes=(0, 0))
            continue
        total, reading = np.sum(margin, axis=0), out[near]
        if mode == "mean":
            reading += total / reading.shape[0]
            continue
        for positions, weight in _picked(y[near], mode):
            chosen = np.take_along_axis(reading, positions[None], 0)
            np.put_along_axis(reading, positions[None], chosen + weight * total[None], 0)
    return np.moveaxis(out, 0, axis)


def _pad_axis_tangent(t, y, axis, widths, mode, lengths):
    """The tangent of padding y along one axis by a statistic that picks entries."""
    t, y = np.moveaxis(np.asarray(t), axis, 0), np.moveaxis(y, axis, 0)
    parts = [None, t, None]
    for side, width, near in _margins(y.shape[0], widths, lengths):
        value = sum(weight * np.take_along_axis(t[near], positions[None], 0)[0]
                    for positions, weight in _picked(y[near], mode))
        parts[2 * side] = np.broadcast_to(value, (width,) + np.shape(value))
    return np.moveaxis(np.concatenate([p for p in parts if p is not None]), 0, axis)


@helper(linear=(0,))
def undiagonal(g, x, offset=0, axis1=0, axis2=1):
    """The adjoint of `np.diagonal(x, offset, axis1, axis2)`: g placed on that diagonal."""
    out = np.zeros(np.shape(x), gradient_dtype(g, x))
    view = np.diagonal(out, offset, axis1, axis2)
    view.setflags(write=True)
    view[...] = g
    return out


@helper(linear=(0,))
def undiag(g, x, k=0):
    """The adjoint of `np.diag(x, k)`: the diagonal of g for a vector x, g placed on the
    diagonal for a matrix x."""
    return np.diagonal(g, k) if np.ndim(x) == 1 else undiagonal(g, x, k)


@helper(linear=(0,))
def untake(g, x, indices, axis=None):
    """The adjoint of `np.take(x, indices, axis)`."""
    out = np.zeros(np.size(x) if axis is None else np.shape(x), gradient_dtype(g, x))
    if axis is None:
        np.add.at(out, np.ravel(indices), np.ravel(g))
        return out.reshape(np.shape(x))
    axis = axis % np.ndim(x)
    moved = np.moveaxis(out, axis, 0)
    np.add.at(moved, indices, np.moveaxis(g, tuple(range(axis, axis + np.ndim(indices))),
                                          tuple(range(np.ndim(indices)))))
    return out


@helper(linear=(0,))
def untake_along_axis(g, x, indices, axis):
    """The adjoint of `np.take_along_axis(x, indices, axis)`."""
    out = np.zeros(np.shape(x), gradient_dtype(g, x))
    grids = list(np.ix_(*(np.arange(n) for n in np.shape(indices))))
    grids[axis % np.ndim(x)] = indices
    np.add.at(out, tuple(np.broadcast_arrays(*grids)), g)
    return out


@helper(linear=(0,))
def unselect(g, condlist, choicelist, default=0):
    """The adjoints of `np.select(condlist, choicelist, default)`: each choice gets g where
    its condition is the first that holds, the default where none does."""
    taken = np.zeros(np.shape(g), dtype=bool)
    parts = []
    for cond, choice in zip(condlist, choicelist):
        here = np.logical_and(cond, np.logical_not(taken))
        parts.append(unbroadcast(np.where(here, g, 0.0), choice))
        taken = np.logical_or(taken, here)
    return parts, unbroadcast(np.where(taken, 0.0, g), default)


@helper(linear=(0,))
def unrollaxis(g, axis, start, ndim):
    """The adjoint of `np.rollaxis(x, axis, start)` (x with `ndim` axes): rolled back."""
    axis, start = axis % ndim, start + ndim if start < 0 else start     # (as NumPy counts a negative start)
    destination = start - 1 if start > axis else start
    return np.moveaxis(g, destination, axis)


@helper(linear=(0,))
def untrapezoid(g, y, dx=1.0, axis=-1):
    """The adjoint of `np.trapezoid(y, dx=dx, axis=axis)`: each sample's weight (dx, halved
    at the ends) times g."""
    n = np.shape(y)[axis]
    weights = np.full(n, float(dx))
    weights[0] /= 2
    weights[-1] /= 2
    if n < 2:
        weights[:] = 0.0                        # (one sample: no interval, the integral is 0)
    shape = [1] * np.ndim(y)
    shape[axis] = n
    return np.expand_dims(g, axis) * np.reshape(weights, shape)


@helper(linear=(0,))
def trapezoid_weights(x, y, axis=-1):
    """The weight of each sample of y in `np.trapezoid(y, x, axis=axis)`: half the width of
    the intervals on either side of it, so that the integral is sum(weights * y) along the
    axis; a 1-D x is shaped to lie along that axis (x None: unit spacing)."""
    x = np.arange(float(np.shape(y)[axis])) if x is None else np.asarray(x)
    along = axis if np.ndim(x) > 1 else 0
    d = np.diff(x, axis=along)
    before, after = [(0, 0)] * np.ndim(x), [(0, 0)] * np.ndim(x)
    before[along], after[along] = (1, 0), (0, 1)
    weights = 0.5 * (np.pad(d, before) + np.pad(d, after))
    if np.ndim(x) == 1:
        shape = [1] * np.ndim(y)
        shape[axis] = len(x)
        weights = weights.reshape(shape)
    return weights


@helper(linear=(0,))
def untrapezoid_weights(g, x, axis=-1):
    """The adjoint of `trapezoid_weights(x, ...)` for the adjoint g of the weights (as
    broadcast against y): the transpose of the half-sums of x's differences, shaped as x."""
    if x is None:
        return 0.0
    if np.ndim(x) == 1:                          # (weights along the axis: summed over the others)
        g, along = np.sum(g, axis=tuple(i for i in range(np.ndim(g)) if i != axis % np.ndim(g))), 0
    else:
        g, along = unbroadcast(g, x), axis
    first, rest = [slice(None)] * np.ndim(g), [slice(None)] * np.ndim(g)
    first[along], rest[along] = slice(None, -1), slice(1, None)
    return undiff(0.5 * (g[tuple(first)] + g[tuple(rest)]), 1, along)


@helper(linear=(0,))
def one_item(x):
    """x, the one item of `np.r_[x]` or `np.c_[x]` written as a name: refused if it holds a
    tuple, which NumPy would read as the items themselves (write them out)."""
    if isinstance(x, tuple):
        raise TypeError("np.r_[t] and np.c_[t] of a tuple t join its items: write them out (np.c_[t[0], t[1]]) "
                        "so that s2sgrad sees them")
    return x


@helper(linear=(0,))
def as_column(x):
    """An item of `np.c_[...]` as it joins the others along their last axis: a vector made a
    column, a number a 1 x 1 matrix, an array of two or more dimensions as it is."""
    x = np.asarray(x)
    return x[:, None] if x.ndim == 1 else np.atleast_2d(x)


@helper(linear=(0,))
def undiff(g, n=1, axis=-1):
    """The adjoint of `np.diff(x, n, axis)`: each difference undone, n times (the transpose
    of a first difference is minus the difference of g padded with a zero at each end)."""
    for _ in range(n):
        pad = [(0, 0)] * np.ndim(g)
        pad[axis] = (1, 1)
        g = -np.diff(np.pad(g, pad), axis=axis)
    return g


@helper(linear=(0,))
def uncolumn_stack(g, xs):
    """The adjoints of `np.column_stack(xs)`: the columns of g each array became."""
    out, start = [], 0
    for x in xs:
        width = 1 if np.ndim(x) < 2 else np.shape(x)[1]
        out.append(np.reshape(g[:, start:start + width], np.shape(x)))
        start += width
    return out


@helper(linear=(0,))
def unappend(g, arr, values, axis=None):
    """The adjoints of `np.append(arr, values, axis)`: g split where the values begin."""
    if axis is None:
        g = np.ravel(g)
        return np.reshape(g[:np.size(arr)], np.shape(arr)), np.reshape(g[np.size(arr):], np.shape(values))
    first, rest = np.split(g, [np.shape(arr)[axis]], axis=axis)
    return first, rest


@helper(linear=())
def convolve_margins(m: int, n: int, length: int, mode: str = "full", correlate: bool = False) -> tuple:
    """How many zeros go before and after the result of `np.convolve` (of lengths m and n,
    giving `length` values in `mode`) to place it in the full convolution; of
    `np.correlate`, in the full convolution with the second reversed (whose `same` is
    centred the other way when the first is the shorter)."""
    full = m + n - 1
    if mode == "same":
        start = (full - length + (1 if correlate and m < n else 0)) // 2
    else:
        start = min(m, n) - 1 if mode == "valid" else 0
    return start, full - length - start


@helper(linear=(0,))
def unrot90(g, k=1, axes=(0, 1)):
    """The adjoint of `np.rot90(x, k, axes)`: turned back."""
    return np.rot90(g, -k, axes)


def _ranked(x, q, axis):
    """x with the quantile's axis last (all of x flattened for no axis), the order that
    sorts it, and the two ranks the quantile q lies between with the weight of the upper."""
    x = np.asarray(x, dtype=float)
    moved = np.ravel(x)[None, :] if axis is None else np.moveaxis(x, axis, -1)
    n = moved.shape[-1]
    position = q * (n - 1)
    low = int(np.floor(position))
    return moved, np.argsort(moved, axis=-1, kind="stable"), low, min(low + 1, n - 1), position - low


@helper(linear=(0,))
def quantile_tangent(t, x, q, axis=None, keepdims=False):
    """The tangent of `np.quantile(x, q, axis, keepdims)` along t: t's entries where x's
    sorted ones are, interpolated as the quantile is."""
    moved, order, low, high, weight = _ranked(x, q, axis)
    t = np.asarray(t, dtype=float)
    along = np.ravel(t)[None, :] if axis is None else np.moveaxis(t, axis, -1)
    ranked = np.take_along_axis(along, order, axis=-1)
    out = ranked[..., low] * (1 - weight) + ranked[..., high] * weight
    if axis is None:
        out = out[0]
    if keepdims:
        out = np.expand_dims(out, tuple(range(np.ndim(x))) if axis is None else axis)
    return out


@helper(linear=(0,))
def unquantile(g, x, q, axis=None, keepdims=False):
    """The adjoint of `np.quantile(x, q, axis, keepdims)` (linear interpolation, a number q):
    g shared by the two sorted entries the quantile lies between."""
    moved, order, low, high, weight = _ranked(x, q, axis)
    g = np.asarray(g, dtype=gradient_dtype(g))
    if axis is not None and keepdims:
        g = np.squeeze(g, axis)
    g = np.reshape(g, moved.shape[:-1])
    out = np.zeros(moved.shape, gradient_dtype(g, x))
    np.put_along_axis(out, order[..., low:low + 1], (g * (1 - weight))[..., None], axis=-1)
    upper = np.take_along_axis(out, order[..., high:high + 1], axis=-1) + (g * weight)[..., None]
    np.put_along_axis(out, order[..., high:high + 1], upper, axis=-1)
    return np.reshape(out, np.shape(x)) if axis is None else np.moveaxis(out, -1, axis)


@helper(linear=(0,))
def ungradient(g, f, axis=None, edge_order=1):
    """The adjoint of `np.gradient(f, axis=axis, edge_order=...)` (unit spacing): each
    difference's weight given back to the entries it read; with no axis and several
    dimensions, g holds one gradient per axis."""
    shape = np.shape(f)
    axes = range(len(shape)) if axis is None else [axis % len(shape)]
    parts = g if axis is None and len(shape) > 1 else [g]
    out = np.zeros(shape, gradient_dtype(g))
    for a, part in zip(axes, parts):
        out += np.moveaxis(_gradient_transposed(np.moveaxis(np.asarray(part, dtype=float), a, 0), edge_order), 0, a)
    return out


def _gradient_transposed(g, edge_order):
    """The transpose of np.gradient along the first axis, applied to g."""
    out = np.zeros(g.shape, gradient_dtype(g))
    out[2:] += g[1:-1] / 2
    out[:-2] -= g[1:-1] / 2
    if edge_order == 1:
        out[1] += g[0]
        out[0] -= g[0]
        out[-1] += g[-1]
        out[-2] -= g[-1]
    else:
        out[:3] += np.multiply.outer([-1.5, 2.0, -0.5], np.ones(g.shape[1:])) * g[0]
        out[-3:] += np.multiply.outer([0.5, -2.0, 1.5], np.ones(g.shape[1:])) * g[-1]
    return out


def python_order(x, reverse=False) -> list:
    """The positions of `x`'s items in the order Python's `sorted(x, reverse=...)` puts them:
    the same sort on the same comparisons (ties and NaNs placed exactly as sorted places them)."""
    return sorted(range(len(x)), key=x.__getitem__, reverse=reverse)


@helper(linear=(0,))
def unsorted(g, x, reverse=False):
    """The adjoint of the builtin `sorted(x)`: g put back where each item came from."""
    out = np.zeros(np.shape(x), gradient_dtype(g, x))
    out[python_order(x, reverse)] = g
    return out


@helper(linear=(0,))
def resorted(t, x, reverse=False):
    """The tangent of `sorted(x)`: the tangents of the items, in sorted's order (a list)."""
    return [t[i] for i in python_order(x, reverse)]


@helper(linear=(0,))
def unsort(g, x, axis=-1):
    """The adjoint of `np.sort(x, axis)`: g put back where each entry came from."""
    if axis is None:
        out = np.zeros(np.size(x), gradient_dtype(g, x))
        out[np.argsort(np.ravel(x))] = g
        return out.reshape(np.shape(x))
    out = np.zeros(np.shape(x), gradient_dtype(g, x))
    np.put_along_axis(out, np.argsort(x, axis=axis), g, axis=axis)
    return out


@helper(linear=(0,))
def unhsplit(g, x):
    """The adjoint of `np.hsplit(x, n)`: the parts joined along the axis hsplit cut (the
    second, or the first of a vector)."""
    return np.concatenate(list(g), axis=1 if np.ndim(x) > 1 else 0)


@helper(linear=(0,))
def unpartition(g, x, ans, kth, axis=-1):
    """The adjoint of `np.partition(x, kth, axis)`: g put back where each entry came from,
    by the arrangement np.argpartition makes (checked to be partition's own)."""
    order = np.argpartition(x, kth, axis=axis)
    if not np.array_equal(np.take_along_axis(np.asarray(x), order, axis=axis), ans):
        raise ValueError("np.partition arranged equal entries differently from np.argpartition here, so its "
                         "derivative is not defined; use np.sort")
    out = np.zeros(np.shape(x), gradient_dtype(g, x))
    np.put_along_axis(out, order, g, axis=axis)
    return out


@helper(linear=(0,))
def unmeshgrid(g, x, y, indexing="xy"):
    """The adjoints (for x, for y) of `np.meshgrid(x, y, indexing)`: each grid summed over
    the axis its vector does not run along."""
    gx, gy = g
    if indexing == "xy":
        return np.sum(gx, axis=0), np.sum(gy, axis=1)
    return np.sum(gx, axis=1), np.sum(gy, axis=0)


def _segments(x, xp):
    """For each point of x: the segment of xp it falls in (the right one at a knot) and its
    position t in it; inside: whether it lies within [xp[0], xp[-1]]."""
    xp = np.asarray(xp, dtype=float)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    width = xp[i + 1] - xp[i]
    t = (np.asarray(x) - xp[i]) / width
    inside = (np.asarray(x) >= xp[0]) & (np.asarray(x) <= xp[-1])
    return i, t, width, inside


@helper()
def uninterp_tangent(tg, tx, tfp, g, x, xp, fp, left=None, right=None):
    """The tangent of `uninterp(g, x, xp, fp, left, right)` along tg, tx and tfp (Hessians):
    uninterp is linear in g (its part along tg is uninterp itself); inside, dx = g (fp[i+1]
    - fp[i]) / width moves with fp, and dfp's shares g (1 - t) and g t move with x."""
    tdx, tdfp = uninterp(tg, x, xp, fp, left, right)
    tfp = np.broadcast_to(np.asarray(tfp, dtype=float), np.shape(fp))
    i, _, width, inside = _segments(x, xp)
    tdx = tdx + np.where(inside, g * (tfp[i + 1] - tfp[i]) / width, 0.0)
    moved = np.where(inside, g * np.broadcast_to(np.asarray(tx, dtype=float), np.shape(x)) / width, 0.0)
    tdfp = tdfp.astype(np.result_type(tdfp, moved), copy=False)
    np.add.at(tdfp, i, -moved)
    np.add.at(tdfp, i + 1, moved)
    return (tdx if np.ndim(x) else float(tdx)), tdfp


@helper()
def uninterp(g, x, xp, fp, left=None, right=None):
    """The adjoints (for x, for fp) of `np.interp(x, xp, fp, left, right)`: inside, the
    value is (1 - t) fp[i] + t fp[i + 1]; outside, fp's end (or left/right, constants)."""
    g = np.asarray(g, dtype=gradient_dtype(g, fp))
    fp = np.asarray(fp)
    i, t, width, inside = _segments(x, xp)
    dx = np.where(inside, g * (fp[i + 1] - fp[i]) / width, 0.0)
    dfp = np.zeros(np.shape(fp), g.dtype)
    np.add.at(dfp, i, np.where(inside, g * (1 - t), 0.0))
    np.add.at(dfp, i + 1, np.where(inside, g * t, 0.0))
    below, above = np.asarray(x) < np.asarray(xp)[0], np.asarray(x) > np.asarray(xp)[-1]
    if left is None:
        dfp[0] += np.sum(np.where(below, g, 0.0))
    if right is None:
        dfp[-1] += np.sum(np.where(above, g, 0.0))
    return (dx if np.ndim(x) else dx.item()), dfp


@helper(linear=(0, 4))
def interp_tangent(dx, x, xp, fp, dfp, left=None, right=None):
    """The tangent of `np.interp(x, xp, fp, left, right)` along dx (the points) and dfp
    (the values); outside, a given left or right is a constant."""
    fp, dfp = np.asarray(fp), np.asarray(dfp)
    i, t, width, inside = _segments(x, xp)
    below = np.asarray(x) < np.asarray(xp)[0]
    ends = np.where(below, 0.0 if left is not None else dfp[0], 0.0 if right is not None else dfp[-1])
    return np.where(inside, dx * (fp[i + 1] - fp[i]) / width + (1 - t) * dfp[i] + t * dfp[i + 1], ends)


@helper(linear=(0,))
def partition_tangent(t, x, ans, kth, axis=-1):
    """The tangent of `np.partition(x, kth, axis)` along t: t arranged as x is."""
    order = np.argpartition(x, kth, axis=axis)
    if not np.array_equal(np.take_along_axis(np.asarray(x), order, axis=axis), ans):
        raise ValueError("np.partition arranged equal entries differently from np.argpartition here, so its "
                         "derivative is not defined; use np.sort")
    return np.take_along_axis(np.broadcast_to(t, np.shape(x)), order, axis=axis)


@helper(linear=(0,))
def unconvolve_nd(g, in1, in2, mode="full", correlate=False):
    """The adjoints (for in1, for in2) of `scipy.signal.convolve(in1, in2, mode)` (of
    `correlate`, which convolves with in2 reversed along every axis): g placed where its
    mode's output sits in the full result, correlated with the other input."""
    from scipy import signal                # (only a user of scipy.signal gets here)
    s1, s2 = np.array(np.shape(in1)), np.array(np.shape(in2))
    full = s1 + s2 - 1
    g = np.asarray(g)
    if mode != "full":
        start = (s2 - 1) // 2 if mode == "same" else np.minimum(s1, s2) - 1
        placed = np.zeros(tuple(full), gradient_dtype(g))
        placed[tuple(slice(a, a + n) for a, n in zip(start, g.shape))] = g
        g = placed
    kernel = np.flip(in2) if correlate else np.asarray(in2)
    d1 = signal.correlate(g, kernel, mode="valid")
    d2 = signal.correlate(g, in1, mode="valid")
    return d1, (np.flip(d2) if correlate else d2)
