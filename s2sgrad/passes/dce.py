"""Dead code: drop every value nothing reads, over both sweeps at once.

    before                              after
    cos_x = np.cos(x)                   y = np.sin(x)
    y = np.sin(x)                       dx = mul(dy, cos_x_2)
    t = mul(2, y)          (unread)     ...
    dx = mul(dy, cos_x_2)

Every op but the effects (ir.EFFECTS: a call s2sgrad runs without reading
it, which may print or draw a random number) is pure, so an assignment whose
target is not read later (by the forward code, the adjoints or the returned
values) goes, and with it what only it read. Loops keep what a later turn reads; a branch left empty goes.
The tape's pushes stay here (`tape.prune` drops those no pop reads). Comments
left with no statement under them are dropped, in every block.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir


def run(fn: ir.Function) -> ir.Function:
    return replace(fn, body=tuple(drop_dead(fn.body, set())))


def drop_dead(body, live: set) -> list:
    """Remove assignments whose value is never read, given the names `live` after `body`."""
    return _dead(body, set(live))[0]


def _dead(body, live: set):
    """(the statements that matter, the names live before them), given those live after."""
    kept = []
    for stmt in reversed(body):
        if isinstance(stmt, ir.Assign) and stmt.target not in live and stmt.op not in ir.EFFECTS:
            continue
        if isinstance(stmt, ir.NESTED):
            stmt, live = _dead_nested(stmt, live)
            if stmt is not None:
                kept.append(stmt)
            continue
        live -= ir.defs(stmt) - ir.uses(stmt) if not isinstance(stmt, ir.Pop) or stmt.index is None \
            else set()
        if isinstance(stmt, ir.Def):
            f = stmt.fn
            inner = tuple(drop_dead(list(f.body), set()))
            stmt = ir.Def(replace(f, body=inner), stmt.loc)
        live |= ir.uses(stmt)
        kept.append(stmt)
    return _drop_empty_comments(kept[::-1]), live


def _dead_nested(stmt, live: set):
    heads = ir.heads(stmt)
    if isinstance(stmt, ir.If):
        (body, a), (orelse, b) = _dead(stmt.body, set(live)), _dead(stmt.orelse, set(live))
        if not body and not orelse:
            return None, live                    # a branch with nothing left in it
        return ir.If(stmt.cond, tuple(body), tuple(orelse), stmt.loc), a | b | heads
    around = set(live) | heads                   # what a turn must keep for the next one
    cycle = list(stmt.test) + list(stmt.body) if isinstance(stmt, ir.While) else list(stmt.body)
    while True:
        kept, start = _dead(cycle, set(around))
        if start <= around:
            break
        around |= start
    if isinstance(stmt, ir.While):
        body, _ = _dead(stmt.body, set(around))
        test, _ = _dead(stmt.test, set(around))
        return ir.While(tuple(test), stmt.cond, tuple(body), stmt.loc, stmt.counter), around
    # (a for loop's last walk was its body's, with what is live around it: that is the body)
    return ir.For(stmt.target, stmt.start, stmt.stop, stmt.step, tuple(kept), stmt.loc, stmt.reverse), around


def _drop_empty_comments(body) -> list:
    kept = []
    for stmt in body:
        if isinstance(stmt, ir.Comment) and kept and isinstance(kept[-1], ir.Comment):
            kept.pop()
        kept.append(stmt)
    if kept and isinstance(kept[-1], ir.Comment):
        kept.pop()
    return kept
