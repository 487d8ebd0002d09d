"""The front door never answers wrong: every entry point behaves like calling the
user's function on copies of the arguments (issue 14)."""
from __future__ import annotations

import gc
import linecache
import weakref

import numpy as np
import pytest
from hypothesis import given, strategies as st

import s2sgrad
from .support import fuzz, make_function, numeric_vjp


def _on_copies(fn):
    """`fn` called on copies of its arrays: what every derivative must agree with."""
    return lambda *args: fn(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))


def _fd_jacobian(fn, x, eps=1e-6):
    """Central differences: d fn(x) / dx, shaped out + x."""
    columns = []
    for k in range(x.size):
        step = np.zeros_like(x)
        step.flat[k] = eps
        columns.append((np.asarray(fn(x + step)) - np.asarray(fn(x - step))) / (2 * eps))
    return np.moveaxis(np.array(columns).reshape(x.shape + np.shape(columns[0])), range(x.ndim),
                       range(-x.ndim, 0))


# -- forward-mode entry points leave the caller's arrays alone ----------------------

WRITES = ["x[:] = np.sin(x)", "x[[0, 2]] += 1.0", "x[1] = x[0] * x[2]", "x *= 1.5",
          "x[::2] = np.cos(x[::2])", "x[0] = x[0] ** 2"]
RETURNS = ["np.sum(x ** 3) + np.sum(np.sin(x))", "np.sum(np.exp(x) * x)"]


def _writer(tmp_path, writes, result):
    body = "".join(f"    {w}\n" for w in writes)
    return make_function(tmp_path, f"def energy(x):\n{body}    return {result}\n", name="energy")


def _every_entry_point(fn, x):
    """What each entry point answers at x, and what central differences say it should."""
    plain = _on_copies(fn)
    g = _fd_jacobian(plain, x)
    h = _fd_jacobian(lambda y: _fd_jacobian(plain, y, 1e-4), x, 1e-4)
    t = np.linspace(0.5, 1.5, x.size)
    return [("grad", lambda: s2sgrad.grad(fn)(x), g),
            ("value_and_grad", lambda: s2sgrad.value_and_grad(fn)(x)[1], g),
            ("vjp", lambda: s2sgrad.vjp(fn, x)[1](1.0)[0], g),
            ("jvp", lambda: s2sgrad.jvp(fn, (x,), (t,))[1], g @ t),
            ("hvp", lambda: s2sgrad.hvp(fn)(x, t), h @ t),
            ("jacobian", lambda: s2sgrad.jacobian(fn)(x), g),
            ("jacobian forward", lambda: s2sgrad.jacobian(fn, mode="forward")(x), g),
            ("hessian", lambda: s2sgrad.hessian(fn)(x), h)]


@fuzz(6)
@given(writes=st.lists(st.sampled_from(WRITES), min_size=1, max_size=2), result=st.sampled_from(RETURNS))
def test_functions_writing_into_their_parameter_leave_the_callers_array_alone(tmp_path, writes, result):
    fn = _writer(tmp_path, writes, result)
    x = np.array([0.3, -0.2, 0.7])
    kept = x.copy()
    for name, answer, want in _every_entry_point(fn, x):
        got = answer()
        np.testing.assert_array_equal(x, kept, err_msg=f"{name} wrote into the caller's array")
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"{name} of {writes}")


def test_jacobian_forward_of_a_function_that_normalizes_in_place(tmp_path):
    fn = make_function(tmp_path, """
        def squash(x):
            x[:] = np.sin(x)
            return x * 2.0
    """, name="squash")
    x = np.array([0.1, 0.2, 0.3])
    jac = s2sgrad.jacobian(fn, mode="forward")(x)
    np.testing.assert_array_equal(x, [0.1, 0.2, 0.3])
    np.testing.assert_allclose(jac, np.diag(2 * np.cos(x)), rtol=1e-12)


def test_jvp_and_hvp_never_hand_back_the_callers_tangent(tmp_path):
    identity = make_function(tmp_path, "def identity(x):\n    return x\n", name="identity")
    energy = make_function(tmp_path, "def energy(x):\n    return 0.5 * np.sum(x * x)\n", name="energy")
    x, t = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    _, along = s2sgrad.jvp(identity, (x,), (t,))
    product = s2sgrad.hvp(energy)(x, t)
    along[0] = product[0] = -1.0
    np.testing.assert_array_equal(t, [3.0, 4.0])
    np.testing.assert_array_equal(product, [-1.0, 4.0])


