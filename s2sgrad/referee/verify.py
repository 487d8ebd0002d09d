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
finite-difference check, labelled as such.

The IR is the compiler's reading of the code, so the referee also asks a witness
that does not share it (witness.py): the user's own function, run by Python on
copies of the arguments. Its value must equal the IR's, and central differences of
it must agree with the gradient the generated code returns on floats; a NaN or an
infinite gradient is reported as such, never as verified. A budget (symbolic.Budget:
work counted, and/or seconds) bounds it all, checked between steps: no signals, so
verify works in any thread.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy
from sympy.core.parameters import evaluate

from .. import frontend, ir, rules
from ..backend import calls
from ..frontend import lower
from ..ir import interpret
from . import chain, rulecheck, witness
from ..api import _resolve_wrt, compile_derivative
from .chain import AGREE, DIGITS, agrees, rational
from .symbolic import Budget, Machine, Unverifiable, entries, symbols_like, user_globals

SMALL = 64                         # arrays up to this many entries become arrays of symbols
SIMPLIFY_OPS = 300                 # larger expressions go straight to exact evaluation
SIMPLIFY_SMALL = 60                # what `expand` leaves nonzero goes to `simplify` up to this size
DIFF_LIMIT = 3000                  # the written-out size sympy.diff is asked to differentiate
POINTS = 4                         # rational points of the exact evaluation
SIMPLIFY_SHARE = 0.3               # of the budget left, what `simplify` may use to prove entries


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
            state = "NaN gradient" if v.method == NAN else state
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
    budget: Budget                 # or a perf_counter deadline

    def symbolic_args(self) -> list:
        """The arguments, symbols in place of the differentiated ones: fresh copies for
        each run (the code may write into its arguments, `x[1:] += x[:-1]`)."""
        params = list(inspect.signature(self.fn).parameters)
        return [np.copy(v) if isinstance(v, np.ndarray) else v
                for v in (self.symbols.get(p, a) for p, a in zip(params, self.args))]

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


NAN = "NaN or infinite entries"     # the method of a verdict on a NaN gradient
VALUE = "your function's own value, by Python"


def verify(fn, *args, wrt=None, budget: float | None = 10.0, work: int | None = None,
           blame: bool = True) -> Report:
    """Check the gradient s2sgrad generates for `fn` at `args` against SymPy's and against
    central differences of `fn` itself, within `budget` seconds and/or `work` units of
    counted work (deterministic; None: no bound); past it, the verdict is finite
    differences, labelled as such. A wrong gradient is blamed on a rule or a pass
    unless `blame` is False."""
    start = time.perf_counter()
    user = fn                                       # the witness: decorators and all, as it is called
    bound = inspect.signature(fn).bind(*args)
    bound.apply_defaults()
    args = tuple(bound.arguments.values())
    params = list(inspect.signature(fn).parameters)
    wrt = tuple(range(len(params))) if wrt is None else wrt if isinstance(wrt, tuple) else (wrt,)
    names, positions, _ = _resolve_wrt(fn, frontend.parse(fn), wrt)
    symbols = {p: _symbols(p, args[i]) for p, i in zip(names, positions)}
    spend = Budget(budget, work)
    problem = Problem(fn, args, names, positions, symbols, {}, spend)
    title = f"gradient of {fn.__name__}"
    if not all(np.all(np.isfinite(np.asarray(args[i], dtype=float))) for i in positions):
        return _not_verified(problem, user, "the arguments hold a NaN or an infinity, which SymPy "
                                            "cannot take as a point", start)
    problem.point = {s: rational(v) for p, i in zip(names, positions)
                     for s, v in zip(np.ravel(symbols[p]), np.ravel(args[i]))}
    machine = Machine(problem.point, spend)
    machine.trace = []
    try:
        lowered = lower.lower(frontend.parse(fn))
        out = problem.run(lowered, machine)
        machine.recording = False
        trace, machine.trace = machine.trace, None
        if np.ndim(out) != 0:
            raise ValueError("verify checks gradients of functions with a scalar output")
        out = sympy.sympify(np.asarray(out, dtype=object).item())
        different = witness.value_mismatch(user, args, _ir_value(problem, lowered, machine, out))
        undefined = witness.not_finite(user, args) if different is None else None
        if different is not None or undefined is not None:
            verdicts = [Verdict(p, None if undefined else False, VALUE, different or undefined) for p in names]
            return Report(title, verdicts, machine.path, time.perf_counter() - start)
        _, grads = problem.run(_generated(fn, wrt, args).ir, machine)
        verdicts = _witnessed(problem, user, _compare(problem, out, grads))
    except (Unverifiable, chain.Unsupported) as why:
        return _not_verified(problem, user, str(why), start)
    except RecursionError:
        return _not_verified(problem, user, "an expression too deep for SymPy", start)
    except ArithmeticError as err:
        return _not_verified(problem, user, f"SymPy's arithmetic failed at the point ({err!r})", start)
    report = Report(title, verdicts, machine.path, 0.0)
    if blame and any(v.verified is False and v.method.startswith("evaluation") for v in verdicts):
        from . import blame as blaming
        problem.budget = Budget(budget, work)                    # the blame's own budget
        try:
            report.blame = blaming.find(problem, out, trace)
        except (Unverifiable, chain.Unsupported) as why:
            report.blame = blaming.Blame("", f"undecided: {why}")
    report.seconds = time.perf_counter() - start
    return report


