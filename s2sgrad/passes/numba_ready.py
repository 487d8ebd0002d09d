"""Numba-ready: what Numba's nopython mode needs of shape-specialized code (the numba backend).

    before                                  after
    tape = list()                           tape_x = list()
                                            tape_h_item = list()
    h_item = id(None)                       h_item = np.zeros((8,))     (an array of its shape)
    t = id(None)                            t = id(0)                   (an int)
    push(tape, x)                           push(tape_x, x)
    x = pop(tape)                           x = pop(tape_x)
    c = np.copy(item)                       c = id(item)                (item a number)
    k = mul(n, m)                           k = int_mul(n, m)           (ints: raises past int64)
    y = np.reshape(x, s)                    y = np.reshape(contiguous(x), s)
    tape_t = list()                         n_t = 0
    for i in range(n):                      tape_t = np.empty(trips(0, n, 1), dtype=np.float64)
        push(tape_t, t)                     for i in range(n):
                                                n_t = tape_push(tape_t, n_t, t)
    t = pop(tape_t)                         n_t = n_t - 1; t = tape_t[n_t]

Numba gives every variable one type: a list holds items of one type (so one tape per
name the tape saves), and a name that holds None before the loop that sets it cannot
hold an array there (a placeholder of the type the shapes analysis says it holds).
A tape of numbers that `for` loops fill, their turns known before the outermost runs,
is an array of as many entries (a list grows as it goes, which costs more than the
loop's own work in Numba); `tape_push` refuses, when Numba types it, a value not of the
tape's type. Descending loops are the emitter's (`range(n - 1, -1, -1)`). A placeholder
whose type is not known stays None, and Numba's typing error names it
(backend/numba_backend.py says where, at the user's line).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import ir
from ..ir.names import Namer
from . import shapes


def run(fn: ir.Function, params: dict) -> ir.Function:
    known = shapes.infer(fn, params)
    popped = {s.tape for s in ir.walk(fn.body) if isinstance(s, ir.Pop)}   # (a list read whole stays one)
    tapes: dict = {}
    namer = Namer.of(fn)
    body = _visit(fn.body, known, tapes, popped, namer)
    body = _preallocated(body, known, namer)
    return replace(fn, body=body, temps=fn.temps | set(tapes.values()) | namer.made)


def _visit(stmts, known: dict, tapes: dict, popped: set, namer: Namer) -> tuple:
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.NESTED):
            stmt = ir.with_bodies(stmt, lambda body: _visit(body, known, tapes, popped, namer))
        elif isinstance(stmt, ir.Push) and isinstance(stmt.value, ir.Var) and stmt.tape in popped:
            tape = _tape(tapes, stmt.tape, stmt.value.name, stmt.index)
            if stmt.index is not None and _one_entry(stmt.value, stmt.index, known):
                entry = namer.fresh(stmt.value.name + "_entry")     # (a number: saved as it is, not copied)
                out.append(ir.Assign(entry, "getitem", (stmt.value, stmt.index)))
                stmt = ir.Push(tape, ir.Var(entry))
            else:
                stmt = replace(stmt, tape=tape)
        elif isinstance(stmt, ir.Assign) and stmt.op == "np.copy" and _number(stmt.args[0], known):
            stmt = replace(stmt, op="id")       # (a copy of a number: Numba's np.copy makes a 0-d array)
        elif isinstance(stmt, ir.Assign) and stmt.op in CHECKED and all(_integer(a, known) for a in stmt.args):
            stmt = replace(stmt, op=CHECKED[stmt.op])      # (Python's ints do not overflow; Numba's do)
        elif isinstance(stmt, ir.Assign) and stmt.op == "np.reshape" and isinstance(stmt.args[0], ir.Var):
            laid = namer.fresh(stmt.args[0].name + "_laid")    # (Numba reshapes no strided array)
            out.append(ir.Assign(laid, "contiguous", (stmt.args[0],), (), stmt.loc))
            stmt = replace(stmt, args=(ir.Var(laid), *stmt.args[1:]))
        elif isinstance(stmt, ir.Pop):
            stmt = replace(stmt, tape=_tape(tapes, stmt.tape, stmt.target, stmt.index))
        elif isinstance(stmt, ir.Assign) and stmt.op == "id" and stmt.args == (ir.Const(None),):
            stmt = _typed(stmt, known.get(stmt.target))
        out.append(stmt)
    return _made(tuple(out), tapes)


CHECKED = {"add": "int_add", "sub": "int_sub", "mul": "int_mul", "pow": "int_pow"}
# arithmetic on two Python ints, written as helpers that raise where int64 would overflow


def _integer(atom, known: dict) -> bool:
    """Whether `atom` is a Python int (not a bool, nor an array of integers)."""
    if isinstance(atom, ir.Const):
        return isinstance(atom.value, int) and not isinstance(atom.value, bool)
    shaped = known.get(atom.name) if isinstance(atom, ir.Var) else None
    return shaped is not None and shaped.shape == () and isinstance(shaped.dtype, np.dtype) and \
        shaped.dtype.kind in "iu"


def _one_entry(array, index: ir.Index, known: dict) -> bool:
    """Whether `array[index]` is one number: an index of as many numbers as it has axes."""
    shaped = known.get(array.name)
    return shaped is not None and len(index.items) == len(shaped.shape) and \
        all(isinstance(i, (ir.Var, ir.Const)) and _number(i, known) or isinstance(i, ir.Const) for i in index.items)


def _number(atom, known: dict) -> bool:
    if isinstance(atom, ir.Const):
        return isinstance(atom.value, (int, float))
    shaped = known.get(atom.name) if isinstance(atom, ir.Var) else None
    return shaped is not None and shaped.shape == ()


def _tape(tapes: dict, tape: str, name: str, index) -> str:
    """The tape of its own that the saved values of `name` go on (its rows: another)."""
    return tapes.setdefault((tape, name, index is not None), f"{tape}_{name}" + ("_rows" if index is not None else ""))


def _made(stmts: tuple, tapes: dict) -> tuple:
    """`stmts` with each shared tape made replaced by the tapes that split it."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Assign) and stmt.op == "list" and not stmt.args and \
                any(tape == stmt.target for tape, _, _ in tapes):
            out += [ir.Assign(new, "list", (), (), stmt.loc) for (tape, _, _), new in sorted(tapes.items())
                    if tape == stmt.target]
            continue
        out.append(stmt)
    return tuple(out)


