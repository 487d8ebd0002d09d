"""Forward mode: `s2sgrad.jvp`, its generated code, and the dot-product test against
reverse mode over the galleries (<v, J u> computed both ways)."""
import inspect

import numpy as np
import pytest
import sympy

import s2sgrad
from s2sgrad import api, passes

from .flow_functions import FLOW
from .functions import GALLERY
from .more_functions import MORE
from .support import make_function

RNG = np.random.default_rng(7)


def _like(value, rng):
    if isinstance(value, tuple):
        return tuple(_like(v, rng) for v in value)
    return rng.standard_normal(np.shape(value)) if np.ndim(value) else float(rng.standard_normal())


def _pair(a, b) -> float:
    if isinstance(a, (tuple, list)):
        return sum(_pair(x, y) for x, y in zip(a, b))
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))     # (complex values: the real pairing)


def _float_positions(args) -> tuple:
    return tuple(i for i, a in enumerate(args)
                 if isinstance(a, float) or isinstance(a, np.ndarray) and a.dtype.kind == "f")


def _entries():
    seen = set()
    for fn, make_args, *wrt in [(f, m) for f, m in GALLERY] + FLOW + MORE:
        if fn in seen:
            continue
        seen.add(fn)
        yield pytest.param(fn, make_args, wrt[0] if wrt else None, id=fn.__name__)


@pytest.mark.parametrize("fn, make_args, wrt", list(_entries()))
def test_forward_and_reverse_agree(fn, make_args, wrt):
    """<v, J u> by jvp equals <J^T v, u> by vjp, on every gallery function; the value is
    the function's own."""
    agree_both_ways(fn, make_args, wrt)


@pytest.mark.parametrize("fn, make_args, wrt", list(_entries()))
def test_specialized_jvps_agree(fn, make_args, wrt, monkeypatch):
    """The same with every array counted large: the jvp specialized to the shapes, its
    results written into memory it holds (passes/buffers.py)."""
    from s2sgrad.passes import buffers
    monkeypatch.setattr(buffers, "LARGE", 1)
    monkeypatch.setattr(api, "LARGE", 1)
    monkeypatch.setattr(api, "_CACHE", type(api._CACHE)())
    monkeypatch.setattr(api, "_JVP_ENTRIES", {})
    agree_both_ways(fn, make_args, wrt)


def agree_both_ways(fn, make_args, wrt):
    args = make_args()
    positions = tuple(wrt) if wrt is not None else _float_positions(args)
    names = list(inspect.signature(fn).parameters)
    positions = tuple(p if isinstance(p, int) else names.index(p) for p in positions)
    rng = np.random.default_rng(3)
    u = tuple(_like(args[i], rng) for i in positions)
    out, tangent = s2sgrad.jvp(fn, args, u, wrt=positions)
    assert _pair(out, out) == _pair(out, fn(*make_args()))
    v = _like(out, rng)
    _, pullback = s2sgrad.vjp(fn, *make_args(), wrt=positions)
    np.testing.assert_allclose(_pair(v, tangent), _pair(pullback(v), u), rtol=1e-9, atol=1e-12)


def test_jvp_reads_like_the_function(tmp_path):
    f = make_function(tmp_path, "def f(x, w):\n    y = np.sin(x) * w\n    return np.sum(y)\n")
    source = api.compile_derivative(f, (0, 1), "jvp").source
    assert "def jvp_f(x, w, x_dot, w_dot):" in source
    assert "y_dot = x_dot * np.cos(x) * w + w_dot * sin_x" in source     # a temporary's tangent folds in
    x, w = np.array([0.2, 0.7]), np.array([1.5, -0.5])
    out, t = s2sgrad.jvp(f, (x, w), (np.ones(2), np.zeros(2)))
    assert out == f(x, w) and t == pytest.approx(np.sum(np.cos(x) * w), rel=1e-15)


