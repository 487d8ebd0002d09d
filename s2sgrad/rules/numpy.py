"""Rules of NumPy's own functions (np.linalg is in linalg.py): elementwise partials
one line each, then reductions, shapes and indexing as adjoint templates, then the
functions whose result carries no derivative.

Each rule says how the table test proves it (`domain`, `sympy` or `why`, and
`examples` for what is not elementwise; see `Spec` in rules/__init__.py).

Conventions at kinks: d|x|/dx is 0 at x = 0; at a tie of np.maximum (or of the
builtin max of two values) each argument gets half of the adjoint; the adjoint of
np.max is shared equally by the entries that tie for the maximum; np.clip passes
the whole adjoint to x at the bounds themselves; np.sort and the order statistics
assume no ties; np.std passes zero where the std is zero (one entry, or all equal: the
convention of autograd and JAX); d(x ** y)/dy is 0 at x = 0. The math module's functions
on floats share the NumPy rules.
"""
import math

import numpy as np

from .table import OPS, adjoint, alias, nondifferentiable, partials, tangent, variant
from ..runtime import (average_tangent, max_tangent, cumprod_tangent, unaverage, unbroadcast, uncumprod, uncumsum, unconcatenate, undiag,  # noqa: F401 (templates)
                       undiagonal, unhstack, unmax, unpad, pad_tangent, unprod, PAD_MODES, unrepeat, unroll, unsort, unsplit, ungradient,
                       undiff, uncolumn_stack, unappend, convolve_margins, unquantile, unrot90, quantile_tangent,
                       unrollaxis, untrapezoid, trapezoid_weights, untrapezoid_weights, unselect,
                       unstd, unsum, untake, untake_along_axis, untile, untrace, untranspose, unvar,
                       unvstack, unhsplit, unpartition, unmeshgrid, uninterp, interp_tangent, partition_tangent)

R, P, A, U = "real", "positive", "away", "unit"
KINK = "a kink: SymPy has no single formula across it; proven by finite differences away from it"

# -- elementwise: the partial derivative(s) of `ans = f(x[, y])` -------------------

@partials(np.sin, complex=True, domain=(R,), sympy="sin(x)")
@partials(math.sin)
def sin(x): return np.cos(x)


@partials(np.cos, complex=True, domain=(R,), sympy="cos(x)")
@partials(math.cos)
def cos(x): return -np.sin(x)


@partials(np.tan, complex=True, domain=("near zero",), sympy="tan(x)")
@partials(math.tan)
def tan(x, ans): return 1 + ans ** 2


@partials(np.arcsin, complex=True, domain=(U,), sympy="asin(x)")
@partials(math.asin)
def arcsin(x): return 1 / np.sqrt(1 - x ** 2)


@partials(np.arccos, complex=True, domain=(U,), sympy="acos(x)")
@partials(math.acos)
def arccos(x): return -1 / np.sqrt(1 - x ** 2)


@partials(np.arctan, complex=True, domain=(R,), sympy="atan(x)")
@partials(math.atan)
def arctan(x): return 1 / (1 + x ** 2)


@partials(np.arctan2, domain=(A, A), sympy="atan2(x, y)")
@partials(math.atan2)
def arctan2(x, y): return y / (x ** 2 + y ** 2), -x / (x ** 2 + y ** 2)


@partials(np.hypot, domain=(A, A), sympy="sqrt(x**2 + y**2)")
@partials(math.hypot)
def hypot(x, y, ans): return x / ans, y / ans


@partials(np.sinh, complex=True, domain=(R,), sympy="sinh(x)")
@partials(math.sinh)
def sinh(x): return np.cosh(x)


@partials(np.cosh, complex=True, domain=(R,), sympy="cosh(x)")
@partials(math.cosh)
def cosh(x): return np.sinh(x)


@partials(np.tanh, complex=True, domain=(R,), sympy="tanh(x)")
@partials(math.tanh)
def tanh(x, ans): return 1 - ans ** 2


@partials(np.arcsinh, complex=True, domain=(R,), sympy="asinh(x)")
@partials(math.asinh)
def arcsinh(x): return 1 / np.sqrt(x ** 2 + 1)


@partials(np.arccosh, complex=True, domain=("above1",), sympy="acosh(x)")
@partials(math.acosh)
def arccosh(x): return 1 / np.sqrt(x ** 2 - 1)


@partials(np.arctanh, complex=True, domain=(U,), sympy="atanh(x)")
@partials(math.atanh)
def arctanh(x): return 1 / (1 - x ** 2)


@partials(np.exp, complex=True, domain=(R,), sympy="exp(x)")
@partials(math.exp)
def exp(x, ans): return ans


@partials(np.exp2, complex=True, domain=(R,), sympy="2**x")
def exp2(x, ans): return ans * np.log(2.0)


@partials(np.expm1, complex=True, domain=(R,), sympy="exp(x) - 1")
@partials(math.expm1)
def expm1(x, ans): return ans + 1


@partials(np.log, complex=True, domain=(P,), sympy="log(x)")
@partials(math.log)
def log(x): return 1 / x


@partials(np.log2, complex=True, domain=(P,), sympy="log(x) / log(2)")
@partials(math.log2)
def log2(x): return 1 / (x * np.log(2.0))


@partials(np.log10, complex=True, domain=(P,), sympy="log(x) / log(10)")
@partials(math.log10)
def log10(x): return 1 / (x * np.log(10.0))


@partials(np.log1p, complex=True, domain=(P,), sympy="log(1 + x)")
@partials(math.log1p)
def log1p(x): return 1 / (1 + x)


@partials(np.logaddexp, domain=(R, R), sympy="log(exp(x) + exp(y))")
def logaddexp(x, y, ans): return np.exp(x - ans), np.exp(y - ans)


@partials(np.logaddexp2, domain=(R, R), sympy="log(2**x + 2**y) / log(2)")
def logaddexp2(x, y, ans): return np.exp2(x - ans), np.exp2(y - ans)


@partials(np.sqrt, complex=True, domain=(P,), sympy="sqrt(x)")
@partials(math.sqrt)
def sqrt(x, ans): return 0.5 / ans


@partials(np.cbrt, domain=(P,), sympy="x**Rational(1, 3)")
def cbrt(x, ans): return 1 / (3 * ans ** 2)


@partials(np.square, complex=True, domain=(R,), sympy="x**2")
def square(x): return 2 * x


@partials(np.reciprocal, complex=True, domain=(A,), sympy="1 / x")
def reciprocal(x, ans): return -ans ** 2


@partials(np.float_power, domain=(P, R), sympy="x**y")
@partials(math.pow)
def float_power(x, y, ans): return y * np.float_power(x, y - 1), ans * np.log(np.where(x == 0, 1.0, x))


@partials(math.erf, domain=(R,), sympy="erf(x)")
def erf(x): return 2.0 / np.sqrt(np.pi) * np.exp(-x * x)


@partials(math.erfc, domain=(R,), sympy="erfc(x)")
def erfc(x): return -2.0 / np.sqrt(np.pi) * np.exp(-x * x)


