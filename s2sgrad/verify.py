"""The SymPy referee: `verify(fn, *args, wrt=...)` checks the generated derivative.

The IR interpreter runs twice on SymPy symbols in place of the differentiated
arguments (arrays become arrays of symbols): once the user's function, lowered
to IR, to get the output as an expression; once the generated derivative code's
own IR, to get each gradient entry as an expression. `sympy.diff` of the first
must equal the second: proven symbolically where `simplify` decides, else by
exact evaluation at rational points near the arguments. Branches and loop
counts follow the arguments given (the verdict speaks of that path, which the
report lists). An op SymPy cannot run gives an honest "not verified", with a
finite-difference check, labelled as such.
"""
from __future__ import annotations

import fractions
import inspect
import time
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy

from . import frontend, interpret, ir, lower, rules
from .api import _resolve_wrt, compile_derivative

SMALL = 64                         # arrays up to this many entries become arrays of symbols
SIMPLIFY_OPS = 300                 # larger expressions go straight to exact evaluation
MAX_OPS = 3000                     # larger outputs are beyond the referee (long loops)
MAX_STEPS = 2000                   # symbolic operations per verification
DIGITS = 50                        # working precision of the evaluation at rational points
AGREE = 12                         # digits of agreement asked (float constants are doubles)
DIFF_LIMIT = 3000                  # the written-out size sympy.diff is asked to differentiate


class Unverifiable(Exception):
    """The referee cannot follow this code symbolically (the message says why)."""


@dataclass
class Verdict:
    name: str                      # the differentiated parameter
    verified: bool | None          # None: could not be decided symbolically
    method: str                    # how it was decided
    detail: str = ""               # a counterexample, or the reason it was not verified


@dataclass
class Report:
    function: str
    verdicts: list
    path: list = field(default_factory=list)
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.verdicts) and all(v.verified for v in self.verdicts)

    def __str__(self) -> str:
        head = "verified" if self else "NOT verified"
        lines = [f"SymPy referee, gradient of {self.function}: {head}"]
        for v in self.verdicts:
            state = "verified" if v.verified else "not verified" if v.verified is None else "WRONG"
            lines.append(f"  d{v.name}: {state} ({v.method}){': ' + v.detail if v.detail else ''}")
        if self.path:
            lines.append("  path: " + "; ".join(self.path))
        lines.append(f"  time: {self.seconds:.2f} s")
        return "\n".join(lines)


def verify(fn, *args, wrt=None, budget: float = 10.0) -> Report:
    """Check the gradient s2sgrad generates for `fn` at `args` against SymPy's (within
    `budget` seconds: past it, the verdict is finite differences, labelled as such)."""
    start = time.perf_counter()
    fn = inspect.unwrap(fn)
    bound = inspect.signature(fn).bind(*args)
    bound.apply_defaults()
    args = tuple(bound.arguments.values())
    params = list(inspect.signature(fn).parameters)
    wrt = tuple(range(len(params))) if wrt is None else wrt if isinstance(wrt, tuple) else (wrt,)
    names, positions, _ = _resolve_wrt(fn, frontend.parse(fn), wrt)
    symbols = {p: _symbols(p, args[i]) for p, i in zip(names, positions)}
    point = {s: _rational(v) for p, i in zip(names, positions)
             for s, v in zip(np.ravel(symbols[p]), np.ravel(args[i]))}
    machine = _Machine(point, start + budget)
    symbolic = [symbols.get(p, a) for p, a in zip(params, args)]
    try:
        primal = lower.lower(frontend.parse(fn))
        out = interpret.run(primal, *symbolic, free=_globals(fn), machine=machine)
        machine.recording = False
        generated = compile_derivative(fn, wrt, "grad")
        _, grads = interpret.run(generated.ir, *symbolic, free=_globals(fn), machine=machine)
    except Unverifiable as why:
        return _by_finite_differences(fn, args, names, positions, str(why), start)
    except RecursionError:
        return _by_finite_differences(fn, args, names, positions, "an expression too deep for SymPy", start)
    if np.ndim(out) != 0:
        raise ValueError("verify checks gradients of functions with a scalar output")
    out = sympy.sympify(np.asarray(out, dtype=object).item())
    if _size(out) > MAX_OPS:
        return _by_finite_differences(fn, args, names, positions, "the output's expression is too large "
                                      f"for SymPy (over {MAX_OPS} distinct subexpressions)", start)
    try:
        verdicts = [_compare(p, out, symbols[p], g, point, start + budget) for p, g in zip(names, grads)]
    except Unverifiable as why:
        return _by_finite_differences(fn, args, names, positions, str(why), start)
    return Report(fn.__name__, verdicts, machine.path, time.perf_counter() - start)


