"""The PyTorch autograd notebook s2sgrad started from, cell by cell."""
import numpy as np
import pytest

import s2sgrad
from examples import seed


def test_cell1_value_and_gradient():
    value, grad = s2sgrad.value_and_grad(seed.simple)(2.0)
    assert value == 19.0
    assert grad == 8.0


def matmul_at(x, y, w):
    return np.mean(y - x @ w)


@pytest.mark.parametrize("fn", [seed.mean_residual, matmul_at], ids=["np.matmul", "@"])
def test_cell2_mean_of_residual(fn):
    rng = np.random.default_rng(1)
    x, y, w = rng.standard_normal((10, 20)), rng.standard_normal((10, 5)), rng.standard_normal((20, 5))
    dx, dy, dw = s2sgrad.grad(fn, wrt=(0, 1, 2))(x, y, w)
    ones = np.ones((10, 5))
    np.testing.assert_allclose(dy, np.full((10, 5), 1 / 50))
    np.testing.assert_allclose(dx, -(1 / 50) * ones @ w.T)
    np.testing.assert_allclose(dw, -(1 / 50) * x.T @ ones)
    assert s2sgrad.value_and_grad(fn, wrt=(0, 1, 2))(x, y, w)[0] == pytest.approx(fn(x, y, w))


def test_cell3_subscript_assignment_vjp():
    m = np.array([[2.0, 3.0]])
    n, pullback = s2sgrad.vjp(seed.squares_and_cubes, m)
    np.testing.assert_array_equal(n, [[4.0, 27.0]])
    (dm,) = pullback(np.ones_like(n))
    np.testing.assert_array_equal(dm, [[4.0, 27.0]])
    np.testing.assert_array_equal(m, [[2.0, 3.0]])           # the caller's array is untouched


def test_cell4_pullback_twice_and_accumulate():
    value, pullback = s2sgrad.vjp(seed.quadratic, 3.0)
    assert value == 18.0
    first, second = pullback(1.0)[0], pullback(1.0)[0]
    assert first == 8.0 and second == 8.0
    assert first + second == 16.0                             # PyTorch's `.grad` accumulation


def test_example_script_runs(capsys):
    seed.main()
    out = capsys.readouterr().out
    assert "(19.0, 8.0)" in out and "16.0" in out and "def grad_simple(x):" in out
