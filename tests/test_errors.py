"""Every user mistake or unsupported construct raises a located s2sgrad error.

Each function below marks the offending line with a `# HERE` comment; the
tests check the exception class (and the built-in class a user would catch),
the exact line, that the column points at the construct, that the message
names it, and the compiler-style rendering of `str(err)`.
"""
import inspect
import linecache
import math
import traceback

import numpy as np
import pytest

import s2sgrad
from s2sgrad import (NoRuleError, NotDifferentiableError, S2SGradError, ShapeError,
                     SourceUnavailableError, UnsupportedSyntaxError)
from s2sgrad.rules import OPS

MARKER = "# HERE"


# -- helpers ------------------------------------------------------------------

def marked_line(fn) -> int:
    """The file line number of the single `# HERE` line in `fn`'s source."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, line in enumerate(lines) if MARKER in line]
    assert len(hits) == 1, f"{fn.__name__} must mark exactly one line"
    return hits[0]


def check_rendering(err: S2SGradError) -> None:
    """`str(err)` is `file:line:col: error: message`, the line, a caret line, a help line."""
    loc = err.loc
    rendered = str(err).splitlines()
    assert rendered[0] == f"{loc.file}:{loc.line}:{loc.col + 1}: error: {err.message}"
    assert rendered[1] == "    " + loc.text
    caret = rendered[2]
    assert set(caret.strip()) == {"^"}
    assert caret.index("^") == 4 + loc.col          # the caret starts under the construct
    if err.hint:
        assert "\n".join(rendered[3:]) == f"help: {err.hint}"
        assert len(err.hint) > 5
    # the attributes SyntaxError-aware tools (tracebacks, IDEs) read
    assert (err.filename, err.lineno, err.offset, err.text) == (loc.file, loc.line, loc.col + 1,
                                                                loc.text)


def check_located(err: S2SGradError, fn, prefix, words) -> None:
    loc = err.loc
    assert loc is not None, f"no location on {err!r}"
    assert loc.file == inspect.getsourcefile(fn) == __file__
    assert loc.line == marked_line(fn), str(err)
    assert loc.text == linecache.getline(__file__, loc.line).rstrip("\n")
    assert MARKER in loc.text
    prefixes = prefix if isinstance(prefix, tuple) else (prefix,)
    assert loc.text[loc.col:].startswith(prefixes), \
        f"column {loc.col} points at {loc.text[loc.col:]!r}, expected {prefixes}"
    for word in words:
        assert word in err.message, f"{word!r} not in {err.message!r}"
    check_rendering(err)


def helper(t):
    return t * 2.0


def _identity_decorator_early(fn):
    return fn



G_VALUE = 1.0


# -- functions using each construct ---------------------------------------------

def try_fn(x):
    try:
        for i in range(2):  # HERE
            x = x * 2.0
    except Exception:
        x = x + 1.0
    return x


def class_fn(x):
    class Box:  # HERE
        pass
    return x


@_identity_decorator_early
def decorated_inner_marker(t):
    return t


def nested_def_fn(x):
    @_identity_decorator_early
    def inner(t):  # HERE
        return t * 2.0
    return inner(x)


def global_fn(x):
    global G_VALUE  # HERE
    return x * 2.0


def _make_nonlocal_fn():
    v = 1.0

    def nonlocal_fn(x):
        nonlocal v  # HERE
        v = x
        return v
    return nonlocal_fn


nonlocal_fn = _make_nonlocal_fn()


def yield_fn(x):
    yield x  # HERE


def starred_call_fn(x):
    return np.sum(*x)  # HERE


def varargs_fn(x, *rest):  # HERE
    return x


def kwargs_fn(x, **options):  # HERE
    return x


def del_fn(x):
    y = x * 2.0
    del y  # HERE
    return x


def import_fn(x):
    import no_such_module_for_s2sgrad  # HERE
    return x


def import_from_fn(x):
    from math import no_such_name  # HERE
    return x * no_such_name


def walrus_fn(x):
    y = (z := x * 2.0) + z  # HERE
    return y


def match_fn(x):
    match x:  # HERE
        case _:
            y = x
    return y


CONSTRUCTS = [
    # (function, exact class, builtin class, column prefix, words of the message)
    (try_fn, UnsupportedSyntaxError, SyntaxError, "for i", ["simple statements", "`try`"]),
    (class_fn, UnsupportedSyntaxError, SyntaxError, "class Box", ["class"]),
    (nested_def_fn, UnsupportedSyntaxError, SyntaxError, "def inner", ["decorated function"]),
    (global_fn, UnsupportedSyntaxError, SyntaxError, "global", ["`global`"]),
    (nonlocal_fn, UnsupportedSyntaxError, SyntaxError, "nonlocal", ["`nonlocal`"]),
    (yield_fn, UnsupportedSyntaxError, SyntaxError, "yield", ["`yield`"]),
    (starred_call_fn, UnsupportedSyntaxError, SyntaxError, "*x", ["starred"]),
    (varargs_fn, UnsupportedSyntaxError, SyntaxError, ("*rest", "rest"), ["`*args`"]),
    (kwargs_fn, UnsupportedSyntaxError, SyntaxError, ("**options", "options"), ["`**kwargs`"]),
    (del_fn, UnsupportedSyntaxError, SyntaxError, "del y", ["`del`"]),
    (import_fn, UnsupportedSyntaxError, SyntaxError, "import no_such", ["import fails"]),
    (import_from_fn, UnsupportedSyntaxError, SyntaxError, "from math", ["import fails"]),
    (walrus_fn, UnsupportedSyntaxError, SyntaxError, "z := x", ["walrus", ":="]),
    (match_fn, UnsupportedSyntaxError, SyntaxError, "match x", ["`match`"]),
]


@pytest.mark.parametrize("fn, cls, builtin, prefix, words", CONSTRUCTS,
                         ids=[c[0].__name__ for c in CONSTRUCTS])
def test_unsupported_construct_is_located(fn, cls, builtin, prefix, words):
    with pytest.raises(builtin) as info:
        s2sgrad.grad(fn)
    err = info.value
    assert type(err) is cls
    assert isinstance(err, S2SGradError)
    check_located(err, fn, prefix, words)
    assert err.hint, "every fenced construct says what to write instead"


def test_fence_table_covers_the_brief():
    """The fence's table itself names each construct in its message."""
    import ast
    from s2sgrad.frontend import fence
    for node in (ast.ClassDef, ast.Global, ast.Nonlocal,
                 ast.Yield, ast.Delete,
                 ast.NamedExpr, ast.Match):
        what, hint = fence.UNSUPPORTED[node]
        assert what and hint


