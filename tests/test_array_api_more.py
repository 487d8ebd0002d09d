"""Gradients of functions using NumPy's linear algebra, products, sorts and reshaping ops,
called with the arrays of another library (the `xp` profile): each agrees with NumPy's
gradient, and some with central finite differences. array_api_strict (the standard and
nothing more) runs here always; Dask, PyTorch and JAX where installed."""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad
from s2sgrad.errors import NoRuleError

xp = pytest.importorskip("array_api_strict")

RNG = np.random.default_rng(11)


def _spd(n):
    a = RNG.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


# -- functions written as people write them ------------------------------------------------

def gaussian_loglik(mu, L, X):
    """Log-likelihood of the rows of X under N(mu, L L^T + I)."""
    n, d = X.shape
    cov = L @ L.T + np.eye(d)
    r = X - mu
    quad = np.sum(r * np.linalg.solve(cov, r.T).T)
    return -0.5 * (n * np.linalg.slogdet(cov)[1] + quad + n * d * np.log(2 * np.pi))


def ridge_fit(X, y, lam):
    """The squared error of the closed-form ridge solution, plus its penalty."""
    beta = np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1])) @ X.T @ y
    return np.sum((X @ beta - y) ** 2) + lam * np.linalg.norm(beta) ** 2


def volume_and_solve(x):
    """The brief's example: a norm, a determinant and a solve."""
    A = np.outer(x, x) + np.eye(x.shape[0])
    return np.linalg.norm(x) + np.linalg.det(A) + np.sum(np.linalg.solve(A, x))


def log_volume(A):
    return np.log(np.abs(np.linalg.det(A))) + 0.1 * np.trace(A @ A.T)


def chol_logdet(S, v):
    """log det S through its Cholesky factor, and a whitened vector's length."""
    Lc = np.linalg.cholesky(S)
    return 2.0 * np.sum(np.log(np.diag(Lc))) + np.sum(np.linalg.solve(Lc, v) ** 2)


def least_squares_pinv(X, y):
    beta = np.linalg.pinv(X) @ y
    return np.sum((X @ beta - y) ** 2) + np.sum(beta ** 2)


def regularised(W, w):
    """Norm penalties of a weight matrix and vector: nuclear, spectral, row norms, l1, max."""
    return (np.linalg.norm(W, "nuc") + 0.5 * np.linalg.norm(W, 2) + np.sum(np.linalg.norm(W, axis=1))
            + np.linalg.norm(w, 1) + np.linalg.norm(w, np.inf) + np.linalg.norm(W, "fro") ** 2
            + np.linalg.norm(W, 1) + np.linalg.norm(w, 3))


def trace_products(A, B):
    return np.trace(A @ B) + np.trace(A.T @ A) + np.trace(A, 1) * np.trace(B, -1)


def all_succeed(p):
    """The chance that independent events all happen, and that at least one fails."""
    both = np.prod(p)
    return np.log(both) - np.log1p(-np.prod(p[:2])) + np.sum(np.prod(np.reshape(p, (2, 2)), axis=0))


def survival_fit(h, target):
    """Discrete-time survival S_t = prod_{s <= t} (1 - h_s) fitted to observed survival."""
    S = np.cumprod(1.0 - h)
    return np.sum((S - target) ** 2)


def weighted_means(X, w):
    return np.sum(np.average(X, axis=0, weights=w) ** 2) + np.average(X[:, 0], weights=w)


def trimmed_mean(x):
    """The mean of x with its two smallest and two largest entries left out."""
    s = np.sort(x)
    return np.mean(s[2:-2]) + 0.1 * np.sum(np.sort(np.reshape(x, (2, -1)), axis=0)[0])


def features(x, w):
    """Polynomial and trigonometric features of x, with an intercept column."""
    F = np.stack([x, x ** 2, np.sin(x)], axis=1)
    design = np.hstack([np.ones((x.shape[0], 1)), F])
    rows = np.vstack([w, w ** 2])
    return np.sum((design @ rows.T) ** 2) + np.sum(np.column_stack([x, np.cos(x)]) ** 2)


def smoothness(f, data, lam):
    """Data fit plus a second-difference roughness penalty, and a first difference in time."""
    return np.sum((f - data) ** 2) + lam * np.sum(np.diff(f, 2) ** 2) + np.sum(np.diff(np.append(f, 0.0)) ** 2)


