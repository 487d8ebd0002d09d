"""Normalize: give every assignment a name of its own (SSA-style renaming).

    before                      after
    x = mul(x, 2)               x_2 = mul(x, 2)
    n = setitem(n, [0], v)      n_2 = setitem(n, [0], v)
    y = add(x, n)               y = add(x_2, n_2)

After this pass a name is assigned once, so later passes can keep every
value alive without a tape. Writing into an array while a view of it (a
slice, a transpose, a plain `b = a`) is still read afterwards would make
NumPy's aliasing visible; that is reported at the user's line.
"""
from __future__ import annotations

from .. import aliasing, ir
from ..lower import Namer


def run(fn: ir.Function) -> ir.Function:
    namer = Namer(_all_names(fn))
    current = {name: name for name in fn.params}
    body, temps = [], set(fn.temps)
    for i, stmt in enumerate(fn.body):
        if isinstance(stmt, ir.Assign) and stmt.op == "setitem":
            aliasing.check_write(fn.body, i, "modifies")
        renamed = _rename(stmt, current)
        if isinstance(stmt, ir.Assign):
            target = stmt.target
            if target in current:
                target = namer.fresh(stmt.target)
                if stmt.target in fn.temps:
                    temps.add(target)
            current[stmt.target] = target
            renamed = ir.Assign(target, renamed.op, renamed.args, renamed.params, renamed.loc)
        body.append(renamed)
    return ir.Function(fn.name, fn.params, tuple(body), fn.loc, frozenset(temps), fn.free, fn.doc)


def _rename(stmt, current: dict):
    if isinstance(stmt, ir.Assign):
        return ir.Assign(stmt.target, stmt.op, ir.rename(stmt.args, current), stmt.params, stmt.loc)
    if isinstance(stmt, ir.Return):
        return ir.Return(ir.rename(stmt.value, current), stmt.loc)
    return stmt


def _all_names(fn: ir.Function) -> set:
    names = set(fn.params) | set(fn.free)
    for stmt in fn.body:
        names |= ir.uses(stmt) | ir.defs(stmt)
    return names