def _identity_decorator(fn):
    return fn


@_identity_decorator
def decorated_fn(x):
    y = x * x
    del x  # HERE
    return y


def test_construct_in_decorated_function_has_the_right_line():
    with pytest.raises(SyntaxError) as info:
        s2sgrad.grad(decorated_fn)
    check_located(info.value, decorated_fn, "del x", ["`del`"])


def test_construct_in_function_nested_in_a_test_has_the_right_column():
    """Indented source (a def inside a test) is dedented for parsing; the column
    must still be the column in the user's file."""
    def indented(x):
        y = x + x
        del x  # HERE
        return y

    with pytest.raises(SyntaxError) as info:
        s2sgrad.grad(indented)
    err = info.value
    assert isinstance(err, UnsupportedSyntaxError)
    check_located(err, indented, "del x", ["`del`"])
    assert err.loc.col == 8


# -- errors found while lowering --------------------------------------------------

def floordiv_fn(x):
    y = x << 2  # HERE
    return y


def modulo_fn(x):
    y = x & 3  # HERE
    return y


def method_fn(x):
    return x.tolist()  # HERE


def unwrap_fn(x):
    return np.unwrap(x)  # HERE


def math_sin_fn(x):
    return math.gamma(x)  # HERE


def own_call_fn(x):
    def again(t):
        return again(t * 0.5)  # HERE
    y = again(x)
    return y


