"""Rules of products and of np.linalg: adjoint templates, one small function each.

SymPy counterparts: products run on arrays of symbols; the decompositions use
SymPy's own matrices (`M(x)` is `sympy.Matrix(x)`). Decompositions of symmetric
matrices (cholesky, eigh) read one triangle of their input; their adjoints are
symmetrised, the gradient with respect to the symmetric matrix the input stands for
(the tests differentiate `f((a + a.T) / 2)`). eigh assumes distinct eigenvalues.
"""
import numpy as np

from .table import adjoint, tangent
from ..runtime import (cholesky_adjoint, cofactor, dot_dleft, dot_dright, eigh_adjoint, eigh_tangent,  # noqa: F401
                       pinv_adjoint, solve_adjoint, uneinsum, unkron, unnorm, untensordot, unsvd,
                       svd_values_tangent, unqr, qr_tangent, uneigvals, eigvals_tangent, unlstsq, like_result,
                       from_triangle, to_triangle, uneig, eig_tangent, svd_tangent, pinv_tangent, lstsq_tangent)

R, W = "real", "wellcond"


@adjoint(np.dot, complex=True, linear=("x", "y"), methods=("dot",), domain=(R, R), sympy="numpy", examples=[
    ("np.dot(x, y)", [(4, 3), (3, 2)]), ("np.dot(x, y)", [(3,), (3,)]), ("np.dot(x, y)", [(4, 3), (3,)]),
    ("np.dot(x, y)", [(), (3,)]), ("x.dot(y)", [(2, 3), (3, 4)])])
def dot(ans, x, y, dans):
    dx = dot_dleft(dans, x, y)
    dy = dot_dright(dans, x, y)


@adjoint(np.vdot, complex=True, linear=("x", "y"), domain=(R, R), sympy="numpy", examples=[
    ("np.vdot(x, y)", [(2, 3), (6,)]), ("np.vdot(x, y * x)", [(3,), (3,)])])
def vdot(ans, x, y, dans):              # sum(conj(x) * y): conjugate-linear in x
    dx = np.reshape(np.conj(dans * np.ravel(y)), np.shape(x))
    dy = np.reshape(dans * np.conj(np.ravel(x)), np.shape(y))


@adjoint(np.inner, complex=True, linear=("x", "y"), domain=(R, R), sympy="numpy", examples=[
    ("np.inner(x, y)", [(3,), (3,)]), ("np.inner(x, y)", [(2, 3), (4, 3)])])
def inner(ans, x, y, dans):
    dx, dy = untensordot(dans, x, y, ([-1], [-1]))


@adjoint(np.outer, complex=True, linear=("x", "y"), domain=(R, R), sympy="numpy", examples=[("np.outer(x, y)", [(3,), (4,)]), ("np.outer(x, y)", [(2, 2), (3,)])])
def outer(ans, x, y, dans):
    dx = np.reshape(dans @ np.ravel(y), np.shape(x))
    dy = np.reshape(np.ravel(x) @ dans, np.shape(y))


@adjoint(np.tensordot, complex=True, linear=("x", "y"), domain=(R, R), sympy="numpy", examples=[
    ("np.tensordot(x, y)", [(2, 3, 4), (3, 4, 2)]), ("np.tensordot(x, y, axes=1)", [(2, 3), (3, 4)]),
    ("np.tensordot(x, y, axes=((0, 2), (2, 0)))", [(2, 3, 4), (4, 5, 2)])])
def tensordot(ans, x, y, dans, *, axes=2):
    dx, dy = untensordot(dans, x, y, axes)


@adjoint(np.einsum, complex=True, view=True, linear=("x", "y", "z"), domain=(R, R, R), sympy="numpy", examples=[
    ("np.einsum('ij,jk->ik', x, y)", [(2, 3), (3, 4)]), ("np.einsum('ij,ij->i', x, y)", [(2, 3), (2, 3)]),
    ("np.einsum('i,j,k->ijk', x, y, z)", [(2,), (3,), (2,)]), ("np.einsum('ij->j', x)", [(3, 4)]),
    ("np.einsum('ij,jk', x, y)", [(2, 3), (3, 4)])])
def einsum(ans, subscripts, x, y=None, z=None, dans=None):
    dx = uneinsum(dans, subscripts, [x, y, z], 0)
    dy = uneinsum(dans, subscripts, [x, y, z], 1)
    dz = uneinsum(dans, subscripts, [x, y, z], 2)


