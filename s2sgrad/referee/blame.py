"""Blame for a wrong derivative: which pass, which rule, which of the user's lines.

When the referee (verify.py) finds the generated gradient wrong, it asks here why.
First the passes: the derivative's IR after each stage from `reverse` on runs on
the symbols, and the first stage whose gradient disagrees with SymPy's at the point
is the culprit. If the adjoint was wrong from the start (the `reverse` stage), each
primitive the user's function applied is checked alone: its rule's vector-Jacobian
product, generated for that one op on fresh symbols, against SymPy's derivative of
the op's counterpart. The first op, in the reverse sweep's order, whose rule
disagrees is blamed: its line in the user's file, the rule (and where it is
written), and the generated statements that line became. A later pass is blamed
with the first lines it changed.
"""
from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field

import mpmath

from .. import api, passes, rules
from ..backend import calls, emit
from . import chain, rulecheck
from .symbolic import Machine, Unverifiable, entries



@dataclass
class Blame:
    stage: str                     # the pass after which the gradient is wrong
    culprit: str                   # what is blamed, in a phrase
    line: str = ""                 # "file:line: the user's line", when one is blamed
    rule: str = ""                 # the rule and where it is written
    detail: str = ""               # the local counterexample
    statements: list = field(default_factory=list)   # generated lines it became

    def __str__(self) -> str:
        lines = [f"  blame: {self.culprit}"]
        lines += [f"    {label}: {text}" for label, text in
                  (("at", self.line), ("rule", self.rule), ("check", self.detail)) if text]
        if self.statements:
            lines.append("    generated:")
            lines += [f"      {s}" for s in self.statements]
        return "\n".join(lines)


def find(problem, out, trace) -> Blame:
    """The blame for `problem`'s wrong gradient (`out` is the output on symbols and
    `trace` the ops the user's function applied to them)."""
    params = list(inspect.signature(problem.fn).parameters)
    stages: dict = {}
    shapes = calls.abstract_arguments(params, calls.shape_key(problem.args))
    request = passes.Request(problem.names, passes.GRAD, False, shapes=shapes, callees=api.callee_derivative)
    passes.derivative(problem.fn, request, record=stages)
    wanted = _wanted(problem, out)
    before = None
    for stage in passes.STAGES[passes.STAGES.index("reverse"):]:
        try:
            if not _agrees(problem, stages[stage], wanted):
                break
        except Unverifiable as why:
            return Blame(stage, f"undecided: the IR after `{stage}` cannot run on symbols ({why})")
        before = stage
    else:
        return Blame("", "undecided: every stage of the derivative agrees with SymPy when run "
                         "here; the generated code's emission or loading differs")
    if before is not None:
        return _pass_blame(stage, stages[before], stages[stage])
    return _rule_blame(problem, trace, stages[passes.STAGES[-1]])


def _wanted(problem, out) -> list:
    """SymPy's gradient at the point, entry by entry."""
    with mpmath.workdps(chain.DIGITS):
        return chain.Evaluator(problem.point).gradient(out, problem.flat_symbols())


def _agrees(problem, function, wanted) -> bool:
    machine = Machine(problem.point, problem.budget)
    _, grads = problem.run(function, machine)
    got = [g for grad in grads for g in entries(grad)]
    return len(got) == len(wanted) and _close(_values(got, problem.point), wanted)


def _values(exprs, point) -> list:
    at = chain.Evaluator(point)
    with mpmath.workdps(chain.DIGITS):
        return [at.value(e) for e in exprs]


def _close(have, want) -> bool:
    return all(chain.agrees(w, h) for h, w in zip(have, want))


def _pass_blame(stage, before, after) -> Blame:
    old = emit.sources(before)[1].splitlines()
    new = emit.sources(after)[1].splitlines()
    changed = [line for line in difflib.unified_diff(old, new, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return Blame(stage, f"the `{stage}` pass: the gradient is right before it and wrong after it",
                 statements=changed[:12])


def _rule_blame(problem, trace, final) -> Blame:
    text = emit.sources(final)[1]
    for stmt, args, result in reversed(trace):
        try:
            found = rulecheck.check(stmt, args, problem.point, problem.budget)
        except (Unverifiable, chain.Unsupported, TypeError, ValueError):
            continue
        detail = next((d for _, d in found if d is not None), None)
        if detail is None:
            continue
        op = rules.OPS[stmt.op]
        where = ""
        if stmt.loc is not None:
            where = f"{stmt.loc.file}:{stmt.loc.line}: {stmt.loc.text.strip()}"
        return Blame("reverse", f"the rule for `{rules.OPERATORS.get(stmt.op, stmt.op)}`", where,
                     rulecheck.rule_name(op), detail, _generated_lines(text, stmt.loc))
    return Blame("reverse", "the reverse pass: every rule the function applies agrees with SymPy "
                            "on its own, so the adjoints were combined wrongly (accumulation, a loop "
                            "or a branch)")


def _generated_lines(text, loc) -> list:
    """The generated statements under the comment pointing back to `loc`'s line."""
    if loc is None:
        return []
    lines, found, out = text.splitlines(), False, []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("# adjoint of line "):
            found = stripped.startswith(f"# adjoint of line {loc.line}:")
            continue
        if found:
            if stripped.startswith("return") or not stripped:
                break
            out.append(stripped)
    return out
