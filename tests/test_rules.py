"""Every rule in the table, proven from what the table says of it (`rules.Spec`).

Each differentiable op declares the domain its arguments are drawn from, its SymPy
counterpart (or why it has none), and, when it is not elementwise, example calls.
From that alone this file checks every rule against central finite differences (on
scalar, vector, matrix and broadcast shapes) and against SymPy: symbolically for the
elementwise partials, and by exact evaluation at rational points for everything else
(the symbolic derivative of the op over arrays of symbols, against the generated
gradient). Adding a rule adds its proofs; a rule that says nothing fails
`test_every_rule_says_how_it_is_proven`.
"""
from __future__ import annotations

import fractions
import ast
import types
import zlib

import numpy as np
import pytest
import sympy

import s2sgrad
from s2sgrad import rules
from s2sgrad.rules import DOMAINS, OPS

from . import user_rules_module  # noqa: F401  (users' rules join the table, and its proofs)
from .support import check_grads, make_function

COMPILER_ONLY = {"iadd", "getitem.any", "setitem.any"}     # made by the reverse pass only (add's rule; x[idx])
TREES = {"attr"}            # an attribute of an object: proven on trees, in test_python.py
DIFFERENTIABLE = sorted(n for n, op in OPS.items() if op.kind in ("elementwise", "adjoint")
                        and n not in COMPILER_ONLY | TREES)
ELEMENTWISE = [n for n in DIFFERENTIABLE if OPS[n].kind == "elementwise"]
STRUCTURAL = [n for n in DIFFERENTIABLE if OPS[n].kind == "adjoint"]
SCALAR_ONLY = {n for n in ELEMENTWISE if n.startswith("math.") or n in ("abs", "max", "min", "float", "complex")}
SPELLING = {"add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}",
            "pow": "{0} ** {1}", "mod": "{0} % {1}", "floordiv": "{0} // {1}", "neg": "-{0}",
            "pos": "+{0}", "id": "{0}"}
PREAMBLE = "import math\nimport numpy as np\nfrom s2sgrad.rules import FOREIGN\nglobals().update(FOREIGN)\n"
BROADCAST = [((4, 3), (3,)), ((4, 3), (4, 1)), ((4, 3), (1, 3)), ((4, 3), ()), ((), (4, 3)),
             ((3, 1), (1, 2)), ((), ()), ((5,), (5,))]


def test_every_rule_says_how_it_is_proven():
    for name in DIFFERENTIABLE:
        spec, op = OPS[name].spec, OPS[name]
        assert spec is not None and spec.domain, f"{name}: no domain"
        assert all(d in DOMAINS for d in spec.domain), f"{name}: unknown domain in {spec.domain}"
        assert spec.sympy or spec.why, f"{name}: neither a SymPy counterpart nor why there is none"
        if op.kind == "elementwise":
            assert len(spec.domain) == len(op.args), f"{name}: one domain per argument"
        else:
            assert spec.examples, f"{name}: no example calls"


# -- drawing arguments from a domain ---------------------------------------------------

def sample(shape, domain, rng):
    """Floats drawn from `domain`, each one a binary fraction (exact as a rational)."""
    n = int(np.prod(shape, dtype=int))
    if domain == "wellcond":
        x = rng.uniform(-1.0, 1.0, shape) + shape[-1] * np.eye(shape[-1])
    elif domain == "spd":
        b = rng.uniform(-1.0, 1.0, shape)
        x = b @ b.T + shape[-1] * np.eye(shape[-1])
    elif domain == "distinct":
        x = (rng.permutation(n) * 0.37 + rng.uniform(0.0, 0.1, n) - 1.0).reshape(shape)
    elif domain == "index":
        return rng.uniform(size=shape) > 0.5 if shape else bool(rng.uniform() > 0.5)
    elif domain in ("count", "trials"):
        low = 0 if domain == "count" else 4
        x = rng.integers(low, low + 4 if domain == "count" else low + 3, shape).astype(float)
        return float(x) if shape == () else x
    else:
        low, high = {"positive": (0.5, 2.0), "unit": (-0.9, 0.9), "above1": (1.2, 3.0), "near zero": (-1.2, 1.2),
                     "fraction": (0.1, 0.9), "1-2": (1.0, 2.0), "below0": (-0.3, -0.1)}.get(domain, (-2.0, 2.0))
        x = rng.uniform(low, high, shape)
        if domain == "away":
            x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    x = np.round(np.asarray(x, dtype=float) * 1024) / 1024
    return float(x) if shape == () else x


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))   # the same every run


# -- elementwise rules: finite differences on broadcast shapes -------------------------

def _call(name, args):
    return SPELLING.get(name, name + "({})").format(*args) if name in SPELLING else f"{name}({', '.join(args)})"