def periodic(kernel, coarse, fine):
    """A tiled pattern and a piecewise constant upsampling compared to a fine signal."""
    signal = np.tile(kernel, 3)
    up = np.repeat(coarse, 2)
    return np.sum((signal - fine) ** 2) + np.sum((up - fine) ** 2) + np.sum(np.repeat(coarse, (1, 2, 0, 3, 1, 1)) ** 2)


def unpack(params, x):
    """Parameters kept in one vector: weights, then a bias (parts of different lengths)."""
    w, b = np.split(params, [3])
    halves = np.split(params, 2)
    return np.sum((x @ w + b[0]) ** 2) + np.sum(halves[0] * halves[1])


def embed(E, tokens):
    """An embedding lookup (a token repeated reads its row twice) and a per-row pick."""
    rows = np.take(E, tokens, axis=0)
    logits = rows @ E.T
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.sum(np.take_along_axis(logp, tokens[:, None], axis=1)) + np.sum(np.take(E, [0, -1]) ** 2)


def diagonals(C, v):
    """A covariance's variances, and a diagonal matrix built from a vector."""
    return np.sum(np.log(np.diagonal(C))) + np.sum(np.diag(v) @ C) + np.sum(np.diag(C, 1) ** 2)


def cumulative_growth(r):
    return np.sum(np.cumprod(1.0 + r, axis=1)[:, -1]) + np.sum(np.prod(1.0 + r, axis=1, keepdims=True) * r)


def parts_of_two_shapes(x, y):
    parts = [x, y]
    return np.sum(parts[0] ** 2) + np.sum(parts[1] * 3.0)


def sort_prod(x):
    """The brief's second example."""
    return np.sum(np.sort(x)[:2]) + np.prod(x)


CASES = [
    (gaussian_loglik, lambda: (RNG.normal(size=3), 0.5 * RNG.normal(size=(3, 3)), RNG.normal(size=(8, 3))), (0, 1, 2)),
    (ridge_fit, lambda: (RNG.normal(size=(10, 3)), RNG.normal(size=10), 0.3), (0, 1, 2)),
    (volume_and_solve, lambda: (np.array([0.3, -1.2, 0.8, 2.0]),), 0),
    (log_volume, lambda: (RNG.normal(size=(3, 3)) + 3 * np.eye(3),), 0),
    (chol_logdet, lambda: (_spd(3), RNG.normal(size=3)), (0, 1)),
    (least_squares_pinv, lambda: (RNG.normal(size=(5, 3)), RNG.normal(size=5)), (0, 1)),
    (regularised, lambda: (RNG.normal(size=(3, 4)), RNG.normal(size=5)), (0, 1)),
    (trace_products, lambda: (RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3))), (0, 1)),
    (all_succeed, lambda: (RNG.uniform(0.2, 0.9, size=4),), 0),
    (survival_fit, lambda: (RNG.uniform(0.05, 0.3, size=6), np.linspace(0.9, 0.3, 6)), 0),
    (weighted_means, lambda: (RNG.normal(size=(5, 3)), RNG.uniform(0.5, 2.0, size=5)), (0, 1)),
    (trimmed_mean, lambda: (RNG.normal(size=8),), 0),
    (features, lambda: (RNG.normal(size=5), RNG.normal(size=4)), (0, 1)),
    (smoothness, lambda: (RNG.normal(size=7), RNG.normal(size=7), 0.5), (0, 1)),
    (periodic, lambda: (RNG.normal(size=4), RNG.normal(size=6), RNG.normal(size=12)), (0, 1)),
    (unpack, lambda: (RNG.normal(size=4), RNG.normal(size=(5, 3))), (0, 1)),
    (embed, lambda: (0.5 * RNG.normal(size=(4, 3)), np.array([2, 0, 2, 3])), 0),
    (diagonals, lambda: (_spd(3), RNG.normal(size=3)), (0, 1)),
    (cumulative_growth, lambda: (0.1 * RNG.normal(size=(2, 5)),), 0),
    (parts_of_two_shapes, lambda: (RNG.normal(size=3), RNG.normal(size=1)), (0, 1)),
    (sort_prod, lambda: (RNG.normal(size=5),), 0),
]
IDS = [c[0].__name__ for c in CASES]


def _as_numpy(a):
    return np.asarray(a.compute() if hasattr(a, "compute") else a)


