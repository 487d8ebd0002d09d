"""The optimizing passes one at a time, before and after: fold, cse, dce, sums; then
what they buy end to end (the generated code of real functions, and its gradients)."""
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import s2sgrad
from s2sgrad import api, ir
from s2sgrad.passes import buffers, cse, dce, fold, optimize, sums
from s2sgrad.passes.shapes import Shaped

from .support import check_grads, make_function
from .test_specialize import _entries, agree


def _atom(a):
    if isinstance(a, str):
        return ir.Var(a)
    return a if isinstance(a, (ir.Index, ir.Const)) else ir.Const(a)


def A(target, op, *args, **params):
    return ir.Assign(target, op, tuple(_atom(a) for a in args), tuple(params.items()))


def fn(*body, params=("x",), temps=(), derived=()):
    return ir.Function("f", params, tuple(body), temps=frozenset(temps), derived=frozenset(derived))


def lines(f: ir.Function) -> list:
    return str(f).splitlines()[1:]


def _returning(*body, value="y", **kw):
    return fn(*body, ir.Return(ir.Var(value)), **kw)


# -- fold -------------------------------------------------------------------

def test_fold_evaluates_arithmetic_on_constants():
    f = _returning(A("u", "sub", 2, 1), A("y", "pow", "x", "u"))
    assert lines(fold.run(f))[0].strip() == "u = id(1)"


def test_fold_drops_a_factor_of_one_from_adjoints_only():
    adjoint = _returning(A("y", "mul", 1.0, "g"), params=("g",), derived={"y"})
    user = _returning(A("y", "mul", 1.0, "g"), params=("g",))
    assert lines(fold.run(adjoint))[0].strip() == "y = id(g)"
    assert lines(fold.run(user))[0].strip() == "y = mul(1.0, g)"       # n * 1.0 is a float array


def test_fold_combines_constant_factors_when_one_is_a_power_of_two():
    f = _returning(A("s", "mul", 2, "x"), A("y", "mul", 100.0, "s"), derived={"s", "y"})
    assert lines(fold.run(f))[1].strip() == "y = mul(200.0, x)"
    g = _returning(A("s", "mul", 3.0, "x"), A("y", "mul", 3.0, "s"), derived={"s", "y"})
    assert lines(fold.run(g))[1].strip() == "y = mul(3.0, s)"          # 3 * (3 * x) != 9 * x


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e200, 1e200, allow_nan=False), st.integers(-8, 8), st.floats(-1e3, 1e3))
def test_a_power_of_two_factor_combines_exactly(x, k, c):
    """The premise of the fold: scaling by 2**k is exact, so (2**k * c) * x == 2**k * (c * x)
    to the last bit whenever the fold combines them (c * 2**k normal) and the products are
    normal numbers (underflow and overflow are outside it)."""
    p = 2.0 ** k
    if not fold._exact_product(p, c):
        return
    inner, whole = c * x, (p * c) * x
    products = (inner, p * inner, whole)
    if any(not math.isfinite(v) for v in products) or \
            x != 0 and c != 0 and any(abs(v) < sys.float_info.min for v in products):
        return
    assert p * inner == whole and p * -inner == -whole


def test_constants_combine_only_when_the_product_is_exact():
    assert fold._exact_product(2, 100.0) and fold._exact_product(-0.5, 3.0)
    assert not fold._exact_product(3.0, 3.0) and not fold._exact_product(2.0 ** -1070, 0.75)


def test_fold_takes_a_sign_into_a_constant_factor():
    f = _returning(A("s", "mul", 2, "x"), A("y", "neg", "s"), derived={"s", "y"})
    assert lines(fold.run(f))[1].strip() == "y = mul(-2, x)"
    g = _returning(A("n", "neg", "x"), A("y", "mul", 0.5, "n"), derived={"n", "y"})
    assert lines(fold.run(g))[1].strip() == "y = mul(-0.5, x)"


def test_fold_moves_a_sign_out_of_a_product_into_the_sum_that_reads_it():
    f = fn(A("n", "neg", "a"), A("p", "mul", "n", "w"), A("r", "add", "i", "p"), ir.Return(ir.Var("r")),
           params=("a", "w", "i"), derived={"n", "p", "r"})
    out = optimize.run(f)
    assert lines(out) == ["    mul = mul(a, w)", "    r = sub(i, mul)", "    return r"]


def test_fold_leaves_a_sign_where_nothing_absorbs_it():
    f = fn(A("n", "neg", "a"), A("p", "mul", "n", "w"), A("r", "matmul", "p", "w"), ir.Return(ir.Var("r")),
           params=("a", "w"), derived={"n", "p", "r"})
    assert lines(optimize.run(f))[:2] == ["    n = neg(a)", "    p = mul(n, w)"]


