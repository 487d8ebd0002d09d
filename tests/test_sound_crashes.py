"""Crashes and silent wrong answers of issue 14, each as a scientist would write the
function: every answer right in grad, jvp and hvp (and vjp for array outputs), checked
against central finite differences, or refused when the derivative is built."""
import inspect

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import s2sgrad
from s2sgrad import runtime

from .support import check_grads, fuzz, make_function, numeric_vjp

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


def test_det_of_invertible_matrices_in_all_modes():
    assert_all_modes(volume, RNG.standard_normal((4, 4)))
    assert_all_modes(volumes_squared, RNG.standard_normal((2, 3, 3)))


def test_det_of_a_stack_with_a_singular_matrix():
    a = np.stack([_with_singular_values([1.0, 0.0, 0.0], 0), RNG.standard_normal((3, 3))])
    assert_all_modes(volumes_squared, a, atol=1e-8)
    check_grads(volume, a)


# -- products of many entries: zeros and subnormals ------------------------------------

def likelihood(p):
    return np.prod(p)


def running_products(p):
    return np.sum(np.cumprod(p) * np.array([1.0, -2.0, 0.5, 3.0]))


def _without(x, *positions):
    return np.prod(np.delete(x, list(positions)))


@pytest.mark.parametrize("x", [[1e-310, 4e-310, 2.0, 3.0], [0.0, 2.0, 0.0, 3.0], [1e-200, 1e-200, 1e200, 2.0],
                               [5e-324, 2.0, -3.0, 0.5]], ids=["subnormals", "zeros", "underflow", "smallest"])
