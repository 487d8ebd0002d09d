"""Never silently wrong at the rules: casts, functions with no rule yet, complex numbers,
and the edge values of rules that hold.

A cast to integers or bools is piecewise constant (the cast value, derivative zero); a
function with a derivative but no rule yet, or a differentiated value where a rule takes
a constant, is refused at the user's line when the derivative is built; complex values
are refused until complex support lands; 0 ** p, np.std of one entry and their kin give
the conventional answer, not NaN. Every answer is checked against central finite
differences (gradient, jvp and Hessian-vector product), or the refusal is.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import s2sgrad
from s2sgrad import rules
from s2sgrad.errors import NoRuleError, NotDifferentiableError

from .support import check_grads, fuzz, make_function, numeric_vjp

special = pytest.importorskip("scipy.special")


def numeric_jvp(fn, args, i, tangent, eps=1e-6):
    """Central differences of fn along `tangent` in argument i."""
    moved = [list(args), list(args)]
    moved[0][i] = args[i] + eps * tangent
    moved[1][i] = args[i] - eps * tangent
    return (np.asarray(fn(*moved[0])) - np.asarray(fn(*moved[1]))) / (2 * eps)


def check_all_modes(fn, *args, tangent=None, rtol=1e-5, atol=1e-6):
    """grad, jvp and hvp of scalar-valued `fn` in its first argument against differences."""
    x = args[0]
    tangent = np.ones_like(x) if tangent is None else tangent
    check_grads(fn, *args, wrt=(0,), rtol=rtol, atol=atol)
    value, along = s2sgrad.jvp(fn, args, (tangent,), wrt=0)
    np.testing.assert_allclose(value, fn(*args), rtol=1e-12)
    np.testing.assert_allclose(along, numeric_jvp(fn, args, 0, tangent), rtol=rtol, atol=atol)
    gradient = s2sgrad.grad(fn)
    hv = s2sgrad.hvp(fn)(*args, tangent)
    np.testing.assert_allclose(hv, numeric_jvp(gradient, args, 0, tangent), rtol=1e-4, atol=1e-5)


# -- casts: to integers and bools piecewise constant, to floats the identity -------------

def binned_energy(x):
    levels = x.astype(int)                  # which bin each reading falls in
    return np.sum(levels * x ** 2)


def binned_energy_asarray(x):
    return np.sum(np.asarray(x, dtype=int) * x ** 2)


def binned_energy_array(x):
    return np.sum(np.array(x, dtype=np.int32) * np.sin(x))


def masked_sum(x):
    keep = (x - 1.0).astype(bool)           # readings of exactly 1.0 are dropped
    return np.sum(keep * x ** 3)


def floored_scale(x):
    return int(x) * x ** 2 + np.int64(x) * x


def single_precision(x):
    return np.sum(x.astype(np.float32) * x)


@pytest.mark.parametrize("fn", [binned_energy, binned_energy_asarray, binned_energy_array, masked_sum])
def test_casts_to_integers_and_bools_are_piecewise_constant(fn):
    x = np.array([0.3, 1.7, 2.4, -1.6])
    check_all_modes(fn, x)


def test_the_cast_value_is_the_real_cast():
    x = np.array([0.3, 1.7, 2.4, -1.6])
    value, gradient = s2sgrad.value_and_grad(binned_energy)(x)
    assert value == binned_energy(x)
    np.testing.assert_allclose(gradient, 2 * x * np.array([0, 1, 2, -1]))


def test_scalar_casts_by_calling_the_type():
    check_all_modes(floored_scale, 2.6)
    assert s2sgrad.grad(floored_scale)(2.6) == pytest.approx(2 * 2 * 2.6 + 2)


def test_a_cast_to_float32_passes_the_derivative():
    x = np.array([0.5, -1.25, 2.0])         # exact in float32
    np.testing.assert_allclose(s2sgrad.grad(single_precision)(x), 2 * x)


def complex_cast(x):
    return np.sum(np.abs(x.astype(complex)))


def test_a_cast_to_complex_passes_the_derivative():
    x = np.array([1.0, -2.0])
    check_all_modes(complex_cast, x)
    np.testing.assert_array_equal(s2sgrad.grad(complex_cast)(x), np.sign(x))


# -- functions with a derivative: a rule, or a refusal --------------------------------

def path_energy(a, b):
    t = np.linspace(a, b, 7)
    return np.sum(np.sin(t) * t)


def open_grid(a):
    return np.sum(np.linspace(-a, a ** 2, 5, endpoint=False) ** 2)


def cubic_path(b):
    return np.sum(np.linspace(0.0, b, 4) ** 3)


def test_linspace_is_differentiated_in_its_endpoints():
    check_all_modes(path_energy, 0.3, 1.9)
    check_all_modes(cubic_path, 0.8)
    check_all_modes(open_grid, 1.3)
    check_grads(path_energy, 0.3, 1.9, wrt=(0, 1))


def negative_binomial_loglik(r):
    k = np.array([0.0, 3.0, 7.0, 2.0])
    p = 0.4
    return np.sum(special.gammaln(k + r) - special.gammaln(r) + r * np.log(p))


def trigamma_weight(x):
    return np.sum(special.digamma(x) * x)


@pytest.mark.parametrize("fn, x", [(negative_binomial_loglik, 2.3), (trigamma_weight, np.array([0.7, 1.5, 4.0]))])
def test_second_derivatives_through_gammaln_and_digamma(fn, x):
    check_all_modes(fn, x)
    assert np.all(s2sgrad.hvp(fn)(x, np.ones_like(x)) != 0)


def weighted_digamma(x):
    return special.digamma(x) * x


def test_polygamma_gives_second_derivatives_of_digamma():
    d2 = s2sgrad.grad(s2sgrad.grad(weighted_digamma))
    assert d2(1.5) == pytest.approx(special.polygamma(2, 1.5) * 1.5 + 2 * special.polygamma(1, 1.5))


def filled(x):
    return np.sum(np.full(3, x) * 2.0)


def stepped(x):
    return np.sum(np.arange(x, 4.0))


def sublist_einsum(a):
    return np.sum(np.einsum(a, (0, 1), (1, 0)) * np.array([[1.0, 2.0], [3.0, 4.0]]))


@pytest.mark.parametrize("fn, x", [(filled, 0.5), (stepped, 0.5), (sublist_einsum, np.ones((2, 2)))])
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_derivative_with_no_rule_is_refused_at_its_line(fn, x, mode):
    with pytest.raises(NoRuleError) as info:
        if mode == "grad":
            s2sgrad.grad(fn)(x)
        else:
            s2sgrad.jvp(fn, (x,), (np.ones_like(x),))
    assert info.value.loc.line == fn.__code__.co_firstlineno + 1
    assert "no derivative rule" in info.value.message and info.value.hint


def sized_by_fill(x):
    return np.sum(np.full_like(x, 2.0) * x) + np.sum(np.zeros_like(x) + np.sign(x) * x)


def test_shapes_and_steps_rightly_pass_nothing():
    check_all_modes(sized_by_fill, np.array([0.4, -1.3, 2.2]))


# An example call with a differentiated float `x` in an argument the op is not piecewise
# in, for every op of the table that has a derivative but no rule yet. A new entry that
# is neither declared piecewise constant nor listed here fails the walk below.
NO_RULE_YET = {"np.full": "np.full(3, x)", "np.full_like": "np.full_like(np.ones(3), x)",
               "np.arange": "np.arange(x, 4.0)", "np.heaviside": "np.heaviside(0.0, x)",
               "complex": "abs(complex(x))", "np.complex128": "abs(np.complex128(x))",
               "np.complex64": "abs(np.complex64(x))", "np.clongdouble": "abs(np.clongdouble(x))",
               "opaque": "np.unwrap(np.ones(3) * x)", "attr": "(np.ones(3) * x).imag"}


def test_every_op_with_no_derivative_is_piecewise_constant_or_refused(tmp_path):
    for name, op in rules.OPS.items():
        if op.kind != "nondiff" or op.piecewise is True or name in ("bucket",):   # (a user's test rule)
            continue
        assert name in NO_RULE_YET, f"{name} has no rule and is not declared piecewise: add an example"
        fn = make_function(tmp_path, f"def f(x):\n    return np.sum({NO_RULE_YET[name]})\n")
        with pytest.raises(NoRuleError):
            s2sgrad.grad(fn)(0.7)


def test_ops_declared_piecewise_are_the_piecewise_ones():
    piecewise = {n for n, op in rules.OPS.items() if op.kind == "nondiff" and op.piecewise is True}
    assert {"np.sign", "np.floor", "np.argmax", "np.round", "int", "bool", "np.zeros_like"} <= piecewise
    assert not {"np.linspace", "np.arange", "np.full", "polygamma", "complex"} & piecewise


# -- complex numbers: right (tests/test_complex.py proves the rules), or refused ---------

def phase_modulus(x):
    return np.abs(x * (1 + 2j))


def phasor_sum(x):
    return np.sum(np.abs(np.exp(1j * x) + x))


def impedance(x, z):
    return np.abs(x * z)


@pytest.mark.parametrize("fn", [phase_modulus, phasor_sum])
def test_complex_values_inside_a_real_function(fn):
    check_all_modes(fn, 1.5)


def test_complex_numbers_arriving_at_run_time_get_the_derivative_built_for_them():
    assert s2sgrad.grad(impedance)(2.0, 1j) == pytest.approx(1.0)
    assert s2sgrad.vjp(impedance, 2.0, 1j, wrt=0)[1](1.0)[0] == pytest.approx(1.0)
    assert s2sgrad.jvp(impedance, (2.0, 1j), (1.0,), wrt=0)[1] == pytest.approx(1.0)
    x = 1.0 + 2j
    assert s2sgrad.grad(impedance)(x, 1.0) == pytest.approx(np.conj(x) / abs(x))
    with pytest.raises(NotDifferentiableError, match="complex"):
        s2sgrad.hvp(impedance)(2.0, 1j, 1.0)


# -- edge values ----------------------------------------------------------------------

def decay(p):
    return 0.0 ** p + np.power(0.0, p) * 3.0


def moments(p, x):
    return np.sum(x ** p) + np.sum(np.float_power(x, p))


def test_the_power_of_zero_has_derivative_zero_in_the_exponent():
    check_all_modes(decay, 2.5)
    assert s2sgrad.grad(decay)(2.5) == 0.0
    x = np.array([0.0, 0.5, 2.0])
    check_all_modes(moments, 1.7, x)
    expected = 2 * np.sum(np.where(x > 0, x ** 1.7 * np.log(np.where(x > 0, x, 1.0)), 0.0))
    assert s2sgrad.grad(moments)(1.7, x) == pytest.approx(expected)


def spread(x):
    return np.std(x) + np.sum(x ** 2)


def row_spread(m):
    return np.sum(np.std(m, axis=1) * np.array([1.0, 2.0]))


def test_std_of_one_entry_has_derivative_zero():
    check_all_modes(spread, np.array([3.0]))
    np.testing.assert_array_equal(s2sgrad.grad(spread)(np.array([3.0])), [6.0])
    m = np.array([[0.5], [1.5]])
    check_all_modes(row_spread, m)
    np.testing.assert_array_equal(s2sgrad.grad(row_spread)(m), np.zeros((2, 1)))


# -- the fuzzer: random elementwise programs with casts, at edge points ---------------

CASTS = ["{e}.astype(int)", "np.asarray({e}, dtype=int)", "({e} > 0.5).astype(float)", "np.trunc({e})",
         "({e} - 0.5).astype(bool)", "np.array({e}, dtype=np.int64)", "{e}.astype(float)"]
SMOOTH = ["np.sin({e})", "np.cos({e}) ** 2", "np.exp(-{e} ** 2)", "np.tanh({e}) * {e}", "np.abs(np.tanh({e})) ** 3"]
# zeros and one-entry arrays, the other entries far from what makes a cast jump (an integer,
# 0.5) after the products a program takes
EDGE_POINTS = [np.array([0.0]), np.array([0.3137, -1.7391, 2.5113]), np.array([-0.4171, 0.0, 3.2903])]


@st.composite
def cast_programs(draw):
    """`def f(x): ...` mixing casts (piecewise constant) with smooth terms (each scaled by
    a tanh, so that values stay small and finite differences accurate)."""
    lines, names = [], ["x"]
    for k in range(draw(st.integers(1, 4))):
        e = draw(st.sampled_from(names))
        form = draw(st.sampled_from(CASTS + SMOOTH))
        lines.append(f"    t{k} = {form.format(e=e)} * np.tanh({draw(st.sampled_from(names))})")
        names.append(f"t{k}")
    total = " + ".join(f"np.sum({n})" for n in names)
    return "def f(x):\n" + "\n".join(lines) + f"\n    return {total} + np.std(x) + np.sum(0.0 ** (x * x + 1.0))\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("casts")


@fuzz(60)
@given(source=cast_programs(), x=st.sampled_from(EDGE_POINTS))
def test_random_programs_with_casts_at_edge_points(folder, source, x):
    fn = make_function(folder, source, preamble="import numpy as np\n")
    step = 1e-6
    gradient = s2sgrad.grad(fn)(x)
    np.testing.assert_allclose(gradient, numeric_vjp(fn, (x,), 0, 1.0, step), rtol=1e-5, atol=1e-5,
                               err_msg=source)
    _, along = s2sgrad.jvp(fn, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(along, np.sum(gradient), rtol=1e-8, atol=1e-8, err_msg=source)


def test_math_floor_stays_piecewise():
    assert s2sgrad.grad(floor_times)(2.5) == pytest.approx(math.floor(2.5) * 2.0)


def floor_times(x):
    return math.floor(x) * x * 2.0


def knots_moved(x, shift):
    return np.sum(np.interp(x, np.array([0.0, 1.0, 2.0]) + shift, np.array([0.0, 2.0, 1.0])))


def test_interp_in_its_knots_is_refused_not_zero():
    for build in (lambda: s2sgrad.grad(knots_moved, 1)(np.array([0.5, 1.5]), 0.1),
                  lambda: s2sgrad.jvp(knots_moved, (np.array([0.5, 1.5]), 0.1), (1.0,), wrt=1)):
        with pytest.raises(NoRuleError, match="np.interp.*xp"):
            build()
    np.testing.assert_allclose(s2sgrad.grad(knots_moved)(np.array([0.5, 1.5]), 0.1), [2.0, -1.0])


def lower_read(a):
    return np.sum(np.linalg.eigh(a)[0] ** 3) + np.sum(np.linalg.cholesky(a + 4.0 * np.eye(3)))


def upper_read(a):
    return np.sum(np.linalg.eigvalsh(a, UPLO="U") ** 2) + np.sum(np.linalg.eigh(a, "U")[1] ** 4)


@pytest.mark.parametrize("fn", [lower_read, upper_read])
def test_functions_reading_one_triangle_are_differentiated_in_it(fn):
    """np.linalg.eigh and cholesky read one triangle of a matrix that need not be symmetric:
    the derivative is with respect to that triangle (the other's entries change nothing)."""
    a = np.array([[2.0, 0.3, -0.4], [0.9, 1.5, 0.2], [-0.7, 0.6, 3.0]])
    check_all_modes(fn, a)
    g = s2sgrad.grad(fn)(a)
    unread = np.triu(g, 1) if fn is lower_read else np.tril(g, -1)
    np.testing.assert_array_equal(unread, 0.0)


def stacked(x):
    return np.sum(np.r_[x, 2.0 * x, 1.5] ** 2) + np.sum(np.r_[np.outer(x, x), np.ones((1, 3))] * 2.0)


def test_the_index_trick_r_is_the_join_it_stands_for():
    check_all_modes(stacked, np.array([0.5, -1.0, 2.0]))


def columns(x):
    return np.sum(np.c_[x[:, 0], x[:, 1] ** 2, 2.0 * x] ** 2 * np.arange(15.0).reshape(3, 5)) \
        + np.sum(np.c_[x[None], np.sin(x[None])] ** 2) + np.sum(np.c_[x[0, 0], 1.5])


def test_the_index_trick_c_joins_columns_along_the_last_axis():
    """np.c_ makes a vector a column, a number a 1 x 1 matrix, and keeps an array of two
    or more dimensions, whatever its items turn out to be when the code runs."""
    check_all_modes(columns, np.array([[0.5, -1.0, 2.0], [0.3, 0.7, -0.2], [1.1, -0.4, 0.9]]))


def masked_twice(x):
    return np.mean(x ** 2, where=x > 0.0)


def test_a_mean_that_would_read_its_mask_twice_is_refused():
    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="twice"):
        s2sgrad.grad(masked_twice)(np.array([0.5, -1.0]))


