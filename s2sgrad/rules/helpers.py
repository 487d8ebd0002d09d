"""Rules of the generated code's own helpers, so that a gradient can be differentiated
again: reverse rules (a vjp of a gradient, reverse over reverse) and forward rules
(Hessians, forward over reverse).

Forward mode applies a helper that is linear in its adjoint to the adjoint's tangent
(the positions its definition declares: `@helper(linear=(0,))` in runtime/); the
others get an @tangent rule here.

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

from .table import tangent, transpose
from ..runtime import (add_at, broadcast_like, cholesky_adjoint, cholesky_adjoint_tangent, uncholesky, uncholesky_tangent, dot_dleft, dot_dright, matmul_dleft,  # noqa: F401
                       cofactor, cofactor_tangent,
                       matmul_dright, max_tangent, resum, solve_adjoint, solve_adjoint_tangent, unaverage,
                       unaverage_tangent, uncumsum, unbroadcast, undiag, undiagonal, uneinsum,
                       uneinsum_tangent, unindex, unkron, unmax, unnorm, unnorm_tangent, unpad, pad_tangent,
                       unprod, unprod_tangent, unrepeat, unroll, unsort, unstd, unsum, untake,
                       untake_along_axis, untensordot, untile, untrace, untranspose, unvar, uncumprod,
                       uncumprod_tangent, pinv_adjoint, pinv_adjoint_tangent, eigh_adjoint,
                       eigh_adjoint_tangent, triangle, covariance_matrix, uncovariance, unsolve_banded,
                       unsolve_banded_tangent, uncho_factor, uncho_factor_tangent, uncho_solve, uncho_solve_tangent,
                       unlu_factor, unlu_factor_tangent, unlu_solve, unlu_solve_tangent, undirichlet,
                       undirichlet_tangent, unsvd, unsvd_tangent, uneigvals, uneigvals_tangent, unqr, unqr_tangent, uneig,
                       uneig_tangent, unlstsq, unlstsq_tangent, norm_operand, unodeint, unodeint_tangent,
                       unsolve_ivp, unsolve_ivp_tangent, as_column, one_item, stored, cast_into, uninterp,
                       uninterp_tangent)

# Helpers whose results do not vary (zeros, a length). activity.differentiable_positions
# takes every other helper with no reverse rule to depend on all its arguments, so that
# reverse mode refuses it (NoHelperRuleError) instead of taking it for a constant.
NO_DERIVATIVE = {"zero_grad", "zero_tangent", "common_length", "dict_keys"}


@transpose(unbroadcast, examples=[("unbroadcast(x, y)", [(4, 3), (3,)]), ("unbroadcast(x, y)", [(4, 3), (4, 1)]),
                                  ("unbroadcast(x, y)", [(), (2, 3)]), ("unbroadcast(x, y)", [(3, 1), (1, 2)])])
def unbroadcast_t(ans, g, x, dans):
    dg = unbroadcast(dans, g)


@transpose(broadcast_like, examples=[("broadcast_like(x, y)", [(3,), (4, 3)]), ("broadcast_like(x, y)", [(), (3,)])])
def broadcast_like_t(ans, t, y, dans):
    dt = unbroadcast(dans, t)


@transpose(unsum, examples=[("unsum(x, y)", [(), (4, 3)]), ("unsum(x, y)", [(3,), (4, 3)]), ("unsum(x, y, axis=0)", [(3,), (4, 3)]),
                            ("unsum(x, y, axis=1, keepdims=True)", [(4, 1), (4, 3)])])
def unsum_t(ans, g, x, dans, *, axis=None, keepdims=False):
    dg = resum(dans, g, axis=axis, keepdims=keepdims)


@transpose(as_column, examples=[("as_column(x)", [(3,)]), ("as_column(x)", [()]), ("as_column(x)", [(2, 3)])])
def as_column_t(ans, x, dans):
    dx = np.reshape(dans, np.shape(x))


@transpose(stored, examples=[("stored(x, y)", [(3,), (4,)])])
def stored_t(ans, g, into, dans):
    dg = stored(dans, into)


@transpose(cast_into, examples=[("cast_into(x, y)", [(3,), (4,)])])
def cast_into_t(ans, v, into, dans):          # (a value stored into integers: the store casts it)
    dv = stored(dans, into)


@tangent(cast_into)
def cast_into_tangent(ans, v, into, dv, dinto):
    dans = stored(dv, into)


@transpose(one_item, examples=[("one_item(x)", [(3,)])])
def one_item_t(ans, x, dans):
    dx = dans


@transpose(norm_operand, examples=[("norm_operand(x)", [(3,)]), ("norm_operand(x, 2, 0)", [(2, 3)])])
def norm_operand_t(ans, x, ord=None, axis=None, dans=None):
    dx = dans


@transpose(covariance_matrix, examples=[("covariance_matrix(x, 3)", [(3, 3)]), ("covariance_matrix(x, 3)", [(3,)]),
                                        ("covariance_matrix(x, 2)", [()])])
def covariance_matrix_t(ans, cov, d, dans):
    dcov = uncovariance(dans, cov)


@transpose(uncovariance, examples=[("uncovariance(x, y)", [(3, 3), (3, 3)]), ("uncovariance(x, y)", [(3, 3), (3,)])])
def uncovariance_t(ans, g, cov, dans):
    dg = covariance_matrix(dans, np.shape(g)[-1])


@transpose(triangle, examples=[("triangle(x, lower=True)", [(3, 3)]), ("triangle(x)", [(3, 3)])])
def triangle_t(ans, a, dans, *, lower=False):
    da = triangle(dans, lower=lower)


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


@tangent(add_at)
def add_at_tangent(ans, x, index, g, dx, dg):
    dans = add_at(dx, index, dg)        # linear in x and g together: x + g at index


@transpose(unindex, examples=[("unindex(x, y, np.array([1, 1, 3]))", [(3,), (5,)])])
def unindex_t(ans, g, x, index, dans):
    dg = unbroadcast(dans[index], g)


@transpose(untrace, examples=[("untrace(x, y, offset=1)", [(), (3, 4)]), ("untrace(x, y)", [(2,), (3, 3, 2)])])
def untrace_t(ans, g, x, dans, *, offset=0):
    dg = np.trace(dans, offset=offset)


@transpose(unroll, examples=[("unroll(x, 2, 0)", [(5, 2)]), ("unroll(x, -1, None)", [(2, 3)])])
def unroll_t(ans, g, shift, axis, dans):
    dg = np.roll(dans, shift, axis)


@transpose(untile, examples=[("untile(x, y, (2, 1))", [(4, 3), (2, 3)])])
def untile_t(ans, g, x, reps, dans):
    dg = np.tile(dans, reps)


@transpose(unrepeat, examples=[("unrepeat(x, y, 2, axis=0)", [(6, 2), (3, 2)]), ("unrepeat(x, y, 3)", [(6,), (2,)])])
def unrepeat_t(ans, g, x, repeats, dans, *, axis=None):
    dg = np.repeat(dans, repeats, axis=axis)


@transpose(unpad, examples=[("unpad(x, y, 1, 'constant')", [(5, 4), (3, 2)]),
                            ("unpad(x, y, ((1, 2), (2, 0)), 'reflect')", [(6, 5), (3, 3)]),
                            ("unpad(x, y, ((1, 2), (2, 1)), 'median')", [(6, 6), (3, 3)]),
                            ("unpad(x, y, 2, 'mean', 1)", [(6,), (2,)])])
def unpad_t(ans, g, x, pad_width, mode, stat_length=None, dans=None):
    dg = pad_tangent(dans, x, pad_width, mode, stat_length)


@transpose(undiagonal, examples=[("undiagonal(x, y, offset=1)", [(2,), (3, 3)])])
def undiagonal_t(ans, g, x, dans, *, offset=0, axis1=0, axis2=1):
    dg = np.diagonal(dans, offset=offset, axis1=axis1, axis2=axis2)


@transpose(undiag, examples=[("undiag(x, y)", [(3, 3), (3,)]), ("undiag(x, y, k=1)", [(2,), (3, 3)])])
def undiag_t(ans, g, x, dans, *, k=0):
    dg = np.diag(dans, k=k)


@transpose(untake, examples=[("untake(x, y, np.array([0, 2, 2]), axis=0)", [(3, 2), (4, 2)])])
def untake_t(ans, g, x, indices, dans, *, axis=None):
    dg = np.take(dans, indices, axis=axis)


@transpose(untake_along_axis, examples=[("untake_along_axis(x, y, np.array([[0, 0], [1, 0]]), 1)", [(2, 2), (2, 3)])])
def untake_along_axis_t(ans, g, x, indices, axis, dans):
    dg = np.take_along_axis(dans, indices, axis)


@transpose(unvar, examples=[("unvar(x, y, axis=0)", [(3,), (4, 3)]), ("unvar(x, y, ddof=1)", [(), (5,)])])
def unvar_t(ans, g, x, dans, *, axis=None, ddof=0, keepdims=False):
    dg = unbroadcast(np.sum(dans * unvar(1.0, x, axis=axis, ddof=ddof, keepdims=True), axis=axis,
                            keepdims=keepdims), g)
    dx = unvar(g, dans, axis=axis, ddof=ddof, keepdims=keepdims)


# -- forward rules of the helpers that are not linear in their adjoint alone ------------

@tangent(unstd)
def unstd_tangent(ans, g, x, top, dg, dx, dtop, *, axis=None, ddof=0, keepdims=False):
    dans = unstd(dg - g * dtop / np.where(top == 0, 1.0, top), x, top, axis=axis, ddof=ddof, keepdims=keepdims) + \
        unstd(g, dx, top, axis=axis, ddof=ddof, keepdims=keepdims)


@tangent(unprod)
def unprod_tangent_rule(ans, g, x, dg, dx, *, axis=None, keepdims=False):
    dans = unprod_tangent(dg, dx, g, x, axis=axis, keepdims=keepdims)


@tangent(unnorm)
def unnorm_tangent_rule(ans, g, x, top, dg, dx, dtop, *, ord=None, axis=None, keepdims=False):
    dans = unnorm_tangent(dg, dx, dtop, g, x, top, ord=ord, axis=axis, keepdims=keepdims)


@tangent(untensordot)
def untensordot_tangent(ans, g, x, y, axes, dg, dx, dy):
    along_g = untensordot(dg, x, y, axes)       # bilinear parts: each adjoint in g and the other
    along_xy = untensordot(g, dx, dy, axes)
    dans = (along_g[0] + along_xy[0], along_g[1] + along_xy[1])


@tangent(unkron)
def unkron_tangent(ans, g, x, y, dg, dx, dy):
    along_g = unkron(dg, x, y)
    along_xy = unkron(g, dx, dy)
    dans = (along_g[0] + along_xy[0], along_g[1] + along_xy[1])


@tangent(uneinsum)
def uneinsum_tangent_rule(ans, g, subscripts, operands, i, dg, doperands):
    dans = uneinsum_tangent(dg, g, subscripts, operands, doperands, i)


@tangent(unaverage)
def unaverage_tangent_rule(ans, g, x, weights, dg, dx, dweights, *, axis=None):
    dans = unaverage_tangent(dg, dx, dweights, g, x, weights, axis=axis)


@tangent(solve_adjoint)
def solve_adjoint_tangent_rule(ans, g, x, y, top, dg, dx, dy, dtop):
    dans = solve_adjoint_tangent(dg, dx, dtop, g, x, top)


@tangent(uncumprod)
def uncumprod_tangent_rule(ans, g, x, top, dg, dx, dtop, *, axis=None):
    dans = uncumprod_tangent(dg, dx, dtop, g, x, top, axis=axis)


@tangent(cholesky_adjoint)
def cholesky_adjoint_tangent_rule(ans, g, lower, dg, dlower):
    dans = cholesky_adjoint_tangent(dg, dlower, g, lower)


@tangent(uncholesky)
def uncholesky_tangent_rule(ans, g, factor, lower, dg, dfactor):
    dans = uncholesky_tangent(dg, dfactor, g, factor, lower)


@tangent(pinv_adjoint)
def pinv_adjoint_tangent_rule(ans, g, a, top, dg, da, dtop):
    dans = pinv_adjoint_tangent(dg, da, dtop, g, a, top)


@tangent(eigh_adjoint)
def eigh_adjoint_tangent_rule(ans, gw, gv, w, v, dgw, dgv, dw, dv):
    dans = eigh_adjoint_tangent(dgw, dgv, dw, dv, gw, gv, w, v)


@tangent(cofactor)
def cofactor_tangent_rule(ans, x, dx):
    dans = cofactor_tangent(dx, x)


@tangent(unsolve_banded)
def unsolve_banded_tangent_rule(ans, g, l_and_u, ab, b, x, dg, dl_and_u, dab, db, dx):
    dans = unsolve_banded_tangent(dg, dab, db, dx, g, l_and_u, ab, b, x)


@tangent(uncho_factor)
def uncho_factor_tangent_rule(ans, g, a, c, lower, dg, da, dc, dlower):
    dans = uncho_factor_tangent(dg, dc, g, c, lower)


@tangent(uncho_solve)
def uncho_solve_tangent_rule(ans, g, c, lower, b, x, dg, dc, dlower, db, dx):
    dans = uncho_solve_tangent(dg, dc, dx, g, c, lower, x)


@tangent(unlu_factor)
def unlu_factor_tangent_rule(ans, g, lu, piv, dg, dlu, dpiv):
    dans = unlu_factor_tangent(dg, dlu, g, lu, piv)


@tangent(unlu_solve)
def unlu_solve_tangent_rule(ans, g, lu, piv, b, x, trans, dg, dlu, dpiv, db, dx, dtrans):
    dans = unlu_solve_tangent(dg, dlu, dx, g, lu, piv, x, trans)


@tangent(undirichlet)
def undirichlet_tangent_rule(ans, g, x, alpha, dg, dx, dalpha):
    dans = undirichlet_tangent(dg, dx, dalpha, g, x, alpha)


@tangent(unsvd)
def unsvd_tangent_rule(ans, gu, gs, gvh, a, u, s, vh, dgu, dgs, dgvh, da, du, ds, dvh):
    dans = unsvd_tangent(dgu, dgs, dgvh, da, du, ds, dvh, gu, gs, gvh, a, u, s, vh)


@tangent(uneigvals)
def uneigvals_tangent_rule(ans, g, a, dg, da):
    dans = uneigvals_tangent(dg, da, g, a)


@tangent(unqr)
def unqr_tangent_rule(ans, gq, gr, a, q, r, dgq, dgr, da, dq, dr):
    dans = unqr_tangent(dgq, dgr, dq, dr, gq, gr, a, q, r)


@tangent(uneig)
def uneig_tangent_rule(ans, gw, gv, a, dgw, dgv, da):
    dans = uneig_tangent(dgw, dgv, da, gw, gv, a)


@tangent(unlstsq)
def unlstsq_tangent_rule(ans, gx, gres, gs, a, b, x, rank, dgx, dgres, dgs, da, db, dx, drank):
    dans = unlstsq_tangent(dgx, dgres, dgs, da, db, dx, gx, gres, gs, a, b, x, rank)


# -- the adjoints of ODE solutions: the adjoint method on the system of the solution and
# its tangent (runtime/integrate.py) ------------------------------------------------------

@tangent(unodeint)
def unodeint_tangent_rule(ans, g, func, y0, t, args, ys, tfirst, rtol, atol, hmax, dg, dfunc, dy0, dt, dargs, dys,
                          dtfirst, drtol, datol, dhmax):
    dans = unodeint_tangent(dg, dy0, dargs, g, func, y0, t, args, ys, tfirst, rtol, atol, hmax)


@tangent(unsolve_ivp)
def unsolve_ivp_tangent_rule(ans, gt, g, fun, t_span, y0, args, t_eval, ts, ys, method, rtol, atol, max_step, dgt,
                             dg, dfun, dt_span, dy0, dargs, dt_eval, dts, dys, dmethod, drtol, datol, dmax_step):
    dans = unsolve_ivp_tangent(dgt, dg, dy0, dargs, gt, g, fun, t_span, y0, args, t_eval, ts, ys, method, rtol, atol,
                               max_step)


@tangent(uninterp)
def uninterp_tangent_rule(ans, g, x, xp, fp, left, right, dg, dx, dxp, dfp, dleft, dright):
    dans = uninterp_tangent(dg, dx, dfp, g, x, xp, fp, left, right)
