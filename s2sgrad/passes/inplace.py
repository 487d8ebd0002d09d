"""In place: write into an array instead of copying it, when nothing can tell.

    before                                  after
    n_2 = setitem(n, [0, 0], v)             n = setitem(n, [0, 0], v)
    n_3 = setitem(n_2, [0, 1], w)           n = setitem(n, [0, 1], w)
    return n_3                              return n

Normalize made every write a new value, which the emitter would have to
copy. When the old array (and every view of it) is never read again, not
by the forward code nor by the adjoints, the write can update the array
itself; the emitter then prints `n[0, 0] = v`. `protected` names are never
written in place (a cotangent the caller passed in).
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ..aliasing import views_of


def run(fn: ir.Function, protected=frozenset()) -> ir.Function:
    body = list(fn.body)
    for i in range(len(body)):
        stmt = body[i]
        if isinstance(stmt, ir.Assign) and stmt.op == "setitem" and isinstance(stmt.args[0], ir.Var):
            source = stmt.args[0].name
            if source != stmt.target and _can_overwrite(body, i, source, protected):
                body = body[:i] + list(ir.rename_stmts(body[i:], {stmt.target: source}))
        elif isinstance(stmt, ir.Def):
            inner = run(stmt.fn, protected | set(stmt.fn.params))
            body[i] = ir.Def(inner, stmt.loc)
    return replace(fn, body=tuple(body))


def _can_overwrite(body, i, source, protected) -> bool:
    if source in protected:
        return False
    group = views_of(body[:i], source)
    later = set().union(*(ir.uses(s) for s in body[i + 1:])) if body[i + 1:] else set()
    return not (group & later)
