"""The public transforms: grad, value_and_grad, vjp, source, and their checks."""
import functools
import types

import numpy as np
import pytest

import s2sgrad
from s2sgrad import api, passes

OFFSET = 1.0


def f(x, w, scale=2.0):
    return np.sum(np.sin(x * w)) * scale + OFFSET


def g(x, n):
    return np.sum(x ** 2) * n


X, W = np.array([0.1, 0.2, 0.3]), np.array([1.0, -2.0, 0.5])


def test_wrt_by_index_name_negative_index_and_tuple():
    dx = W * np.cos(X * W) * 2.0
    dw = X * np.cos(X * W) * 2.0
    np.testing.assert_allclose(s2sgrad.grad(f)(X, W), dx)
    np.testing.assert_allclose(s2sgrad.grad(f, wrt="w")(X, W), dw)
    np.testing.assert_allclose(s2sgrad.grad(f, wrt=-2)(X, W), dw)
    both = s2sgrad.grad(f, wrt=(0, "w"))(X, W)
    assert isinstance(both, tuple) and len(both) == 2
    np.testing.assert_allclose(both[0], dx)
    np.testing.assert_allclose(both[1], dw)
    (only,) = s2sgrad.grad(f, wrt=(1,))(X, W)
    np.testing.assert_allclose(only, dw)


def test_scale_keyword_and_default():
    assert s2sgrad.grad(f, wrt="scale")(X, W) == pytest.approx(np.sum(np.sin(X * W)))
    np.testing.assert_allclose(s2sgrad.grad(f)(X, W, scale=3.0), W * np.cos(X * W) * 3.0)
    np.testing.assert_allclose(s2sgrad.grad(f)(x=X, w=W), W * np.cos(X * W) * 2.0)


def test_value_and_grad():
    value, grad = s2sgrad.value_and_grad(f, wrt=(0, 1))(X, W)
    assert value == pytest.approx(f(X, W))
    np.testing.assert_allclose(grad[1], X * np.cos(X * W) * 2.0)


def test_vjp_defaults_to_every_argument_and_pullback_repeats():
    def h(a, b):
        return a * b + np.sin(a)
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    out, pullback = s2sgrad.vjp(h, a, b)
    np.testing.assert_allclose(out, h(a, b))
    ct = np.array([1.0, 10.0])
    first = pullback(ct)
    second = pullback(ct)
    assert len(first) == 2
    for one, two, want in zip(first, second, (ct * (b + np.cos(a)), ct * a)):
        np.testing.assert_allclose(one, want)
        np.testing.assert_allclose(two, want)
    np.testing.assert_array_equal(ct, [1.0, 10.0])           # the cotangent is not modified
    (db,) = s2sgrad.vjp(h, a, b, wrt=1)[1](ct)
    np.testing.assert_allclose(db, ct * a)


def test_integer_argument_not_differentiated_is_fine():
    np.testing.assert_allclose(s2sgrad.grad(g)(X, 3), 6 * X)


@pytest.mark.parametrize("bad", [3, True, np.array([1, 2, 3]), [], np.int64(2), "x"],
                         ids=["int", "bool", "int array", "empty list", "numpy int", "str"])
def test_differentiating_a_non_float_argument_is_an_error(bad):
    with pytest.raises(s2sgrad.NotDifferentiableError, match="`x`") as info:
        s2sgrad.grad(g)(bad, 3)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("good", [2.0, np.float64(2.0), np.float32(2.0), np.array([1.0, 2.0], np.float32),
                                  np.array(2.0)], ids=["float", "float64", "float32", "f32 array", "0-d"])
def test_floating_arguments_of_every_kind_are_accepted(good):
    np.testing.assert_allclose(s2sgrad.grad(g)(good, 2), 4 * np.asarray(good), rtol=1e-6)


def test_non_scalar_output_points_to_vjp():
    def vector(x):
        return x * 2.0
    with pytest.raises(s2sgrad.ShapeError, match="vjp"):
        s2sgrad.grad(vector)(np.ones(3))
    np.testing.assert_array_equal(s2sgrad.grad(vector)(np.ones(1)), [2.0])   # one number in an array is
                                                                              # taken as a scalar, as autograd does
    def product(x, y):
        return x @ y
    dx = s2sgrad.grad(product)(np.ones((1, 1)), np.full((1, 1), 3.0))      # 1.0 as seed fails inside: redone
    np.testing.assert_array_equal(dx, [[3.0]])
    with pytest.raises(s2sgrad.ShapeError, match="scalar output"):   # fails inside the gradient
        s2sgrad.grad(product)(np.ones((2, 1)), np.ones((1, 2)))


def test_compiled_once_per_function_wrt_and_kind(monkeypatch):
    def k(x):
        return x * x
    calls = []
    real = passes.derivative
    monkeypatch.setattr(passes, "derivative",
                        lambda fn, request, **kw: calls.append((request.wrt, str(request.kind), request.shapes is not None))
                        or real(fn, request, **kw))
    for _ in range(3):
        s2sgrad.grad(k)(2.0)
        s2sgrad.source(k)
        s2sgrad.value_and_grad(k)(1.0)
    s2sgrad.vjp(k, 2.0)
    s2sgrad.vjp(k, 3.0)
    s2sgrad.grad(k, wrt="x")(2.0)
    # each grad: the general code, then the version for a float argument (at its first call)
    assert calls == [(("x",), "grad", False), (("x",), "grad", True), (("x",), "vjp", False),
                     (("x",), "grad", False), (("x",), "grad", True)]
    assert api.compile_derivative(k) is api.compile_derivative(k)


