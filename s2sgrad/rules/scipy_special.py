"""Rules of scipy.special, registered once the user's program has imported it
(rules.optional): SciPy is not a dependency, and `import s2sgrad` does not import it.

The derivatives of digamma and gammaln use polygamma, whose own rule makes their
higher derivatives.
"""
try:
    from scipy import special
except ImportError:  # SciPy is optional: without it there is nothing to register
    special = None

import numpy as np

from .table import partials

if special is not None:
    @partials(special.polygamma, domain=("index", "positive"), sympy="polygamma(x, y)", piecewise=("n",))
    def polygamma(n, x): return 0, special.polygamma(n + 1, x)

    @partials(special.erf, domain=("real",), sympy="erf(x)")
    def erf(x): return 2.0 / np.sqrt(np.pi) * np.exp(-x ** 2)

    @partials(special.erfc, domain=("real",), sympy="erfc(x)")
    def erfc(x): return -2.0 / np.sqrt(np.pi) * np.exp(-x ** 2)

    @partials(special.expit, domain=("real",), sympy="1 / (1 + exp(-x))")
    def expit(x, ans): return ans * (1 - ans)

    @partials(special.logit, domain=("fraction",), sympy="log(x / (1 - x))")
    def logit(x): return 1 / (x * (1 - x))

    @partials(special.gammaln, domain=("positive",), sympy="loggamma(x)")
    def gammaln(x): return special.polygamma(0, x)

    @partials(special.digamma, domain=("positive",), sympy="polygamma(0, x)")
    def digamma(x): return special.polygamma(1, x)

    @partials(special.xlogy, domain=("real", "positive"), sympy="x * log(y)")
    def xlogy(x, y): return np.log(y), x / y
