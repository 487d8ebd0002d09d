"""The helpers generated code calls, for Numba's nopython mode (the `numba` backend).

Importing this module teaches Numba each helper (`numba.extending.overload`): when
the derivative `numba.njit` compiles calls `unbroadcast(g, x)`, Numba types the
call and compiles the implementation chosen here for the arguments' types, in
place of the NumPy function. Each stands beside the helper it implements and
computes the same values; a case written only for NumPy (a batched matrix
product, a sum over a tuple of axes) has no implementation, and Numba's typing
error names the helper (backend/numba_backend.py turns it into a refusal at the
user's line).
"""
from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from . import broadcasting, containers, linalg, profiles, reductions, shapes


def _is_array(t) -> bool:
    return isinstance(t, types.Array)


def _is_number(t) -> bool:
    return isinstance(t, (types.Float, types.Integer, types.Boolean))


@overload(broadcasting.zero_grad)
def _zero_grad(x):
    if _is_array(x):
        if isinstance(x.dtype, types.Float):
            return lambda x: np.zeros_like(x)
        return lambda x: np.zeros(x.shape)
    if _is_number(x):
        return lambda x: 0.0


@overload(broadcasting.unbroadcast)
def _unbroadcast(g, x):
    if _is_number(x):
        if _is_number(g):
            return lambda g, x: g
        if _is_array(g):
            return lambda g, x: np.sum(g)
        return None
    if not _is_array(x):
        return None
    if _is_number(g):
        return lambda g, x: np.full(x.shape, g)
    if not _is_array(g) or g.ndim < x.ndim:
        return None
    extra = g.ndim - x.ndim

    def impl(g, x):
        same = True
        for k in range(x.ndim):
            if g.shape[extra + k] != x.shape[k]:
                same = False
        if same and extra == 0:
            return np.ascontiguousarray(g).copy()
        out = np.zeros(x.shape, g.dtype)
        flat = out.reshape(-1)
        for idx in np.ndindex(g.shape):
            at = 0
            for k in range(x.ndim):
                j = idx[extra + k] if x.shape[k] != 1 else 0
                at = at * x.shape[k] + j
            flat[at] += g[idx]
        return out
    return impl


@overload(reductions.unsum)
def _unsum(g, x, axis=None, keepdims=False):
    if not _is_array(x):
        return None
    whole = axis is None or isinstance(axis, (types.NoneType, types.Omitted))
    if whole and _is_number(g):
        return lambda g, x, axis=None, keepdims=False: np.full(x.shape, g)
    if whole or not isinstance(axis, types.Integer):
        return None                           # (a tuple of axes: NumPy's only)

    def impl(g, x, axis=None, keepdims=False):
        a = axis % x.ndim
        out = np.empty(x.shape)
        flat = np.ascontiguousarray(np.asarray(g)).reshape(-1)
        for idx in np.ndindex(x.shape):
            at = 0
            for k in range(x.ndim):
                if k != a:
                    at = at * x.shape[k] + idx[k]
            out[idx] = flat[at]
        return out
    return impl


@overload(reductions.unmax)
def _unmax(g, x, ans, axis=None, keepdims=False):
    if not _is_array(x) or not (axis is None or isinstance(axis, (types.NoneType, types.Omitted))):
        return None                           # (along an axis: NumPy's only)

    def impl(g, x, ans, axis=None, keepdims=False):
        hits = (x == ans).astype(np.float64)
        return hits * (g / np.sum(hits))
    return impl


@overload(linalg.matmul_dleft)
def _matmul_dleft(g, x, y):
    if not (_is_array(x) and _is_array(y)) or x.ndim > 2 or y.ndim > 2:
        return None
    if x.ndim == 2 and y.ndim == 2:
        return lambda g, x, y: g @ y.T       # (a transposed C array is an F one: BLAS takes both)
    if x.ndim == 2:
        return lambda g, x, y: np.outer(g, y)
    if y.ndim == 2:
        return lambda g, x, y: y @ g
    return lambda g, x, y: g * y


@overload(linalg.matmul_dright)
def _matmul_dright(g, x, y):
    if not (_is_array(x) and _is_array(y)) or x.ndim > 2 or y.ndim > 2:
        return None
    if x.ndim == 2 and y.ndim == 1:
        return lambda g, x, y: g @ x         # (x.T @ g, with no transposed copy)
    if x.ndim == 2:
        return lambda g, x, y: x.T @ g
    if y.ndim == 2:
        return lambda g, x, y: np.outer(x, g)
    return lambda g, x, y: g * x


