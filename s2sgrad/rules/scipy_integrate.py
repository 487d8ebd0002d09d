"""Rules of scipy.integrate, registered once the user's program has imported it
(rules.optional): the solutions of `odeint` and `solve_ivp`, differentiated in the
initial state `y0` and in the extra arguments `args` of the right-hand side, by the
adjoint method in reverse mode and by forward sensitivities in forward mode
(runtime/integrate.py), with the solver the user chose. The right-hand side is the
user's own function, which s2sgrad differentiates when the derivative first runs. The
times (`t`, `t_span`, `t_eval`) are not differentiated (a differentiated time is
refused). solve_ivp's result is read by its fields: `sol.y` and `sol.t` are values of
their own, the rest (`sol.success`) is read from the result as it is.
"""
try:
    from scipy import integrate
except ImportError:  # SciPy is optional: without it there is nothing to register
    integrate = None

import numpy as np

from .table import OPS, adjoint, tangent, variant
from ..runtime import odeint_tangent, solve_ivp_tangent, unodeint, unsolve_ivp  # noqa: F401 (used in templates)


def _plain(statics):
    if statics.get("Dfun") is not None or statics.get("full_output"):
        return "odeint with Dfun or full_output has no derivative rule yet", "leave them out"
    return None


if integrate is not None:
    @adjoint(integrate.odeint, refuse=_plain, functions=("func",), tuples=("args",), domain=("real", "positive"),
             why="the adjoint method, as accurate as the solver: proven by finite differences", examples=[
                 ("def rhs(y, t, k):\n    return -k * y + np.sin(t)\n\n\ndef f(x, y):\n"
                  "    return odeint(rhs, x, np.linspace(0.0, 1.0, 4), args=(y,), rtol=1e-10, atol=1e-10)\n",
                  [(2,), ()]),
                 ("def rhs(t, y, a, b):\n    return np.array([y[1], -a * y[0] - b * y[1] ** 3])\n\n\ndef f(x, y):\n"
                  "    return odeint(rhs, x, np.array([0.0, 0.5, 1.5]), args=(y, 0.3), tfirst=True, rtol=1e-10, "
                  "atol=1e-10)[-1]\n", [(2,), ()])])
    def odeint(ans, func, y0, t, args=(), dans=None, *, Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
               rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhnil=0,
               mxordn=12, mxords=5, printmessg=0, tfirst=False):
        dy0, dargs = unodeint(dans, func, y0, t, args, ans, tfirst, rtol, atol, hmax)

    @tangent(integrate.odeint)
    def odeint_tangent_rule(ans, func, y0, t, args, dy0, dargs, *, Dfun=None, col_deriv=0, full_output=0, ml=None,
                            mu=None, rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
                            mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
        dans = odeint_tangent(dy0, func, y0, t, dargs, args, tfirst, rtol, atol, hmax)


def _solvable(statics):
    for key in ("dense_output", "events", "jac", "jac_sparsity"):
        if statics.get(key) not in (None, False):
            return f"solve_ivp with {key}= has no derivative rule yet", f"leave {key} out"
    return None


if integrate is not None:
    @adjoint(integrate.solve_ivp, outputs=3, fields=("t", "y", "*"), refuse=_solvable, functions=("fun",),
             tuples=("args",), domain=("real", "positive"),
             why="the adjoint method, as accurate as the solver: proven by finite differences", examples=[
                 ("def rhs(t, y, a, b):\n    return np.array([y[1], -a * y[0] - b * y[1] ** 3])\n\n\ndef f(x, y):\n"
                  "    sol = solve_ivp(rhs, (0.5, 2.0), x, method='DOP853', args=(y, 0.3), rtol=1e-10, atol=1e-10)\n"
                  "    return sol.y[:, -1]\n", [(2,), ()])])
    def solve_ivp(ans, fun, t_span, y0, t_eval=None, args=None, dans=None, *, method="RK45", dense_output=False,
                  events=None, vectorized=False, rtol=1e-3, atol=1e-6, first_step=None, max_step=np.inf,
                  min_step=0.0, jac=None, jac_sparsity=None, lband=None, uband=None):
        dy0, dargs = unsolve_ivp(dans[0], dans[1], fun, t_span, y0, args, t_eval, ans[0], ans[1], method, rtol, atol,
                                 max_step)

    @tangent(integrate.solve_ivp)
    def solve_ivp_tangent_rule(ans, fun, t_span, y0, t_eval, args, dy0, dargs, *, method="RK45", dense_output=False,
                               events=None, vectorized=False, rtol=1e-3, atol=1e-6, first_step=None,
                               max_step=np.inf, min_step=0.0, jac=None, jac_sparsity=None, lband=None, uband=None):
        dans = solve_ivp_tangent(dy0, fun, t_span, y0, dargs, args, t_eval, ans[0], method, rtol, atol, max_step)

    # It returns (t, y, the result) as the generated code calls it: items the IR can name. The
    # result's counts and messages never vary; the times do not when they are t_eval's (the
    # variant): else they are the solver's steps, which move with the parameters
    # (runtime/integrate.py refuses a derivative through them).
    OPS["solve_ivp"].emit, OPS["solve_ivp"].constant_items = "ivp_solution", (2,)
    variant("solve_ivp", "t_eval", "solve_ivp.at_times", constant_items=(0, 2), examples=[
        ("def rhs(t, y, k):\n    return -k * y + np.sin(t)\n\n\ndef f(x, y):\n"
         "    return solve_ivp(rhs, (0.0, 1.0), x, t_eval=np.linspace(0.0, 1.0, 4), args=(y,), rtol=1e-10, "
         "atol=1e-10).y\n", [(2,), ()]),
        ("def rhs(t, y, k):\n    return -k * y / (1.0 + y ** 2)\n\n\ndef f(x, y):\n"
         "    sol = solve_ivp(rhs, [0.0, 1.0], x, method='Radau', t_eval=[0.3, 1.0], args=(y,), rtol=1e-10, "
         "atol=1e-12)\n    return sol.y[0] * sol.t\n", [(1,), ()])])
