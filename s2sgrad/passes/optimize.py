"""Optimize: constant folding, algebraic simplification, copy propagation
and dead-code elimination, repeated until nothing changes.

    before                          after
    t = mul(1.0, cos_x)             dx = cos_x
    dx = id(t)
    u = sub(2, 1)                   (u folded to 1, then x ** 1 -> x)
    v = pow(x, u)

Identities such as `x * 1 -> x` are applied to adjoints only (a user's
`n * 1.0` turns integers into floats). Only compiler temporaries are propagated away; a user's own names and the
adjoint names `dx` stay, so the output reads like the source. Comments left
with no statement under them are dropped.
"""
from __future__ import annotations

from dataclasses import replace

import operator
from collections import Counter

from .. import ir
from . import tape

FOLD = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
        "pow": operator.pow, "neg": operator.neg, "id": lambda a: a}
PURE_SCALARS = (int, float)


def run(fn: ir.Function) -> ir.Function:
    while True:
        new = tape.prune(_once(fn))
        if new == fn:
            return new
        fn = new


def _once(fn: ir.Function) -> ir.Function:
    flat = list(ir.walk(fn.body))
    negations, counts = _negations(flat), _def_counts(flat)

    def simplify(s: ir.Assign, copies: dict) -> ir.Assign:
        """Fold and simplify one assignment, after the copies made before it."""
        s = _fuse_negation(_simplify(_rename_uses(s, copies), s.target in fn.derived), negations)
        if s.op == "id" and s.target in fn.temps and counts[s.target] == 1:
            src = s.args[0]
            if isinstance(src, ir.Const) or counts.get(src.name, 0) <= 1:
                copies[s.target] = src          # later reads use the source itself
        return s

    body = _each(fn.body, simplify, {})
    body = drop_dead(body, live=set())
    return replace(fn, body=tuple(_drop_empty_comments(body)))


