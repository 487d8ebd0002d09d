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
            name = sorted(seen)[0]
            raise UnsupportedSyntaxError(
                f"`{name}` may share memory with `{write.target}`, which this line {what}; "
                f"s2sgrad does not follow NumPy views", write.loc,
                hint=f"make `{write.target}` a value of its own (`= ....copy()`, or "
                     f"`{write.target} = {write.target} + ...` instead of `+=`)")
