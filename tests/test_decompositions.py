"""Matrix decompositions in programs as people write them: SVD, QR, the eigenvalues of a
general matrix and least squares, each checked against finite differences (the rule
table proves each rule alone: tests/test_rules.py)."""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad

from .support import check_grads, make_function

PROGRAMS = '''
import numpy as np


def low_rank_error(A, k):
    """How far A is from its best rank-k approximation (Eckart-Young), and its nuclear norm."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    approx = U[:, :k] @ np.diag(s[:k]) @ Vt[:k, :]
    return np.sum((A - approx) ** 2) + 0.1 * np.sum(np.linalg.svd(A, compute_uv=False))


def condition_penalty(W):
    s = np.linalg.svdvals(W)
    return np.log(s[0] / s[-1])


def orthogonalized(A, target):
    Q, R = np.linalg.qr(A)
    return np.sum((Q @ np.diag(np.diag(R)) - target) ** 2)


def spectral_abscissa(J):
    """The largest real part of the eigenvalues: how fast a linear system grows."""
    lam = np.linalg.eigvals(J)
    return np.max(np.real(lam)) + 0.5 * np.sum(np.abs(lam) ** 2)


def gp_evidence(log_length, X, y):
    """A Gaussian process's negative log marginal likelihood, as GP code writes it."""
    from scipy.linalg import cho_factor, cho_solve
    d = X[:, None, :] - X[None, :, :]
    K = np.exp(-0.5 * np.sum(d ** 2, axis=-1) / np.exp(2 * log_length)) + 0.1 * np.eye(len(y))
    factor = cho_factor(K, lower=True)
    alpha = cho_solve(factor, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(factor[0])))


def ridge_coefficients(X, y):
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return np.sum(coef ** 2)


def fit_residual(X, y):
    coef, residuals, rank, sv = np.linalg.lstsq(X, y, rcond=None)
    prediction = X @ coef
    print("rank", rank)
    return np.sum((prediction - y) ** 2) + np.sum(coef ** 2) + residuals[0]
'''


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decompositions")
    return {name: make_function(folder, PROGRAMS, name, preamble="")
            for name in ("low_rank_error", "condition_penalty", "orthogonalized", "spectral_abscissa", "fit_residual",
                         "ridge_coefficients", "gp_evidence")}


def test_singular_values_and_vectors(programs):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 3))
    check_grads(programs["low_rank_error"], A, 2, wrt=(0,), rtol=1e-4)
    check_grads(programs["condition_penalty"], rng.standard_normal((4, 3)), rtol=1e-4)
    assert "np.linalg.svdvals(A)" in s2sgrad.source(programs["low_rank_error"])


def test_qr_eigenvalues_and_least_squares(programs, capsys):
    rng = np.random.default_rng(1)
    check_grads(programs["orthogonalized"], rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rtol=1e-4)
    check_grads(programs["spectral_abscissa"], rng.standard_normal((4, 4)), rtol=1e-4)
    check_grads(programs["fit_residual"], rng.standard_normal((6, 3)), rng.standard_normal(6), rtol=1e-4)
    check_grads(programs["ridge_coefficients"], rng.standard_normal((5, 2)), rng.standard_normal(5), rtol=1e-4)
    assert "rank 3" in capsys.readouterr().out


def test_a_gaussian_process_through_cho_factor_and_cho_solve(programs):
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((6, 2)), rng.standard_normal(6)
    check_grads(programs["gp_evidence"], 0.3, X, y, rtol=1e-5)
    _, along = s2sgrad.jvp(programs["gp_evidence"], (0.3, X, y), (1.0,), wrt=(0,))
    assert along == pytest.approx(s2sgrad.grad(programs["gp_evidence"])(0.3, X, y), rel=1e-7)


LU = '''
import numpy as np
from scipy.linalg import lu_factor, lu_solve


def energy(A, b):
    factors = lu_factor(A)
    x = lu_solve(factors, b)
    y = lu_solve(factors, b * 2.0, trans=1)
    return np.sum(x ** 2) + np.sum(x * y) + np.sum(factors[0] ** 2)
'''


