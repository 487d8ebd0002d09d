"""Rules of the functions that take complex numbers apart: np.real, np.imag, np.conj,
np.angle, np.real_if_close, and np.abs, np.var, np.std and np.linalg.norm of complex
values (real functions of them).

s2sgrad follows JAX's convention (runtime/complex_numbers.py): a holomorphic op's
rule is its real rule (rules say so with `complex=True`), and these, which are not
holomorphic, have rules of their own. Each holds for a real argument too (np.imag
of a real number is 0, whatever it is). Their proofs on complex arguments are in
tests/test_complex.py (finite differences in the real and imaginary directions).
"""
import numpy as np

from .table import OPS, adjoint, tangent
from ..runtime import (angle_tangent, complex_like, modulus_tangent, norm_operand, unangle, unimag, unmodulus,  # noqa: F401
                       unnorm, unstd, unvar)

C = "complex"
ON_COMPLEX = "proven on complex values by finite differences in the real and imaginary directions (test_complex.py)"


@adjoint(np.real, linear=True, view=True, result="real", attributes=("real",), complex=True, domain=(C,), why=ON_COMPLEX,
         examples=[("np.real(x)", [(3,)]), ("np.real(x * (1 + 2j))", [(2, 3)]), ("x.real", [(3,)])])
@adjoint(np.real_if_close, linear=True, view=True, complex=True)
def real(ans, x, dans):
    dx = complex_like(dans, x)


@adjoint(np.imag, linear=True, view=True, result="real", attributes=("imag",), complex=True, domain=(C,), why=ON_COMPLEX,
         examples=[("np.imag(x)", [(3,)]), ("np.imag(x * (1 + 2j))", [(2, 3)]), ("(x * 1j).imag", [(3,)])])
def imag(ans, x, dans):
    dx = unimag(dans, x)


@adjoint(np.conj, linear=True, view=True, methods=("conj", "conjugate"), complex=True, domain=(C,), why=ON_COMPLEX,
         examples=[("np.conj(x)", [(3,)]), ("np.real(np.conj(x * (1 + 2j)) * (3 - 1j))", [(2, 3)]),
                   ("x.conj()", [(3,)])])
def conj(ans, x, dans):
    dx = np.conj(dans)


def _radians(statics):
    if statics.get("deg"):
        return ("np.angle(z, deg=True) has no derivative rule yet", "use np.angle(z) and np.degrees")
    return None


@adjoint(np.angle, result="real", complex=True, refuse=_radians, domain=(C,), why=ON_COMPLEX,
         examples=[("np.angle(x + 1.5j)", [(3,)]), ("np.angle((x + 1j) * (y - 2j))", [(2, 3), (3,)])])
def angle(ans, x, dans, *, deg=False):
    dx = unangle(dans, x)


@tangent(np.angle)
def angle_tangent_rule(ans, x, dx, *, deg=False):
    dans = angle_tangent(dx, x)


@adjoint("np.abs.complex", result="real", complex=True, domain=(C, C), why=ON_COMPLEX,
         examples=[("np.abs(x + 1j * y)", [(3,), (3,)]), ("np.abs((x + 1j) * y)", [(2, 3), (3,)])])
def modulus(ans, x, dans):           # |x| of a complex x (np.abs's `on_complex`): not holomorphic
    dx = unmodulus(dans, x, ans)


@tangent("np.abs.complex")
def modulus_tangent_rule(ans, x, dx):
    dans = modulus_tangent(dx, x, ans)


# -- the helpers' tangents: forward mode over a gradient (Hessians) -------------------

@tangent(unangle)
def unangle_tangent_rule(ans, g, x, dg, dx):
    dans = unangle(dg, x) - unangle(g * dx / x, x)


@tangent(unmodulus)
def unmodulus_tangent_rule(ans, g, x, top, dg, dx, dtop):
    dans = unmodulus(dg, x, top) + unmodulus(g, dx, top) - unmodulus(g * dtop / np.where(top == 0, 1.0, top), x, top)


# -- the spread and the size of complex values: real functions of them -----------------

@adjoint("np.var.complex", result="real", complex=True, domain=(C,), why=ON_COMPLEX, examples=[
    ("np.var(x)", [(5,)]), ("np.var(x * (1 - 2j), axis=0, ddof=1)", [(4, 3)]), ("x.var(axis=1, keepdims=True)", [(4, 3)])])
def variance(ans, x, dans, *, axis=None, ddof=0, keepdims=False):     # the mean of |x - mean|^2
    dx = unvar(dans, np.conj(x), axis=axis, ddof=ddof, keepdims=keepdims)


@tangent("np.var.complex")
def variance_tangent(ans, x, dx, *, axis=None, ddof=0, keepdims=False):
    dans = np.real(np.sum(unvar(np.ones_like(ans), np.conj(x), axis=axis, ddof=ddof, keepdims=keepdims) * dx,
                          axis=axis, keepdims=keepdims))


@adjoint("np.std.complex", result="real", complex=True, domain=(C,), why=ON_COMPLEX, examples=[
    ("np.std(x)", [(5,)]), ("np.std(x * (1 - 2j), axis=1, ddof=1)", [(4, 3)])])
def deviation(ans, x, dans, *, axis=None, ddof=0, keepdims=False):
    dx = unstd(dans, np.conj(x), ans, axis=axis, ddof=ddof, keepdims=keepdims)


@tangent("np.std.complex")
def deviation_tangent(ans, x, dx, *, axis=None, ddof=0, keepdims=False):
    dans = np.real(np.sum(unstd(np.ones_like(ans), np.conj(x), ans, axis=axis, ddof=ddof, keepdims=keepdims) * dx,
                          axis=axis, keepdims=keepdims))


@adjoint("np.linalg.norm.complex", result="real", complex=True, domain=("away",), why=ON_COMPLEX, examples=[
    ("np.linalg.norm(x)", [(4,)]), ("np.linalg.norm(x * (1 + 1j), 1)", [(4,)]), ("np.linalg.norm(x, np.inf)", [(3,)]),
    ("np.linalg.norm(x, axis=1)", [(3, 4)]), ("np.linalg.norm(x, 3)", [(4,)]), ("np.linalg.norm(x, 'fro')", [(2, 3)]),
    ("np.linalg.norm(x, 1)", [(3, 3)])])
def modulus_norm(ans, x, dans, *, ord=None, axis=None, keepdims=False):     # a norm of |x|, through |x|
    modulus = np.abs(norm_operand(x, ord, axis))
    dx = unmodulus(unnorm(dans, modulus, ans, ord=ord, axis=axis, keepdims=keepdims), x, modulus)


@tangent("np.linalg.norm.complex")
def modulus_norm_tangent(ans, x, dx, *, ord=None, axis=None, keepdims=False):
    modulus = np.abs(norm_operand(x, ord, axis))
    dans = np.sum(unnorm(np.ones_like(ans), modulus, ans, ord=ord, axis=axis, keepdims=keepdims)
                  * modulus_tangent(dx, x, modulus), axis=axis, keepdims=keepdims)


OPS["np.abs"].on_complex = OPS["abs"].on_complex = "np.abs.complex"
for _name in ("np.abs", "np.var", "np.std", "np.linalg.norm"):   # (each twin runs and is named as its op)
    _twin = OPS[_name + ".complex"]
    _twin.emit, _twin.obj, OPS[_name].on_complex = _name, OPS[_name].obj, _name + ".complex"
