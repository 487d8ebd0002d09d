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

from .. import ir
from ..errors import UnsupportedSyntaxError
from ..lower import Namer

VIEW_OPS = {"getitem", "np.transpose", "np.reshape", "id"}


def run(fn: ir.Function) -> ir.Function:
    namer = Namer(_all_names(fn))
    current = {name: name for name in fn.params}
    body, temps = [], set(fn.temps)
    for i, stmt in enumerate(fn.body):
        if isinstance(stmt, ir.Assign) and stmt.op == "setitem":
            _check_no_view_read_later(fn.body, i)
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


def _check_no_view_read_later(body, i: int) -> None:
    """Reject `a[...] = v` when an alias of `a` made earlier is read after it."""
    write = body[i]
    aliases = views_of(body[:i], write.target) - {write.target}
    for later in body[i + 1:]:
        if isinstance(later, ir.Assign) and later.target in aliases and later.op != "setitem":
            aliases.discard(later.target)   # rebound: the old view is gone
            continue
        seen = ir.uses(later) & aliases
        if seen:
            name = sorted(seen)[0]
            raise UnsupportedSyntaxError(
                f"`{name}` shares memory with `{write.target}`, which this line modifies; "
                f"s2sgrad does not follow NumPy views", write.loc,
                hint=f"make an independent copy where it is created: `{name} = ....copy()`")


def views_of(body, name: str) -> set:
    """Names that may share memory with `name` through views made in `body`."""
    group, changed = {name}, True
    while changed:
        changed = False
        for stmt in body:
            if isinstance(stmt, ir.Assign) and stmt.op in VIEW_OPS and stmt.args \
                    and isinstance(stmt.args[0], ir.Var):
                pair = {stmt.target, stmt.args[0].name}
                if pair & group and not pair <= group:
                    group |= pair
                    changed = True
    return group
