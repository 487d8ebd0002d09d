"""Rows: an array filled row by row in a loop needs no rewinding.

The tape saves the part of an array a write overwrites and the reverse sweep
puts it back, in case something read the old value. When a loop writes row
`t + c` of an array it made itself (`h[t + 1] = ...`), reads only rows
`t + c'` with `c' <= c` (never a row before the loop writes it), and the code
before the loop touches only rows the loop never writes, no turn ever sees a
row another turn overwrites. Then

    forward:  push(tape, h[add_t])          reverse:  copy = np.copy(dh[add_t])
              h[add_t] = v                            dh[add_t] = 0.0
                                                      h[add_t] = pop(tape)

lose the push, the pop and the zeroing of the row's adjoint (nothing reads it
again), and the row's adjoint is read in place. A restore at the very end of
the reverse sweep that nothing reads afterwards goes too.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir

FRESH = {"np.zeros", "np.ones", "np.zeros_like", "np.ones_like", "np.empty"}   # no derivative flows back


def run(fn: ir.Function) -> ir.Function:
    body = list(fn.body)
    for i, loop in enumerate(body):
        if isinstance(loop, ir.For) and not loop.reverse:
            for write in [s for s in loop.body if _is_row_write(s)]:
                if _written_once(fn, body, i, loop, write):
                    body = _unrewound(body, loop, write)
    return replace(fn, body=tuple(_last_restores(body)))


def _is_row_write(s) -> bool:
    return isinstance(s, ir.Assign) and s.op == "setitem" and isinstance(s.args[0], ir.Var) \
        and s.args[0].name == s.target and isinstance(s.args[1], ir.Index) and len(s.args[1].items) == 1


def _offset(atom, loop: ir.For, before: list):
    """c when `atom` is `t + c` (t the loop's turn), known from the statements `before`."""
    if atom == ir.Var(loop.target):
        return 0
    defs = [s for s in loop.body if isinstance(s, ir.Assign) and isinstance(atom, ir.Var) and s.target == atom.name]
    if len(defs) != 1 or not any(d is defs[0] for d in before) or any(atom.name in ir.defs(s) for s in ir.walk(loop.body)
                                                      if isinstance(s, ir.NESTED)):
        return None
    s = defs[0]
    consts = [a.value for a in s.args if isinstance(a, ir.Const) and type(a.value) is int]
    if s.op in ("add", "sub") and len(consts) == 1 and ir.Var(loop.target) in s.args \
            and (s.op == "add" or s.args[0] == ir.Var(loop.target)):
        return consts[0] if s.op == "add" else -consts[0]
    return None


def _written_once(fn, body, i, loop, write) -> bool:
    array = write.target
    if array in fn.params or array in fn.free or not (isinstance(loop.step, ir.Const) and loop.step.value > 0):
        return False
    if any(loop.target in ir.defs(s) for s in ir.walk(loop.body)):
        return False                                    # the turn's number is not `t` throughout
    position = loop.body.index(write)
    wrote = _offset(write.args[1].items[0], loop, list(loop.body[:position]))
    if wrote is None or not isinstance(loop.start, ir.Const) or any(
            isinstance(s, ir.Assign) and s.target == array for s in ir.walk(loop.body) if s is not write):
        return False
    for k, s in enumerate(loop.body):
        if s is write or array not in ir.uses(s):
            continue
        if isinstance(s, ir.Push) and s.index == write.args[1] and loop.body[k + 1] is write:
            continue                                    # the save this pass removes
        if not (isinstance(s, ir.Assign) and s.op == "getitem" and s.args[0] == ir.Var(array)
                and isinstance(s.args[1], ir.Index) and len(s.args[1].items) == 1):
            return False
        read = _offset(s.args[1].items[0], loop, list(loop.body[:k]))
        if read is None or read > wrote or read == wrote and k < position or loop.start.value + read < 0:
            return False                                # (a negative row counts from the end)
    first_row = loop.start.value + wrote
    return first_row >= 0 and _untouched_before(body[:i], array, first_row)


def _untouched_before(stmts, array, first_row) -> bool:
    """The code before the loop made `array` fresh and touched only rows before `first_row`."""
    made = False
    for s in stmts:
        if isinstance(s, ir.NESTED) and array in ir.uses(s) | set().union(*(ir.defs(t) for t in ir.walk([s]))):
            return False
        if isinstance(s, ir.Assign) and s.target == array and s.op in FRESH:
            made = True
            continue
        if array not in ir.uses(s) and not (isinstance(s, ir.Assign) and s.target == array):
            continue
        index = s.index if isinstance(s, ir.Push) else s.args[1] if _is_row_write(s) else None
        row = index.items[0] if index is not None else None
        if not (isinstance(row, ir.Const) and type(row.value) is int and 0 <= row.value < first_row):
            return False
    return made


def _unrewound(body, loop, write) -> list:
    """The body without the loop's save and restore of the row, nor the zeroing of its adjoint."""
    index = write.args[1]
    backs = [s for s in body if isinstance(s, ir.For) and s.reverse
             and any(isinstance(p, ir.Pop) and p.target == write.target for p in ir.walk(s.body))]
    fronts = [s for s in body if isinstance(s, ir.For) and not s.reverse
              and any(isinstance(p, ir.Push) and p.value == ir.Var(write.target) for p in ir.walk(s.body))]
    if len(backs) != 1 or fronts != [loop]:
        return body                                     # which reverse loop is this one's: unclear
    back = backs[0]
    forward = replace(loop, body=tuple(s for s in loop.body if not (isinstance(s, ir.Push) and s.index == index
                                                                     and s.value == ir.Var(write.target))))
    zeroed = {s.target for s in back.body if isinstance(s, ir.Assign) and s.op == "setitem"
              and s.args[1] == index and s.args[2] == ir.Const(0.0)}
    rows = {s.target for s in back.body if isinstance(s, ir.Assign) and s.op == "getitem"
            and s.args[0] in [ir.Var(z) for z in zeroed] and s.args[1] == index}
    kept = []
    for s in back.body:
        if isinstance(s, ir.Pop) and s.target == write.target and s.index == index:
            continue
        if isinstance(s, ir.Assign) and s.op == "setitem" and s.target in zeroed and s.args[1] == index \
                and s.args[2] == ir.Const(0.0):
            continue
        if isinstance(s, ir.Assign) and s.op == "np.copy" and s.args[0] in [ir.Var(r) for r in rows]:
            s = replace(s, op="id")                      # the row stays as it is: read it in place
        kept.append(s)
    return [forward if s is loop else replace(back, body=tuple(kept)) if s is back else s for s in body]


def _last_restores(body) -> list:
    """Drop a restore at the end of the reverse sweep that nothing reads afterwards, with the
    save it matches (the first thing on the tape)."""
    while True:
        tape_ops = [k for k, s in enumerate(body) if isinstance(s, (ir.Push, ir.Pop))
                    or isinstance(s, ir.NESTED) and any(isinstance(t, (ir.Push, ir.Pop)) for t in ir.walk([s]))]
        if len(tape_ops) < 2:
            return body
        first, last = body[tape_ops[0]], body[tape_ops[-1]]
        if not (isinstance(first, ir.Push) and isinstance(last, ir.Pop) and last.index is not None
                and first.value == ir.Var(last.target) and first.index == last.index
                and not any(last.target in ir.uses(s) for s in body[tape_ops[-1] + 1:])):
            return body
        body = [s for k, s in enumerate(body) if k not in (tape_ops[0], tape_ops[-1])]