def test_prod_hvp_with_zeros_and_subnormals_is_exact(x):
    x, t = np.array(x), np.array([0.5, -1.0, 2.0, 0.25])
    hessian = np.array([[0.0 if i == j else _without(x, i, j) for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(s2sgrad.grad(likelihood)(x), [_without(x, i) for i in range(4)], rtol=1e-14)
    np.testing.assert_allclose(s2sgrad.hvp(likelihood)(x, t), hessian @ t, rtol=1e-14, atol=0)
    _, along = s2sgrad.jvp(likelihood, (x,), (t,))
    np.testing.assert_allclose(along, sum(_without(x, i) * t[i] for i in range(4)), rtol=1e-14)


@pytest.mark.parametrize("x", [[1e-310, 4e-310, 2.0, 3.0], [1e-200, 1e-200, 1e200, 2.0]],
                         ids=["subnormals", "underflow"])
def test_cumprod_derivatives_with_subnormals_are_exact(x):
    x, t, w = np.array(x), np.array([0.5, -1.0, 2.0, 0.25]), np.array([1.0, -2.0, 0.5, 3.0])
    # running_products = sum_k w_k prod_{j <= k} x_j: its derivatives are sums of products
    gradient = [sum(w[k] * _without(x[:k + 1], i) for k in range(i, 4)) for i in range(4)]
    hessian = np.array([[0.0 if i == j else sum(w[k] * _without(x[:k + 1], i, j) for k in range(max(i, j), 4))
                         for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(s2sgrad.grad(running_products)(x), gradient, rtol=1e-14)
    np.testing.assert_allclose(s2sgrad.hvp(running_products)(x, t), hessian @ t, rtol=1e-14, atol=0)
    _, along = s2sgrad.jvp(running_products, (x,), (t,))
    np.testing.assert_allclose(along, np.dot(gradient, t), rtol=1e-14)


def test_prod_and_cumprod_away_from_zero_in_all_modes():
    x = np.array([[0.5, 2.0, -3.0], [1.5, -0.7, 0.9]])
    assert_all_modes(likelihood, x)
    assert_all_modes(running_products, x[0, :2].repeat(2))


# -- masks: an adjoint that is a boolean times one stays floats -------------------------

def reflected_part(x):
    return np.sum(np.where(x > 0, 0.0, -x))


def reflected_point(x):
    return np.where(x > 0, 0.0, -x)


def masked_loss(x, mask):
    return np.where(mask, -x, 0.0)


def test_where_of_a_negated_input_in_all_modes():
    x = np.array([-1.5, -0.2, 0.3, 1.1])
    np.testing.assert_array_equal(s2sgrad.grad(reflected_part)(x), [-1.0, -1.0, 0.0, 0.0])
    assert_all_modes(reflected_part, x)
    assert_all_modes(reflected_point, -0.7)
    assert_all_modes(reflected_point, 0.7)


def test_an_adjoint_equal_to_a_mask_is_floats():
    for mask, expected in ((True, -1.0), (False, -0.0), (np.bool_(True), -1.0)):
        dx = s2sgrad.grad(masked_loss)(0.7, mask)
        assert dx == expected and np.asarray(dx).dtype == float
    dx = s2sgrad.grad(relu_energy)(np.array([0.5]))
    assert dx.dtype == float


# -- outputs that are lists of unequal arrays --------------------------------------------

def split_series(x):
    head, middle, tail = np.split(x * 2.0, [1, 3])
    return [head, np.sin(middle), tail ** 2]


def split_energy(x):
    head, middle, tail = np.split(x, [1, 2])
    return np.sum(head) * 2.0 + np.sum(middle ** 2) + np.sum(np.sin(tail))


def _paired(out, cotangent):
    return sum(np.sum(o * c) for o, c in zip(out, cotangent))


def test_vjp_and_jvp_of_a_list_of_unequal_parts():
    x = np.array([0.5, -1.0, 2.0, 0.3, 1.2])
    out, pullback = s2sgrad.vjp(split_series, x)
    assert [np.shape(o) for o in out] == [(1,), (2,), (2,)]
    cotangent = [np.array([0.7]), np.array([-1.0, 2.0]), np.array([0.5, 0.25])]
    expected = numeric_vjp(lambda v: _paired(split_series(v), cotangent), (x,), 0, 1.0)
    for given in (cotangent, tuple(cotangent)):
        np.testing.assert_allclose(pullback(given)[0], expected, rtol=1e-6)
    t = np.array([1.0, 0.5, -0.5, 2.0, 0.1])
    _, along = s2sgrad.jvp(split_series, (x,), (t,))
    for i, part in enumerate(along):
        basis = [np.zeros(np.shape(o)) for o in out]
        rows = [numeric_vjp(lambda v: _paired(split_series(v), basis[:i] + [e] + basis[i + 1:]), (x,), 0, 1.0)
                for e in np.eye(np.size(out[i]))]
        np.testing.assert_allclose(part, np.array(rows) @ t, rtol=1e-6)
    assert_all_modes(split_energy, x)


def test_a_cotangent_of_the_wrong_shapes_for_unequal_parts_is_refused():
    out, pullback = s2sgrad.vjp(split_series, np.arange(1.0, 6.0))
    with pytest.raises(s2sgrad.ShapeError, match="cotangent has shape"):
        pullback([np.ones(2)] * 3)
    with pytest.raises(s2sgrad.NotDifferentiableError, match="list of arrays of different shapes") as info:
        s2sgrad.jacobian(split_series)(np.arange(1.0, 6.0))
    assert info.value.loc.line == split_series.__code__.co_firstlineno


# -- products the runtime refused: np.dot of N-D operands, einsum with ... and diagonals --

def stacked_dot(a, b):
    return np.sum(np.dot(a, b) ** 2)


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4)), ((3,), (2, 3, 4))],
                         ids=["2-D with 3-D", "3-D with 3-D", "1-D with 3-D"])
def test_dot_with_an_operand_of_more_than_two_dimensions(shapes):
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    assert_all_modes(stacked_dot, a, b)
    assert_all_modes(stacked_dot, a, b, wrt=1)


def trace_and_diagonal(a, b):
    return np.einsum("ii,ij->", a, b) + np.sum(np.einsum("ii->i", a) ** 2 * np.einsum("ij,jj->i", a, b))


def batched_products(a, b):
    return np.sum(np.einsum("...ij,...jk->...ik", a, b) ** 2) + np.sum(np.einsum("...ij,...jk", a, b))


def broadcast_dots(a, b):
    return np.sum(np.einsum("...i,...i->...", a, b) ** 2)


def test_einsum_with_repeated_indices_takes_diagonals():
    a, b = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    assert_all_modes(trace_and_diagonal, a, b)
    assert_all_modes(trace_and_diagonal, a, b, wrt=1)


@pytest.mark.parametrize("shapes", [((2, 3, 4), (2, 4, 2)), ((2, 3, 4), (4, 2))], ids=["same batch", "broadcast"])
def test_einsum_with_an_ellipsis(shapes):
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    assert_all_modes(batched_products, a, b)
    assert_all_modes(batched_products, a, b, wrt=1)


def test_einsum_ellipsis_that_broadcasts_a_length_one_axis():
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((1, 3))
    assert_all_modes(broadcast_dots, a, b)
    assert_all_modes(broadcast_dots, a, b, wrt=1)


# -- np.pad: the modes that copy entries fold the margin back; the others are refused ----

def _roughness(padded):
    return np.sum((padded[1:] - padded[:-1]) ** 2 * np.arange(1.0, 10.0))


def edge_padded(x):
    return _roughness(np.pad(x, (2, 3), mode="edge"))


def reflect_padded(x):
    return _roughness(np.pad(x, (2, 3), mode="reflect"))


def symmetric_padded(x):
    return _roughness(np.pad(x, (2, 3), mode="symmetric"))


def wrap_padded(x):
    return _roughness(np.pad(x, (2, 3), mode="wrap"))


def constant_padded(x):
    return _roughness(np.pad(x, (2, 3)))


def reflected_image(x):
    return np.sum(np.pad(x, ((1, 2), (2, 1)), mode="reflect") ** 2 * np.arange(30.0).reshape(5, 6))


def wrapped_image(x):
    return np.sum(np.pad(x, ((1, 2), (3, 4)), "wrap") ** 3)


def stretched_signal(x):
    return np.sum(np.pad(x, 1, mode="reflect", reflect_type="odd") ** 2)


@pytest.mark.parametrize("fn", [edge_padded, reflect_padded, symmetric_padded, wrap_padded, constant_padded],
                         ids=lambda fn: fn.__name__)
def test_pad_modes_that_copy_entries(fn):
    assert_all_modes(fn, RNG.standard_normal(5))


def test_pad_of_images_with_copied_margins():
    assert_all_modes(reflected_image, RNG.standard_normal((2, 3)))
    assert_all_modes(wrapped_image, RNG.standard_normal((3, 2)))


def test_pad_modes_without_a_rule_are_refused_at_the_users_line():
    line = stretched_signal.__code__.co_firstlineno + 1
    for build in (lambda: s2sgrad.grad(stretched_signal)(np.ones(3)),
                  lambda: s2sgrad.jvp(stretched_signal, (np.ones(3),), (np.ones(3),))):
        with pytest.raises(s2sgrad.NoRuleError, match="reflect_type='odd'") as info:
            build()
        assert info.value.loc.line == line and "reflect_type" in info.value.hint


# -- matrix norms: nuclear, spectral (largest and smallest), 1 and inf, of stacks too -----

def nuclear(a):
    return np.linalg.norm(a, ord="nuc")


def spectral_gap(a):
    return np.linalg.norm(a, 2) - np.linalg.norm(a, -2)


def column_and_row_sums(a):
    return np.linalg.norm(a, 1) + np.linalg.norm(a, -np.inf)


def nuclear_of_stack(a):
    return np.sum(np.linalg.norm(a, "nuc", axis=(1, 2)) ** 2)


def spectral_of_stack(a):
    return np.sum(np.linalg.norm(a, 2, axis=(0, 2), keepdims=True) * np.array([[[1.0], [2.0], [3.0]]]))


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (3, 3)])
@pytest.mark.parametrize("fn", [nuclear, spectral_gap, column_and_row_sums], ids=lambda fn: fn.__name__)
def test_matrix_norms_in_all_modes(fn, shape):
    assert_all_modes(fn, RNG.standard_normal(shape))