def verify_rule(obj, *args, budget: float | None = 10.0, work: int | None = None, **statics) -> Report:
    """Check the rule s2sgrad has for `obj` (a function a user's `@s2sgrad.adjoint` or
    `@s2sgrad.partials` registered, or a NumPy function) at `args`, with static
    keywords `statics`: its vector-Jacobian product against SymPy's derivative of the
    function's counterpart (the rule's `sympy=`, or the function's own source), within
    `budget` seconds and/or `work` units of counted work."""
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
        found = rulecheck.check(stmt, symbols, point, Budget(budget, work))
    except (Unverifiable, chain.Unsupported) as why:
        return Report(title, [Verdict(n, None, "not verified", str(why)) for n in names], [],
                      time.perf_counter() - start)
    how = f"exact: the op alone on symbols, against SymPy's derivative, in {DIGITS}-digit arithmetic"
    verdicts = [Verdict(n, d is None, how, d or "") for n, d in found]
    return Report(title, verdicts, [], time.perf_counter() - start)


def _ir_value(problem, lowered, machine, out):
    """What the compiler thinks the function computes at the point: its IR run on
    floats (copies of the arguments), else the symbolic output's value there."""
    try:
        with np.errstate(all="ignore"):
            value = interpret.run(lowered, *witness.copy.deepcopy(list(problem.args)), free=user_globals(problem.fn))
            return np.asarray(value).item()
    except Exception:                            # noqa: BLE001 - an op only the symbols take
        return machine.concrete(out)


def _generated(fn, wrt, args):
    """The derivative code a call with `args` runs: specialized to their shapes when
    s2sgrad specializes it."""
    general = compile_derivative(fn, wrt, "grad")
    if not calls._depends_on_shapes(general.ir):
        return general
    return compile_derivative(fn, wrt, "grad", calls.shape_key(args))


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
    wrong, nonfinite = _disagreements(problem, out, [pair for syms, gs in zip(symbols, got)
                                                     for pair in zip(syms, gs)])
    size = _tree_size(out)
    small = size <= DIFF_LIMIT
    share = problem.budget.share(SIMPLIFY_SHARE)
    undecided = [[(s, g) for s, g in zip(syms, gs) if wrong or not (small and _simplifies(out, size, s, g, share))]
                 for syms, gs in zip(symbols, got)]
    verdicts = []
    for name, syms, pairs in zip(problem.names, symbols, undecided):
        count = f"{len(syms)} {'entry' if len(syms) == 1 else 'entries'}"
        counterexample = next((wrong[s] for s in syms if s in wrong), None)
        both = [nonfinite[s] for s in syms if s in nonfinite]
        if counterexample is not None:
            verdicts.append(Verdict(name, False, f"evaluation in {DIGITS}-digit arithmetic", counterexample))
        elif both:
            verdicts.append(Verdict(name, None, NAN, "SymPy's derivative and the generated code are both "
                                                     "NaN or infinite: " + "; ".join(both[:3])))
        elif not pairs:
            verdicts.append(Verdict(name, True, f"symbolic: simplify(diff(f) - generated) == 0, {count}"))
        else:
            how = f"{len(syms) - len(pairs)} of {count} symbolically" if small else \
                "SymPy's derivative of each distinct subexpression chained: too large to write out"
            verdicts.append(Verdict(name, True, f"exact: agreement to {AGREE} digits at {POINTS} rational "
                                                f"points in {DIGITS}-digit arithmetic, the code's float "
                                                f"constants being doubles ({how})"))
    return verdicts