def masked_totals(x):
    small = x < 1.0
    return np.sum(x, where=x > 0, initial=1.0) + np.sum(np.mean(x, axis=1, where=small) ** 2) \
        + np.sum(np.sum(x ** 2, axis=0, where=np.array([True, False, True]), keepdims=True))


def test_sums_and_means_with_where_and_initial():
    x = np.array([[0.5, -1.0, 2.0], [0.3, 0.7, -0.2]])
    check_all_modes(masked_totals, x)
    assert s2sgrad.value_and_grad(masked_totals)(x)[0] == pytest.approx(masked_totals(x))


TUPLE_RESULTS = '''
import numpy as np
from scipy.integrate import solve_ivp

DX = 0.5
T = None


def spread(x):
    return np.outer(x, np.array([1.0, -0.5, 0.3])) + np.diag([2.0, 3.0, 5.0])


def last_item(x):
    r = np.linalg.slogdet(spread(x))
    return r[-1] + np.sum(np.linalg.svd(spread(x))[-2])


def again_in_a_loop(x):
    r = np.linalg.slogdet(spread(x))
    for k in range(2):
        r = np.linalg.slogdet(spread(x) * r.logabsdet)
    return r.logabsdet


def rhs(t, y, k):
    return -k * y + 0.1 * y ** 2


def chained(p):
    times = np.array([0.0, 0.5, 1.0])
    sol = solve_ivp(rhs, (0.0, 1.0), p[:2], t_eval=times, args=(p[2],), rtol=1e-10, atol=1e-10)
    for i in range(2):
        sol = solve_ivp(rhs, (0.0, 1.0), sol.y[:, -1], t_eval=times, args=(p[2],), rtol=1e-10, atol=1e-10)
    return np.sum(sol.y ** 2)


def columns_of_a_tuple(x):
    t = (x, x ** 2)
    return np.sum(np.c_[t] ** 2 * np.arange(1.0, 7.0).reshape(3, 2)) + np.sum(np.r_[t] ** 3)


def a_global_tuple(x):
    return np.sum(np.c_[T] * x)


def spacing(y):
    return np.trapezoid(y ** 2, dx=DX)
'''