def _check(fn, args, wrt, to, rtol=1e-10):
    """The gradient given arrays made by `to` (the float ones), against NumPy's; returns it."""
    expected = s2sgrad.grad(fn, wrt=wrt)(*args)
    got = s2sgrad.grad(fn, wrt=wrt)(*[to(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                                      for a in args])
    expected, got = (expected, got) if isinstance(wrt, tuple) else ((expected,), (got,))
    for e, g in zip(expected, got):
        assert not isinstance(g, np.ndarray) or np.ndim(e) == 0, "the gradient should be the library's array"
        assert _as_numpy(g).shape == np.shape(e)
        np.testing.assert_allclose(_as_numpy(g), e, rtol=rtol, atol=rtol * 1e-2)
    return got


@pytest.mark.parametrize("fn, make, wrt", CASES, ids=IDS)
def test_agrees_with_numpy_on_array_api_strict(fn, make, wrt):
    got = _check(fn, make(), wrt, xp.asarray)
    assert all(isinstance(g, type(xp.asarray(1.0))) for g in got if not isinstance(g, float))


def _central(fn, args, i, eps=1e-6):
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    out = np.zeros_like(args[i])
    for k in np.ndindex(out.shape):
        args[i][k] += eps
        up = fn(*args)
        args[i][k] -= 2 * eps
        down = fn(*args)
        args[i][k] += eps
        out[k] = (up - down) / (2 * eps)
    return out


@pytest.mark.parametrize("fn", [gaussian_loglik, volume_and_solve, chol_logdet, least_squares_pinv, regularised,
                                all_succeed, survival_fit, trimmed_mean, periodic, unpack, embed, diagonals],
                         ids=lambda f: f.__name__)
def test_matches_central_differences(fn):
    fn, make, wrt = CASES[IDS.index(fn.__name__)]
    args = make()
    got = s2sgrad.grad(fn, wrt=wrt)(*[xp.asarray(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                                      for a in args])
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), got if isinstance(wrt, tuple) else (got,)):
        if isinstance(args[i], np.ndarray):
            np.testing.assert_allclose(np.asarray(g), _central(fn, args, i), rtol=1e-5, atol=1e-7)


# -- the cases where a helper has to be careful ---------------------------------------------

def product(x):
    return np.prod(x)


def products_along(x):
    return np.sum(np.prod(x, axis=1) * np.array([2.0, 3.0])) + np.sum(np.prod(x, axis=-2, keepdims=True) * x)


def running_product(x):
    return np.sum(np.cumprod(x) * np.arange(1.0, 6.0))


def test_products_with_zero_entries():
    """The product of the other entries, with no division: one zero leaves one entry a
    gradient, two zeros none."""
    for x in ([0.5, 0.0, 2.0, -1.5], [0.5, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 1.0]):
        x = np.array(x)
        got = np.asarray(s2sgrad.grad(product)(xp.asarray(x)))
        expected = [np.prod(np.delete(x, i)) for i in range(x.size)]
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got, s2sgrad.grad(product)(x))
    x = np.array([[1.0, 0.0, 2.0], [0.5, 3.0, -1.0]])
    np.testing.assert_allclose(np.asarray(s2sgrad.grad(products_along)(xp.asarray(x))),
                               s2sgrad.grad(products_along)(x), rtol=1e-12)
    x = np.array([0.5, 0.0, 2.0, 0.0, 3.0])
    np.testing.assert_allclose(np.asarray(s2sgrad.grad(running_product)(xp.asarray(x))),
                               s2sgrad.grad(running_product)(x), rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.grad(running_product)(x), _central(running_product, [x], 0), atol=1e-8)


def product_over_two_axes(x):
    return np.sum(np.prod(x, axis=(0, 2)) ** 2)


def test_product_over_a_tuple_of_axes():
    """(NumPy's own helper refuses a tuple of axes; the Array API one takes them.)"""
    x = RNG.normal(size=(2, 3, 2))
    got = np.asarray(s2sgrad.grad(product_over_two_axes)(xp.asarray(x)))
    np.testing.assert_allclose(got, _central(product_over_two_axes, [x], 0), rtol=1e-6, atol=1e-9)


def singular_det(A):
    return np.linalg.det(A) + np.linalg.det(A) ** 2


def test_det_at_a_singular_matrix_is_the_cofactor_matrix():
    A = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
    got = np.asarray(s2sgrad.grad(singular_det)(xp.asarray(A)))
    np.testing.assert_allclose(got, s2sgrad.grad(singular_det)(A), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got, _central(singular_det, [A], 0), atol=1e-7)
    assert np.abs(got).max() > 1.0