def _simplifies(out, size, symbol, generated, budget) -> bool:
    """Whether SymPy proves the entry right by `expand` (and `simplify`, when small)
    within `budget` (its share of the referee's; past it, the entry rests on the exact
    evaluation, already done). SymPy is not interrupted: `diff` is counted as the
    `size` of `out`, `simplify` is given at most SIMPLIFY_SMALL nodes."""
    if budget.exhausted():
        return False
    try:
        budget.spend(size, "differentiated")
        want = sympy.diff(out, symbol)
        size = _tree_size(want) + _tree_size(generated)
        if size > SIMPLIFY_OPS:
            return False
        budget.spend(size, "simplified")
        difference = sympy.expand(want - generated)
        return difference == 0 or (size <= SIMPLIFY_SMALL and sympy.simplify(difference) == 0)
    except (RecursionError, Unverifiable):      # deeply nested (a loop), or out of budget: left to evaluation
        return False


def _disagreements(problem, out, pairs) -> tuple:
    """symbol -> a counterexample, for each entry whose generated value differs from
    SymPy's derivative at one of the points; and symbol -> a note, for each entry where
    both are the same NaN or infinity (not a disagreement, not an agreement either)."""
    wrong, nonfinite = {}, {}
    if not pairs:
        return wrong, nonfinite
    with mpmath.workdps(DIGITS):
        for point in problem.points():
            at = chain.Evaluator(point)
            wanted = at.gradient(out, [s for s, _ in pairs])
            for (s, g), want in zip(pairs, wanted):
                have = at.value(g)
                if s in wrong or s in nonfinite or agrees(want, have):
                    continue
                where = ", ".join(f"{k}={float(v):.6g}" for k, v in list(point.items())[:6])
                said = f"d/d{s} at {where}: SymPy says {_shown(want)}, the generated code {_shown(have)}"
                same = witness.same(complex(want), complex(have), 0)
                (nonfinite if same else wrong)[s] = said
            problem.budget.spend(len(at.memo), "compared values at points")
    return wrong, nonfinite


def _shown(value) -> str:
    return witness.describe(complex(value))


def _witnessed(problem, user, verdicts) -> list:
    """The verdicts, checked against the gradient the generated code returns on floats:
    a NaN or infinite entry is a NaN gradient (both NaN when the user's function is NaN
    there too), a disagreement with central differences of the user's function is
    WRONG, a kink met is said."""
    from ..api import grad
    with np.errstate(all="ignore"):
        args, keywords = witness.arguments(user, witness.copy.deepcopy(list(problem.args)))
        numeric = grad(user, wrt=tuple(problem.positions))(*args, **keywords)
    numeric = numeric if isinstance(numeric, tuple) else (numeric,)
    out = []
    for verdict, i, g in zip(verdicts, problem.positions, numeric):
        out.append(_witness_one(verdict, witness.Differences(user, problem.args, i), g))
    return out


def _witness_one(verdict, differences, gradient):
    name = verdict.name
    bad = witness.nan_entries(gradient, name)
    if bad and verdict.method != NAN:
        both = not np.isfinite(differences.f0)
        detail = (f"the generated gradient holds {'; '.join(bad[:3])}" +
                  (" and your function is not finite here" if both else
                   ", where your function is finite: a NaN reached the gradient from a value the "
                   "function does not use (np.where(x > 0, np.sqrt(x), 0.0) at x < 0: see the README, "
                   "'NaN through untaken branches')"))
        return Verdict(name, None if both else False, NAN,
                       f"{verdict.detail}; {detail}" if verdict.verified is None else detail)
    if bad:
        return verdict
    mismatch, kinks = witness.gradient_mismatch(differences, gradient, name)
    said = f"your function is not differentiable at {'; '.join(kinks[:2])}"
    if kinks and mismatch is None and verdict.verified is False:
        return Verdict(name, None, "not differentiable here",
                       f"{said}; SymPy, taking one side, differs: {verdict.detail}")
    if verdict.verified is False:                   # SymPy's counterexample, and its blame
        return verdict
    if mismatch is not None:
        return Verdict(name, False, "central differences of your function", mismatch)
    agree = f"central differences of your function agree (relative tolerance {witness.DIFF_RTOL:g})"
    if kinks:
        agree = f"{said}: the code's value lies between them; elsewhere {agree}"
    return Verdict(name, verdict.verified, verdict.method, "; ".join(d for d in (verdict.detail, agree) if d))


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


def _not_verified(problem, user, why, start) -> Report:
    """Not verifiable symbolically: say why, and what the gradient the generated code
    returns and central differences of the user's function say (not a proof; a
    disagreement is WRONG, a NaN a NaN gradient)."""
    verdicts = [Verdict(name, None, "finite differences, not a proof", why) for name in problem.names]
    verdicts = _witnessed(problem, user, verdicts)
    for v in verdicts:
        if v.verified is None and v.method.startswith("finite"):
            v.detail = v.detail.replace("central differences of your function agree", "central "
                                        "differences of your function agree with the generated code")
    return Report(f"gradient of {problem.fn.__name__}", verdicts, [], time.perf_counter() - start)