def test_fold_never_makes_an_adjoint_added_into_in_place_a_copy_of_another_array():
    f = _returning(A("dx", "mul", "g", 1.0), A("dx", "iadd", "dx", "h"), value="dx",
                   params=("g", "h"), derived={"dx"})
    assert lines(fold.run(f))[0].strip() == "dx = mul(g, 1.0)"        # dx = g; dx += h would change g


# -- cse --------------------------------------------------------------------

def test_cse_computes_a_repeated_value_once():
    f = fn(A("c", "np.cos", "x"), A("t", "np.cos", "x"), A("y", "mul", "c", "t"), ir.Return(ir.Var("y")),
           temps={"t"})
    once = cse.run(f)
    assert lines(once)[1].strip() == "t = id(c)"
    assert lines(optimize.run(f)) == ["    c = np.cos(x)", "    y = mul(c, c)", "    return y"]


@pytest.mark.parametrize("body", [
    # x is assigned in between: the second cos reads another value
    (A("c", "np.cos", "x"), A("x", "mul", "x", 2.0), A("t", "np.cos", "x")),
    # arrays made to be written into stay apart
    (A("c", "zero_grad", "x"), A("t", "zero_grad", "x")),
    # 2 * n and 2.0 * n differ for integers
    (A("c", "mul", 2, "x"), A("t", "mul", 2.0, "x")),
])
def test_cse_keeps_values_that_may_differ(body):
    f = fn(*body, A("y", "add", "c", "t"), ir.Return(ir.Var("y")), params=("x",), temps={"t"})
    assert "id(" not in str(cse.run(f))


def test_cse_sees_values_of_enclosing_blocks_but_not_of_nested_ones():
    f = fn(A("c", "np.cos", "x"),
           ir.If(ir.Var("b"), (A("t", "np.cos", "x"), A("s", "np.sin", "x")), ()),
           A("u", "np.sin", "x"), ir.Return(ir.Var("u")), params=("x", "b"))
    text = str(cse.run(f))
    assert "t = id(c)" in text                    # c is computed on every path to t
    assert "u = np.sin(x)" in text                # s only when the branch ran


def test_cse_lets_a_pullback_read_what_the_forward_sweep_computed():
    inner = ir.Function("pullback", ("dy",), (A("t", "np.cos", "x"), A("dx", "mul", "dy", "t"),
                                                ir.Return(ir.Var("dx"))), temps=frozenset({"t"}))
    f = fn(A("c", "np.cos", "x"), ir.Def(inner), ir.Return(ir.Var("c")))
    out = optimize.run(f)
    assert "dx = mul(dy, c)" in str(out) and "np.cos" not in str(out.body[1])


def test_cse_does_not_reach_into_a_pullback_that_assigns_the_name():
    inner = ir.Function("pullback", ("dy",), (A("c", "mul", "dy", 2.0), A("t", "np.cos", "x"),
                                                A("dx", "mul", "c", "t"), ir.Return(ir.Var("dx"))))
    f = fn(A("c", "np.cos", "x"), ir.Def(inner), ir.Return(ir.Var("c")))
    assert "np.cos(x)" in str(cse.run(f).body[1])


def test_cse_does_not_rename_inside_a_pullback_a_copy_the_pullback_assigns_itself():
    """`c = id(x)` outside; the pullback's own `c` is another value (a name clash between
    the two made a Hessian nonzero where it is zero)."""
    inner = ir.Function("pullback", ("dy",), (A("c", "mul", "dy", 2.0), A("dx", "neg", "c"),
                                                ir.Return(ir.Var("dx"))))
    f = fn(A("c", "id", "x"), A("n", "neg", "x"), ir.Def(inner), ir.Return(ir.Var("n")), temps={"c"})
    pullback = str(cse.run(f).body[2])
    assert "dx = neg(c)" in pullback


def test_fold_names_in_a_pullback_none_of_the_enclosing_function_uses():
    """Both functions move a sign out of a product (a new name each): the names differ."""
    def moved(prefix):
        return (A(prefix + "n", "neg", "a"), A(prefix + "p", "unbroadcast", prefix + "n", "w"),
                A(prefix + "r", "add", "i", prefix + "p"))
    inner = ir.Function("pullback", ("i",), (*moved("d"), ir.Return(ir.Var("dr"))),
                        derived=frozenset({"dn", "dp", "dr"}))
    f = fn(*moved(""), ir.Def(inner), ir.Return(ir.Var("r")), params=("a", "w", "i"),
           derived={"n", "p", "r"})
    out = fold.run(f)
    outer_names = {s.target for s in out.body if isinstance(s, ir.Assign)}
    inner_names = {s.target for s in out.body[-2].fn.body if isinstance(s, ir.Assign)}
    assert len(outer_names) == 4 and len(inner_names) == 4 and not outer_names & inner_names