def batched(A, B, x):
    """Stacks of matrices: solve (a vector shared by the stack), det, cholesky, pinv, norms."""
    S = A @ np.swapaxes(A, -1, -2) + 3.0 * np.eye(3)
    return (np.sum(np.linalg.solve(S, x) ** 2) + np.sum(np.linalg.det(S)) + np.sum(np.linalg.cholesky(S) ** 2)
            + np.sum(np.linalg.pinv(B) ** 2) + np.sum(np.linalg.norm(B, "nuc", axis=(2, 1)))
            + np.sum(np.linalg.solve(S, B) ** 2))


def test_stacks_of_matrices_match_finite_differences():
    """(NumPy's own solve and cholesky helpers refuse a vector or matrix shared by a stack,
    and stacks of Cholesky factors: the Array API helpers take them.)"""
    args = [RNG.normal(size=(2, 3, 3)), RNG.normal(size=(2, 3, 2)), RNG.normal(size=3)]
    got = s2sgrad.grad(batched, wrt=(0, 1, 2))(*map(xp.asarray, args))
    for i, g in enumerate(got):
        np.testing.assert_allclose(np.asarray(g), _central(batched, args, i), rtol=1e-5, atol=1e-6)


def axes_everywhere(x):
    return (np.sum(np.sort(x, axis=-2)[0] ** 3) + np.sum(np.diff(x, axis=-2) ** 2)
            + np.sum(np.take(x, [1, -1], axis=-1) ** 3) + np.sum(np.cumprod(x, axis=-1))
            + np.sum(np.average(x, axis=-1, weights=np.array([1.0, 2.0, 3.0, 4.0])) ** 2)
            + np.sum(np.repeat(x, 2, axis=-1) ** 3) + np.sum(np.append(x, x[:, :1], axis=-1) ** 3)
            + np.sum(np.sort(x, axis=None)[:5] ** 2) + np.sum(np.cumprod(x) ** 2)
            + np.sum(np.linalg.norm(x, 3, axis=0, keepdims=True) * x) + np.sum(np.diagonal(x, -1) ** 3)
            + np.sum(np.take_along_axis(x, np.argsort(x, axis=-1)[:, :2], axis=-1) ** 3)
            + np.sum(np.tile(x, (2, 1, 2)) ** 3) + np.sum(np.take(x, np.array([5, 0, 5])) ** 3))


def test_negative_axes_no_axis_and_keepdims():
    x = RNG.normal(size=(3, 4))
    _check(axes_everywhere, (x,), 0, xp.asarray)


def test_float32_stays_float32():
    for fn, make, wrt in [CASES[IDS.index(n)] for n in ("volume_and_solve", "sort_prod", "smoothness", "periodic")]:
        args = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in make())
        got = s2sgrad.grad(fn, wrt=wrt)(*[xp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])
        expected = s2sgrad.grad(fn, wrt=wrt)(*args)
        got, expected = (got, expected) if isinstance(wrt, tuple) else ((got,), (expected,))
        for g, e in zip(got, expected):
            assert g.dtype == xp.float32, fn.__name__
            np.testing.assert_allclose(np.asarray(g), e, rtol=2e-4, atol=1e-5)


def test_a_list_of_arrays_of_two_shapes():
    """Its gradient was an array shaped by its first item: y's was [3, 3, 3] for a y of shape (1,)."""
    dx, dy = s2sgrad.grad(parts_of_two_shapes, wrt=(0, 1))(xp.asarray(np.ones(3)), xp.asarray(np.array([0.5])))
    assert np.asarray(dy).tolist() == [3.0] and np.asarray(dx).tolist() == [2.0, 2.0, 2.0]


def test_second_derivatives_without_an_array_api_form_are_refused_at_the_line():
    with pytest.raises(NoRuleError, match="`unprod_tangent` has no Array API form") as info:
        s2sgrad.hessian(product)(xp.asarray(np.array([1.0, 2.0, 3.0])))
    assert "return np.prod(x)" in str(info.value)


def linear_ops(x):
    return np.sum(np.diff(np.tile(x, 2)) ** 2) + np.sum(np.take(x, [0, 0, 2]) * np.hstack([x[:2], x[1:2]]))


def test_second_derivatives_of_linear_ops():
    x = RNG.normal(size=4)
    np.testing.assert_allclose(np.asarray(s2sgrad.hessian(linear_ops)(xp.asarray(x))),
                               s2sgrad.hessian(linear_ops)(x), rtol=1e-12)


def intercepts(x, counts):
    """Integers beside floats: a 1 joined to x, a 0 appended, integer weights, a cumulative
    sum of a whole matrix (NumPy's float64 where the standard promotes no integer to a float)."""
    design = np.hstack([1, x])
    return (np.sum(design ** 2) + np.sum(np.append(x, 0) ** 2) + np.average(x, weights=counts) ** 2
            + np.sum(np.cumsum(np.outer(x, x)) * 0.1))


