"""Shape specialization: the shapes analysis, the specialize pass, and the dispatch on
argument shapes, against the general code on every gallery function."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import api, passes
from s2sgrad.backend import calls
from s2sgrad.passes import shapes, specialize

from . import flow_functions as flow
from .flow_functions import FLOW
from .functions import GALLERY
from .more_functions import MORE
from .support import check_grads, derive, make_function

F64 = np.dtype(float)


def _shaped(*dims):
    return shapes.Shaped(tuple(dims), F64)


def _derivative(fn, wrt, **params):
    return derive(fn, wrt, "grad", len(wrt) == 1, stop_after="optimize"), params


def test_every_value_of_the_rnn_gets_its_shape():
    gen = derive(flow.rnn, ("W", "h0"), "grad", False, stop_after="optimize")
    found = shapes.infer(gen, {"W": _shaped(8, 8), "xs": _shaped(10, 8), "h0": _shaped(8)})
    assert found["h"].shape == (11, 8) and found["T"].value == 10      # T = xs.shape[0]
    assert found["h_item"].shape == (8,) and found["t"].shape == ()   # h[t], t the loop's turn
    assert found["dh"].shape == (11, 8) and found["dW"].shape == (8, 8)


@pytest.mark.parametrize("source, unknown", [
    ("def f(x, n):\n    z = np.zeros(n)\n    return np.sum(z + x)\n", "z"),               # a length
    ("def f(x):\n    y = x[x > 0]\n    return np.sum(y)\n", "y"),                         # a mask
    ("def f(x, i):\n    y = x[i:]\n    return np.sum(y)\n", "y"),                          # a slice
    ("def f(x):\n    for k in range(3):\n        x = x[1:]\n    return np.sum(x)\n", "x"),   # shrinks
    ("def f(x):\n    y = x * SCALE\n    return np.sum(y)\n", "y"),                       # a global
])
def test_values_whose_shape_the_arguments_do_not_fix_stay_unknown(tmp_path, source, unknown):
    fn = make_function(tmp_path, source, preamble="import numpy as np\nSCALE = 2.0\n")
    gen = derive(fn, ("x",), "grad", True, stop_after="optimize")
    params = {"x": _shaped(5), "n": shapes.Shaped((), np.dtype(int)), "i": shapes.Shaped((), np.dtype(int))}
    assert unknown not in shapes.infer(gen, params)


def test_unbroadcast_goes_where_shapes_are_equal_and_stays_where_they_broadcast(tmp_path):
    fn = make_function(tmp_path, "def f(x, y):\n    return np.sum(np.sin(x) * y)\n")
    gen = derive(fn, ("x", "y"), "grad", False, stop_after="optimize")
    assert str(gen).count("unbroadcast") == 2
    same = specialize.run(gen, {"x": _shaped(3, 4), "y": _shaped(3, 4)})
    assert "unbroadcast" not in str(same)
    column = specialize.run(gen, {"x": _shaped(3, 4), "y": _shaped(3, 1)})
    assert str(column).count("unbroadcast") == 1                    # dy sums over the broadcast axis


def test_the_tape_drops_what_was_kept_only_for_its_shape():
    general = s2sgrad.source(flow.scalar_loop)
    key = (float, int)
    special = api.compile_derivative(flow.scalar_loop, 0, "grad", key).source
    assert "unbroadcast" in general and "unbroadcast" not in special
    assert special.count("tape.append") < general.count("tape.append")


def test_each_set_of_shapes_gets_its_own_code_up_to_a_limit(monkeypatch):
    def f(x, y):
        return np.sum(np.tanh(x) * y)
    compiled = []
    real = passes.derivative
    monkeypatch.setattr(passes, "derivative",
                        lambda fn, request, **kw: compiled.append(request.shapes) or real(fn, request, **kw))
    g = s2sgrad.grad(f, wrt=(0, 1))
    for n in range(1, calls.MAX_SPECIALIZATIONS + 4):
        x, y = np.linspace(-1, 1, n), np.linspace(0, 2, n)
        dx, dy = g(x, y)
        np.testing.assert_allclose(dx, y * (1 - np.tanh(x) ** 2))
        np.testing.assert_allclose(dy, np.tanh(x))
        g(x, y[:1])                                 # y broadcast: another key
    g(np.ones(3), np.ones(3))                       # seen: no new compile
    assert compiled[0] is None and len(compiled) == 1 + calls.MAX_SPECIALIZATIONS


def _entries():
    seen = set()
    for fn, make_args, *wrt in [(f, m) for f, m in GALLERY] + FLOW + MORE:
        wrt = wrt[0] if wrt and wrt[0] is not None else None
        out = fn(*make_args())
        if fn not in seen and not isinstance(out, tuple) and np.ndim(out) == 0:   # grad's kind
            seen.add(fn)
            yield pytest.param(fn, make_args, wrt, id=fn.__name__)


@pytest.mark.parametrize("fn, make_args, wrt", list(_entries()))
def test_specialized_and_general_code_agree(fn, make_args, wrt):
    agree(fn, make_args, wrt)


def agree(fn, make_args, wrt):
    """The specialized derivative gives the general one's value and gradients."""
    args = make_args()
    wrt = tuple(range(len(args))) if wrt is None else tuple(wrt)
    value, grads = s2sgrad.value_and_grad(fn, wrt=wrt)(*args)      # specialized to these shapes
    compiled = api.compile_derivative(fn, wrt, "grad")
    general = compiled.fn(*calls.arguments(compiled, args))
    np.testing.assert_allclose(value, general[0], rtol=1e-12)
    for mine, want in zip(grads, general[1]):
        if isinstance(want, dict):
            for key in want:
                np.testing.assert_allclose(mine[key], want[key], rtol=1e-12, atol=1e-300)
        else:
            np.testing.assert_allclose(mine, want, rtol=1e-12, atol=1e-300)


