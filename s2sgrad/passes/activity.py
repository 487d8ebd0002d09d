"""Activity analysis: which values need an adjoint.

A value is *active* when it depends, through differentiable arguments, on a
differentiated parameter, and it reaches the returned value. Only active
statements get adjoint code; `np.zeros(...)`, shapes and comparisons never do.

    def f(x, n):              wrt=x: active = {x, y, z}
        k = np.ones(3)        k does not depend on x
        y = x * k             y does
        z = np.sum(y)         z reaches the output
        return z
"""
from __future__ import annotations

from .. import ir, rules
from ..errors import NoRuleError
from ..rules.helpers import NO_DERIVATIVE

CONTAINERS = {"tuple": "tuple", "list": "list"}
ZERO_EXPONENTS = (ir.Const(0), ir.Const(0.0))


def differentiable_positions(stmt: ir.Assign) -> tuple:
    """Positions of the arguments a statement's rule differentiates (a call to a function
    differentiates all but the function itself)."""
    if stmt.op == "call":
        return tuple(range(1, len(stmt.args)))
    if stmt.op == "pow" and stmt.args[1] in ZERO_EXPONENTS:
        return ()                             # x ** 0 is 1 wherever x is (0 ** 0 too)
    op = rules.OPS[stmt.op]
    if op.kind == "helper" and op.rule is None and stmt.op not in NO_DERIVATIVE:
        return tuple(range(len(stmt.args)))  # a gradient's helper with no reverse rule: an error, not a zero
    return tuple(op.args.index(a) for a in op.differentiable)


def active_values(fn: ir.Function, wrt) -> frozenset:
    """Names of the active values of a normalized function (loops iterate to a fixpoint)."""
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign)]
    varied = _closure(set(wrt), assigns, lambda s, known: _diff_inputs(s) & known, lambda s: {s.target})
    useful = {a.name for s in ir.walk(fn.body) if isinstance(s, ir.Return)
              for a in ir.atoms_of(s.value) if isinstance(a, ir.Var)}
    useful = _closure(useful, assigns, lambda s, known: s.target in known, _diff_inputs)
    for stmt in assigns:          # a container would carry a derivative nothing follows
        if stmt.op in CONTAINERS and stmt.target in useful and ir.uses(stmt) & varied:
            raise NoRuleError(f"a {CONTAINERS[stmt.op]} holding differentiated values is not supported "
                              "here yet", stmt.loc, hint="use the values directly, or np.stack them into an array")
    return frozenset(varied & useful)


def _closure(known: set, assigns, reaches, adds) -> set:
    changed = True
    while changed:
        changed = False
        for stmt in assigns:
            new = adds(stmt) - known if reaches(stmt, known) else set()
            if new:
                known |= new
                changed = True
    return known


def _diff_inputs(stmt: ir.Assign) -> set:
    return {stmt.args[i].name for i in differentiable_positions(stmt)
            if isinstance(stmt.args[i], ir.Var)}
