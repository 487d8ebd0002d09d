"""Rules of scipy.linalg, registered once the user's program has imported it
(rules.optional): the matrix exponential, square root and logarithm, triangular,
banded and Sylvester solves, the Cholesky factor (upper by default, as SciPy's), and
SciPy's names for the functions NumPy has (inv, det, pinv, solve, eigh, eigvals, svd,
lstsq, norm), which share NumPy's rules.

expm's adjoint is the Fréchet derivative of expm at the transposed matrix, read
off the exponential of a block matrix [[a.T, g], [0, a.T]] (its top right block),
so its own derivatives come from the same rule. solve_triangular reads one
triangle of its matrix, and its adjoint is kept to that triangle.
"""
try:
    from scipy import linalg
except ImportError:  # SciPy is optional: without it there is nothing to register
    linalg = None

import numpy as np

from .table import adjoint, alias, tangent
from ..runtime import (cholesky_factor_tangent, solve_banded_tangent, triangle,  # noqa: F401 (templates)
                       uncholesky, unsolve_banded, uncho_factor, cho_factor_tangent, uncho_solve, cho_solve_tangent,
                       unlu_factor, lu_factor_tangent, unlu_solve, lu_solve_tangent)

if linalg is not None:
    @adjoint(linalg.expm, domain=("near zero",), why="the exponential of a matrix has no closed form SymPy can "
             "differentiate beyond diagonalisable cases; proven by finite differences",
             examples=[("expm(x)", [(3, 3)]), ("expm(x * 0.5)[0]", [(2, 2)]), ("expm(x)", [(2, 3, 3)])])
    def expm(ans, x, dans):                # (a stack of matrices too: the blocks are stacked)
        n = x.shape[-1]
        turned = np.swapaxes(x, -1, -2)
        block = np.concatenate([np.concatenate([turned, dans], axis=-1),
                                np.concatenate([np.zeros_like(turned), turned], axis=-1)], axis=-2)
        dx = linalg.expm(block)[..., :n, n:]

    @tangent(linalg.expm)
    def expm_tangent(ans, x, dx):
        n = x.shape[-1]
        block = np.concatenate([np.concatenate([x, dx], axis=-1),
                                np.concatenate([np.zeros_like(x), x], axis=-1)], axis=-2)
        dans = linalg.expm(block)[..., :n, n:]

    @adjoint(linalg.solve_triangular, domain=("wellcond", "real"), why="reads one triangle of its matrix: "
             "proven by finite differences (on that triangle)",
             examples=[("solve_triangular(x, y, lower=True)", [(3, 3), (3,)]),
                       ("solve_triangular(x, y, lower=True)", [(3, 3), (3, 2)]),
                       ("solve_triangular(x, y)", [(3, 3), (3, 2)])])
    def solve_triangular(ans, a, b, dans, *, lower=False):
        db = np.linalg.solve(np.transpose(triangle(a, lower=lower)), dans)
        da = -triangle(np.reshape(db, (len(b), -1)) @ np.transpose(np.reshape(ans, (len(b), -1))), lower=lower)

    @tangent(linalg.solve_triangular)
    def solve_triangular_tangent(ans, a, b, da, db, *, lower=False):
        dans = np.linalg.solve(triangle(a, lower=lower), db - triangle(da, lower=lower) @ ans)

    # -- matrix functions and equations: adjoints from the equations that define them ------

    @adjoint(linalg.sqrtm, domain=("spd",), why="defined by x x = a (a Sylvester equation for its derivative): "
             "proven by finite differences on symmetric positive definite matrices",
             examples=[("sqrtm((x + x.T) / 2)", [(3, 3)]), ("sqrtm((x + x.T) / 2)[0] * 2.0", [(2, 2)])])
    def sqrtm(ans, x, dans, *, disp=True, blocksize=64):
        turned = np.swapaxes(ans, -1, -2)
        dx = linalg.solve_sylvester(turned, turned, dans)

    @tangent(linalg.sqrtm)
    def sqrtm_tangent(ans, x, dx, *, disp=True, blocksize=64):
        dans = linalg.solve_sylvester(ans, ans, dx)

    @adjoint(linalg.logm, domain=("spd",), why="the Fréchet derivative of the logarithm, read off the logarithm of "
             "a block matrix: proven by finite differences on symmetric positive definite matrices",
             examples=[("logm((x + x.T) / 2)", [(3, 3)]), ("logm((x + x.T) / 2)[1] * 2.0", [(2, 2)])])
    def logm(ans, x, dans, *, disp=True):
        n = x.shape[-1]
        turned = np.swapaxes(x, -1, -2)
        block = np.concatenate([np.concatenate([turned, dans], axis=-1),
                                np.concatenate([np.zeros_like(turned), turned], axis=-1)], axis=-2)
        dx = np.real(linalg.logm(block)[..., :n, n:])

    @tangent(linalg.logm)
    def logm_tangent(ans, x, dx, *, disp=True):
        n = x.shape[-1]
        block = np.concatenate([np.concatenate([x, dx], axis=-1),
                                np.concatenate([np.zeros_like(x), x], axis=-1)], axis=-2)
        dans = np.real(linalg.logm(block)[..., :n, n:])

    @adjoint(linalg.solve_sylvester, domain=("wellcond", "wellcond", "real"), why="x solves a x + x b = q: "
             "proven by finite differences", examples=[("solve_sylvester(x, y, z)", [(3, 3), (2, 2), (3, 2)]),
                                                        ("solve_sylvester(x, y, z)", [(2, 2), (2, 2), (2, 2)])])
    def solve_sylvester(ans, a, b, q, dans):
        dq = linalg.solve_sylvester(np.transpose(a), np.transpose(b), dans)
        da = -dq @ np.transpose(ans)
        db = -np.transpose(ans) @ dq

    @tangent(linalg.solve_sylvester)
    def solve_sylvester_tangent(ans, a, b, q, da, db, dq):
        dans = linalg.solve_sylvester(a, b, dq - da @ ans - ans @ db)

    @adjoint(linalg.solve_banded, domain=("real", "real"), why="np.linalg.solve's rule on the band: proven by "
             "finite differences", examples=[
                 ("solve_banded((1, 1), x + np.array([[0.0], [4.0], [0.0]]), y)", [(3, 4), (4,)]),
                 ("solve_banded((1, 0), x + np.array([[4.0], [0.0]]), y)", [(2, 3), (3, 2)])])
    def solve_banded(ans, l_and_u, ab, b, dans, *, overwrite_ab=False, overwrite_b=False, check_finite=True):
        dab, db = unsolve_banded(dans, l_and_u, ab, b, ans)

    @tangent(linalg.solve_banded)
    def solve_banded_tangent_rule(ans, l_and_u, ab, b, dab, db, *, overwrite_ab=False, overwrite_b=False,
                                  check_finite=True):
        dans = solve_banded_tangent(l_and_u, ab, b, dab, db, ans)

    @adjoint(linalg.cholesky, domain=("spd",), why="np.linalg.cholesky's rule, for the upper factor too: proven by "
             "finite differences", examples=[("cholesky((x + x.T) / 2)", [(3, 3)]),
                                            ("cholesky((x + x.T) / 2, lower=True)", [(3, 3)])])
    def cholesky(ans, a, dans, *, lower=False, overwrite_a=False, check_finite=True):
        da = uncholesky(dans, ans, lower)

    @tangent(linalg.cholesky)
    def cholesky_tangent(ans, a, da, *, lower=False, overwrite_a=False, check_finite=True):
        dans = cholesky_factor_tangent(da, ans, lower)

    @adjoint(linalg.cho_factor, outputs=2, domain=("spd",), why="the Cholesky factor in one triangle, the input's "
             "own entries in the other: proven by finite differences", examples=[
                 ("cho_factor((x + x.T) / 2 + 3.0 * np.eye(3))[0]", [(3, 3)]),
                 ("cho_factor((x + x.T) / 2 + 3.0 * np.eye(3), lower=True)[0]", [(3, 3)])])
    def cho_factor(ans, a, dans, *, lower=False, overwrite_a=False, check_finite=True):
        da = uncho_factor(dans[0], a, ans[0], ans[1])

    @tangent(linalg.cho_factor)
    def cho_factor_tangent_rule(ans, a, da, *, lower=False, overwrite_a=False, check_finite=True):
        dans = cho_factor_tangent(da, ans[0], ans[1])

    @adjoint(linalg.cho_solve, tuples=("c_and_lower",), domain=("spd", "real"), why="a solve with the matrix a "
             "Cholesky factor stands for: proven by finite differences", examples=[
                 ("cho_solve(cho_factor((x + x.T) / 2 + 3.0 * np.eye(3)), y)", [(3, 3), (3,)]),
                 ("cho_solve(cho_factor((x + x.T) / 2 + 3.0 * np.eye(3), lower=True), y)", [(3, 3), (3, 2)])])
    def cho_solve(ans, c_and_lower, b, dans, *, overwrite_b=False, check_finite=True):
        dc_and_lower, db = uncho_solve(dans, c_and_lower[0], c_and_lower[1], b, ans)

    @tangent(linalg.cho_solve)
    def cho_solve_tangent_rule(ans, c_and_lower, b, dc_and_lower, db, *, overwrite_b=False, check_finite=True):
        dans = cho_solve_tangent(dc_and_lower[0], db, c_and_lower[0], c_and_lower[1], ans)

    @adjoint(linalg.lu_factor, outputs=2, domain=("wellcond",), why="the packed factors of a = p l u: proven by "
             "finite differences", examples=[("lu_factor(x)[0]", [(3, 3)]), ("lu_factor(x.T * 2.0)[0] ** 2", [(4, 4)])])
    def lu_factor(ans, a, dans, *, overwrite_a=False, check_finite=True):
        da = unlu_factor(dans[0], ans[0], ans[1])

    @tangent(linalg.lu_factor)
    def lu_factor_tangent_rule(ans, a, da, *, overwrite_a=False, check_finite=True):
        dans = lu_factor_tangent(da, ans[0], ans[1])

    @adjoint(linalg.lu_solve, tuples=("lu_and_piv",), domain=("wellcond", "real"), why="a solve with the matrix "
             "its factors stand for: proven by finite differences", examples=[
                 ("lu_solve(lu_factor(x), y)", [(3, 3), (3,)]), ("lu_solve(lu_factor(x), y, trans=1)", [(3, 3), (3, 2)])])
    def lu_solve(ans, lu_and_piv, b, dans, *, trans=0, overwrite_b=False, check_finite=True):
        dlu_and_piv, db = unlu_solve(dans, lu_and_piv[0], lu_and_piv[1], b, ans, trans)

    @tangent(linalg.lu_solve)
    def lu_solve_tangent_rule(ans, lu_and_piv, b, dlu_and_piv, db, *, trans=0, overwrite_b=False, check_finite=True):
        dans = lu_solve_tangent(dlu_and_piv[0], db, lu_and_piv[0], lu_and_piv[1], ans, trans)

    # the same functions as NumPy's, where they mean the same
    for _name, _ours in (("inv", "np.linalg.inv"), ("det", "np.linalg.det"), ("pinv", "np.linalg.pinv"),
                         ("solve", "np.linalg.solve"), ("eigh", "np.linalg.eigh"), ("eigvals", "np.linalg.eigvals"),
                         ("svd", "np.linalg.svd"), ("lstsq", "np.linalg.lstsq"), ("norm", "np.linalg.norm")):
        alias(getattr(linalg, _name), _ours)
