"""Reverse over reverse: the runtime helpers' reverse rules (rules/helpers.py), proven
against finite differences on every example, and gradients differentiated again in
reverse mode."""
import numpy as np
import pytest

from s2sgrad.rules import OPS

from .support import check_grads, make_function

PREAMBLE = "import numpy as np\nfrom s2sgrad.runtime import *\n"
TRANSPOSED = sorted(n for n, op in OPS.items() if op.kind == "helper" and op.rule is not None)
CASES = [pytest.param(name, expr, shapes, id=f"{name}: {expr} {shapes}")
         for name in TRANSPOSED for expr, shapes in OPS[name].spec.examples]


def test_the_reverse_sweeps_helpers_have_reverse_rules():
    assert {"unbroadcast", "unsum", "untranspose", "unmax", "matmul_dleft", "matmul_dright", "dot_dleft",
            "dot_dright", "add_at", "unindex", "uncumsum", "broadcast_like", "max_tangent", "untrace", "unroll",
            "untile", "unrepeat", "unpad", "undiagonal", "undiag", "untake", "untake_along_axis",
            "unvar"} <= set(TRANSPOSED)


@pytest.mark.parametrize("name, expr, shapes", CASES)
def test_helper_reverse_rule_matches_finite_differences(tmp_path, name, expr, shapes):
    params = "xyzwv"[:len(shapes)]
    fn = make_function(tmp_path, f"def f({', '.join(params)}):\n    return {expr}\n", preamble=PREAMBLE)
    rng = np.random.default_rng(len(CASES))
    args = [rng.standard_normal(s) if s else float(rng.standard_normal()) for s in shapes]
    check_grads(fn, *args, rtol=1e-5, atol=1e-7)


# -- reverse over reverse on the galleries -------------------------------------------

import s2sgrad  # noqa: E402

from .support import numeric_vjp  # noqa: E402
from .test_forward import NO_TANGENT_RULE, _float_positions, _like, _scalar_entries  # noqa: E402

@pytest.mark.parametrize("fn, make_args, i", list(_scalar_entries()))
def test_vjps_of_gradients_match_differences_of_the_gradient(fn, make_args, i):
    """vjp(grad(f)) (reverse mode over the generated gradient) pulls a cotangent back to
    every float argument: the Hessian's row, and the mixed second derivatives. Each is
    right (none is refused)."""
    args = make_args()
    floats = _float_positions(args)
    df = s2sgrad.grad(fn, i)
    out, pullback = s2sgrad.vjp(df, *args, wrt=floats)
    np.testing.assert_allclose(out, df(*make_args()), rtol=1e-12, atol=1e-12)
    v = _like(args[i], np.random.default_rng(5))
    got = pullback(v)
    for j, g in zip(floats, got):
        assert np.shape(g) == np.shape(args[j])
        np.testing.assert_allclose(g, numeric_vjp(df, make_args(), j, v), rtol=1e-4, atol=1e-5,
                                   err_msg=f"argument {j}")


# -- derivatives s2sgrad made, called by functions that are differentiated --------------

CALLER = """
import numpy as np
import s2sgrad


def f(x, w):
    s = 0.0
    for i in range(3):
        x = np.sin(x) * w
        if i > 0:
            s = s + np.sum(x * x)
    return s


df = s2sgrad.grad(f)
dfw = s2sgrad.grad(f, wrt=(0, 1))
vg = s2sgrad.value_and_grad(f)


def penalty(x, w):
    g = df(x, w)
    return np.sum(g ** 2)


def both(x, w):
    gx, gw = dfw(x, w)
    return np.sum(gx * gw)


def valued(x, w):
    value, g = vg(x, w)
    return value * np.sum(g)


def in_a_loop(x, w):
    total = 0.0
    for k in range(2):
        total = total + np.sum(df(x * (k + 1.0), w) * w)
    return total
"""


def _caller(tmp_path, name):
    return make_function(tmp_path, CALLER, name=name, preamble="")


def _numeric_grad(fn, args, i, eps=1e-6):
    return numeric_vjp(fn, args, i, 1.0)


ARGS = (np.array([0.3, -0.7, 1.1]), np.array([0.5, 0.9, -1.2]))


