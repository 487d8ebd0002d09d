"""What s2sgrad knows about each op: the table and its registering decorators are in
`table.py` (how a rule is written is told there), array methods in `methods.py`, and
the rules themselves by library: `operators.py` (Python's operators and the runtime's
helpers), `numpy.py`, `linalg.py`, `complex_numbers.py`, `fourier.py` (np.fft), `helpers.py` (rules of the helpers a gradient calls,
to differentiate it again), `scipy_special.py`, `scipy_stats.py`, `scipy_linalg.py`,
`scipy_signal.py` and `scipy_integrate.py` (registered once the user's program has
imported SciPy). Importing this package fills
the table."""
from .table import (DOMAINS, FOREIGN, KINDS, OPERATORS, OPS, OPTIONAL, SHOWN, BY_OBJECT, Op, Spec,  # noqa: F401
                    adjoint, adjoint_into, alias, check_statics, helper, identity, listing, lookup,
                    nondifferentiable, optional, owner_home, partials, positional_names, shown, special, takes_varargs,
                    tangent,
                    transpose)
from .methods import ATTRIBUTES, COPIED, METHODS, PACKED  # noqa: F401
from . import operators, numpy, linalg, complex_numbers, fourier, helpers  # noqa: E402,F401  (fill the table)

optional()