def _elementwise_cases():
    for name in ELEMENTWISE:
        arity = len(OPS[name].args)
        foreign = name in rules.FOREIGN              # (SciPy's: each kind of broadcasting once, to keep the suite fast)
        for shapes in [b for k, b in enumerate(BROADCAST) if not foreign or k in (0, 1, 4, 5, 6)]:
            if name in SCALAR_ONLY and shapes != ((), ()):
                continue                       # Python's math works on floats only
            shapes = (shapes * 2)[:arity] if arity > 1 else shapes[:1]
            if arity == 3:
                shapes = (shapes[0], shapes[1], shapes[0])
            if arity == 4:
                shapes = (shapes[0], shapes[1], shapes[0], shapes[1])
            if arity == 5:
                shapes = (shapes[0], shapes[1], shapes[0], shapes[1], shapes[0])
            yield pytest.param(name, shapes, id=f"{name}-{shapes}")


@pytest.mark.parametrize("name, shapes", list(_elementwise_cases()))
def test_elementwise_rule_matches_finite_differences(tmp_path, name, shapes):
    names = "xyzwv"[:len(shapes)]
    fn = make_function(tmp_path, f"def f({', '.join(names)}):\n    return {_call(name, names)}\n", preamble=PREAMBLE)
    rng = _rng(name, shapes)
    args = [sample(s, d, rng) for s, d in zip(shapes, OPS[name].spec.domain)]
    op = OPS[name]
    wrt = tuple(i for i, d in enumerate(op.spec.domain) if d != "index" and op.args[i] not in op.fixed
                and (op.piecewise is True or op.args[i] not in op.piecewise))
    check_grads(fn, *args, wrt=wrt)


# -- elementwise rules: each partial equals sympy.diff of the op ----------------------

SYMPY_NP = types.SimpleNamespace(
    cos=sympy.cos, sin=sympy.sin, log=sympy.log, sign=sympy.sign, floor=sympy.floor, trunc=sympy.floor,
    sqrt=sympy.sqrt, exp=sympy.exp, tanh=sympy.tanh, cosh=sympy.cosh, sinh=sympy.sinh, pi=sympy.pi,
    exp2=lambda v: 2 ** v, float_power=lambda a, b: a ** b, where=lambda c, a, b: sympy.Piecewise((a, c), (b, True)),
    log1p=lambda v: sympy.log(1 + v))
SYMPY_SPECIAL = types.SimpleNamespace(                # scipy.special in rules
    polygamma=sympy.polygamma, log_ndtr=lambda v: sympy.log((1 + sympy.erf(v / sympy.sqrt(2))) / 2),
    digamma=lambda v: sympy.polygamma(0, v), gamma=sympy.gamma,
    i0=lambda v: sympy.besseli(0, v), i1=lambda v: sympy.besseli(1, v),
    i0e=lambda v: sympy.exp(-sympy.Abs(v)) * sympy.besseli(0, v), i1e=lambda v: sympy.exp(-sympy.Abs(v)) * sympy.besseli(1, v),
    j0=lambda v: sympy.besselj(0, v), j1=lambda v: sympy.besselj(1, v),
    y0=lambda v: sympy.bessely(0, v), y1=lambda v: sympy.bessely(1, v),
    jv=sympy.besselj, yv=sympy.bessely, iv=sympy.besseli, kv=sympy.besselk,
    ive=lambda v, u: sympy.besseli(v, u) * sympy.exp(-sympy.Abs(u)), kve=lambda v, u: sympy.besselk(v, u) * sympy.exp(u),
    gammaln=sympy.loggamma, betaln=lambda a, b: sympy.log(sympy.beta(a, b)), zeta=sympy.zeta,
    expit=lambda v: 1 / (1 + sympy.exp(-v)))
class _SympyStats:
    """scipy.stats as the rules' partials call it (`stats.cauchy.pdf(x, loc, scale)`), each
    method the SymPy counterpart the table gives it."""

    def __getattr__(self, distribution):
        return types.SimpleNamespace(**{method: self._counterpart(f"{distribution}.{method}")
                                        for method in ("pdf", "logpdf", "cdf", "sf", "logcdf", "logsf")
                                        if f"{distribution}.{method}" in OPS})

    @staticmethod
    def _counterpart(name):
        def evaluate(*args):
            names = "xyzwv"[:len(args)]
            return sympy.sympify(OPS[name].spec.sympy, locals=dict(zip(names, args)))
        return evaluate