def test_globals_and_closures_are_read_live():
    global OFFSET
    scale = 2.0

    def closure(x):
        return x * scale + OFFSET

    d = s2sgrad.value_and_grad(closure)
    assert d(1.0) == (3.0, 2.0)
    scale, OFFSET = 5.0, 10.0
    try:
        assert d(1.0) == (15.0, 5.0)
    finally:
        OFFSET = 1.0


def test_decorated_and_nested_functions():
    def logged(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            return fn(*args)
        return wrapper

    @logged
    def cube(x):
        return x ** 3

    assert s2sgrad.grad(cube)(2.0) == 12.0


def test_gradients_are_fresh_writeable_arrays_and_arguments_are_untouched():
    def add(a, b):
        return a + b.T
    a, b = np.ones((2, 3)), np.ones((3, 2))
    ct = np.arange(6.0).reshape(2, 3)
    da, db = s2sgrad.vjp(add, a, b)[1](ct)
    assert da is not ct and da.flags.writeable and db.flags.writeable
    da += 1.0
    db += 1.0
    np.testing.assert_array_equal(ct, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(a, np.ones((2, 3)))


def test_writing_into_an_argument_mutates_it_as_the_primal_does():
    def overwrite(a):
        a[0] = 5.0
        return np.sum(a ** 2)
    a = np.array([1.0, 2.0])
    np.testing.assert_allclose(s2sgrad.grad(overwrite)(a.copy()), [0.0, 4.0])


def test_source_is_text_and_kind_is_checked():
    text = s2sgrad.source(f, wrt=(0, 1))
    assert text.startswith("import numpy as np\n") and "def grad_f(x, w, scale):" in text
    assert "def pullback(" in s2sgrad.source(f, kind="vjp")
    with pytest.raises(ValueError, match="kind"):
        s2sgrad.source(f, kind="hessian")


def test_generated_function_is_a_plain_python_function():
    compiled = api.compile_derivative(f, (0, 1))
    assert isinstance(compiled.fn, types.FunctionType)
    value, (dx, dw) = compiled.fn(X, W, 2.0)
    assert value == pytest.approx(f(X, W))


def test_one_element_arrays_get_gradients_of_their_own_shape():
    def affine(x):
        return np.sum(x * 3.0 + 1.0)
    for x in (np.array([2.0]), np.array([[2.0]])):
        dx = s2sgrad.grad(affine)(x)
        assert np.shape(dx) == np.shape(x) and dx.ravel()[0] == 3.0


def test_a_local_named_like_the_generated_code_s_own_names_is_refused():
    import numpy as numpy_module

    def shadow(x):
        np = numpy_module.sin(x)
        return np * 2.0

    with pytest.raises(SyntaxError, match="rename your variable `np`"):
        s2sgrad.grad(shadow)


def test_gradients_of_python_floats_are_floats():
    def product(x, y):
        return x * y + np.sin(x)
    dx, dy = s2sgrad.grad(product, wrt=(0, 1))(2.0, 3.0)
    assert isinstance(dx, float) and isinstance(dy, float)
    assert dx == pytest.approx(3.0 + np.cos(2.0)) and dy == 2.0


def test_gradients_never_share_memory_with_each_other_or_the_inputs():
    def total(x, y):
        return np.sum(np.tanh(x + y))

    def scale(x, y):
        return np.sum(x * y)
    x, y = np.array([0.1, 0.2]), np.array([0.3, -0.4])
    dx, dy = s2sgrad.grad(total, wrt=(0, 1))(x, y)
    assert dx is not dy and not np.shares_memory(dx, dy)
    dx = s2sgrad.grad(scale)(x, y)
    assert dx is not y and not np.shares_memory(dx, y)
    dx += 1.0
    np.testing.assert_array_equal(y, [0.3, -0.4])


def affine_loss(w, b, x):
    return np.sum((x @ w + b) ** 2)


def test_help_of_what_grad_returns_says_what_it_returns():
    assert s2sgrad.grad(affine_loss).__doc__ == \
        "The gradient of affine_loss with respect to w: returns dw, shaped like its argument."
    assert s2sgrad.grad(affine_loss, wrt=("w", "b")).__doc__ == \
        "The gradient of affine_loss with respect to w, b: returns (dw, db), each shaped like its argument."
    doc = s2sgrad.value_and_grad(affine_loss, wrt=(0, 1)).__doc__
    assert "returns (affine_loss(...), (dw, db))" in doc
    value, (dw, db) = s2sgrad.value_and_grad(affine_loss, wrt=(0, 1))(np.ones(2), 0.5, np.ones((3, 2)))
    assert np.shape(dw) == (2,) and np.ndim(db) == 0
    assert "returns (affine_loss(...), (dw, db))" in s2sgrad.source(affine_loss, wrt=(0, 1))
