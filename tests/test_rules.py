"""Every rule in the table, proven against finite differences on scalar, vector,
matrix and broadcast shapes, and (elementwise partials) against SymPy.

Adding a rule without adding its case here fails `test_every_rule_has_a_case`.
"""
from __future__ import annotations

import types
import zlib

import numpy as np
import pytest
import sympy

from s2sgrad import rules

from .support import check_grads, make_function

# argument domains: where each op is smooth and well conditioned
REAL, POSITIVE, AWAY_FROM_ZERO, FRACTION, ONE_TO_TWO = "real", "positive", "away", "fraction", "1-2"
NEAR_ZERO = "near zero"        # |x| < 1.2: tan stays far from its poles

# op -> (expression over x [and y], domain of x, domain of y)
ELEMENTWISE = {
    "add": ("x + y", REAL, REAL),
    "sub": ("x - y", REAL, REAL),
    "mul": ("x * y", REAL, REAL),
    "div": ("x / y", REAL, AWAY_FROM_ZERO),
    "pow": ("x ** y", POSITIVE, REAL),
    "mod": ("x % y", FRACTION, ONE_TO_TWO),          # x / y in (0, 1): away from the jumps
    "floordiv": ("x // y", FRACTION, ONE_TO_TWO),
    "neg": ("-x", REAL, None),
    "id": ("x", REAL, None),
    "pos": ("+x", REAL, None),
    "np.copy": ("np.copy(x)", REAL, None),
    "np.sin": ("np.sin(x)", REAL, None),
    "np.cos": ("np.cos(x)", REAL, None),
    "np.tan": ("np.tan(x)", NEAR_ZERO, None),
    "np.exp": ("np.exp(x)", REAL, None),
    "np.log": ("np.log(x)", POSITIVE, None),
    "np.sqrt": ("np.sqrt(x)", POSITIVE, None),
    "np.tanh": ("np.tanh(x)", REAL, None),
    "np.abs": ("np.abs(x)", AWAY_FROM_ZERO, None),
    "np.maximum": ("np.maximum(x, y)", REAL, REAL),
    "np.minimum": ("np.minimum(x, y)", REAL, REAL),
    # Python's own functions, on Python floats only
    "math.sin": ("math.sin(x)", REAL, None), "math.cos": ("math.cos(x)", REAL, None),
    "math.tan": ("math.tan(x)", NEAR_ZERO, None), "math.exp": ("math.exp(x)", REAL, None),
    "math.log": ("math.log(x)", POSITIVE, None), "math.sqrt": ("math.sqrt(x)", POSITIVE, None),
    "math.tanh": ("math.tanh(x)", REAL, None), "abs": ("abs(x)", AWAY_FROM_ZERO, None),
    "max": ("max(x, y)", REAL, REAL), "min": ("min(x, y)", REAL, REAL), "float": ("float(x)", REAL, None),
}
SCALAR_ONLY = {"math.sin", "math.cos", "math.tan", "math.exp", "math.log", "math.sqrt", "math.tanh",
               "abs", "max", "min", "float"}

