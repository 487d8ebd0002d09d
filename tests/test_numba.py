"""The numba backend: the generated derivative compiled by Numba (`backend="numba"`),
from a file on disk that a second process loads from Numba's cache; what Numba cannot
compile is refused at the user's line, or (`backend="auto"`) runs NumPy's code.

A representative handful compiles here (Numba compiles slowly); the whole gallery runs
under Numba with S2SGRAD_ENGINES=1.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sgrad
from s2sgrad.errors import S2SGradError, UnsupportedSyntaxError

numba = pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    """Each test session compiles into a directory of its own (nothing from another run)."""
    monkeypatch.setenv("S2SGRAD_CACHE", str(tmp_path_factory.getbasetemp() / "s2sgrad-cache"))


def decay(x, n):
    for i in range(n):
        x = x * 0.9 + np.sin(x)
    return x


def rnn(W, xs, h0):
    T = xs.shape[0]
    h = np.zeros((T + 1, h0.shape[0]))
    h[0] = h0
    for t in range(T):
        h[t + 1] = np.tanh(W @ h[t] + xs[t])
    return np.sum(h[T] ** 2)


def grow(x):
    while x < 1000.0:
        x = x * 1.5 + np.sqrt(x)
    return x


def branches(x, w):
    total = 0.0
    for i in range(w.shape[0]):
        if x * w[i] > 0.5:
            total = total + np.sqrt(x * w[i])
        else:
            total = total - np.sin(x * w[i]) * w[i]
    return total


def broadcast_and_pick(a, b):
    s = a[:, None] * b[None, :] + np.exp(a)[:, None]
    return np.sum(s ** 2) + np.sum(a[np.array([0, 0, 2])]) + np.max(b)


def returns_back(r, gamma, k):
    out = r.copy()
    for i in range(r.shape[0] - 2, -1, -1):
        out[i] += gamma * out[i + 1]
    total = 0.0
    for j in range(1, r.shape[0], 2):
        total += out[j] ** 2
    for j in range(r.shape[0] - 1, 0, -k):
        total += np.sin(out[j])
    return total


CASES = [
    (returns_back, lambda: (np.linspace(0.1, 0.9, 7), 0.9, 2), 0),
    (returns_back, lambda: (np.linspace(0.1, 0.9, 6), 0.7, 3), (0, 1)),
    (decay, lambda: (0.5, 30), 0),
    (rnn, lambda: (0.3 * np.eye(4) + 0.1, np.linspace(-1, 1, 20).reshape(5, 4), np.ones(4)), (0, 1, 2)),
    (grow, lambda: (1.5,), 0),
    (branches, lambda: (0.7, np.linspace(-1, 2, 9)), (0, 1)),
    pytest.param(broadcast_and_pick, lambda: (np.array([0.1, -0.4, 0.8]), np.array([1.0, 2.5, -0.3, 0.2])), (0, 1),
                 marks=pytest.mark.skipif(not os.environ.get("S2SGRAD_ENGINES"),
                                          reason="7 s of Numba compiling: with the gallery, S2SGRAD_ENGINES=1")),
]


@pytest.mark.parametrize("fn, make, wrt", CASES, ids=[(c.values if hasattr(c, "values") else c)[0].__name__
                                                      for c in CASES])
def test_agrees_with_numpy(fn, make, wrt):
    expected = s2sgrad.value_and_grad(fn, wrt=wrt)(*make())
    value, grads = s2sgrad.value_and_grad(fn, wrt=wrt, backend="numba")(*make())
    assert value == pytest.approx(expected[0], rel=1e-12)
    for g, e in zip(grads if isinstance(wrt, tuple) else (grads,), expected[1] if isinstance(wrt, tuple) else
                    (expected[1],)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_the_generated_code_is_numbas_and_on_disk():
    g = s2sgrad.grad(decay, backend="numba")
    assert g(0.5, 30) == pytest.approx(s2sgrad.grad(decay)(0.5, 30))
    from s2sgrad import api
    from s2sgrad.backend import calls
    compiled = api.compile_derivative(decay, 0, "grad", calls.shape_key((0.5, 30)), profile="numba")
    assert isinstance(compiled.fn, numba.core.registry.CPUDispatcher)
    text = compiled.source
    assert "for i in range(n - 1, -1, -1):" in text and "reversed" not in text
    assert "tape_x = np.empty(turns, dtype=np.float64)" in text and "n_x = tape_push(tape_x, n_x, x)" in text


def with_a_dict(x, table):
    return x * table["scale"]


def test_what_numba_cannot_compile_is_refused_at_the_users_line_or_runs_numpy():
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sgrad.grad(with_a_dict, backend="numba")(2.0, {"scale": 3.0})
    assert "Numba cannot compile" in str(info.value) and info.value.loc.line > 0
    assert s2sgrad.grad(with_a_dict, backend="auto")(2.0, {"scale": 3.0}) == 3.0


def test_a_bad_backend_is_named():
    with pytest.raises(ValueError, match="backend must be one of"):
        s2sgrad.grad(decay, backend="numbaa")


SCRIPT = """
import numpy as np, s2sgrad
from s2sgrad import api
from s2sgrad.backend import calls

