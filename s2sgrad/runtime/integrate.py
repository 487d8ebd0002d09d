"""The derivatives of scipy.integrate's `odeint` and `solve_ivp`, by the adjoint method
(reverse mode) and by forward sensitivities (forward mode), not by differentiating the
solver's steps.

For dy/dt = f(y, t, *args) solved at the times t_0 < ... < t_N, the vjp of the
solution along cotangents g_i integrates, backwards from t_N to the initial time, the
state y with its adjoint a and the adjoints of the arguments:

    dy/dt = f(y, t),    da/dt = -a^T df/dy,    d(a_args)/dt = -a^T df/dargs,

adding g_i to a at each t_i (and restarting y from the forward solution there).
The jvp integrates y with its tangent s along (dy0, dargs): ds/dt = df/dy s + df/dargs
dargs. Both call s2sgrad's own vjp or jvp of the user's f (compiled once, when first
needed), and integrate with the solver the user chose, to tighter tolerances than
the forward solve's by default (rtol = atol = 1e-10). Each is the derivative of the
exact solution at the times reported, which the solve approximates as closely as its
own tolerances allow.
"""
from __future__ import annotations

import linecache

import numpy as np

from .containers import COMPILER, holds_floats
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


def _differentiated(arg) -> bool:
    """Whether an extra argument of the right-hand side is differentiated: a float (complex)
    number or array, or a list NumPy makes one of; not an int, a string or a function. A
    dict, an object or a ragged list holding floats is refused: its derivative would be
    lost (pass its entries as arguments of their own)."""
    try:
        kind = np.asarray(arg).dtype.kind
    except ValueError:                    # (a ragged list)
        kind = "O"
    if kind == "O" and holds_floats(arg):
        raise TypeError(f"s2sgrad differentiates the extra arguments `args` of an ODE's right-hand side when they "
                        f"are numbers or arrays, and this one is a {type(arg).__name__} holding floats: pass its "
                        "entries as arguments of their own (`args=(p['k'], p['r'])`)")
    return kind in "fc"