def _typed(stmt: ir.Assign, shaped) -> ir.Assign:
    """A placeholder None given the type of what the name holds elsewhere."""
    if shaped is None or not isinstance(shaped.dtype, np.dtype) or shaped.dtype.kind not in "biufc":
        return stmt
    if not shaped.shape:
        zero = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}[shaped.dtype.kind]
        return ir.Assign(stmt.target, "id", (ir.Const(zero),), (), stmt.loc)
    return ir.Assign(stmt.target, "np.zeros", (ir.Const(tuple(shaped.shape)),),
                     (("dtype", shaped.dtype.type),), stmt.loc)


def _preallocated(body: tuple, known: dict, namer: Namer) -> tuple:
    """`body` with each tape of numbers that only `for` loops fill, whose turns are known
    before the outermost of them runs, made an array of that many entries and a count
    (a list grows as it goes, which costs Numba more than the loop's own work)."""
    sites: dict = {}
    _sites(body, (), sites)
    every = [s for s in ir.walk_all(body) if isinstance(s, (ir.Push, ir.Pop))]
    plans = {}
    for tape, found in sites.items():
        dtype = _planned(found, known)
        if dtype is not None and len(found) == sum(isinstance(s, ir.Push) and s.tape == tape for s in every):
            plans[tape] = (found, dtype, namer.fresh("n_" + tape.removeprefix("tape_")))
    if not plans:
        return body
    pops = [s for s in every if isinstance(s, ir.Pop) and s.tape in plans]
    outside = [s for s in ir.walk(body) if isinstance(s, ir.Pop) and s.tape in plans]     # (none in a Def)
    if any(p.index is not None for p in pops) or len(outside) != len(pops) or not _at_top(body, plans):
        return body
    return _rewritten(body, plans, namer)


def _sites(stmts, loops: tuple, sites: dict) -> None:
    """Each tape's pushes, with the loops around each (outermost first)."""
    for stmt in stmts:
        if isinstance(stmt, ir.Push):
            sites.setdefault(stmt.tape, []).append((loops, stmt))
        elif isinstance(stmt, ir.NESTED):
            inside = loops + (stmt,) if isinstance(stmt, (ir.For, ir.While)) else loops
            for body in ir.bodies(stmt):
                _sites(body, inside, sites)