def keyword_fn(x, k):
    return np.sum(x, axis=k)  # HERE


def view_write_fn(x):
    a = x * 2.0
    b = a[0:2]
    b[0] = 1.0  # HERE
    return np.sum(a * b)


def before_assign_fn(x):
    y = z * x  # HERE
    z = x
    return y


def undefined_global_fn(x):
    return x * not_defined_anywhere  # HERE  # noqa: F821


def tuple_return_fn(x):
    return x, x * 2.0  # HERE


LOWERING = [
    (floordiv_fn, NoRuleError, ValueError, "x << 2", ["`<<`", "no derivative rule"]),
    (modulo_fn, NoRuleError, ValueError, "x & 3", ["`&`", "no derivative rule"]),
    (method_fn, NoRuleError, ValueError, "x.tolist", ["`.tolist()`", "no derivative rule"]),
    (unwrap_fn, NoRuleError, ValueError, "np.unwrap", ["np.unwrap", "no derivative rule", "np.unwrap(x"]),
    (math_sin_fn, NoRuleError, ValueError, "math.gamma", ["math.gamma", "no derivative rule"]),
    (own_call_fn, UnsupportedSyntaxError, SyntaxError, "again(t * 0.5)", ["`again`", "recursion"]),
    (keyword_fn, UnsupportedSyntaxError, SyntaxError, "k)", ["`axis`", "known when s2sgrad compiles"]),
    (view_write_fn, UnsupportedSyntaxError, SyntaxError, "b[0] = 1.0", ["`a`", "`b`", "share memory"]),
    (before_assign_fn, UnsupportedSyntaxError, SyntaxError, "z * x", ["`z`", "before it is assigned"]),
    (undefined_global_fn, S2SGradError, Exception, "not_defined_anywhere",
     ["`not_defined_anywhere`", "not defined"]),
    (tuple_return_fn, NotDifferentiableError, TypeError, "return x, x * 2.0", ["`grad`", "2 values"]),
]


@pytest.mark.parametrize("fn, cls, builtin, prefix, words", LOWERING,
                         ids=[c[0].__name__ for c in LOWERING])
def test_lowering_error_is_located(fn, cls, builtin, prefix, words):
    with pytest.raises(builtin) as info:
        s2sgrad.grad(fn)
    err = info.value
    assert isinstance(err, cls) and isinstance(err, S2SGradError)
    check_located(err, fn, prefix, words)


def test_unwrap_really_has_no_rule():
    """The no-rule tests rely on np.unwrap and math.gamma being absent from the table."""
    assert "np.unwrap" not in OPS
    assert all(op.obj is not np.unwrap and op.obj is not math.gamma for op in OPS.values())


def test_no_rule_is_a_value_error_showing_the_decorator_to_add():
    with pytest.raises(ValueError) as info:
        s2sgrad.grad(unwrap_fn)
    assert isinstance(info.value, NoRuleError)
    assert "help: " in str(info.value)
    assert "@s2sgrad.adjoint(np.unwrap)" in info.value.hint
    assert "s2sgrad.nondifferentiable(np.unwrap)" in info.value.hint


def test_floor_division_hint_lists_supported_operators():
    with pytest.raises(NoRuleError) as info:
        s2sgrad.grad(floordiv_fn)
    assert "+ - * / ** @ % //" in info.value.hint


def test_errors_are_raised_when_grad_is_called_not_later():
    """Compilation happens in grad(): the error never waits for the first call."""
    with pytest.raises(UnsupportedSyntaxError):
        s2sgrad.grad(try_fn)
    with pytest.raises(UnsupportedSyntaxError):
        s2sgrad.source(try_fn)
    with pytest.raises(UnsupportedSyntaxError):
        s2sgrad.value_and_grad(try_fn)


