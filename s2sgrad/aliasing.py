"""Which values may share memory, and the one check that follows from it.

NumPy's `b = a`, `a[1:]`, `a.T` and `a.reshape(...)` make views: writing
into one (`b[0] = 1`, `b += 1`) changes the other. s2sgrad treats every
value as its own, so a write through a view that is read again afterwards
would give a different answer than Python; `check_write` reports it at the
user's line instead.
"""
from __future__ import annotations

from . import ir
from .errors import UnsupportedSyntaxError

VIEW_OPS = {"getitem", "np.transpose", "np.reshape", "id"}


def views_of(body, name: str) -> set:
    """`name` and every name that may share its memory through views made in `body`."""
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


def check_writes(body, writes) -> None:
    """Check every in-place write (`writes`, statements of `body`): in program order, and
    around each loop, whose next turn reads what the previous one left."""
    flat = list(ir.walk(body))
    for stmt in writes:
        check_write(flat, flat.index(stmt), "updates in place when it is an array"
                    if stmt.op != "setitem" else "modifies")
    for loop in (s for s in flat if isinstance(s, (ir.For, ir.While))):
        inner = [s for b in ir.bodies(loop) for s in b]
        carried = ir.exposed(inner)
        for stmt in (w for w in writes if any(w is s for s in ir.walk(inner))):
            seen = (views_of(flat, stmt.target) - {stmt.target}) & carried
            if seen:
                _refuse(sorted(seen)[0], stmt, "modifies inside a loop that reads it again")


def _refuse(name, write, what):
    raise UnsupportedSyntaxError(
        f"`{name}` may share memory with `{write.target}`, which this line {what}; "
        f"s2sgrad does not follow NumPy views", write.loc,
        hint=f"make `{write.target}` a value of its own (`= ....copy()`, or "
             f"`{write.target} = {write.target} + ...` instead of `+=`)")


def check_write(body, i: int, what: str) -> None:
    """Reject the write `body[i]` into `name` when an alias of it is read later."""
    write = body[i]
    aliases = views_of(body[:i], write.target) - {write.target}
    for later in body[i + 1:]:
        if isinstance(later, ir.Assign) and later.target in aliases:
            aliases.discard(later.target)   # rebound: the old view is gone
            continue
        seen = ir.uses(later) & aliases
        if seen:
            _refuse(sorted(seen)[0], write, what)
