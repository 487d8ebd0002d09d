"""Optimize: the simplifying passes, in turn, until none changes anything.

    fold (constants, identities, signs) -> cse (copies, repeated values)
        -> dce (values nothing reads) -> tape.prune (pushes nothing pops)

Each is its own pass, in its own file; one simplification opens the way to
the next (a folded `1.0 * g` is a copy, a propagated copy makes two values
the same, a merged value leaves its twin unread), so the round repeats until
the IR stops changing. A push dropped leaves its value unread, so dce runs again
in the same round after tape.prune when prune dropped one.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from . import cse, dce, fold, tape


def run(fn: ir.Function) -> ir.Function:
    while True:
        swept = dce.run(cse.run(fold.run(fn)))
        new = _pruned(swept)
        if new != swept:            # a push dropped leaves the value it pushed unread
            new = dce.run(new)
        if new == fn:
            return new
        fn = new


def _pruned(fn: ir.Function) -> ir.Function:
    """`tape.prune` on `fn` and on every function defined in it."""
    def visit(stmts) -> tuple:
        return tuple(ir.Def(_pruned(s.fn), s.loc) if isinstance(s, ir.Def) else ir.with_bodies(s, visit)
                     for s in stmts)
    return tape.prune(replace(fn, body=visit(fn.body)))