def test_nuclear_norm_gradient_is_the_polar_factor():
    a = RNG.standard_normal((4, 3))
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(s2sgrad.grad(nuclear)(a), u @ vt, atol=1e-12)


@pytest.mark.parametrize("fn", [nuclear_of_stack, spectral_of_stack], ids=lambda fn: fn.__name__)
def test_matrix_norms_of_stacks(fn):
    assert_all_modes(fn, RNG.standard_normal((2, 3, 4)))


# -- a pullback and its forward sweep share no temporaries ----------------------------

def student_t_log_density(x, df):
    return -(df + 1) / 2.0 * np.log(1 + x ** 2 / df)


def student_t_log_likelihood(x, df, scale):
    z = x / scale
    return np.sum(-(df + 1) / 2.0 * np.log(1 + z ** 2 / df) - np.log(scale))


def test_student_t_log_density_in_all_modes():
    for wrt in (0, 1):
        assert_all_modes(student_t_log_density, 0.7, 3.0, wrt=wrt)
    x = np.array([0.3, -1.2, 2.0])
    for wrt in (0, 1, 2):
        assert_all_modes(student_t_log_likelihood, x, 3.0, 1.5, wrt=wrt)
    check_grads(student_t_log_density, x, 3.0)
    hessian = s2sgrad.hessian(student_t_log_density, wrt=(0, 1))(0.7, 3.0)
    second = s2sgrad.grad(s2sgrad.grad(student_t_log_density, wrt=1), wrt=1)(0.7, 3.0)
    assert float(hessian[1][1]) == pytest.approx(second, rel=1e-12)


# -- the mechanisms, fuzzed: the classes of inputs that crashed ------------------------

FUZZ = fuzz(25)
_MADE: dict = {}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("crashes")