@pytest.fixture(scope="module")
def tuple_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tuple_results")
    return make_function(folder, TUPLE_RESULTS, "last_item", preamble="").__globals__


@pytest.mark.parametrize("name, x", [("last_item", [0.6, -0.9, 0.4]), ("again_in_a_loop", [0.6, -0.9, 0.4]),
                                     ("chained", [0.7, -0.4, 1.3]), ("columns_of_a_tuple", [0.5, -1.0, 2.0])])
def test_items_of_tuple_results_by_negative_index_in_loops_and_index_tricks(tuple_results, name, x):
    """`r[-1]` is the last item; a tuple result reassigned in a loop (`r = np.linalg.slogdet(...)`,
    `sol = solve_ivp(...)`) carries each turn's items; `np.c_[t]` of a tuple t joins its items."""
    check_all_modes(tuple_results[name], np.array(x))


def test_a_tuple_held_elsewhere_in_an_index_trick_and_a_global_read_as_a_constant(tuple_results):
    tuple_results["T"] = (np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="write them out"):
        s2sgrad.grad(tuple_results["a_global_tuple"])(np.ones((3, 2)))
    spacing, y = s2sgrad.value_and_grad(tuple_results["spacing"]), np.array([1.0, 2.0, 3.0])
    assert spacing(y)[0] == tuple_results["spacing"](y)
    tuple_results["DX"] = 2.0                      # (a module global taken as a constant: read again)
    value, gradient = spacing(y)
    assert value == tuple_results["spacing"](y) == 18.0
    np.testing.assert_allclose(gradient, [2.0, 8.0, 6.0])


def interpolated(x):
    return np.interp(x[0], np.array([0.0, 1.0, 2.0]), x[1:4]) * 2.0 + np.sum(np.interp(x[:2], np.array([0.0, 1.0, 2.0]), x[1:4]) ** 2)


def test_second_derivatives_of_interp_mix_the_points_and_the_values():
    """d/dx of the slope through fp: the cross terms of x and fp (they were dropped)."""
    check_all_modes(interpolated, np.array([0.73, 1.31, 0.37, 0.91]), tangent=np.array([0.3, -1.0, 0.5, 2.0]))
