"""The tape: what the reverse sweep of loops and branches needs from the forward one.

Inside loops and branches a variable is assigned again and again, so the
value an adjoint reads may be gone by the time the reverse sweep runs. The
forward sweep pushes a variable's old value on a list before each such
assignment, and the reverse sweep pops it back right after that line's
adjoint, so every adjoint sees the values its line saw:

    for i in range(n):                      tape = []
        x = x * 0.9 + np.sin(x)             for i in range(n):
                                                tape.append(x)
                                                x = x * 0.9 + np.sin(x)
                                            ...
                                            for i in reversed(range(n)):
                                                dx = dx * 0.9 + dx * np.cos(x)
                                                x = tape.pop()

Only variables the reverse sweep reads are recorded; an array written by
item (`h[t] = v`) records the item, not the array; a `while` loop counts
its turns. `record` inserts the pushes into the forward sweep and drops the
pops of whatever was not recorded.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ..ir import aliasing
from ..ir.names import Namer

TAPE = "tape"


def count_turns(fn: ir.Function) -> ir.Function:
    """Give every `while` loop a counter of its turns."""
    namer = Namer(set().union(*(ir.defs(s) | ir.uses(s) for s in fn.body)) | set(fn.params))
    body = _count(fn.body, namer)
    return replace(fn, body=body, temps=fn.temps | namer.made)


def _count(stmts, namer) -> tuple:
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.If):
            stmt = ir.If(stmt.cond, _count(stmt.body, namer), _count(stmt.orelse, namer), stmt.loc)
        elif isinstance(stmt, ir.For):
            stmt = ir.For(stmt.target, stmt.start, stmt.stop, stmt.step, _count(stmt.body, namer),
                          stmt.loc, stmt.reverse)
        elif isinstance(stmt, ir.While):
            turns = namer.fresh("turns")
            namer.made.add(turns)
            out.append(ir.Assign(turns, "id", (ir.Const(0),), (), stmt.loc))
            more = ir.Assign(turns, "add", (ir.Var(turns), ir.Const(1)), (), stmt.loc)
            stmt = ir.While(_count(stmt.test, namer), stmt.cond, _count(stmt.body, namer) + (more,),
                            stmt.loc, turns)
        out.append(stmt)
    return tuple(out)


def mutable_names(fn: ir.Function) -> frozenset:
    """Names assigned inside a loop or a branch (they are not renamed to SSA form)."""
    names = set()
    for stmt in fn.body:
        if isinstance(stmt, ir.NESTED):
            names |= ir.defs(stmt)
    return frozenset(names)


def bound_before(fn: ir.Function) -> dict:
    """For each loop or branch (by id), the names assigned before it starts."""
    bound, seen = {}, set(fn.params) | set(fn.free)
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.NESTED):
            bound[id(stmt)] = set(seen)
        seen |= ir.defs(stmt) if not isinstance(stmt, ir.NESTED) else set()
    return bound


def carried_by(stmt) -> set:
    """Names a loop body may read before it assigns them: their values go round the loop."""
    if not isinstance(stmt, (ir.For, ir.While)):
        return set()
    body = list(stmt.test) + list(stmt.body) if isinstance(stmt, ir.While) else list(stmt.body)
    return ir.exposed(body) & set().union(*(ir.defs(s) for s in body))


def written_index(stmt):
    """The index of an in-place write `a[i] = v` (or `a[i] += v`, or a gradient's
    `a[i] = pop(tape)`), whose item is what the tape keeps."""
    if isinstance(stmt, ir.Pop):
        return stmt.index
    if stmt.op in ("setitem", "add_at") and isinstance(stmt.args[0], ir.Var) and stmt.args[0].name == stmt.target:
        return stmt.args[1]
    return None


def record(forward, backward, out, sweep):
    """Push what the reverse sweep reads; drop the other pops. Returns the new forward
    and backward sweeps and the atom holding the function's value."""
    kept = _recorded(forward, backward, sweep)
    if not kept:
        return list(forward), _without_pops(backward, kept), out
    first_inside = _first_inside(forward, kept, sweep)
    start = [ir.Assign(TAPE, "list", ())] + [ir.Assign(n, "id", (ir.Const(None),)) for n in sorted(first_inside)]
    forward = start + _with_pushes(forward, kept, sweep.first)
    return forward, _without_pops(backward, kept), _kept_value(out, forward, kept, sweep)


def _kept_value(out, forward: list, kept: set, sweep):
    """The function's value (each item of a tuple) in a variable the reverse sweep does
    not rewind (a copy is appended to `forward` where it would)."""
    if isinstance(out, tuple):
        return tuple(_kept_value(item, forward, kept, sweep) for item in out)
    if isinstance(out, ir.Var) and out.name in kept:
        value = sweep.namer.fresh(out.name + "_value")
        forward.append(ir.Assign(value, "np.copy" if _written_in_place(forward, out.name) else "id", (out,)))
        out = ir.Var(value)
    return out