# op -> list of (expression, shapes of the arguments)
STRUCTURAL = {
    "np.sum": [("np.sum(x)", [(4, 3)]), ("np.sum(x, axis=0)", [(4, 3)]),
               ("np.sum(x, axis=-1, keepdims=True)", [(4, 3)]), ("np.sum(x, (0, 2))", [(2, 3, 4)]),
               ("x.sum(axis=1)", [(4, 3)]), ("np.sum(x)", [()])],
    "np.mean": [("np.mean(x)", [(4, 3)]), ("np.mean(x, axis=1)", [(4, 3)]),
                ("np.mean(x, axis=0, keepdims=True)", [(4, 3)]), ("x.mean()", [(5,)])],
    "matmul": [("x @ y", [(4, 3), (3, 2)]), ("x @ y", [(3,), (3, 2)]), ("x @ y", [(4, 3), (3,)]),
               ("x @ y", [(3,), (3,)]), ("x @ y", [(2, 4, 3), (3, 5)]), ("x @ y", [(4, 3), (2, 3, 5)])],
    "np.matmul": [("np.matmul(x, y)", [(4, 3), (3, 2)]), ("np.matmul(x, y)", [(2, 1, 4, 3), (3, 3, 2)])],
    "np.dot": [("np.dot(x, y)", [(4, 3), (3, 2)]), ("np.dot(x, y)", [(3,), (3,)]),
               ("np.dot(x, y)", [(4, 3), (3,)]), ("np.dot(x, y)", [(), (3,)]), ("x.dot(y)", [(2, 3), (3, 4)])],
    "np.transpose": [("np.transpose(x)", [(4, 3)]), ("x.T", [(4, 3)]),
                     ("np.transpose(x, (1, 2, 0))", [(2, 3, 4)]), ("x.transpose(2, 0, 1)", [(2, 3, 4)])],
    "sum": [("sum(x)", [(4, 3)]), ("sum(x)", [(5,)])],
    "np.stack": [("np.stack([x, y], axis=1)", [(3,), (3,)]), ("np.stack([x, y])", [(2, 3), (2, 3)])],
    "np.array": [("np.array([x, y])", [(3,), (3,)]), ("np.array([x, y])", [(), ()])],
    "append": [("np.array([x, x * y, y])", [(2,), (2,)])],
    "np.asarray": [("np.asarray(x, dtype=float)", [(3,)]), ("x.astype(float)", [(2, 3)])],
    "np.max": [("np.max(x)", [(4, 3)]), ("np.max(x, axis=0)", [(4, 3)]),
               ("x.max(axis=1, keepdims=True)", [(4, 3)])],
    "np.amax": [("np.amax(x, axis=-1)", [(2, 3, 4)])],
    "np.min": [("np.min(x)", [(5,)]), ("x.min(axis=0)", [(4, 3)])],
    "np.amin": [("np.amin(x, axis=(0, 2))", [(2, 3, 4)])],
    "np.reshape": [("np.reshape(x, (3, 4))", [(4, 3)]), ("x.reshape(2, 6)", [(4, 3)]),
                   ("x.reshape(-1)", [(4, 3)])],
    "getitem": [("x[0, 1]", [(4, 3)]), ("x[1:3]", [(4, 3)]), ("x[:, ::2]", [(4, 3)]),
                ("x[..., -1]", [(2, 3, 4)]), ("x[None, 1:, 0]", [(4, 3)]), ("x[-2]", [(5,)])],
    "setitem": [("setitem", [(4, 3), ()]), ("setitem_slice", [(4, 3), (3,)])],
}
SETITEM = {
    "setitem": "def f(x, y):\n    z = x * 2.0\n    z[1, 2] = y ** 2\n    return z\n",
    "setitem_slice": "def f(x, y):\n    z = x * 2.0\n    z[1:3] = np.sin(y)\n    return z * x\n",
}

PREAMBLE = "import math\nimport numpy as np\n"
BROADCAST = [((4, 3), (3,)), ((4, 3), (4, 1)), ((4, 3), (1, 3)), ((4, 3), ()), ((), (4, 3)),
             ((3, 1), (1, 2)), ((), ()), ((5,), (5,))]


def sample(shape, domain, rng):
    x = rng.uniform(-2.0, 2.0, shape)
    if domain == POSITIVE:
        x = rng.uniform(0.5, 2.0, shape)
    elif domain == NEAR_ZERO:
        x = rng.uniform(-1.2, 1.2, shape)
    elif domain == FRACTION:
        x = rng.uniform(0.1, 0.9, shape)
    elif domain == ONE_TO_TWO:
        x = rng.uniform(1.0, 2.0, shape)
    elif domain == AWAY_FROM_ZERO:
        x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    return float(x) if shape == () else x


COMPILER_ONLY = {"iadd"}       # made by the reverse pass only; it shares add's rule


def test_every_rule_has_a_case():
    differentiable = {name for name, op in rules.OPS.items() if op.kind in ("elementwise", "adjoint")}
    assert differentiable - COMPILER_ONLY == set(ELEMENTWISE) | set(STRUCTURAL)
    assert all(rules.OPS[name].rule is rules.OPS["add"].rule for name in COMPILER_ONLY)


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("op", sorted(ELEMENTWISE))
def test_elementwise_rule_matches_finite_differences(tmp_path, op, shapes):
    expr, dx, dy = ELEMENTWISE[op]
    if op in SCALAR_ONLY and shapes != ((), ()):
        return                                  # Python's math works on floats only
    rng = np.random.default_rng(zlib.crc32(repr((op, shapes)).encode()))   # the same every run
    if dy is None:
        fn = make_function(tmp_path, f"def f(x):\n    z = {expr}\n    return z\n", preamble=PREAMBLE)
        check_grads(fn, sample(shapes[0], dx, rng))
    else:
        fn = make_function(tmp_path, f"def f(x, y):\n    z = {expr}\n    return z\n", preamble=PREAMBLE)
        check_grads(fn, sample(shapes[0], dx, rng), sample(shapes[1], dy, rng))