@pytest.mark.parametrize("source, args, tangents", [
    # a tangent broadcast against a constant array takes the value's shape
    ("def f(x, c):\n    return x + c\n", (np.ones(3), np.ones((2, 3))), (np.arange(3.0),)),
    # loops, branches and a while loop carry tangents with no tape
    ("def f(x):\n    for i in range(4):\n        if x > 0.5:\n            x = x * 0.9\n        else:\n"
     "            x = np.sin(x) + 0.7\n    while x < 3.0:\n        x = x * 1.5\n    return x\n", (0.3,), (1.0,)),
    # writing into an array, reading items back
    ("def f(x):\n    z = np.zeros(3)\n    z[0] = x[1] * 2.0\n    z[1:] = np.cos(x[:2])\n    return z @ x\n",
     (np.array([0.3, -0.4, 0.8]),), (np.array([1.0, 2.0, -1.0]),)),
])
def test_jvp_matches_finite_differences(tmp_path, source, args, tangents):
    f = make_function(tmp_path, source)
    out, tangent = s2sgrad.jvp(f, args, tangents, wrt=0)
    eps = 1e-6
    up = f(args[0] + eps * tangents[0], *args[1:])
    down = f(args[0] - eps * tangents[0], *args[1:])
    np.testing.assert_allclose(tangent, (np.asarray(up) - np.asarray(down)) / (2 * eps), rtol=1e-6, atol=1e-8)
    assert np.shape(tangent) == np.shape(out)


def test_an_op_without_a_forward_rule_is_a_located_error(tmp_path):
    """A user's function given a reverse rule and no tangent rule (tests/user_rules_module.py)."""
    f = make_function(tmp_path, "def f(a):\n    b = softplus(a)\n    return np.sum(b)\n",
                      preamble="import numpy as np\nfrom tests.user_rules_module import softplus\n")
    with pytest.raises(s2sgrad.NoRuleError) as info:
        s2sgrad.jvp(f, (np.ones(2),), (np.ones(2),))
    text = str(info.value)
    assert "forward mode has no rule for `softplus`" in text and "b = softplus(a)" in text
    assert "@s2sgrad.tangent" in text