ASSUME = {"positive": dict(positive=True), "above1": dict(positive=True), "fraction": dict(positive=True),
          "1-2": dict(positive=True)}


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if OPS[n].spec.sympy])
def test_elementwise_partials_equal_sympy_derivatives(name):
    op, spec = OPS[name], OPS[name].spec
    rule = op.rule
    symbols = [sympy.Symbol(s, real=True, **ASSUME.get(d, {})) for s, d in zip("xyzwv", spec.domain)]
    ans = sympy.sympify(spec.sympy, locals=dict(zip("xyzwv", symbols)))
    symbolic = types.FunctionType(rule.__code__, {"np": SYMPY_NP, "special": SYMPY_SPECIAL, "stats": _SympyStats()})
    takes_ans = "ans" in rule.__code__.co_varnames[:rule.__code__.co_argcount]
    partials = symbolic(*symbols, **({"ans": ans} if takes_ans else {}))
    partials = partials if isinstance(partials, tuple) else (partials,)
    rng = _rng(name)
    for arg, partial, domain, arg_name in zip(symbols, partials, spec.domain, op.args):
        if domain == "index" or arg_name in op.fixed or op.piecewise is not True and arg_name in op.piecewise:
            continue                # an integer (polygamma's order, a count), a shape with no partial: not differentiated
        difference = sympy.diff(ans, arg) - partial
        if sympy.simplify(difference) == 0:
            continue
        for _ in range(3):                    # where SymPy cannot simplify: exact evaluation
            point = {s: sympy.Rational(fractions.Fraction(float(sample((), d, rng))))
                     for s, d in zip(symbols, spec.domain)}
            assert abs(sympy.N(difference.subs(point), 30)) < 1e-12, (name, arg, point)


def test_abs_partial_is_sign_for_real_arguments():
    x = sympy.Symbol("x", real=True, nonzero=True)
    assert sympy.simplify(sympy.diff(sympy.Abs(x), x) - sympy.sign(x)) == 0


# -- every other rule: its examples, by finite differences and against SymPy -------------

def _case_id(name, expr, shapes):
    line = expr.splitlines()[-2].strip() if expr.startswith("def ") else expr
    return f"{name}: {line} {shapes}"


CASES = [pytest.param(name, expr, shapes, id=_case_id(name, expr, shapes))
         for name in STRUCTURAL for expr, shapes in OPS[name].spec.examples]


def _example(tmp_path, name, expr, shapes):
    """The example as a function; a symmetric input (domain spd) is symmetrised first, so
    the gradient is the one with respect to the symmetric matrix it stands for."""
    params = "xyzwv"[:len(shapes)]
    first = "    x = (x + x.T) / 2\n" if OPS[name].spec.domain[0] == "spd" else ""
    source = expr if expr.startswith("def ") else f"def f({', '.join(params)}):\n{first}    return {expr}\n"
    return make_function(tmp_path, source, preamble=PREAMBLE)


