"""The program fuzzer: random programs, their gradients checked two ways.

hypothesis writes programs over a scalar `x` and an array `v` of three entries:
straight-line code, branches, loops, subscript assignment and calls to helpers,
built from the rule table's elementwise primitives, each argument mapped into the
primitive's domain. For every program, s2sgrad's gradient must agree with central
finite differences, and the SymPy referee must not find it wrong (verified, or
honestly not verified). The default run checks a few hundred programs on fixed
seeds; `S2SGRAD_FUZZ=10` runs ten times as many on fresh seeds (every strategy of
the suite follows the same variable). Each bug found is a named regression test
in test_regressions.py.
"""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import s2sgrad
from s2sgrad import rules

from .support import fuzz, make_function, numeric_vjp

INTO = {                          # an expression mapping any real `e` into each domain
    "real": "np.tanh({e}) * 1.5",
    "positive": "np.exp(np.tanh({e}))",
    "away": "(0.6 + np.tanh({e}) ** 2)",
    "unit": "0.9 * np.tanh({e})",
    "above1": "(1.5 + np.tanh({e}) ** 2)",
    "near zero": "np.tanh({e})",
    "fraction": "(0.5 + 0.4 * np.tanh({e}))",
    "1-2": "(1.5 + 0.4 * np.tanh({e}))",
}
UNARY = sorted(n for n, op in rules.OPS.items() if op.kind == "elementwise" and op.spec and op.spec.sympy
               and len(op.args) == 1 and n.startswith(("np.", "math.")) and op.spec.domain[0] in INTO)
BINARY = sorted(n for n, op in rules.OPS.items() if op.kind == "elementwise" and op.spec and op.spec.sympy
                and len(op.args) == 2 and n.startswith("np.") and all(d in INTO for d in op.spec.domain))
HELPERS = '''
def _scale(p, q):
    return np.sin(p) * q + p * 0.5


def _pair(p, q):
    return p * q, p - q


_M = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4], [-0.6, 0.2, 0.9]])
'''
PREAMBLE = "import math\nimport numpy as np\n" + HELPERS
_NAMES = itertools.count()


class Program:
    """A program being drawn: its lines and the variables it has, scalar or array."""

    def __init__(self, draw):
        self.draw, self.lines, self.names = draw, [], {"x": "s", "v": "a"}

    def fresh(self, kind: str) -> str:
        name = f"t{len(self.names)}"
        self.names[name] = kind
        return name

    def pick(self, kind: str | None = None) -> str:
        options = sorted(n for n, k in self.names.items() if kind is None or k == kind)
        return self.draw(st.sampled_from(options))

    def into(self, domain: str, e: str) -> str:
        return INTO[domain].format(e=e)

    def call(self, name: str, args: list) -> str:
        op = rules.OPS[name]
        inner = ", ".join(self.into(d, a) for d, a in zip(op.spec.domain, args))
        return f"{name}({inner})"

    def expression(self, kind: str) -> str:
        """An expression of this kind ("s" or "a") over the variables."""
        choice = self.draw(st.integers(0, 6))
        if choice == 0:
            name = self.draw(st.sampled_from(UNARY if kind == "s" else [u for u in UNARY if u.startswith("np.")]))
            return self.call(name, [self.pick(kind)])
        if choice == 1:
            name = self.draw(st.sampled_from(BINARY))
            return self.call(name, [self.pick(kind if kind == "s" else None), self.pick(kind)])
        if choice == 2:
            left, right = self.pick(kind if kind == "s" else None), self.pick(kind)
            operator = self.draw(st.sampled_from(["+", "-", "*", "/"]))
            return f"{left} / (1.0 + {right} ** 2)" if operator == "/" else f"{left} {operator} {right}"
        if choice == 3 and kind == "s":
            reduction = self.draw(st.sampled_from(["np.sum", "np.mean", "np.prod"]))
            return f"{reduction}({self.pick('a')})"
        if choice == 3:
            return f"np.cumsum({self.pick('a')})"
        if choice == 4 and kind == "s":
            return f"{self.pick('a')}[{self.draw(st.sampled_from(['0', '1', '-1']))}]"
        if choice == 4:
            where = self.draw(st.sampled_from(["[0, 0, 2]", "[2, 1, 0]", "[1, 1, 1]"]))
            return f"{self.pick('a')}[{where}]"
        if choice == 5 and kind == "a":
            return f"_M @ {self.pick('a')}"
        return f"_scale({self.pick(kind if kind == 's' else None)}, {self.pick(kind)})"

    def statement(self) -> None:
        shape = self.draw(st.sampled_from(["assign", "assign", "branch", "loop", "while", "setitem", "fancy",
                                           "augment", "pair"]))
        kind = self.draw(st.sampled_from(["s", "a"]))
        if shape == "assign":
            target = self.expression(kind)
            self.lines.append(f"{self.fresh(kind)} = {target}")
        elif shape == "branch":
            test = self.pick("s")
            threshold = self.draw(st.sampled_from(["0.0137", "0.5137", "-0.3137"]))
            body, orelse = self.expression(kind), self.expression(kind)
            name = self.fresh(kind)
            self.lines += [f"if {test} > {threshold}:", f"    {name} = {body}", "else:", f"    {name} = {orelse}"]
        elif shape == "loop":
            turns = self.draw(st.integers(1, 4))
            start = self.pick(kind)
            name = self.fresh(kind)
            step = self.expression(kind)
            self.lines += [f"{name} = {start} * 1.0", f"for i in range({turns}):",
                           f"    {name} = np.tanh({name} * 0.5 + {step} * 0.25)"]
        elif shape == "while":
            turns, start = self.draw(st.integers(1, 4)), self.pick(kind)
            name = self.fresh(kind)
            self.lines += [f"{name} = {start} * 1.0", "n = 0", f"while n < {turns}:",
                           f"    {name} = np.tanh({name} * 0.5 + {self.expression(kind)} * 0.25)", "    n += 1"]
        elif shape == "fancy":
            value_kind = self.draw(st.sampled_from(["s", "a"]))
            array, value = self.pick("a"), self.expression(value_kind)
            where = "[0, 0, 2]" if value_kind == "a" else self.draw(st.sampled_from(["[1, 1]", "[0, 2, 0]"]))
            name = self.fresh("a")
            self.lines += [f"{name} = {array} * 1.0", f"{name}[{where}] = {value}"]
        elif shape == "augment":
            start = self.pick(kind)                 # a value of its own: `+=` on a view is refused
            name = self.fresh(kind)
            self.lines += [f"{name} = {start} * 1.0", f"{name} += {self.expression(kind)}"]
        elif shape == "setitem":
            array, value = self.pick("a"), self.expression("s")
            where = self.draw(st.sampled_from(["0", "1", "-1", "0:2", "1:"]))
            name = self.fresh("a")
            self.lines += [f"{name} = {array} * 1.0", f"{name}[{where}] = {value}"]
        else:
            left, right = self.pick(kind), self.pick(kind)
            first, second = self.fresh(kind), self.fresh(kind)
            self.lines.append(f"{first}, {second} = _pair({left}, {right})")

    def source(self) -> str:
        arrays = [n for n, k in self.names.items() if k == "a"]
        scalars = [n for n, k in self.names.items() if k == "s"]
        out = " + ".join([f"np.sum(np.tanh({a}))" for a in arrays[-2:]] + [f"np.tanh({s})" for s in scalars[-2:]])
        body = "".join(f"    {line}\n" for line in self.lines)
        return f"def program{next(_NAMES)}(x, v):\n{body}    return {out}\n"


