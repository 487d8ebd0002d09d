"""The SymPy referee: `verify(fn, *args, wrt=...)` checks the generated derivative.

The IR interpreter runs twice on SymPy symbols in place of the differentiated
arguments (arrays become arrays of symbols, symbolic.py): once the user's
function, lowered to IR, to get the output as an expression; once the IR of the
derivative code the user's call runs (specialized to the arguments' shapes when
s2sgrad specializes it), to get each gradient entry as an expression. SymPy's
derivative of the first must equal the second: proven symbolically where
`simplify` decides, else by exact evaluation at rational points near the
arguments (chain.py, which also takes loops too long to write out). Branches
and loop counts follow the arguments given (the verdict speaks of that path,
which the report lists). A wrong derivative comes with a counterexample and the
blame (blame.py). An op SymPy cannot run gives an honest "not verified", with a
finite-difference check, labelled as such. A time budget bounds it all.
"""
from __future__ import annotations

import inspect
import signal
import threading
import time
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy
from sympy.core.parameters import evaluate

from . import calls, chain, frontend, interpret, ir, lower, rulecheck, rules
from .api import _resolve_wrt, compile_derivative
from .chain import AGREE, DIGITS, agrees, rational
from .symbolic import Machine, Unverifiable, entries, symbols_like, user_globals

SMALL = 64                         # arrays up to this many entries become arrays of symbols
SIMPLIFY_OPS = 300                 # larger expressions go straight to exact evaluation
DIFF_LIMIT = 3000                  # the written-out size sympy.diff is asked to differentiate
POINTS = 4                         # rational points of the exact evaluation
SIMPLIFY_SHARE = 0.3               # of the time left, what `simplify` may use to prove entries


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
    blame: object = None           # for a wrong derivative: a blame.Blame

    def __bool__(self) -> bool:
        return bool(self.verdicts) and all(v.verified for v in self.verdicts)

    def __str__(self) -> str:
        head = "verified" if self else "NOT verified"
        lines = [f"SymPy referee, {self.function}: {head}"]
        for v in self.verdicts:
            state = "verified" if v.verified else "not verified" if v.verified is None else "WRONG"
            lines.append(f"  d{v.name}: {state} ({v.method}){': ' + v.detail if v.detail else ''}")
        if self.path:
            lines.append("  path: " + "; ".join(self.path))
        if self.blame is not None:
            lines.append(str(self.blame))
        lines.append(f"  time: {self.seconds:.2f} s")
        return "\n".join(lines)


@dataclass
class Problem:
    """What the referee works on: the function, its arguments, the symbols standing for
    the differentiated ones and the point they take."""
    fn: object
    args: tuple
    names: tuple                   # the differentiated parameters
    positions: tuple
    symbols: dict                  # parameter -> a Symbol or an object array of them
    point: dict                    # Symbol -> Rational
    deadline: float

    def symbolic_args(self) -> list:
        params = list(inspect.signature(self.fn).parameters)
        return [self.symbols.get(p, a) for p, a in zip(params, self.args)]

    def flat_symbols(self) -> list:
        return [s for p in self.names for s in np.ravel(self.symbols[p])]

    def points(self) -> list:
        """The point, and rational points near it."""
        rng = np.random.default_rng(0)
        return [self.point] + [{s: v + sympy.Rational(int(rng.integers(-64, 65)), 4096)
                                for s, v in self.point.items()} for _ in range(POINTS - 1)]

    def run(self, function, machine):
        """`function`'s IR run on the symbols, SymPy building expressions as written
        (its automatic evaluation flattens products into sums and asks assumptions of
        whole subtrees: in a loop, that grows with every turn)."""
        with evaluate(False):
            return interpret.run(function, *self.symbolic_args(), free=user_globals(self.fn), machine=machine)


