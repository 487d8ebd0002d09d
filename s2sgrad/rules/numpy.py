"""Rules of NumPy functions: elementwise partials one line each, then the
structural and linear-algebra ops as adjoint templates.

Conventions at kinks: d|x|/dx is 0 at x = 0; at a tie of np.maximum (or of
the builtin max of two values) each argument gets half of the adjoint; the
adjoint of np.max is shared equally by the entries that tie for the maximum.
The math module's functions on floats share the NumPy rules.
"""
import math

import numpy as np

from . import adjoint, nondifferentiable, partials
from ..runtime import (dot_dleft, dot_dright, unbroadcast, unmax, unsum,  # noqa: F401 (templates)
                       untranspose)

# -- elementwise: the partial derivative(s) of `ans = f(x[, y])` -------------

@partials(np.sin)
@partials(math.sin)
def sin(x): return np.cos(x)


@partials(np.cos)
@partials(math.cos)
def cos(x): return -np.sin(x)


@partials(np.tan)
@partials(math.tan)
def tan(x, ans): return 1 + ans ** 2


@partials(np.exp)
@partials(math.exp)
def exp(x, ans): return ans


@partials(np.log)
@partials(math.log)
def log(x): return 1 / x


@partials(np.sqrt)
@partials(math.sqrt)
def sqrt(x, ans): return 0.5 / ans


@partials(np.tanh)
@partials(math.tanh)
def tanh(x, ans): return 1 - ans ** 2


@partials(np.abs, "np.abs")
@partials(abs)
def abs_(x): return np.sign(x)


@partials(np.maximum)
@partials(max, "max")
def maximum(x, y): return (x > y) + 0.5 * (x == y), (y > x) + 0.5 * (x == y)


@partials(np.minimum)
@partials(min, "min")
def minimum(x, y): return (x < y) + 0.5 * (x == y), (y < x) + 0.5 * (x == y)


@partials(float)
def float_(x): return 1


@adjoint(np.asarray)
def asarray(ans, x, dans, *, dtype=None):
    dx = unbroadcast(dans, x)


@adjoint(np.max)
@adjoint(np.amax, "np.amax")
@adjoint(np.min)
@adjoint(np.amin, "np.amin")
def max_(ans, x, dans, *, axis=None, keepdims=False):
    dx = unmax(dans, x, ans, axis=axis, keepdims=keepdims)


# -- reductions and shapes ------------------------------------------------

@adjoint(np.sum)
def sum_(ans, x, dans, *, axis=None, keepdims=False):
    dx = unsum(dans, x, axis=axis, keepdims=keepdims)


@adjoint(np.mean)
def mean(ans, x, dans, *, axis=None, keepdims=False):
    dx = unsum(dans, x, axis=axis, keepdims=keepdims) * (np.size(ans) / np.size(x))


@adjoint(np.transpose)
def transpose(ans, x, dans, *, axes=None):
    dx = untranspose(dans, axes=axes)


@adjoint(sum)
def sum_of_items(ans, x, dans):
    dx = unsum(dans, x)


@adjoint(np.stack)
def stack(ans, x, dans, *, axis=0):
    dx = np.moveaxis(dans, axis, 0)


@adjoint(np.array)
def array(ans, x, dans, *, dtype=None):
    dx = unbroadcast(dans, x)


@adjoint(np.reshape)
def reshape(ans, x, shape, dans):
    dx = np.reshape(dans, np.shape(x))


@adjoint(np.dot)
def dot(ans, x, y, dans):
    dx = dot_dleft(dans, x, y)
    dy = dot_dright(dans, x, y)


# -- creation, and steps whose derivative is zero wherever it exists --------

for _creator in (np.zeros, np.ones, np.zeros_like, np.ones_like, np.sign, np.floor, np.ceil,
                 np.round, np.trunc, np.moveaxis):
    nondifferentiable(_creator)