def test_integers_beside_floats():
    x, counts = np.array([0.5, -1.0, 2.0]), np.array([1, 2, 3])
    got = s2sgrad.grad(intercepts)(xp.asarray(x), xp.asarray(counts))
    np.testing.assert_allclose(np.asarray(got), s2sgrad.grad(intercepts)(x, counts), rtol=1e-12)


def float64_written_into_float32(x, w):
    y = np.zeros(3, dtype=np.float32)
    y[1:] = x[:2] * np.array([0.5, 4.0])
    return np.sum(y * w) + np.sum(np.sort(x)[:2] * np.array([1.0, 2.0]))


def test_float64_values_written_into_float32_arrays():
    """NumPy casts a float64 value written into a float32 array (an adjoint written into
    part of a float32 one: np.sort's, an index's); the standard refuses."""
    x, w = np.array([0.5, -1.0, 2.0], dtype=np.float32), np.array([1.0, 2.0, 3.0], dtype=np.float32)
    for to in (xp.asarray, _torch_or_none()):
        if to is not None:
            got = s2sgrad.grad(float64_written_into_float32)(to(x), to(w))
            assert str(got.dtype).endswith("float32")
            np.testing.assert_allclose(np.asarray(got), s2sgrad.grad(float64_written_into_float32)(x, w), rtol=1e-6)


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch.asarray


class _WithoutCumulativeProd:
    """A namespace whose library has no cumulative_prod (the standard's only since 2024.12)."""

    def __init__(self, xp):
        self._xp = xp

    def __getattr__(self, name):
        if name == "cumulative_prod":
            raise AttributeError(name)
        return getattr(self._xp, name)


def test_running_products_without_the_librarys_own():
    from types import SimpleNamespace
    from s2sgrad.runtime.array_api import _cumulative_prod, namespace
    a = RNG.normal(size=(3, 7))
    a[1, 2] = 0.0
    ns = SimpleNamespace(xp=_WithoutCumulativeProd(namespace(xp.asarray(a)).xp))
    np.testing.assert_allclose(np.asarray(_cumulative_prod(ns, xp.asarray(a))), np.cumprod(a, axis=-1), rtol=1e-14)


# -- other libraries ----------------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch", reason="PyTorch is in the bench extra").asarray


def _jax():
    jax = pytest.importorskip("jax", reason="JAX is in the bench extra")
    jax.config.update("jax_enable_x64", True)
    return jax.numpy.asarray


@pytest.mark.parametrize("fn, make, wrt", CASES, ids=IDS)
def test_agrees_with_numpy_on_pytorch(fn, make, wrt):
    _check(fn, make(), wrt, _torch())


JAX = ["trace_products", "parts_of_two_shapes"]     # (JAX compiles each op it runs: a few)


@pytest.mark.parametrize("name", JAX)
def test_agrees_with_numpy_on_jax(name):
    fn, make, wrt = CASES[IDS.index(name)]
    _check(fn, make(), wrt, _jax())


JIT = ["embed", "survival_fit", "sort_prod"]


@pytest.mark.parametrize("name", JIT)
def test_the_jax_backend_runs_under_jit(name):
    _jax()
    fn, make, wrt = CASES[IDS.index(name)]
    args = make()
    expected, got = s2sgrad.grad(fn, wrt=wrt)(*args), s2sgrad.grad(fn, wrt=wrt, backend="jax")(*args)
    for e, g in zip(expected if isinstance(wrt, tuple) else (expected,), got if isinstance(wrt, tuple) else (got,)):
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-10, atol=1e-12)


def test_the_jax_backend_refuses_a_count_per_entry():
    """jnp.repeat under jit needs counts it can read: one per entry is refused, at the function."""
    _jax()
    fn, make, wrt = CASES[IDS.index("periodic")]
    with pytest.raises(s2sgrad.errors.UnsupportedSyntaxError, match="jax.jit cannot trace"):
        s2sgrad.grad(fn, wrt=wrt, backend="jax")(*make())


DASK = ["regularised", "smoothness", "unpack", "embed"]
# (Dask has no det, slogdet or pinv, no SVD of a stack, and repeats each entry one count)


@pytest.mark.parametrize("name", DASK)
def test_agrees_with_numpy_on_dask(name):
    da = pytest.importorskip("dask.array")
    fn, make, wrt = CASES[IDS.index(name)]
    _check(fn, make(), wrt, lambda a: da.from_array(a, chunks=-1))