@pytest.mark.parametrize("name", ["penalty", "both", "valued", "in_a_loop"])
def test_a_function_calling_a_gradient_differentiates_in_both_modes(tmp_path, name):
    fn = _caller(tmp_path, name)
    x, w = (a.copy() for a in ARGS)
    gx, gw = s2sgrad.grad(fn, wrt=(0, 1))(x, w)
    np.testing.assert_allclose(gx, _numeric_grad(fn, (x, w), 0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gw, _numeric_grad(fn, (x, w), 1), rtol=1e-5, atol=1e-7)
    u = (np.array([1.0, -0.5, 0.25]), np.array([0.2, 0.1, -0.3]))
    _, along = s2sgrad.jvp(fn, (x, w), u)
    np.testing.assert_allclose(along, gx @ u[0] + gw @ u[1], rtol=1e-10)
    np.testing.assert_array_equal(x, ARGS[0])


def test_the_gradient_penalty_is_twice_the_hessian_times_the_gradient(tmp_path):
    penalty, f = _caller(tmp_path, "penalty"), _caller(tmp_path, "f")
    x, w = ARGS
    H = s2sgrad.hessian(f)(x, w)
    g = s2sgrad.grad(f)(x, w)
    np.testing.assert_allclose(s2sgrad.grad(penalty)(x, w), 2 * H @ g, rtol=1e-10)
    source = s2sgrad.source(penalty)
    assert "def vjp_grad_f(x, w, ddx" in source and "dx = vjp_grad_f(x, w, dg)[1][0]" in source


def test_the_jacobian_of_a_gradient_by_reverse_mode_is_the_hessian(tmp_path):
    f = _caller(tmp_path, "f")
    x, w = ARGS
    J = s2sgrad.jacobian(s2sgrad.grad(f), wrt=(0, 1), mode="reverse")(x, w)
    H = s2sgrad.hessian(f, wrt=(0, 1))(x, w)
    np.testing.assert_allclose(J[0], H[0][0], rtol=1e-10)
    np.testing.assert_allclose(J[1], H[0][1], rtol=1e-10)


def test_a_gradient_penalty_with_respect_to_other_parameters(tmp_path):
    """The WGAN-GP shape: the penalty on the gradient with respect to the input, itself
    differentiated with respect to the critic's weights."""
    source = """
import numpy as np
import s2sgrad


def critic(theta, x):
    return np.sum(np.tanh(theta @ x))


dcritic_dx = s2sgrad.grad(critic, wrt=1)


def penalty(theta, x):
    return (np.sqrt(np.sum(dcritic_dx(theta, x) ** 2)) - 1.0) ** 2
"""
    penalty = make_function(tmp_path, source, name="penalty", preamble="")
    theta, x = np.random.default_rng(2).standard_normal((4, 3)), np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(s2sgrad.grad(penalty)(theta, x), numeric_vjp(penalty, (theta, x), 0, 1.0),
                               rtol=1e-5, atol=1e-8)


def test_a_second_derivative_of_a_function_calling_a_gradient_is_refused_at_its_line(tmp_path):
    penalty = _caller(tmp_path, "penalty")
    with pytest.raises(s2sgrad.UnsupportedSyntaxError) as caught:
        s2sgrad.hessian(penalty)(*ARGS)
    assert caught.value.loc.line == CALLER.splitlines().index("    g = df(x, w)") + 1
    assert "second derivative" in str(caught.value)


# -- second derivatives through every rule of the table -----------------------------------

from .test_rules import CASES as RULE_CASES, _arguments, _rng  # noqa: E402
from .test_rules import OPS as _OPS, PREAMBLE as RULE_PREAMBLE  # noqa: E402



def _through(tmp_path, name, expr, shapes):
    """The example inside a smooth scalar function, sum(sin(example)), so that every
    second derivative of the op is used; its arguments, the first float one's position,
    and a direction for it."""
    params = "xyzwv"[:len(shapes)]
    if expr.startswith("def "):
        source = expr.replace("def f(", "def inner(") + \
            f"\ndef f({', '.join(params)}):\n    return np.sum(np.sin(inner({', '.join(params)})))\n"
    else:
        first = "    x = (x + x.T) / 2\n" if _OPS[name].spec.domain[0] == "spd" else ""
        value = f"np.real({expr} * (1 - 0.5j))" if _OPS[name].result == "complex" else expr   # (np.fft.fft)
        source = f"def f({', '.join(params)}):\n{first}    return np.sum(np.sin({value}))\n"
    args = _arguments(name, shapes, _rng(name, expr, shapes))
    i = _float_positions(args)[0]
    return make_function(tmp_path, source, preamble=RULE_PREAMBLE), args, i, _like(args[i], np.random.default_rng(3))


@pytest.mark.parametrize("name, expr, shapes", RULE_CASES)
def test_second_derivatives_through_every_rule_match_differences_of_the_gradient(tmp_path, name, expr, shapes):
    """hvp (forward mode over the generated gradient, so over the reverse sweep's helpers)
    against central differences of the gradient; or a located error naming the op."""
    fn, args, i, v = _through(tmp_path, name, expr, shapes)
    try:
        got = s2sgrad.hvp(fn, i)(*args, v)
    except s2sgrad.NoRuleError as error:
        assert "forward mode has no rule" in str(error) and error.loc is not None
        assert name in NO_TANGENT_RULE, f"forward mode refused the example of {name}"
        return
    g, eps = s2sgrad.grad(fn, i), 1e-5
    up, down = list(args), list(args)
    up[i], down[i] = args[i] + eps * v, args[i] - eps * v
    want = (np.asarray(g(*up)) - np.asarray(g(*down))) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)