CASES = [(op, expr, shapes) for op, cases in STRUCTURAL.items() for expr, shapes in cases]


@pytest.mark.parametrize("op, expr, shapes", CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_structural_rule_matches_finite_differences(tmp_path, op, expr, shapes):
    rng = np.random.default_rng(7)
    params = "xy"[:len(shapes)]
    source = SETITEM.get(expr) or f"def f({', '.join(params)}):\n    return {expr}\n"
    fn = make_function(tmp_path, source, preamble="import math\nimport numpy as np\n")
    check_grads(fn, *(sample(s, REAL, rng) for s in shapes))


# -- SymPy: each elementwise partial equals sympy.diff of the op ---------------

SYMPY = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
         "div": lambda x, y: x / y, "pow": lambda x, y: x ** y, "neg": lambda x: -x,

         "id": lambda x: x, "pos": lambda x: x, "np.copy": lambda x: x, "np.sin": sympy.sin, "np.cos": sympy.cos,
         "np.tan": sympy.tan, "np.exp": sympy.exp, "np.log": sympy.log, "np.sqrt": sympy.sqrt,
         "np.tanh": sympy.tanh, "np.abs": sympy.Abs, "math.sin": sympy.sin, "math.cos": sympy.cos,
         "math.tan": sympy.tan, "math.exp": sympy.exp, "math.log": sympy.log, "math.sqrt": sympy.sqrt,
         "math.tanh": sympy.tanh, "abs": sympy.Abs, "float": lambda x: x}
# np.maximum (np.minimum, max, min) has a kink on x == y, which a symbolic derivative cannot express as one
# formula; its rule is proven by finite differences above and at ties below. `//` is a
# step function, `%` a saw tooth: SymPy leaves their derivatives unevaluated, so they
# are proven by finite differences above, away from the jumps.
SYMPY_SHIM = types.SimpleNamespace(cos=sympy.cos, sin=sympy.sin, log=sympy.log, sign=sympy.sign, floor=sympy.floor,
                                   sqrt=sympy.sqrt, exp=sympy.exp, tanh=sympy.tanh)


def test_sympy_covers_every_smooth_elementwise_rule():
    elementwise = {n for n, op in rules.OPS.items() if op.kind == "elementwise"} - COMPILER_ONLY
    assert elementwise - set(SYMPY) == {"np.maximum", "np.minimum", "max", "min", "floordiv", "mod"}


@pytest.mark.parametrize("op", sorted(SYMPY))
def test_elementwise_partials_equal_sympy_derivatives(op):
    rule = rules.OPS[op].rule
    symbolic = types.FunctionType(rule.__code__, {"np": SYMPY_SHIM})
    args = sympy.symbols("x y", positive=True)[:len(rules.OPS[op].args)]
    ans = SYMPY[op](*args)
    kwargs = {"ans": ans} if "ans" in rule.__code__.co_varnames[:rule.__code__.co_argcount] else {}
    partials = symbolic(*args, **kwargs)
    partials = partials if isinstance(partials, tuple) else (partials,)
    for arg, partial in zip(args, partials):
        assert sympy.simplify(sympy.diff(ans, arg) - partial) == 0, (op, arg)


def test_abs_partial_is_sign_for_real_arguments():
    x = sympy.Symbol("x", real=True, nonzero=True)
    assert sympy.simplify(sympy.diff(sympy.Abs(x), x) - sympy.sign(x)) == 0


# -- conventions at kinks -----------------------------------------------------

def test_kink_conventions(tmp_path):
    import s2sgrad
    absolute = make_function(tmp_path, "def f(x):\n    return np.sum(np.abs(x))\n")
    np.testing.assert_array_equal(s2sgrad.grad(absolute)(np.array([-1.0, 0.0, 2.0])), [-1.0, 0.0, 1.0])
    maximum = make_function(tmp_path, "def f(x, y):\n    return np.sum(np.maximum(x, y))\n")
    dx, dy = s2sgrad.grad(maximum, wrt=(0, 1))(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    np.testing.assert_array_equal(dx, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(dy, [1.0, 0.5, 0.0])
