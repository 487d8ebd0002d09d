"""In place: write into an array instead of copying it, when nothing can tell.

    before                                  after
    n_2 = setitem(n, [0, 0], v)             n = setitem(n, [0, 0], v)
    n_3 = setitem(n_2, [0, 1], w)           n = setitem(n, [0, 1], w)
    return n_3                              return n

Normalize made every write a new value, which the emitter would have to
copy. When the old array (and every view of it) is never read again, not
by the forward code nor by the adjoints, the write can update the array
itself; the emitter then prints `n[0, 0] = v`. A list appended to the same way
is appended to in place (`xs.append(v)`, not `xs = xs + [v]`) unless the tape
keeps it. `protected` names are never written in place (a cotangent or a tangent
the caller passed in, or, in a pullback, the values of the function around it: a
pullback may be called twice).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from .. import ir
from ..ir.aliasing import views_of


def run(fn: ir.Function, protected=frozenset()) -> ir.Function:
    protected = frozenset(protected) | (set(fn.params) & fn.derived)   # tangents, cotangents given
    body = list(fn.body)
    for i in range(len(body)):
        stmt = body[i]
        if isinstance(stmt, ir.Assign) and stmt.op in ("setitem", "append") and isinstance(stmt.args[0], ir.Var):
            source = stmt.args[0].name
            if source != stmt.target and _can_overwrite(body, i, source, protected):
                body = body[:i] + list(ir.rename_stmts(body[i:], {stmt.target: source}))
        elif isinstance(stmt, ir.Def):
            inner = run(stmt.fn, protected | set(stmt.fn.params) | ir.uses(stmt))   # and what it reads from here
            body[i] = ir.Def(inner, stmt.loc)
    taped = {s.target if isinstance(s, ir.Pop) else getattr(s.value, "name", None)
             for s in ir.walk(body) if isinstance(s, (ir.Push, ir.Pop))}
    reads = Counter(n for s in ir.walk_all(body) if not isinstance(s, ir.NESTED) for n in ir.uses(s))
    return replace(fn, body=tuple(_appends(body, taped | set(protected), reads)))


def _appends(stmts, taped: set, reads) -> list:
    """`xs = append(xs, v)` (or `t = append(xs, v); xs = id(t)`) marked to append in place
    (`xs.append(v)`) when no tape keeps the list as it was (lists are never shared: the
    lowering refuses aliases of them)."""
    out = []
    for s in stmts:
        s = ir.with_bodies(s, lambda body: tuple(_appends(body, taped, reads)))
        last = out[-1] if out else None
        if isinstance(s, ir.Assign) and s.op == "id" and isinstance(last, ir.Assign) and last.op == "append" \
                and s.args == (ir.Var(last.target),) and last.args[0] == ir.Var(s.target) \
                and reads[last.target] == 1:
            out[-1] = s = replace(last, target=s.target)          # t = append(xs, v); xs = t
            out.pop()
        if isinstance(s, ir.Assign) and s.op == "append" and s.args[0] == ir.Var(s.target) \
                and s.target not in taped:
            s = replace(s, params=(("in_place", True),))
        out.append(s)
    return out


def _can_overwrite(body, i, source, protected) -> bool:
    group = views_of(body[:i], source)
    if group & set(protected):                 # (also through a copy of the name: z_dot = x_dot)
        return False
    later = set().union(*(ir.uses(s) for s in body[i + 1:])) if body[i + 1:] else set()
    return not (group & later)
