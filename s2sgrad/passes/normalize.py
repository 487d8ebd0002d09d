"""Normalize: give every assignment a name of its own (SSA-style renaming).

    before                      after
    x = mul(x, 2)               x_2 = mul(x, 2)
    n = setitem(n, [0], v)      n_2 = setitem(n, [0], v)
    y = add(x, n)               y = add(x_2, n_2)

After this pass a name assigned outside loops and branches is assigned
once, so later passes can keep every such value alive without a tape.
"""
from __future__ import annotations

import collections

from dataclasses import replace

from .. import ir
from ..ir.names import Namer


def run(fn: ir.Function) -> ir.Function:
    namer = Namer(_all_names(fn))
    mutable = {name for stmt in fn.body if isinstance(stmt, ir.NESTED) for name in ir.defs(stmt)}
    current = {name: name for name in fn.params}
    body, temps = [], set(fn.temps)
    for stmt in fn.body:
        renamed = _rename(stmt, current)
        if isinstance(stmt, ir.Assign) and stmt.target not in mutable:
            target = stmt.target
            if target in current:
                target = namer.fresh(stmt.target)
                if stmt.target in fn.temps:
                    temps.add(target)
            current[stmt.target] = target
            renamed = ir.Assign(target, renamed.op, renamed.args, renamed.params, renamed.loc)
        body.append(renamed)
    body = _unpack_tuples(_separate(body, mutable, namer, temps))
    return replace(fn, body=tuple(body), temps=frozenset(temps))


def _unpack_tuples(body) -> list:
    """`p = (a, b); c = p[1]` reads `b` directly, so the derivative flows through (where
    p is assigned only there: a tuple a loop or branch assigns again is read as it is)."""
    assigned = collections.Counter(d for s in ir.walk(body) for d in ir.defs(s))
    packed = {s.target: s.args for s in body if isinstance(s, ir.Assign) and s.op == "tuple"
              and assigned[s.target] == 1}
    out = []
    for s in body:
        if isinstance(s, ir.Assign) and s.op == "getitem" and getattr(s.args[0], "name", None) in packed:
            items = s.args[1].items
            if len(items) == 1 and isinstance(items[0], ir.Const) and isinstance(items[0].value, int):
                s = ir.Assign(s.target, "id", (packed[s.args[0].name][items[0].value],), (), s.loc)
        out.append(s)
    return out


def _separate(stmts, mutable, namer, temps) -> list:
    """`x = f(x)` for a variable assigned in a loop or branch becomes `t = f(x); x = t`,
    so that the reverse sweep can restore the old `x` and still read the new one."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Assign) and stmt.target in mutable and stmt.op != "setitem" \
                and stmt.target in ir.uses(stmt):
            fresh = namer.fresh(f"new_{stmt.target}")
            temps.add(fresh)
            out += [ir.Assign(fresh, stmt.op, stmt.args, stmt.params, stmt.loc),
                    ir.Assign(stmt.target, "id", (ir.Var(fresh),), (), stmt.loc)]
            continue
        stmt = ir.with_bodies(stmt, lambda body: tuple(_separate(body, mutable, namer, temps)))
        if isinstance(stmt, (ir.If, ir.For)):
            stmt = _fixed_heads(stmt, out, namer, temps)
        out.append(stmt)
    return out


def _fixed_heads(stmt, out: list, namer, temps):
    """A branch's condition or a loop's bounds that its body reassigns are copied first,
    so the reverse sweep reads the values the forward one decided with."""
    inside = set().union(*(ir.defs(s) for body in ir.bodies(stmt) for s in body))
    heads = (stmt.cond,) if isinstance(stmt, ir.If) else (stmt.start, stmt.stop, stmt.step)
    fixed = []
    for atom in heads:
        if isinstance(atom, ir.Var) and atom.name in inside:
            copy = namer.fresh(atom.name + "_then")
            temps.add(copy)
            out.append(ir.Assign(copy, "id", (atom,), (), stmt.loc))
            atom = ir.Var(copy)
        fixed.append(atom)
    if isinstance(stmt, ir.If):
        return ir.If(fixed[0], stmt.body, stmt.orelse, stmt.loc)
    return ir.For(stmt.target, *fixed, stmt.body, stmt.loc, stmt.reverse)


def _rename(stmt, current: dict):
    if isinstance(stmt, ir.Assign):
        return ir.Assign(stmt.target, stmt.op, ir.rename(stmt.args, current), stmt.params, stmt.loc)
    if isinstance(stmt, ir.Return):
        return ir.Return(ir.rename(stmt.value, current), stmt.loc)
    if isinstance(stmt, ir.If):
        return ir.If(ir.rename(stmt.cond, current), _rename_all(stmt.body, current),
                     _rename_all(stmt.orelse, current), stmt.loc)
    if isinstance(stmt, ir.For):
        return ir.For(stmt.target, *ir.rename((stmt.start, stmt.stop, stmt.step), current),
                      _rename_all(stmt.body, current), stmt.loc, stmt.reverse)
    if isinstance(stmt, ir.While):
        return ir.While(_rename_all(stmt.test, current), ir.rename(stmt.cond, current),
                        _rename_all(stmt.body, current), stmt.loc, stmt.counter)
    return stmt


def _rename_all(stmts, current) -> tuple:
    return tuple(_rename(s, current) for s in stmts)


def _all_names(fn: ir.Function) -> set:
    names = set(fn.params) | set(fn.free)
    for stmt in ir.walk(fn.body):
        names |= ir.uses(stmt) | ir.defs(stmt)
    return names