@partials(np.deg2rad, domain=(R,), sympy="x * pi / 180")
@partials(math.radians)
def deg2rad(x): return np.pi / 180


@partials(np.rad2deg, domain=(R,), sympy="x * 180 / pi")
@partials(math.degrees)
def rad2deg(x): return 180 / np.pi


@partials(np.sinc, domain=(A,), sympy="sin(pi * x) / (pi * x)")
def sinc(x, ans): return (np.cos(np.pi * x) - ans) / np.where(x == 0, 1, x)


@partials(np.abs, "np.abs", result="real", domain=(A,), sympy="Abs(x)")
@partials(abs, result="real")
def abs_(x): return np.sign(x)


@partials(np.fabs, domain=(A,), sympy="Abs(x)")
@partials(math.fabs)
def fabs(x): return np.sign(x)


@partials(np.maximum, domain=(R, R), why=KINK)
@partials(np.fmax)
@partials(max, "max")
def maximum(x, y): return (x > y) + 0.5 * (x == y), (y > x) + 0.5 * (x == y)


@partials(np.minimum, domain=(R, R), why=KINK)
@partials(np.fmin)
@partials(min, "min")
def minimum(x, y): return (x < y) + 0.5 * (x == y), (y < x) + 0.5 * (x == y)


@partials(np.clip, methods=("clip",), domain=(R, R, R), why=KINK)
def clip(a, a_min, a_max, ans):                  # (NumPy's names: `a_min=`, `a_max=` are keywords too)
    return ans == a, np.logical_and(ans != a, ans != a_max), np.logical_and(ans != a, ans == a_max)
# (over `ans`, not the bounds: a bound may be None, and where lo > hi NumPy gives hi)


@partials(np.where, complex=True, domain=("index", R, R), why="a choice between two values, by a condition that is not differentiated")
def where(condition, x, y): return 0, condition, np.logical_not(condition)


@partials(np.copysign, domain=(A, A), why="|x| with the sign of y: a kink at x = 0, a jump at y = 0")
def copysign(x, y): return np.copysign(1.0, x) * np.copysign(1.0, y), 0


@partials(np.fmod, domain=("fraction", "1-2"), why="a saw tooth: SymPy leaves its derivative unevaluated")
def fmod(x, y): return 1, -np.trunc(x / y)


@partials(float, domain=(R,), sympy="x")
def float_(x): return 1


alias(np.add, "add")
alias(np.subtract, "sub")
alias(np.multiply, "mul")
alias(np.divide, "div")              # np.true_divide is np.divide
alias(np.power, "pow")
alias(np.negative, "neg")
alias(np.positive, "pos")
alias(np.absolute, "np.abs")         # np.absolute is np.abs; kept for clarity
alias(np.mod, "mod")                 # np.remainder is np.mod
alias(np.floor_divide, "floordiv")
alias(np.radians, "np.deg2rad")
alias(np.degrees, "np.rad2deg")
alias(np.amax, "np.max")
alias(np.amin, "np.min")

# -- reductions ----------------------------------------------------------------------

def _one_axis(statics):
    """Refuse several axes at once (a tuple) where the rule takes one axis or all."""
    if isinstance(statics.get("axis"), tuple):
        return ("s2sgrad differentiates this along one axis, or all of them", "call it once per axis")
    return None


def _float_sum(statics):
    """Refuse a sum or mean taken in integers (`dtype=int`): its value is piecewise constant."""
    dtype = statics.get("dtype")
    if dtype is not None and np.dtype(dtype).kind != "f":
        return ("a sum taken in integers (`dtype=`) has no derivative", "leave out `dtype`, or give a float type")
    return None


@adjoint(np.sum, complex=True, linear=True, methods=("sum",), domain=(R,), sympy="numpy", refuse=_float_sum, examples=[
    ("np.sum(x)", [(4, 3)]), ("np.sum(x, axis=0)", [(4, 3)]), ("np.sum(x, axis=-1, keepdims=True)", [(4, 3)]),
    ("np.sum(x, (0, 2))", [(2, 3, 4)]), ("x.sum(axis=1)", [(4, 3)]), ("np.sum(x)", [()])])
def sum_(ans, x, dans, *, axis=None, keepdims=False, dtype=None):    # (dtype: a float type, test_python)
    dx = unsum(dans, x, axis=axis, keepdims=keepdims)


@adjoint(np.mean, complex=True, linear=True, methods=("mean",), domain=(R,), sympy="numpy", refuse=_float_sum, examples=[
    ("np.mean(x)", [(4, 3)]), ("np.mean(x, axis=1)", [(4, 3)]), ("np.mean(x, axis=0, keepdims=True)", [(4, 3)]),
    ("x.mean()", [(5,)])])
def mean(ans, x, dans, *, axis=None, keepdims=False, dtype=None):
    dx = unsum(dans, x, axis=axis, keepdims=keepdims) * (np.size(ans) / np.size(x))


@adjoint(np.prod, complex=True, methods=("prod",), domain=(R,), sympy="numpy", examples=[
    ("np.prod(x)", [(4, 3)]), ("np.prod(x, axis=0)", [(4, 3)]), ("x.prod(axis=-1, keepdims=True)", [(2, 3)]),
    ("np.prod(x * np.array([1.0, 0.0, 1.0, 1.0, 1.0]))", [(5,)])])
def prod(ans, x, dans, *, axis=None, keepdims=False):
    dx = unprod(dans, x, axis=axis, keepdims=keepdims)


@adjoint(np.var, result="real", methods=("var",), domain=(R,), sympy="numpy", examples=[
    ("np.var(x)", [(5,)]), ("np.var(x, axis=0, ddof=1)", [(4, 3)]), ("x.var(axis=1, keepdims=True)", [(4, 3)])])
def var(ans, x, dans, *, axis=None, ddof=0, keepdims=False):
    dx = unvar(dans, x, axis=axis, ddof=ddof, keepdims=keepdims)


@adjoint(np.std, result="real", methods=("std",), domain=(R,), sympy="numpy", examples=[
    ("np.std(x)", [(5,)]), ("np.std(x, axis=1, ddof=1)", [(4, 3)]), ("np.std(x, axis=0)", [(4, 3)])])
def std(ans, x, dans, *, axis=None, ddof=0, keepdims=False):
    dx = unstd(dans, x, ans, axis=axis, ddof=ddof, keepdims=keepdims)


@adjoint(np.max, methods=("max",), domain=("distinct",), why=KINK, examples=[
    ("np.max(x)", [(4, 3)]), ("np.max(x, axis=0)", [(4, 3)]), ("x.max(axis=1, keepdims=True)", [(4, 3)]),
    ("np.amax(x, axis=-1)", [(2, 3, 4)])])
@adjoint(np.min, methods=("min",))
def max_(ans, x, dans, *, axis=None, keepdims=False):
    dx = unmax(dans, x, ans, axis=axis, keepdims=keepdims)


@adjoint(np.nanmax, domain=("distinct",), why=KINK, examples=[
    ("np.nanmax(x)", [(4, 3)]), ("np.nanmax(np.where(np.arange(12).reshape(4, 3) % 4 == 1, np.nan, x), axis=0)", [(4, 3)])])
