"""Checking one rule alone: its vector-Jacobian product against SymPy's derivative.

The op is applied to fresh symbols standing for its arguments' values; the rule's
vector-Jacobian product is generated for that one op (the reverse pass on a
one-statement function) and run on the symbols with a rational cotangent; SymPy
differentiates the op's counterpart (symbolic.py) dotted with the same cotangent.
blame.py asks this of each op of a wrong gradient; `s2sgrad.verify_rule` of a
user's rule.
"""
from __future__ import annotations

import inspect

import mpmath
import numpy as np
import sympy

from .. import ir, rules
from ..frontend import templates
from ..ir import interpret
from ..passes import reverse
from .chain import DIGITS, agrees, rational
from .symbolic import Machine, _symbolic, symbols_like



SKIPPED = {"call", "pullback", "getitem", "getitem.any", "setitem", "append", "iadd", "tuple", "list"}


def check(stmt, args, at, budget) -> list:
    """(argument, a counterexample or None) for each argument the rule of `stmt`'s op
    differentiates, that op alone at these arguments (`at` gives their symbols' values);
    an empty list when there is no one rule to check."""
    op = rules.OPS.get(stmt.op)
    if op is None or op.kind not in ("elementwise", "adjoint") or stmt.op in SKIPPED:
        return []
    if any(not isinstance(a, (ir.Var, ir.Const)) for a in stmt.args):
        return []
    differentiable = templates.differentiated(op)
    names = [f"a{i}" for i in range(len(stmt.args))]
    active = [i for i, (a, v) in enumerate(zip(stmt.args, args)) if isinstance(a, ir.Var) and _symbolic(v)
              and i < len(op.args) and op.args[i] in differentiable]
    if not active:
        return []
    fresh, point, referee = list(args), {}, Machine(at, budget)
    for i in active:
        concrete = np.asarray(referee.concrete(args[i]), dtype=float)
        fresh[i] = symbols_like(op.args[i], concrete.shape)
        point |= {s: rational(v) for s, v in zip(np.ravel(fresh[i]), np.ravel(concrete))}
    for i, v in enumerate(fresh):                # inactive arguments: their values at the point
        if i not in active and _symbolic(v):
            fresh[i] = referee.concrete(v)
    body = tuple(ir.Var(n) if isinstance(a, ir.Var) else a for n, a in zip(names, stmt.args))
    one = ir.Function(f"rule_{op.name.replace('.', '_')}", tuple(names),
                      (ir.Assign("ans", stmt.op, body, stmt.params), ir.Return(ir.Var("ans"))))
    vjp = reverse.run(one, tuple(names[i] for i in active), "vjp")
    machine = Machine(point, budget)
    ans, pullback = interpret.run(vjp, *fresh, machine=machine)
    rng = np.random.default_rng(1)
    cotangent = _rational_like(ans, rng)
    got = pullback(cotangent)
    got = got if isinstance(got, tuple) else (got,)
    total = sympy.sympify(np.sum(np.asarray(cotangent, dtype=object) * np.asarray(ans, dtype=object)))
    return [(op.args[i], _counterexample(op.args[i], total, fresh[i], g, point)) for i, g in zip(active, got)]


def _counterexample(name, total, symbols, adjoint, point):
    for s, have in zip(np.ravel(symbols), np.ravel(np.asarray(adjoint, dtype=object))):
        want = sympy.diff(total, s).subs(point)
        have = sympy.sympify(have).subs(point)
        with mpmath.workdps(DIGITS):
            w, h = mpmath.mpf(sympy.N(want, DIGITS)), mpmath.mpf(sympy.N(have, DIGITS))
        if not agrees(w, h):
            at = ", ".join(f"{k}={float(v):.6g}" for k, v in list(point.items())[:4])
            return f"d/d{name} of the op alone at {at}: SymPy says {float(w):.10g}, the rule {float(h):.10g}"
    return None


def _rational_like(value, rng):
    shape = np.shape(value)
    draws = np.round(rng.uniform(0.5, 1.5, shape) * 64) / 64
    return rational(draws) if not shape else np.vectorize(rational, otypes=[object])(draws)


def rule_name(op) -> str:
    rule = op.rule
    try:
        file = inspect.getsourcefile(rule)
        line = inspect.getsourcelines(rule)[1]
    except (TypeError, OSError):
        return rule.__qualname__
    return f"{rule.__qualname__}, written at {file}:{line}"
