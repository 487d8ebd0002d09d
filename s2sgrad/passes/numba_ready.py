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

Numba gives every variable one type: a list holds items of one type (so one tape per
name the tape saves), and a name that holds None before the loop that sets it cannot
hold an array there (a placeholder of the type the shapes analysis says it holds).
Descending loops are the emitter's (`range(n - 1, -1, -1)`). A placeholder whose type is
not known stays None, and Numba's typing error names it (backend/numba_backend.py says
where, at the user's line).
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