@adjoint(np.nanmin)
def nanmax(ans, x, dans, *, axis=None, keepdims=False):       # (a NaN is never the maximum)
    dx = unmax(dans, x, ans, axis=axis, keepdims=keepdims)


@adjoint(np.cumsum, complex=True, linear=True, methods=("cumsum",), domain=(R,), sympy="numpy", examples=[
    ("np.cumsum(x)", [(5,)]), ("np.cumsum(x, axis=1)", [(3, 4)]), ("np.cumsum(x)", [(3, 4)])])
def cumsum(ans, x, dans, *, axis=None):
    dx = uncumsum(dans, x, axis=axis)


@adjoint(np.cumprod, complex=True, methods=("cumprod",), domain=(A,), sympy="numpy", examples=[
    ("np.cumprod(x)", [(5,)]), ("np.cumprod(x, axis=0)", [(3, 4)]),
    ("np.cumprod(x * np.array([1.0, 0.0, 1.0, 1.0]))", [(4,)])])
def cumprod(ans, x, dans, *, axis=None):
    dx = uncumprod(dans, x, ans, axis=axis)


@tangent(np.max)
@tangent(np.min)
def max_tangent_rule(ans, x, dx, *, axis=None, keepdims=False):
    dans = max_tangent(dx, x, ans, axis=axis, keepdims=keepdims)


@tangent(np.nanmax)
@tangent(np.nanmin)
def nanmax_tangent(ans, x, dx, *, axis=None, keepdims=False):          # (a NaN entry's tangent: not read)
    dans = max_tangent(np.where(np.isnan(x), 0.0, dx), x, ans, axis=axis, keepdims=keepdims)


@tangent(np.cumprod)
def cumprod_tangent_rule(ans, x, dx, *, axis=None):
    dans = cumprod_tangent(dx, x, ans, axis=axis)


@adjoint(np.average, domain=(R, P), sympy="numpy", examples=[
    ("np.average(x, weights=y)", [(5,), (5,)]), ("np.average(x, axis=0, weights=y)", [(4, 3), (4,)]),
    ("np.average(x, axis=1, weights=y)", [(4, 3), (4, 3)]), ("np.average(x, 0)", [(4, 3)])])
def average(ans, x, weights=None, dans=None, *, axis=None):
    dx, dweights = unaverage(dans, x, weights, axis=axis)


@tangent(np.average)
def average_tangent_rule(ans, x, weights=None, dx=None, dweights=None, *, axis=None):
    dans = average_tangent(dx, dweights, x, weights, ans, axis=axis)


@adjoint(np.trace, complex=True, linear=True, methods=("trace",), domain=(R,), sympy="numpy", examples=[
    ("np.trace(x)", [(3, 3)]), ("np.trace(x, 1)", [(3, 4)]), ("np.trace(x)", [(3, 3, 2)])])
def trace(ans, x, dans, *, offset=0):
    dx = untrace(dans, x, offset=offset)


# -- shapes ---------------------------------------------------------------------------

@adjoint(np.reshape, complex=True, linear=True, methods=("reshape",), view=True, domain=(R,), sympy="numpy", examples=[
    ("np.reshape(x, (3, 4))", [(4, 3)]), ("x.reshape(2, 6)", [(4, 3)]), ("x.reshape(-1)", [(4, 3)])])
def reshape(ans, x, shape, dans, *, order="C"):
    dx = np.reshape(dans, np.shape(x), order=order)


@adjoint(np.ravel, complex=True, linear=True, methods=("ravel", "flatten"), view=True, domain=(R,), sympy="numpy", examples=[
    ("np.ravel(x)", [(4, 3)]), ("x.flatten()", [(2, 3)]), ("np.ravel(x, 'F')", [(2, 3)])])
def ravel(ans, x, dans, *, order="C"):
    dx = np.reshape(dans, np.shape(x), order=order)


@adjoint(np.squeeze, complex=True, linear=True, methods=("squeeze",), view=True, domain=(R,), sympy="numpy", examples=[("np.squeeze(x)", [(3, 1)]), ("np.expand_dims(x, 1)", [(3,)]),
                                                           ("np.atleast_2d(x)", [(3,)])])
@adjoint(np.expand_dims, complex=True, linear=True, view=True)
@adjoint(np.atleast_1d, complex=True, linear=True, view=True)
@adjoint(np.atleast_2d, complex=True, linear=True, view=True)
@adjoint(np.atleast_3d, complex=True, linear=True, view=True)
def squeeze(ans, x, dans, *, axis=None):
    dx = np.reshape(dans, np.shape(x))


@adjoint(np.transpose, complex=True, linear=True, methods=("transpose",), attributes=("T",), view=True, domain=(R,), sympy="numpy", examples=[
    ("np.transpose(x)", [(4, 3)]), ("x.T", [(4, 3)]), ("np.transpose(x, (1, 2, 0))", [(2, 3, 4)]),
    ("x.transpose(2, 0, 1)", [(2, 3, 4)])])
def transpose(ans, x, dans, *, axes=None):
    dx = untranspose(dans, axes=axes)


@adjoint(np.swapaxes, complex=True, linear=True, methods=("swapaxes",), view=True, domain=(R,), sympy="numpy", examples=[("np.swapaxes(x, 0, 2)", [(2, 3, 4)])])
def swapaxes(ans, x, dans, *, axis1, axis2):
    dx = np.swapaxes(dans, axis1, axis2)


@adjoint(np.moveaxis, complex=True, linear=True, view=True, domain=(R,), sympy="numpy", examples=[("np.moveaxis(x, 0, -1)", [(2, 3, 4)])])
def moveaxis(ans, x, dans, *, source, destination):
    dx = np.moveaxis(dans, destination, source)


@adjoint(np.broadcast_to, complex=True, linear=True, view=True, domain=(R,), sympy="numpy", examples=[("np.broadcast_to(x, (4, 3))", [(3,)])])
def broadcast_to(ans, x, dans, *, shape):
    dx = unbroadcast(dans, x)


@adjoint(np.flip, complex=True, linear=True, view=True, domain=(R,), sympy="numpy", examples=[("np.flip(x)", [(4, 3)]), ("np.flip(x, 1)", [(4, 3)])])
def flip(ans, x, dans, *, axis=None):
    dx = np.flip(dans, axis)


@adjoint(np.roll, complex=True, linear=True, domain=(R,), sympy="numpy", examples=[("np.roll(x, 2)", [(5,)]), ("np.roll(x, -1, axis=0)", [(4, 3)]),
                                                        ("np.roll(x, (1, 1), axis=(0, 1))", [(3, 3)])])
def roll(ans, x, dans, *, shift, axis=None):
    dx = unroll(dans, shift, axis)


@adjoint(np.tile, complex=True, linear=True, domain=(R,), sympy="numpy", examples=[("np.tile(x, 2)", [(3,)]), ("np.tile(x, (2, 1, 2))", [(2, 3)])])
def tile(ans, x, dans, *, reps):
    dx = untile(dans, x, reps)


