"""Rules of scipy.stats, registered once the user's program has imported it
(rules.optional): the normal distribution's log density, density, distribution
function and survival function, in x and in the `loc` and `scale` keywords.

With z = (x - loc) / scale, each is a function of z alone, divided by scale where it
is a density; so each partial in loc is minus the one in x, and the one in scale is
minus z times it (less 1 / scale for the log density, scale's own term).
"""
try:
    from scipy import special, stats
except ImportError:  # SciPy is optional: without it there is nothing to register
    stats = None

import numpy as np

from .table import partials

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