def f(x, n):
    for i in range(n):
        x = x * 0.9 + np.cos(x)
    return x

print(s2sgrad.grad(f, backend="numba")(0.5, 20))
print(sum(api.compile_derivative(f, 0, "grad", calls.shape_key((0.5, 20)), profile="numba").fn.stats.cache_hits
          .values()))
"""


def test_a_second_process_loads_the_compiled_code_from_the_cache(tmp_path):
    script = tmp_path / "second.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = dict(os.environ, S2SGRAD_CACHE=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True)
            for _ in range(2)]
    (value_1, hits_1), (value_2, hits_2) = (r.stdout.split() for r in runs)
    assert value_1 == value_2 and hits_1 == "0" and int(hits_2) > 0


@pytest.mark.skipif(not os.environ.get("S2SGRAD_ENGINES"), reason="the whole gallery under Numba: S2SGRAD_ENGINES=1")
def test_the_gallery_under_numba():
    from .flow_functions import FLOW
    from .functions import GALLERY
    from .more_functions import MORE
    compiled, fell_back = 0, []
    seen = set()
    for fn, make, *wrt in [(f, m) for f, m in GALLERY] + FLOW + MORE:
        args = make()
        out = fn(*args)
        if fn in seen or isinstance(out, tuple) or np.ndim(out) != 0:
            continue
        seen.add(fn)
        wrt = wrt[0] if wrt and wrt[0] is not None else tuple(range(len(args)))
        expected = s2sgrad.grad(fn, wrt=wrt)(*make())
        try:
            got = s2sgrad.grad(fn, wrt=wrt, backend="numba")(*make())
        except S2SGradError as e:             # (located: a construct Numba cannot compile, a global it cannot hold)
            assert e.loc is not None and e.loc.line > 0, fn.__name__
            fell_back.append(fn.__name__)
            got = s2sgrad.grad(fn, wrt=wrt, backend="auto")(*make())
        else:
            compiled += 1
        for g, e in zip(got if isinstance(wrt, tuple) else (got,), expected if isinstance(wrt, tuple) else (expected,)):
            np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(e, dtype=float), rtol=1e-9,
                                       atol=1e-12, err_msg=fn.__name__)
    print(f"{compiled} compiled by Numba; NumPy's code for {len(fell_back)}: {', '.join(fell_back)}")


RATE = 0.5


def scaled(x):
    return np.sum(RATE * x ** 2)


def test_a_global_number_is_compiled_in_and_a_new_value_builds_again():
    global RATE
    g = s2sgrad.grad(scaled, backend="numba")
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(g(x), 2 * 0.5 * x)
    RATE = 3.0
    try:
        np.testing.assert_allclose(g(x), 2 * 3.0 * x)
    finally:
        RATE = 0.5


def taylor(x, n):
    s, fact = 1.0, 1
    for k in range(1, n):
        fact = fact * k
        s = s + x ** k / fact
    return s


def halves(x, k):
    return x * 2 ** k


def past_the_end(x, n):
    s = 0.0
    for i in range(n):
        s = s + x[i] * x[i + 1]
    return s


def flat_sum(x):
    return np.sum(x.reshape(-1) ** 2)


def test_where_numbas_integers_are_not_pythons_it_raises_or_runs_numpy():
    """int64 overflows (a factorial), an integer's negative power and an index past the
    end gave silently wrong numbers under Numba."""
    for fn, args in ((taylor, (8.0, 30)), (halves, (0.7, -2))):
        with pytest.raises((OverflowError, ValueError), match="Numba"):
            s2sgrad.grad(fn, backend="numba")(*args)
        assert s2sgrad.grad(fn, backend="auto")(*args) == s2sgrad.grad(fn)(*args)
    with pytest.raises(IndexError):
        s2sgrad.grad(past_the_end, backend="numba")(np.arange(4.0), 4)
    assert s2sgrad.grad(taylor, backend="numba")(0.5, 10) == pytest.approx(s2sgrad.grad(taylor)(0.5, 10), rel=1e-14)


def test_a_strided_argument_reshaped():
    x = np.arange(6.0).reshape(3, 2).T
    np.testing.assert_allclose(s2sgrad.grad(flat_sum, backend="numba")(x), 2 * x)


def picked_twice(x, idx, w):
    return np.sum(x[idx] * w)


def test_a_2d_array_of_indices_is_not_numbas():
    """Numba's loop over rows of a 2-D index lost a repeat inside a row (silently)."""
    x, idx, w = np.arange(5.0), np.array([[0, 0], [1, 2]]), np.ones((2, 2))
    with pytest.raises(S2SGradError):
        s2sgrad.grad(picked_twice, backend="numba")(x, idx, w)
    np.testing.assert_allclose(s2sgrad.grad(picked_twice, backend="auto")(x, idx, w), [2.0, 1.0, 1.0, 0.0, 0.0])