# -- functions whose source cannot be read ---------------------------------------------

def test_lambda_given_to_grad():
    assert s2sgrad.grad(lambda x: x ** 3)(2.0) == 12.0
    pair = (lambda x: x * 2.0, lambda x: x * 3.0)           # two lambdas alike on one line
    with pytest.raises(S2SGradError) as info:
        s2sgrad.grad(pair[1])
    err = info.value
    assert "lambda" in err.message and "def" in err.hint
    assert err.loc.file == __file__
    assert err.loc.line == inspect.currentframe().f_lineno - 6
    assert "lambda x: x * 2.0" in err.loc.text
    assert f"{__file__}:{err.loc.line}:" in str(err)


def _with_lambda_default(x, scale=lambda t: t * 3.0): return x * 2.0  # noqa: E704


def test_lambda_on_a_def_line_is_not_mistaken_for_that_def():
    """The lambda's source line is a `def` line (the lambda is a default value):
    s2sgrad must still see a lambda, not differentiate `_with_lambda_default`."""
    lam = inspect.signature(_with_lambda_default).parameters["scale"].default
    assert lam(1.0) == 3.0
    assert s2sgrad.grad(lam)(1.0) == 3.0                  # the lambda's 3, not the def's 2


def test_function_built_with_exec():
    namespace = {"np": np}
    exec("def made(x):\n    return np.sin(x)\n", namespace)
    with pytest.raises(ValueError) as info:
        s2sgrad.grad(namespace["made"])
    err = info.value
    assert isinstance(err, SourceUnavailableError)
    assert "made" in err.message and "source" in err.message
    assert "exec" in err.hint
    assert "help: " in str(err)
    assert "None" not in str(err) and "error:" not in str(err)   # no location to show


def test_builtin_function():
    assert s2sgrad.grad(np.sin)(0.5) == np.cos(0.5)       # a ufunc: read as the function calling it
    with pytest.raises(ValueError) as info:
        s2sgrad.grad(np.linalg.det)
    err = info.value
    assert isinstance(err, SourceUnavailableError)
    assert "det" in err.message and "not a Python function" in err.message
    assert "wrap it" in err.hint


def test_python_builtin_function():
    with pytest.raises(SourceUnavailableError) as info:
        s2sgrad.grad(abs)
    assert "abs" in info.value.message


# -- values that cannot be differentiated ------------------------------------------------

def square_sum(x, y):
    return np.sum(x * x) + np.sum(y)


@pytest.mark.parametrize("value, what", [
    (3, "int"),
    (True, "bool"),
    (np.arange(3), "int"),
    ([], "empty list"),
], ids=["int", "bool", "int-array", "empty-list"])
def test_non_float_argument(value, what):
    df = s2sgrad.grad(square_sum)
    with pytest.raises(TypeError) as info:
        df(value, 1.0)
    err = info.value
    assert isinstance(err, NotDifferentiableError)
    assert "`x`" in err.message
    assert what in err.message
    assert "x" in err.hint
    assert err.loc is not None and err.loc.file == __file__
    assert err.loc.line == square_sum.__code__.co_firstlineno


def test_non_float_argument_by_keyword_and_second_position():
    df = s2sgrad.grad(square_sum, wrt="y")
    with pytest.raises(NotDifferentiableError) as info:
        df(np.ones(2), y=4)
    assert "`y`" in info.value.message
    # a parameter left out of wrt may be anything
    assert np.allclose(s2sgrad.grad(square_sum)(np.ones(2), 4), 2 * np.ones(2))


def test_integer_argument_hint_shows_the_fix():
    with pytest.raises(NotDifferentiableError) as info:
        s2sgrad.grad(square_sum)(3, 1.0)
    assert "dtype=float" in info.value.hint


def identity(x):
    return x * 1.0