@st.composite
def programs(draw, most: int = 5):
    program = Program(draw)
    for _ in range(draw(st.integers(1, most))):
        program.statement()
    return program.source()


POINTS = st.tuples(st.floats(-1.5, 1.5), st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
FOUND = {"programs": 0, "overflowed": 0, "verified": 0}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    yield tmp_path_factory.mktemp("fuzz")
    print(f"\nfuzz: {FOUND['programs']} programs checked, {FOUND['verified']} of them verified by the "
          f"referee; {FOUND['overflowed']} overflowed and were left out")


def _assert_close_to_differences(got, fn, args, i, message):
    """`got` agrees with central differences of step 1e-6, or, where the derivative is so
    large that such a step leaves the linear range (21.99 ** 4 through four turns of a loop
    with np.rad2deg), with those of step 1e-8."""
    try:
        np.testing.assert_allclose(got, numeric_vjp(fn, args, i, 1.0), rtol=1e-4, atol=1e-5, err_msg=message)
    except AssertionError:
        if np.max(np.abs(got)) < 1e3:
            raise
        np.testing.assert_allclose(got, numeric_vjp(fn, args, i, 1.0, eps=1e-8), rtol=1e-4, atol=1e-5,
                                   err_msg=message)


@fuzz(45)
@given(source=programs(), point=POINTS)
@example(source="def program1285(x, v):\n    t2 = v * 1.0\n    for i in range(4):\n        t2 = np.tanh(t2 * 0.5 + "
                "np.rad2deg(np.tanh(t2) * 1.5) * 0.25)\n    return np.sum(np.tanh(v)) + np.sum(np.tanh(t2)) + "
                "np.tanh(x)\n", point=(0.0, [0.0, 0.0, 0.0]))
def test_random_programs_have_right_gradients(folder, source, point):
    fn = make_function(folder, source, name=source[4:source.index("(")], preamble=PREAMBLE)
    x, v = point[0], np.array(point[1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            value = fn(x, v)
        except FloatingPointError:
            FOUND["overflowed"] += 1
            return                                  # a program that overflows says nothing
    FOUND["programs"] += 1
    assert np.ndim(value) == 0
    dx, dv = s2sgrad.grad(fn, wrt=(0, 1))(x, v)
    for i, got in ((0, dx), (1, dv)):
        _assert_close_to_differences(got, fn, (x, v), i, f"d{'xv'[i]} of\n{source}")
    report = s2sgrad.verify(fn, x, v, budget=None, work=200_000)      # counted, not seconds
    assert not any(verdict.verified is False for verdict in report.verdicts), f"{source}\n{report}"
    assert report or all("time budget" in v.detail for v in report.verdicts), f"{source}\n{report}"
    FOUND["verified"] += bool(report)


@fuzz(50)
@given(source=programs(), point=POINTS)
def test_random_programs_have_right_second_derivatives(folder, source, point):
    """hvp (forward over reverse), vjp of the gradient (reverse over reverse, or by
    symmetry) and the Hessian agree with differences of the gradient; the cotangent the
    caller passes is left as it was."""
    fn = make_function(folder, source, name=source[4:source.index("(")], preamble=PREAMBLE)
    x, v = point[0], np.array(point[1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            fn(x, v)
        except FloatingPointError:
            return
    u = np.array([0.3, -0.5, 0.8])
    along = s2sgrad.hvp(fn, 1)(x, v, u)
    _, pullback = s2sgrad.vjp(s2sgrad.grad(fn, 1), x, v, wrt=(0, 1))
    px, pv = pullback(u)
    np.testing.assert_array_equal(u, [0.3, -0.5, 0.8])
    g, eps = s2sgrad.grad(fn, (0, 1)), 1e-5
    up, down = g(x, v + eps * u), g(x, v - eps * u)
    np.testing.assert_allclose(along, (up[1] - down[1]) / (2 * eps), rtol=1e-4, atol=1e-5, err_msg=source)
    np.testing.assert_allclose(px, (up[0] - down[0]) / (2 * eps), rtol=1e-4, atol=1e-5, err_msg=source)
    np.testing.assert_allclose(pv, along, rtol=1e-7, atol=1e-9, err_msg=source)
    np.testing.assert_allclose(s2sgrad.hessian(fn, 1)(x, v) @ u, along, rtol=1e-7, atol=1e-9, err_msg=source)


SHADOWED = ["reversed", "len", "zip", "type", "float", "isinstance", "list", "tuple", "sum", "abs", "min", "max",
            "enumerate", "iter", "next", "getattr", "slice", "int", "print"]
DECORATORS = {
    "none": "",
    "doubled": "def _decorate(fn):\n    @functools.wraps(fn)\n    def wrapper(*args):\n"
               "        return 2.0 * fn(*args)\n    return wrapper\n",
    "shifted": "def _decorate(fn):\n    @functools.wraps(fn)\n    def wrapper(x, v):\n"
               "        return fn(x + 0.25, v * 0.5)\n    return wrapper\n",
    "plain": "def _decorate(fn):\n    def wrapper(x, v):\n        return fn(x, v) - x\n    return wrapper\n",
}
REDEFINED = "def _scale(p, q):\n    return np.cos(p) * q - p * 0.25\n"


@st.composite
def hostile_scopes(draw):
    """A random program in a scope a user might have: builtins shadowed by module
    functions that must never be called, a parameter named like a builtin, a decorator
    (functools.wraps or not), and its helper redefined after the first gradient."""
    source = draw(programs(most=3))           # (short: SymPy's diff of deep nests is slow)
    shadowed = draw(st.lists(st.sampled_from(SHADOWED), max_size=5, unique=True))
    parameter = draw(st.sampled_from(["v", "type", "reversed", "len", "float", "slice"]))
    decorator = draw(st.sampled_from(sorted(DECORATORS)))
    redefine = draw(st.booleans())
    name = source[4:source.index("(")]
    source = re.sub(r"\bv\b", parameter, source)
    if decorator != "none":
        source = "@_decorate\n" + source
    traps = "".join(f"def {s}(*args, **kwargs):\n    raise AssertionError('the user\\'s {s} was called')\n\n\n"
                    for s in shadowed)
    preamble = "import functools\n" + PREAMBLE + "\n\n" + DECORATORS[decorator] + "\n\n" + traps
    return name, source, preamble, redefine


@fuzz(40)
@given(scope=hostile_scopes(), point=POINTS)
def test_random_programs_in_a_hostile_scope_have_right_gradients(folder, scope, point):
    """What runs is what is differentiated: the decorator with the function, the helper
    as it is now defined; the generated code reaches no user name in place of a builtin;
    and the referee does not certify a wrong gradient."""
    name, source, preamble, redefine = scope
    fn = make_function(folder, source, name=name, preamble=preamble)
    x, v = point[0], np.array(point[1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            fn(x, v)
        except FloatingPointError:
            return
    gradient = s2sgrad.grad(fn, wrt=(0, 1))
    gradient(x, v)
    if redefine:                                    # a notebook cell re-run
        fn.__globals__["_scale"] = make_function(folder, REDEFINED, name="_scale")
    for i, got in enumerate(gradient(x, v)):
        want = numeric_vjp(fn, (x, v), i, 1.0)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"d{'xv'[i]} of\n{preamble}{source}")
    report = s2sgrad.verify(fn, x, v, budget=None, work=200_000)
    assert not any(verdict.verified is False for verdict in report.verdicts), f"{source}\n{report}"