class _Problem:
    """dy/dt = func(y, t, *args) (or func(t, y, *args), `tfirst`), for the initial state y0:
    its shape, which extra arguments hold floats (an int, a string: not differentiated),
    and the positions of the differentiated arguments of func's vjp and jvp."""

    def __init__(self, func, y0, args, tfirst):
        self.func, self.args, self.tfirst = func, tuple(args or ()), tfirst
        self.shape, self.n = np.shape(y0), int(np.size(y0))
        self.floats = [i for i, a in enumerate(self.args) if _differentiated(a)]
        self.wrt = ((1,) if tfirst else (0,)) + tuple(2 + i for i in self.floats)

    def call(self, y, t) -> tuple:
        return (t, y, *self.args) if self.tfirst else (y, t, *self.args)

    def backwards(self, s, state):
        """The right-hand side of the adjoint system (y, a, a_args) at time s."""
        n = self.n
        y, a = state[:n].reshape(self.shape), state[n:2 * n].reshape(self.shape)
        value, pullback = COMPILER["vjp"](self.func, *self.call(y, s), wrt=self.wrt)
        grads = pullback(tuple(a) if isinstance(value, tuple) else a)     # (f may return a tuple of numbers)
        return np.concatenate([np.ravel(value), -_flat(grads[:1]), -_flat(grads[1:])])

    def forwards(self, dargs):
        """The right-hand side of the system (y, its tangent) along the arguments' tangents."""
        varied = tuple(dargs[i] for i in self.floats)

        def rhs(s, state):
            y, d = state[:self.n].reshape(self.shape), state[self.n:].reshape(self.shape)
            value, tangent = COMPILER["jvp"](self.func, self.call(y, s), (d, *varied), wrt=self.wrt)
            return np.concatenate([np.ravel(value), np.ravel(tangent)])
        return rhs

    def adjoint(self, step, ts, ys, g, t0):
        """(dy0, dargs) for the solution `ys[i]` at the times `ts[i]` and its adjoint `g[i]`
        (rows), integrating back to t0; `step(rhs, state, t_from, t_to)` is the solver."""
        n = self.n
        if not np.any(g):                   # (nothing flows back: no solve, which might not even succeed)
            return self.nothing()
        a, a_args = np.zeros(n), np.zeros(int(sum(np.size(self.args[i]) for i in self.floats)))
        for i in range(len(ts) - 1, -1, -1):
            a = a + g[i]
            earlier = ts[i - 1] if i > 0 else t0
            if ts[i] != earlier:
                state = step(self.backwards, np.concatenate([ys[i], a, a_args]), ts[i], earlier)
                a, a_args = state[n:2 * n], state[2 * n:]
        return self.unflat(a, a_args)

    def nothing(self) -> tuple:
        """The adjoints (of the initial state, of each extra argument) when none flows back."""
        return self.unflat(np.zeros(self.n), np.zeros(int(sum(np.size(self.args[i]) for i in self.floats))))

    def unflat(self, a, a_args) -> tuple:
        """(the initial state's adjoint, shaped as it; one adjoint per extra argument)."""
        found = dict(zip(self.floats, _unflat(a_args, [self.args[i] for i in self.floats])))
        return a.reshape(self.shape), tuple(found.get(i, 0.0) for i in range(len(self.args)))

    def second_adjoint(self, step, ts, ys, ss, g, tg, t0, dargs):
        """The tangents of adjoint(...)'s (dy0, dargs) along tg (the rows of g's), the initial
        state's and the arguments' (`ss[i]`: the solution's tangent at ts[i], `dargs`): the
        adjoint method on the system (y, s) of the solution and its tangent, with the
        cotangents (tg, g). Its adjoints (alpha, beta) and the arguments' (gamma) integrate
        back with it; beta is adjoint()'s own, alpha and gamma the tangents wanted."""
        n = self.n
        alpha, beta = np.zeros(n), np.zeros(n)
        gamma = np.zeros(int(sum(np.size(self.args[i]) for i in self.floats)))
        rhs = self.second_backwards(tuple(dargs[i] for i in self.floats))
        for i in range(len(ts) - 1, -1, -1):
            alpha, beta = alpha + tg[i], beta + g[i]
            earlier = ts[i - 1] if i > 0 else t0
            if ts[i] != earlier:
                state = step(rhs, np.concatenate([ys[i], ss[i], alpha, beta, gamma]), ts[i], earlier)
                alpha, beta, gamma = state[2 * n:3 * n], state[3 * n:4 * n], state[4 * n:]
        return self.unflat(alpha, gamma)

    def second_backwards(self, varied):
        """The right-hand side of second_adjoint's system (y, s, alpha, beta, gamma): with
        f's Jacobians J (in y) and J_p (in the arguments), s' = J s + J_p dargs, alpha' =
        -(J^T alpha + d(J^T beta)), beta' = -J^T beta, gamma' = -(J_p^T alpha + d(J_p^T
        beta)), d(...) the change of J^T beta along (s, dargs): forward mode over the
        gradient of <beta, f> (`paired`)."""
        n, shape = self.n, self.shape
        paired = _paired(self.func, len(self.args), self.tfirst)
        at = tuple(p + 1 for p in self.wrt)                     # (paired's cotangent comes first)
        gradient = COMPILER["grad"](paired, at)

        def rhs(time, state):
            y, s, alpha, beta = (state[k * n:(k + 1) * n].reshape(shape) for k in range(4))
            value, tangent = COMPILER["jvp"](self.func, self.call(y, time), (s, *varied), wrt=self.wrt)
            _, pullback = COMPILER["vjp"](self.func, *self.call(y, time), wrt=self.wrt)
            along_alpha = pullback(tuple(alpha) if isinstance(value, tuple) else alpha)
            along_beta, change = COMPILER["jvp"](gradient, (beta, *self.call(y, time)), (s, *varied), wrt=at)
            return np.concatenate([np.ravel(value), np.ravel(tangent), -_flat(along_alpha[:1]) - _flat(change[:1]),
                                   -_flat(along_beta[:1]), -_flat(along_alpha[1:]) - _flat(change[1:])])
        return rhs

    def start(self, y0, dy0):
        return np.concatenate([np.ravel(np.asarray(y0, dtype=float)), np.ravel(np.asarray(dy0, dtype=float))])


_PAIRED: dict = {}      # (f, how many extra arguments, tfirst) -> its `paired`


def _paired(func, count: int, tfirst: bool):
    """`paired(cotangent, y, t, *args) = sum(cotangent * f(y, t, *args))`, written for f as
    Python source (registered with linecache, so s2sgrad reads it like the user's own):
    its gradient is the vjp of f along the cotangent, whose change forward mode gives."""
    key = (func, count, tfirst)
    if key not in _PAIRED:
        extra = "".join(f", a{i}" for i in range(count))
        head = "t, y" if tfirst else "y, t"
        text = f"def paired(cotangent, {head}{extra}):\n    return np.sum(cotangent * np.asarray(f({head}{extra})))\n"
        file = f"<s2sgrad: paired {getattr(func, '__qualname__', 'f')} {len(_PAIRED)}>"
        linecache.cache[file] = (len(text), None, text.splitlines(True), file)
        namespace = {"np": np, "f": func}
        exec(compile(text, file, "exec"), namespace)
        _PAIRED[key] = namespace["paired"]
    return _PAIRED[key]


def _rows(values, count: int, n: int):
    """`values` (an adjoint: None where nothing flowed) as `count` rows of n floats."""
    if values is None or np.ndim(values) == 0 and values == 0:
        return np.zeros((count, n))
    return np.reshape(np.asarray(values, dtype=float), (count, n))