def _written(folder, source: str):
    """The function `f` of `source`, written to a module once (the same source: the same function)."""
    if source not in _MADE:
        _MADE[source] = make_function(folder, source)
    return _MADE[source]


EDGES = [0.0, 5e-324, 1e-310, -3e-310, 1e-150, 0.5, -1.5, 2.0, 3.0]


@FUZZ
@given(x=st.lists(st.sampled_from(EDGES), min_size=2, max_size=5))
@example(x=[0.5, 1e-150, 1e-150, 0.0])             # terms of the hvp cancel to rounding
def test_fuzz_product_derivatives_at_zeros_and_subnormals(x):
    """prod's gradient, jvp and hvp are sums of products of the other entries, whatever
    the entries (zero, subnormal, normal): never inf or NaN. A sum along `t` is right to
    within rounding of its terms' magnitudes (terms may cancel)."""
    x = np.array(x)
    n, t = len(x), np.linspace(-1.0, 1.0, len(x))
    gradient = np.array([_without(x, i) for i in range(n)])
    hessian = np.array([[0.0 if i == j else _without(x, i, j) for j in range(n)] for i in range(n)])
    np.testing.assert_allclose(s2sgrad.grad(likelihood)(x), gradient, rtol=1e-12, atol=1e-300)
    _assert_sum_close(s2sgrad.hvp(likelihood)(x, t), hessian, t)
    _, along = s2sgrad.jvp(likelihood, (x,), (t,))
    _assert_sum_close(along, gradient, t)


def _assert_sum_close(got, terms, t):
    """`got` is `terms @ t` to within rounding of the terms' magnitudes."""
    want, size = terms @ t, np.abs(terms) @ np.abs(t)
    assert np.all(np.isfinite(got)) and np.all(np.abs(got - want) <= 1e-12 * size + 1e-300), (got, want)


@FUZZ
@given(mode=st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap", "empty"]),
       shape=st.sampled_from([(4,), (2, 3), (3, 1, 2)]), data=st.data())
def test_fuzz_pad_modes_against_differences(folder, mode, shape, data):
    """np.pad in any mode it has a rule for, any widths: the vjp against differences."""
    widths = tuple((data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))) for _ in shape)
    fn = _written(folder, f"def f(x):\n    return np.pad(x, {widths}, mode={mode!r}) * 1.0\n")
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    out, pullback = s2sgrad.vjp(fn, x)
    cotangent = np.random.default_rng(1).standard_normal(np.shape(out))
    if mode == "empty":                       # NumPy leaves the margin as it finds it
        cotangent = np.pad(runtime.unpad(cotangent, x, widths), widths)
    np.testing.assert_allclose(pullback(cotangent)[0], numeric_vjp(fn, (x,), 0, cotangent), atol=1e-8)


SIZES = {"i": 2, "j": 3, "k": 2}


@st.composite
def einsums(draw):
    """Subscripts over two operands: letters that repeat in an operand (diagonals), an
    ellipsis (batched, or broadcast from length one), implicit or explicit output."""
    words = [draw(st.text("ijk", min_size=1, max_size=3)) for _ in range(2)]
    ellipsis = draw(st.sampled_from([None, (2,), (1,)]))
    unique = sorted(set("".join(words)))
    output = None if draw(st.booleans()) else "".join(draw(st.permutations(unique))[:draw(st.integers(0, len(unique)))])
    shapes = [tuple(SIZES[c] for c in w) for w in words]
    if ellipsis is not None:
        words = ["..." + w for w in words]
        shapes = [(2,) + shapes[0], ellipsis + shapes[1]]
        output = None if output is None else "..." + output
    return ",".join(words) + ("" if output is None else "->" + output), shapes


@FUZZ
@given(spec=einsums())
def test_fuzz_einsum_against_differences(folder, spec):
    subscripts, shapes = spec
    a, b = (np.random.default_rng(k).standard_normal(s) for k, s in enumerate(shapes))
    try:
        np.einsum(subscripts, a, b)
    except ValueError:
        assume(False)                          # not an einsum NumPy takes
    fn = _written(folder, f"def f(a, b):\n    return np.sum(np.sin(np.einsum({subscripts!r}, a, b)))\n")
    for i in (0, 1):
        np.testing.assert_allclose(s2sgrad.grad(fn, wrt=i)(a, b), numeric_vjp(fn, (a, b), i, 1.0),
                                   rtol=1e-5, atol=1e-7, err_msg=subscripts)


def test_runtime_helpers_refuse_nothing_at_run_time():
    """What a rule cannot take is refused where the derivative is built (Op.refuse), at
    the user's line: no helper of the generated code raises a bare ValueError."""
    assert "raise ValueError" not in inspect.getsource(runtime)
