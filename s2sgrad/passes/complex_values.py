"""Complex values: which names may hold complex numbers, and what that asks of each rule.

    def f(z, w):                    z given complex numbers (Kind.complex)
        a = np.abs(z) * w           np.abs of a complex value: its own rule
        return np.sum(a ** 2)       (|z| has no complex derivative: dz = dans * conj(z) / |z|)

A value may hold complex numbers when it is a parameter the derivative is built
for complex arguments (api: a call with complex arguments builds its own
derivative), a complex constant (`1j`), a cast to a complex dtype, or made from
one by any op but those that take a complex number apart (np.real, np.imag,
np.abs, np.angle) and those without a derivative (comparisons). s2sgrad follows
JAX's convention (runtime/complex_numbers.py): a rule that holds for complex
arguments as written says so (rules.Op.complex: holomorphic ops, and ops linear
with real coefficients); a differentiated value reaching any other op as a
complex number is refused here, at the user's line. The reverse pass reads
`complex_names` to keep the adjoint of a real value real.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import ir, rules
from ..errors import NotDifferentiableError
from ..rules.numpy import cast_kind
from .activity import active_values, closure

TAKEN_APART = {"np.abs", "abs", "np.abs.complex", "np.real", "np.imag", "np.angle"}   # real results
TWINS = {"np.abs": "np.abs.complex", "abs": "np.abs.complex"}    # an op's rule for complex arguments
CALLS = {"call", "call_adjoint", "pullback"}


def complex_names(fn: ir.Function, params=()) -> frozenset:
    """The names of `fn` that may hold complex numbers, given the parameters `params`
    that do."""
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and _keeps(s)]
    makes = lambda s, known: cast_kind(s) == "c" or any(is_complex(a, known) for a in s.args)   # noqa: E731
    found = closure(set(params) & set(fn.params), assigns, makes, lambda s: {s.target}, ir.uses)
    return frozenset(found)


def is_complex(atom, names) -> bool:
    """Whether an atom may hold complex numbers: a name among `names`, or a complex constant."""
    if isinstance(atom, ir.Var):
        return atom.name in names
    value = getattr(atom, "value", None)
    return any(isinstance(v, (complex, np.complexfloating)) for v in (value if isinstance(value, tuple) else (value,)))


def _keeps(stmt: ir.Assign) -> bool:
    op = rules.OPS.get(stmt.op)
    if stmt.op in TAKEN_APART or op is not None and op.kind == "nondiff":
        return False
    return cast_kind(stmt) in (None, "c")


def run(fn: ir.Function, wrt: tuple | None, params=()) -> ir.Function:
    """`fn` with each op given a complex value checked against its rule (and np.abs of one
    given its own rule); the same function when no value is complex. `wrt`: the parameters
    differentiated (None: all of them, for a derivative of a derivative)."""
    names = complex_names(fn, params)
    if not names and not any(is_complex(a, ()) for s in ir.walk(fn.body) if isinstance(s, ir.Assign)
                             for a in s.args):
        return fn
    active = active_values(fn, fn.params if wrt is None else wrt)

    def visit(body):
        return tuple(_checked(s, names, active) if isinstance(s, ir.Assign) else ir.with_bodies(s, visit)
                     for s in body)
    return replace(fn, body=visit(fn.body))


def _checked(stmt: ir.Assign, names, active) -> ir.Assign:
    given = [a for a in stmt.args if is_complex(a, names)]
    varied = [a for a in stmt.args if isinstance(a, ir.Var) and a.name in active]
    if not given or not varied:
        return stmt
    if stmt.op in TWINS:
        return replace(stmt, op=TWINS[stmt.op])
    if stmt.op in CALLS:
        raise NotDifferentiableError("a call of a function s2sgrad compiles apart, given complex numbers, "
                                     "is not supported yet", stmt.loc,
                                     hint="call it with real arguments, or differentiate with complex "
                                          "arguments (the derivative then inlines the calls it can)")
    if cast_kind(stmt) not in (None, "c"):
        raise NotDifferentiableError("a cast of complex numbers to reals drops their imaginary part",
                                     stmt.loc, hint="say which part you mean: np.real(z), np.imag(z) or np.abs(z)")
    op = rules.OPS.get(stmt.op)
    if op is not None and op.kind in ("elementwise", "adjoint", "helper") and not op.complex:
        raise NotDifferentiableError(f"`{stmt.op}` has no derivative rule for complex numbers, and it is given "
                                     "one here", stmt.loc,
                                     hint="take the complex value apart first (np.real, np.imag, np.abs, np.angle), "
                                          "or write the op with ones that hold for complex numbers")
    return stmt