@adjoint(np.repeat, complex=True, linear=True, methods=("repeat",), domain=(R,), sympy="numpy", examples=[
    ("np.repeat(x, 2)", [(2, 3)]), ("np.repeat(x, 3, axis=1)", [(2, 3)]), ("np.repeat(x, (1, 0, 2))", [(3,)]),
    ("np.repeat(x, (2, 1, 0))", [(3,)]), ("np.repeat(x, np.array([1, 2, 3]), axis=0)", [(3, 2)])])
def repeat(ans, x, repeats, dans, *, axis=None):       # (repeats: a count, or one per entry, not differentiated)
    dx = unrepeat(dans, x, repeats, axis=axis)


@adjoint(np.diag, complex=True, linear=True, view=True, domain=(R,), sympy="numpy", examples=[("np.diag(x)", [(3,)]), ("np.diag(x, 1)", [(3, 3)])])
def diag(ans, x, dans, *, k=0):
    dx = undiag(dans, x, k=k)


@adjoint(np.diagonal, complex=True, linear=True, methods=("diagonal",), view=True, domain=(R,), sympy="numpy", examples=[("np.diagonal(x)", [(3, 4)]), ("x.diagonal(1)", [(4, 4)])])
def diagonal(ans, x, dans, *, offset=0, axis1=0, axis2=1):
    dx = undiagonal(dans, x, offset=offset, axis1=axis1, axis2=axis2)


@adjoint(np.triu, complex=True, linear=True, domain=(R,), sympy="numpy", examples=[("np.triu(x)", [(3, 3)]), ("np.triu(x, 1)", [(3, 4)])])
def triu(ans, x, dans, *, k=0):
    dx = np.triu(dans, k)


@adjoint(np.tril, complex=True, linear=True, domain=(R,), sympy="numpy", examples=[("np.tril(x)", [(3, 3)]), ("np.tril(x, -1)", [(4, 3)])])
def tril(ans, x, dans, *, k=0):
    dx = np.tril(dans, k)


def _number_q(statics):
    """Refuse a quantile of several q at once, or a method other than linear interpolation."""
    if np.ndim(statics.get("q", 0.5)) or statics.get("method", "linear") != "linear" or \
            isinstance(statics.get("axis"), tuple):
        return ("s2sgrad differentiates one quantile at a time, by linear interpolation, along one axis or all",
                "call np.quantile once per q, along one axis")
    return None


def _pad_modes(statics):
    if callable(statics.get("mode")) or statics.get("mode", "constant") not in PAD_MODES:
        return (f"np.pad with mode={statics['mode']!r} has no derivative rule",
                "use one of the modes " + ", ".join(map(repr, PAD_MODES)) + ", or pad by hand")
    if statics.get("reflect_type", "even") != "even":
        return "np.pad with reflect_type='odd' has no derivative rule yet", "leave reflect_type out"
    return None


@adjoint(np.pad, complex=True, domain=(R,), sympy="numpy", refuse=_pad_modes, examples=[
    ("np.pad(x, 2)", [(3,)]), ("np.pad(x, ((1, 0), (0, 2)))", [(2, 3)]),
    ("np.pad(x, 1, constant_values=2.5)", [(2, 2)]), ("np.pad(x, ((2, 1), (1, 3)), 'reflect')", [(3, 4)]),
    ("np.pad(x, ((1, 2), (2, 1)), mode='mean', stat_length=((2, 3), (1, 2)))", [(4, 3)]),
    ("np.pad(x, ((2, 1), (1, 2)), 'linear_ramp', end_values=((1.0, -2.0), (0.5, 3.0)))", [(3, 4)]),
    ("np.pad(x, 2, 'linear_ramp')", [(4,)])])
def pad(ans, x, dans, *, pad_width, mode="constant", stat_length=None, constant_values=0, end_values=0,
        reflect_type="even"):
    dx = unpad(dans, x, pad_width, mode, stat_length)


@tangent(np.pad)
def pad_tangent_rule(ans, x, dx, *, pad_width, mode="constant", stat_length=None, constant_values=0, end_values=0,
                     reflect_type="even"):
    dans = pad_tangent(dx, x, pad_width, mode, stat_length)


variant("np.pad", "mode", "np.pad.picked", values=("maximum", "minimum", "median"), domain=("distinct",),
        why="a margin that picks entries (the maximum, minimum or median of those near it), which SymPy cannot "
        "order: proven by finite differences away from ties", examples=[
            ("np.pad(x, ((2, 1), (1, 2)), 'maximum')", [(3, 4)]), ("np.pad(x, 2, 'minimum', stat_length=2)", [(4, 3)]),
            ("np.pad(x, (2, 1), mode='median')", [(3, 4)]), ("np.pad(x, (3, 2), 'median', stat_length=3)", [(5,)])])


@adjoint(np.sort, domain=("distinct",), why="a permutation that depends on the values: proven by finite differences",
         examples=[("np.sort(x)", [(5,)]), ("np.sort(x, axis=0)", [(4, 3)]), ("np.sort(x, axis=None)", [(2, 3)])])
def sort(ans, x, dans, *, axis=-1):
    dx = unsort(dans, x, axis=axis)


@adjoint(np.gradient, linear=True, domain=(R,), refuse=_one_axis, why="a fixed linear stencil that NumPy computes in floats only "
         "(not on SymPy's symbols): proven by finite differences", examples=[
    ("np.gradient(x)", [(5,)]), ("np.gradient(x, axis=1)", [(3, 4)]), ("np.gradient(x, axis=0, edge_order=2)", [(4, 3)]),
    ("np.gradient(x)[1] * np.gradient(x)[0]", [(3, 4)])])
def gradient(ans, x, dans, *, axis=None, edge_order=1):      # (unit spacing; one axis, or all)
    dx = ungradient(dans, x, axis, edge_order)


@adjoint(np.diff, complex=True, linear=True, domain=(R,), sympy="numpy", examples=[
    ("np.diff(x)", [(5,)]), ("np.diff(x, 2)", [(5,)]), ("np.diff(x, axis=0)", [(4, 3)]), ("np.diff(x, n=2, axis=1)", [(3, 5)])])
def diff(ans, x, dans, *, n=1, axis=-1):
    dx = undiff(dans, n, axis)


@adjoint(np.flipud, complex=True, linear=True, view=True, domain=(R,), sympy="numpy", examples=[("np.flipud(x)", [(4, 3)])])
def flipud(ans, x, dans):
    dx = np.flipud(dans)


@adjoint(np.fliplr, complex=True, linear=True, view=True, domain=(R,), sympy="numpy", examples=[("np.fliplr(x)", [(4, 3)])])
def fliplr(ans, x, dans):
    dx = np.fliplr(dans)


@adjoint(np.rot90, complex=True, linear=True, view=True, domain=(R,), sympy="numpy", examples=[
    ("np.rot90(x)", [(4, 3)]), ("np.rot90(x, 3)", [(2, 3)]), ("np.rot90(x, 2, axes=(1, 2))", [(2, 3, 4)])])
