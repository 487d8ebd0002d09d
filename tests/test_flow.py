"""Loops, branches and early exits end to end: every gallery function against finite
differences, every pass through the IR interpreter, and the tape's cost."""
import sys

import numpy as np
import pytest

import s2sgrad
from s2sgrad import frontend, ir, passes
from s2sgrad.ir import interpret

from .flow_functions import FLOW, rnn, scalar_loop
from .support import check_grads, derive, make_function

IDS = [f"{fn.__name__}{i}" for i, (fn, _, _) in enumerate(FLOW)]


def _wrt(fn, args, wrt):
    names = [a.arg for a in frontend.parse(fn).tree.args.args]
    return tuple(names[i] for i in (wrt if wrt is not None else range(len(args))))


@pytest.mark.parametrize("fn, make_args, wrt", FLOW, ids=IDS)
def test_gradients_match_finite_differences(fn, make_args, wrt):
    check_grads(fn, *make_args(), wrt=wrt)


def _interpret(fn, names, args, **options):
    """Run the IR of fn's derivative: (value, gradients). A function returning a tuple
    is pulled back (kind "vjp") from a cotangent of ones for each output."""
    free = vars(sys.modules[fn.__module__])
    out = fn(*args)
    if not isinstance(out, tuple):
        return interpret.run(derive(fn, names, "grad", False, **options), *args, free=free)
    result = derive(fn, names, "vjp", False, **options)
    cotangent = tuple(np.ones_like(o) if np.ndim(o) else 1.0 for o in out)
    if len(result.params) > len(args):            # the rerun form takes the cotangent last
        return interpret.run(result, *args, cotangent, free=free)
    value, pullback = interpret.run(result, *args, free=free)
    return value, pullback(cotangent)


def _reference(fn, names, args):
    out = fn(*args)
    if not isinstance(out, tuple):
        return s2sgrad.value_and_grad(fn, wrt=names)(*args)
    value, pullback = s2sgrad.vjp(fn, *args, wrt=names)
    return value, pullback(tuple(np.ones_like(o) if np.ndim(o) else 1.0 for o in out))


@pytest.mark.parametrize("fn, make_args, wrt", FLOW, ids=IDS)
def test_every_stage_keeps_the_grammar_and_the_meaning(fn, make_args, wrt):
    args = make_args()
    names = _wrt(fn, args, wrt)
    value, grads = _reference(fn, names, args)
    free = vars(sys.modules[fn.__module__])
    for stage in passes.STAGES:
        if stage in passes.PRIMAL_STAGES:
            result = derive(fn, names, "grad", False, stop_after=stage)
            ir.verify(result)
            np.testing.assert_allclose(interpret.run(result, *args, free=free), fn(*args), err_msg=stage)
            continue
        got = _interpret(fn, names, args, stop_after=stage, optimized=stage != "reverse")
        np.testing.assert_allclose(got[0], value, err_msg=stage)
        for mine, want in zip(got[1], grads):
            np.testing.assert_allclose(mine, want, rtol=1e-12, err_msg=stage)