def _list_of(t, ndim: int) -> bool:
    return isinstance(t, types.List) and _is_array(t.dtype) and t.dtype.ndim == ndim


@overload(linalg.matmul_dleft_sum)
def _matmul_dleft_sum(gs, x, ys):
    if not (_is_array(x) and x.ndim == 2):
        return None
    if _list_of(gs, 1) and _list_of(ys, 1):         # one product of the stacked factors (a BLAS gemm)
        def impl(gs, x, ys):
            if len(gs) == 0:
                return np.zeros(x.shape)
            g, y = np.empty((gs[0].shape[0], len(gs))), np.empty((len(ys), ys[0].shape[0]))
            for t in range(len(gs)):
                g[:, t] = gs[t]
                y[t, :] = ys[t]
            return g @ y
        return impl
    if _list_of(gs, 2) and _list_of(ys, 2):
        def impl2(gs, x, ys):
            out = np.zeros(x.shape)
            for t in range(len(gs)):
                out += gs[t] @ ys[t].T
            return out
        return impl2
    return None


@overload(linalg.matmul_dright_sum)
def _matmul_dright_sum(gs, xs, y):
    if not (_is_array(y) and y.ndim == 2):
        return None
    if _list_of(gs, 1) and _list_of(xs, 1):
        def impl(gs, xs, y):
            if len(gs) == 0:
                return np.zeros(y.shape)
            x, g = np.empty((xs[0].shape[0], len(xs))), np.empty((len(gs), gs[0].shape[0]))
            for t in range(len(gs)):
                x[:, t] = xs[t]
                g[t, :] = gs[t]
            return x @ g
        return impl
    if _list_of(gs, 2) and _list_of(xs, 2):
        def impl2(gs, xs, y):
            out = np.zeros(y.shape)
            for t in range(len(gs)):
                out += xs[t].T @ gs[t]
            return out
        return impl2
    return None


@overload(linalg.dot_dleft)
def _dot_dleft(g, x, y):
    if _is_number(x) or _is_number(y):
        return lambda g, x, y: broadcasting.unbroadcast(g * y, x)
    return lambda g, x, y: linalg.matmul_dleft(g, x, y)


@overload(linalg.dot_dright)
def _dot_dright(g, x, y):
    if _is_number(x) or _is_number(y):
        return lambda g, x, y: broadcasting.unbroadcast(g * x, y)
    return lambda g, x, y: linalg.matmul_dright(g, x, y)


@overload(shapes.untranspose)
def _untranspose(g, axes=None):
    if axes is None or isinstance(axes, (types.NoneType, types.Omitted)):
        return lambda g, axes=None: np.ascontiguousarray(g.T)
    return None                               # (a permutation: NumPy's only)


@overload(shapes.add_at)
def _add_at(x, index, g):
    if _is_array(index):                      # an array of indices: each adds, repeated or not
        if index.ndim != 1 or isinstance(index.dtype, types.Boolean):
            return None                       # (a 2-D array of indices, a mask: NumPy's only)
        return _indexed_add if _is_array(g) else _indexed_add_number
    if isinstance(index, types.BaseTuple) and any(_is_array(t) for t in index.types):
        return None                           # (arrays of indices in a tuple: NumPy's only)

    def impl(x, index, g):
        x[index] += g
        return x
    return impl


def _indexed_add(x, index, g):
    for k in range(index.shape[0]):
        x[index[k]] += g[k]
    return x


def _indexed_add_number(x, index, g):
    for k in range(index.shape[0]):
        x[index[k]] += g
    return x


@overload(shapes.unindex)
def _unindex(g, x, index):
    return lambda g, x, index: shapes.add_at(broadcasting.zero_grad(x), index, g)


@overload(containers.common_length)
def _common_length(*seqs):
    if len(seqs) == 1:
        return lambda *seqs: len(seqs[0])
    if len(seqs) == 2:
        return lambda *seqs: min(len(seqs[0]), len(seqs[1]))
    return None


