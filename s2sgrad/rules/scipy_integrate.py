"""Rules of scipy.integrate, registered once the user's program has imported it
(rules.optional): `odeint`'s solution, differentiated in the initial state `y0` and in
the extra arguments `args` of the right-hand side, by the adjoint method in reverse
mode and by forward sensitivities in forward mode (runtime/integrate.py). The right-
hand side is the user's own function, which s2sgrad differentiates when the derivative
first runs. The output times `t` are not differentiated (a differentiated `t` is
refused).
"""
try:
    from scipy import integrate
except ImportError:  # SciPy is optional: without it there is nothing to register
    integrate = None

from .table import adjoint, tangent
from ..runtime import odeint_tangent, unodeint  # noqa: F401 (used in templates)


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
        dy0, dargs = unodeint(dans, func, y0, t, args, ans, tfirst, rtol, atol)

    @tangent(integrate.odeint)
    def odeint_tangent_rule(ans, func, y0, t, args, dy0, dargs, *, Dfun=None, col_deriv=0, full_output=0, ml=None,
                            mu=None, rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
                            mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
        dans = odeint_tangent(dy0, func, y0, t, dargs, args, tfirst, rtol, atol)