def verify(fn, *args, wrt=None, budget: float = 10.0, blame: bool = True) -> Report:
    """Check the gradient s2sgrad generates for `fn` at `args` against SymPy's (within
    `budget` seconds: past it, the verdict is finite differences, labelled as such).
    A wrong gradient is blamed on a rule or a pass unless `blame` is False."""
    start = time.perf_counter()
    bound = inspect.signature(fn).bind(*args)
    bound.apply_defaults()
    args = tuple(bound.arguments.values())
    params = list(inspect.signature(fn).parameters)
    wrt = tuple(range(len(params))) if wrt is None else wrt if isinstance(wrt, tuple) else (wrt,)
    names, positions, _ = _resolve_wrt(fn, frontend.parse(fn), wrt)
    symbols = {p: _symbols(p, args[i]) for p, i in zip(names, positions)}
    point = {s: rational(v) for p, i in zip(names, positions)
             for s, v in zip(np.ravel(symbols[p]), np.ravel(args[i]))}
    problem = Problem(fn, args, names, positions, symbols, point, start + budget)
    machine = Machine(point, problem.deadline)
    machine.trace = []
    try:
        with _interrupted_at(problem.deadline):
            out = problem.run(lower.lower(frontend.parse(fn)), machine)
            machine.recording = False
            trace, machine.trace = machine.trace, None
            if np.ndim(out) != 0:
                raise ValueError("verify checks gradients of functions with a scalar output")
            out = sympy.sympify(np.asarray(out, dtype=object).item())
            _, grads = problem.run(_generated(fn, wrt, args).ir, machine)
            verdicts = _compare(problem, out, grads)
    except (Unverifiable, chain.Unsupported) as why:
        return _by_finite_differences(problem, str(why), start)
    except RecursionError:
        return _by_finite_differences(problem, "an expression too deep for SymPy", start)
    report = Report(f"gradient of {fn.__name__}", verdicts, machine.path, 0.0)
    if blame and not report and any(v.verified is False for v in verdicts):
        from . import blame as blaming
        problem.deadline = time.perf_counter() + budget          # the blame's own time
        try:
            with _interrupted_at(problem.deadline):
                report.blame = blaming.find(problem, out, trace)
        except Unverifiable as why:
            report.blame = blaming.Blame("", f"undecided: {why}")
    report.seconds = time.perf_counter() - start
    return report


def verify_rule(obj, *args, budget: float = 10.0, **statics) -> Report:
    """Check the rule s2sgrad has for `obj` (a function a user's `@s2sgrad.adjoint` or
    `@s2sgrad.partials` registered, or a NumPy function) at `args`, with static
    keywords `statics`: its vector-Jacobian product against SymPy's derivative of the
    function's counterpart (the rule's `sympy=`, or the function's own source)."""
    start = time.perf_counter()
    op = rules.lookup(obj) or rules.OPS.get(obj if isinstance(obj, str) else None)
    if op is None or op.kind not in ("elementwise", "adjoint"):
        raise ValueError(f"s2sgrad has no derivative rule for {obj!r}")
    names = op.args[:len(args)]
    symbols = [_symbols(n, a) for n, a in zip(names, args)]
    point = {s: rational(v) for syms, a in zip(symbols, args) for s, v in zip(np.ravel(syms), np.ravel(a))}
    stmt = ir.Assign("ans", op.name, tuple(ir.Var(n) for n in names), tuple(sorted(statics.items())))
    title = f"the rule for {rules.OPERATORS.get(op.name, op.name)} ({rulecheck.rule_name(op)})"
    try:
        with _interrupted_at(start + budget):
            found = rulecheck.check(stmt, symbols, point, start + budget)
    except (Unverifiable, chain.Unsupported) as why:
        return Report(title, [Verdict(n, None, "not verified", str(why)) for n in names], [],
                      time.perf_counter() - start)
    how = f"exact: the op alone on symbols, against SymPy's derivative, in {DIGITS}-digit arithmetic"
    verdicts = [Verdict(n, d is None, how, d or "") for n, d in found]
    return Report(title, verdicts, [], time.perf_counter() - start)


def _generated(fn, wrt, args):
    """The derivative code a call with `args` runs: specialized to their shapes when
    s2sgrad specializes it."""
    general = compile_derivative(fn, wrt, "grad")
    if not calls._depends_on_shapes(general.ir):
        return general
    return compile_derivative(fn, wrt, "grad", calls.shape_key(args))


class _SliceOver(Exception):
    """One `simplify` used up its share of the budget."""


def _interrupted_at(deadline: float, raising=None):
    """Interrupt SymPy when the budget runs out, even inside one long `simplify`, by
    raising Unverifiable (or `raising`); by a timer signal, in the main thread (elsewhere
    the checks between steps do). Nested timers give the outer one back its time."""
    return _Timer(deadline, raising or Unverifiable("the time budget ran out while SymPy worked"))


class _Expired(BaseException):
    """A timer's alarm: a BaseException, so no `except Exception` inside SymPy eats it."""