@adjoint(np.kron, complex=True, linear=("x", "y"), domain=(R, R), sympy="numpy", examples=[("np.kron(x, y)", [(2, 2), (2, 3)]), ("np.kron(x, y)", [(2,), (3,)])])
def kron(ans, x, y, dans):
    dx, dy = unkron(dans, x, y)


@adjoint(np.linalg.inv, complex=True, domain=(W,), sympy="np.array(M(x).inv())", examples=[("np.linalg.inv(x)", [(3, 3)]),
                                                                          ("np.linalg.inv(x)[0]", [(2, 2, 2)])])
def inv(ans, x, dans):
    dx = -(np.swapaxes(ans, -1, -2) @ dans @ np.swapaxes(ans, -1, -2))


@adjoint(np.linalg.det, complex=True, domain=(W,), sympy="M(x).det()", examples=[("np.linalg.det(x)", [(3, 3)]),
                                                                   ("np.linalg.det(x)[1]", [(2, 2, 2)])])
# (the cofactor matrix, not det(x) inv(x).T: it is det's gradient at singular matrices too)
def det(ans, x, dans):
    dx = np.expand_dims(dans, (-1, -2)) * cofactor(x)


@adjoint(np.linalg.slogdet, fields=("sign", "logabsdet"), domain=(W,), sympy="(sign(M(x).det()), log(abs(M(x).det())))", outputs=2,
         examples=[("np.linalg.slogdet(x)[1]", [(3, 3)]), ("np.linalg.slogdet(x)[0] * 2.0", [(2, 2)])])
def slogdet(ans, x, dans):
    dx = np.expand_dims(dans[1], (-1, -2)) * np.swapaxes(np.linalg.inv(x), -1, -2)


@adjoint(np.linalg.solve, complex=True, domain=(W, R), sympy="np.array(M(x).LUsolve(M(y))).reshape(y.shape)", examples=[
    ("np.linalg.solve(x, y)", [(3, 3), (3,)]), ("np.linalg.solve(x, y)", [(3, 3), (3, 2)]),
    ("np.linalg.solve(x, y)", [(2, 3, 3), (2, 3, 2)])])
def solve(ans, x, y, dans):
    dx, dy = solve_adjoint(dans, x, y, ans)


# -- forward mode's own rules (the others' tangents come from their partials) ---------

@tangent(np.linalg.inv)
def inv_tangent(ans, x, dx):
    dans = -(ans @ dx @ ans)


@tangent(np.linalg.det)
def det_tangent(ans, x, dx):
    dans = np.sum(cofactor(x) * dx, axis=(-2, -1))


@tangent(np.linalg.slogdet)
def slogdet_tangent(ans, x, dx):
    dans = (0.0 * ans[0], np.sum(np.swapaxes(np.linalg.inv(x), -1, -2) * dx, axis=(-2, -1)))


@tangent(np.linalg.solve)
def solve_tangent(ans, x, y, dx, dy):
    dans = np.linalg.solve(x, dy - dx @ ans)


@adjoint(np.linalg.cholesky, domain=("spd",), sympy="np.array(M(x).cholesky(hermitian=False))",
         examples=[("np.linalg.cholesky(x)", [(3, 3)])])
def cholesky(ans, x, dans):
    dx = to_triangle(cholesky_adjoint(dans, ans))             # (it reads the lower triangle)


@adjoint(np.linalg.eigh, fields=("eigenvalues", "eigenvectors"), domain=("spd",), why="eigenvectors have no closed form SymPy can differentiate "
         "beyond 2x2; proven by finite differences, on symmetric inputs with distinct eigenvalues",
         outputs=2, examples=[("np.linalg.eigh(x)[0]", [(3, 3)]), ("np.linalg.eigh(x)[1] ** 2", [(3, 3)]),
                              ("np.linalg.eigh(x, 'U')[0]", [(3, 3)])])
def eigh(ans, x, dans, *, UPLO="L"):       # (either triangle: the input stands for the symmetric matrix)
    dx = to_triangle(eigh_adjoint(dans[0], dans[1], ans[0], ans[1]), UPLO == "L")


@adjoint(np.linalg.eigvalsh, domain=("spd",), why="eigenvalues have no closed form SymPy can differentiate "
         "beyond 2x2; proven by finite differences, on symmetric inputs with distinct eigenvalues",
         examples=[("np.linalg.eigvalsh(x)", [(3, 3)]), ("np.linalg.eigvalsh(x) ** 2", [(4, 4)])])