def test_a_temporary_read_twice_in_one_expression_is_printed_once(tmp_path):
    """Merging `x ** 2` twice made `t + t` of one temporary; the emitter used to fold it into
    its first reading and leave the second undefined (found by the fuzzer)."""
    f = make_function(tmp_path, "def f(x):\n    return np.arctan2(0.6 + np.tanh(x) ** 2, 0.6 + np.tanh(x) ** 2) + x\n")
    check_grads(f, 0.3)


# -- dce --------------------------------------------------------------------

def test_dce_drops_what_nothing_reads_and_keeps_what_a_later_turn_reads():
    loop = ir.For("i", ir.Const(0), ir.Var("n"), ir.Const(1),
                  (A("unused", "np.sin", "acc"), A("acc", "mul", "acc", 2.0)))
    f = fn(A("acc", "id", "x"), A("dead", "np.cos", "x"), loop, ir.Return(ir.Var("acc")), params=("x", "n"))
    text = str(dce.run(f))
    assert "dead" not in text and "unused" not in text and "acc = mul(acc, 2.0)" in text


def test_dce_drops_a_branch_left_empty_and_a_comment_left_alone():
    f = fn(ir.Comment("adjoint of line 3"), ir.If(ir.Var("x"), (A("z", "np.cos", "x"),), ()),
           ir.Comment("adjoint of line 4"), A("y", "np.sin", "x"), ir.Return(ir.Var("y")))
    assert lines(dce.run(f)) == ["    # adjoint of line 4", "    y = np.sin(x)", "    return y"]


# -- sums -------------------------------------------------------------------

F64 = np.dtype(float)


def _sum_fn(*middle):
    return fn(A("dx", "mul", "a", "b"), *middle, A("dx", "add", "dx", "c"), ir.Return(ir.Var("dx")),
              params=("a", "b", "c"), derived={"dx"})


def test_sums_adds_into_a_new_array_of_the_right_shape():
    shapes = {n: Shaped((4,), F64) for n in "abc"}
    assert "dx = iadd(dx, c)" in str(sums.run(_sum_fn(), shapes))
    minus = fn(A("dx", "mul", "a", "b"), A("dx", "sub", "dx", "c"), ir.Return(ir.Var("dx")),
               params=("a", "b", "c"), derived={"dx"})
    assert lines(sums.run(minus, shapes))[1:3] == ["    neg = neg(c)", "    dx = iadd(dx, neg)"]


@pytest.mark.parametrize("shapes, middle", [
    ({"a": Shaped((4,), F64), "b": Shaped((4,), F64), "c": Shaped((3, 4), F64)}, ()),   # dx grows
    ({n: Shaped((4,), F64) for n in "abc"}, (A("v", "getitem", "dx", ir.Index((ir.Slice(None, ir.Const(2), None),))),)),
    ({n: Shaped((4,), F64) for n in "abc"}, (ir.Push("tape", ir.Var("dx")),)),            # the tape keeps it
    ({"a": Shaped((4,), F64), "b": Shaped((4,), F64)}, ()),                                # c unknown
])
def test_sums_leaves_a_sum_whose_array_someone_may_see(shapes, middle):
    assert "iadd" not in str(sums.run(_sum_fn(*middle), shapes))


# -- end to end -------------------------------------------------------------

def _code(source: str) -> str:
    """The generated source without its comments."""
    return "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))


