"""s2sgrad: a source-to-source automatic differentiation compiler for Python.

    import s2sgrad
    df = s2sgrad.grad(f)              # a function computing df/dx
    print(s2sgrad.source(f))          # the generated NumPy code
"""
from .api import grad, source, value_and_grad, vjp
from .errors import (NoRuleError, NotDifferentiableError, S2SGradError, ShapeError,
                     SourceUnavailableError, UnsupportedSyntaxError)

__all__ = ["grad", "value_and_grad", "vjp", "source", "S2SGradError", "UnsupportedSyntaxError",
           "NoRuleError", "NotDifferentiableError", "ShapeError", "SourceUnavailableError"]
__version__ = "0.1.0"
