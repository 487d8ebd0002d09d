"""Rules of scipy.linalg, registered once the user's program has imported it
(rules.optional): the matrix exponential and triangular solves.

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

from .table import adjoint, tangent
from ..runtime import triangle  # noqa: F401 (used in templates)

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