def two_outputs(x, W):
    h = np.tanh(W @ x)
    return h * 2.0 + x[0]


def test_vjp_compiled_by_numba():
    x, W = np.array([0.3, -0.2, 0.5]), np.linspace(-1, 1, 9).reshape(3, 3)
    out, pullback = s2sgrad.vjp(two_outputs, x, W, backend="numba")
    e_out, e_pullback = s2sgrad.vjp(two_outputs, x, W)
    np.testing.assert_allclose(out, e_out)
    for ct in (np.ones(3), np.array([0.5, -1.0, 2.0])):
        for g, e in zip(pullback(ct), e_pullback(ct)):
            np.testing.assert_allclose(g, e, rtol=1e-12)
    out, pullback = s2sgrad.vjp(decay, 0.5, 20, wrt=0, backend="numba")
    assert pullback(1.0)[0] == pytest.approx(s2sgrad.grad(decay)(0.5, 20), rel=1e-12)


# Tapes of numbers that `for` loops fill are arrays made before the loops, as long as
# they will be for at most as many pushes as the loops can make; the rest stay lists.

def grid_walk(x, n, m):
    total = 0.0
    for i in range(n):
        for j in range(1, m, 2):
            if x * (i - j) > 0.3:
                total = total + np.sin(x * i * j)
            else:
                total = total * 0.99 + x
    return total


def settle(x, steps):
    for k in range(steps):
        x = np.cos(x) * 1.1
        if abs(x) < 0.05:
            break
    return x


def pair_energy(pos, soft):
    n = pos.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):              # the inner loop's turns depend on i: a list
            r2 = (pos[i] - pos[j]) ** 2 + soft
            energy = energy + 1.0 / np.sqrt(r2)
    return energy


def only_if_positive(x, n):
    if x > 0:
        for i in range(n):
            x = x * 0.5 + np.sin(x)
    return x