@pytest.mark.parametrize("name, expr, shapes", RULE_CASES)
def test_vjps_of_gradients_through_every_rule_equal_hessian_vector_products(tmp_path, name, expr, shapes):
    """vjp(grad(f)) (reverse over reverse, or by symmetry where a helper of the gradient
    has no reverse rule yet) against hvp (forward over reverse); or a located error."""
    fn, args, i, v = _through(tmp_path, name, expr, shapes)
    try:
        want = s2sgrad.hvp(fn, i)(*args, v)
    except s2sgrad.NoRuleError:
        assert name in NO_TANGENT_RULE           # (the test above says which, and how)
        return
    _, pullback = s2sgrad.vjp(s2sgrad.grad(fn, i), *args, wrt=(i,))
    np.testing.assert_allclose(pullback(v)[0], want, rtol=1e-8, atol=1e-10)




def test_a_helper_with_no_reverse_rule_is_never_a_silent_zero(tmp_path):
    """unprod has a forward rule and no reverse one: reverse mode over the gradient refuses
    it at the user's line, and vjp(grad(f)) takes the symmetric way instead."""
    from s2sgrad import frontend
    from s2sgrad.frontend import lower
    from s2sgrad.passes import again, normalize, optimize, reverse
    f = make_function(tmp_path, "def f(x):\n    return np.sum(np.sin(np.prod(x)))\n")
    fn = normalize.run(lower.lower(frontend.parse(f)))
    gradient = again.returning(optimize.run(reverse.run(fn, ("x",), "grad")), False, True)
    with pytest.raises(s2sgrad.NoRuleError) as caught:
        reverse.run(again.prepared(gradient), ("x",), "vjp")
    assert "`unprod`" in str(caught.value) and caught.value.loc.line == 3     # (after the import line)
    x, v = np.array([0.3, 0.7, 1.2]), np.array([1.0, 0.5, -1.0])
    _, pullback = s2sgrad.vjp(s2sgrad.grad(f), x)
    np.testing.assert_allclose(pullback(v)[0], s2sgrad.hvp(f)(x, v), rtol=1e-12)
    assert "by symmetry" in api_source(s2sgrad.grad(f))


def api_source(df):
    from s2sgrad import api
    return api.compile_derivative(df, (0,), "vjp").source