# -- compiling runs none of the user's functions ------------------------------------

def test_a_random_draw_in_the_objective_is_drawn_once_per_call(tmp_path):
    s2sgrad.nondifferentiable(np.random.normal)
    fn = make_function(tmp_path, """
        def noisy_fit(w):
            noise = np.random.normal(size=3)
            return np.sum((w - noise) ** 2)
    """, name="noisy_fit")
    w = np.array([0.5, -1.0, 2.0])
    np.random.seed(7)
    value, gradient = s2sgrad.value_and_grad(fn)(w)
    after = np.random.normal()
    np.random.seed(7)
    noise = np.random.normal(size=3)
    assert value == pytest.approx(np.sum((w - noise) ** 2), rel=1e-12)
    np.testing.assert_allclose(gradient, 2 * (w - noise), rtol=1e-12)
    assert after == np.random.normal()           # the stream advanced by exactly one draw of 3


def test_a_method_of_the_users_random_state_is_called_on_that_state(tmp_path):
    rs = np.random.RandomState(3)
    s2sgrad.nondifferentiable(rs.standard_normal)
    fn = make_function(tmp_path, """
        def dropout_like(x):
            return np.sum(x * rs.standard_normal(4))
    """, name="dropout_like")
    fn.__globals__["rs"] = rs
    gradient = s2sgrad.grad(fn)(np.ones(4))
    np.testing.assert_array_equal(gradient, np.random.RandomState(3).standard_normal(4))
    assert "np.standard_normal" not in s2sgrad.source(fn)


# -- the user's names never hide what the generated code calls ----------------------

def test_a_module_function_named_reversed_leaves_the_reverse_loop_alone(tmp_path):
    fn = make_function(tmp_path, """
        def reversed(velocities):
            # time reversal: the same path walked backwards
            return [-v for v in velocities]

        def horner(c, x):
            total = 0.0
            for i in range(3):
                total = total * x + c[i]
            return total
    """, name="horner")
    c = np.array([2.0, -1.0, 0.5])
    want = numeric_vjp(fn, (c, 1.5), 0, 1.0)
    np.testing.assert_allclose(s2sgrad.grad(fn)(c, 1.5), want, rtol=1e-7)
    np.testing.assert_allclose(want, [1.5 ** 2, 1.5, 1.0], rtol=1e-7)


def test_parameters_named_like_builtins(tmp_path):
    fn = make_function(tmp_path, """
        def weighted(x, type, range, len, list, reversed, slice):
            total = 0.0
            for v in x[1:]:
                total = total + v * type * range
            return total * len + list * reversed * slice
    """, name="weighted")
    x, rest = np.array([1.0, 2.0, 3.0]), (2.0, 3.0, 0.5, 1.0, 1.0, 1.0)
    for gradient in (s2sgrad.grad(fn)(x, *rest), s2sgrad.value_and_grad(fn)(x, *rest)[1],
                     s2sgrad.vjp(fn, x, *rest, wrt=0)[1](1.0)[0]):
        np.testing.assert_allclose(gradient, [0.0, 3.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.jvp(fn, (x, *rest), (np.ones(3),), wrt=(0,))[1], 6.0, rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.hvp(fn)(x, *rest, np.ones(3)), np.zeros(3), atol=1e-12)


# -- a decorated function is differentiated as what runs: its wrapper ----------------

DECORATORS = """
import functools


def doubled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


def first_only(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(args[0], 1.0)
    return wrapper
"""


def test_a_function_wrapped_by_a_decorator_is_differentiated_with_its_decorator(tmp_path):
    fn = make_function(tmp_path, """
        @doubled
        def energy(x, *, stiffness=3.0):
            return stiffness * np.sum(x ** 2)
    """, name="energy", preamble="import numpy as np\n" + DECORATORS)
    x = np.array([1.0, -2.0])
    value, gradient = s2sgrad.value_and_grad(fn)(x)
    assert value == fn(x) == 30.0
    np.testing.assert_allclose(gradient, numeric_vjp(fn, (x,), 0, 1.0), rtol=1e-7)
    np.testing.assert_allclose(s2sgrad.grad(fn)(x, stiffness=1.0), 4.0 * x, rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.hessian(fn)(x), 12.0 * np.eye(2), rtol=1e-12)
    report = s2sgrad.verify(fn, x)
    assert report and all(v.verified for v in report.verdicts), report


def test_a_wrapper_that_reads_its_arguments_is_refused_at_its_line(tmp_path):
    fn = make_function(tmp_path, """
        @first_only
        def spring(x, k):
            return k * np.sum(x ** 2)
    """, name="spring", preamble="import numpy as np\n" + DECORATORS)
    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="decorator `first_only`") as info:
        s2sgrad.grad(fn)
    assert info.value.loc.text.strip() == "return fn(args[0], 1.0)"