def _planned(found: list, known: dict):
    """The dtype of the numbers a tape saves, if an array can hold them all: every push
    inside `for` loops within the same outermost loop, whose bounds that loop leaves
    alone; else None."""
    outer, dtypes = found[0][0][:1], set()
    for loops, push in found:
        if not loops or loops[0] is not outer[0] or not all(isinstance(loop, ir.For) for loop in loops) \
                or push.index is not None or not isinstance(push.value, ir.Var):
            return None
        shaped = known.get(push.value.name)
        if shaped is None or shaped.shape != () or not isinstance(shaped.dtype, np.dtype) or \
                shaped.dtype.kind not in "bif":
            return None
        dtypes.add(shaped.dtype)
    changed = ir.defs(outer[0])
    bounds = {a.name for loops, _ in found for loop in loops for a in (loop.start, loop.stop, loop.step)
              if isinstance(a, ir.Var)}
    return dtypes.pop() if len(dtypes) == 1 and not bounds & changed else None


def _at_top(body: tuple, plans: dict) -> bool:
    """Whether each planned tape is made by the function's own statements (not a branch's)."""
    made = {s.target for s in body if isinstance(s, ir.Assign) and s.op == "list"}
    return all(tape in made for tape in plans)


def _rewritten(stmts: tuple, plans: dict, namer: Namer) -> tuple:
    """`stmts` with the planned tapes made before their loops, pushed and popped by count."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Assign) and stmt.op == "list" and stmt.target in plans:
            found, dtype, count = plans[stmt.target]
            out.append(ir.Assign(count, "id", (ir.Const(0),), (), stmt.loc))
            if not any(s is loops[0] for loops, _ in found for s in stmts):   # (made in a branch: a placeholder)
                out.append(ir.Assign(stmt.target, "np.empty", (ir.Const(0),), (("dtype", dtype.type),), stmt.loc))
            continue
        if isinstance(stmt, ir.For):
            sizes: dict = {}                   # (tapes the same loops fill: one size)
            for tape, (found, dtype, _) in sorted(plans.items()):
                if found[0][0][0] is stmt:
                    size = _capacity([loops for loops, _ in found], namer, sizes, out)
                    out.append(ir.Assign(tape, "np.empty", (size,), (("dtype", dtype.type),), stmt.loc))
        if isinstance(stmt, ir.NESTED):
            stmt = ir.with_bodies(stmt, lambda body: _rewritten(body, plans, namer))
        elif isinstance(stmt, ir.Push) and stmt.tape in plans:
            count = plans[stmt.tape][2]
            stmt = ir.Assign(count, "tape_push", (ir.Var(stmt.tape), ir.Var(count), stmt.value))
        elif isinstance(stmt, ir.Pop) and stmt.tape in plans:
            count = plans[stmt.tape][2]
            out.append(ir.Assign(count, "sub", (ir.Var(count), ir.Const(1))))
            stmt = ir.Assign(stmt.target, "getitem", (ir.Var(stmt.tape), ir.Index((ir.Var(count),))))
        out.append(stmt)
    return tuple(out)


def _capacity(chains: list, namer: Namer, sizes: dict, out: list):
    """The number of pushes the loops of `chains` can make at most (an atom), computed by
    statements appended to `out`: for each push, the product of its loops' turns, summed
    (`sizes`: what was computed already, by the loop or chain of loops)."""
    def once(key, made):
        if key not in sizes:
            sizes[key] = made()
        return sizes[key]

    def trips(loop):
        bounds = (loop.start, loop.stop, loop.step)
        if all(isinstance(a, ir.Const) for a in bounds):
            return ir.Const(len(range(*(a.value for a in bounds))))
        return once(id(loop), lambda: computed("turns", "trips", bounds))

    def computed(base, op, args):
        name = namer.fresh(base)
        out.append(ir.Assign(name, op, args))
        return ir.Var(name)

    def combined(op, a, b):
        if isinstance(a, ir.Const) and isinstance(b, ir.Const):
            return ir.Const(a.value * b.value if op == "int_mul" else a.value + b.value)
        if a == ir.Const(1 if op == "int_mul" else 0):
            return b
        return once((op, a, b), lambda: computed("size", op, (a, b)))

    total = ir.Const(0)
    for loops in chains:
        product = ir.Const(1)
        for loop in loops:
            product = combined("int_mul", product, trips(loop))
        total = combined("int_add", total, product)
    return total