def test_the_jvp_of_a_gradient_takes_tangents_for_the_gradients_arguments(tmp_path):
    f = _caller(tmp_path, "f")
    x, w = ARGS
    u = np.array([1.0, -0.5, 0.25])
    g, along = s2sgrad.jvp(s2sgrad.grad(f), (x, w), (u,))
    np.testing.assert_allclose(along, s2sgrad.hessian(f)(x, w) @ u, rtol=1e-10)
    _, mixed = s2sgrad.jvp(s2sgrad.grad(f), (x, w), (np.zeros(3), u), wrt=(0, 1))
    np.testing.assert_allclose(mixed, s2sgrad.hessian(f, wrt=(0, 1))(x, w)[0][1] @ u, rtol=1e-10)


RECURSIVE = """
import numpy as np


def swap(x, y, n):
    if n == 0:
        return np.sum(x * x * y)
    return swap(y, x, n - 1)


def rtwo(x, y, n):
    if n == 0:
        return np.sum(np.sin(x) * y * y)
    return rtwo(y, x * 1.5, n - 1)


def both(x, y, n):
    if n == 0:
        return np.sum(np.sin(x) * y * y)
    return both(y, x, n - 1) + both(x, y * 0.5, n - 1)
"""


@pytest.mark.parametrize("name", ["swap", "rtwo", "both"])
def test_recursion_that_moves_the_differentiated_argument(tmp_path, name):
    """A recursive call that passes x where y was: its vjp with respect to the other
    argument is another function, never the caller's own vjp under the same name (that
    gave a wrong gradient); first and second derivatives against differences."""
    from .test_forward import _numeric_hessian
    f = make_function(tmp_path, RECURSIVE, name=name, preamble="")
    x, y = np.array([0.3, -0.7]), np.array([1.1, 0.4])
    for n in (1, 2, 3):
        for i in (0, 1):
            np.testing.assert_allclose(s2sgrad.grad(f, i)(x, y, n), numeric_vjp(f, (x, y, n), i, 1.0),
                                       rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(s2sgrad.hessian(f, i)(x, y, n), _numeric_hessian(f, (x, y, n), i),
                                       rtol=1e-5, atol=1e-7)
    H = s2sgrad.hessian(f, (0, 1))(x, y, 3)
    eps, g = 1e-6, s2sgrad.grad(f, 0)
    mixed = np.array([(g(x, y + eps * e, 3) - g(x, y - eps * e, 3)) / (2 * eps) for e in np.eye(2)]).T
    np.testing.assert_allclose(H[0][1], mixed, rtol=1e-5, atol=1e-7)


def test_a_vjp_of_a_gradient_never_writes_into_the_callers_cotangent(tmp_path):
    """Found by a fuzzer of second derivatives: the symmetric way (unassigned has no
    reverse rule) wrote an item of the tangent into the cotangent the caller passed."""
    f = make_function(tmp_path, "def f(x, v):\n    t = v * 1.0\n    t[[0, 0, 2]] = np.abs(0.6 + np.tanh(v) ** 2)\n"
                                "    return np.sum(np.tanh(v)) + np.sum(np.tanh(t)) + np.tanh(x)\n")
    x, v, u = 0.2, np.array([0.1, -0.3, 0.4]), np.array([0.3, -0.5, 0.8])
    _, pullback = s2sgrad.vjp(s2sgrad.grad(f, 1), x, v, wrt=(0, 1))
    _, pulled = pullback(u)
    np.testing.assert_array_equal(u, [0.3, -0.5, 0.8])
    np.testing.assert_allclose(pulled, s2sgrad.hvp(f, 1)(x, v, u), rtol=1e-12)
    _, pullback = s2sgrad.vjp(s2sgrad.grad(f, (0, 1)), x, v, wrt=(1,))
    (pulled,) = pullback((1.0, u))
    np.testing.assert_array_equal(u, [0.3, -0.5, 0.8])
    eps, g = 1e-6, s2sgrad.grad(f, (0, 1))
    along = [(np.asarray(g(x + eps * d, v + eps * w)[0]) * 1.0 + g(x + eps * d, v + eps * w)[1] @ u
              - (np.asarray(g(x - eps * d, v - eps * w)[0]) * 1.0 + g(x - eps * d, v - eps * w)[1] @ u)) / (2 * eps)
             for d, w in [(0.0, e) for e in np.eye(3)]]
    np.testing.assert_allclose(pulled, along, rtol=1e-5, atol=1e-7)
