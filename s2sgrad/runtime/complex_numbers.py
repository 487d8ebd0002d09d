"""Complex numbers: the adjoints of the functions that take a complex number apart.

s2sgrad follows JAX's convention: the adjoint of a complex value z is the
transpose of the derivative, never its conjugate transpose, so that a
holomorphic op's rule is its real rule unchanged (`dz = dans * f'(z)`), and
the gradient of a real-valued f is `df/dx - 1j * df/dy` for z = x + 1j*y.
The adjoint of a real value is real: where a real value meets a complex one
(`x * z`), the reverse pass keeps the real part of what flows back to x
(passes/complex_values.py decides where). The functions here are the few
whose rule depends on whether the argument itself is complex. Those that
depend on x smoothly, not only on its dtype, declare no linearity: forward
mode over them (a Hessian) uses their own tangent rules (rules/complex_numbers.py).
"""
from __future__ import annotations

import numpy as np

from .registry import helper


@helper(linear=(0,))
def complex_like(g, x):
    """The (real) adjoint `g` of `np.real(x)`, as the adjoint of x: complex when x is."""
    return g + 0j if np.iscomplexobj(x) else g


@helper(linear=(0,))
def unimag(g, x):
    """The adjoint of `np.imag(x)`: -1j * g for a complex x; zero for a real x, whose
    imaginary part is always 0."""
    return -1j * g if np.iscomplexobj(x) else 0.0 * g


@helper(complex=True)
def unangle(g, x):
    """The adjoint of `np.angle(x)` (the imaginary part of log x): -1j * g / x for a
    complex x; zero for a real x, whose angle is 0 or pi, piecewise constant."""
    return -1j * g / x if np.iscomplexobj(x) else 0.0 * g


@helper()
def angle_tangent(t, x):
    """The tangent of `np.angle(x)` along `t`: the imaginary part of t / x."""
    return np.imag(t / x) if np.iscomplexobj(x) else 0.0 * np.real(t)


@helper(complex=True)
def unmodulus(g, x, ans):
    """The adjoint of |x| for a complex x: g * conj(x) / |x|; at x = 0, where |x| has
    no derivative, 0 (as for a real x: the middle of the subgradient)."""
    return g * np.conj(x) / np.where(ans == 0, 1.0, ans) * (ans != 0)


@helper()
def modulus_tangent(t, x, ans):
    """The tangent of |x| for a complex x along t: Re(conj(x) t) / |x| (0 at x = 0)."""
    return np.real(np.conj(x) * t) / np.where(ans == 0, 1.0, ans) * (ans != 0)


@helper(linear=(0,))
def norm_operand(x, ord=None, axis=None):
    """x, where `np.linalg.norm(x, ord, axis)` of a complex x is a norm of |x| (a vector
    norm; a matrix's 1, inf or Frobenius norm), so that its derivative goes back through
    |x|; the spectral and nuclear norms of a complex matrix are not: refused."""
    if np.iscomplexobj(x) and ord in (2, -2, "nuc") and (axis is None and np.ndim(x) == 2 or isinstance(axis, tuple)):
        raise ValueError(f"np.linalg.norm(x, {ord!r}) of a complex matrix has no derivative rule yet: it is a "
                         "norm of its singular values, not of |x|")
    return x


@helper(linear=(0,))
def real_valued(v, where=()):
    """`v`, the value of a call s2sgrad runs without reading, checked to hold no complex
    numbers (the derivative was built believing so): else an error at the call's line
    (`where`: its location's fields)."""
    if isinstance(v, complex) or np.iscomplexobj(v):
        file, line, col, end, text = where or ("<unknown>", 0, 0, None, "")
        caret = " " * col + "^" * max(1, (end or len(text)) - col)
        raise TypeError(f"{file}:{line}:{col + 1}: error: this call, which s2sgrad runs without reading, returned "
                        f"complex numbers, which the derivative was not built for\n    {text.rstrip()}\n    {caret}\n"
                        "help: give the function a rule (@s2sgrad.adjoint), or make its result real (np.real, np.abs)")
    return v