def eigvalsh(ans, x, dans, *, UPLO="L"):
    dx = to_triangle(eigh_adjoint(dans, None, ans, np.linalg.eigh(x, UPLO)[1]), UPLO == "L")   # (vectors: again)


@tangent(np.linalg.eigvalsh)
def eigvalsh_tangent_rule(ans, x, dx, *, UPLO="L"):
    dans = eigh_tangent(from_triangle(dx, UPLO == "L"), ans, np.linalg.eigh(x, UPLO)[1])[0]


@tangent(np.linalg.cholesky)
def cholesky_tangent(ans, x, dx):
    inner = np.linalg.solve(ans, np.swapaxes(np.linalg.solve(ans, from_triangle(dx)), -1, -2))
    dans = ans @ (np.tril(inner, -1) + 0.5 * np.eye(np.shape(x)[-1]) * inner)


@tangent(np.linalg.eigh)
def eigh_tangent_rule(ans, x, dx, *, UPLO="L"):
    dans = like_result(eigh_tangent(from_triangle(dx, UPLO == "L"), ans[0], ans[1]), ans)


@adjoint(np.linalg.pinv, domain=(R,), sympy="np.array(M(x).pinv())", examples=[
    ("np.linalg.pinv(x)", [(3, 2)]), ("np.linalg.pinv(x)", [(2, 3)])])
def pinv(ans, x, dans):
    dx = pinv_adjoint(dans, x, ans)


@tangent(np.linalg.pinv)
def pinv_tangent_rule(ans, x, dx):
    dans = pinv_tangent(dx, x, ans)


@adjoint(np.linalg.norm, result="real", domain=("away",), why="SymPy cannot run np.linalg.norm on arrays of symbols, and "
         "the spectral, 1 and inf norms are maxima: proven by finite differences", examples=[
    ("np.linalg.norm(x)", [(4,)]), ("np.linalg.norm(x)", [(3, 2)]), ("np.linalg.norm(x, 1)", [(4,)]),
    ("np.linalg.norm(x, np.inf)", [(4,)]), ("np.linalg.norm(x, axis=1)", [(3, 4)]),
    ("np.linalg.norm(x, 3)", [(4,)]), ("np.linalg.norm(x, 2)", [(3, 3)]),
    ("np.linalg.norm(x, 'fro', keepdims=True)", [(2, 3)]), ("np.linalg.norm(x, 0) + np.sum(x)", [(3,)]),
    ("np.linalg.norm(x, -np.inf)", [(4,)]), ("np.linalg.norm(x, 'nuc')", [(3, 2)]),
    ("np.linalg.norm(x, -2, axis=(2, 0))", [(3, 2, 2)])])
def norm(ans, x, dans, *, ord=None, axis=None, keepdims=False):
    dx = unnorm(dans, x, ans, ord=ord, axis=axis, keepdims=keepdims)


@tangent(np.linalg.norm)
def norm_tangent(ans, x, dx, *, ord=None, axis=None, keepdims=False):
    dans = np.sum(unnorm(np.ones_like(ans), x, ans, ord=ord, axis=axis, keepdims=keepdims) * dx,
                  axis=axis, keepdims=keepdims)


# -- decompositions (runtime/decompositions.py): where they are differentiable ----------

def _not_hermitian(statics):
    if statics.get("hermitian"):
        return "np.linalg.svd(..., hermitian=True) has no derivative rule yet", "leave hermitian out"
    if not statics.get("compute_uv", True):      # (lowering writes np.linalg.svd(x, compute_uv=False) as svdvals)
        return "np.linalg.svd(..., compute_uv=False) is np.linalg.svdvals", "write np.linalg.svdvals(x)"
    return None


DECOMPOSED = "a decomposition: proven by finite differences, where it is differentiable (distinct values)"


@adjoint(np.linalg.svd, fields=("U", "S", "Vh"), outputs=3, refuse=_not_hermitian, domain=(R,), why=DECOMPOSED, examples=[
    ("np.linalg.svd(x)[1]", [(3, 2)]), ("np.linalg.svd(x, full_matrices=False)[0] ** 2", [(4, 2)]),
    ("np.linalg.svd(x, full_matrices=False)[2] ** 2", [(2, 4)]), ("np.linalg.svd(x)[0] ** 2", [(3, 3)]),
    ("np.linalg.svd(x)[2][..., 0, :] ** 2", [(2, 3, 3)])])