def test_lu_factor_and_lu_solve_with_pivoting(tmp_path):
    energy = make_function(tmp_path, LU, "energy", preamble="")
    A = np.array([[0.1, 2.0, 0.3], [3.0, 1.0, -0.5], [0.4, -1.0, 2.5]])      # rows swapped by the pivoting
    assert list(__import__("scipy.linalg").linalg.lu_factor(A)[1]) != [0, 1, 2]
    check_grads(energy, A, np.array([1.0, -0.5, 0.25]), rtol=1e-5)
    b = np.array([1.0, -0.5, 0.25])
    _, along = s2sgrad.jvp(energy, (A, b), (np.ones((3, 3)), np.zeros(3)))
    g = s2sgrad.grad(energy, (0, 1))(A, b)
    assert along == pytest.approx(np.sum(g[0]), rel=1e-7)


def test_where_a_decomposition_has_no_derivative_it_says_so(programs, tmp_path):
    full = make_function(tmp_path, "def f(A):\n    return np.sum(np.linalg.svd(A)[0] ** 3)\n")
    with pytest.raises(ValueError, match="full_matrices=False"):
        s2sgrad.grad(full)(np.random.default_rng(2).standard_normal((4, 2)))
    wide = make_function(tmp_path, "def f(A):\n    return np.sum(np.linalg.qr(A)[1] ** 2)\n")
    with pytest.raises(ValueError, match="wide matrix"):
        s2sgrad.grad(wide)(np.random.default_rng(2).standard_normal((2, 4)))
    vectors = make_function(tmp_path, "def f(A):\n    return np.sum(np.linalg.svd(A)[0] ** 3)\n")
    assert np.all(np.isnan(s2sgrad.grad(vectors)(np.eye(3))))        # equal singular values: NaN, not a number
    near = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))[0] @ np.diag([2.0, 2.0, 1.0])
    assert np.all(np.isnan(s2sgrad.grad(vectors)(near)))             # equal but for rounding: NaN too
    deficient = make_function(tmp_path, "def f(A, b):\n    return np.sum(np.linalg.lstsq(A, b)[0] ** 2)\n")
    B = np.random.default_rng(3).standard_normal((4, 2))
    assert np.all(np.isnan(s2sgrad.grad(deficient)(np.hstack([B, B[:, :1]]), np.ones(4))))
    jordan = make_function(tmp_path, "def f(A):\n    return np.max(np.real(np.linalg.eigvals(A)))\n")
    assert np.all(np.isnan(s2sgrad.grad(jordan)(np.array([[1.0, 1.0], [0.0, 1.0]]))))
    vectors_of_eig = make_function(tmp_path, "def f(A):\n    return np.sum(np.abs(np.linalg.eig(A)[1]))\n")
    with pytest.raises(ValueError, match="eigenvectors"):
        s2sgrad.grad(vectors_of_eig)(np.array([[2.0, 1.0], [0.5, 1.0]]))
    values = make_function(tmp_path, "def f(A):\n    return np.sum(np.linalg.svdvals(A))\n")
    np.testing.assert_allclose(s2sgrad.grad(values)(np.eye(3)), np.eye(3))   # the values alone: defined


def test_second_derivatives_of_a_rank_deficient_svd_are_right_or_nan(tmp_path):
    """A square matrix of rank 2: its thin SVD's vectors still have derivatives, and the
    Hessian of the product U S Vh (the matrix itself) is exact. A tall one: the vector
    of the zero singular value has none, so what reaches it is NaN, never a number."""
    f = make_function(tmp_path, """
def f(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(((u * s) @ vh) ** 3) + np.sum(u ** 4)


def g(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u ** 4)
""", name="f")
    g = f.__globals__["g"]
    square = np.outer([1.0, 2.0, 3.0], [1.0, 0.0, 1.0]) + np.outer([0.0, 1.0, -1.0], [2.0, 1.0, 0.0])
    v = np.zeros((3, 3))
    v[0, 0] = 1.0
    gradient, step = s2sgrad.grad(f), 1e-6
    column = (gradient(square + step * v) - gradient(square - step * v)) / (2 * step)
    np.testing.assert_allclose(s2sgrad.hvp(f)(square, v), column, rtol=1e-4, atol=1e-5)
    tall = np.vstack([square, square[0] + square[1]])
    assert np.isnan(s2sgrad.grad(g)(tall)).any() and np.isnan(s2sgrad.jvp(g, (tall,), (np.ones((4, 3)),))[1])