def recount(x, n):
    total = 0.0
    for i in range(n):
        total = total + np.sin(x * i)
        n = n - 1                              # (range(n) was read once: the turns do not change)
    return total + n


def sampled_curve(a, samples):
    total = 0.0
    for i in range(samples + 1):
        t = i / samples                        # (two ints divided: a float, saved on a tape of floats)
        total = total + a * t ** 3 + np.sqrt(t + a)
    return total


TAPED = [
    (sampled_curve, (0.7, 6), 0, 2),
    (grid_walk, (0.4, 5, 6), 0, 2),
    (settle, (0.7, 40), 0, 0),                 # (a loop that breaks is a while loop: a list)
    (settle, (2.0, 40), 0, 0),
    (pair_energy, (np.array([0.1, 0.7, -0.4, 1.3]), 0.2), 0, 1),
    (only_if_positive, (0.8, 6), 0, 1),
    (only_if_positive, (-0.8, 6), 0, 1),
    (recount, (0.3, 7), 0, 1),
]


@pytest.mark.parametrize("fn, args, wrt, arrays", TAPED, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(TAPED)])
def test_tapes_filled_by_for_loops(fn, args, wrt, arrays):
    from s2sgrad import api
    from s2sgrad.backend import calls
    got = s2sgrad.grad(fn, wrt=wrt, backend="numba")(*args)
    np.testing.assert_allclose(got, s2sgrad.grad(fn, wrt=wrt)(*args), rtol=1e-12, atol=1e-14)
    x, h = np.asarray(args[wrt], dtype=float), 1e-6
    numeric = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (fn(*[up[()] if i == wrt else a for i, a in enumerate(args)]) -
                      fn(*[down[()] if i == wrt else a for i, a in enumerate(args)])) / (2 * h)
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-7)
    text = api.compile_derivative(fn, wrt, "grad", calls.shape_key(args), profile="numba").source
    assert text.count("= np.empty(") - text.count("= np.empty(0,") == arrays


def test_a_tape_of_numbers_takes_only_its_own_type():
    """An array's store casts (2.7 into an int64 array is 2); the tape's refuses, at Numba's typing."""
    from s2sgrad.runtime import tape_push

    @numba.njit
    def save(tape, value):
        return tape_push(tape, 0, value)

    tape = np.zeros(2)
    assert save(tape, 2.5) == 1 and tape[0] == 2.5
    with pytest.raises(numba.core.errors.TypingError, match="tape of int64 was given a float64"):
        save(np.zeros(2, dtype=np.int64), 2.7)


def test_an_array_numba_made_is_handed_back_as_a_gradient_only_when_it_is_no_argument():
    """`own` keeps a gradient Numba allocated for itself (no copy), but not an array that
    is one of the arguments or another gradient, whoever made it."""
    from s2sgrad.backend import calls

    @numba.njit
    def made(n):
        return np.arange(n) * 1.0

    fresh, argument = made(3), made(3)
    assert calls.own(fresh, argument, (argument,)) is fresh
    kept = calls.own(argument, fresh, (argument,))
    assert kept is not argument and np.array_equal(kept, argument)


def joined(x, W):
    rows = np.concatenate([W, W * x[0]])           # (a list of arrays, along the first axis)
    flat = np.concatenate([x, np.sin(x) * 2.0])
    return np.sum(rows ** 2) + np.sum(flat ** 2)


def test_concatenating_a_list_compiles_along_the_first_axis():
    """Numba's np.concatenate takes a tuple; the derivative's list of parts is joined by
    s2sgrad's own implementation (and cut again by its unconcatenate's), along axis 0 only
    (another axis: no implementation, a located refusal as for any op Numba lacks)."""
    x, W = np.array([0.3, -0.7]), np.linspace(-1, 1, 6).reshape(3, 2)
    np.testing.assert_allclose(s2sgrad.grad(joined, backend="numba")(x, W), s2sgrad.grad(joined)(x, W), rtol=1e-13)