def _recorded(forward, backward, sweep) -> set:
    """The mutable names whose old values the reverse sweep reads."""
    reads = set()
    for stmt in ir.walk(backward):
        if not isinstance(stmt, ir.Pop):
            reads |= ir.uses(stmt) if not isinstance(stmt, ir.NESTED) else ir.heads(stmt)
    # a top-level `while` counter is read once, at its final value, before the reverse loop
    reads -= {s.counter for s in forward if isinstance(s, ir.While)}
    reads |= _viewed(list(ir.walk(forward)), sweep.mutable, reads)
    kept, changed = set(), True
    while changed:          # an index the tape restores an item at must be restored too
        changed = False
        for name in sorted((reads & sweep.mutable) - kept):
            kept.add(name)
            changed = True
        for stmt in ir.walk(backward):
            if isinstance(stmt, ir.Pop) and stmt.target in kept and stmt.index is not None:
                new = ir.uses(stmt) - {stmt.target, TAPE} - reads
                reads |= new
                changed |= bool(new)
    return kept


def _viewed(flat, names, reads) -> set:
    """The arrays among `names` that a value the reverse sweep reads may be a view of:
    restoring the array's items is what keeps that view right."""
    written = {s.target for s in flat if isinstance(s, ir.Assign) and written_index(s) is not None}
    return {n for n in set(names) & written if aliasing.views_of(flat, n) & reads}


def first_bindings(fn: ir.Function) -> set:
    """Ids of the assignments with no older value to keep: the top-level ones that give a
    name its first value, and the steps of a `while` counter (the reverse sweep reads a
    counter's final value only, restored with the `turns = 0` before the loop)."""
    seen, first = set(fn.params) | set(fn.free), set()
    for stmt in fn.body:
        if isinstance(stmt, ir.Assign) and stmt.target not in seen:
            first.add(id(stmt))
        seen |= set().union(*(ir.defs(s) for s in ir.walk([stmt])))
    for loop in ir.walk(fn.body):
        if isinstance(loop, ir.While):
            first |= {id(s) for s in loop.body if isinstance(s, ir.Assign) and s.target == loop.counter}
    return first


def _first_inside(forward, kept, sweep) -> set:
    """Recorded names first assigned inside a loop or branch: they need a value to push."""
    seen = set(sweep.fn.params)
    inside = set()
    for stmt in forward:
        if isinstance(stmt, ir.NESTED):
            inside |= ir.defs(stmt) - seen
        seen |= ir.defs(stmt)
    return inside & kept


def _written_in_place(forward, name) -> bool:
    return any(isinstance(s, ir.Assign) and written_index(s) is not None and s.target == name
               for s in ir.walk(forward))


def _with_pushes(stmts, kept, first) -> list:
    out = []
    for stmt in stmts:
        if isinstance(stmt, (ir.Assign, ir.Pop)) and stmt.target in kept and id(stmt) not in first:
            out.append(ir.Push(TAPE, ir.Var(stmt.target), written_index(stmt)))
        out.append(ir.with_bodies(stmt, lambda body: tuple(_with_pushes(body, kept, first))))
    return out


def _without_pops(stmts, kept) -> list:
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Pop) and stmt.tape == TAPE and stmt.target not in kept:
            continue
        out.append(ir.with_bodies(stmt, lambda body: tuple(_without_pops(body, kept))))
    return out


def prune(fn: ir.Function) -> ir.Function:
    """Drop the pushes and pops of variables the reverse sweep (from the first statement
    that pops) no longer reads, now that optimization has simplified it."""
    flat = list(ir.walk(fn.body))
    first = next((i for i, top in enumerate(fn.body)
                  if any(_taped(s, ir.Pop) for s in ir.walk([top]))), None)
    if first is None:
        return fn
    reads = set()
    for stmt in ir.walk(fn.body[first:]):
        if isinstance(stmt, ir.Pop):
            continue
        reads |= ir.heads(stmt) if isinstance(stmt, ir.NESTED) else ir.uses(stmt)
    popped = {s.target for s in flat if _taped(s, ir.Pop)}
    reads |= _viewed(flat, popped, reads)
    kept, changed = popped & reads, True
    while changed:            # an index an item is restored at must be restored too
        new = set().union(*(ir.uses(s) - {s.target, TAPE} for s in flat
                            if _taped(s, ir.Pop) and s.target in kept and s.index is not None))
        changed = bool((new & popped) - kept)
        kept |= new & popped
    if kept == popped:
        return fn
    drop = popped - kept
    return replace(fn, body=tuple(_without(fn.body, drop)))


def _without(stmts, drop) -> list:
    out = []
    for stmt in stmts:
        if _taped(stmt, ir.Pop) and stmt.target in drop or \
                _taped(stmt, ir.Push) and getattr(stmt.value, "name", None) in drop:
            continue
        out.append(ir.with_bodies(stmt, lambda body: tuple(_without(body, drop))))
    return out


def _taped(stmt, kind) -> bool:
    """A push or pop (`kind`) of this derivative's own tape (a gradient differentiated again
    also keeps the gradient's tape, which is not for pruning)."""
    return isinstance(stmt, kind) and stmt.tape == TAPE