def test_non_scalar_output_of_grad():
    df = s2sgrad.grad(identity)
    assert df(2.0) == 1.0
    with pytest.raises(ValueError) as info:
        df(np.ones(3))
    err = info.value
    assert isinstance(err, ShapeError)
    assert "(3,)" in err.message and "scalar" in err.message
    assert "vjp" in str(err)
    assert err.loc.line == identity.__code__.co_firstlineno


@pytest.mark.parametrize("wrt, shown", [
    (5, "5"),
    (-3, "-3"),
    ("z", "'z'"),
    ((0, "x"), "twice"),
    (("x", "x"), "twice"),
], ids=["index-too-big", "index-too-small", "unknown-name", "duplicate-index-name",
        "duplicate-name"])
def test_bad_wrt_lists_the_parameters(wrt, shown):
    with pytest.raises(S2SGradError) as info:
        s2sgrad.grad(square_sum, wrt=wrt)
    err = info.value
    assert shown in err.message
    text = str(err)
    assert "x" in err.hint and "y" in err.hint, f"parameters not listed in: {text}"
    assert "help: " in text and "x, y" in text.split("help: ", 1)[1]
    assert err.loc.line == square_sum.__code__.co_firstlineno


def test_vjp_cotangent_of_wrong_shape():
    out, pullback = s2sgrad.vjp(identity, np.ones(3))
    assert np.allclose(pullback(np.full(3, 2.0))[0], 2.0)
    with pytest.raises(ValueError) as info:
        pullback(np.ones(4))
    err = info.value
    assert isinstance(err, ShapeError)
    assert "(4,)" in err.message and "(3,)" in err.message
    assert "cotangent" in err.message


# -- errors at run time inside generated code --------------------------------------------

def matmul_self(x):
    return np.sum(x @ x)


def test_runtime_error_shows_the_generated_line():
    df = s2sgrad.grad(matmul_self)
    assert np.allclose(df(np.eye(2)), 2 * np.ones((2, 2)))
    with pytest.raises(ValueError) as info:
        df(np.ones((2, 3)))
    assert not isinstance(info.value, S2SGradError)   # numpy's own error
    text = "".join(traceback.format_exception(info.value))
    lines = text.splitlines()
    frames = [i for i, line in enumerate(lines) if 'File "<s2sgrad-' in line]
    assert len(frames) == 1, text
    assert "grad_matmul_self" in lines[frames[0]]
    shown = lines[frames[0] + 1].strip()          # the generated line, read through linecache
    assert "np.matmul(x, x)" in shown or "x @ x" in shown, text


def picked_energy(x, k):
    y = np.sin(x) * 2.0
    total = 0.0
    for i in range(3):
        total = total + np.sum(y[k + i] ** 2)
    return total


def test_a_failure_inside_generated_code_is_noted_with_the_users_line():
    """The note names the generated line that raised and the user's line it is the
    derivative of (the function itself for the code that runs it)."""
    x = np.linspace(0.1, 0.5, 4)
    for call in (lambda: s2sgrad.grad(picked_energy)(x, 3),
                 lambda: s2sgrad.jvp(picked_energy, (x, 3), (np.ones(4),), wrt=0)):
        with pytest.raises(IndexError) as info:
            call()
        notes = getattr(info.value, "__notes__", [])
        assert len(notes) == 1 and "in the generated code of" in notes[0] and " = y[" in notes[0], notes
        assert f"{__file__}:" in notes[0] and "def picked_energy(x, k):" in notes[0], notes
    with pytest.raises(IndexError) as info:          # (the function itself fails: its own error, no note)
        s2sgrad.vjp(picked_energy, x, 3, wrt=0)
    assert not getattr(info.value, "__notes__", [])
    with pytest.raises(ValueError) as info:
        s2sgrad.grad(matmul_self)(np.ones((2, 3)))
    assert "(the part that runs the function itself" in info.value.__notes__[0]
    assert "def matmul_self(x):" in info.value.__notes__[0]
