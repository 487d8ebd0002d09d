"""Buffers: a large result is written into memory the code already holds.

    dx = setitem(dx, [:-1], v)          np.multiply(-2, sub_2, out=dx[:-1])
        (v = mul(-2, sub_2))                (no temporary, no copy into the slice)
    dsub = mul(200.0, sub)              dsub = np.multiply(200.0, sub, out=sub)
        (sub read no more)                  (sub's memory, which nothing reads again)

NumPy reuses the memory of a temporary that has no name (`2 * a * b` makes
one array), but a value the code names and reads twice keeps its memory
until the function returns, and writing a result into part of an array
first makes it whole elsewhere. On large arrays each new array costs a pass
over memory, so with shapes known (specialized code) an elementwise result:

- that fills a slice of an array written in place exactly (same shape and
  dtype) is computed into that slice (`out=` the slice);
- whose argument is a new array of its shape and dtype, read by nothing
  after it and seen by no one else (no view, tape, closure or call has it),
  is computed into that argument's memory (a temporary read once is NumPy's
  own to reuse, except on the right of `-` and `/`, where NumPy cannot).

And a gradient of zeros first written into a slice is made empty, and only
the rest of it zeroed: `dx = np.empty_like(x); ...; dx[-1:] = 0.0`.

Marked with the static `out` (True for a slice, else the name); the emitter
writes NumPy's `out=`. Small arrays are left alone: NumPy's allocator makes
them cheaply, and `out=` would be noise in the code.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from .. import ir, rules
from ..ir.aliasing import views_of
from .cse import NOT_MERGED as IMPURE
from .shapes import infer
from .specialize import owned

LARGE = 1 << 16            # entries from which a new array costs more than a pass over it
ARITHMETIC = {"add", "sub", "mul", "div", "pow", "neg"}


def run(fn: ir.Function, params: dict) -> ir.Function:
    known = infer(fn, params)
    body = _sunk(list(fn.body))
    reads = Counter(n for s in ir.walk_all(body) if not isinstance(s, ir.NESTED) for n in ir.uses(s))
    reads.update(n for s in ir.walk_all(body) if isinstance(s, ir.NESTED) for n in ir.heads(s))
    filled = set()                   # values written into a slice (filled, or `a[i] += v`)
    for i, s in enumerate(body):
        if isinstance(s, ir.Assign) and s.op == "setitem":
            body[i] = _filled(s, body[:i], known, reads)
            filled |= {a.name for a in s.args[2:] if isinstance(a, ir.Var)}
    for i, s in enumerate(body):
        if isinstance(s, ir.Assign) and _ufunc(s) and s.target not in filled and _large(known.get(s.target)):
            body[i] = _reusing(s, body[:i], body[i + 1:], known, reads)
    return replace(fn, body=tuple(_unzeroed(body, known)))


def _unzeroed(body: list, known: dict) -> list:
    """`dx = zero_grad(x)` written first into a slice: only the rest is zeroed."""
    out = []
    for s in body:
        made = out[-1] if out else None
        if isinstance(s, ir.Assign) and s.op == "setitem" and isinstance(made, ir.Assign) \
                and made.op == "zero_grad" and made.target == s.target == getattr(s.args[0], "name", None) \
                and _large(known.get(s.target)) and known.get(s.target) == known.get(made.args[0].name) \
                and (rest := _complement(s.args[1], known[s.target].shape)) is not None:
            out[-1] = replace(made, op="np.empty_like")
            out += [s] + [ir.Assign(s.target, "setitem", (ir.Var(s.target), part, ir.Const(0.0)), (), s.loc)
                          for part in rest]
            continue
        out.append(s)
    return out


def _complement(index: ir.Index, shape: tuple):
    """The indices of the entries `[a:b]` leaves out along the first axis (`[:a]`, `[b:]`),
    when the index is one such slice of numbers."""
    if len(index.items) != 1 or not isinstance(index.items[0], ir.Slice) or not shape:
        return None
    cut = index.items[0]
    if cut.step is not None or any(p is not None and not (isinstance(p, ir.Const) and isinstance(p.value, int))
                                   for p in (cut.lower, cut.upper)):
        return None
    start, stop, _ = slice(*(None if p is None else p.value for p in (cut.lower, cut.upper))).indices(shape[0])
    if start > stop:
        return None
    return [ir.Index((ir.Slice(None, p, None) if left else ir.Slice(p, None, None),))
            for p, left, edge in ((cut.lower, True, start), (cut.upper, False, shape[0] - stop)) if edge > 0]


def _sunk(body: list) -> list:
    """The values only the returned value reads, computed just before the return (where
    the emitter would print them anyway), so that what they read last is known here:
    `sub_2 ** 2` in the value, after the gradient's last use of sub_2."""
    if not body or not isinstance(body[-1], ir.Return):
        return body
    readers: dict = {}
    for t in ir.walk_all(body):
        for name in ir.uses(t) if not isinstance(t, ir.NESTED) else ir.heads(t):
            readers.setdefault(name, []).append(t)
    counts = ir.assignments(body)
    sunk: list = []
    for i in range(len(body) - 2, -1, -1):
        s = body[i]
        if isinstance(s, ir.Assign) and _pure(s) and counts[s.target] == 1 \
                and all(any(r is t for t in sunk) or r is body[-1] for r in readers.get(s.target, [None])) \
                and not _written_after(body, i, s):
            sunk.insert(0, s)
    moved = [s for s in body[:-1] if not any(s is t for t in sunk)]
    return moved + sunk + body[-1:]