def test_a_value_both_sweeps_need_is_computed_once(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    return np.sum(np.sin(x) * np.cos(x))\n")
    source = _code(s2sgrad.source(f))
    assert source.count("np.cos(x)") == 1 and source.count("np.sin(x)") == 1
    check_grads(f, np.linspace(-1.0, 1.0, 5))


def test_rosenbrock_reads_as_few_passes_as_it_needs(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)\n")
    source = _code(api.compile_derivative(f, 0, "grad", (((50,), "d"),)).source)
    assert source.count(" x[:-1]") == 1                        # one view, not two
    assert "dx[:-1] = -2 * sub_2" in source                    # -(2 * a): one pass
    assert "dsub = 200.0 * sub" in source                      # 100.0 * (2 * a): one pass
    assert "dx[:-1] -= dsub * (2 * x_item_2)" in source        # no negated temporary
    check_grads(f, np.random.default_rng(0).uniform(-1.5, 1.5, 50))


def test_specialized_sums_add_in_place(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    return np.sum(np.sqrt(np.abs(x) + 1.0) * np.tanh(x) + np.sin(x))\n")
    source = api.compile_derivative(f, 0, "grad", (((8,), "d"),)).source
    general = s2sgrad.source(f)
    assert "dx += " in source and "dx = dx + " in general
    x = np.linspace(-2.0, 2.0, 8)
    np.testing.assert_allclose(s2sgrad.grad(f)(x), api.compile_derivative(f, 0, "grad").fn(x)[1], rtol=1e-14)
    check_grads(f, x)


def test_an_adjoint_copied_back_and_forth_is_one_name(tmp_path):
    """`total = total + v` makes `dnew_total = dtotal; dtotal = dnew_total` in the reverse
    sweep: both copies go, and the adjoints read dtotal."""
    f = make_function(tmp_path, "def f(x):\n    total = 0.0\n    for i in range(6):\n"
                      "        if x * i > 2.0:\n            total = total + np.sqrt(x * i)\n"
                      "        else:\n            total = total - np.sin(x * i)\n    return total\n")
    source = api.compile_derivative(f, 0, "grad", (float,)).source      # specialized to a float
    assert "dnew_total" not in source and "dtotal * (0.5 / sqrt)" in source
    for x in (0.3, 0.9):
        check_grads(f, x)


def test_a_returned_gradient_keeps_its_name():
    from examples import seed
    text = s2sgrad.source(seed.simple)
    assert "    dy = 2 * y\n" in text and "    dx = dy\n    return (z, dx)\n" in text


# -- buffers ----------------------------------------------------------------

ROSENBROCK = "def f(x):\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)\n"


def test_buffers_write_large_results_into_memory_the_code_holds(tmp_path):
    f = make_function(tmp_path, ROSENBROCK)
    n = buffers.LARGE + 5
    source = _code(api.compile_derivative(f, 0, "grad", (((n,), "d"),)).source)
    assert "np.multiply(-2, sub_2, out=dx[:-1])" in source           # straight into the slice
    assert "dx = np.empty_like(x)" in source and "dx[-1:] = 0.0" in source   # zeros only where needed
    # the value, computed last, squares sub and sub_2 in their own memory (read no more)
    assert "power_2 = np.square(sub, out=sub)" in source and "np.square(sub_2, out=sub_2)" in source
    assert source.index("dsub = 200.0 * sub") < source.index("out=sub)")
    x = np.random.default_rng(1).uniform(-1.5, 1.5, n)
    value, grad = s2sgrad.value_and_grad(f)(x)
    general = api.compile_derivative(f, 0, "grad").fn(x)
    assert value == general[0]
    np.testing.assert_array_equal(grad, general[1])


def test_small_arrays_keep_their_own_memory(tmp_path):
    f = make_function(tmp_path, ROSENBROCK)
    source = api.compile_derivative(f, 0, "grad", (((50,), "d"),)).source
    assert "out=" not in source and "zero_grad(x)" in source


@pytest.mark.parametrize("body, reused, kept", [
    ("    t = x * 2.0\n    return np.sum(np.sin(t))\n", "np.cos(t, out=t)", "out=x"),   # t's last reading
    ("    t = np.exp(x)\n    u = t * 2.0\n    return np.sum(u * t)\n", "out=u", "out=t"),  # t read at the end
    ("    return np.sum(np.sin(x) * np.cos(x))\n", "out=sin_x", "out=x"),            # x is the caller's
])
def test_buffers_reuse_only_arrays_nothing_reads_later(tmp_path, monkeypatch, body, reused, kept):
    monkeypatch.setattr(buffers, "LARGE", 1)
    f = make_function(tmp_path, "def f(x):\n" + body)
    source = api.compile_derivative(f, 0, "grad", (((6,), "d"),)).source
    assert reused in source and kept not in source
    check_grads(f, np.linspace(0.1, 1.0, 6))


@pytest.mark.parametrize("fn, make_args, wrt", list(_entries()))
def test_buffers_on_every_array_keep_every_gradient(fn, make_args, wrt, monkeypatch):
    """With every float array counted large, every rewrite the pass can make is made."""
    monkeypatch.setattr(buffers, "LARGE", 1)
    monkeypatch.setattr(api, "_CACHE", type(api._CACHE)())
    agree(fn, make_args, wrt)


def test_a_parameter_a_loop_assigns_once_still_has_two_values(tmp_path):
    """`t = -x; x = x * 2.0; w = w + t`: the sum reads the old x, so it is not `w - x` (the
    fold took a parameter assigned once in a loop for a name with one value)."""
    f = make_function(tmp_path, "def f(x, w):\n    for i in range(2):\n        t = -x\n        x = x * 2.0\n"
                      "        w = w + t\n    return w * x\n")
    check_grads(f, 0.7, 1.3)
    out, tangent = s2sgrad.jvp(f, (0.7, 1.3), (1.0, 0.0))
    assert out == f(0.7, 1.3)