def _symbols(name, value):
    if np.ndim(value) == 0:
        return sympy.Symbol(name, real=True)
    if np.size(value) > SMALL:
        raise ValueError(f"`{name}` has {np.size(value)} entries; verify makes symbols of at most {SMALL}")
    flat = [sympy.Symbol(f"{name}_{'_'.join(map(str, i))}", real=True) for i in np.ndindex(np.shape(value))]
    return np.array(flat, dtype=object).reshape(np.shape(value))


def _rational(value):
    return sympy.Rational(fractions.Fraction(float(value)))


def _globals(fn) -> dict:
    source = frontend.parse(fn)
    return dict(fn.__globals__) | source.closure


def _compare(name, out, symbols, gradient, point, deadline) -> Verdict:
    """One parameter's verdict: each gradient entry against sympy.diff of the output."""
    got = [sympy.sympify(g) for g in np.ravel(np.asarray(gradient, dtype=object))]
    if _tree_size(out) > DIFF_LIMIT:            # sympy.diff of a long loop's output explodes
        raise Unverifiable(f"the output's expression is too large for sympy.diff (a long loop: "
                           f"{_tree_size(out)} nodes written out)")
    wanted = [sympy.diff(out, s) for s in np.ravel(symbols)]
    if len(got) != len(wanted):
        return Verdict(name, False, "shapes", f"{len(got)} entries for {len(wanted)}")
    undecided = []
    for w, g in zip(wanted, got):
        if time.perf_counter() > deadline:
            raise Unverifiable("the time budget ran out while SymPy compared")
        if _tree_size(w) + _tree_size(g) > SIMPLIFY_OPS or sympy.simplify(w - g) != 0:
            undecided.append((w, g))
    if not undecided:
        count = f"{len(wanted)} {'entry' if len(wanted) == 1 else 'entries'}"
        return Verdict(name, True, f"symbolic: simplify(diff(f) - generated) == 0, {count}")
    rng = np.random.default_rng(0)
    names = list(point)
    points = [point] + [{s: v + sympy.Rational(int(rng.integers(-64, 65)), 4096) for s, v in point.items()}
                        for _ in range(3)]
    with mpmath.workdps(DIGITS):
        for w, g in undecided:
            if time.perf_counter() > deadline:
                raise Unverifiable("the time budget ran out while SymPy compared")
            both = sympy.lambdify(names, [w, g], modules="mpmath", cse=True)
            for p in points:
                want, have = both(*(mpmath.mpf(v.p) / v.q for v in p.values()))
                if abs(want - have) > mpmath.mpf(10) ** -AGREE * max(1, abs(want)):
                    at = ", ".join(f"{s}={float(v):.6g}" for s, v in list(p.items())[:6])
                    return Verdict(name, False, f"evaluation in {DIGITS}-digit arithmetic",
                                   f"at {at}: SymPy says {float(want):.10g}, the generated code {float(have):.10g}")
    return Verdict(name, True, f"exact: agreement to {AGREE} digits at {len(points)} rational points in "
                               f"{DIGITS}-digit arithmetic, the code's float constants being doubles "
                               f"({len(wanted) - len(undecided)} of {len(wanted)} entries symbolically)")


def _tree_size(expr) -> int:
    """How large `expr` is written out (shared subexpressions counted each time they
    occur): what sympy.diff and simplify walk. Computed over the shared form."""
    sizes: dict = {}
    todo = [(expr, False)]
    while todo:                                  # children first, each node once
        node, ready = todo.pop()
        if node in sizes:
            continue
        if ready:
            sizes[node] = 1 + sum(sizes[a] for a in node.args)
        else:
            todo.append((node, True))
            todo.extend((a, False) for a in node.args if a not in sizes)
    return sizes[expr]


def _size(expr, limit: int = 100000) -> int:
    """How many distinct subexpressions `expr` has (shared ones once: loops share a lot)."""
    seen, todo = set(), [expr]
    while todo and len(seen) < limit:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(node.args)
    return len(seen)


