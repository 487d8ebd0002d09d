"""The suite proves the scipy.special and scipy.stats rules too: s2sgrad registers them once SciPy has
been imported (rules.optional), so SciPy is imported before any test module reads the
rule table. tests/test_import.py checks, in a fresh process, that s2sgrad itself does not."""
import scipy.special  # noqa: F401
import scipy.stats  # noqa: F401
import scipy.linalg  # noqa: F401
import scipy.signal  # noqa: F401
import scipy.integrate  # noqa: F401
