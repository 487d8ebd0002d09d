"""The generated code as a product: pinned text, determinism, no noise, safe literals.

The golden files in tests/golden/ are the exact generated source; after an
intended change of the output, rewrite them with S2SGRAD_UPDATE_GOLDEN=1.
"""
import ast
import linecache
import os
import pathlib
import re
import types

import numpy as np
import pytest

import s2sgrad
from examples import seed
from s2sgrad import api, ir
from s2sgrad.backend import emit

from . import flow_functions as flow
from .functions import GALLERY, negative_constants, polynomial

GOLDEN = pathlib.Path(__file__).parent / "golden"
CASES = {
    "seed_simple": (seed.simple, 0, "grad"),
    "seed_mean_residual": (seed.mean_residual, (0, 1, 2), "grad"),
    "seed_squares_and_cubes": (seed.squares_and_cubes, (0,), "vjp"),
    "polynomial": (polynomial, 0, "grad"),
    "loop": (flow.scalar_loop, 0, "grad"),
    "branch": (flow.elif_chain, 0, "grad"),
    "mutation_in_loop": (flow.rnn, (0, 1, 2), "grad"),
    "call": (flow.uses_helpers, 0, "grad"),
    "loop_vjp": (flow.scalar_loop, (0,), "vjp"),
    "closure": (flow.closure_over_arguments, (0, 1), "grad"),
    "tuple_call": (flow.unrolled_cell, (0, 1), "grad"),
    "recursion": (flow.calls_recursive, 0, "grad"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_source(name):
    fn, wrt, kind = CASES[name]
    text = s2sgrad.source(fn, wrt, kind)
    path = GOLDEN / f"{name}.py.txt"
    if os.environ.get("S2SGRAD_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def fresh_copy(fn):
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


@pytest.mark.parametrize("fn, make_args", GALLERY, ids=[f.__name__ for f, _ in GALLERY])
def test_output_is_deterministic_valid_and_free_of_noise(fn, make_args):
    wrt = tuple(range(len(make_args())))
    texts = {api.compile_derivative(fresh_copy(fn), wrt).source for _ in range(3)}
    assert len(texts) == 1
    (text,) = texts
    ast.parse(text)
    reverse = text[text.find("# adjoint of"):]           # the user's own lines may say `* 1.0`
    code = "\n".join(line for line in reverse.splitlines() if not line.lstrip().startswith(("#", '"""')))
    for noise in (r"(?<![\w.])0(\.0)? [+-]", r"[+-] 0(\.0)?(?![\w.])", r"\* 1(\.0)?(?![\w.])",
                  r"(?<![\w.])1(\.0)? \*", r"\+ -", r"- -", r"--"):
        assert not re.search(noise, code), (noise, text)


def test_adjoint_of_x_is_dx_and_comments_point_at_user_lines():
    text = s2sgrad.source(seed.simple)
    first = seed.simple.__code__.co_firstlineno
    assert f"# adjoint of line {first + 3}: z = y ** 2 + 3" in text
    assert f"# adjoint of line {first + 2}: y = x + 2" in text
    assert "    dy = 2 * y\n" in text and "    dx = dy\n" in text


def test_negative_constants_keep_their_meaning():
    text = s2sgrad.source(negative_constants)
    assert "2.0 ** (-x)" in text or "2.0 ** -x" in text
    base = ir.Function("f", ("x",), (ir.Assign("y", "pow", (ir.Const(-2.0), ir.Var("x"))),
                                      ir.Return(ir.Var("y"))))
    code = emit.module_source(base)
    assert "(-2.0) ** x" in code
    namespace = {}
    exec(code, namespace)
    assert namespace["f"](2.0) == 4.0


def test_numpy_scalars_and_special_floats_become_python_literals():
    body = (ir.Assign("y", "mul", (ir.Var("x"), ir.Const(np.float64(2.5)))),
            ir.Assign("z", "add", (ir.Var("y"), ir.Const(float("inf")))),
            ir.Assign("w", "add", (ir.Var("z"), ir.Const(-float("inf")))),
            ir.Return(ir.Var("w")))
    code = emit.module_source(ir.Function("f", ("x",), body))
    assert "x * 2.5" in code and "y + np.inf" in code and "z - np.inf" in code
    namespace = {}
    exec(code, namespace)
    assert np.isnan(namespace["f"](1.0))


def test_imports_are_exactly_what_the_code_needs():
    assert not s2sgrad.source(seed.simple).startswith("import")
    text = s2sgrad.source(seed.mean_residual, (0, 1, 2))
    assert text.splitlines()[:2] == ["import numpy as np",
                                     "from s2sgrad.runtime import matmul_dleft, matmul_dright, unbroadcast, unsum"]


def test_keywords_equal_to_the_default_are_left_out():
    fn = ir.Function("f", ("x",), (ir.Assign("y", "np.sum", (ir.Var("x"),), (("axis", None), ("keepdims", True))),
                                   ir.Assign("z", "unsum", (ir.Var("y"), ir.Var("x")), (("axis", None),)),
                                   ir.Return(ir.Var("z"))))
    code = emit.module_source(fn)
    assert "np.sum(x, axis=None, keepdims=True)" in code or "np.sum(x, keepdims=True)" in code
    assert "unsum(y, x)" in code


def test_generated_lines_are_in_linecache():
    compiled = api.compile_derivative(polynomial)
    code = compiled.fn.__code__
    line = linecache.getline(code.co_filename, code.co_firstlineno + 1)
    assert line.strip() == '"""Gradient of polynomial with respect to x: returns (polynomial(...), dx)."""'


def test_deep_expressions_do_not_hit_the_recursion_limit(tmp_path):
    from .support import make_function
    terms = " + ".join(f"x * {i}.0" for i in range(400))
    fn = make_function(tmp_path, f"def f(x):\n    return {terms}\n")
    assert s2sgrad.grad(fn)(1.0) == pytest.approx(sum(range(400)))


def test_source_shows_highlighted_in_a_notebook(monkeypatch):
    import importlib.util
    import sys
    text = s2sgrad.source(seed.simple)
    assert isinstance(text, str) and text == api.compile_derivative(seed.simple, 0).source
    if importlib.util.find_spec("pygments"):
        shown = text._repr_html_()
        assert "<span" in shown and "grad_simple" in shown
    monkeypatch.setitem(sys.modules, "pygments", None)          # (not installed)
    plain = text._repr_html_()
    assert plain.startswith("<pre>") and "def grad_simple(x):" in plain and '"""' not in plain


def squashed_energy(x, w):
    return np.sum(np.tanh(x * w) ** 2) + np.sum(np.abs(x) * w)


def test_forward_mode_temporaries_are_named_as_reverse_modes():
    """A template's temporaries in forward mode (a jvp, a Hessian-vector product) take
    reverse mode's words: `power`, never the builtin `pow` it would shadow."""
    import builtins
    for kind in ("jvp", s2sgrad.passes.Kind("grad", forwards=1)):
        text = s2sgrad.source(squashed_energy, 0, kind)
        assigned = {node.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Name)
                    and isinstance(node.ctx, ast.Store)}
        assert not assigned & set(dir(builtins)), sorted(assigned & set(dir(builtins)))