def _by_finite_differences(fn, args, names, positions, why, start) -> Report:
    """Not verifiable: say why, and what central finite differences say (not a proof)."""
    from .api import grad
    grads = grad(fn, wrt=tuple(positions))(*args)
    verdicts = []
    for name, i, g in zip(names, positions, grads):
        x = np.asarray(args[i], dtype=float)
        numeric = np.zeros(x.shape)
        for k in np.ndindex(x.shape):
            moved = [list(args), list(args)]
            for sign, a in zip((1, -1), moved):
                step = x.copy()
                step[k] += sign * 1e-6
                a[i] = step if np.ndim(args[i]) else float(step)
            numeric[k] = (fn(*moved[0]) - fn(*moved[1])) / 2e-6
        error = float(np.max(np.abs(numeric - g))) if numeric.size else 0.0
        verdicts.append(Verdict(name, None, "finite differences, not a proof",
                                f"{why}; central differences agree to {error:.1e}"))
    return Report(fn.__name__, verdicts, [], time.perf_counter() - start)


# -- evaluating the IR on symbols ----------------------------------------------------

class _Machine:
    """Evaluates ops on SymPy values for interpret.run; branches follow the point."""

    def __init__(self, point, deadline):
        self.point, self.path, self.recording, self.deadline = point, [], True, deadline
        self.lambdas, self.steps = {}, 0

    def concrete(self, value):
        """The value at the point (numbers stay numbers)."""
        if isinstance(value, np.ndarray) and value.dtype == object:
            return np.vectorize(lambda v: self.concrete(v), otypes=[object])(value).astype(float)
        if isinstance(value, sympy.Basic):
            found = value.subs(self.point)
            if found in (sympy.true, sympy.false):
                return bool(found)
            return float(found) if found.is_number else found
        return value

    def truth(self, value, stmt) -> bool:
        taken = bool(np.all(self.concrete(value)))
        if self.recording and isinstance(stmt, ir.If) and stmt.loc is not None:
            self.path.append(f"line {stmt.loc.line} took the {'if' if taken else 'else'} branch")
        return taken

    def number(self, value):
        value = self.concrete(value)
        return int(value) if not isinstance(value, (int, np.integer)) else value

    def turned(self, stmt, turns):
        if self.recording and stmt.loc is not None and not stmt.reverse:
            self.path.append(f"line {stmt.loc.line} loop turned {turns} times")

    def apply(self, stmt, args, plain):
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Unverifiable(f"more than {MAX_STEPS} symbolic operations (a long loop)")
        if self.steps % 50 == 0 and time.perf_counter() > self.deadline:
            raise Unverifiable("the time budget ran out while running on symbols")
        if not any(_symbolic(a) for a in args):
            return plain(stmt, args)                       # nothing symbolic: numbers
        op = rules.OPS.get(stmt.op)
        if stmt.op in ("gt", "ge", "lt", "le", "eq", "ne"):
            return self.concrete(plain(stmt, [self.concrete(a) for a in args]))
        if op is not None and op.kind == "nondiff":
            return plain(stmt, [self.concrete(a) for a in args])
        if stmt.op == "call":
            return self.call(args[0], args[1:])
        if op is not None and op.kind == "elementwise" and op.obj is not None and op.spec and op.spec.sympy:
            return self.elementwise(stmt, op, args)
        if stmt.op in PICKS:                            # a kink: the side the point is on
            return self.pick(stmt, args)
        if stmt.op == "np.asarray":                     # a conversion to floats: the value itself
            return _objects(np.asarray(args[0], dtype=object)) if np.ndim(args[0]) else args[0]
        if op is not None and op.kind == "elementwise" and op.spec is not None and not op.spec.sympy:
            raise Unverifiable(f"`{stmt.op}` has no SymPy counterpart ({op.spec.why})")
        if op is not None and op.kind == "adjoint" and op.spec and op.spec.sympy not in (None, "numpy"):
            raise Unverifiable(f"`{stmt.op}` is verified by the rule table, not followed symbolically here")
        if op is not None and op.kind == "adjoint" and op.spec and not op.spec.sympy:
            raise Unverifiable(f"`{stmt.op}` has no SymPy counterpart")
        if stmt.op == "unmax":                          # the ties, at the point
            g, x, ans = args[0], args[1], args[2]
            params = dict(stmt.params)
            axis, keepdims = params.get("axis"), params.get("keepdims", False)
            at = np.asarray(self.concrete(ans), dtype=float)
            if axis is not None and not keepdims:
                at, g = np.expand_dims(at, axis), np.expand_dims(np.asarray(g, dtype=object), axis)
            hits = np.asarray(self.concrete(x), dtype=float) == at
            return _objects(g * hits.astype(int) / np.sum(hits, axis=axis, keepdims=True))
        if stmt.op in ARITHMETIC:                       # a comparison's bools count as 0 and 1
            args = [_counted(a) for a in args]
        try:
            result = plain(stmt, [_objects(a) for a in args])
        except (TypeError, ValueError) as err:
            raise Unverifiable(f"`{stmt.op}` cannot run on symbols ({err})") from None
        return _objects(result)

    def pick(self, stmt, args):
        """max/min/clip and their kin at the point: the symbolic entry that wins there
        (the verdict, like every verdict here, is about that path)."""
        values = [self.concrete(a) for a in args]
        if stmt.op in ("np.max", "np.min"):
            params = dict(stmt.params)
            axis, keepdims = params.get("axis"), params.get("keepdims", False)
            x, c = np.asarray(args[0], dtype=object), np.asarray(values[0], dtype=float)
            choose = np.argmax if stmt.op == "np.max" else np.argmin
            if axis is None:
                picked = np.ravel(x)[choose(c)]
                return np.full((1,) * x.ndim, picked, dtype=object) if keepdims else picked
            index = np.expand_dims(choose(c, axis=axis), axis)
            picked = np.take_along_axis(x, index, axis)
            return picked if keepdims else np.squeeze(picked, axis)
        if stmt.op == "np.clip":
            x, lo, hi = (np.asarray(a, dtype=object) for a in args)
            cx, clo, chi = values
            return _item(np.where(np.asarray(cx) < clo, lo, np.where(np.asarray(cx) > chi, hi, x)))
        x, y = (np.asarray(a, dtype=object) for a in args)
        larger = np.asarray(values[0]) >= np.asarray(values[1])
        keep_x = larger if stmt.op in ("np.maximum", "max", "np.fmax") else ~larger
        return _item(np.where(keep_x, x, y))

    def elementwise(self, stmt, op, args):
        if op.name not in self.lambdas:
            xs = sympy.symbols("x y z")[:len(op.args)]
            expr = sympy.sympify(op.spec.sympy, locals=dict(zip("xyz", xs)))
            self.lambdas[op.name] = sympy.Lambda(xs, expr)
        f = self.lambdas[op.name]
        if any(isinstance(a, np.ndarray) for a in args):
            return np.vectorize(lambda *v: f(*v), otypes=[object])(*args)
        return f(*args)

    def call(self, callee, args):
        """A call: the callee's own IR (the user's function, or a generated vjp)."""
        if getattr(callee, "__s2sgrad_interpreted__", False):
            return callee(*args)                       # the IR calling itself: already on symbols
        gen = getattr(callee, "__s2sgrad_ir__", None)
        if gen is not None:
            return interpret.run(gen, *args, free=dict(getattr(callee, "__globals__", {})), machine=self)
        if inspect.isfunction(callee):
            recording, self.recording = self.recording, False
            try:
                return interpret.run(lower.lower(frontend.parse(callee)), *args,
                                     free=_globals(callee), machine=self)
            finally:
                self.recording = recording
        raise Unverifiable(f"a call to {callee!r}")


PICKS = {"np.maximum", "np.minimum", "max", "min", "np.fmax", "np.fmin", "np.clip", "np.max", "np.min"}


ARITHMETIC = {"add", "sub", "mul", "div", "pow", "neg", "iadd", "matmul"}


def _counted(value):
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, np.ndarray) and value.dtype == bool:
        return value.astype(int)
    return value


def _item(value):
    """A 0-d object array as the object it holds."""
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _symbolic(value) -> bool:
    if isinstance(value, sympy.Basic):
        return True
    if isinstance(value, np.ndarray) and value.dtype == object:
        return True
    if isinstance(value, (list, tuple)):
        return any(_symbolic(v) for v in value)
    return False


def _objects(value):
    """Float arrays as object arrays, so symbols can be written into them."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(object)
    return value
