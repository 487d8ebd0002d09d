"""Recompute: a cheap number the reverse sweep needs is computed again, not taped.

    for i in range(50):                        for i in range(50):
        push(tape, gt)                             mul_x_i = mul(x, i)
        mul_x_i = mul(x, i)                        gt = gt(mul_x_i, 20.0)
        gt = gt(mul_x_i, 20.0)                     ...
        ...                             ==>    for i in reversed(range(50)):
    for i in reversed(range(50)):                  mul_x_i = mul(x, i)
        if gt: ...                                 gt = gt(mul_x_i, 20.0)
        gt = pop(tape)                             if gt: ...

The tape keeps, each turn, the value a variable had before the turn assigned
it, so that the reverse sweep can put it back. For a number (shapes known:
specialized code) that a turn computes with plain arithmetic from values the
reverse turn has too (constants, values no loop changes, the loop's index,
and other such numbers of the same turn), computing it again at the start of
the reverse turn costs one or two Python operations where the tape costs an
append and a pop. Arrays stay on the tape: pushing one is free, computing it
again is not. Only a value the turn assigns before any read of it (so each
reverse turn wants that turn's own value) is recomputed.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from . import optimize
from .shapes import infer

CHEAP = {"add", "sub", "mul", "div", "neg", "lt", "le", "gt", "ge", "eq", "ne", "not", "id"}


def run(fn: ir.Function, params: dict) -> ir.Function:
    known = infer(fn, params)
    body = list(fn.body)
    counts = ir.assignments(fn.body)
    popped = [s.target for s in ir.walk(fn.body) if isinstance(s, ir.Pop)]
    changed = False
    for i, loop in enumerate(body):
        back = next((j for j, r in enumerate(body) if _mirror(loop, r)), None)
        if back is None:
            continue
        chain, kept = _recomputable(loop, body, known, counts, popped)
        kept &= {t.target for t in body[back].body if isinstance(t, ir.Pop)}       # popped at its top
        if not kept:
            continue
        body[i] = replace(loop, body=tuple(s for s in loop.body
                                           if not (isinstance(s, ir.Push) and _pushed(s) in kept)))
        rest = tuple(s for s in body[back].body if not (isinstance(s, ir.Pop) and s.target in kept))
        body[back] = replace(body[back], body=tuple(chain) + rest)
        changed = True
    return optimize.run(replace(fn, body=tuple(body))) if changed else fn


def _mirror(loop, other) -> bool:
    """Whether `other` is the reverse sweep's loop over the turns of the forward `loop`."""
    return isinstance(loop, ir.For) and not loop.reverse and isinstance(other, ir.For) and other.reverse \
        and (other.target, other.start, other.stop, other.step) == (loop.target, loop.start, loop.stop, loop.step)


def _pushed(push: ir.Push):
    return push.value.name if isinstance(push.value, ir.Var) and push.index is None else None


def _recomputable(loop: ir.For, body: list, known: dict, counts, popped: list):
    """(the statements that compute the chosen numbers again, the names the tape no longer
    keeps): numbers assigned once per turn, at the top level of the turn, by cheap ops on
    what the reverse turn has."""
    before = body[:body.index(loop)]
    steady = {n for s in before for n in ir.defs(s) if counts[n] == 1 and n not in popped} | \
        {n for s in body for n in ir.uses(s) if counts[n] == 0 and n not in popped}     # arguments
    pushed = {_pushed(s) for s in loop.body if isinstance(s, ir.Push)}
    made: dict = {}                          # name -> its statement, in the turn's order
    read: set = set()                        # names read so far this turn (pushes aside)
    for s in loop.body:
        if isinstance(s, ir.Assign) and s.op in CHEAP and not s.params and _number(known.get(s.target)) \
                and s.target not in read and _turn_only(s.target, loop, body, counts, popped) \
                and all(_available(a, loop, steady, made) for a in s.args):
            made[s.target] = s
        if not isinstance(s, ir.Push):
            read |= ir.uses(s) | (ir.heads(s) if isinstance(s, ir.NESTED) else set())
    kept = {n for n in made if n in pushed and popped.count(n) == 1}
    needed = set(kept)
    for name in reversed(list(made)):        # and what those are computed from
        if name in needed:
            needed |= {a.name for a in made[name].args if isinstance(a, ir.Var) and a.name in made}
    return [s for n, s in made.items() if n in needed], kept


def _number(shaped) -> bool:
    return shaped is not None and shaped.shape == () and shaped.dtype.kind in "biuf"


def _turn_only(name: str, loop: ir.For, body: list, counts, popped: list) -> bool:
    """Assigned once in the turn, and elsewhere only by the tape's `None` before the loop."""
    inside = sum(1 for s in ir.walk(loop.body) if name in ir.defs(s) and not isinstance(s, ir.NESTED))
    outside = [s for s in ir.walk(body) if isinstance(s, ir.Assign) and s.target == name
               and not any(s is t for t in ir.walk(loop.body))]
    return inside == 1 and popped.count(name) <= 1 and \
        all(s.op == "id" and s.args == (ir.Const(None),) for s in outside)


def _available(atom, loop: ir.For, steady: set, made: dict) -> bool:
    if isinstance(atom, ir.Const):
        return True
    return isinstance(atom, ir.Var) and (atom.name == loop.target or atom.name in steady or atom.name in made)
