"""Rules of scipy.stats, registered once the user's program has imported it
(rules.optional): the normal distribution's log density, density, distribution
function and survival function, in x and in the `loc` and `scale` keywords; the
log densities of Student's t, the gamma, chi-squared, log-normal, Cauchy,
logistic, Laplace and exponential distributions (in x, their shape parameter,
loc and scale), Poisson's log probability (in its mean); the multivariate
normal's log density, in x, the mean and the covariance.

With z = (x - loc) / scale, each is a function of z alone, divided by scale where it
is a density; so each partial in loc is minus the one in x, and the one in scale is
minus z times it (less 1 / scale for the log density, scale's own term).
"""
try:
    from scipy import special, stats
except ImportError:  # SciPy is optional: without it there is nothing to register
    stats = None

import numpy as np

from .table import adjoint, partials, tangent
from ..runtime import covariance_matrix, unbroadcast, uncovariance  # noqa: F401 (used in templates)

_Z = "((x - y) / z)"
_PHI = f"exp(-{_Z}**2 / 2) / sqrt(2 * pi)"
_CDF = f"(1 + erf({_Z} / sqrt(2))) / 2"
_DOMAIN = ("real", "real", "positive")

if stats is not None:
    @partials(stats.norm.logpdf, domain=_DOMAIN, sympy=f"-{_Z}**2 / 2 - log(z) - log(2 * pi) / 2")
    def norm_logpdf(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        return -z / scale, z / scale, (z * z - 1) / scale

    @partials(stats.norm.pdf, domain=_DOMAIN, sympy=f"{_PHI} / z")
    def norm_pdf(x, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        return -ans * z / scale, ans * z / scale, ans * (z * z - 1) / scale

    @partials(stats.norm.cdf, domain=_DOMAIN, sympy=_CDF)
    def norm_cdf(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        density = np.exp(-z * z / 2) / np.sqrt(2 * np.pi) / scale
        return density, -density, -z * density

    @partials(stats.norm.sf, domain=_DOMAIN, sympy=f"1 - {_CDF}")
    def norm_sf(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        density = np.exp(-z * z / 2) / np.sqrt(2 * np.pi) / scale
        return -density, density, z * density

    @partials(stats.norm.logcdf, domain=_DOMAIN, sympy=f"log({_CDF})")
    def norm_logcdf(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        ratio = np.exp(-z * z / 2 - np.log(np.sqrt(2 * np.pi)) - special.log_ndtr(z)) / scale   # phi / Phi
        return ratio, -ratio, -z * ratio

    @partials(stats.norm.logsf, domain=_DOMAIN, sympy=f"log(1 - {_CDF})")
    def norm_logsf(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        ratio = np.exp(-z * z / 2 - np.log(np.sqrt(2 * np.pi)) - special.log_ndtr(-z)) / scale
        return -ratio, ratio, z * ratio

    @adjoint(stats.multivariate_normal.logpdf, domain=("real", "real", "real"),
             why="a log-determinant and a quadratic form of the inverse; proven by finite differences on "
                 "symmetric positive definite covariances",
             examples=[("multivariate_normal.logpdf(x, y, (z + z.T) / 2 + 3.0 * np.eye(3))", [(3,), (3,), (3, 3)]),
                       ("multivariate_normal.logpdf(x, y, (z + z.T) / 2 + 3.0 * np.eye(2))", [(4, 2), (2,), (2, 2)]),
                       ("multivariate_normal.logpdf(x, y, (z + z.T) / 2 + 3.0 * np.eye(2))", [(2, 3, 2), (2,), (2, 2)]),
                       ("multivariate_normal.logpdf(x, y, z ** 2 + 1.0)", [(4, 3), (3,), (3,)]),
                       ("multivariate_normal.logpdf(x, y, z ** 2 + 1.0)", [(5,), (1,), ()])])
    def mvn_logpdf(ans, x, mean, cov, dans):
        # log p = -(d log 2 pi + log det cov + r inv(cov) r) / 2, r = x - mean, one row per point
        inverse = np.linalg.inv(covariance_matrix(cov, np.size(mean)))
        solved = np.reshape(x - mean, (-1, np.size(mean))) @ inverse
        weighted = np.reshape(dans, (-1, 1)) * solved
        dx = unbroadcast(np.reshape(-weighted, np.shape(x - mean)), x)
        dmean = unbroadcast(np.reshape(weighted, np.shape(x - mean)), mean)
        dcov = uncovariance(0.5 * (np.transpose(solved) @ weighted) - 0.5 * np.sum(dans) * inverse, cov)

    @tangent(stats.multivariate_normal.logpdf)
    def mvn_logpdf_tangent(ans, x, mean, cov, dx, dmean, dcov):
        inverse = np.linalg.inv(covariance_matrix(cov, np.size(mean)))
        spread = covariance_matrix(dcov, np.size(mean))
        solved = np.reshape(x - mean, (-1, np.size(mean))) @ inverse
        moved = np.reshape(dx - dmean, (-1, np.size(mean)))
        dans = np.reshape(0.5 * np.sum((solved @ spread) * solved, axis=-1) - np.sum(solved * moved, axis=-1)
                          - 0.5 * np.sum(inverse * spread), np.shape(ans))

    @partials(stats.cauchy.logpdf, domain=_DOMAIN, sympy=f"-log(pi * z * (1 + {_Z}**2))")
    def cauchy_logpdf(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        dz = -2 * z / (1 + z * z) / scale
        return dz, -dz, -z * dz - 1 / scale

    @partials(stats.logistic.logpdf, domain=_DOMAIN, sympy=f"-{_Z} - log(z) - 2 * log(1 + exp(-{_Z}))")
    def logistic_logpdf(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        dz = -np.tanh(z / 2) / scale                       # d/dz of -z - 2 log(1 + e^-z) is -tanh(z / 2)
        return dz, -dz, -z * dz - 1 / scale

    @partials(stats.laplace.logpdf, domain=("above1", "fraction", "positive"),
              sympy=f"-log(2 * z) - Abs({_Z})")
    def laplace_logpdf(x, loc=0.0, scale=1.0):           # (its kink at x = loc: the sign there is 0)
        z = (x - loc) / scale
        dz = -np.sign(z) / scale
        return dz, -dz, -z * dz - 1 / scale

    @partials(stats.expon.logpdf, domain=("above1", "fraction", "positive"), sympy=f"-log(z) - {_Z}")
    def expon_logpdf(x, loc=0.0, scale=1.0):              # (x >= loc; below, the log density is -inf)
        z = (x - loc) / scale
        return -1 / scale + 0 * z, 1 / scale + 0 * z, (z - 1) / scale

    _W = "((x - z) / w)"         # (a distribution with a shape parameter y: loc z, scale w)

    @partials(stats.t.logpdf, domain=("real", "positive", "real", "positive"),
              sympy=f"loggamma((y + 1) / 2) - loggamma(y / 2) - log(pi * y) / 2 - log(w)"
                    f" - (y + 1) / 2 * log(1 + {_W}**2 / y)")
    def t_logpdf(x, df, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        dz = -(df + 1) * z / (df + z * z) / scale
        ddf = (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df) / 2 \
            - np.log1p(z * z / df) / 2 + (df + 1) * z * z / (2 * df * (df + z * z))
        return dz, ddf, -dz, -z * dz - 1 / scale

    @partials(stats.gamma.logpdf, domain=("above1", "1-2", "fraction", "positive"),
              sympy=f"(y - 1) * log({_W}) - {_W} - loggamma(y) - log(w)")
    def gamma_logpdf(x, a, loc=0.0, scale=1.0):          # (x > loc)
        z = (x - loc) / scale
        dz = ((a - 1) / z - 1) / scale
        return dz, np.log(z) - special.digamma(a), -dz, -z * dz - 1 / scale

    @partials(stats.chi2.logpdf, domain=("above1", "1-2", "fraction", "positive"),
              sympy=f"(y / 2 - 1) * log({_W}) - {_W} / 2 - y / 2 * log(2) - loggamma(y / 2) - log(w)")
    def chi2_logpdf(x, df, loc=0.0, scale=1.0):          # (x > loc)
        z = (x - loc) / scale
        dz = ((df / 2 - 1) / z - 0.5) / scale
        return dz, (np.log(z) - np.log(2.0) - special.digamma(df / 2)) / 2, -dz, -z * dz - 1 / scale

    @partials(stats.lognorm.logpdf, domain=("above1", "1-2", "fraction", "positive"),
              sympy=f"-log(y * {_W} * sqrt(2 * pi)) - log({_W})**2 / (2 * y**2) - log(w)")
    def lognorm_logpdf(x, s, loc=0.0, scale=1.0):        # (x > loc)
        z = (x - loc) / scale
        dz = -(1 + np.log(z) / (s * s)) / z / scale
        return dz, -1 / s + np.log(z) ** 2 / s ** 3, -dz, -z * dz - 1 / scale

    @partials(stats.poisson.logpmf, domain=("index", "positive"), sympy="x * log(y) - y - loggamma(x + 1)",
              piecewise=("k",))
    def poisson_logpmf(k, mu): return 0, k / mu - 1       # (the count k: no derivative)