def _each(stmts, change, copies: dict) -> list:
    """One pass in program order: `change` every assignment; uses of copied temporaries
    are renamed everywhere (nested functions are optimized whole)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Assign):
            out.append(change(stmt, copies))
        elif isinstance(stmt, ir.Def):
            out.append(ir.Def(run(_rename_uses(stmt, copies).fn), stmt.loc))
        else:
            inner = ir.with_bodies(stmt, lambda body: tuple(_each(body, change, copies)))
            out.append(_rename_heads(inner, copies))
    return out


def _def_counts(flat) -> dict:
    counts = {}
    for s in flat:
        for name in ir.defs(s) if not isinstance(s, ir.NESTED) else \
                ({s.target} if isinstance(s, ir.For) else set()):
            counts[name] = counts.get(name, 0) + 1
    return counts


def _const(atom, *values) -> bool:
    return isinstance(atom, ir.Const) and type(atom.value) in PURE_SCALARS and \
        (not values or atom.value in values)


def _simplify(s: ir.Assign, adjoint: bool) -> ir.Assign:
    """One statement, folded or simplified on its own. `x * 1 -> x` and its kin hold only
    for adjoints (floats the code owns): for user values NumPy's `n * 1.0` is a new float
    array even when `n` holds integers."""
    args = s.args

    def to(op, *new_args):
        return ir.Assign(s.target, op, new_args, (), s.loc)

    if s.op in FOLD and args and all(_const(a) for a in args):
        try:
            value = FOLD[s.op](*(a.value for a in args))
        except (ArithmeticError, ValueError):
            return s
        if type(value) in PURE_SCALARS and s.op != "id":
            return to("id", ir.Const(value))
    if not adjoint:
        return s
    if s.op == "mul":
        for a, b in (args, args[::-1]):
            if _const(b, 1):
                return to("id", a)
            if _const(b, -1):
                return to("neg", a)
    if s.op in ("add", "sub") and _const(args[1], 0):
        return to("id", args[0])
    if s.op == "add" and _const(args[0], 0):
        return to("id", args[1])
    if s.op in ("div", "pow") and _const(args[1], 1):
        return to("id", args[0])
    if s.op == "unbroadcast" and _const(args[0]):
        # A constant adjoint only flows from `grad`'s scalar seed through values of one
        # element, where summing does nothing (`grad` gives the result the argument's shape).
        return to("id", args[0])
    return s


def _negations(body) -> dict:
    """`t -> a` for every `t = neg(a)` whose names are assigned exactly once."""
    counts = Counter(name for s in body for name in ir.defs(s))
    return {s.target: s.args[0] for s in body
            if isinstance(s, ir.Assign) and s.op == "neg" and counts[s.target] == 1
            and (isinstance(s.args[0], ir.Const) or counts.get(s.args[0].name, 0) <= 1)}


def _fuse_negation(s: ir.Assign, negations: dict) -> ir.Assign:
    """`-(-a)` is `a`, `a + (-b)` is `a - b`, `a - (-b)` is `a + b`."""
    last = s.args[-1] if s.args else None
    if not (isinstance(last, ir.Var) and last.name in negations):
        return s
    inner = negations[last.name]
    fused = {"neg": ("id", (inner,)), "add": ("sub", (s.args[0], inner)),
             "sub": ("add", (s.args[0], inner))}.get(s.op)
    return ir.Assign(s.target, fused[0], fused[1], (), s.loc) if fused else s


def _rename_uses(stmt, mapping):
    if isinstance(stmt, ir.Assign):
        return ir.Assign(stmt.target, stmt.op, ir.rename(stmt.args, mapping), stmt.params, stmt.loc)
    if isinstance(stmt, ir.Return):
        return ir.Return(ir.rename(stmt.value, mapping), stmt.loc)
    if isinstance(stmt, ir.Push):
        return ir.Push(stmt.tape, ir.rename(stmt.value, mapping), ir.rename(stmt.index, mapping))
    if isinstance(stmt, ir.Pop):
        return ir.Pop(stmt.tape, stmt.target, ir.rename(stmt.index, mapping))
    if isinstance(stmt, ir.Def):
        f = stmt.fn
        body = tuple(_rename_uses(s, mapping) for s in f.body)
        return ir.Def(replace(f, body=body), stmt.loc)
    return _rename_heads(ir.with_bodies(stmt, lambda b: tuple(_rename_uses(s, mapping) for s in b)), mapping)


def _rename_heads(stmt, mapping):
    """A loop's or branch's own atoms (condition, bounds) renamed."""
    if isinstance(stmt, ir.If):
        return ir.If(ir.rename(stmt.cond, mapping), stmt.body, stmt.orelse, stmt.loc)
    if isinstance(stmt, ir.For):
        return ir.For(stmt.target, *ir.rename((stmt.start, stmt.stop, stmt.step), mapping), stmt.body,
                      stmt.loc, stmt.reverse)
    if isinstance(stmt, ir.While):
        return ir.While(stmt.test, ir.rename(stmt.cond, mapping), stmt.body, stmt.loc, stmt.counter)
    return stmt


def drop_dead(body, live: set) -> list:
    """Remove assignments whose value is never read (all ops are pure; the tape is kept)."""
    return _dead(body, set(live))[0]


def _dead(body, live: set):
    """(the statements that matter, the names live before them), given those live after."""
    kept = []
    for stmt in reversed(body):
        if isinstance(stmt, ir.Assign) and stmt.target not in live:
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
    return kept[::-1], live


def _dead_nested(stmt, live: set):
    heads = ir.heads(stmt)
    if isinstance(stmt, ir.If):
        (body, a), (orelse, b) = _dead(stmt.body, set(live)), _dead(stmt.orelse, set(live))
        if not body and not orelse:
            return None, live                    # a branch with nothing left in it
        return ir.If(stmt.cond, tuple(body), tuple(orelse), stmt.loc), a | b | heads
    around = set(live) | heads                   # what a turn must keep for the next one
    while True:
        cycle = list(stmt.test) + list(stmt.body) if isinstance(stmt, ir.While) else list(stmt.body)
        _, start = _dead(cycle, set(around))
        if start <= around:
            break
        around |= start
    if isinstance(stmt, ir.While):
        body, _ = _dead(stmt.body, set(around))
        test, _ = _dead(stmt.test, set(around))
        return ir.While(tuple(test), stmt.cond, tuple(body), stmt.loc, stmt.counter), around
    body, _ = _dead(stmt.body, set(around))
    return ir.For(stmt.target, stmt.start, stmt.stop, stmt.step, tuple(body), stmt.loc, stmt.reverse), around


def _drop_empty_comments(body) -> list:
    kept = []
    for stmt in body:
        if isinstance(stmt, ir.Comment) and kept and isinstance(kept[-1], ir.Comment):
            kept.pop()
        kept.append(stmt)
    if kept and isinstance(kept[-1], ir.Comment):
        kept.pop()
    return kept
