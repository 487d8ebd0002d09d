"""Rules of scipy.special, registered once the user's program has imported it
(rules.optional): SciPy is not a dependency, and `import s2sgrad` does not import it.

The derivatives of digamma and gammaln use polygamma, whose own rule makes their
higher derivatives; those of gamma, rgamma, beta and betaln use digamma; the
Bessel functions of order 0 and 1 (j, y, i and the scaled i) use each other.
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