def rot90(ans, x, dans, *, k=1, axes=(0, 1)):
    dx = unrot90(dans, k, axes)


@adjoint(np.column_stack, complex=True, linear=True, domain=(R, R), sympy="numpy", examples=[
    ("np.column_stack([x, y])", [(3,), (3,)]), ("np.column_stack([x, y])", [(3, 2), (3,)])])
def column_stack(ans, x, dans):
    dx = uncolumn_stack(dans, x)


@adjoint(np.append, complex=True, domain=(R, R), sympy="numpy", examples=[
    ("np.append(x, y)", [(3,), (2,)]), ("np.append(x, y)", [(2, 2), (3,)]), ("np.append(x, y, axis=0)", [(2, 3), (1, 3)])])
def append_(ans, x, values, dans, *, axis=None):
    dx, dvalues = unappend(dans, x, values, axis)


@adjoint(np.cross, complex=True, linear=("x", "y"), domain=(R, R), sympy="numpy", examples=[
    ("np.cross(x, y)", [(3,), (3,)]), ("np.cross(x, y)", [(4, 3), (3,)])])
def cross(ans, x, y, dans):
    dx = unbroadcast(np.cross(y, dans), x)
    dy = unbroadcast(np.cross(dans, x), y)


@adjoint(np.convolve, complex=True, linear=("a", "v"), domain=(R, R), sympy="numpy", examples=[
    ("np.convolve(x, y)", [(5,), (3,)]), ("np.convolve(x, y, 'same')", [(5,), (4,)]),
    ("np.convolve(x, y, mode='valid')", [(3,), (5,)])])
def convolve(ans, a, v, dans, *, mode="full"):     # dans placed in the full convolution, correlated
    before, after = convolve_margins(len(a), len(v), len(dans), mode=mode)
    full = np.concatenate([np.zeros(before), dans, np.zeros(after)])
    da = np.correlate(full, np.conj(v), "valid")      # (np.correlate conjugates its second argument)
    dv = np.correlate(full, np.conj(a), "valid")


@adjoint(np.correlate, complex=True, linear=("a", "v"), domain=(R, R), sympy="numpy", examples=[
    ("np.correlate(x, y)", [(5,), (3,)]), ("np.correlate(x, y, 'full')", [(5,), (4,)]),
    ("np.correlate(x, y, mode='same')", [(3,), (5,)]), ("np.correlate(x, y, mode='same')", [(2,), (4,)]),
    ("np.correlate(x, y, 'same')", [(6,), (3,)])])
def correlate(ans, a, v, dans, *, mode="valid"):       # the convolution of a with v reversed (and conjugated)
    before, after = convolve_margins(len(a), len(v), len(dans), mode=mode, correlate=True)
    full = np.concatenate([np.zeros(before), dans, np.zeros(after)])
    da = np.correlate(full, np.flip(v), "valid")
    dv = np.conj(np.flip(np.correlate(full, np.conj(a), "valid")))


@adjoint(np.nansum, domain=(R,), sympy="numpy", examples=[
    ("np.nansum(x)", [(4, 3)]), ("np.nansum(np.where(np.arange(12).reshape(4, 3) % 3 == 1, np.nan, x), axis=0)",
                                 [(4, 3)])])
def nansum(ans, x, dans, *, axis=None, keepdims=False):
    dx = np.where(np.isnan(x), 0.0, unsum(dans, x, axis=axis, keepdims=keepdims))


@adjoint(np.nanmean, domain=(R,), sympy="numpy", examples=[
    ("np.nanmean(x)", [(4, 3)]), ("np.nanmean(np.where(np.arange(12).reshape(4, 3) % 3 == 1, np.nan, x), axis=1)",
                                  [(4, 3)])])
def nanmean(ans, x, dans, *, axis=None, keepdims=False):
    dx = np.where(np.isnan(x), 0.0, unsum(dans, x, axis=axis, keepdims=keepdims)
                  / np.sum(np.logical_not(np.isnan(x)), axis=axis, keepdims=True))


@adjoint(np.nan_to_num, domain=(R,), sympy="numpy", examples=[
    ("np.nan_to_num(x)", [(4,)]), ("np.nan_to_num(x * 2.0)", [(2, 3)])])
def nan_to_num(ans, x, dans):                      # (nan and the infinities become constants)
    dx = np.where(np.isfinite(x), dans, 0.0)


@adjoint(np.ptp, domain=("distinct",), why=KINK, examples=[("np.ptp(x)", [(4, 3)]), ("np.ptp(x, axis=1)", [(4, 3)])])
def ptp(ans, x, dans, *, axis=None, keepdims=False):
    dx = unmax(dans, x, np.max(x, axis=axis, keepdims=keepdims), axis=axis, keepdims=keepdims) \
        - unmax(dans, x, np.min(x, axis=axis, keepdims=keepdims), axis=axis, keepdims=keepdims)


@adjoint(np.quantile, domain=("distinct",), why="an order statistic (a permutation that depends on the values): "
         "proven by finite differences", refuse=_number_q, examples=[
    ("np.quantile(x, 0.3)", [(5,)]), ("np.quantile(x, 0.5, axis=0)", [(5, 3)]),
    ("np.quantile(x, 0.25, axis=1, keepdims=True)", [(3, 6)])])
def quantile(ans, x, dans, *, q, axis=None, keepdims=False):
    dx = unquantile(dans, x, q, axis, keepdims)


@adjoint(np.percentile, domain=("distinct",), why="an order statistic: proven by finite differences",
         refuse=_number_q, examples=[("np.percentile(x, 30)", [(5,)]), ("np.percentile(x, 50, axis=1)", [(3, 4)])])
def percentile(ans, x, dans, *, q, axis=None, keepdims=False):
    dx = unquantile(dans, x, q / 100.0, axis, keepdims)


@adjoint(np.median, domain=("distinct",), why="an order statistic: proven by finite differences", refuse=_number_q,
         examples=[
    ("np.median(x)", [(5,)]), ("np.median(x)", [(4,)]), ("np.median(x, axis=0)", [(4, 3)])])
def median(ans, x, dans, *, axis=None, keepdims=False):
    dx = unquantile(dans, x, 0.5, axis, keepdims)


@adjoint(np.select, domain=(R,), why="a choice among values by conditions, piecewise: proven by finite "
         "differences away from where a condition changes", examples=[
    ("np.select([x > 0.5, x < -0.5], [x ** 2, -x], 0.0)", [(5,)]),
    ("np.select([x > 0.5, x < -0.5], [x * 2.0, x + 1.0], default=x)", [(4, 3)])])
def select(ans, condlist, choicelist, default=0, dans=None):     # (the conditions: not differentiated)
    dchoicelist, ddefault = unselect(dans, condlist, choicelist, default)


@adjoint(np.polyval, domain=(R, R), sympy="numpy", examples=[
    ("np.polyval(x, y)", [(3,), (4,)]), ("np.polyval(x, y)", [(4,), ()]), ("np.polyval(x, y)", [(2,), (2, 3)])])