def _odeint_step(rtol, atol, hmax):
    """The solver that integrates an adjoint or tangent system for odeint: odeint itself,
    to the user's tolerances (TIGHT by default) and largest step."""
    from scipy.integrate import odeint

    def step(rhs, state, t_from, t_to):
        return odeint(rhs, state, [t_from, t_to], tfirst=True, rtol=rtol or TIGHT, atol=atol or TIGHT, hmax=hmax)[-1]
    return step


@helper()
def unodeint(g, func, y0, t, args, ys, tfirst=False, rtol=None, atol=None, hmax=0.0):
    """(dy0, dargs): the adjoints of the initial state and the extra arguments of
    `odeint(func, y0, t, args)`, whose solution at the times t is `ys`, for its adjoint g."""
    problem = _Problem(func, y0, args, tfirst)
    count = len(t)
    return problem.adjoint(_odeint_step(rtol, atol, hmax), t, _rows(ys, count, problem.n), _rows(g, count, problem.n),
                           t[0])


@helper()
def unodeint_tangent(tg, dy0, dargs, g, func, y0, t, args, ys, tfirst=False, rtol=None, atol=None, hmax=0.0):
    """The tangent of `unodeint(g, func, y0, t, args, ys, ...)` along tg and the tangents of
    y0 and args (ys is odeint's solution for them: its change is taken into account)."""
    problem = _Problem(func, y0, args, tfirst)
    if not np.any(g) and not np.any(tg):
        return problem.nothing()
    dargs = tuple(dargs) if isinstance(dargs, (tuple, list)) else (0.0,) * len(problem.args)
    ss, count = odeint_tangent(dy0, func, y0, t, dargs, args, tfirst, rtol, atol, hmax), len(t)
    return problem.second_adjoint(_odeint_step(rtol, atol, hmax), t, _rows(ys, count, problem.n),
                                  _rows(ss, count, problem.n), _rows(g, count, problem.n),
                                  _rows(tg, count, problem.n), t[0], dargs)


@helper()
def odeint_tangent(dy0, func, y0, t, dargs, args, tfirst=False, rtol=None, atol=None, hmax=0.0):
    """The tangent of `odeint(func, y0, t, args)` along dy0 and dargs (forward sensitivities)."""
    from scipy.integrate import odeint
    problem = _Problem(func, y0, args, tfirst)
    path = odeint(problem.forwards(tuple(dargs)), problem.start(y0, dy0), t, tfirst=True,
                  rtol=rtol or TIGHT, atol=atol or TIGHT, hmax=hmax)
    return path[:, problem.n:].reshape((len(t),) + (problem.shape or (1,)))   # (a number's solution: one column)


class IVPSolution(tuple):
    """solve_ivp's result as the generated code holds it (and its tangent): the items (t, y,
    the result), read by name too (`sol.y`, `sol.success`), so that a function it is passed
    to whole can read it as it would the result."""

    t = property(lambda self: self[0])
    y = property(lambda self: self[1])

    def __getattr__(self, name):
        return getattr(tuple.__getitem__(self, 2), name)


@helper()
def ivp_solution(fun, t_span, y0, t_eval=None, args=None, **options):
    """`solve_ivp(fun, t_span, y0, ...)` as the generated code reads it: (t, y, the result
    itself), so that the times and the solution are values of their own (`sol.t`, `sol.y`)
    and the rest is read from the result (`sol.success`)."""
    from scipy.integrate import solve_ivp
    solution = solve_ivp(fun, t_span, y0, t_eval=t_eval, args=args, **options)
    return IVPSolution((solution.t, solution.y, solution))


def _ivp_step(method, rtol, atol, max_step):
    """The solver that integrates an adjoint or tangent system for solve_ivp: the user's
    method, to tolerances TIGHT or tighter, with the user's largest step."""
    from scipy.integrate import solve_ivp

    def step(rhs, state, t_from, t_to):
        path = solve_ivp(rhs, (t_from, t_to), state, method=method, rtol=rtol, atol=atol, max_step=max_step)
        if path.status < 0:
            raise ArithmeticError(f"solve_ivp failed in the adjoint or tangent solve: {path.message}")
        return path.y[:, -1]
    return step


def _tolerances(rtol, atol) -> tuple:
    """The user's tolerances where tighter than TIGHT, else TIGHT (one number for the whole
    system: the adjoint's state is longer than the solution)."""
    return tuple(TIGHT if tol is None else min(float(np.min(tol)), TIGHT) for tol in (rtol, atol))


