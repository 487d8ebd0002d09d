"""Optimize: the simplifying passes, in turn, until none changes anything.

    fold (constants, identities, signs) -> cse (copies, repeated values)
        -> dce (values nothing reads) -> tape.prune (pushes nothing pops) -> dce -> fold ...

Each is its own pass, in its own file; one simplification opens the way to
the next (a folded `1.0 * g` is a copy, a propagated copy makes two values
the same, a merged value leaves its twin unread, a push dropped leaves the
value it pushed unread), so they run in a ring until each in turn has found
nothing to do: the IR is then a fixed point of every one of them. (A pass
that changed nothing is not run again before another has changed something.)
"""
from __future__ import annotations

import itertools
from dataclasses import replace

from .. import ir
from . import cse, dce, fold, tape


SETTLED = (cse.run, dce.run)     # each leaves nothing for itself to do


def run(fn: ir.Function) -> ir.Function:
    ring = (fold.run, cse.run, dce.run, _pruned, dce.run)    # (a push dropped leaves its value unread)
    quiet = set()               # the passes that have changed nothing since the IR last changed
    for simplify in itertools.cycle(ring):
        if len(quiet) == len(set(ring)):
            return fn
        if simplify in quiet:
            continue
        new = simplify(fn)
        if new == fn:
            quiet.add(simplify)
        else:                   # (cse and dce finish their work in one walk: quiet on what they leave)
            fn, quiet = new, {simplify} if simplify in SETTLED else set()


def _pruned(fn: ir.Function) -> ir.Function:
    """`tape.prune` on `fn` and on every function defined in it."""
    def visit(stmts) -> tuple:
        return tuple(ir.Def(_pruned(s.fn), s.loc) if isinstance(s, ir.Def) else ir.with_bodies(s, visit)
                     for s in stmts)
    return tape.prune(replace(fn, body=visit(fn.body)))
