"""Hoist: a computation that gives the same value on every turn of a loop moves before it.

    for i in range(40):                     mul_dt = mul(0.5, dt)
        mul_dt = mul(0.5, dt)               for i in range(40):
        k = mul(mul_dt, x)                      k = mul(mul_dt, x)

It then runs once, and the reverse sweep needs no tape entry for it. Only
compiler temporaries move (a user's names stay where the user wrote them),
only when every value they read is the same on every turn, only out of `for`
loops that surely run (constant bounds, at least one turn: an op that raises
must raise only where the user's code would), and only pure ops.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir

SAFE = {"add", "sub", "mul", "neg", "pos", "id", "np.sin", "np.cos", "np.tanh", "np.exp", "np.sqrt",
        "np.log", "np.abs", "np.transpose", "np.copy", "matmul", "np.matmul"}


def run(fn: ir.Function) -> ir.Function:
    counts: dict = {}
    for s in ir.walk(fn.body):
        for name in ir.defs(s) if not isinstance(s, ir.NESTED) else ():
            counts[name] = counts.get(name, 0) + 1
    return replace(fn, body=tuple(_block(fn.body, fn, counts)))


def _block(stmts, fn, counts) -> list:
    out = []
    for s in stmts:
        s = ir.with_bodies(s, lambda body: tuple(_block(body, fn, counts)))
        if isinstance(s, ir.For) and _runs(s):
            moved, s = _hoisted(s, fn, counts)
            out += moved
        out.append(s)
    return out


def _runs(loop: ir.For) -> bool:
    """Whether the loop surely runs at least once (its bounds are numbers): only then can
    its body's values be computed before it (an op may raise on shapes that do not fit)."""
    bounds = (loop.start, loop.stop, loop.step)
    return all(isinstance(b, ir.Const) and type(b.value) is int for b in bounds) \
        and len(range(*(b.value for b in bounds))) > 0


def _hoisted(loop, fn, counts):
    """(the statements that move out of `loop`, the loop without them)."""
    changed = {n for t in ir.walk(loop.body) for n in ir.defs(t)} | {loop.target}
    moved, kept = [], []
    for s in loop.body:
        if isinstance(s, ir.Assign) and _safe(s) and s.target in fn.temps and counts.get(s.target) == 1 \
                and not (ir.uses(s) & changed) and not s.params:
            moved.append(s)
            changed.discard(s.target)                # the same value on every turn now
        else:
            kept.append(s)
    if not moved:
        return [], loop
    return moved, replace(loop, body=tuple(kept))


def _safe(s: ir.Assign) -> bool:
    """Whether the op cannot raise (a division only by a nonzero constant)."""
    if s.op == "div":
        divisor = s.args[1]
        return isinstance(divisor, ir.Const) and type(divisor.value) in (int, float) and divisor.value != 0
    return s.op in SAFE