def test_a_uniform_adjoint_makes_a_matrix_products_adjoint_a_sum(tmp_path):
    fn = make_function(tmp_path, "def f(x, y, w):\n    return np.mean(y - np.matmul(x, w)) * 3.0\n")
    key = lambda *s: tuple((d, "d") for d in s)                  # noqa: E731
    large = api.compile_derivative(fn, (0, 1, 2), "grad", key((200, 40), (200, 30), (40, 30))).source
    small = api.compile_derivative(fn, (0, 1, 2), "grad", key((6, 5), (6, 3), (5, 3))).source
    assert "matmul_dleft_uniform(" in large and "matmul_dright_uniform(" in large
    assert "matmul_dleft(" in small and "uniform" not in small      # a small product is cheaper
    rng = np.random.default_rng(3)
    for shapes_ in (((200, 40), (200, 30), (40, 30)), ((6, 5), (6, 3), (5, 3))):
        args = [rng.standard_normal(s) for s in shapes_]
        got = s2sgrad.grad(fn, wrt=(0, 1, 2))(*args)
        c = -3.0 / args[1].size                                   # every entry of the adjoint of x @ w
        np.testing.assert_allclose(got[0], c * np.ones(args[1].shape) @ args[2].T, rtol=1e-12)
        np.testing.assert_allclose(got[2], args[0].T @ (c * np.ones(args[1].shape)), rtol=1e-12)
        np.testing.assert_allclose(got[1], np.full(args[1].shape, 3.0 / args[1].size), rtol=1e-12)


def test_an_adjoint_that_varies_keeps_the_matrix_product(tmp_path):
    fn = make_function(tmp_path, "def f(x, w):\n    return np.sum(np.tanh(x @ w))\n")
    source = api.compile_derivative(fn, (0, 1), "grad", (((200, 40), "d"), ((40, 30), "d"))).source
    assert "uniform" not in source and "matmul_dleft(" in source


def test_the_spread_seed_of_a_sum_is_never_multiplied_in(tmp_path):
    fn = make_function(tmp_path, "def f(x):\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)\n")
    source = api.compile_derivative(fn, 0, "grad", (((50,), "d"),)).source
    assert "unsum" not in source and "dadd" not in source
    assert "dx[:-1] = -2 * sub_2" in source and "dsub = 200.0 * sub" in source
    x = np.random.default_rng(4).standard_normal(50)
    np.testing.assert_allclose(s2sgrad.grad(fn)(x), api.compile_derivative(fn, 0, "grad").fn(x)[1], rtol=1e-13)


def test_a_seed_times_a_value_others_read_stays_a_new_array():
    """1.0 * weights is not weights: the gradient it becomes is updated in place later."""
    from .more_functions import discounted_returns
    rewards = np.array([1.0, 0.5, -0.3, 2.0, 0.1])
    check_grads(discounted_returns, rewards, 0.9)