def polyval(ans, p, x, dans):          # p[0] x**(n-1) + ... + p[n-1]: its derivative is a polynomial too
    dp = np.reshape(dans, (-1,)) @ (np.reshape(x, (-1, 1)) ** np.arange(len(p) - 1, -1, -1))
    dx = dans * np.polyval(p[:-1] * np.arange(len(p) - 1, 0, -1), x)


@adjoint(np.rollaxis, complex=True, linear=True, view=True, domain=(R,), sympy="numpy", examples=[
    ("np.rollaxis(x, 2)", [(2, 3, 4)]), ("np.rollaxis(x, 0, 2)", [(2, 3, 4)]), ("np.rollaxis(x, 0, -1)", [(2, 3, 4)])])
def rollaxis(ans, x, dans, *, axis, start=0):
    dx = unrollaxis(dans, axis, start, np.ndim(x))


@adjoint(np.trapezoid, complex=True, linear=True, domain=(R,), sympy="numpy", examples=[
    ("np.trapezoid(x)", [(5,)]), ("np.trapezoid(x, dx=0.5, axis=0)", [(4, 3)]), ("np.trapezoid(x)", [(1,)])])
def trapezoid(ans, y, dans, *, dx=1.0, axis=-1):         # (equal spacing `dx`; sample points `x`: below)
    dy = untrapezoid(dans, y, dx, axis)


@adjoint("np.trapezoid.sampled", linear=("y", "x"), complex=True, domain=(R, R), sympy="numpy", examples=[
    ("np.trapezoid(x, y)", [(5,), (5,)]), ("np.trapezoid(x, y, axis=0)", [(4, 3), (4,)]),
    ("np.trapezoid(x, x=y)", [(2, 3), (2, 3)]), ("np.trapezoid(x, y, axis=0)", [(3, 2), (3, 1)])])
def trapezoid_sampled(ans, y, x, dans, *, axis=-1):     # (the integral is sum(weights(x) * y): bilinear)
    dy = unbroadcast(np.expand_dims(dans, axis) * trapezoid_weights(x, y, axis), y)
    dx = untrapezoid_weights(np.expand_dims(dans, axis) * y, x, axis)


OPS["np.trapezoid.sampled"].emit, OPS["np.trapezoid.sampled"].obj = "np.trapezoid", np.trapezoid
OPS["np.trapezoid"].variants = (("x", "np.trapezoid.sampled", None, True),)    # (x may be None: unit spacing)


@adjoint(np.take, complex=True, linear=True, methods=("take",), domain=(R,), sympy="numpy", examples=[
    ("np.take(x, [0, 2, 2])", [(4,)]), ("np.take(x, [[1, 0], [1, 1]], axis=1)", [(2, 3)]),
    ("np.take(x, np.array([[0, 1], [1, 1]]), axis=-1)", [(2, 2)])])
def take(ans, x, indices, dans, *, axis=None):
    dx = untake(dans, x, indices, axis=axis)


@adjoint(np.take_along_axis, complex=True, linear=True, domain=(R,), sympy="numpy", examples=[
    ("np.take_along_axis(x, np.array([[0, 2], [1, 1], [3, 0]]), axis=1)", [(3, 4)])])
def take_along_axis(ans, x, indices, dans, *, axis):
    dx = untake_along_axis(dans, x, indices, axis)


# -- joining and splitting (lists of arrays) ---------------------------------------

@adjoint(np.concatenate, complex=True, linear=True, domain=(R, R), sympy="numpy", examples=[
    ("np.concatenate([x, y])", [(3,), (2,)]), ("np.concatenate([x, y], axis=1)", [(2, 3), (2, 1)]),
    ("np.concatenate((x, y), axis=None)", [(2, 2), (3,)])])
def concatenate(ans, x, dans, *, axis=0):
    dx = unconcatenate(dans, x, axis=axis)


@adjoint(np.hstack, complex=True, linear=True, domain=(R, R), sympy="numpy", examples=[
    ("np.hstack([x, y])", [(3,), (2,)]), ("np.hstack([x, y])", [(2, 3), (2, 1)])])
def hstack(ans, x, dans):
    dx = unhstack(dans, x)


@adjoint(np.vstack, complex=True, linear=True, domain=(R, R), sympy="numpy", examples=[
    ("np.vstack([x, y])", [(3,), (3,)]), ("np.vstack([x, y])", [(2, 3), (1, 3)])])
def vstack(ans, x, dans):
    dx = unvstack(dans, x)


@adjoint(np.stack, complex=True, linear=True, domain=(R, R), sympy="numpy", examples=[
    ("np.stack([x, y], axis=1)", [(3,), (3,)]), ("np.stack([x, y])", [(2, 3), (2, 3)])])
def stack(ans, x, dans, *, axis=0):
    dx = np.moveaxis(dans, axis, 0)


@adjoint(np.split, complex=True, linear=True, view=True, listed=True, domain=(R,), sympy="numpy", examples=[
    ("np.split(x, 2)[1]", [(4,)]), ("np.split(x, 3, axis=1)[0]", [(2, 3)]), ("np.array_split(x, 2)[0] * 2.0", [(5,)])])
@adjoint(np.array_split, complex=True, linear=True, view=True, listed=True)
def split(ans, x, dans, *, indices_or_sections, axis=0):
    dx = unsplit(dans, axis=axis)


@adjoint(np.array, complex=True, linear=True, methods=("astype",), domain=(R, R), sympy="numpy", examples=[("np.array([x, y])", [(3,), (3,)]), ("np.array([x, y])", [(), ()])])
def array(ans, x, dans, *, dtype=None):
    dx = unbroadcast(dans, x)


@adjoint(np.asarray, complex=True, linear=True, view=True, domain=(R,), why="a conversion to floats: its rule is the identity", examples=[
    ("np.asarray(x, dtype=float)", [(3,)]), ("x.astype(float)", [(2, 3)])])
def asarray(ans, x, dans, *, dtype=None):
    dx = unbroadcast(dans, x)


# -- casts: what a cast does to a derivative is decided here, by the kind of its dtype ------
# To floats (any precision; float32 rounds the value, the derivative passes as it is): the
# identity. To integers, unsigned integers or bools: piecewise constant, the value is the
# cast value and the derivative zero. To complex numbers: the identity (the adjoint of the
# real value cast keeps its real part: passes/complex_values.py); of complex numbers to
# reals: refused there (np.real says which part is meant). x.astype(t), np.asarray(x, dtype=t), np.array(x, dtype=t) and the
# scalar types called as functions (int(x), np.float32(x)) all meet here.

CASTS = ("np.asarray", "np.array")            # the ops that take a `dtype` keyword to cast
DISCRETE = ("i", "u", "b")                    # the kinds of dtype whose casts are piecewise constant
FLOATS = (np.float64,)          # (np.float32(x) and np.float16(x) have no rule: finite differences
                                # cannot prove a rounded value; write x.astype(np.float32))
