"""Rules of scipy.special, registered once the user's program has imported it
(rules.optional): SciPy is not a dependency, and `import s2sgrad` does not import it.

The derivatives of digamma and gammaln use polygamma, whose own rule makes their
higher derivatives; those of gamma, rgamma, beta and betaln use digamma; the
Bessel functions of order 0 and 1 (j, y, i and the scaled i) use each other, and
those of any order v (jv, yv, iv, kv and the scaled ive, kve) their neighbours v - 1
and v + 1. Where a derivative has no closed form (in a Bessel function's order, in
the incomplete gamma and beta functions' shapes) a differentiated value there is
refused (`fixed`).
"""
try:
    from scipy import special
except ImportError:  # SciPy is optional: without it there is nothing to register
    special = None

import numpy as np

from .table import adjoint, partials, tangent
from ..runtime import unsum  # noqa: F401 (used in templates)

# SymPy counterparts over arrays of symbols (the statics, when given, are the locals)
_EXP = "np.vectorize(sp.exp, otypes=[object])"
_SUM_EXP = f"np.sum({_EXP}(x), axis=locals().get('axis'), keepdims={{keep}})"
_KEEP = "locals().get('keepdims', False)"

if special is not None:
    @partials(special.polygamma, domain=("index", "positive"), sympy="polygamma(x, y)", piecewise=("n",))
    def polygamma(n, x): return 0, special.polygamma(n + 1, x)

    @partials(special.erf, domain=("real",), sympy="erf(x)")
    def erf(x): return 2.0 / np.sqrt(np.pi) * np.exp(-x ** 2)

    @partials(special.erfc, domain=("real",), sympy="erfc(x)")
    def erfc(x): return -2.0 / np.sqrt(np.pi) * np.exp(-x ** 2)

    @partials(special.expit, domain=("real",), sympy="1 / (1 + exp(-x))")
    def expit(x, ans): return ans * (1 - ans)

    @adjoint(special.logsumexp, domain=("real",), sympy=f"np.vectorize(sp.log, otypes=[object])"
                                                          f"({_SUM_EXP.format(keep=_KEEP)})", examples=[
        ("logsumexp(x)", [(4,)]), ("logsumexp(x, axis=1)", [(3, 4)]),
        ("logsumexp(x, axis=0, keepdims=True)", [(3, 4)])])
    def logsumexp(ans, a, dans, *, axis=None, keepdims=False):
        da = unsum(dans, a, axis=axis, keepdims=keepdims) * np.exp(a - unsum(ans, a, axis=axis, keepdims=keepdims))

    @adjoint(special.softmax, domain=("real",), sympy=f"{_EXP}(x) / {_SUM_EXP.format(keep=True)}", examples=[
        ("softmax(x)", [(4,)]), ("softmax(x, axis=1)", [(3, 4)]), ("softmax(x, axis=0)[1]", [(3, 2)])])
    def softmax(ans, x, dans, *, axis=None):
        dx = ans * (dans - np.sum(dans * ans, axis=axis, keepdims=True))

    @adjoint(special.log_softmax, domain=("real",), sympy=f"x - np.vectorize(sp.log, otypes=[object])"
                                                            f"({_SUM_EXP.format(keep=True)})", examples=[
        ("log_softmax(x)", [(4,)]), ("log_softmax(x, axis=-1)", [(3, 4)])])
    def log_softmax(ans, x, dans, *, axis=None):
        dx = dans - np.exp(ans) * np.sum(dans, axis=axis, keepdims=True)

    @tangent(special.logsumexp)
    def logsumexp_tangent(ans, a, da, *, axis=None, keepdims=False):
        dans = np.sum(da * np.exp(a - unsum(ans, a, axis=axis, keepdims=keepdims)), axis=axis, keepdims=keepdims)

    @tangent(special.softmax)
    def softmax_tangent(ans, x, dx, *, axis=None):
        dans = ans * (dx - np.sum(dx * ans, axis=axis, keepdims=True))

    @tangent(special.log_softmax)
    def log_softmax_tangent(ans, x, dx, *, axis=None):
        dans = dx - np.sum(np.exp(ans) * dx, axis=axis, keepdims=True)

    @partials(special.ndtr, domain=("real",), sympy="(1 + erf(x / sqrt(2))) / 2")
    def ndtr(x): return np.exp(-x * x / 2) / np.sqrt(2 * np.pi)

    @partials(special.log_ndtr, domain=("real",), sympy="log((1 + erf(x / sqrt(2))) / 2)")
    def log_ndtr(x, ans): return np.exp(-x * x / 2 - ans) / np.sqrt(2 * np.pi)

    @partials(special.logit, domain=("fraction",), sympy="log(x / (1 - x))")
    def logit(x): return 1 / (x * (1 - x))

    @partials(special.gammaln, domain=("positive",), sympy="loggamma(x)")
    def gammaln(x): return special.polygamma(0, x)

    @partials(special.digamma, domain=("positive",), sympy="polygamma(0, x)")
    def digamma(x): return special.polygamma(1, x)

    @partials(special.xlogy, domain=("real", "positive"), sympy="x * log(y)")
    def xlogy(x, y): return np.log(y), x / y

    @partials(special.gamma, domain=("positive",), sympy="gamma(x)")
    def gamma(x, ans): return ans * special.digamma(x)

    @partials(special.rgamma, domain=("positive",), sympy="1 / gamma(x)")
    def rgamma(x, ans):          # (at x <= 0, by reflection: finite at 0, -1, -2, ..., where digamma is not)
        left = np.where(x > 0, 0.0, x)
        return np.where(x > 0, -ans * special.digamma(np.where(x > 0, x, 1.0)),
                        special.gamma(1 - left) * (np.cos(np.pi * left) - np.sin(np.pi * left)
                                                   * special.digamma(1 - left) / np.pi))

    @partials(special.beta, domain=("positive", "positive"), sympy="gamma(x) * gamma(y) / gamma(x + y)")
    def beta(a, b, ans):
        both = special.digamma(a + b)
        return ans * (special.digamma(a) - both), ans * (special.digamma(b) - both)

    @partials(special.betaln, domain=("positive", "positive"), sympy="loggamma(x) + loggamma(y) - loggamma(x + y)")
    def betaln(a, b):
        both = special.digamma(a + b)
        return special.digamma(a) - both, special.digamma(b) - both

    @partials(special.erfinv, domain=("unit",), sympy="erfinv(x)")
    def erfinv(x, ans): return np.sqrt(np.pi) / 2 * np.exp(ans * ans)

    @partials(special.erfcinv, domain=("fraction",), sympy="erfinv(1 - x)")
    def erfcinv(x, ans): return -np.sqrt(np.pi) / 2 * np.exp(ans * ans)

    @partials(special.ndtri, domain=("fraction",), sympy="sqrt(2) * erfinv(2 * x - 1)")
    def ndtri(x, ans): return np.sqrt(2 * np.pi) * np.exp(ans * ans / 2)

    @partials(special.xlog1py, domain=("real", "positive"), sympy="x * log(1 + y)")
    def xlog1py(x, y): return np.log1p(y), x / (1 + y)

    @partials(special.entr, domain=("positive",), sympy="-x * log(x)")
    def entr(x): return -np.log(x) - 1

    @partials(special.i0, domain=("real",), sympy="besseli(0, x)")
    def i0(x): return special.i1(x)

    @partials(special.i1, domain=("away",), sympy="besseli(1, x)")
    def i1(x, ans): return np.where(x == 0, 0.5, special.i0(x) - ans / np.where(x == 0, 1.0, x))

    @partials(special.i0e, domain=("away",), sympy="exp(-Abs(x)) * besseli(0, x)")
    def i0e(x, ans): return special.i1e(x) - np.sign(x) * ans

    @partials(special.i1e, domain=("away",), sympy="exp(-Abs(x)) * besseli(1, x)")
    def i1e(x, ans): return np.where(x == 0, 0.5, special.i0e(x) - ans / np.where(x == 0, 1.0, x) - np.sign(x) * ans)

    @partials(special.j0, domain=("real",), sympy="besselj(0, x)")
    def j0(x): return -special.j1(x)

    @partials(special.j1, domain=("away",), sympy="besselj(1, x)")
    def j1(x, ans): return np.where(x == 0, 0.5, special.j0(x) - ans / np.where(x == 0, 1.0, x))

    @partials(special.y0, domain=("positive",), sympy="bessely(0, x)")
    def y0(x): return -special.y1(x)

    @partials(special.y1, domain=("positive",), sympy="bessely(1, x)")
    def y1(x, ans): return special.y0(x) - ans / x

    # -- Bessel functions of any order v, in x (each derivative by its recurrence: the order's
    # own derivative has no closed form, so a differentiated order is refused, `fixed`) ------

    @partials(special.jv, domain=("1-2", "positive"), sympy="besselj(x, y)", fixed=("v",))
    def jv(v, x): return 0.0, (special.jv(v - 1, x) - special.jv(v + 1, x)) / 2

    @partials(special.yv, domain=("1-2", "positive"), sympy="bessely(x, y)", fixed=("v",))
    def yv(v, x): return 0.0, (special.yv(v - 1, x) - special.yv(v + 1, x)) / 2

    @partials(special.iv, domain=("1-2", "positive"), sympy="besseli(x, y)", fixed=("v",))
    def iv(v, x): return 0.0, (special.iv(v - 1, x) + special.iv(v + 1, x)) / 2

    @partials(special.ive, domain=("1-2", "positive"), sympy="besseli(x, y) * exp(-Abs(y))", fixed=("v",))
    def ive(v, x, ans): return 0.0, (special.ive(v - 1, x) + special.ive(v + 1, x)) / 2 - np.sign(x) * ans

    @partials(special.kv, domain=("1-2", "positive"), sympy="besselk(x, y)", fixed=("v",))
    def kv(v, x): return 0.0, -(special.kv(v - 1, x) + special.kv(v + 1, x)) / 2

    @partials(special.kve, domain=("1-2", "positive"), sympy="besselk(x, y) * exp(y)", fixed=("v",))
    def kve(v, x, ans): return 0.0, -(special.kve(v - 1, x) + special.kve(v + 1, x)) / 2 + ans

    # -- incomplete gamma and beta functions, in x (in a and b: no closed form, `fixed`) -----

    @partials(special.gammainc, domain=("1-2", "positive"), sympy="lowergamma(x, y) / gamma(x)", fixed=("a",))
    def gammainc(a, x): return 0.0, np.exp((a - 1) * np.log(x) - x - special.gammaln(a))

    @partials(special.gammaincc, domain=("1-2", "positive"), sympy="uppergamma(x, y) / gamma(x)", fixed=("a",))
    def gammaincc(a, x): return 0.0, -np.exp((a - 1) * np.log(x) - x - special.gammaln(a))

    @partials(special.betainc, domain=("1-2", "1-2", "fraction"), fixed=("a", "b"),
              why="the regularized incomplete beta function: SymPy's form is an integral; proven by finite differences")
    def betainc(a, b, x): return 0.0, 0.0, np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b))

    @partials(special.zeta, domain=("above1", "positive"), sympy="zeta(x, y)", fixed=("x",))
    def zeta(x, q): return 0.0, -x * special.zeta(x + 1, q)

    # -- elementary functions scipy.special spells its own way ------------------------------

    @partials(special.log_expit, domain=("real",), sympy="-log(1 + exp(-x))")
    def log_expit(x): return special.expit(-x)

    @partials(special.erfcx, domain=("real",), sympy="exp(x**2) * erfc(x)")
    def erfcx(x, ans): return 2 * x * ans - 2 / np.sqrt(np.pi)

    @partials(special.loggamma, domain=("positive",), sympy="loggamma(x)")
    def loggamma(x, ans): return special.digamma(x) + 0 * ans      # (NaN where loggamma is: x < 0)

    @partials(special.poch, domain=("positive", "positive"), sympy="gamma(x + y) / gamma(x)")
    def poch(z, m, ans): return ans * (special.digamma(z + m) - special.digamma(z)), ans * special.digamma(z + m)

    @partials(special.exp10, domain=("real",), sympy="10**x")
    def exp10(x, ans): return np.log(10.0) * ans

    @partials(special.exp2, domain=("real",), sympy="2**x")
    def exp2(x, ans): return np.log(2.0) * ans

    @partials(special.expm1, domain=("real",), sympy="exp(x) - 1")
    def expm1(x, ans): return ans + 1

    @partials(special.log1p, domain=("positive",), sympy="log(1 + x)")
    def log1p(x): return 1 / (1 + x)

    @partials(special.cbrt, domain=("positive",), sympy="x**Rational(1, 3)")
    def cbrt(x, ans): return 1 / (3 * ans ** 2)

    @adjoint(special.multigammaln, domain=("above1",), sympy=None, why="a sum of gammaln at a - j / 2, j < d: "
             "proven by finite differences", examples=[("multigammaln(x + 1.0, 3)", [(4,)]),
                                                        ("multigammaln(x, 2)", [()])])
    def multigammaln(ans, a, dans, *, d):
        da = dans * np.sum(special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2), axis=-1)

    @tangent(special.multigammaln)
    def multigammaln_tangent(ans, a, da, *, d):
        dans = da * np.sum(special.digamma(np.expand_dims(a, -1) - np.arange(d) / 2), axis=-1)
