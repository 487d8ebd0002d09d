"""Reverse rules of the generated code's own helpers, so that a gradient can be
differentiated again in reverse mode (a vjp of a gradient, a Hessian by reverse over
reverse).

The helpers the reverse sweep calls are linear in the adjoint they carry (`g`) and
read their other arguments for shapes, positions or ties only; each one's adjoint is
its transpose, which is again a helper or a NumPy call. The matrix-product helpers
are linear in two arguments: they are the partial derivatives of the trilinear form
<g, x @ y>, so their adjoints are the other partials of the same form. Forward
mode's helpers (`broadcast_like`, `max_tangent`) are the transposes of
`unbroadcast` and `unmax`. Each template reads like the @adjoint rules in
numpy.py: `dans` is the result's adjoint, `d<arg>` an argument's. The examples are
calls the tests differentiate (tests/test_higher.py).
"""
import numpy as np

from . import transpose
from ..runtime import (add_at, broadcast_like, dot_dleft, dot_dright, matmul_dleft,  # noqa: F401
                       matmul_dright, max_tangent, uncumsum, unbroadcast, unindex, unmax, unsum,
                       untranspose)

NO_DERIVATIVE = {"zero_grad", "zero_tangent", "common_length"}   # results that do not vary


@transpose(unbroadcast, examples=[("unbroadcast(x, y)", [(4, 3), (3,)]), ("unbroadcast(x, y)", [(4, 3), (4, 1)]),
                                  ("unbroadcast(x, y)", [(), (2, 3)]), ("unbroadcast(x, y)", [(3, 1), (1, 2)])])
def unbroadcast_t(ans, g, x, dans):
    dg = unbroadcast(dans, g)


@transpose(broadcast_like, examples=[("broadcast_like(x, y)", [(3,), (4, 3)]), ("broadcast_like(x, y)", [(), (3,)])])
def broadcast_like_t(ans, t, y, dans):
    dt = unbroadcast(dans, t)


@transpose(unsum, examples=[("unsum(x, y)", [(), (4, 3)]), ("unsum(x, y, axis=0)", [(3,), (4, 3)]),
                            ("unsum(x, y, axis=1, keepdims=True)", [(4, 1), (4, 3)])])
def unsum_t(ans, g, x, dans, *, axis=None, keepdims=False):
    dg = unbroadcast(np.sum(dans, axis=axis, keepdims=keepdims), g)


@transpose(untranspose, examples=[("untranspose(x)", [(4, 3)]), ("untranspose(x, axes=(1, 2, 0))", [(3, 4, 2)])])
def untranspose_t(ans, g, dans, *, axes=None):
    dg = np.transpose(dans, axes)


@transpose(uncumsum, examples=[("uncumsum(x, y, axis=0)", [(4, 3), (4, 3)]), ("uncumsum(x, y)", [(6,), (2, 3)])])
def uncumsum_t(ans, g, x, dans, *, axis=None):
    dg = np.cumsum(dans, axis=axis)


@transpose(unmax, examples=[("unmax(x, y, np.max(y, axis=0), axis=0)", [(3,), (4, 3)]),
                            ("unmax(x, y, np.max(y))", [(), (5,)])])
def unmax_t(ans, g, x, top, dans, *, axis=None, keepdims=False):
    dg = max_tangent(dans, x, top, axis=axis, keepdims=keepdims)


@transpose(max_tangent, examples=[("max_tangent(x, y, np.max(y, axis=1), axis=1)", [(4, 3), (4, 3)])])
def max_tangent_t(ans, t, x, top, dans, *, axis=None, keepdims=False):
    dt = unmax(dans, x, top, axis=axis, keepdims=keepdims)


@transpose(matmul_dleft, examples=[("matmul_dleft(x, y, z)", [(4, 2), (4, 3), (3, 2)]),
                                   ("matmul_dleft(x, y, z)", [(4,), (4, 3), (3,)]),
                                   ("matmul_dleft(x, y, z)", [(2,), (3,), (3, 2)]),
                                   ("matmul_dleft(x, y, z)", [(2, 4, 5), (4, 3), (2, 3, 5)])])
def matmul_dleft_t(ans, g, x, y, dans):
    dg = unbroadcast(np.matmul(dans, y), g)
    dy = matmul_dright(g, dans, y)


@transpose(matmul_dright, examples=[("matmul_dright(x, y, z)", [(4, 2), (4, 3), (3, 2)]),
                                    ("matmul_dright(x, y, z)", [(2,), (3,), (3, 2)]),
                                    ("matmul_dright(x, y, z)", [(4,), (4, 3), (3,)]),
                                    ("matmul_dright(x, y, z)", [(2, 4, 5), (2, 4, 3), (3, 5)])])
def matmul_dright_t(ans, g, x, y, dans):
    dg = unbroadcast(np.matmul(x, dans), g)
    dx = matmul_dleft(g, x, dans)


@transpose(dot_dleft, examples=[("dot_dleft(x, y, z)", [(4, 2), (4, 3), (3, 2)]),
                                ("dot_dleft(x, y, z)", [(3,), (3,), ()])])
def dot_dleft_t(ans, g, x, y, dans):
    dg = unbroadcast(np.dot(dans, y), g)
    dy = dot_dright(g, dans, y)


@transpose(dot_dright, examples=[("dot_dright(x, y, z)", [(4, 2), (4, 3), (3, 2)]),
                                 ("dot_dright(x, y, z)", [(3,), (), (3,)])])
def dot_dright_t(ans, g, x, y, dans):
    dg = unbroadcast(np.dot(x, dans), g)
    dx = dot_dleft(g, x, dans)


@transpose(add_at, examples=[("add_at(x * 1.0, np.array([0, 2, 0]), y)", [(4,), (3,)]),
                             ("add_at(x * 1.0, 1, y)", [(4, 3), (3,)])])
def add_at_t(ans, x, index, g, dans):
    dx = dans
    dg = unbroadcast(dans[index], g)


@transpose(unindex, examples=[("unindex(x, y, np.array([1, 1, 3]))", [(3,), (5,)])])
def unindex_t(ans, g, x, index, dans):
    dg = unbroadcast(dans[index], g)