def _arguments(name, shapes, rng):
    domain = OPS[name].spec.domain
    return [sample(s, domain[min(i, len(domain) - 1)], rng) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("name, expr, shapes", CASES)
def test_rule_matches_finite_differences(tmp_path, name, expr, shapes):
    fn = _example(tmp_path, name, expr, shapes)
    args = _arguments(name, shapes, _rng(name, expr, shapes))
    check_grads(fn, *args, rtol=1e-4, atol=1e-6)


class _Proxy:
    """A stand-in for numpy in which some functions are SymPy's (`np.linalg.inv` ...)."""

    def __init__(self, module, overrides, prefix="np"):
        self._module, self._overrides, self._prefix = module, overrides, prefix

    def __getattr__(self, attr):
        key = f"{self._prefix}.{attr}"
        if key in self._overrides:
            return self._overrides[key]
        value = getattr(self._module, attr)
        return _Proxy(value, self._overrides, key) if isinstance(value, types.ModuleType) else value


def _on_symbols(name):
    """The globals an example runs with on arrays of symbols: numpy, with the op under
    test replaced by its SymPy counterpart where it is not NumPy itself on arrays of
    symbols (and a user's function by its counterpart)."""
    spec = OPS[name].spec
    overrides = {f"np.{f}": np.vectorize(getattr(sympy, f), otypes=[object])
                 for f in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh")}
    overrides["np.std"] = lambda x, **kw: np.vectorize(sympy.sqrt, otypes=[object])(np.var(x, **kw))
    if spec.sympy != "numpy":
        def counterpart(x, y=None, **statics):
            names = {"x": x, "y": y, "np": np, "M": sympy.Matrix, "log": sympy.log, "abs": sympy.Abs,
                     "sign": sympy.sign, "sp": sympy}
            return eval(spec.sympy, names, statics)
        overrides[name] = counterpart
    return {"np": _Proxy(np, overrides)} | ({name: overrides[name]} if name in rules.FOREIGN else {})


def _symbolic(case) -> bool:
    """Cases SymPy can referee: a counterpart given, and SymPy's matrices 2-D only."""
    spec, shapes = OPS[case.values[0]].spec, case.values[2]
    return bool(spec.sympy) and (spec.sympy == "numpy" or all(len(s) <= 2 for s in shapes))


@pytest.mark.parametrize("name, expr, shapes", [c for c in CASES if _symbolic(c)])
def test_rule_matches_sympy_at_rational_points(tmp_path, name, expr, shapes):
    fn = _example(tmp_path, name, expr, shapes)
    rng = _rng("sympy", name, expr, shapes)
    args = _arguments(name, shapes, rng)
    symbols = [np.array(sympy.symbols(f"{v}0:{max(np.size(a), 1)}", real=True), dtype=object).reshape(np.shape(a))
               for v, a in zip("xyzwv", args)]
    symbolic = types.FunctionType(fn.__code__, dict(fn.__globals__) | _on_symbols(name))
    out = np.asarray(symbolic(*symbols), dtype=object)
    cotangent = np.round(rng.uniform(-1.0, 1.0, out.shape) * 64) / 64
    total = sum(sympy.Rational(fractions.Fraction(float(c))) * o for c, o in zip(np.ravel(cotangent), np.ravel(out)))
    point = {s: sympy.Rational(fractions.Fraction(float(v)))
             for syms, a in zip(symbols, args) for s, v in zip(np.ravel(syms), np.ravel(a))}
    _, pullback = s2sgrad.vjp(fn, *args)
    got = pullback(cotangent if np.shape(out) else float(cotangent))
    for syms, mine in zip(symbols, got):
        want = np.array([float(sympy.N(sympy.diff(total, s).subs(point), 30)) for s in np.ravel(syms)])
        np.testing.assert_allclose(np.ravel(mine), want, rtol=1e-9, atol=1e-12, err_msg=f"{name}: {expr}")


# -- conventions at kinks -----------------------------------------------------------

def test_kink_conventions(tmp_path):
    absolute = make_function(tmp_path, "def f(x):\n    return np.sum(np.abs(x))\n")
    np.testing.assert_array_equal(s2sgrad.grad(absolute)(np.array([-1.0, 0.0, 2.0])), [-1.0, 0.0, 1.0])
    maximum = make_function(tmp_path, "def f(x, y):\n    return np.sum(np.maximum(x, y))\n")
    dx, dy = s2sgrad.grad(maximum, wrt=(0, 1))(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    np.testing.assert_array_equal(dx, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(dy, [1.0, 0.5, 0.0])
    clipped = make_function(tmp_path, "def f(x):\n    return np.sum(np.clip(x, -1.0, 1.0))\n")
    np.testing.assert_array_equal(s2sgrad.grad(clipped)(np.array([-2.0, -1.0, 0.0, 1.0, 2.0])), [0, 1, 1, 1, 0])
    top = make_function(tmp_path, "def f(x):\n    return np.max(x)\n")
    np.testing.assert_array_equal(s2sgrad.grad(top)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])


def test_repeated_indices_add_up(tmp_path):
    fn = make_function(tmp_path, "def f(x, idx):\n    return np.sum(x[idx] * np.arange(4.0))\n")
    g = s2sgrad.grad(fn)(np.ones(3), np.array([0, 2, 0, 0]))
    np.testing.assert_array_equal(g, [0.0 + 2.0 + 3.0, 0.0, 1.0])


# -- the referee on every rule: s2sgrad.verify_rule ------------------------------------

def _direct_call(name, expr):
    """(argument names, static keywords) when the example calls the op itself on x, y, z."""
    if expr.startswith("def "):
        return None
    call = ast.parse(expr, mode="eval").body
    if not isinstance(call, ast.Call) or rules.SHOWN.get(ast.unparse(call.func), ast.unparse(call.func)) != name:
        return None
    if not all(isinstance(a, ast.Name) and a.id in "xyzwv" for a in call.args):
        return None
    try:
        return [a.id for a in call.args], {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except ValueError:
        return None


def _referee_cases():
    for name in ELEMENTWISE:
        if OPS[name].spec.sympy:
            shape = () if name in SCALAR_ONLY else (2,)
            yield pytest.param(name, ["x", "y", "z", "w", "v"][:len(OPS[name].args)], {}, (shape,) * 5, id=name)
    for name, expr, shapes in (c.values for c in CASES if _symbolic(c)):
        direct = _direct_call(name, expr)
        if OPS[name].spec.sympy and direct and OPS[name].spec.domain[0] not in ("spd", "index"):
            yield pytest.param(name, *direct, shapes, id=_case_id(name, expr, shapes))


@pytest.mark.parametrize("name, params, statics, shapes", list(_referee_cases()))
def test_the_referee_verifies_every_rule_alone(name, params, statics, shapes):
    args = _arguments(name, shapes[:len(params)], _rng("referee", name, shapes))
    report = s2sgrad.verify_rule(OPS[name].obj or name, *args, budget=None, **statics)   # no clock
    assert report, str(report)
