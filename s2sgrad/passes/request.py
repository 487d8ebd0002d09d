"""What the pipeline is asked to make, as values rather than strings.

`Kind` names a derivative independently of the function: a gradient, vjp or
jvp of the function itself; the gradient with forward mode run over it
(`Kind("grad", forwards=1)`: Hessian-vector products); or the vjp or jvp of a
derivative s2sgrad made (`Kind("vjp", of=Of("grad", ("x",), True))`: the vjp of
grad(f, "x")). `Request` adds what one compile fixes: the parameters, the
shapes to specialize to, the optimization level, how to compile callees, and the
emission profile (NumPy's, or the Array API's).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable


@dataclass(frozen=True)
class Of:
    """The derivative s2sgrad made that a Kind differentiates again."""

    entry: str                 # "grad" | "value_and_grad" | "vjp"
    inner: tuple               # the parameters it differentiates (names)
    single: bool               # it was asked for one parameter, not a tuple
    along: tuple = ()          # (a vjp's jvp) the positions of the vjp's parameters varied

    def __str__(self):
        inner = self.inner[0] if self.single else self.inner
        return f"{self.entry}({inner!r})" + (f" along {self.along!r}" if self.along else "")


@dataclass(frozen=True)
class Kind:
    """Which derivative (see the module docstring)."""

    mode: str = "grad"         # the derivative made last: "grad" | "vjp" | "jvp"
    forwards: int = 0          # after a gradient: forward mode over it this many times
    of: Of | None = None       # the derivative differentiated, when not the function itself
    summed: bool = False       # a gradient of the sum of the output (elementwise_grad): any shape
    complex: tuple = ()        # the parameters given complex numbers (passes/complex_values.py)

    def __post_init__(self):
        if self.mode not in ("grad", "vjp", "jvp"):
            raise ValueError(f"kind must be 'grad', 'vjp' or 'jvp', not {self.mode!r}")

    @property
    def higher(self) -> bool:
        """A second or higher derivative (the pipeline inlines calls and keeps reverse
        mode's code plain for them)."""
        return self.forwards > 0 or self.of is not None

    def __str__(self):
        if self.complex:
            return f"{replace(self, complex=())} of complex {', '.join(self.complex)}"
        if self.of is not None:
            return f"{self.mode} of {self.of}"
        if self.summed:
            return " over ".join(["forward"] * self.forwards + ["elementwise grad"])
        return " over ".join(["forward"] * self.forwards + [self.mode]) if self.forwards else self.mode


GRAD, VJP, JVP = Kind("grad"), Kind("vjp"), Kind("jvp")


def kind_of(kind) -> Kind:
    """A Kind from a Kind or the name of a first derivative ("grad", "vjp", "jvp")."""
    return kind if isinstance(kind, Kind) else Kind(kind)


@dataclass(frozen=True)
class Request:
    """One compile: the derivative `kind` of a function with respect to `wrt`."""

    wrt: tuple                           # the parameters differentiated (names)
    kind: Kind = GRAD
    single: bool = True                  # wrt was one parameter (grad returns one array)
    shapes: dict | None = field(default=None, compare=False, hash=False)   # name -> shapes.Shaped
    optimized: bool = True               # False: -O0, the optimizer's passes left out
    callees: Callable | None = field(default=None, compare=False, hash=False, repr=False)
    # callees(fn, positions, "vjp" | "jvp"): the compiled derivative of a function it calls
    returns_complex: Callable | None = field(default=None, compare=False, hash=False, repr=False)
    # returns_complex(function, names of its parameters given complex numbers): whether a
    # function it calls may return complex numbers (passes/complex_values.py)
    source: object = field(default=None, compare=False, hash=False, repr=False)
    # the function's parsed source, when the caller has read it already (else it is read)
    profile: str = "numpy"               # "xp": code for any Array API library's arrays (the
    # functions it calls inlined, no NumPy-only pass; passes/portable.py checks every op has a form);
    # "numba": NumPy code for Numba's nopython mode (calls inlined; passes/numba_ready.py)
    arrays: frozenset = frozenset()      # (xp) the parameters given arrays, not numbers or lists