def svd(ans, x, dans, *, full_matrices=True, compute_uv=True, hermitian=False):
    dx = unsvd(dans[0], dans[1], dans[2], x, ans[0], ans[1], ans[2])


@tangent(np.linalg.svd)
def svd_tangent_rule(ans, x, dx, *, full_matrices=True, compute_uv=True, hermitian=False):
    dans = like_result(svd_tangent(dx, ans[0], ans[1], ans[2]), ans)


@adjoint(np.linalg.svdvals, domain=(R,), why=DECOMPOSED, examples=[
    ("np.linalg.svdvals(x)", [(3, 2)]), ("np.linalg.svdvals(x) ** 2", [(2, 4)]), ("np.linalg.svdvals(x)", [(2, 3, 3)])])
def svdvals(ans, x, dans):
    parts = np.linalg.svd(x, full_matrices=False)
    dx = unsvd(None, dans, None, x, parts[0], ans, parts[2])


@tangent(np.linalg.svdvals)
def svdvals_tangent(ans, x, dx):
    parts = np.linalg.svd(x, full_matrices=False)
    dans = svd_values_tangent(dx, parts[0], parts[2])


def _reduced(statics):
    if statics.get("mode", "reduced") != "reduced":
        return "np.linalg.qr has a derivative rule for mode='reduced' only", "leave mode out"
    return None


@adjoint(np.linalg.qr, fields=("Q", "R"), outputs=2, refuse=_reduced, domain=(R,), why=DECOMPOSED, examples=[
    ("np.linalg.qr(x)[0]", [(4, 3)]), ("np.linalg.qr(x)[1]", [(3, 3)]), ("np.linalg.qr(x)[0] @ np.linalg.qr(x)[1]", [(3, 2)]),
    ("np.linalg.qr(x)[1]", [(2, 4, 3)])])
def qr(ans, x, dans, *, mode="reduced"):
    dx = unqr(dans[0], dans[1], x, ans[0], ans[1])


@tangent(np.linalg.qr)
def qr_tangent_rule(ans, x, dx, *, mode="reduced"):
    dans = like_result(qr_tangent(dx, ans[0], ans[1]), ans)


@adjoint(np.linalg.eigvals, complex=True, result="complex", domain=(R,), why=DECOMPOSED, examples=[
    ("np.real(np.linalg.eigvals(x))", [(3, 3)]), ("np.imag(np.linalg.eigvals(x)) ** 2", [(3, 3)]),
    ("np.abs(np.linalg.eigvals(x))", [(2, 2, 2)])])
def eigvals(ans, x, dans):
    dx = uneigvals(dans, x)


@tangent(np.linalg.eigvals)
def eigvals_tangent_rule(ans, x, dx):
    dans = eigvals_tangent(dx, x)


@adjoint(np.linalg.eig, fields=("eigenvalues", "eigenvectors"), outputs=2, complex=True, result="complex", domain=(R,), why=DECOMPOSED, examples=[
    ("np.real(np.linalg.eig(x)[0])", [(3, 3)]), ("np.abs(np.linalg.eig(x)[0])", [(2, 2)])])
def eig(ans, x, dans):                  # (its eigenvalues; the vectors have no derivative: refused)
    dx = uneig(dans[0], dans[1], x)


@tangent(np.linalg.eig)
def eig_tangent_rule(ans, x, dx):
    dans = like_result(eig_tangent(dx, x), ans)


@adjoint(np.linalg.lstsq, outputs=4, domain=(R, R), why="the least-squares solution pinv(a) @ b of a full-rank a, "
         "and its residuals: proven by finite differences", examples=[
    ("np.linalg.lstsq(x, y)[0]", [(4, 2), (4,)]), ("np.linalg.lstsq(x, y, rcond=None)[0]", [(4, 2), (4, 3)]),
    ("np.linalg.lstsq(x, y)[1]", [(5, 2), (5,)]), ("np.linalg.lstsq(x, y)[0]", [(2, 4), (2,)]),
    ("np.linalg.lstsq(x, y)[3]", [(4, 3), (4,)])])
def lstsq(ans, x, y, dans, *, rcond=None):
    dx, dy = unlstsq(dans[0], dans[1], dans[3], x, y, ans[0], ans[2])


@tangent(np.linalg.lstsq)
def lstsq_tangent_rule(ans, x, y, dx, dy, *, rcond=None):
    dans = lstsq_tangent(dx, dy, x, y, ans[0], ans[2])
