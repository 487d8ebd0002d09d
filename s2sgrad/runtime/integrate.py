"""The derivatives of scipy.integrate.odeint, by the adjoint method (reverse mode) and
by forward sensitivities (forward mode), not by differentiating the solver's steps.

For dy/dt = f(y, t, *args) solved at the times t_0 < ... < t_N, the vjp of the
solution along cotangents g_i integrates, backwards from t_N to t_0, the state y with
its adjoint a and the adjoints of the arguments:

    dy/dt = f(y, t),    da/dt = -a^T df/dy,    d(a_args)/dt = -a^T df/dargs,

adding g_i to a at each t_i (and restarting y from the forward solution there).
The jvp integrates y with its tangent s along (dy0, dargs): ds/dt = df/dy s + df/dargs
dargs. Both call s2sgrad's own vjp or jvp of the user's f (compiled once, when first
needed). Each is as accurate as the solver's tolerances: tighter than the forward
solve's by default (rtol = atol = 1e-10).
"""
from __future__ import annotations

import numpy as np

from .containers import COMPILER
from .registry import helper

TIGHT = 1e-10


def _flat(values):
    return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values]) if values else np.zeros(0)


def _unflat(vector, likes):
    out, at = [], 0
    for like in likes:
        size = int(np.size(like))
        part = vector[at:at + size]
        out.append(part.reshape(np.shape(like)) if np.ndim(like) else float(part[0]))
        at += size
    return out


def _call(func, y, t, args, tfirst):
    return (t, y, *args) if tfirst else (y, t, *args)


def _floats(args) -> list:
    """The positions of the extra arguments that hold floats (an int, a string: not
    differentiated)."""
    return [i for i, a in enumerate(args) if np.asarray(a).dtype.kind in "fc"]


@helper()            # (smooth in y0 and args too: forward mode over it has no rule yet)
def unodeint(g, func, y0, t, args, ys, tfirst=False, rtol=None, atol=None):
    """(dy0, dargs): the adjoints of the initial state and the extra arguments of
    `odeint(func, y0, t, args)`, whose solution at the times t is `ys`, for its adjoint g."""
    from scipy.integrate import odeint
    args = tuple(args)
    shape, n, floats = np.shape(y0), int(np.size(y0)), _floats(args)
    where = (1, 0) if tfirst else (0, 1)
    wrt = (where[0],) + tuple(2 + i for i in floats)
    g = np.reshape(np.asarray(g, dtype=float), (len(t), n))
    ys = np.reshape(np.asarray(ys, dtype=float), (len(t), n))

    def backwards(state, s):
        y, a = state[:n].reshape(shape), state[n:2 * n].reshape(shape)
        value, pullback = COMPILER["vjp"](func, *_call(func, y, s, args, tfirst), wrt=wrt)
        grads = pullback(a)
        return np.concatenate([np.ravel(value), -_flat(grads[:1]), -_flat(grads[1:])])

    a, a_args = g[-1].copy(), np.zeros(int(sum(np.size(args[i]) for i in floats)))
    for i in range(len(t) - 1, 0, -1):
        state = np.concatenate([ys[i], a, a_args])
        path = odeint(backwards, state, [t[i], t[i - 1]], rtol=rtol or TIGHT, atol=atol or TIGHT)
        a, a_args = path[-1, n:2 * n] + g[i - 1], path[-1, 2 * n:]
    found = dict(zip(floats, _unflat(a_args, [args[i] for i in floats])))
    return a.reshape(shape), tuple(found.get(i, 0.0) for i in range(len(args)))


@helper()
def odeint_tangent(dy0, func, y0, t, dargs, args, tfirst=False, rtol=None, atol=None):
    """The tangent of `odeint(func, y0, t, args)` along dy0 and dargs (forward sensitivities)."""
    from scipy.integrate import odeint
    args, dargs = tuple(args), tuple(dargs)
    shape, n, floats = np.shape(y0), int(np.size(y0)), _floats(args)
    where = (1, 0) if tfirst else (0, 1)
    wrt = (where[0],) + tuple(2 + i for i in floats)

    def forwards(state, s):
        y, d = state[:n].reshape(shape), state[n:].reshape(shape)
        value, tangent = COMPILER["jvp"](func, _call(func, y, s, args, tfirst), (d, *(dargs[i] for i in floats)),
                                         wrt=wrt)
        return np.concatenate([np.ravel(value), np.ravel(tangent)])

    state0 = np.concatenate([np.ravel(np.asarray(y0, dtype=float)), np.ravel(np.asarray(dy0, dtype=float))])
    path = odeint(forwards, state0, t, rtol=rtol or TIGHT, atol=atol or TIGHT)
    return path[:, n:].reshape((len(t),) + (shape or (1,)))          # (a number's solution: one column)