INTEGERS = (int, bool, np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
COMPLEX = (complex, np.complex128)    # (np.complex64 rounds, as np.float32 does)


def cast_kind(stmt) -> str | None:
    """The kind of dtype ("f", "i", "u", "b", "c", ...) a cast statement converts to, or
    None when the statement is not a cast (or keeps its argument's dtype)."""
    if stmt.op in CASTS:
        dtype = dict(stmt.params).get("dtype")
        return None if dtype is None else np.dtype(dtype).kind
    op = OPS.get(stmt.op)
    obj = op.obj if op is not None else None
    return np.dtype(obj).kind if isinstance(obj, type) and obj in FLOATS + INTEGERS + COMPLEX else None


for _type in FLOATS:
    partials(_type, domain=(R,), sympy="x")(float_)
for _type in INTEGERS:
    nondifferentiable(_type)
@partials(complex, result="complex", domain=(R, R), why="complex(real, imag) = real + 1j * imag: proven on complex values "
          "(test_complex.py)", complex=True)
def complex_(real, imag=0.0): return 1, 1j       # (the real part of the adjoint flows back to real arguments)


@partials(np.complex128, result="complex", domain=(R,), why="a cast to complex numbers: the identity, proven on complex values "
          "(test_complex.py)", complex=True)
def complex128_(x): return 1
for _type in (np.complex64, np.clongdouble):
    nondifferentiable(_type, piecewise=False)


@adjoint(np.linspace, domain=(R, R), sympy="numpy", examples=[
    ("np.linspace(x, y, 5)", [(), ()]), ("np.linspace(x, y, 4, endpoint=False)", [(), ()]),
    ("np.linspace(x, y, 3)", [(2,), ()]), ("np.linspace(x, 2.0)", [()])])
def linspace(ans, start, stop, num=None, dans=None, *, endpoint=True):
    t = np.linspace(0.0, 1.0, np.shape(ans)[0], endpoint=endpoint)     # ans = start + (stop - start) * t
    dstart = unbroadcast(np.tensordot(1.0 - t, dans, 1), start)
    dstop = unbroadcast(np.tensordot(t, dans, 1), stop)


@tangent(np.linspace)
def linspace_tangent(ans, start, stop, num=None, dstart=None, dstop=None, *, endpoint=True):
    dans = np.linspace(dstart, dstop, np.shape(ans)[0], endpoint=endpoint)      # linear in both


# -- no derivative: creation, queries, steps (piecewise constant: zero wherever it exists) --

for _fn in (np.zeros, np.ones, np.empty, np.eye, np.identity, np.zeros_like, np.ones_like, np.empty_like,
            np.isnan, np.isfinite, np.isinf, np.argmax, np.argmin, np.argsort, np.sign, np.floor, np.ceil,
            np.round, np.rint, np.trunc, np.fix, np.nonzero, np.count_nonzero, np.all, np.any,
            np.logical_and, np.logical_or, np.logical_not, np.greater, np.less, np.equal, np.allclose,
            np.isclose, np.shape, np.ndim, np.size, math.floor, math.ceil, math.isnan, math.isfinite,
            np.invert, np.searchsorted, np.digitize):
    nondifferentiable(_fn)
for _method in ("argmax", "argmin", "argsort", "round", "all", "any"):
    nondifferentiable(getattr(np, _method), methods=(_method,))
nondifferentiable(np.heaviside, piecewise=("x1",))      # (x2 is its value where x1 == 0)
nondifferentiable(np.full, piecewise=("shape",))        # the fill value has no rule yet: refused
nondifferentiable(np.full_like, piecewise=("a",))
nondifferentiable(np.arange, piecewise=False)           # values start + i * step: no rule yet


# -- forward mode's own rules (elementwise ops and linear ones need none) ---------------

@tangent(np.sort)
def sort_tangent(ans, x, dx, *, axis=-1):
    dans = np.take_along_axis(dx, np.argsort(x, axis=axis), axis=axis)


@tangent(np.append)
def append_tangent(ans, x, values, dx, dvalues, *, axis=None):      # (linear in both at once)
    dans = np.append(dx, dvalues, axis)


@tangent(np.select)
def select_tangent(ans, condlist, choicelist, default=0, dcondlist=None, dchoicelist=None, ddefault=None):
    dans = np.select(condlist, dchoicelist, ddefault)


@tangent(np.polyval)
def polyval_tangent(ans, p, x, dp, dx):
    dans = np.polyval(dp, x) + np.polyval(p[:-1] * np.arange(len(p) - 1, 0, -1), x) * dx


@tangent(np.nansum)
def nansum_tangent(ans, x, dx, *, axis=None, keepdims=False):
    dans = np.sum(np.where(np.isnan(x), 0.0, dx), axis=axis, keepdims=keepdims)


@tangent(np.nanmean)
def nanmean_tangent(ans, x, dx, *, axis=None, keepdims=False):
    dans = np.sum(np.where(np.isnan(x), 0.0, dx), axis=axis, keepdims=keepdims) \
        / np.sum(np.logical_not(np.isnan(x)), axis=axis, keepdims=keepdims)


@tangent(np.nan_to_num)
def nan_to_num_tangent(ans, x, dx):
    dans = np.where(np.isfinite(x), dx, 0.0)


@tangent(np.ptp)
def ptp_tangent(ans, x, dx, *, axis=None, keepdims=False):
    dans = max_tangent(dx, x, np.max(x, axis=axis, keepdims=keepdims), axis=axis, keepdims=keepdims) \
        - max_tangent(dx, x, np.min(x, axis=axis, keepdims=keepdims), axis=axis, keepdims=keepdims)


@tangent(np.quantile)
def quantile_tangent_rule(ans, x, dx, *, q, axis=None, keepdims=False):
    dans = quantile_tangent(dx, x, q, axis, keepdims)


@tangent(np.percentile)
def percentile_tangent(ans, x, dx, *, q, axis=None, keepdims=False):
    dans = quantile_tangent(dx, x, q / 100.0, axis, keepdims)


@tangent(np.median)
def median_tangent(ans, x, dx, *, axis=None, keepdims=False):
    dans = quantile_tangent(dx, x, 0.5, axis, keepdims)


@tangent(np.var)
def var_tangent(ans, x, dx, *, axis=None, ddof=0, keepdims=False):
    dans = 2.0 * np.sum((x - np.mean(x, axis=axis, keepdims=True)) * dx, axis=axis, keepdims=keepdims) \
        / (np.size(x) / np.size(ans) - ddof)


@tangent(np.std)
def std_tangent(ans, x, dx, *, axis=None, ddof=0, keepdims=False):
    dans = np.sum((x - np.mean(x, axis=axis, keepdims=True)) * dx, axis=axis, keepdims=keepdims) \
        / ((np.size(x) / np.size(ans) - ddof) * np.where(ans == 0, 1.0, ans))     # (0 where std is 0)


@tangent(np.prod)
def prod_tangent(ans, x, dx, *, axis=None, keepdims=False):
    dans = np.sum(unprod(np.ones_like(ans), x, axis=axis, keepdims=keepdims) * dx, axis=axis, keepdims=keepdims)


# -- more shapes and selections --------------------------------------------------------

@adjoint(np.hsplit, complex=True, linear=True, view=True, listed=True, domain=(R,), sympy="numpy", examples=[
    ("np.hsplit(x, 2)[1]", [(3, 4)]), ("np.hsplit(x, 3)[0] * 2.0", [(6,)])])
def hsplit(ans, x, dans, *, indices_or_sections):
    dx = unhsplit(dans, x)


@adjoint(np.vsplit, complex=True, linear=True, view=True, listed=True, domain=(R,), sympy="numpy", examples=[
    ("np.vsplit(x, 2)[1]", [(4, 3)])])
def vsplit(ans, x, dans, *, indices_or_sections):
    dx = unsplit(dans, axis=0)


@adjoint(np.dsplit, complex=True, linear=True, view=True, listed=True, domain=(R,), sympy="numpy", examples=[
    ("np.dsplit(x, 2)[0]", [(2, 3, 4)])])
def dsplit(ans, x, dans, *, indices_or_sections):
    dx = unsplit(dans, axis=2)


alias(np.row_stack, "np.vstack")          # (np.vstack under its older name)


def _dense(statics):
    if statics.get("sparse"):
        return "np.meshgrid(..., sparse=True) has no derivative rule yet", "leave sparse out"
    return None


@adjoint(np.meshgrid, outputs=2, complex=True, refuse=_dense, domain=(R, R), sympy="numpy", examples=[
    ("np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1]", [(3,), (4,)]),
    ("np.sin(np.meshgrid(x, y, indexing='ij')[0]) + np.meshgrid(x, y, indexing='ij')[1] ** 2", [(3,), (2,)])])
def meshgrid(ans, x, y, dans, *, indexing="xy", sparse=False, copy=True):
    dx, dy = unmeshgrid(dans, x, y, indexing)


@tangent(np.meshgrid)
def meshgrid_tangent(ans, x, y, dx, dy, *, indexing="xy", sparse=False, copy=True):
    dans = np.meshgrid(dx, dy, indexing=indexing)


@adjoint(np.partition, domain=("distinct",), why="a permutation that depends on the values: proven by finite "
         "differences", examples=[("np.partition(x, 2)", [(5,)]), ("np.partition(x, 1, axis=0)", [(4, 3)])])
def partition(ans, x, dans, *, kth, axis=-1):
    dx = unpartition(dans, x, ans, kth, axis)


@tangent(np.partition)
def partition_tangent_rule(ans, x, dx, *, kth, axis=-1):
    dans = partition_tangent(dx, x, ans, kth, axis)


def _no_period(statics):
    if statics.get("period") is not None:
        return "np.interp(..., period=...) has no derivative rule yet", "leave period out"
    return None


@adjoint(np.interp, refuse=_no_period, domain=(R, R, R), why="piecewise linear in x, with kinks at the knots xp "
         "(not differentiated: a differentiated xp is refused): proven by finite differences", examples=[
    ("np.interp(x, np.array([-1.0, 0.0, 0.5, 2.0]), y)", [(5,), (4,)]),
    ("np.interp(x, np.array([-1.0, 0.0, 0.5, 1.0]), y, left=0.0)", [(6,), (4,)]),
    ("np.interp(x, np.array([0.0, 1.0]), y * 2.0, right=-1.0)", [(), (2,)])])
def interp(ans, x, xp, fp, dans, *, left=None, right=None, period=None):
    dx, dfp = uninterp(dans, x, xp, fp, left, right)


@tangent(np.interp)
def interp_tangent_rule(ans, x, xp, fp, dx, dfp, *, left=None, right=None, period=None):
    dans = interp_tangent(dx, x, xp, fp, dfp, left, right)


# -- more reductions that skip NaN -------------------------------------------------------

@adjoint(np.nanprod, domain=(A,), sympy="numpy", examples=[
    ("np.nanprod(x)", [(4,)]), ("np.nanprod(np.where(np.arange(6).reshape(2, 3) == 1, np.nan, x), axis=1)", [(2, 3)])])
def nanprod(ans, x, dans, *, axis=None, keepdims=False):
    dx = np.where(np.isnan(x), 0.0, unprod(dans, np.where(np.isnan(x), 1.0, x), axis=axis, keepdims=keepdims))


@adjoint(np.nanvar, domain=(R,), sympy="numpy", examples=[
    ("np.nanvar(x)", [(5,)]), ("np.nanvar(np.where(np.arange(12).reshape(4, 3) % 4 == 1, np.nan, x), axis=0, ddof=1)",
                               [(4, 3)])])
def nanvar(ans, x, dans, *, axis=None, ddof=0, keepdims=False):
    kept = np.logical_not(np.isnan(x))
    centered = np.where(kept, x - np.nanmean(x, axis=axis, keepdims=True), 0.0)
    dx = unsum(dans, x, axis=axis, keepdims=keepdims) * 2.0 * centered / (np.sum(kept, axis=axis, keepdims=True) - ddof)


@adjoint(np.nanstd, domain=(R,), why="a square root of np.nanvar, which SymPy proves: finite differences here", examples=[
    ("np.nanstd(x)", [(5,)]), ("np.nanstd(np.where(np.arange(12).reshape(4, 3) % 4 == 1, np.nan, x), axis=1)",
                               [(4, 3)])])
def nanstd(ans, x, dans, *, axis=None, ddof=0, keepdims=False):          # (0 where the std is 0, as np.std's)
    kept = np.logical_not(np.isnan(x))
    centered = np.where(kept, x - np.nanmean(x, axis=axis, keepdims=True), 0.0)
    half = np.where(ans == 0, 0.0, dans / np.where(ans == 0, 1.0, ans))
    dx = unsum(half, x, axis=axis, keepdims=keepdims) * centered / (np.sum(kept, axis=axis, keepdims=True) - ddof)


@tangent(np.nanprod)
def nanprod_tangent(ans, x, dx, *, axis=None, keepdims=False):
    dans = np.sum(unprod(np.ones_like(ans), np.where(np.isnan(x), 1.0, x), axis=axis, keepdims=keepdims)
                  * np.where(np.isnan(x), 0.0, dx), axis=axis, keepdims=keepdims)


@tangent(np.nanvar)
def nanvar_tangent(ans, x, dx, *, axis=None, ddof=0, keepdims=False):
    kept = np.logical_not(np.isnan(x))
    centered = np.where(kept, x - np.nanmean(x, axis=axis, keepdims=True), 0.0)
    dans = 2.0 * np.sum(centered * np.where(kept, dx, 0.0), axis=axis, keepdims=keepdims) \
        / (np.sum(kept, axis=axis, keepdims=keepdims) - ddof)


@tangent(np.nanstd)
def nanstd_tangent(ans, x, dx, *, axis=None, ddof=0, keepdims=False):
    kept = np.logical_not(np.isnan(x))
    centered = np.where(kept, x - np.nanmean(x, axis=axis, keepdims=True), 0.0)
    dans = np.sum(centered * np.where(kept, dx, 0.0), axis=axis, keepdims=keepdims) \
        / ((np.sum(kept, axis=axis, keepdims=keepdims) - ddof) * np.where(ans == 0, 1.0, ans))