@pytest.mark.parametrize("fn, make_args, wrt", FLOW, ids=IDS)
def test_optimized_and_unoptimized_code_agree(fn, make_args, wrt):
    args = make_args()
    names = _wrt(fn, args, wrt)
    plain = _interpret(fn, names, args, optimized=False)
    best = _interpret(fn, names, args)
    for a, b in zip(plain[1], best[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_the_path_taken_decides_the_derivative():
    def piecewise(x):
        if x > 0:
            return x ** 2
        return -3.0 * x
    assert s2sgrad.grad(piecewise)(2.0) == 4.0
    assert s2sgrad.grad(piecewise)(-2.0) == -3.0


def test_vjp_of_a_loop_can_be_pulled_back_many_times():
    def vector_loop(x):
        for i in range(3):
            x = np.sin(x) * 2.0
        return x
    x = np.array([0.1, 0.2])
    out, pullback = s2sgrad.vjp(vector_loop, x)
    np.testing.assert_allclose(out, vector_loop(x))
    first, second = pullback(np.ones(2))[0], pullback(np.ones(2))[0]
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(x, [0.1, 0.2])


def test_a_hundred_thousand_turns_without_recursion(tmp_path):
    fn = make_function(tmp_path, """
        def f(x):
            for i in range(100000):
                x = x * 0.99999 + 0.00001 * np.sin(x)
            return x
        """)
    value, dx = s2sgrad.value_and_grad(fn)(0.5)
    assert value == pytest.approx(fn(0.5))
    eps = 1e-6
    assert dx == pytest.approx((fn(0.5 + eps) - fn(0.5 - eps)) / (2 * eps), rel=1e-5)


def _pushes_per_turn(fn, **kw):
    text = s2sgrad.source(fn, **kw)
    loop = text[text.index("for "):text.index("value =")] if "value =" in text else text
    return loop.count("tape.append(")


def test_the_tape_keeps_only_what_the_reverse_sweep_reads(tmp_path):
    fn = make_function(tmp_path, """
        def f(x, c):
            total = 0.0
            for i in range(10):
                total = total + c * x * i
            return total
        """)
    text = s2sgrad.source(fn)
    assert "tape.append(total)" not in text or "unbroadcast" in text
    assert "tape.append(i)" not in text
    assert _pushes_per_turn(scalar_loop) == 3               # x and the two terms that read it


def test_an_array_written_by_item_keeps_the_item_not_the_array():
    from .flow_functions import scaled_items_in_loop
    text = s2sgrad.source(scaled_items_in_loop)         # a[i] *= a[i - 1] + 1.0 reads a[i] first
    assert "tape.append(np.copy(a[i]))" in text and "a[i] = tape.pop()" in text
    assert "tape.append(a)" not in text


def test_rows_filled_once_are_not_rewound():
    text = s2sgrad.source(rnn, wrt=(0, 1, 2))           # h[t + 1] = f(h[t]): each row written once
    assert "np.copy(h[" not in text and "h[add_t] = tape.pop()" not in text
    assert "dh[add_t] = 0.0" not in text and "unbroadcast(dh[add_t], tanh)" in text


@pytest.mark.parametrize("source", [
    # reads the row the next turn writes: the old value is needed
    "def f(x):\n    h = np.zeros(5)\n    for t in range(4):\n        h[t] = h[t + 1] + x * t\n"
    "        h[t + 1] = np.sin(h[t])\n    return np.sum(h ** 2)\n",
    # an argument: its gradient is the adjoint, rows included
    "def f(h, x):\n    for t in range(3):\n        h[t + 1] = np.sin(h[t] * x)\n    return np.sum(h ** 2)\n",
    # the code before the loop reads a row the loop writes
    "def f(x):\n    h = np.zeros(4)\n    h[1] = x\n    s = h[1] * x\n    for t in range(3):\n"
    "        h[t + 1] = np.sin(h[t]) * x\n    return np.sum(h ** 2) + s\n",
])
def test_rows_that_a_turn_may_see_again_are_rewound(tmp_path, source):
    fn = make_function(tmp_path, source)
    args = (np.linspace(0.2, 0.9, 5), 0.7) if "f(h, x)" in source else (0.7,)
    assert "tape.append(np.copy(h[" in s2sgrad.source(fn, wrt=len(args) - 1)
    check_grads(fn, *args, wrt=(len(args) - 1,))


def test_a_while_loop_counts_its_turns():
    from .flow_functions import while_until
    text = s2sgrad.source(while_until)
    assert "turns = turns + 1" in text and "for turn in reversed(range(turns)):" in text


def test_a_dict_of_arrays_has_a_dict_gradient():
    from .flow_functions import dict_model
    rng = np.random.default_rng(0)
    params, x = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}, rng.standard_normal((4, 3))
    grads = s2sgrad.grad(dict_model)(params, x)
    assert set(grads) == {"W", "b"}
    eps = 1e-6
    for key in params:
        for idx in np.ndindex(params[key].shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[key][idx] += eps
            down[key][idx] -= eps
            numeric = (dict_model(up, x) - dict_model(down, x)) / (2 * eps)
            assert grads[key][idx] == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    with pytest.raises(s2sgrad.NotDifferentiableError, match=r"params\['b'\]"):
        s2sgrad.grad(dict_model)({"W": params["W"], "b": np.array([1, 2])}, x)


def test_a_called_function_is_differentiated_once_and_shown_by_name(monkeypatch):
    from . import flow_functions as flow
    calls = []
    real = passes.derivative
    monkeypatch.setattr(passes, "derivative", lambda fn, *a, **kw: calls.append(fn.__name__) or real(fn, *a, **kw))
    text = s2sgrad.source(flow.uses_helpers)
    assert "def vjp_square(t):" in text and "def vjp_twice(t, k, dresult):" in text
    assert text.count("def vjp_twice(") == 1 and text.count("def vjp_square(") == 1
    assert "vjp_twice(x, 3.0, 1.0)" in text and "vjp_twice(x, 2.0, 1.0)" in text   # reused
    assert calls.count("twice") <= 1 and calls.count("square") <= 1


def test_a_recursive_function_calls_its_own_vjp_by_name():
    from . import flow_functions as flow
    text = s2sgrad.source(flow.calls_recursive)
    assert "call_adjoint" not in text
    assert text.count("def vjp_power(x, n, dresult):") == 1
    assert "vjp_power(x, sub_n, " in text              # the vjp calls itself
    g = s2sgrad.grad(flow.calls_recursive)(0.8)
    t = np.tanh(0.8)
    assert np.isclose(g, 3 * 0.8 ** 2 + 2 * t * (1 - t ** 2))
    vjp_text = s2sgrad.source(flow.recursive_sum, kind="vjp")
    assert "call_adjoint" not in vjp_text and vjp_text.count("vjp_recursive_sum(v, ") >= 2


def test_a_tuple_returning_helper_is_a_named_call_with_a_tuple_cotangent():
    from . import flow_functions as flow
    text = s2sgrad.source(flow.unrolled_cell, wrt=(0, 1))
    assert text.count("def vjp_step_pair(h, c, w):") == 1
    assert "call_h_c_vjp = vjp_step_pair(h, c, w)" in text
    assert "call_h_c_vjp[1]((dh, dc))" in text              # one cotangent per output
    first_only = s2sgrad.source(flow.uses_first_item_only, wrt=(0, 1))
    assert "((dh, zero_grad(call_x_x[1])))" in first_only     # the unused item pulls back zeros
    assert "def vjp_fib_pair(x, n, dout):" in s2sgrad.source(flow.uses_fib_pair)
    kept_whole = s2sgrad.source(flow.indexes_tuple_result, wrt=(0, 1))
    assert "vjp_step_pair" not in kept_whole                  # indexed, not unpacked: inlined


def test_vjp_of_a_tuple_output_checks_its_cotangent():
    from . import flow_functions as flow
    x = np.array([0.5, -1.0, 2.0])
    out, pullback = s2sgrad.vjp(flow.step_pair, x, x, 0.7)
    assert isinstance(out, tuple) and len(out) == 2
    with pytest.raises(s2sgrad.ShapeError, match="tuple of 2"):
        pullback(np.ones(3))
    with pytest.raises(s2sgrad.ShapeError, match="cotangent 1 has shape"):
        pullback((np.ones(3), np.ones(2)))
    dh, dc, dw = pullback((np.ones(3), np.zeros(3)))
    c = x * 0.5 + np.tanh(x * 0.7)
    np.testing.assert_allclose(dc, 0.7 * (1 - np.tanh(c) ** 2) * 0.5)


def test_a_nested_function_is_lifted_and_shown_by_name():
    from . import flow_functions as flow
    text = s2sgrad.source(flow.closure_two_sites, wrt=(0, 1))
    assert "def vjp_wave(t, w):" in text and "def vjp_wave_2(t, w):" in text
    assert "vjp_wave(x, w)" in text and "vjp_wave_2(2.0, w)" in text   # w passed: it is closed over
    loop = s2sgrad.source(flow.closure_over_arguments, wrt=(0, 1))
    assert loop.count("def vjp_inner(t, x, w):") == 1 and "vjp_inner(mul_x_i, x, w)" in loop


@pytest.mark.parametrize("fn, wrt, summed", [
    ("rnn", (0, 2), "matmul_dleft_sum(dmatmul_Ws, W, h_items)"),
    ("batched_rnn", (0, 2), "matmul_dright_sum("),
    ("vector_rnn_right", (0, 2), "matmul_dright_sum("),
    ("weight_changes_in_loop", (0, 1), None),
])
def test_a_fixed_matrix_gradient_is_one_product_after_the_loop(fn, wrt, summed):
    from . import flow_functions as flow
    text = s2sgrad.source(getattr(flow, fn), wrt=wrt)
    if summed is None:
        assert "_sum(" not in text and "dW = dW + matmul_dleft(" in text
    else:
        assert summed in text and text.count("_sum(") == 1
        loop_body = text.split("reversed(range(")[1].split("\n    d")[0]
        assert "_sum(" not in loop_body                     # after the loop, once
    plain = derive(getattr(flow, fn), _wrt(getattr(flow, fn), (0, 0, 0), wrt), "grad", False,
                              stop_after="optimize")
    assert "_sum" not in str(plain)                          # the accumulate stage did it


def test_a_list_built_in_a_loop_is_appended_to_in_place(tmp_path):
    fn = make_function(tmp_path, """
        def f(x, n):
            xs = []
            for i in range(n):
                x = np.sin(x) + 0.1
                xs.append(x * i)
            return np.sum(np.stack(xs))
        """)
    text = s2sgrad.source(fn)
    assert "xs.append(x * i)" in text and "xs + [" not in text
    check_grads(fn, np.array([0.3, -0.4]), 5, wrt=(0,))


def test_a_list_the_reverse_sweep_reads_again_is_not_appended_to_in_place(tmp_path):
    fn = make_function(tmp_path, """
        def f(x):
            xs = [x]
            total = 0.0
            for i in range(4):
                xs.append(xs[-1] * x)
                total = total + xs[i] * xs[-1]
            return total
        """)
    text = s2sgrad.source(fn)
    assert "tape.append(xs)" in text and "xs = xs + [xs_m1 * x]" in text
    check_grads(fn, 0.8)


def test_a_nested_function_calling_another_is_lifted_with_what_that_one_needs():
    from .more_functions import nested_closure_energy
    text = s2sgrad.source(nested_closure_energy, wrt=(0, 1))
    assert text.count("def vjp_potential(q, b, a):") == 1 and "def vjp_force(q, h, b, a):" in text
    check_grads(nested_closure_energy, 0.7, 0.3)
