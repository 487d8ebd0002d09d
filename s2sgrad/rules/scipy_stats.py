"""Rules of scipy.stats, registered once the user's program has imported it
(rules.optional): the normal distribution's log density, density, distribution
function and survival function, in x and in the `loc` and `scale` keywords; the
log densities of Student's t, the gamma, chi-squared, log-normal, Cauchy,
logistic, Laplace and exponential distributions (in x, their shape parameter,
loc and scale), Poisson's log probability (in its mean); the multivariate
normal's log density, in x, the mean and the covariance. Then the other forms (pdf,
cdf, sf, logcdf, logsf) of the Cauchy, logistic, Laplace, exponential, t, gamma,
chi-squared and log-normal distributions, the uniform's and the beta's, and Poisson's
probability mass.

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
from ..runtime import (covariance_matrix, dirichlet_tangent, unbroadcast, uncovariance,  # noqa: F401 (templates)
                       undirichlet)

_Z = "((x - y) / z)"
_PHI = f"exp(-{_Z}**2 / 2) / sqrt(2 * pi)"
_CDF = f"(1 + erf({_Z} / sqrt(2))) / 2"
_DOMAIN = ("real", "real", "positive")
_RIGHT = ("above1", "fraction", "positive")          # (x > loc: the side of a kink or the support)
NO_FORM = "its distribution function has no closed form SymPy differentiates: proven by finite differences"
KINKED = "piecewise linear in x, with kinks at the ends of its support: proven by finite differences"
BETA = "the beta function's derivatives are digammas SymPy leaves unevaluated: proven by finite differences"

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

    # -- the other forms of the distributions above, and the uniform, beta and binomial ----------
    # pdf = exp(logpdf): its partials are the log density's times the density. The
    # distribution function's partials in x, loc and scale are the density, minus it, and
    # minus z times it; logcdf's and logsf's divide by the cdf or the survival function
    # (exp(logpdf - logcdf): no overflow in the tails). In a shape parameter (t's df, the
    # gamma's a) the distribution functions have no closed-form partial: a differentiated
    # shape there is refused (`fixed`), where the density's is given.

    @partials(stats.cauchy.pdf, domain=_DOMAIN, sympy="exp(-log(pi * z * (1 + ((x - y) / z)**2)))")
    def cauchy_pdf(x, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = -2 * z / (1 + z * z) / scale
        return ans * dz, -ans * dz, ans * (-z * dz - 1 / scale)

    @partials(stats.cauchy.cdf, domain=_DOMAIN, sympy="1 / 2 + atan(((x - y) / z)) / pi")
    def cauchy_cdf(x, loc=0.0, scale=1.0):
        density = stats.cauchy.pdf(x, loc, scale)
        return density, -density, -(x - loc) / scale * density

    @partials(stats.cauchy.sf, domain=_DOMAIN, sympy="1 - (1 / 2 + atan(((x - y) / z)) / pi)")
    def cauchy_sf(x, loc=0.0, scale=1.0):
        density = stats.cauchy.pdf(x, loc, scale)
        return -density, density, (x - loc) / scale * density

    @partials(stats.cauchy.logcdf, domain=_DOMAIN, sympy="log(1 / 2 + atan(((x - y) / z)) / pi)")
    def cauchy_logcdf(x, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.cauchy.logpdf(x, loc, scale) - ans)
        return ratio, -ratio, -(x - loc) / scale * ratio

    @partials(stats.cauchy.logsf, domain=_DOMAIN, sympy="log(1 - (1 / 2 + atan(((x - y) / z)) / pi))")
    def cauchy_logsf(x, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.cauchy.logpdf(x, loc, scale) - ans)
        return -ratio, ratio, (x - loc) / scale * ratio

    @partials(stats.logistic.pdf, domain=_DOMAIN, sympy="exp(-((x - y) / z) - log(z) - 2 * log(1 + exp(-((x - y) / z))))")
    def logistic_pdf(x, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = -np.tanh(z / 2) / scale
        return ans * dz, -ans * dz, ans * (-z * dz - 1 / scale)

    @partials(stats.logistic.cdf, domain=_DOMAIN, sympy="1 / (1 + exp(-((x - y) / z)))")
    def logistic_cdf(x, loc=0.0, scale=1.0):
        density = stats.logistic.pdf(x, loc, scale)
        return density, -density, -(x - loc) / scale * density

    @partials(stats.logistic.sf, domain=_DOMAIN, sympy="1 - (1 / (1 + exp(-((x - y) / z))))")
    def logistic_sf(x, loc=0.0, scale=1.0):
        density = stats.logistic.pdf(x, loc, scale)
        return -density, density, (x - loc) / scale * density

    @partials(stats.logistic.logcdf, domain=_DOMAIN, sympy="log(1 / (1 + exp(-((x - y) / z))))")
    def logistic_logcdf(x, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.logistic.logpdf(x, loc, scale) - ans)
        return ratio, -ratio, -(x - loc) / scale * ratio

    @partials(stats.logistic.logsf, domain=_DOMAIN, sympy="log(1 - (1 / (1 + exp(-((x - y) / z)))))")
    def logistic_logsf(x, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.logistic.logpdf(x, loc, scale) - ans)
        return -ratio, ratio, (x - loc) / scale * ratio

    @partials(stats.laplace.pdf, domain=_RIGHT, sympy="exp(-log(2 * z) - Abs(((x - y) / z)))")
    def laplace_pdf(x, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = -np.sign(z) / scale
        return ans * dz, -ans * dz, ans * (-z * dz - 1 / scale)

    @partials(stats.laplace.cdf, domain=_RIGHT, sympy="1 - exp(-((x - y) / z)) / 2")
    def laplace_cdf(x, loc=0.0, scale=1.0):
        density = stats.laplace.pdf(x, loc, scale)
        return density, -density, -(x - loc) / scale * density

    @partials(stats.laplace.sf, domain=_RIGHT, sympy="1 - (1 - exp(-((x - y) / z)) / 2)")
    def laplace_sf(x, loc=0.0, scale=1.0):
        density = stats.laplace.pdf(x, loc, scale)
        return -density, density, (x - loc) / scale * density

    @partials(stats.laplace.logcdf, domain=_RIGHT, sympy="log(1 - exp(-((x - y) / z)) / 2)")
    def laplace_logcdf(x, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.laplace.logpdf(x, loc, scale) - ans)
        return ratio, -ratio, -(x - loc) / scale * ratio

    @partials(stats.laplace.logsf, domain=_RIGHT, sympy="log(1 - (1 - exp(-((x - y) / z)) / 2))")
    def laplace_logsf(x, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.laplace.logpdf(x, loc, scale) - ans)
        return -ratio, ratio, (x - loc) / scale * ratio

    @partials(stats.expon.pdf, domain=_RIGHT, sympy="exp(-log(z) - ((x - y) / z))")
    def expon_pdf(x, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = -1 / scale + 0 * z
        return ans * dz, -ans * dz, ans * (-z * dz - 1 / scale)

    @partials(stats.expon.cdf, domain=_RIGHT, sympy="1 - exp(-((x - y) / z))")
    def expon_cdf(x, loc=0.0, scale=1.0):
        density = stats.expon.pdf(x, loc, scale)
        return density, -density, -(x - loc) / scale * density

    @partials(stats.expon.sf, domain=_RIGHT, sympy="1 - (1 - exp(-((x - y) / z)))")
    def expon_sf(x, loc=0.0, scale=1.0):
        density = stats.expon.pdf(x, loc, scale)
        return -density, density, (x - loc) / scale * density

    @partials(stats.expon.logcdf, domain=_RIGHT, sympy="log(1 - exp(-((x - y) / z)))")
    def expon_logcdf(x, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.expon.logpdf(x, loc, scale) - ans)
        return ratio, -ratio, -(x - loc) / scale * ratio

    @partials(stats.expon.logsf, domain=_RIGHT, sympy="log(1 - (1 - exp(-((x - y) / z))))")
    def expon_logsf(x, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.expon.logpdf(x, loc, scale) - ans)
        return -ratio, ratio, (x - loc) / scale * ratio

    @partials(stats.t.pdf, domain=("real", "positive", "real", "positive"), sympy="exp(loggamma((y + 1) / 2) - loggamma(y / 2) - log(pi * y) / 2 - log(w) - (y + 1) / 2 * log(1 + ((x - z) / w)**2 / y))")
    def t_pdf(x, df, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = -(df + 1) * z / (df + z * z) / scale
        dshape = (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df) / 2 - np.log1p(z * z / df) / 2 \
            + (df + 1) * z * z / (2 * df * (df + z * z))
        return ans * dz, ans * dshape, -ans * dz, ans * (-z * dz - 1 / scale)

    @partials(stats.t.cdf, domain=("real", "positive", "real", "positive"), why=NO_FORM, fixed=("df",))
    def t_cdf(x, df, loc=0.0, scale=1.0):
        density = stats.t.pdf(x, df, loc, scale)
        return density, 0.0, -density, -(x - loc) / scale * density

    @partials(stats.t.sf, domain=("real", "positive", "real", "positive"), why=NO_FORM, fixed=("df",))
    def t_sf(x, df, loc=0.0, scale=1.0):
        density = stats.t.pdf(x, df, loc, scale)
        return -density, 0.0, density, (x - loc) / scale * density

    @partials(stats.t.logcdf, domain=("real", "positive", "real", "positive"), why=NO_FORM, fixed=("df",))
    def t_logcdf(x, df, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.t.logpdf(x, df, loc, scale) - ans)
        return ratio, 0.0, -ratio, -(x - loc) / scale * ratio

    @partials(stats.t.logsf, domain=("real", "positive", "real", "positive"), why=NO_FORM, fixed=("df",))
    def t_logsf(x, df, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.t.logpdf(x, df, loc, scale) - ans)
        return -ratio, 0.0, ratio, (x - loc) / scale * ratio

    @partials(stats.gamma.pdf, domain=("above1", "1-2", "fraction", "positive"), sympy="exp((y - 1) * log(((x - z) / w)) - ((x - z) / w) - loggamma(y) - log(w))")
    def gamma_pdf(x, a, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = ((a - 1) / z - 1) / scale
        dshape = np.log(z) - special.digamma(a)
        return ans * dz, ans * dshape, -ans * dz, ans * (-z * dz - 1 / scale)

    @partials(stats.gamma.cdf, domain=("above1", "1-2", "fraction", "positive"), sympy="lowergamma(y, ((x - z) / w)) / gamma(y)", fixed=("a",))
    def gamma_cdf(x, a, loc=0.0, scale=1.0):
        density = stats.gamma.pdf(x, a, loc, scale)
        return density, 0.0, -density, -(x - loc) / scale * density

    @partials(stats.gamma.sf, domain=("above1", "1-2", "fraction", "positive"), sympy="1 - (lowergamma(y, ((x - z) / w)) / gamma(y))", fixed=("a",))
    def gamma_sf(x, a, loc=0.0, scale=1.0):
        density = stats.gamma.pdf(x, a, loc, scale)
        return -density, 0.0, density, (x - loc) / scale * density

    @partials(stats.gamma.logcdf, domain=("above1", "1-2", "fraction", "positive"), sympy="log(lowergamma(y, ((x - z) / w)) / gamma(y))", fixed=("a",))
    def gamma_logcdf(x, a, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.gamma.logpdf(x, a, loc, scale) - ans)
        return ratio, 0.0, -ratio, -(x - loc) / scale * ratio

    @partials(stats.gamma.logsf, domain=("above1", "1-2", "fraction", "positive"), sympy="log(1 - (lowergamma(y, ((x - z) / w)) / gamma(y)))", fixed=("a",))
    def gamma_logsf(x, a, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.gamma.logpdf(x, a, loc, scale) - ans)
        return -ratio, 0.0, ratio, (x - loc) / scale * ratio

    @partials(stats.chi2.pdf, domain=("above1", "1-2", "fraction", "positive"), sympy="exp((y / 2 - 1) * log(((x - z) / w)) - ((x - z) / w) / 2 - y / 2 * log(2) - loggamma(y / 2) - log(w))")
    def chi2_pdf(x, df, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = ((df / 2 - 1) / z - 0.5) / scale
        dshape = (np.log(z) - np.log(2.0) - special.digamma(df / 2)) / 2
        return ans * dz, ans * dshape, -ans * dz, ans * (-z * dz - 1 / scale)

    @partials(stats.chi2.cdf, domain=("above1", "1-2", "fraction", "positive"), sympy="lowergamma(y / 2, ((x - z) / w) / 2) / gamma(y / 2)", fixed=("df",))
    def chi2_cdf(x, df, loc=0.0, scale=1.0):
        density = stats.chi2.pdf(x, df, loc, scale)
        return density, 0.0, -density, -(x - loc) / scale * density

    @partials(stats.chi2.sf, domain=("above1", "1-2", "fraction", "positive"), sympy="1 - (lowergamma(y / 2, ((x - z) / w) / 2) / gamma(y / 2))", fixed=("df",))
    def chi2_sf(x, df, loc=0.0, scale=1.0):
        density = stats.chi2.pdf(x, df, loc, scale)
        return -density, 0.0, density, (x - loc) / scale * density

    @partials(stats.chi2.logcdf, domain=("above1", "1-2", "fraction", "positive"), sympy="log(lowergamma(y / 2, ((x - z) / w) / 2) / gamma(y / 2))", fixed=("df",))
    def chi2_logcdf(x, df, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.chi2.logpdf(x, df, loc, scale) - ans)
        return ratio, 0.0, -ratio, -(x - loc) / scale * ratio

    @partials(stats.chi2.logsf, domain=("above1", "1-2", "fraction", "positive"), sympy="log(1 - (lowergamma(y / 2, ((x - z) / w) / 2) / gamma(y / 2)))", fixed=("df",))
    def chi2_logsf(x, df, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.chi2.logpdf(x, df, loc, scale) - ans)
        return -ratio, 0.0, ratio, (x - loc) / scale * ratio

    @partials(stats.lognorm.pdf, domain=("above1", "1-2", "fraction", "positive"), sympy="exp(-log(y * ((x - z) / w) * sqrt(2 * pi)) - log(((x - z) / w))**2 / (2 * y**2) - log(w))")
    def lognorm_pdf(x, s, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = -(1 + np.log(z) / (s * s)) / z / scale
        dshape = -1 / s + np.log(z) ** 2 / s ** 3
        return ans * dz, ans * dshape, -ans * dz, ans * (-z * dz - 1 / scale)

    # (the log-normal's distribution function is Phi(log(z) / s): it has a partial in s too)
    @partials(stats.lognorm.cdf, domain=("above1", "1-2", "fraction", "positive"),
              sympy="(1 + erf(log(((x - z) / w)) / (y * sqrt(2)))) / 2")
    def lognorm_cdf(x, s, loc=0.0, scale=1.0):
        density = stats.lognorm.pdf(x, s, loc, scale)
        u = np.log((x - loc) / scale) / s
        ds = -np.exp(-u * u / 2) / np.sqrt(2 * np.pi) * u / s
        return density, ds, -density, -(x - loc) / scale * density

    @partials(stats.lognorm.sf, domain=("above1", "1-2", "fraction", "positive"),
              sympy="1 - ((1 + erf(log(((x - z) / w)) / (y * sqrt(2)))) / 2)")
    def lognorm_sf(x, s, loc=0.0, scale=1.0):
        density = stats.lognorm.pdf(x, s, loc, scale)
        u = np.log((x - loc) / scale) / s
        ds = np.exp(-u * u / 2) / np.sqrt(2 * np.pi) * u / s
        return -density, ds, density, (x - loc) / scale * density

    @partials(stats.lognorm.logcdf, domain=("above1", "1-2", "fraction", "positive"),
              sympy="log((1 + erf(log(((x - z) / w)) / (y * sqrt(2)))) / 2)")
    def lognorm_logcdf(x, s, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.lognorm.logpdf(x, s, loc, scale) - ans)
        u = np.log((x - loc) / scale) / s
        return ratio, -np.exp(-u * u / 2 - np.log(np.sqrt(2 * np.pi)) - ans) * u / s, -ratio, -(x - loc) / scale * ratio

    @partials(stats.lognorm.logsf, domain=("above1", "1-2", "fraction", "positive"),
              sympy="log(1 - ((1 + erf(log(((x - z) / w)) / (y * sqrt(2)))) / 2))")
    def lognorm_logsf(x, s, loc=0.0, scale=1.0, ans=None):
        ratio = np.exp(stats.lognorm.logpdf(x, s, loc, scale) - ans)
        u = np.log((x - loc) / scale) / s
        return -ratio, np.exp(-u * u / 2 - np.log(np.sqrt(2 * np.pi)) - ans) * u / s, ratio, (x - loc) / scale * ratio

    @partials(stats.uniform.logpdf, domain=("fraction", "below0", "above1"), sympy="-log(z) + 0 * x + 0 * y")
    def uniform_logpdf(x, loc=0.0, scale=1.0):         # (inside [loc, loc + scale]; outside: -inf)
        return 0 * x, 0 * loc, -1 / scale + 0 * x

    @partials(stats.uniform.pdf, domain=("fraction", "below0", "above1"), sympy="1 / z + 0 * x + 0 * y")
    def uniform_pdf(x, loc=0.0, scale=1.0, ans=None):
        return 0 * x, 0 * loc, -ans / scale

    @partials(stats.uniform.cdf, domain=("fraction", "below0", "above1"), why=KINKED)
    def uniform_cdf(x, loc=0.0, scale=1.0):
        density = stats.uniform.pdf(x, loc, scale)
        return density, -density, -(x - loc) / scale * density

    @partials(stats.uniform.sf, domain=("fraction", "below0", "above1"), why=KINKED)
    def uniform_sf(x, loc=0.0, scale=1.0):
        density = stats.uniform.pdf(x, loc, scale)
        return -density, density, (x - loc) / scale * density

    @partials(stats.beta.logpdf, domain=("fraction", "1-2", "1-2", "below0", "above1"), why=BETA)
    def beta_logpdf(x, a, b, loc=0.0, scale=1.0):     # (inside (loc, loc + scale))
        z = (x - loc) / scale
        dz = ((a - 1) / z - (b - 1) / (1 - z)) / scale
        both = special.digamma(a + b)
        return dz, np.log(z) - special.digamma(a) + both, np.log1p(-z) - special.digamma(b) + both, -dz, \
            -z * dz - 1 / scale

    @partials(stats.beta.pdf, domain=("fraction", "1-2", "1-2", "below0", "above1"), why=BETA)
    def beta_pdf(x, a, b, loc=0.0, scale=1.0, ans=None):
        z = (x - loc) / scale
        dz = ((a - 1) / z - (b - 1) / (1 - z)) / scale
        both = special.digamma(a + b)
        return ans * dz, ans * (np.log(z) - special.digamma(a) + both), \
            ans * (np.log1p(-z) - special.digamma(b) + both), -ans * dz, ans * (-z * dz - 1 / scale)

    @partials(stats.beta.cdf, domain=("fraction", "1-2", "1-2", "below0", "above1"), why=BETA, fixed=("a", "b"))
    def beta_cdf(x, a, b, loc=0.0, scale=1.0):
        density = stats.beta.pdf(x, a, b, loc, scale)
        return density, 0.0, 0.0, -density, -(x - loc) / scale * density

    @partials(stats.beta.sf, domain=("fraction", "1-2", "1-2", "below0", "above1"), why=BETA, fixed=("a", "b"))
    def beta_sf(x, a, b, loc=0.0, scale=1.0):
        density = stats.beta.pdf(x, a, b, loc, scale)
        return -density, 0.0, 0.0, density, (x - loc) / scale * density

    @partials(stats.poisson.pmf, domain=("index", "positive"), sympy="exp(x * log(y) - y - loggamma(x + 1))",
              piecewise=("k",))
    def poisson_pmf(k, mu, ans=None): return 0, ans * (k / mu - 1)

    @partials(stats.binom.logpmf, domain=("count", "trials", "fraction"), piecewise=("k", "n"),
              sympy="loggamma(y + 1) - loggamma(x + 1) - loggamma(y - x + 1) + x * log(z) + (y - x) * log(1 - z)")
    def binom_logpmf(k, n, p): return 0, 0, k / p - (n - k) / (1 - p)      # (in p; k and n are counts)

    @partials(stats.binom.pmf, domain=("count", "trials", "fraction"), piecewise=("k", "n"),
              sympy="exp(loggamma(y + 1) - loggamma(x + 1) - loggamma(y - x + 1) + x * log(z) + (y - x) * log(1 - z))")
    def binom_pmf(k, n, p, ans=None): return 0, 0, ans * (k / p - (n - k) / (1 - p))

    _ON_SIMPLEX = "a sum of logs and gammalns of the concentrations: proven by finite differences on the simplex"

    @adjoint(stats.dirichlet.logpdf, domain=("real", "real"), why=_ON_SIMPLEX, examples=[
        ("dirichlet.logpdf(np.exp(x) / np.sum(np.exp(x)), y ** 2 + 1.0)", [(3,), (3,)]),
        ("dirichlet.logpdf(np.exp(x) / np.sum(np.exp(x), axis=0), y ** 2 + 0.5)", [(3, 4), (3,)]),
        ("dirichlet.logpdf((np.exp(x) / np.sum(np.exp(x)))[:2], y ** 2 + 1.0)", [(3,), (3,)])])
    def dirichlet_logpdf(ans, x, alpha, dans):
        dx, dalpha = undirichlet(dans, x, alpha)

    @tangent(stats.dirichlet.logpdf)
    def dirichlet_logpdf_tangent(ans, x, alpha, dx, dalpha):
        dans = dirichlet_tangent(dx, dalpha, x, alpha)

    @adjoint(stats.dirichlet.pdf, domain=("real", "real"), why=_ON_SIMPLEX, examples=[
        ("dirichlet.pdf(np.exp(x) / np.sum(np.exp(x)), y ** 2 + 1.0)", [(3,), (3,)])])
    def dirichlet_pdf(ans, x, alpha, dans):
        dx, dalpha = undirichlet(dans * ans, x, alpha)

    @tangent(stats.dirichlet.pdf)
    def dirichlet_pdf_tangent(ans, x, alpha, dx, dalpha):
        dans = ans * dirichlet_tangent(dx, dalpha, x, alpha)
