"""Writes through NumPy views, helpers and containers: right, or refused at the line.

NumPy's np.asarray, np.ravel, np.squeeze, np.atleast_1d, np.flip, np.split,
np.expand_dims, .swapaxes, .T, ... may return views; a helper may return its
argument or write into it; a tuple or list holds its items themselves. A write
through one of them that Python would see elsewhere must either be followed
(the derivative's value equals the function's own, its gradient equals central
differences) or refused when the derivative is built, at the user's line.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import s2sgrad
from s2sgrad.errors import UnsupportedSyntaxError

from .support import check_grads, fuzz, make_function, numeric_vjp

# Each function has one line marked `# refused`: the write Python would see through a view.
REFUSED = {
    "normalize_in_place": '''
        def normalize_in_place(x):
            y = np.asarray(x)
            y /= y.sum()  # refused
            return np.sum(y * x)
        ''',
    "zero_first_of_ravel": '''
        def zero_first_of_ravel(x):
            flat = np.ravel(x)
            flat[0] = 0.0  # refused
            return np.sum(x ** 2)
        ''',
    "ravel_method": '''
        def ravel_method(x):
            flat = x.ravel()
            flat[0] = 0.0  # refused
            return np.sum(x ** 2)
        ''',
    "squeeze_then_clip": '''
        def squeeze_then_clip(x):
            col = np.squeeze(x)
            col[col > 0.5] = 0.5  # refused
            return np.sum(np.sin(x))
        ''',
    "atleast_1d": '''
        def atleast_1d(x):
            a = np.atleast_1d(x)
            a *= 2.0  # refused
            return np.sum(x * x)
        ''',
    "flip_write": '''
        def flip_write(x):
            r = np.flip(x)
            r[0] = 1.0  # refused
            return np.sum(x ** 3)
        ''',
    "split_halves": '''
        def split_halves(x):
            left, right = np.split(x, 2)
            left -= right  # refused
            return np.sum(x ** 2)
        ''',
    "expand_dims": '''
        def expand_dims(x):
            row = np.expand_dims(x, 0)
            row[0, 1] = 0.0  # refused
            return np.sum(x ** 2)
        ''',
    "swapaxes_of_copy": '''
        def swapaxes_of_copy(x):
            m = x * 2.0
            t = m.swapaxes(0, 1)
            t[0] = 0.0  # refused
            return np.sum(m * x)
        ''',
    "base_written_view_read": '''
        def base_written_view_read(x):
            m = x * 1.0
            d = np.moveaxis(m, 0, 1)
            m[0] = 5.0  # refused
            return np.sum(d * x.T)
        ''',
    "helper_returns_argument": '''
        def same(a):
            return a

        def helper_returns_argument(x):
            y = x * 2.0
            z = same(y)
            z[0] = 0.0  # refused
            return np.sum(y * x)
        ''',
    "helper_returns_a_view": '''
        def first_rows(a):
            return a[:2]

        def helper_returns_a_view(x):
            y = x * 2.0
            top = first_rows(y)
            top *= 0.5  # refused
            return np.sum(y * x)
        ''',
    "helper_adds_in_place": '''
        def accumulate(v, w):
            v += w  # refused
            return v

        def helper_adds_in_place(x):
            y = x * 2.0
            z = accumulate(y, x)
            return np.sum(y * x) + np.sum(z)
        ''',
    "helper_writes_through_a_view": '''
        def clear_first(v):
            u = v.reshape(-1)
            u[0] = 0.0  # refused
            return 1.0

        def helper_writes_through_a_view(x):
            y = x * 2.0
            c = clear_first(y)
            return np.sum(y * x) * c
        ''',
    "list_item_written_after_append": '''
        def list_item_written_after_append(x):
            h = np.tanh(x)
            hs = []
            hs.append(h)
            h[0] = 0.0  # refused
            return np.sum(hs[0] * x)
        ''',
    "list_literal_item_written": '''
        def list_literal_item_written(x):
            h = x * 2.0
            g = np.cos(x)
            layers = [h, g]
            h[1] = 0.0  # refused
            return np.sum(layers[0] * layers[1])
        ''',
    "tuple_item_written": '''
        def tuple_item_written(x):
            y = x * 2.0
            t = (y, 2.0)
            y[0] = 7.0  # refused
            return np.sum(t[0] * x) * t[1]
        ''',
    "trajectory_of_one_array": '''
        def trajectory_of_one_array(x):
            state = x * 1.0
            path = []
            for step in range(3):
                state += 0.1 * np.sin(state)  # refused
                path.append(state)
            return np.sum(path[0] * path[2])
        ''',
}


def _marked_line(source: str) -> int:
    """The line of the file make_function writes (after its one-line preamble) marked `# refused`."""
    lines = __import__("textwrap").dedent(source).splitlines()
    return 1 + next(i for i, line in enumerate(lines, 1) if line.rstrip().endswith("# refused"))


def _build(kind, fn, x):
    if kind == "grad":
        return s2sgrad.grad(fn)(x)
    if kind == "vjp":
        return s2sgrad.vjp(fn, x)
    if kind == "jvp":
        return s2sgrad.jvp(fn, (x,), (np.ones_like(x),))
    return s2sgrad.hvp(fn)(x, np.ones_like(x))


@pytest.mark.parametrize("kind", ["grad", "vjp", "jvp", "hvp"])
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_write_python_sees_through_an_alias_is_refused_at_its_line(tmp_path, name, kind):
    source = REFUSED[name]
    fn = make_function(tmp_path, source, name=name)
    x = np.linspace(0.2, 1.1, 6).reshape(2, 3) if name in ("swapaxes_of_copy", "base_written_view_read",
                                                             "expand_dims") else np.linspace(0.2, 1.1, 4)
    with pytest.raises(UnsupportedSyntaxError) as info:
        _build(kind, fn, x)
    assert info.value.lineno == _marked_line(source), str(info.value)
    assert "may share memory" in info.value.message and info.value.hint


# Safe patterns people write every day: a copy, a fresh array, views only read, and
# views of a value written before the view is taken.
SAFE = '''
def copy_then_zero(x):
    y = x.copy()
    y[0] = 0.0
    return np.sum(y * x)

def arithmetic_copy(x):
    y = x + 0.0
    y[1] *= 3.0
    return np.sum(y * x)

def filled_zeros(x):
    y = np.zeros(4)
    y[0] = x[0]
    y[1:] = x[1:] ** 2
    return np.sum(y * x)

def views_read_only(x):
    flat = x.ravel()
    rev = np.flip(flat)
    a, b = np.split(x, 2)
    return np.sum(rev * flat) + np.sum(a * b) + np.sum(np.atleast_2d(x) ** 2)

def flatten_copies(x):
    y = x.flatten()
    y[0] = 0.0
    return np.sum(x ** 2) + np.sum(y * x)

def astype_copies(x):
    y = x.astype(float)
    y[0] = 1.0
    return np.sum(y * x) + np.sum(x)

def written_then_viewed(x):
    y = x * 2.0
    y[0] = 1.0
    v = np.asarray(y)
    return np.sum(v * x)

def scaled(a):
    return a * 2.0

def helper_returns_new_array(x):
    y = x * 1.0
    z = scaled(y)
    z[0] = 0.0
    return np.sum(y * x) + np.sum(z * x)

def list_of_fresh_arrays(x):
    hs = []
    h = x * 1.0
    for step in range(3):
        h = np.tanh(h) * 1.5
        hs.append(h)
    return np.sum(hs[0] * hs[2]) + np.sum(h)
'''
SAFE_NAMES = [line[4:line.index("(")] for line in SAFE.splitlines()
              if line.startswith("def ") and not line.startswith("def scaled")]


def _on_copies(fn):
    return lambda a: fn(a.copy())


def check_right(fn, x):
    """Value and gradient, vjp, jvp and hvp all agree with the function's own value on a
    copy and with central differences; the argument is left as it was."""
    given = x.copy()
    value, dx = s2sgrad.value_and_grad(fn)(x)
    np.testing.assert_array_equal(x, given)
    assert value == pytest.approx(fn(x.copy()), abs=1e-12)
    np.testing.assert_allclose(dx, numeric_vjp(_on_copies(fn), [x], 0, 1.0), rtol=1e-6, atol=1e-7)
    out, pullback = s2sgrad.vjp(fn, x)
    np.testing.assert_allclose(pullback(1.0)[0], dx, rtol=1e-12, atol=1e-12)
    tangent = np.linspace(-1.0, 1.0, x.size).reshape(x.shape)
    _, along = s2sgrad.jvp(fn, (x,), (tangent,))
    assert along == pytest.approx(float(np.sum(dx * tangent)), rel=1e-9, abs=1e-12)
    grad = s2sgrad.grad(fn)
    step = 1e-5
    want = (grad(x + step * tangent) - grad(x - step * tangent)) / (2 * step)
    np.testing.assert_allclose(s2sgrad.hvp(fn)(x, tangent), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(x, given)


@pytest.mark.parametrize("name", SAFE_NAMES)
def test_safe_patterns_keep_working(tmp_path, name):
    fn = make_function(tmp_path, SAFE, name=name)
    check_right(fn, np.array([0.3, -0.7, 1.1, 0.5]))


# -- the fuzzer: a view taken by one of the view ops, a write, a read of another alias -----

VIEWS = ["np.asarray(b)", "np.ravel(b)", "b.ravel()", "np.squeeze(b)", "np.atleast_1d(b)",
         "np.atleast_2d(b)", "np.flip(b)", "np.split(b, 2)[0]", "np.array_split(b, 2)[1]",
         "np.expand_dims(b, 0)", "b.swapaxes(0, 1)", "np.moveaxis(b, 0, 1)", "b.T",
         "np.transpose(b)", "b.reshape(3, 2)", "b[1:]", "b[:, ::2]", "b"]
READ_ONLY_VIEWS = ["np.diagonal(b)", "np.diag(b)", "np.broadcast_to(b, (2, 2, 3))"]    # NumPy refuses writes into these
COPIES = ["b.copy()", "b.flatten()", "b.astype(float)", "np.array(b)", "b + 0.0", "np.copy(b)"]
WRITES_THROUGH_VIEW = ["v[0] = 0.5 * v[0] + 1.0", "v += 1.0", "v *= np.cos(x[0, 0])"]
WRITES_INTO_BASE = ["b[0] = b[0] * 3.0", "b += x", "b -= 0.5"]
READS = ["np.sum(v * 2.0) + np.sum(b)", "np.sum(np.sin(v)) * np.sum(x * b)", "np.sum(b * x)",
         "np.sum(v ** 2)"]


@st.composite
def aliasing_programs(draw):
    """A program taking a view (or a copy) of an array it owns, writing into the view or
    the base, then reading both; and whether it must not be refused."""
    view = draw(st.sampled_from(VIEWS + READ_ONLY_VIEWS + COPIES))
    writes = WRITES_INTO_BASE if view in READ_ONLY_VIEWS else WRITES_THROUGH_VIEW + WRITES_INTO_BASE
    write = draw(st.sampled_from(writes))
    read = draw(st.sampled_from(READS))
    source = (f"def f(x):\n    b = np.sin(x) * 2.0\n    v = {view}\n    {write}\n"
              f"    return {read}\n")
    return source, view in COPIES


@fuzz(60)
@given(program=aliasing_programs())
def test_random_writes_through_views_are_right_or_refused(tmp_path_factory, program):
    source, copied = program
    fn = make_function(tmp_path_factory.mktemp("views"), source)
    x = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    try:
        value, dx = s2sgrad.value_and_grad(fn)(x)
    except UnsupportedSyntaxError as refused:
        assert not copied, f"a copy was refused:\n{source}"
        assert refused.lineno == 5, f"refused at the wrong line:\n{source}"   # the write
        return
    assert value == pytest.approx(fn(x.copy()), abs=1e-12), source
    np.testing.assert_allclose(dx, numeric_vjp(_on_copies(fn), [x], 0, 1.0), rtol=1e-6, atol=1e-7,
                               err_msg=source)


SEMANTICS = '''
import numpy as np


class Config:
    temp = 1.0
    n_steps = 2


cfg = Config()


def through_a_view_call(x):
    y = x.copy()
    z = y.view()
    z[0] = 9.0
    return np.sum(y ** 2)


def into_integers(x):
    y = np.array([0, 0, 0])
    y[0] = x[0] * 3
    k = np.arange(3)
    k[1] += x[1]
    return np.sum(y * x) + np.sum(k * x)


def writes_its_argument(x, y):
    x[0] = 5.0
    return np.sum(y ** 2)


def settings_of_an_object(x):
    for _ in range(cfg.n_steps):
        x = np.sin(x)
    return np.sum(np.exp(x / cfg.temp))
'''


@pytest.fixture(scope="module")
def semantics(tmp_path_factory):
    return make_function(tmp_path_factory.mktemp("semantics"), SEMANTICS, "into_integers", preamble="").__globals__


def test_a_write_through_a_call_that_may_return_a_view_is_refused(semantics):
    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="may share memory"):
        s2sgrad.grad(semantics["through_a_view_call"])(np.array([0.3, 0.7, 1.1]))


def test_a_value_stored_into_integers_is_cast_there_and_has_no_derivative(semantics):
    f, x = semantics["into_integers"], np.array([0.73, 1.31, 1.37])
    value, gradient = s2sgrad.value_and_grad(f)(x)
    assert value == f(x)
    np.testing.assert_allclose(gradient, [2.0, 2.0, 2.0])      # y and k hold integers: constant in x
    np.testing.assert_allclose(s2sgrad.jvp(f, (x,), (np.ones(3),))[1], 6.0)
    np.testing.assert_allclose(s2sgrad.hvp(f)(x, np.ones(3)), 0.0)


def test_one_array_passed_as_two_arguments_the_function_writes_one_of_is_refused(semantics):
    f, b = semantics["writes_its_argument"], np.array([0.3, 0.7, 1.1])
    for derivative in (lambda: s2sgrad.grad(f, 1)(b, b), lambda: s2sgrad.jvp(f, (b, b), (b, b)),
                       lambda: s2sgrad.vjp(f, b, b), lambda: s2sgrad.hvp(f, 1)(b, b, b)):
        with pytest.raises(ValueError, match="shares its memory"):
            derivative()
    np.testing.assert_allclose(s2sgrad.grad(f, 1)(b.copy(), b), 2 * b)
    np.testing.assert_allclose(b, [0.3, 0.7, 1.1])      # (the caller's arrays are left as they were)


def test_numbers_read_off_a_module_object_are_read_again_when_they_change(semantics):
    f, x = semantics["settings_of_an_object"], np.array([0.5, -1.0])
    derivative = s2sgrad.value_and_grad(f)
    assert derivative(x)[0] == f(x)
    semantics["cfg"].temp, semantics["cfg"].n_steps = 3.0, 4
    value, gradient = derivative(x)
    assert value == f(x)
    check_grads(f, x)


PROPERTIES = '''
import numpy as np
from dataclasses import dataclass


@dataclass
class Layer:
    W: np.ndarray
    scale: float

    @property
    def scaled(self):
        return self.W * self.scale


def through_a_property(layer, x):
    return np.sum(np.tanh(x @ layer.scaled))


def through_fields(layer, x):
    return np.sum(np.tanh(x @ (layer.W * layer.scale)))
'''


def test_an_attribute_a_property_computes_is_refused_not_dropped(tmp_path):
    """Its derivative would go to the attributes it reads, which s2sgrad does not see: the
    gradient and the tangent refuse it (they gave zeros, and the property of the tangent)."""
    f = make_function(tmp_path, PROPERTIES, "through_a_property", preamble="")
    Layer, x = f.__globals__["Layer"], np.array([[1.0, 2.0]])
    layer, tangent = Layer(np.ones((2, 2)), 0.5), Layer(np.ones((2, 2)), 1.0)
    with pytest.raises(TypeError, match="property"):
        s2sgrad.grad(f)(layer, x)
    with pytest.raises(TypeError, match="property"):
        s2sgrad.jvp(f, (layer, x), (tangent, np.zeros((1, 2))))
    fields = f.__globals__["through_fields"]
    _, along = s2sgrad.jvp(fields, (layer, x), (tangent, np.zeros((1, 2))))
    gradient = s2sgrad.grad(fields)(layer, x)
    assert along == pytest.approx(np.sum(gradient.W) + gradient.scale * 1.0)


DRAWS = '''
import numpy as np


def minibatch_loss(w, X, y):
    idx = np.random.choice(len(y), 3, replace=False)
    loss = 0.0
    for i in idx:
        loss = loss + (X[i] @ w - y[i]) ** 2
    return loss


def seeded_inside(w):
    rng = np.random.default_rng(3)
    noise = rng.normal(size=3)
    total = 0.0
    for k in range(3):
        total = total + np.sum((w + noise) ** 2) * k
    return total
'''


def test_derivatives_that_run_the_function_again_refuse_draws_from_outside_it(tmp_path):
    """A vjp whose pullback reruns the function, a Jacobian, a Hessian: each run would draw
    other numbers from NumPy's generator; grad draws once. A generator made inside from a
    seed draws the same each run."""
    f = make_function(tmp_path, DRAWS, "minibatch_loss", preamble="")
    w, X, y = np.ones(3), np.arange(15.0).reshape(5, 3) / 10, np.arange(5.0)
    for derivative in (lambda: s2sgrad.vjp(f, w, X, y), lambda: s2sgrad.jacobian(f)(w, X, y),
                       lambda: s2sgrad.hessian(f)(w, X, y)):
        with pytest.raises(s2sgrad.NotDifferentiableError, match="draws random numbers"):
            derivative()
    np.random.seed(0)
    value, _ = s2sgrad.value_and_grad(f)(w, X, y)
    np.random.seed(0)
    assert value == f(w, X, y)                        # (one run: the function's own draws)
    seeded = f.__globals__["seeded_inside"]
    np.testing.assert_allclose(s2sgrad.hessian(seeded)(w), 6.0 * np.eye(3))
    np.testing.assert_allclose(s2sgrad.vjp(seeded, w)[1](1.0)[0], s2sgrad.grad(seeded)(w))


def test_tangents_of_a_list_of_layer_tuples(tmp_path):
    """jvp and hvp take a tangent shaped like the tree of parameters (they crashed comparing
    its shape as one array)."""
    f = make_function(tmp_path, "def mlp(params, x):\n    h = x\n    for W, b in params:\n"
                                "        h = np.tanh(h @ W + b)\n    return np.sum(h ** 2)\n", "mlp")
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(3, 4)), rng.normal(size=4)), (rng.normal(size=(4, 2)), rng.normal(size=2))]
    along = [(np.ones((3, 4)), np.ones(4)), (np.ones((4, 2)), np.ones(2))]
    x = rng.normal(size=(5, 3))
    gradient = s2sgrad.grad(f)(params, x)
    _, tangent = s2sgrad.jvp(f, (params, x), (along,), wrt=0)
    assert tangent == pytest.approx(sum(np.sum(a) for pair in gradient for a in pair))
    with pytest.raises(s2sgrad.ShapeError, match="not shaped like"):
        s2sgrad.jvp(f, (params, x), (along[:1],), wrt=0)


def test_inverted_masks_and_searchsorted(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    m = x > 0.5\n    return np.sum(x[~m] ** 2) + np.sum(np.where(~m, x, 0.0))"
                                " + np.searchsorted(np.array([0.0, 1.0]), 0.5)\n")
    x = np.array([0.2, 0.9, 0.4])
    value, gradient = s2sgrad.value_and_grad(f)(x)
    assert value == f(x)
    np.testing.assert_allclose(gradient, [1.4, 0.0, 1.8])