def test_tangents_must_match_the_arguments(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    return np.sum(x ** 2)\n")
    with pytest.raises(s2sgrad.ShapeError):
        s2sgrad.jvp(f, (np.ones(3),), (np.ones(2),))
    with pytest.raises(s2sgrad.ShapeError):
        s2sgrad.jvp(f, (np.ones(3),), (np.ones(3), np.ones(3)))


# -- jacobian -----------------------------------------------------------------

JACOBIAN_CASES = [
    ("def f(x):\n    return np.sin(x) * x[0]\n", (np.array([0.3, -0.2, 0.9]),), 0),
    ("def f(a, b):\n    return np.tanh(a @ b)\n", (np.arange(6.0).reshape(2, 3) / 5, np.ones((3, 2)) / 3), (0, 1)),
    ("def f(x):\n    return np.sum(x ** 3)\n", (np.array([[0.5, 1.0], [-1.0, 2.0]]),), 0),
    ("def f(x, y):\n    return np.array([x * y, x + np.sin(y)])\n", (0.7, 1.1), (0, 1)),
]


@pytest.mark.parametrize("source, args, wrt", JACOBIAN_CASES)
def test_jacobians_by_either_mode_match_finite_differences(tmp_path, source, args, wrt):
    f = make_function(tmp_path, source)
    reverse = s2sgrad.jacobian(f, wrt)(*args)
    forward = s2sgrad.jacobian(f, wrt, mode="forward")(*args)
    out = f(*args)
    for j, p in enumerate((wrt,) if not isinstance(wrt, tuple) else wrt):
        got_r = reverse if not isinstance(wrt, tuple) else reverse[j]
        got_f = forward if not isinstance(wrt, tuple) else forward[j]
        assert np.shape(got_r) == np.shape(out) + np.shape(args[p]) == np.shape(got_f)
        np.testing.assert_allclose(got_f, got_r, rtol=1e-12, atol=1e-14)
        eps, numeric = 1e-6, np.zeros(np.shape(out) + np.shape(args[p]))
        for k in range(np.size(args[p])):
            e = np.zeros(np.shape(args[p]))
            e.flat[k] = eps
            up = list(args); up[p] = args[p] + (e if np.ndim(args[p]) else eps)
            down = list(args); down[p] = args[p] - (e if np.ndim(args[p]) else eps)
            column = (np.asarray(f(*up)) - np.asarray(f(*down))) / (2 * eps)
            index = (...,) + np.unravel_index(k, np.shape(args[p])) if np.ndim(args[p]) else (...,)
            numeric[index] = column
        np.testing.assert_allclose(got_r, numeric, rtol=1e-6, atol=1e-8)


def test_jacobian_wants_one_output_and_a_mode_it_knows(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    return x * 2.0, x + 1.0\n")
    with pytest.raises(s2sgrad.NotDifferentiableError):
        s2sgrad.jacobian(f)(np.ones(2))
    with pytest.raises(ValueError):
        s2sgrad.jacobian(f, mode="sideways")


# -- Hessians -------------------------------------------------------------------

def _scalar_entries():
    """Gallery functions of float arguments with a scalar output, differentiated with
    respect to their first float argument."""
    for p in _entries():
        fn, make_args, wrt = p.values
        args = make_args()
        floats = _float_positions(args)
        if not floats or np.ndim(fn(*args)) != 0 or isinstance(fn(*args), tuple) or np.size(args[floats[0]]) > 12:
            continue
        yield pytest.param(fn, make_args, floats[0], id=p.id)


def _numeric_hessian(fn, args, i, eps=1e-5):
    g = s2sgrad.grad(fn, i)
    x = np.asarray(args[i], dtype=float)
    columns = []
    for k in range(x.size):
        e = np.zeros(x.shape)
        e.flat[k] = eps
        up, down = list(args), list(args)
        up[i], down[i] = (x + e, x - e) if x.ndim else (float(x + eps), float(x - eps))
        columns.append((np.asarray(g(*up)) - np.asarray(g(*down))) / (2 * eps))
    return np.moveaxis(np.array(columns).reshape(x.shape + x.shape), range(x.ndim), range(-x.ndim, 0))


@pytest.mark.parametrize("fn, make_args, i", list(_scalar_entries()))
def test_hessians_of_the_gallery_match_differences_of_the_gradient(fn, make_args, i):
    """Every scalar gallery function has its Hessian, right (none is refused)."""
    args = make_args()
    H = s2sgrad.hessian(fn, i)(*args)
    assert np.shape(H) == np.shape(args[i]) * 2
    np.testing.assert_allclose(H, _numeric_hessian(fn, args, i), rtol=1e-4, atol=1e-5)
    v = _like(args[i], np.random.default_rng(1))
    Hv = np.tensordot(H, v, axes=np.ndim(v)) if np.ndim(v) else H * v
    np.testing.assert_allclose(s2sgrad.hvp(fn, i)(*args, v), Hv, rtol=1e-10, atol=1e-12)


def test_hessians_equal_sympys(tmp_path):
    import sympy
    a, b, c = sympy.symbols("a b c")
    cases = [
        ("def f(x):\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)\n",
         100 * (b - a ** 2) ** 2 + (1 - a) ** 2 + 100 * (c - b ** 2) ** 2 + (1 - b) ** 2),
        ("def f(x):\n    return np.log(np.sum(np.exp(x))) + np.sin(x[0] * x[2])\n",
         sympy.log(sympy.exp(a) + sympy.exp(b) + sympy.exp(c)) + sympy.sin(a * c)),
        ("def f(x):\n    return np.sum(np.tanh(x) * x ** 3) / (1.0 + x[1] ** 2)\n",
         (sympy.tanh(a) * a ** 3 + sympy.tanh(b) * b ** 3 + sympy.tanh(c) * c ** 3) / (1 + b ** 2)),
    ]
    x = np.array([0.3, -0.8, 1.1])
    point = dict(zip((a, b, c), x))
    for source, expr in cases:
        f = make_function(tmp_path, source)
        want = np.array(sympy.hessian(expr, (a, b, c)).subs(point).evalf(30), dtype=float)
        np.testing.assert_allclose(s2sgrad.hessian(f)(x), want, rtol=1e-12, atol=1e-12)


def test_a_hessian_through_calls_inlines_them(tmp_path):
    f = make_function(tmp_path, "def g(x):\n    return np.sin(x) * x\n\n\ndef f(x):\n    return np.sum(g(x) * g(2.0 * x))\n")
    x = np.array([0.3, -0.6])
    H = s2sgrad.hessian(f)(x)
    np.testing.assert_allclose(H, _numeric_hessian(f, (x,), 0), rtol=1e-6, atol=1e-8)


def test_second_derivatives_of_a_recursive_function(tmp_path):
    """The gradient calls the function's vjp, which calls itself; forward mode makes that
    vjp's jvp, which calls itself too. A third derivative is refused at the call."""
    f = make_function(tmp_path, "def f(x, n):\n    if n == 0:\n        return x\n    return np.sin(f(x, n - 1))\n")
    x = sympy.Symbol("x")
    expr = sympy.sin(sympy.sin(sympy.sin(x)))
    d2 = float(sympy.diff(expr, x, 2).subs(x, 0.5))
    np.testing.assert_allclose(s2sgrad.hessian(f)(0.5, 3), d2, rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.grad(s2sgrad.grad(f))(0.5, 3), d2, rtol=1e-12)
    assert "def jvp_vjp_f(" in s2sgrad.source(f, 0, passes.Kind("grad", forwards=1))
    with pytest.raises(s2sgrad.NoRuleError) as info:      # (third derivatives: not yet)
        s2sgrad.grad(s2sgrad.grad(s2sgrad.grad(f)))(0.5, 3)
    assert "third derivatives of recursive functions" in str(info.value) and "f(x, n - 1)" in str(info.value)


def test_hessians_through_loops_and_branches(tmp_path):
    """The reverse sweep's own loop and branches, run forward: the tape keeps each value's
    tangent beside it; an adjoint that updates itself (`dv = A.T @ dv`) is read before."""
    f = make_function(tmp_path, "def f(A):\n    v = np.ones(3)\n    for i in range(3):\n        v = A @ v\n"
                      "        if np.sum(v) > 0.0:\n            v = v / np.sqrt(np.sum(v * v))\n"
                      "        else:\n            v = -v\n    return np.sum(v * v[0])\n")
    A = np.array([[1.0, 0.2, -0.1], [0.3, 0.9, 0.0], [-0.2, 0.1, 1.1]])
    V = np.random.default_rng(2).standard_normal((3, 3))
    g, e = s2sgrad.grad(f), 1e-6
    np.testing.assert_allclose(s2sgrad.hvp(f)(A, V), (g(A + e * V) - g(A - e * V)) / (2 * e), rtol=1e-6, atol=1e-8)


# -- higher order: derivatives of generated derivatives -----------------------

@pytest.mark.parametrize("source, expr", [
    ("def f(x):\n    return np.sin(x) * x ** 3\n", "sin(x) * x**3"),
    ("def f(x):\n    y = np.exp(-x * x)\n    return y / (1.0 + np.tanh(x) ** 2)\n", "exp(-x*x) / (1 + tanh(x)**2)"),
    ("def f(x):\n    return np.log(1.0 + x ** 2) * np.cos(2.0 * x)\n", "log(1 + x**2) * cos(2*x)"),
])
def test_second_and_third_derivatives_equal_sympys(tmp_path, source, expr):
    import sympy
    x = sympy.Symbol("x")
    f = make_function(tmp_path, source)
    d2 = s2sgrad.grad(s2sgrad.grad(f))
    d3 = s2sgrad.grad(d2)
    for point in (0.3, -1.2):
        exact = sympy.sympify(expr)
        assert d2(point) == pytest.approx(float(sympy.diff(exact, x, 2).subs(x, point)), rel=1e-12)
        assert d3(point) == pytest.approx(float(sympy.diff(exact, x, 3).subs(x, point)), rel=1e-11)


def test_the_jvp_of_a_gradient_is_the_hessian_along_the_tangent(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    return np.sum(np.sin(x) * x ** 2) + x[0] * x[1]\n")
    x, v = np.array([0.3, 0.7, -0.2]), np.array([1.0, -2.0, 0.5])
    g, hv = s2sgrad.jvp(s2sgrad.grad(f), (x,), (v,))
    np.testing.assert_array_equal(g, s2sgrad.grad(f)(x))
    np.testing.assert_allclose(hv, s2sgrad.hessian(f)(x) @ v, rtol=1e-13)


def test_grad_of_grad_wants_one_number(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    return np.sum(x ** 3)\n")
    with pytest.raises(s2sgrad.NotDifferentiableError) as info:
        s2sgrad.grad(s2sgrad.grad(f))(np.ones(3))
    assert "s2sgrad.hessian" in str(info.value)


def test_third_derivatives_through_a_loop_with_a_branch(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    for i in range(3):\n        if x > 0.2:\n"
                      "            x = np.sin(x) * 1.5\n        else:\n            x = x * x\n    return x\n")
    d2 = s2sgrad.grad(s2sgrad.grad(f))
    d3 = s2sgrad.grad(d2)
    g, e = s2sgrad.grad(f), 1e-5
    for x in (0.5, 1.3, 0.1):
        assert d2(x) == pytest.approx((g(x + e) - g(x - e)) / (2 * e), rel=1e-7)
        assert d3(x) == pytest.approx((d2(x + e) - d2(x - e)) / (2 * e), rel=1e-6)


def test_newtons_method_from_the_readme_converges():
    from examples.newton import newton, rosenbrock
    x, steps = newton(rosenbrock, np.array([-1.2, 1.0]))
    np.testing.assert_allclose(x, [1.0, 1.0], rtol=0, atol=1e-12)
    assert steps <= 10


# -- rules of forward mode's own ------------------------------------------------

@pytest.mark.parametrize("body, shapes", [
    ("return np.sum(np.linalg.inv(a) * w)", [(3, 3), (3, 3)]),
    ("return np.linalg.det(a) * np.sum(w)", [(3, 3), (2,)]),
    ("return np.sum(np.linalg.solve(a, w) ** 2)", [(3, 3), (3,)]),
    ("return np.sum(np.linalg.solve(a, w) * 2.0)", [(3, 3), (3, 2)]),
    ("return np.sum(np.linalg.inv(a)[0] @ w)", [(2, 3, 3), (3,)]),
])
def test_linear_algebra_tangents_agree_with_reverse_mode(tmp_path, body, shapes):
    f = make_function(tmp_path, "def f(a, w):\n    " + body + "\n")
    rng = np.random.default_rng(5)
    a = rng.standard_normal(shapes[0]) + 3.0 * np.eye(shapes[0][-1])
    w = rng.standard_normal(shapes[1])
    u = (rng.standard_normal(a.shape), rng.standard_normal(w.shape))
    out, tangent = s2sgrad.jvp(f, (a, w), u)
    grads = s2sgrad.grad(f, (0, 1))(a, w)
    assert tangent == pytest.approx(_pair(grads, u), rel=1e-10)


USER_RULES = """
def softplus(x):
    return np.log1p(np.exp(x))


@s2sgrad.adjoint(softplus)
def softplus_adjoint(ans, x, dans):
    dx = dans / (1 + np.exp(-x))


@s2sgrad.tangent(softplus)
def softplus_tangent(ans, x, dx):
    dans = dx / (1 + np.exp(-x))


def f(x, w):
    return np.sum(softplus(x * w) * w)
"""


def test_a_users_tangent_rule(tmp_path):
    """A function s2sgrad cannot read, with both rules: jvp inlines the tangent rule."""
    f = make_function(tmp_path, USER_RULES, preamble="import numpy as np\nimport s2sgrad\n")
    x, w = np.array([0.3, -1.0, 2.0]), np.array([1.5, 0.5, -0.7])
    u = (np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 1.0]))
    _, tangent = s2sgrad.jvp(f, (x, w), u)
    assert tangent == pytest.approx(_pair(s2sgrad.grad(f, (0, 1))(x, w), u), rel=1e-12)
    assert "/ (1 + np.exp(-mul_x_w))" in api.compile_derivative(f, (0, 1), "jvp").source


LINEAR_RULES = """
KERNEL = np.array([0.25, 0.5, 0.25])


def smooth(x):
    return np.convolve(x, KERNEL, mode="same")


def mirrored_dot(x, y):
    return np.dot(x, y) + 0.5 * np.dot(x[::-1], y)


@s2sgrad.adjoint(smooth, linear=True)
def smooth_adjoint(ans, x, dans):
    dx = smooth(dans)          # a symmetric kernel: the op is its own transpose


@s2sgrad.adjoint(mirrored_dot, linear=("x", "y"))
def mirrored_dot_adjoint(ans, x, y, dans):
    dx = dans * (y + 0.5 * y[::-1])
    dy = dans * (x + 0.5 * x[::-1])


def f(x, y):
    s = smooth(np.sin(x))
    return np.sum(np.tanh(s)) * mirrored_dot(s, y) + mirrored_dot(x, x)
"""


def test_a_users_linear_rules_serve_forward_mode_and_hessians(tmp_path):
    """Rules declared linear need no forward rule: jvp applies the op to the tangent (one
    term per varying argument of a bilinear op), and hvp and hessian follow."""
    f = make_function(tmp_path, LINEAR_RULES, preamble="import numpy as np\nimport s2sgrad\n")
    x, y = np.array([0.3, -1.0, 2.0, 0.4]), np.array([1.5, 0.5, -0.7, 0.2])
    u = (np.array([1.0, 0.0, 2.0, -1.0]), np.array([0.0, 1.0, 1.0, 0.5]))
    value, tangent = s2sgrad.jvp(f, (x, y), u)
    assert value == pytest.approx(f(x, y), rel=1e-14)
    assert tangent == pytest.approx(_pair(s2sgrad.grad(f, (0, 1))(x, y), u), rel=1e-12)
    text = api.compile_derivative(f, (0, 1), "jvp").source
    assert "smooth(" in text and "mirrored_dot(" in text and "@s2sgrad" not in text
    g = s2sgrad.grad(f)
    h = 1e-6
    numeric = (g(x + h * u[0], y) - g(x - h * u[0], y)) / (2 * h)
    assert s2sgrad.hvp(f)(x, y, u[0]) == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    assert s2sgrad.hessian(f)(x, y) @ u[0] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def test_a_rule_reading_a_global_array_is_refused_at_its_line(tmp_path):
    f = make_function(tmp_path, """
SCALE = 2.0
WEIGHTS = np.array([1.0, -2.0])


def scaled(x):
    return x * WEIGHTS * SCALE


@s2sgrad.adjoint(scaled)
def scaled_adjoint(ans, x, dans):
    dx = dans * WEIGHTS * SCALE


def f(x):
    return np.sum(scaled(x))
""", preamble="import numpy as np\nimport s2sgrad\n")
    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="reads the global `WEIGHTS`") as info:
        s2sgrad.grad(f)(np.array([0.5, 1.5]))
    assert "dx = dans * WEIGHTS * SCALE" in str(info.value)


def test_linear_names_an_argument_of_the_rule():
    def twice(x):
        return 2.0 * x
    with pytest.raises(ValueError, match="'z' is not one of its arguments"):
        s2sgrad.adjoint(twice, linear=("z",))(lambda ans, x, dans: None)


def test_tangent_needs_the_reverse_rule_first():
    def unknown(x):
        return x
    with pytest.raises(ValueError, match="register its reverse rule"):
        s2sgrad.tangent(unknown)(lambda ans, x, dx: None)


def test_hessians_of_the_gallery_equal_sympys():
    """SymPy's own second derivatives of each small scalar gallery function (the referee's
    machine runs it on symbols), at the gallery's point; a function whose expression is
    too large for SymPy to differentiate quickly (counted, not timed) is left out, and at
    least 50 must be compared."""
    import sympy

    from s2sgrad import frontend
    from s2sgrad.frontend import lower
    from s2sgrad.referee.chain import rational
    from s2sgrad.referee.symbolic import Budget, Machine, Unverifiable
    from s2sgrad.referee.verify import Problem, _symbols, _tree_size

    compared = []
    for p in _scalar_entries():
        fn, make_args, i = p.values
        args = make_args()
        if np.size(args[i]) > 4:
            continue
        name = list(inspect.signature(fn).parameters)[i]
        symbols = _symbols(name, args[i])
        flat = list(np.ravel(symbols))
        point = {s: rational(v) for s, v in zip(flat, np.ravel(args[i]))}
        problem = Problem(fn, tuple(args), (name,), (i,), {name: symbols}, point, Budget(work=WORK))
        try:
            out = problem.run(lower.lower(frontend.parse(fn)), Machine(point, problem.budget))
            expr = sympy.sympify(np.asarray(out, dtype=object).item())
        except Unverifiable:                    # a long loop, or an op SymPy cannot take
            continue
        if _tree_size(expr) > LARGEST:
            continue
        want = np.array([[float(sympy.diff(expr, a, b).subs(point).evalf(20)) for b in flat] for a in flat])
        try:
            got = np.reshape(s2sgrad.hessian(fn, i)(*args), want.shape)
        except s2sgrad.NoRuleError:
            continue                            # (recursion: refused, tested above)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=fn.__name__)
        compared.append(fn.__name__)
    assert len(compared) >= 50, compared


WORK, LARGEST = 5000, 400            # symbolic operations; nodes of the expression SymPy differentiates


# -- every rule of the table in forward mode --------------------------------------

from .test_rules import CASES, _arguments, _example, _rng  # noqa: E402

NO_TANGENT_RULE = {"softplus"}       # users' rules (tests/user_rules_module.py) given no tangent rule


@pytest.mark.parametrize("name, expr, shapes", CASES)
def test_every_rule_example_agrees_in_forward_mode(tmp_path, name, expr, shapes):
    """The rule table's example calls, by jvp against vjp (<v, J u> both ways), or a
    located error naming the op forward mode has no rule for."""
    fn = _example(tmp_path, name, expr, shapes)
    args = _arguments(name, shapes, _rng(name, expr, shapes))
    positions = _float_positions(args)
    rng = np.random.default_rng(11)
    u = tuple(_like(args[i], rng) for i in positions)
    try:
        out, tangent = s2sgrad.jvp(fn, tuple(args), u, wrt=positions)
    except s2sgrad.NoRuleError as error:
        assert "forward mode has no rule" in str(error) and error.loc is not None
        assert name in NO_TANGENT_RULE, f"forward mode refused the example of {name}"
        return
    v = _like(out, rng)
    _, pullback = s2sgrad.vjp(fn, *args, wrt=positions)
    np.testing.assert_allclose(_pair(v, tangent), _pair(pullback(v), u), rtol=1e-8, atol=1e-10)


def test_a_jvp_never_writes_into_the_callers_tangents(tmp_path):
    f = make_function(tmp_path, "def f(x, y):\n    z = x * 1.0\n    z[[0, 2]] += y\n    return z\n")
    x, y, tx, ty = np.arange(4.0), np.ones(2), np.ones(4), np.full(2, 3.0)
    _, tangent = s2sgrad.jvp(f, (x, y), (tx, ty))
    np.testing.assert_array_equal(tx, np.ones(4))
    np.testing.assert_array_equal(tangent, [4.0, 1.0, 4.0, 1.0])


def test_a_full_sum_of_a_product_in_a_tangent_becomes_a_dot_product(tmp_path, monkeypatch):
    """passes/dots.py, in code specialized to the shapes: the tangent of sum(sin(x) * w) is
    one np.vdot; the function's own value keeps NumPy's summation; a sum of several
    products is left whole (what cancels entry by entry stays cancelled); a write into
    an array between a product and its sum keeps the sum."""
    monkeypatch.setattr(api, "LARGE", 4)
    f = make_function(tmp_path, "def f(x, w):\n    return np.sum(np.sin(x) * w)\n")
    x, t, w = np.linspace(-1.0, 1.5, 9), np.cos(np.arange(9.0)), np.arange(9.0)
    source = api.compile_derivative(f, (0,), "jvp", api.calls.shape_key((x, w, t))).source
    assert "np.vdot(x_dot * np.cos(x), w)" in source
    value, tangent = s2sgrad.jvp(f, (x, w), (t,), wrt=0)
    assert value == f(x, w)
    np.testing.assert_allclose(tangent, s2sgrad.grad(f)(x, w) @ t, rtol=1e-12)
    g = make_function(tmp_path, "def g(x, y):\n    return np.sum(x * y - (x - 1.0) * y)\n", name="g")
    big, y = np.full(9, 1e12) + np.arange(9.0), np.linspace(0.5, 1.5, 9)
    _, tangent = s2sgrad.jvp(g, (big, y), (np.ones(9), np.ones(9)))
    assert "vdot" not in api.compile_derivative(g, (0, 1), "jvp", api.calls.shape_key((big, y, y, y))).source
    assert tangent == pytest.approx(9.0, rel=1e-9)          # (d/dx is 0, d/dy is 1 each)
    h = make_function(tmp_path, "def h(x, w):\n    y = x * w\n    z = y * 1.0\n    z[0] = 5.0\n"
                                "    return np.sum(y * w) + np.sum(z)\n", name="h")
    _, tangent = s2sgrad.jvp(h, (x, w), (t, t))
    hx, hw = s2sgrad.grad(h, (0, 1))(x, w)
    np.testing.assert_allclose(tangent, hx @ t + hw @ t, rtol=1e-12)