def _ivp_rows(problem, t_span, t_eval, ts, gt, g) -> np.ndarray:
    """The adjoint g of solve_ivp's solution as rows, one per time; refused where it has no
    meaning: a solve that failed (it stopped short of the times asked for), and without
    t_eval, the solution (or the times) between the ends of t_span, the solver's own steps."""
    rows = _rows(None if g is None else np.swapaxes(g, 0, -1), len(ts), problem.n)
    if not _reached(t_span, t_eval, ts) and np.any(rows):
        raise ArithmeticError("solve_ivp failed (it stopped short of the times asked for), so its solution has no "
                              "derivative: check sol.success before reading sol.y")
    if t_eval is None and (np.any(rows[:-1]) or gt is not None and np.any(np.asarray(gt)[1:-1])):
        raise ValueError(MOVING)
    return rows


def _reached(t_span, t_eval, ts) -> bool:
    """Whether a solve reached every time asked for (one that failed stops short)."""
    if t_eval is not None:
        return len(ts) == len(np.atleast_1d(t_eval))
    return len(ts) > 0 and ts[-1] == t_span[1]


@helper()
def unsolve_ivp(gt, g, fun, t_span, y0, args, t_eval, ts, ys, method="RK45", rtol=None, atol=None, max_step=np.inf):
    """(dy0, dargs): the adjoints of the initial state and the extra arguments of
    `solve_ivp(fun, t_span, y0, args=args, method=method)`, whose solution `ys` (a column
    per time of `ts`) has the adjoint g (gt: the times'). Without t_eval the times are the
    solver's own steps, which move with what is differentiated: only the ends of t_span are
    fixed, so an adjoint reaching the solution anywhere else, or the times between, is
    refused."""
    problem = _Problem(fun, y0, args, tfirst=True)
    rows = _ivp_rows(problem, t_span, t_eval, ts, gt, g)
    return problem.adjoint(_ivp_step(method, *_tolerances(rtol, atol), max_step), ts, np.swapaxes(ys, 0, -1), rows,
                           t_span[0])


@helper()
def unsolve_ivp_tangent(tgt, tg, dy0, dargs, gt, g, fun, t_span, y0, args, t_eval, ts, ys, method="RK45", rtol=None,
                        atol=None, max_step=np.inf):
    """The tangent of `unsolve_ivp(gt, g, fun, t_span, y0, args, t_eval, ts, ys, ...)` along
    tg (and tgt, the times' adjoint's, refused as gt is) and the tangents of y0 and args
    (ys is the solution for them)."""
    problem = _Problem(fun, y0, args, tfirst=True)
    rows, trows = _ivp_rows(problem, t_span, t_eval, ts, gt, g), _ivp_rows(problem, t_span, t_eval, ts, tgt, tg)
    if not np.any(rows) and not np.any(trows):
        return problem.nothing()               # (nothing flows back: no solve, which might not succeed)
    dargs = tuple(dargs) if isinstance(dargs, (tuple, list)) else (0.0,) * len(problem.args)
    ss = solve_ivp_tangent(dy0, fun, t_span, y0, dargs, args, ts, ts, method, rtol, atol, max_step)[1]
    return problem.second_adjoint(_ivp_step(method, *_tolerances(rtol, atol), max_step), ts, np.swapaxes(ys, 0, -1),
                                  np.swapaxes(ss, 0, -1), rows, trows, t_span[0], dargs)


MOVING = ("solve_ivp without t_eval reports the solution at the solver's own steps, which move with the "
          "parameters: the derivative there is not the solution's. Give t_eval the times you read (the last "
          "column, at t_span's end, is differentiated without it)")


@helper()
def solve_ivp_tangent(dy0, fun, t_span, y0, dargs, args, t_eval, ts, method="RK45", rtol=None, atol=None,
                      max_step=np.inf):
    """The tangents (of the times, of the solution, of the result object) of solve_ivp's
    result along dy0 and dargs (forward sensitivities), the solution's a column per time.
    Without t_eval, the solver's own steps move: NaN but at the ends of t_span; of a solve
    that failed, NaN throughout (code that checks sol.success never reads it)."""
    from scipy.integrate import solve_ivp
    problem = _Problem(fun, y0, args, tfirst=True)
    if not _reached(t_span, t_eval, ts):
        return IVPSolution((np.zeros(np.shape(ts)), np.full((problem.n, len(ts)), np.nan), None))
    rtol, atol = _tolerances(rtol, atol)
    path = solve_ivp(problem.forwards(tuple(dargs or ())), (t_span[0], t_span[1]), problem.start(y0, dy0),
                     method=method, t_eval=ts, rtol=rtol, atol=atol, max_step=max_step)
    if path.status < 0:
        raise ArithmeticError(f"solve_ivp failed in the tangent solve: {path.message}")
    dy, dt = path.y[problem.n:], np.zeros(np.shape(ts))
    if t_eval is None:
        dy[:, :-1], dt[1:-1] = np.nan, np.nan
    return IVPSolution((dt, dy, None))
