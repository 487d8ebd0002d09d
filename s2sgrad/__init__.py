"""s2sgrad: a source-to-source automatic differentiation compiler for Python.

    import s2sgrad
    df = s2sgrad.grad(f)              # a function computing df/dx
    print(s2sgrad.source(f))          # the generated NumPy code

    @s2sgrad.adjoint(special.erf)     # a rule for a function s2sgrad cannot read
    def erf(ans, x, dans):
        dx = dans * 2.0 / np.sqrt(np.pi) * np.exp(-x ** 2)
"""
from .api import cost, elementwise_grad, export, grad, hessian, hvp, jacobian, jvp, source, value_and_grad, vjp
from .rules import adjoint, nondifferentiable, partials, tangent
from .errors import (NoRuleError, NotDifferentiableError, S2SGradError, ShapeError,
                     SourceUnavailableError, UnsupportedSyntaxError)

__all__ = ["grad", "value_and_grad", "elementwise_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "source", "verify", "verify_rule", "Report", "adjoint", "partials", "tangent",
           "nondifferentiable",
           "S2SGradError", "UnsupportedSyntaxError",
           "NoRuleError", "NotDifferentiableError", "ShapeError", "SourceUnavailableError"]
__version__ = "0.1.0"
REFEREE = ("verify", "verify_rule", "Report")      # SymPy is imported when one is first used


def __getattr__(name):
    if name in REFEREE:
        from .referee import verify as referee
        globals().update({n: getattr(referee, n) for n in REFEREE})
        return globals()[name]
    raise AttributeError(f"module 's2sgrad' has no attribute {name!r}")
