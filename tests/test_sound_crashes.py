"""Crashes and silent wrong answers of issue 14, each as a scientist would write the
function: every answer right in grad, jvp and hvp (and vjp for array outputs), checked
against central finite differences, or refused when the derivative is built."""
import numpy as np
import pytest

import s2sgrad

from .support import check_grads, numeric_vjp

RNG = np.random.default_rng(14)


def _like(arg, rng):
    t = rng.standard_normal(np.shape(arg))
    return t if np.ndim(arg) else float(t)


def assert_all_modes(fn, *args, wrt=0, rtol=1e-5, atol=1e-6, hvp_rtol=1e-4):
    """grad, jvp and hvp of scalar `fn` with respect to args[wrt] against central differences
    (of fn, and of the gradient for the hvp)."""
    rng = np.random.default_rng(0)
    expected = numeric_vjp(fn, args, wrt, 1.0)
    np.testing.assert_allclose(s2sgrad.grad(fn, wrt=wrt)(*args), expected, rtol=rtol, atol=atol)
    t = _like(args[wrt], rng)
    _, along = s2sgrad.jvp(fn, args, (t,), wrt=wrt)
    np.testing.assert_allclose(along, np.sum(expected * t), rtol=rtol, atol=atol)
    gradient = s2sgrad.grad(fn, wrt=wrt)
    h = numeric_vjp(lambda *a: np.sum(gradient(*a) * t), args, wrt, 1.0, eps=1e-5)
    np.testing.assert_allclose(s2sgrad.hvp(fn, wrt=wrt)(*args, t), h, rtol=hvp_rtol, atol=hvp_rtol)


# -- elementwise rules at their edges ---------------------------------------------------

def constant_term(x):
    return np.sum(x ** 0 + 0.5 * x ** 0.0 + x ** 2)


def test_a_power_zero_has_no_derivative_even_at_zero():
    x = np.array([0.0, 1.0, -2.0])
    np.testing.assert_array_equal(s2sgrad.grad(constant_term)(x), 2.0 * x)
    assert_all_modes(constant_term, x)


def scalar_power_zero(x):
    return x ** 0.0 * 3.0 + x ** 3


def test_a_float_to_the_power_zero_at_zero():
    assert s2sgrad.grad(scalar_power_zero)(0.0) == 0.0
    assert_all_modes(scalar_power_zero, 0.0)


def relu_energy(x):
    return np.sum(np.clip(x, 0.0, None) ** 2)


def capped_energy(x, cap):
    return np.sum(np.clip(x, None, cap) ** 2)


def test_clip_with_one_bound_left_open():
    x = np.array([-1.5, -0.2, 0.3, 1.1, 2.5])
    np.testing.assert_allclose(s2sgrad.grad(relu_energy)(x), 2.0 * np.maximum(x, 0.0))
    assert_all_modes(relu_energy, x)
    assert_all_modes(capped_energy, x, 1.0)
    assert_all_modes(capped_energy, x, 1.0, wrt=1)


def test_clip_at_its_bounds_gives_x_the_adjoint():
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(s2sgrad.grad(relu_energy)(x), [0.0, 0.0, 2.0, 4.0])


# -- products and linear algebra ---------------------------------------------------------

def scaled_inner(x, s):
    return np.sum(np.inner(x, s) ** 2) + np.sum(np.inner(s, x))


def test_inner_with_a_number_is_a_product():
    x = RNG.standard_normal(4)
    assert_all_modes(scaled_inner, x, 1.5)
    assert_all_modes(scaled_inner, x, 1.5, wrt=1)


def pinv_energy(a):
    return np.sum(np.linalg.pinv(a) ** 2)


def pseudo_inverses(a):
    return np.linalg.pinv(a)


def test_pinv_of_a_stack_of_matrices():
    a = RNG.standard_normal((2, 3, 2))
    assert_all_modes(pinv_energy, a)
    check_grads(pseudo_inverses, a)


def volume(a):
    return np.linalg.det(a)


def volumes_squared(a):
    return np.sum(np.linalg.det(a) ** 2)


def _with_singular_values(values, seed):
    u, _, vt = np.linalg.svd(np.random.default_rng(seed).standard_normal((len(values),) * 2))
    return u @ np.diag(values) @ vt


@pytest.mark.parametrize("values", [[2.0, 1.0, 0.5, 0.0], [2.0, 1.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0]],
                         ids=["rank 3", "rank 2", "rank 1"])
def test_det_of_a_singular_matrix_has_the_cofactors_as_gradient(values):
    a = _with_singular_values(values, seed=len(values))
    cofactors = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                           for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(s2sgrad.grad(volume)(a), cofactors, atol=1e-12)
    assert_all_modes(volume, a, atol=1e-8)


def test_det_of_a_stack_with_a_singular_matrix():
    a = np.stack([_with_singular_values([1.0, 0.0, 0.0], 0), RNG.standard_normal((3, 3))])
    assert_all_modes(volumes_squared, a, atol=1e-8)
    check_grads(volume, a)
