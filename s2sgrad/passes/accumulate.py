"""Accumulate: a weight's gradient summed over a loop's turns in one matrix product.

A reverse loop that adds one outer product per turn into the gradient of a
matrix the loop never changes (an RNN's `W @ h[t]`) spends most of its time
writing that matrix, once per turn. The sum of the products is one product
of the stacked factors, so the loop keeps the factors and one call adds them
after it:

    for t in reversed(range(T)):            dh_items = []
        ...                                 dmatmul_Ws = []
        part = matmul_dleft(g, W, h_t)      for t in reversed(range(T)):
        dW = iadd(dW, part)                     ...
                                                push(dmatmul_Ws, copy(g)); push(dh_items, copy(h_t))
                                            dW = iadd(dW, matmul_dleft_sum(dmatmul_Ws, W, dh_items))

The factors are copied when kept (the reverse sweep may overwrite them later).
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir, rules
from ..ir.names import Namer

SUMMED = {"matmul_dleft": ("matmul_dleft_sum", 0), "matmul_dright": ("matmul_dright_sum", 1)}
# op -> (its summing helper, the position among the factors of the loop-invariant matrix)


def run(fn: ir.Function) -> ir.Function:
    namer = Namer.of(fn)
    counts = _reads(fn.body)
    made: set = set()
    everything = list(ir.walk_all(fn.body))
    body = _block(fn.body, (counts, everything, fn.derived), namer, made)
    return replace(fn, body=body, temps=fn.temps | made, derived=fn.derived | made)


def _reads(stmts) -> dict:
    """How many simple statements read each name."""
    counts: dict = {}
    for s in ir.walk(stmts):
        for n in ir.uses(s) if not isinstance(s, ir.NESTED) else ():
            counts[n] = counts.get(n, 0) + 1
    return counts


def _block(stmts, facts, namer, made) -> tuple:
    out = []
    for s in stmts:
        if isinstance(s, ir.Def):
            s = ir.Def(replace(s.fn, body=_block(s.fn.body, facts, namer, made)), s.loc)
        else:
            s = ir.with_bodies(s, lambda body: _block(body, facts, namer, made))
        if isinstance(s, ir.For) and s.reverse:
            out += _summed(s, facts, namer, made)
        else:
            out.append(s)
    return tuple(out)


def _fresh(name: str, loop: ir.For, everything: list, derived: frozenset) -> bool:
    """Whether the array `name` holds stays as it is until the loop ends: made in the loop
    by an elementwise op (a new array each turn), never shared by name nor written in
    place; or a value of the forward sweep when the loop writes into none of those."""
    defs = [s for s in ir.walk(loop.body) if name in ir.defs(s) and not isinstance(s, ir.NESTED)]
    if name not in derived:
        return not any(isinstance(s, ir.Pop) and s.index is not None
                       or isinstance(s, ir.Assign) and s.op in ("iadd", "setitem") and s.target not in derived
                       for s in ir.walk(loop.body))
    if len(defs) != 1 or not isinstance(defs[0], ir.Assign) or defs[0].op in ("id", "float") \
            or rules.OPS[defs[0].op].kind != "elementwise":
        return False
    return not any(isinstance(s, ir.Assign) and (s.op == "id" or s.op in ("iadd", "setitem"))
                   and s.args and s.args[0] == ir.Var(name) for s in everything)


def _summed(loop: ir.For, facts, namer, made) -> list:
    """The loop with its per-turn products kept and summed after it (or unchanged)."""
    counts, everything, derived = facts
    changed = set().union(*(ir.defs(s) for s in ir.walk(loop.body)))
    read = _reads(loop.body)
    before, body, after = [], list(loop.body), []
    for i, s in enumerate(loop.body):
        if not (isinstance(s, ir.Assign) and s.op in SUMMED and all(isinstance(a, ir.Var) for a in s.args)):
            continue
        helper, fixed = SUMMED[s.op]
        matrix = s.args[1 + fixed]
        add = next((t for t in loop.body[i + 1:] if isinstance(t, ir.Assign) and t.op in ("iadd", "add")
                    and t.args == (ir.Var(t.target), ir.Var(s.target))), None)
        if add is None or matrix.name in changed or counts.get(s.target) != 1 or read.get(add.target) != 1 \
                or sum(add.target in ir.defs(t) for t in ir.walk(loop.body) if not isinstance(t, ir.NESTED)) != 1:
            continue
        kept = (s.args[0], s.args[2 - fixed])          # the cotangent, the other operand
        lists = [namer.fresh(a.name + "s") for a in kept]
        made.update(lists)
        before += [ir.Assign(name, "list", (), (), s.loc) for name in lists]
        pushes = []
        for name, atom in zip(lists, kept):
            if _fresh(atom.name, loop, everything, derived):
                pushes.append(ir.Push(name, atom))
                continue
            copy = namer.fresh(atom.name + "_kept")
            made.add(copy)
            pushes += [ir.Assign(copy, "np.copy", (atom,), (), s.loc), ir.Push(name, ir.Var(copy))]
        body = [p for t in body for p in (pushes if t is s else [] if t is add else [t])]
        total = namer.fresh(s.target + "_sum")
        made.add(total)
        factors = [ir.Var(lists[0]), matrix, ir.Var(lists[1])] if fixed == 0 else \
            [ir.Var(lists[0]), ir.Var(lists[1]), matrix]
        after += [ir.Assign(total, helper, tuple(factors), (), s.loc),
                  ir.Assign(add.target, add.op, (ir.Var(add.target), ir.Var(total)), (), add.loc)]
    if not after:
        return [loop]
    return before + [replace(loop, body=tuple(body))] + after