class _Timer:
    def __init__(self, deadline, error):
        self.deadline, self.error, self.armed = deadline, error, False
        self.usable = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def __enter__(self):
        if self.usable:
            def expired(*_):
                if self.armed:
                    raise _Expired(self)
            self.outer = signal.signal(signal.SIGALRM, expired)
            left = max(self.deadline - time.perf_counter(), 0.001)
            self.outer_left = signal.setitimer(signal.ITIMER_REAL, left, 0.05)[0]   # again until caught
            self.entered, self.armed = time.perf_counter(), True
        return self

    def __exit__(self, kind, error, _):
        if self.usable:
            self.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.outer)
            if self.outer_left:
                left = self.outer_left - (time.perf_counter() - self.entered)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), 0.05)
        if isinstance(error, _Expired) and error.args[0] is self:
            raise self.error from None
        return False


def _symbols(name, value):
    if np.size(value) > SMALL:
        raise ValueError(f"`{name}` has {np.size(value)} entries; verify makes symbols of at most {SMALL}")
    return symbols_like(name, np.shape(value))


def _compare(problem, out, grads) -> list:
    """One verdict per differentiated parameter: each gradient entry against SymPy's
    derivative of the output, by `simplify` where it is small, else exactly at points."""
    got = [entries(grad) for grad in grads]
    symbols = [list(np.ravel(problem.symbols[p])) for p in problem.names]
    if [len(g) for g in got] != [len(s) for s in symbols]:
        return [Verdict(p, False, "shapes", f"{len(g)} entries for {len(s)}")
                for p, g, s in zip(problem.names, got, symbols)]
    wrong = _disagreements(problem, out, [pair for syms, gs in zip(symbols, got) for pair in zip(syms, gs)])
    small = _tree_size(out) <= DIFF_LIMIT
    share = time.perf_counter() + SIMPLIFY_SHARE * max(problem.deadline - time.perf_counter(), 0)
    undecided = [[(s, g) for s, g in zip(syms, gs) if wrong or not (small and _simplifies(out, s, g, share))]
                 for syms, gs in zip(symbols, got)]
    verdicts = []
    for name, syms, pairs in zip(problem.names, symbols, undecided):
        count = f"{len(syms)} {'entry' if len(syms) == 1 else 'entries'}"
        counterexample = next((wrong[s] for s in syms if s in wrong), None)
        if counterexample is not None:
            verdicts.append(Verdict(name, False, f"evaluation in {DIGITS}-digit arithmetic", counterexample))
        elif not pairs:
            verdicts.append(Verdict(name, True, f"symbolic: simplify(diff(f) - generated) == 0, {count}"))
        else:
            how = f"{len(syms) - len(pairs)} of {count} symbolically" if small else \
                "SymPy's derivative of each distinct subexpression chained: too large to write out"
            verdicts.append(Verdict(name, True, f"exact: agreement to {AGREE} digits at {POINTS} rational "
                                                f"points in {DIGITS}-digit arithmetic, the code's float "
                                                f"constants being doubles ({how})"))
    return verdicts


def _simplifies(out, symbol, generated, until: float) -> bool:
    """Whether SymPy proves the entry right by `simplify`, before `until` (past it,
    the entry rests on the exact evaluation, already done)."""
    if time.perf_counter() >= until:
        return False
    try:
        with _interrupted_at(until, _SliceOver()):
            want = sympy.diff(out, symbol)
            return _tree_size(want) + _tree_size(generated) <= SIMPLIFY_OPS and sympy.simplify(want - generated) == 0
    except (RecursionError, _SliceOver):        # deeply nested (a loop), or slow: left to evaluation
        return False


def _disagreements(problem, out, pairs) -> dict:
    """symbol -> a counterexample, for each entry whose generated value differs from
    SymPy's derivative at one of the points (empty when all agree)."""
    if not pairs:
        return {}
    wrong = {}
    with mpmath.workdps(DIGITS):
        for point in problem.points():
            if time.perf_counter() > problem.deadline:
                raise Unverifiable("the time budget ran out while SymPy compared")
            at = chain.Evaluator(point)
            wanted = at.gradient(out, [s for s, _ in pairs])
            for (s, g), want in zip(pairs, wanted):
                have = at.value(g)
                if s not in wrong and not agrees(want, have):
                    where = ", ".join(f"{k}={float(v):.6g}" for k, v in list(point.items())[:6])
                    wrong[s] = (f"d/d{s} at {where}: SymPy says {float(want):.10g}, "
                                f"the generated code {float(have):.10g}")
    return wrong


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


def _by_finite_differences(problem, why, start) -> Report:
    """Not verifiable: say why, and what central finite differences say (not a proof)."""
    from .api import grad
    fn, args = problem.fn, problem.args
    grads = grad(fn, wrt=tuple(problem.positions))(*args)
    verdicts = []
    for name, i, g in zip(problem.names, problem.positions, grads):
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
    return Report(f"gradient of {fn.__name__}", verdicts, [], time.perf_counter() - start)
