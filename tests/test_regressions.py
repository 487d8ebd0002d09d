"""Bugs found by review or by the tests, each pinned by the smallest program that showed it."""
import math

import numpy as np
import pytest

import s2sgrad

from .support import check_grads

total = 4.0
sin_x = 10.0


def global_named_like_a_temporary(x):
    return np.sum(x * x) / total


def global_named_like_sin_temporary(x):
    return np.sin(x) * sin_x


def test_temporaries_never_take_the_name_of_a_global_the_function_reads():
    value, dx = s2sgrad.value_and_grad(global_named_like_a_temporary)(np.array([1.0, 2.0]))
    assert value == pytest.approx(1.25)
    np.testing.assert_allclose(dx, [0.5, 1.0])
    assert s2sgrad.grad(global_named_like_sin_temporary)(0.3) == pytest.approx(10.0 * math.cos(0.3))


def packed(x):
    p = (x, x * 2.0)
    a, b = p
    return a * b


def test_values_unpacked_from_a_tuple_keep_their_derivative():
    assert s2sgrad.grad(packed)(1.5) == pytest.approx(6.0)


def write_while_a_view_is_pending(x):
    n = x * 2.0
    m = n.T
    n[0], b = 5.0, m * 3.0
    return np.sum(b * x) + np.sum(n)


def test_a_folded_expression_is_not_moved_past_a_write_into_its_array():
    value, dx = s2sgrad.value_and_grad(write_while_a_view_is_pending)(np.array([1.0, 2.0, 3.0]))
    assert value == pytest.approx(99.0)
    np.testing.assert_allclose(dx, [12.0, 26.0, 38.0])


WEIGHTS = np.arange(24.0).reshape(4, 2, 3)


def transpose_negative_axes(x):
    return np.sum(np.transpose(x, (-1, 0, 1)) * WEIGHTS)


def test_transpose_with_negative_axes():
    check_grads(transpose_negative_axes, np.random.default_rng(0).standard_normal((2, 3, 4)))


def integer_to_float(x, n):
    m = n * 1.0
    return np.sum(x * m ** 20)


def test_times_one_is_kept_where_it_turns_integers_into_floats():
    value = s2sgrad.value_and_grad(integer_to_float)(np.array([1.0, 2.0]), np.array([10, 20]))[0]
    assert value == pytest.approx(integer_to_float(np.array([1.0, 2.0]), np.array([10, 20])))


def copy_then_write(x):
    n = +x
    n[0] = 0.0
    m = x * 1.0
    m[1] = 0.0
    return np.sum(n * m)


def test_the_gradient_does_not_write_into_the_callers_array():
    x = np.array([1.0, 2.0, 3.0])
    dx = s2sgrad.grad(copy_then_write)(x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(dx, [0.0, 0.0, 6.0])


def negative_zero_base(x):
    return (-0.0) ** x * 3.0


def test_negative_zero_keeps_its_sign_as_a_base():
    assert "(-0.0) ** x" in s2sgrad.source(negative_zero_base)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert s2sgrad.value_and_grad(negative_zero_base)(2.0)[0] == negative_zero_base(2.0)


def test_long_sums_lower_without_deep_recursion(tmp_path):
    from .support import make_function
    terms = " + ".join(["x"] * 1500)
    fn = make_function(tmp_path, f"def f(x):\n    return {terms}\n")
    assert s2sgrad.grad(fn)(1.0) == 1500.0


def integer_item_update(x):
    m = np.ones(3, dtype=int) * 2
    m[1:] = m[1:] + 0.5
    return np.sum(x * m)


def test_integer_arrays_are_updated_as_python_would():
    np.testing.assert_allclose(s2sgrad.grad(integer_item_update)(np.ones(3)), [2, 2, 2])


def pullback(x):
    return x * 2.0


def test_a_function_named_like_the_generated_code_s_names():
    out, back = s2sgrad.vjp(pullback, 3.0)
    assert back(1.0) == (2.0,)