@overload(profiles.as_floats)
def _as_floats(mask, like):
    if _is_array(mask):
        return lambda mask, like: mask.astype(np.float64)
    return lambda mask, like: float(mask)


@overload(profiles.in_library)
def _in_library(value):
    return lambda value: value


@overload(profiles.as_index)
def _as_index(key):
    return lambda key: key


@overload(profiles.contiguous)
def _contiguous(x):
    if _is_array(x):
        return lambda x: np.ascontiguousarray(x)
    return lambda x: x


INT64_MAX = 2 ** 63 - 1


@overload(profiles.int_add)
def _int_add(a, b):
    def impl(a, b):
        r = a + b
        if (a >= 0) == (b >= 0) and (r >= 0) != (a >= 0):
            _raise_overflow()
        return r
    return impl


@overload(profiles.int_sub)
def _int_sub(a, b):
    def impl(a, b):
        r = a - b
        if (a >= 0) != (b >= 0) and (r >= 0) != (a >= 0):
            _raise_overflow()
        return r
    return impl


@overload(profiles.int_mul)
def _int_mul(a, b):
    def impl(a, b):
        if a != 0 and b != 0 and (abs(a) > INT64_MAX // abs(b) or a == -INT64_MAX - 1 or b == -INT64_MAX - 1):
            _raise_overflow()
        return a * b
    return impl


@overload(profiles.int_pow)
def _int_pow(a, b):
    def impl(a, b):
        if b < 0:
            raise ValueError("a negative power of an integer is a float in Python and an integer in Numba: "
                             "write the base as a float (2.0 ** k), or use backend='numpy'")
        r = 1
        for _ in range(b):
            r = profiles.int_mul(r, a)
        return r
    return impl



@overload(shapes.unconcatenate)
def _unconcatenate(g, xs, axis=0):
    if not (_is_array(g) and isinstance(xs, (types.List, types.UniTuple)) and _is_array(xs.dtype)) or \
            not _literal_zero(axis):
        return None                               # (another axis, None: NumPy's only)

    def impl(g, xs, axis=0):
        parts = []
        at = 0
        for x in xs:
            parts.append(g[at:at + x.shape[0]])   # (the rows of each part, as np.split gives them)
            at += x.shape[0]
        return parts
    return impl


def _literal_zero(axis) -> bool:
    """Whether an axis argument is 0 when Numba types the call (left out, or a literal 0)."""
    if isinstance(axis, types.Omitted):
        return axis.value == 0
    if isinstance(axis, types.IntegerLiteral):
        return axis.literal_value == 0
    return type(axis) is int and axis == 0


@overload(np.concatenate)
def _concatenate_list(arrays, axis=0):
    """np.concatenate of a list of arrays (Numba's own takes a tuple), along axis 0."""
    if not (isinstance(arrays, types.List) and _is_array(arrays.dtype)) or \
            not _literal_zero(axis):
        return None

    def impl(arrays, axis=0):
        rows = 0
        for a in arrays:
            rows += a.shape[0]
        out = np.empty((rows,) + arrays[0].shape[1:], dtype=arrays[0].dtype)
        at = 0
        for a in arrays:
            if a.shape[1:] != out.shape[1:]:
                raise ValueError("all the input array dimensions except for the concatenation axis must match")
            out[at:at + a.shape[0]] = a
            at += a.shape[0]
        return out
    return impl

@overload(profiles.tape_push)
def _tape_push(tape, n, value):
    saved = types.unliteral(value)
    if not _is_array(tape) or saved != tape.dtype:
        from numba.core.errors import TypingError
        raise TypingError(f"s2sgrad's tape of {getattr(tape, 'dtype', tape)} was given a {saved}: "
                          f"a value of another type than the shapes analysis found (passes/numba_ready.py)")

    def impl(tape, n, value):
        tape[n] = value
        return n + 1
    return impl


@overload(profiles.trips)
def _trips(start, stop, step):
    return lambda start, stop, step: len(range(start, stop, step))


OVERFLOW = ("an integer computed here exceeds 64 bits, which Numba's integers hold and Python's do not limit: "
            "use backend='numpy' (or 'auto')")


def _raise_overflow():
    raise OverflowError(OVERFLOW)


@overload(_raise_overflow)
def _raise_overflow_impl():
    def impl():
        raise OverflowError(OVERFLOW)
    return impl
