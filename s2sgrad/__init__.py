"""s2sgrad: a source-to-source automatic differentiation compiler for Python.

    import s2sgrad
    df = s2sgrad.grad(f)              # a function computing df/dx
    print(s2sgrad.source(f))          # the generated NumPy code

    @s2sgrad.adjoint(special.erf)     # a rule for a function s2sgrad cannot read
    def erf(ans, x, dans):
        dx = dans * 2.0 / np.sqrt(np.pi) * np.exp(-x ** 2)
"""
from .api import grad, hessian, hvp, jacobian, jvp, source, value_and_grad, vjp
from .rules import adjoint, nondifferentiable, partials, tangent
from .referee.verify import Report, verify, verify_rule
from .errors import (NoRuleError, NotDifferentiableError, S2SGradError, ShapeError,
                     SourceUnavailableError, UnsupportedSyntaxError)

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "source", "verify", "verify_rule", "Report", "adjoint", "partials", "tangent",
           "nondifferentiable",
           "S2SGradError", "UnsupportedSyntaxError",
           "NoRuleError", "NotDifferentiableError", "ShapeError", "SourceUnavailableError"]
__version__ = "0.1.0"