def _pure(s: ir.Assign) -> bool:
    op = rules.OPS.get(s.op)
    return op is not None and op.kind in ("elementwise", "adjoint", "helper") and s.op not in IMPURE


def _written_after(body: list, i: int, s: ir.Assign) -> bool:
    """Whether a statement after body[i] assigns what `s` reads, or a view of it."""
    seen = set().union(*(views_of(body, n) for n in ir.uses(s))) if ir.uses(s) else set()
    return any(seen & ir.defs(t) for t in body[i + 1:])


def _ufunc(s: ir.Assign) -> bool:
    op = rules.OPS.get(s.op)
    return s.op in ARITHMETIC or (op is not None and op.kind == "elementwise" and isinstance(op.obj, np.ufunc)
                                  and op.obj.nout == 1 and not s.params)


def _large(shaped) -> bool:
    return shaped is not None and shaped.dtype.kind == "f" and len(shaped.shape) > 0 \
        and int(np.prod(shaped.shape)) >= LARGE


def _filled(s: ir.Assign, before: list, known: dict, reads: Counter) -> ir.Assign:
    """A slice of an array written in place, from a value made for it alone."""
    array, index, value = s.args
    if not (isinstance(value, ir.Var) and s.target == getattr(array, "name", None) and reads[value.name] == 1):
        return s
    made = next((t for t in reversed(before) if isinstance(t, ir.Assign) and t.target == value.name), None)
    whole, part = known.get(s.target), known.get(value.name)
    if made is None or not _ufunc(made) or made.params or not _large(part) or whole is None \
            or whole.dtype != part.dtype:
        return s
    if any(isinstance(t, ir.Assign) and t.op == "getitem" and t.args[0] == array and ir.Var(t.target) in made.args
           for t in before):
        return s                                  # a[i] = a[i] + v: the emitter writes a[i] += v
    if _slice_shape(whole, index) != part.shape:
        return s                                  # the value broadcasts into the slice
    return replace(s, params=((ir.OUT, True),))


def _slice_shape(whole, index: ir.Index):
    """The shape of `array[index]` for an array of `whole`'s shape, when the index is
    made of numbers and slices of numbers."""
    items = []
    for item in index.items:
        if isinstance(item, ir.Const) and isinstance(item.value, int):
            items.append(item.value)
        elif isinstance(item, ir.Slice) and all(p is None or isinstance(p, ir.Const) and isinstance(p.value, int)
                                                 for p in (item.lower, item.upper, item.step)):
            items.append(slice(*(None if p is None else p.value for p in (item.lower, item.upper, item.step))))
        else:
            return None
    try:
        return np.broadcast_to(np.empty((), whole.dtype), whole.shape)[tuple(items)].shape
    except (IndexError, TypeError, ValueError):
        return None


def _reusing(s: ir.Assign, before: list, after: list, known: dict, reads: Counter) -> ir.Assign:
    """`s` computed into the memory of an argument nothing reads after it."""
    later = set().union(*(ir.uses(t) | (ir.heads(t) if isinstance(t, ir.NESTED) else set()) for t in after)) \
        if after else set()
    named = {t.target for t in before if isinstance(t, ir.Assign) and isinstance(dict(t.params).get(ir.OUT), str)}
    for i, a in enumerate(s.args):
        # a value read once is NumPy's to reuse, unless it is the right side of `a - t`, or
        # has a name (written into memory already there)
        once = reads.get(getattr(a, "name", None)) == 1 and (i == 1 and s.op in ("sub", "div") or a.name in named)
        if not isinstance(a, ir.Var) or a.name in later or (reads[a.name] < 2 and not once) \
                or known.get(a.name) != known.get(s.target) or not owned(before, a.name):
            continue
        return replace(s, params=((ir.OUT, a.name),))
    return s
