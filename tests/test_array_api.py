"""Gradients called with the arrays of another library (the `xp` profile): they compute
in that library, return its arrays, and agree with NumPy's; what has no Array API form
is refused at the user's line. array_api_strict (the standard and nothing more) and Dask
run here always; PyTorch and JAX where installed."""
from __future__ import annotations

import math

import numpy as np
import pytest

import s2sgrad
from s2sgrad.errors import NoRuleError, NotDifferentiableError, S2SGradError
from s2sgrad.runtime import unbroadcast

from .flow_functions import FLOW
from .functions import GALLERY
from .more_functions import MORE

xp = pytest.importorskip("array_api_strict")
da = pytest.importorskip("dask.array")

RNG = np.random.default_rng(7)


# -- functions written as people write them ------------------------------------------------

def logistic_loss(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def mlp(W1, b1, W2, x, target):
    h = np.tanh(x @ W1 + b1)
    out = h @ W2
    err = out - target
    return 0.5 * np.sum(err ** 2) / x.shape[0]


def relu_regression(w, X, y, alpha=0.1):
    z = X @ w
    hidden = np.maximum(z, 0.0)
    penalty = alpha * np.sum(np.abs(w))
    return np.mean((hidden - y) ** 2) + penalty


def smooth(v):
    return np.sqrt(v * v + 1e-3)


def rnn_loss(W, h0, xs):
    h = h0
    total = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        total = total + smooth(h).sum()
    return total


def rows_loop(A, c):
    total = 0.0
    for row in A:
        total += np.sum(row * c) ** 2
    return total / len(A)


def chatty(x, scale):
    assert x.shape[0] > 0, "need data"
    print("evaluating", x.shape)
    return scale * np.sum(np.sin(x) ** 2)


def picks(logits, labels):
    n = logits.shape[0]
    m = np.max(logits, axis=1, keepdims=True)
    logz = np.log(np.sum(np.exp(logits - m), axis=1)) + m[:, 0]
    return np.mean(logz - logits[np.arange(n), labels])


def padded(x):
    return np.sum(np.pad(x, 1) ** 2)


CASES = [
    (logistic_loss, lambda: (RNG.normal(size=3), RNG.normal(size=(40, 3)), (RNG.random(40) < 0.5) * 1.0), 0),
    (mlp, lambda: (RNG.normal(size=(3, 5)), RNG.normal(size=5), RNG.normal(size=(5, 2)), RNG.normal(size=(8, 3)),
                   RNG.normal(size=(8, 2))), (0, 1, 2)),
    (relu_regression, lambda: (RNG.normal(size=4), RNG.normal(size=(30, 4)), RNG.normal(size=30)), 0),
    (rnn_loss, lambda: (0.5 * RNG.normal(size=(4, 4)), RNG.normal(size=4), RNG.normal(size=(6, 4))), (0, 1, 2)),
    (rows_loop, lambda: (RNG.normal(size=(5, 3)), RNG.normal(size=3)), (0, 1)),
    (picks, lambda: (RNG.normal(size=(6, 4)), np.array([0, 3, 1, 1, 2, 0])), 0),
]


def _as_numpy(a):
    return np.asarray(a.compute() if hasattr(a, "compute") else a)


def _check(fn, args, wrt, to, kind):
    expected = s2sgrad.grad(fn, wrt=wrt)(*args)
    got = s2sgrad.grad(fn, wrt=wrt)(*[to(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" or
                                      isinstance(a, np.ndarray) and kind == "all" else a for a in args])
    expected, got = (expected, got) if isinstance(wrt, tuple) else ((expected,), (got,))
    for e, g in zip(expected, got):
        assert not isinstance(g, np.ndarray), "the gradient should be the library's array"
        np.testing.assert_allclose(_as_numpy(g), e, rtol=1e-10, atol=1e-12)
    return got


@pytest.mark.parametrize("fn, make, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_agrees_with_numpy_on_array_api_strict(fn, make, wrt):
    got = _check(fn, make(), wrt, xp.asarray, "all")
    assert all(isinstance(g, type(xp.asarray(1.0))) for g in got)


@pytest.mark.parametrize("fn, make, wrt", CASES[:-1], ids=[c[0].__name__ for c in CASES[:-1]])
def test_agrees_with_numpy_on_dask(fn, make, wrt):      # (picks: Dask has no `x[rows, cols]` of its own)
    chunked = (lambda a: da.from_array(a, chunks=(max(1, a.shape[0] // 2),) + a.shape[1:]) if a.ndim else a)
    got = _check(fn, make(), wrt, chunked, "all")
    assert all(isinstance(g, da.Array) for g in got)


def test_gradients_match_finite_differences_on_the_library():
    w, X, y = CASES[2][1]()
    g = _as_numpy(s2sgrad.grad(relu_regression)(xp.asarray(w), xp.asarray(X), xp.asarray(y)))
    eps = 1e-6
    for i in range(w.size):
        e = np.zeros_like(w)
        e[i] = eps
        fd = (relu_regression(w + e, X, y) - relu_regression(w - e, X, y)) / (2 * eps)
        assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-7)


def test_value_and_grad_numbers_and_prints(capsys):
    x = RNG.normal(size=5)
    value, (dx, dscale) = s2sgrad.value_and_grad(chatty, wrt=(0, 1))(xp.asarray(x), 3.0)
    assert float(value) == pytest.approx(3.0 * np.sum(np.sin(x) ** 2))
    np.testing.assert_allclose(np.asarray(dx), 3.0 * 2 * np.sin(x) * np.cos(x))
    assert float(dscale) == pytest.approx(np.sum(np.sin(x) ** 2))
    assert "evaluating" in capsys.readouterr().out


def test_float32_arrays_keep_their_dtype():
    w, X, y = (a.astype(np.float32) for a in CASES[0][1]())
    g = s2sgrad.grad(logistic_loss)(xp.asarray(w), xp.asarray(X), xp.asarray(y))
    assert g.dtype == xp.float32
    np.testing.assert_allclose(np.asarray(g), s2sgrad.grad(logistic_loss)(w, X, y), rtol=1e-5)


def test_numpy_arrays_beside_the_library_become_its_arrays():
    w, X, y = CASES[0][1]()
    g = s2sgrad.grad(logistic_loss)(w, xp.asarray(X), y)
    assert isinstance(g, type(xp.asarray(1.0)))
    np.testing.assert_allclose(np.asarray(g), s2sgrad.grad(logistic_loss)(w, X, y), rtol=1e-12)


def test_two_libraries_are_refused():
    w, X, y = CASES[0][1]()
    with pytest.raises(NotDifferentiableError, match="more than one library"):
        s2sgrad.grad(logistic_loss)(xp.asarray(w), da.from_array(X), y)


def test_an_op_with_no_array_api_form_is_refused_at_its_line():
    with pytest.raises(NoRuleError) as info:
        s2sgrad.grad(padded)(xp.asarray(np.ones(3)))
    message = str(info.value)
    assert "`np.pad` has no Array API form" in message and "return np.sum(np.pad(x, 1) ** 2)" in message
    assert s2sgrad.grad(padded)(np.ones(3)) == pytest.approx(2 * np.ones(3))      # NumPy's still works


def test_integer_arrays_are_not_differentiated():
    with pytest.raises(NotDifferentiableError, match="cannot differentiate with respect to `w`"):
        s2sgrad.grad(logistic_loss)(xp.asarray([1, 2, 3]), xp.asarray(np.ones((4, 3))), xp.asarray(np.ones(4)))


def test_a_non_scalar_output_is_refused():
    with pytest.raises(S2SGradError, match="scalar output"):
        s2sgrad.grad(np.sin)(xp.asarray(np.ones(3)))


def test_numpy_only_transforms_say_so():
    with pytest.raises(NotDifferentiableError, match="NumPy arrays only"):
        s2sgrad.vjp(s2sgrad.grad(logistic_loss), *[xp.asarray(a) for a in CASES[0][1]()])


# -- vjp, jvp, hvp, hessian and jacobian on another library's arrays ------------------------

def layer(x, W, b):
    return np.tanh(x @ W + b) * 2.0


def two_outputs(x, w):
    return np.sum(x * w), x ** 2 - w


def energy(x, k):
    total = 0.0
    for i in range(x.shape[0] - 1):
        total = total + k * (x[i + 1] - x[i]) ** 2 + np.cos(x[i])
    return total


def _library(name):
    if name == "array_api_strict":
        return xp.asarray
    if name == "dask":
        return lambda a: da.from_array(a, chunks=max(1, a.shape[0] // 2)) if a.ndim else a
    if name == "torch":
        return pytest.importorskip("torch", reason="PyTorch is in the bench extra").asarray
    jax = pytest.importorskip("jax", reason="JAX is in the bench extra")
    jax.config.update("jax_enable_x64", True)
    return jax.numpy.asarray


def _same(got, expected):
    got, expected = (got, expected) if isinstance(expected, tuple) else ((got,), (expected,))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if isinstance(e, tuple):
            _same(g, e)
            continue
        assert not isinstance(g, np.ndarray) or np.ndim(e) == 0, "the library's array expected"
        np.testing.assert_allclose(_as_numpy(g), e, rtol=1e-10, atol=1e-12)


LIBRARIES = ["array_api_strict", "dask", "torch", "jax"]


@pytest.mark.parametrize("library", LIBRARIES)
def test_vjp_and_jvp_compute_in_the_library(library):
    to = _library(library)
    x, W, b = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=2)
    ct, tangents = RNG.normal(size=(3, 2)), (RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=2))
    out, pullback = s2sgrad.vjp(layer, to(x), to(W), to(b))
    e_out, e_pullback = s2sgrad.vjp(layer, x, W, b)
    _same(out, e_out)
    _same(pullback(to(ct)), e_pullback(ct))
    _same(pullback(ct), e_pullback(ct))                      # (a NumPy cotangent: the library's array)
    _same(s2sgrad.jvp(layer, (to(x), to(W), to(b)), tuple(map(to, tangents))),
          s2sgrad.jvp(layer, (x, W, b), tangents))
    v, w = RNG.normal(size=5), RNG.normal(size=5)
    out, pullback = s2sgrad.vjp(two_outputs, to(v), to(w))
    _same(pullback((1.5, to(w))), s2sgrad.vjp(two_outputs, v, w)[1]((1.5, w)))
    out, pullback = s2sgrad.vjp(energy, to(v), 0.7, wrt=0)   # (a loop: the pullback runs it again)
    e_out, e_pullback = s2sgrad.vjp(energy, v, 0.7, wrt=0)
    _same(out, e_out)
    _same(pullback(2.0), e_pullback(2.0))
    _same(s2sgrad.jvp(energy, (to(v), 0.7), (to(w),), wrt=0), s2sgrad.jvp(energy, (v, 0.7), (w,), wrt=0))


@pytest.mark.parametrize("library", LIBRARIES)
def test_second_derivatives_and_jacobians_in_the_library(library):
    to = _library(library)
    v, k, t = RNG.normal(size=5), 0.7, RNG.normal(size=5)
    _same(s2sgrad.hvp(energy)(to(v), k, to(t)), s2sgrad.hvp(energy)(v, k, t))
    _same(s2sgrad.hessian(energy)(to(v), k), s2sgrad.hessian(energy)(v, k))
    _same(s2sgrad.hessian(energy, wrt=(0, 1))(to(v), k), s2sgrad.hessian(energy, wrt=(0, 1))(v, k))
    x, w = RNG.normal(size=4), RNG.normal(size=4)
    for mode in ("reverse", "forward"):
        _same(s2sgrad.jacobian(two_outputs_second, wrt=(0, 1), mode=mode)(to(x), to(w)),
              s2sgrad.jacobian(two_outputs_second, wrt=(0, 1), mode=mode)(x, w))


def two_outputs_second(x, w):
    return np.tanh(x * w) + np.sum(x) * w


def test_a_cotangent_or_tangent_of_the_wrong_shape_is_refused():
    x, W, b = (xp.asarray(RNG.normal(size=s)) for s in ((3, 4), (4, 2), (2,)))
    _, pullback = s2sgrad.vjp(layer, x, W, b)
    with pytest.raises(s2sgrad.errors.ShapeError, match=r"the cotangent has shape \(3,\) but the output has shape"):
        pullback(np.ones(3))
    with pytest.raises(s2sgrad.errors.ShapeError, match="the tangent 1 has shape"):
        s2sgrad.jvp(layer, (x, W, b), (x, x, b))
    with pytest.raises(NotDifferentiableError, match="cannot differentiate with respect to `k`: it is an int"):
        s2sgrad.vjp(energy, xp.asarray(np.ones(3)), 2, wrt=(0, 1))


def test_source_of_the_xp_profile():
    text = s2sgrad.source(logistic_loss, profile="xp")
    assert "from s2sgrad.runtime.array_api import namespace" in text
    assert "    xp = namespace(w, X, y)\n" in text and "xp.exp(-xp.matmul(X, w))" in text
    code = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert not any("np." in line for line in code) and "xp.matmul_dright(" in text


def test_numpy_unbroadcast_sums_another_librarys_array_for_a_number():
    assert unbroadcast(da.ones(3), 2.0) == pytest.approx(3.0)     # (it was taken for a number: 1.0 each)


def test_dask_stays_lazy():
    from dask.callbacks import Callback

    class Count(Callback):
        runs = 0

        def _start(self, dsk):
            Count.runs += 1
    w, X, y = CASES[0][1]()
    with Count():
        g = s2sgrad.grad(logistic_loss)(da.from_array(w), da.from_array(X, chunks=(10, 3)), da.from_array(y, 10))
    assert Count.runs == 0 and isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), s2sgrad.grad(logistic_loss)(w, X, y), rtol=1e-12)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        yield client


def test_gradient_on_a_local_cluster(cluster):
    rows, features = 20_000, 8
    X = da.random.default_rng(3).normal(size=(rows, features), chunks=(5_000, features))
    w_true = np.linspace(-1, 1, features)
    y = (X @ w_true > 0) * 1.0
    w = np.zeros(features)
    value, g = s2sgrad.value_and_grad(logistic_loss)(w, X, y)
    value, g = cluster.compute([value, g], sync=True)
    Xn, yn = X.compute(), y.compute()
    expected_value, expected = s2sgrad.value_and_grad(logistic_loss)(w, Xn, yn)
    assert value == pytest.approx(math.log(2)) and value == pytest.approx(expected_value)
    np.testing.assert_allclose(g, expected, rtol=1e-10)


def _gallery():
    seen = set()
    for fn, make, *wrt in [(f, m) for f, m in GALLERY] + FLOW + MORE:
        args = make()
        if fn in seen or not any(isinstance(a, np.ndarray) for a in args):
            continue
        out = fn(*args)
        if isinstance(out, tuple) or np.ndim(out) != 0:
            continue
        seen.add(fn)
        yield fn, make, wrt[0] if wrt and wrt[0] is not None else tuple(range(len(args)))


def _gallery_under(to, back=np.asarray) -> tuple:
    """(how many gallery functions agree with NumPy given arrays made by `to`, the names
    of those refused at a line of their own)."""
    agree, refused = 0, []
    for fn, make, wrt in _gallery():
        expected = s2sgrad.grad(fn, wrt=wrt)(*make())
        try:
            got = s2sgrad.grad(fn, wrt=wrt)(*[to(a) if isinstance(a, np.ndarray) else a for a in make()])
        except S2SGradError as e:
            assert e.loc is not None and e.loc.line, fn.__name__
            refused.append(fn.__name__)
            continue
        for e, g in zip(expected if isinstance(wrt, tuple) else (expected,), got if isinstance(wrt, tuple) else (got,)):
            np.testing.assert_allclose(back(g), np.asarray(e, dtype=float), rtol=1e-7, atol=1e-9, err_msg=fn.__name__)
        agree += 1
    return agree, refused


def test_the_gallery_under_array_api_strict():
    """Every gallery function given arrays agrees with NumPy under array_api_strict, or is
    refused at a line of its own saying why (the count is the README's)."""
    agree, refused = _gallery_under(xp.asarray)
    assert agree >= 109 and refused == ["recursive_sum"], (agree, refused)


@pytest.mark.skipif(not __import__("os").environ.get("S2SGRAD_ENGINES"),
                    reason="the whole gallery under Dask, PyTorch and JAX: S2SGRAD_ENGINES=1")
@pytest.mark.parametrize("library", ["dask", "torch", "jax"])
def test_the_gallery_under_other_libraries(library):
    if library == "dask":
        agree, refused = _gallery_under(lambda a: da.from_array(a, chunks=-1), _as_numpy)
    elif library == "torch":
        agree, refused = _gallery_under(pytest.importorskip("torch").asarray)
    else:
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)
        agree, refused = _gallery_under(jax.numpy.asarray)
    assert agree >= 109 and refused == ["recursive_sum"], (library, agree, refused)


@pytest.mark.parametrize("library", ["torch", "jax"])
@pytest.mark.parametrize("fn, make, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_agrees_with_numpy_on_pytorch_and_jax(library, fn, make, wrt):
    if library == "torch":
        torch = pytest.importorskip("torch", reason="PyTorch is in the bench extra")
        to = torch.asarray
    else:
        jax = pytest.importorskip("jax", reason="JAX is in the bench extra")
        jax.config.update("jax_enable_x64", True)
        to = jax.numpy.asarray
    _check(fn, make(), wrt, to, "all")


def clipped_fit(w, y):
    y[y > 3.0] = 3.0
    y[0] = 0.5
    return np.sum((y - w) ** 2)


def test_writes_into_arguments_leave_the_callers_arrays():
    w, y = np.ones(3), np.array([1.0, 5.0, 2.0])
    expected = s2sgrad.grad(clipped_fit)(w, y.copy())
    for to in (xp.asarray, da.from_array):
        given = to(y)
        g = s2sgrad.grad(clipped_fit)(to(w), given)
        np.testing.assert_allclose(_as_numpy(g), expected)
        np.testing.assert_array_equal(_as_numpy(given), [1.0, 5.0, 2.0])


def weighted_grid(x, a):
    c = np.array([0.1, 0.2, 0.3])
    return np.sum(x * c) + np.sum(np.sin(a * np.linspace(0, 1, 7))) + np.sum(np.eye(3) @ x)


def positive_energy(x):
    return np.sum(x[x > 0] ** 2) + np.sum(x[[0, 0, 2]])


@pytest.mark.parametrize("library", ["torch", "jax"])
def test_constants_and_masks_as_numpy_has_them(library):
    """PyTorch makes float32 constants where NumPy makes float64; a boolean mask names
    each entry once, a list of indices may repeat one (both were silently wrong)."""
    if library == "torch":
        to = pytest.importorskip("torch", reason="PyTorch is in the bench extra").asarray
    else:
        jax = pytest.importorskip("jax", reason="JAX is in the bench extra")
        jax.config.update("jax_enable_x64", True)
        to = jax.numpy.asarray
    x = np.array([0.5, -0.7, 0.9])
    dx, da_ = s2sgrad.grad(weighted_grid, wrt=(0, 1))(to(x), to(np.float64(0.3)))
    ex, ea = s2sgrad.grad(weighted_grid, wrt=(0, 1))(x, 0.3)
    assert np.asarray(dx).tolist() == ex.tolist() and float(da_) == pytest.approx(float(ea), rel=1e-14)
    for values in ([0.5, 0.7, 0.9], [-1.0, 0.7, -2.0], [0.3, -0.2, 0.0]):
        x = np.array(values)
        np.testing.assert_allclose(np.asarray(s2sgrad.grad(positive_energy)(to(x))),
                                   s2sgrad.grad(positive_energy)(x), rtol=1e-15)


def branchy(x, w):
    total = 0.0
    for i in range(w.shape[0]):
        if x * w[i] > 0.5:
            total = total + np.sqrt(x * w[i])
        else:
            total = total - np.sin(x * w[i])
    return total


@pytest.mark.parametrize("fn, make, wrt", CASES[:5], ids=[c[0].__name__ for c in CASES[:5]])
def test_the_jax_backend_runs_under_jit(fn, make, wrt):
    jax = pytest.importorskip("jax", reason="JAX is in the bench extra")
    jax.config.update("jax_enable_x64", True)
    args = make()
    expected = s2sgrad.grad(fn, wrt=wrt)(*args)
    got = s2sgrad.grad(fn, wrt=wrt, backend="jax")(*args)
    for e, g in zip(expected if isinstance(wrt, tuple) else (expected,), got if isinstance(wrt, tuple) else (got,)):
        assert isinstance(g, jax.Array)
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-10, atol=1e-12)


def test_the_jax_backend_refuses_control_flow_on_values_at_its_line():
    jax = pytest.importorskip("jax", reason="JAX is in the bench extra")
    jax.config.update("jax_enable_x64", True)
    from s2sgrad.errors import UnsupportedSyntaxError
    with pytest.raises(UnsupportedSyntaxError, match="jax.jit cannot trace") as info:
        s2sgrad.grad(branchy, backend="jax")(0.7, np.linspace(-1, 2, 5))
    assert info.value.loc.line > 0


def matrix_norms(w, A, B):
    return w * (np.linalg.norm(A, 1, axis=(1, 0)) + np.linalg.norm(B, axis=(0, 1)).sum())


def plane_pick(x, W):
    return np.sum(x[0, :, [0, 2, 1]] * W)


def summed(x, y):
    return np.sum((x + y) ** 2)


def test_review_findings_agree_with_numpy():
    """Silently wrong before a review: a matrix norm over axes (1, 0), a number beside an
    array of indices past a slice (NumPy reads it as an array), gradients sharing memory."""
    A, B = np.arange(1.0, 7.0).reshape(2, 3), np.linspace(-1, 1, 27).reshape(3, 3, 3)
    got = s2sgrad.grad(matrix_norms)(2.0, xp.asarray(A), xp.asarray(B))
    assert float(got) == pytest.approx(s2sgrad.grad(matrix_norms)(2.0, A, B), rel=1e-12)
    dx, dy = s2sgrad.grad(summed, wrt=(0, 1))(xp.asarray(np.ones(3)), xp.asarray(np.ones(3)))
    assert dx is not dy
    torch = pytest.importorskip("torch", reason="PyTorch is in the bench extra")
    x, W = np.arange(27.0).reshape(3, 3, 3), np.arange(9.0).reshape(3, 3) ** 2
    value, g = s2sgrad.value_and_grad(plane_pick)(torch.asarray(x), torch.asarray(W))
    e_value, e_g = s2sgrad.value_and_grad(plane_pick)(x, W)
    assert float(value) == e_value and np.allclose(g.numpy(), e_g)
    dx, dy = s2sgrad.grad(summed, wrt=(0, 1))(torch.ones(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    dx.mul_(0)
    assert dy.tolist() == [4.0, 4.0, 4.0]


SCALE = 2.0


def scaled_sum(x):
    return np.sum(SCALE * x ** 2)


def test_the_jax_backend_follows_a_changed_global():
    global SCALE
    jax = pytest.importorskip("jax", reason="JAX is in the bench extra")
    jax.config.update("jax_enable_x64", True)
    g = s2sgrad.grad(scaled_sum, backend="jax")
    x = np.ones(3)
    np.testing.assert_allclose(np.asarray(g(x)), 4 * x)
    SCALE = 5.0
    try:
        np.testing.assert_allclose(np.asarray(g(x)), 10 * x)
    finally:
        SCALE = 2.0


def scaled_elsewhere(x):
    from . import xp_helpers
    return np.sum(xp_helpers.scale(x) ** 2)


def masked_float32(x):
    return np.sum(np.where(x > 0.5, x, 0.0) ** 2)


def loop_n(x, n):
    for i in range(n):
        x = x * 1.5
    return np.sum(x)


def test_second_review_findings():
    """A global of an inlined helper's own module changed (the gradient stayed the old
    one); a float32 value computed in float64 (a number typed from a mask); an integer
    parameter differentiated (a silent zero)."""
    from . import xp_helpers
    x = np.array([1.0, 2.0])
    g = s2sgrad.grad(scaled_elsewhere)
    np.testing.assert_allclose(np.asarray(g(xp.asarray(x))), [8.0, 16.0])
    xp_helpers.K = 5.0
    try:
        np.testing.assert_allclose(np.asarray(g(xp.asarray(x))), [50.0, 100.0])
        np.testing.assert_allclose(g(x), [50.0, 100.0])
    finally:
        xp_helpers.K = 2.0
    value, _ = s2sgrad.value_and_grad(masked_float32)(xp.asarray(np.array([0.2, 0.9], dtype=np.float32)))
    assert value.dtype == xp.float32
    with pytest.raises(NotDifferentiableError, match="`n`"):
        s2sgrad.grad(loop_n, wrt="n")(xp.asarray(x), 3)


def shifted(x):
    y = np.zeros(4)
    y[0] = x[-1]
    y[1:] = x[:-1] * 2.0
    return np.sum(y ** 2)


def test_writes_of_values_into_arrays():
    """`y[0] = x[-1]` and `y[1:] = ...` were refused on other libraries (`stored`, `unassigned`)."""
    x = np.array([0.5, -1.0, 2.0, 3.0])
    for to in (xp.asarray, lambda a: da.from_array(a, chunks=2)):
        np.testing.assert_allclose(_as_numpy(s2sgrad.grad(shifted)(to(x))), s2sgrad.grad(shifted)(x), rtol=1e-12)


def weighted_by_position(x):
    w = np.arange(x.shape[0])
    return np.sum(x * w)


def test_a_librarys_refusal_inside_the_derivative_is_noted_at_the_users_function():
    """array_api_strict mixes no integer and float arrays (NumPy does): its TypeError, noted."""
    with pytest.raises(TypeError) as info:
        s2sgrad.grad(weighted_by_position)(xp.asarray(np.ones(3)))
    notes = "\n".join(info.value.__notes__)
    assert "in the generated code of grad_weighted_by_" in notes and "= x * w" in notes
    assert "def weighted_by_position(x):" in notes and ".astype(float)" in notes


GAIN = 2.0


def gained(x, k):
    return GAIN * np.sum(x ** 2) + k


def test_a_call_like_the_last_takes_the_short_path_and_still_checks():
    """The second call with arguments of the same types skips binding and conversion,
    but not the checks: a new global's value, an integer array, keywords."""
    global GAIN
    g = s2sgrad.grad(gained)
    x = xp.asarray(np.array([1.0, -2.0]))
    for _ in range(2):
        np.testing.assert_allclose(np.asarray(g(x, 1.0)), [4.0, -8.0])
    GAIN = 3.0
    try:
        np.testing.assert_allclose(np.asarray(g(x, 1.0)), [6.0, -12.0])
    finally:
        GAIN = 2.0
    np.testing.assert_allclose(np.asarray(g(x, k=1.0)), [4.0, -8.0])
    with pytest.raises(NotDifferentiableError, match="cannot differentiate with respect to `x`"):
        g(xp.asarray(np.array([1, 2])), 1.0)
    np.testing.assert_allclose(np.asarray(g(xp.asarray(np.array([0.5], dtype=np.float32)), 1.0)), [2.0])


def decayed(w, n=3):
    for _ in range(n):
        w = np.sin(w) * 1.1
    return np.sum(w ** 2)


def test_review_findings_on_defaults_and_dtypes():
    """vjp differentiates the arguments given (a default left out is not one); a Hessian of
    float32 arrays of another library is float32, as NumPy's is."""
    x = np.array([0.3, 0.5])
    (g,) = s2sgrad.vjp(decayed, x)[1](1.0)
    np.testing.assert_allclose(g, s2sgrad.grad(decayed)(x))
    strict = xp.asarray(x.astype(np.float32))
    assert s2sgrad.hessian(decayed)(strict).dtype == xp.float32
    assert s2sgrad.hvp(decayed)(strict, 3, xp.ones(2, dtype=xp.float32)).dtype == xp.float32