# -- a derivative is of the code that runs now ---------------------------------------

def test_a_redefined_helper_is_differentiated_anew(tmp_path):
    loss = make_function(tmp_path, """
        def penalty(w):
            return w ** 2

        def loss(w):
            return np.sum(penalty(w))
    """, name="loss")
    w = np.array([1.0, -2.0])
    np.testing.assert_allclose(s2sgrad.grad(loss)(w), 2 * w, rtol=1e-12)
    loss.__globals__["penalty"] = make_function(tmp_path, "def penalty(w):\n    return np.abs(w) ** 3\n",
                                                name="penalty")          # the cell re-run
    np.testing.assert_allclose(s2sgrad.grad(loss)(w), 3 * w * np.abs(w), rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.jvp(loss, (w,), (np.ones(2),))[1], np.sum(3 * w * np.abs(w)),
                               rtol=1e-12)


def test_derivatives_made_before_a_helper_is_redefined_follow_it(tmp_path):
    """A gradient function kept across a notebook cell re-run differentiates the helper
    as it is now, as calling the function itself would use it; in every entry point
    that keeps a derivative (grad, value_and_grad, hvp, hessian, grad of grad)."""
    loss = make_function(tmp_path, """
        def penalty(w):
            return np.sin(w) * w

        def loss(w):
            return penalty(w) + w ** 2
    """, name="loss")
    kept = [s2sgrad.grad(loss), lambda w: s2sgrad.value_and_grad(loss)(w)[1]]
    made = [s2sgrad.grad(loss), s2sgrad.value_and_grad(loss), s2sgrad.hvp(loss), s2sgrad.hessian(loss),
            s2sgrad.grad(s2sgrad.grad(loss))]
    w = 0.7
    assert made[0](w) == pytest.approx(np.cos(w) * w + np.sin(w) + 2 * w, rel=1e-12)
    assert made[3](w) == pytest.approx(-np.sin(w) * w + 2 * np.cos(w) + 2, rel=1e-12)
    loss.__globals__["penalty"] = make_function(tmp_path, "def penalty(w):\n    return w ** 4\n",
                                                name="penalty")          # the cell re-run
    first, second = 4 * w ** 3 + 2 * w, 12 * w ** 2 + 2
    assert made[0](w) == pytest.approx(first, rel=1e-12)
    assert made[1](w)[1] == pytest.approx(first, rel=1e-12)
    assert made[2](w, 1.0) == pytest.approx(second, rel=1e-12)
    assert made[3](w) == pytest.approx(second, rel=1e-12)
    assert made[4](w) == pytest.approx(second, rel=1e-12)
    assert [k(w) for k in kept] == pytest.approx([first, first], rel=1e-12)


def test_a_wrapper_spelling_out_parameters_is_differentiated_as_it_runs(tmp_path):
    fn = make_function(tmp_path, """
        def shifted(fn):
            @functools.wraps(fn)
            def wrapper(x, v):
                return fn(x + 0.25, v * 0.5)
            return wrapper


        @shifted
        def model(x, weights):
            return np.sum(np.tanh(weights)) * x + np.sin(x)
    """, name="model", preamble="import functools\nimport numpy as np\n")
    x, v = 0.3, np.array([0.1, 0.2, -0.3])
    dx, dv = s2sgrad.grad(fn, (0, 1))(x, v)
    assert dx == pytest.approx(numeric_vjp(fn, (x, v), 0, 1.0), rel=1e-7)
    np.testing.assert_allclose(dv, numeric_vjp(fn, (x, v), 1, 1.0), rtol=1e-7)
    np.testing.assert_allclose(s2sgrad.grad(fn, "weights")(x, v), dv, rtol=1e-12)


