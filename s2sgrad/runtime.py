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
    if extra > 0:
        g = g.sum(axis=0 if extra == 1 else tuple(range(extra)))
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


def unmax(g, x, ans, axis=None, keepdims=False):
    """The adjoint of `np.max(x, axis, keepdims)` (or of np.min): `g` shared equally by the
    entries of `x` equal to the result."""
    if axis is not None and not keepdims:
        g, ans = np.expand_dims(g, axis), np.expand_dims(ans, axis)
    hits = x == ans
    return g * hits / np.sum(hits, axis=axis, keepdims=True)


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


def call_adjoint(fn, *args, wrt):
    """The gradients, with respect to the arguments at positions `wrt`, of the call
    `fn(*args[:-1])` pulled back from the cotangent `args[-1]` (a recursive call's
    derivative: `fn`'s own vjp, compiled once by s2sgrad)."""
    from .api import vjp
    *args, cotangent = args
    return vjp(fn, *args, wrt=tuple(wrt))[1](cotangent)


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


def zero_grad(x):
    """A zero gradient shaped like `x`: 0.0 for a number, a dict of zeros for a dict,
    an array of zeros for an array (or a list, whose gradient is an array)."""
    if isinstance(x, (int, float)):
        return 0.0
    if isinstance(x, dict):
        return GradDict((key, zero_grad(value)) for key, value in x.items())
    return np.zeros(np.shape(x))


HELPERS = (unbroadcast, unsum, unmax, untranspose, matmul_dleft, matmul_dright,
           matmul_dleft_sum, matmul_dright_sum,
           dot_dleft, dot_dright, zero_grad, common_length, call_adjoint)