def test_a_wrapper_with_defaults_of_its_own_is_refused(tmp_path):
    fn = make_function(tmp_path, """
        def rescaled(fn):
            @functools.wraps(fn)
            def wrapper(x, scale=1.0):
                return fn(x, scale * 2.0)
            return wrapper


        @rescaled
        def energy(x, scale=3.0):
            return scale * np.sum(x ** 2)
    """, name="energy", preamble="import functools\nimport numpy as np\n")
    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="differ from those of the function it wraps"):
        s2sgrad.grad(fn)


def test_replaced_code_is_differentiated_anew(tmp_path):
    old = make_function(tmp_path, "def model(x):\n    return np.sum(x * 2.0)\n", name="model")
    new = make_function(tmp_path, "def model(x):\n    return np.sum(np.sin(x))\n", name="model")
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(s2sgrad.grad(old)(x), [2.0, 2.0])
    np.testing.assert_allclose(s2sgrad.jvp(old, (x,), (np.ones(2),))[1], 4.0)
    old.__code__ = new.__code__                                  # what autoreload does
    np.testing.assert_allclose(s2sgrad.grad(old)(x), np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.jvp(old, (x,), (np.ones(2),))[1], np.sum(np.cos(x)), rtol=1e-12)


@pytest.mark.parametrize("edit", ["changed", "moved"])
def test_a_file_edited_since_import_is_refused(tmp_path, edit):
    fn = make_function(tmp_path, """
        def energy(x):
            return np.sum(x ** 2)


        def other(x):
            return np.sum(x ** 3)
    """, name="energy")
    path = fn.__code__.co_filename
    text = open(path).read()
    edited = text.replace("x ** 2", "x ** 4") if edit == "changed" else \
        text.replace("\ndef energy", "\ndef added(x):\n    return x\n\n\ndef energy")
    with open(path, "w") as out:
        out.write(edited)
    with pytest.raises(s2sgrad.SourceUnavailableError, match="changed since the function was defined"):
        s2sgrad.grad(fn)


# -- a derivative lives no longer than its function ---------------------------------

def test_a_dropped_closure_and_what_it_captured_are_freed(tmp_path):
    make = make_function(tmp_path, """
        def make_loss(data):
            def loss(w):
                return np.sum((data[:3] - w) ** 2)
            return loss
    """, name="make_loss")
    gc.collect()                                     # (what earlier tests left in cycles goes first)
    before = sum(1 for name in linecache.cache if name.startswith("<s2sgrad-"))

    def use_once():
        data = np.arange(1e6)                        # 8 MB
        loss, w = make(data), np.zeros(3)
        np.testing.assert_allclose(s2sgrad.grad(loss)(w), -2 * data[:3])
        s2sgrad.jvp(loss, (w,), (np.ones(3),))
        s2sgrad.hessian(loss)(w)
        s2sgrad.vjp(loss, w)[1](1.0)
        return weakref.ref(loss), weakref.ref(data)

    refs = use_once()
    gc.collect()
    assert all(r() is None for r in refs)
    assert sum(1 for name in linecache.cache if name.startswith("<s2sgrad-")) == before


def test_second_derivatives_along_a_dict_are_refused_at_the_function(tmp_path):
    fn = make_function(tmp_path, """
        def energy(params):
            return np.sum(params["a"] * params["a"] * params["b"])
    """, name="energy")
    params = {"a": np.array([1.0, 2.0]), "b": np.array([1.0, 3.0])}
    np.testing.assert_allclose(s2sgrad.grad(fn)(params)["a"], [2.0, 12.0])
    for second in (lambda: s2sgrad.hvp(fn)(params, {"a": np.ones(2), "b": np.zeros(2)}),
                   lambda: s2sgrad.hessian(fn)(params)):
        with pytest.raises(s2sgrad.NotDifferentiableError, match="dict") as info:
            second()
        assert info.value.loc.text.strip() == "def energy(params):"
