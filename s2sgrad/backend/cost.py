"""The cost of a derivative: what its tape holds, its extra memory, and its operations
against the function's own, per user line (`s2sgrad.cost`, `s2sgrad show --cost`).

Two counts of operations, by the same rule per op (`flops`: an elementwise op one per
entry of its result, a reduction one per entry it reads, a matrix product and its
adjoints 2 m k n, indexing, copies and zeros none):

- the estimate, read off the code specialized to the arguments' shapes (a value the
  shapes analysis cannot follow, a callee's result, as the run shaped it): each
  statement's count times the turns of the loops around it, a `for` loop's turns
  worked out from its bounds (the shapes analysis knows them), a `while` loop's turns
  and a branch's frequency as one run at these arguments took them;
- the count, from running that code once in the IR's interpreter and adding each
  op's count on the values it really had.

A call of a function the derivative runs as it is (a callee's compiled vjp) counts as
none: the report says so.
"""
from __future__ import annotations

import math
import timeit
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .. import ir
from ..ir import interpret
from ..passes import shapes as shaping

PRODUCTS = {"matmul": (0, 1), "np.matmul": (0, 1), "np.dot": (0, 1), "matmul_dleft": (1, 2),
            "matmul_dright": (1, 2), "dot_dleft": (1, 2), "dot_dright": (1, 2)}
# ops costing 2 m k n: the positions of the product's two factors
REDUCTIONS = {"np.sum", "np.mean", "np.max", "np.min", "np.prod", "np.amax", "np.amin", "unbroadcast", "sum"}
FREE = {"getitem", "setitem", "id", "tuple", "list", "append", "np.shape", "np.ndim", "np.size", "len", "zero_grad",
        "np.zeros", "np.ones", "np.zeros_like", "np.ones_like", "np.copy", "np.reshape", "np.transpose",
        "np.asarray", "unsum", "broadcast_like", "zero_tangent", "float", "int", "pullback", "call",
        "call_adjoint", "opaque", "attr", "np.broadcast_to", "np.expand_dims", "common_length"}
# ops that move or make memory, with no arithmetic


def flops(op: str, args: list, result) -> int:
    """The operations of one op, from the shapes of its arguments and result (each a
    shape tuple, or None where it is not known)."""
    if op in FREE or op.startswith("int_"):
        return 0
    if op in PRODUCTS:
        x, y = (args[i] for i in PRODUCTS[op])
        if x is None or y is None:
            return 0
        return 2 * math.prod(x) * (y[-1] if len(y) >= 2 else 1)
    if op in REDUCTIONS and args and args[0] is not None:
        return math.prod(args[0])
    return math.prod(result) if result is not None else 1


@dataclass
class Line:
    """What one user line costs in the derivative (and in the function itself)."""
    line: int
    text: str
    flops: int = 0
    primal: int = 0
    taped: int = 0              # values the tape holds for it, over the whole run
    tape_bytes: int = 0


@dataclass
class CostReport:
    """`s2sgrad.cost`'s report: per line and in total; prints as a table."""
    name: str
    lines: list = field(default_factory=list)
    flops: int = 0              # the estimate
    counted: int = 0            # the count of one run
    primal: int = 0
    tape_bytes: int = 0
    extra_bytes: int = 0        # the tape and the adjoints' arrays
    seconds: float = 0.0
    primal_seconds: float = 0.0
    calls: int = 0              # calls of compiled callees, counted as none

    def __str__(self) -> str:
        ratio = f"{self.flops / self.primal:.1f}x" if self.primal else "-"
        rows = [f"cost of the gradient of {self.name} at the arguments given",
                f"{'line':>5}  {'derivative ops':>14}  {'function ops':>12}  {'tape values':>11}  {'tape bytes':>10}  code"]
        for ln in self.lines:
            rows.append(f"{ln.line:>5}  {ln.flops:>14,}  {ln.primal:>12,}  {ln.taped:>11,}  {ln.tape_bytes:>10,}  "
                        f"{ln.text.strip()[:60]}")
        rows.append(f"total: {self.flops:,} operations estimated ({self.counted:,} counted in one run) against "
                    f"{self.primal:,} for the function: {ratio}")
        rows.append(f"memory: tape {self.tape_bytes:,} bytes; extra (tape and adjoints) about {self.extra_bytes:,} bytes")
        if self.seconds:
            rows.append(f"measured: derivative {self.seconds * 1e6:,.1f} us, function {self.primal_seconds * 1e6:,.1f} us "
                        f"({self.seconds / self.primal_seconds:.1f}x)")
        if self.calls:
            rows.append(f"({self.calls} calls of functions' compiled derivatives counted as no operations)")
        return "\n".join(rows)


def report(name: str, gen: ir.Function, primal: ir.Function, params: dict, args: tuple, loc, free: dict,
           timed=None) -> CostReport:
    """The report for the derivative `gen` (specialized to the shapes in `params`, name ->
    shapes.Shaped) and the function's own IR `primal`, at `args`; `free`: the values of
    the names they read from outside; `timed`: (derivative, function) to time, or None."""
    seen = _Counting()
    copies = tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in args)   # (a run may write into them)
    interpret.run(gen, *args, free=free, machine=seen)
    known = _seen_too(shaping.infer(gen, params), seen)
    result = CostReport(name, calls=seen.calls)
    lines: dict = {}

    def line(loc_) -> Line:
        number = loc_.line if loc_ is not None and loc_.file == loc.file else loc.line
        text = loc_.text if loc_ is not None and loc_.file == loc.file else loc.text
        return lines.setdefault(number, Line(number, text or ""))

    for stmt, times, where in _statements(gen.body, known, seen):
        if isinstance(stmt, ir.Assign):
            count = flops(stmt.op, [_shape_of(a, known) for a in stmt.args], _shape_of(ir.Var(stmt.target), known))
            line(stmt.loc).flops += int(count * times)
            result.flops += int(count * times)
        elif isinstance(stmt, ir.Push):
            size = _bytes(stmt.value, known)
            line(where).taped += int(times)
            line(where).tape_bytes += int(size * times)
            result.tape_bytes += int(size * times)
    primal_seen = _Counting()
    interpret.run(primal, *copies, free=free, machine=primal_seen)
    primal_known = _seen_too(shaping.infer(primal, params), primal_seen)
    for stmt, times, _ in _statements(primal.body, primal_known, primal_seen):
        if isinstance(stmt, ir.Assign):
            count = flops(stmt.op, [_shape_of(a, primal_known) for a in stmt.args],
                          _shape_of(ir.Var(stmt.target), primal_known))
            line(stmt.loc).primal += int(count * times)
            result.primal += int(count * times)
    result.counted = seen.flops
    result.extra_bytes = result.tape_bytes + sum(_bytes(ir.Var(n), known) for n in gen.derived if n in known)
    result.lines = [lines[n] for n in sorted(lines) if lines[n].flops or lines[n].primal or lines[n].taped]
    if timed is not None:
        derivative, function = timed
        result.seconds = _best(lambda: derivative(*args))
        result.primal_seconds = _best(lambda: function(*args))
    return result


def _seen_too(known: dict, seen) -> dict:
    """The shapes analysis's, and for a value it cannot follow (a callee's result) the
    shape the run gave it."""
    return {name: shaping.Shaped(shape, np.dtype(float)) for name, shape in seen.shapes.items()} | known


def _best(call) -> float:
    runs = max(1, int(0.02 / max(timeit.timeit(call, number=1), 1e-7)))
    return min(timeit.repeat(call, number=runs, repeat=3)) / runs


def _statements(stmts, known: dict, seen, times: float = 1.0, where=None):
    """(statement, how many times it runs, the line a push is for) for every statement:
    a `for` loop's turns from its bounds where known, else (and for `while` loops and
    branches) as the run `seen` took them (an IR with no run: once, each branch)."""
    stmts = list(stmts)
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, ir.Push):
            after = next((s for s in stmts[i + 1:] if isinstance(s, ir.Assign) and isinstance(stmt.value, ir.Var)
                          and s.target == stmt.value.name), None)
            yield stmt, times, after.loc if after is not None else where
        elif isinstance(stmt, ir.For):
            turns = _turns(stmt, known)
            if turns is None:
                turns = seen.per_run(stmt) if seen is not None else 1
            yield from _statements(stmt.body, known, seen, times * turns, stmt.loc or where)
        elif isinstance(stmt, ir.While):
            turns = seen.per_run(stmt) if seen is not None else 1
            yield from _statements(stmt.test, known, seen, times * (turns + 1), stmt.loc or where)
            yield from _statements(stmt.body, known, seen, times * turns, stmt.loc or where)
        elif isinstance(stmt, ir.If):
            taken = seen.taken(stmt) if seen is not None else 1.0
            yield from _statements(stmt.body, known, seen, times * taken, where)
            yield from _statements(stmt.orelse, known, seen, times * (1 - taken) if seen is not None else times,
                                   where)
        else:
            yield stmt, times, where


def _turns(loop: ir.For, known: dict):
    bounds = []
    for atom in (loop.start, loop.stop, loop.step):
        value = atom.value if isinstance(atom, ir.Const) else getattr(known.get(atom.name), "value", None)
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            return None
        bounds.append(int(value))
    return len(range(*bounds)) if bounds[2] else None


def _shape_of(atom, known: dict):
    if isinstance(atom, ir.Const):
        return np.shape(atom.value) if isinstance(atom.value, (int, float, complex)) else None
    shaped = known.get(atom.name) if isinstance(atom, ir.Var) else None
    return tuple(shaped.shape) if shaped is not None else None


def _bytes(atom, known: dict) -> int:
    shaped = known.get(atom.name) if isinstance(atom, ir.Var) else None
    if shaped is None or not isinstance(shaped.dtype, np.dtype) or shaped.dtype.kind not in "biufc":
        return 8
    return math.prod(shaped.shape) * shaped.dtype.itemsize


class _Counting:
    """The interpreter's machine for one run: each op computed as usual, its operations
    counted on the values it has; the loops' turns and the branches taken noted."""

    def __init__(self):
        self.flops, self.calls = 0, 0
        self.shapes: dict = {}                 # name -> the shape its value had (last)
        self.turns: Counter = Counter()        # id(loop) -> turns over the run
        self.entered: Counter = Counter()      # id(loop) -> times it started
        self.tests: Counter = Counter()        # id(if or while) -> tests made
        self.trues: Counter = Counter()        # id(if or while) -> tests that were true

    def apply(self, stmt, args, plain):
        value = plain(stmt, args)
        if _array_like(value):
            self.shapes[stmt.target] = np.shape(value)
        if stmt.op in ("call", "call_adjoint", "pullback"):
            self.calls += 1
        self.flops += flops(stmt.op, [np.shape(a) if _array_like(a) else None for a in args],
                            np.shape(value) if _array_like(value) else None)
        return value

    def truth(self, value, stmt) -> bool:
        truth = bool(value)
        self.tests[id(stmt)] += 1
        self.trues[id(stmt)] += truth
        return truth

    def number(self, value):
        return value

    def turned(self, loop, turns: int) -> None:
        self.turns[id(loop)] += turns
        self.entered[id(loop)] += 1

    def per_run(self, loop) -> float:
        """A loop's turns each time it runs (a while loop's: its true tests)."""
        if isinstance(loop, ir.While):
            runs = self.tests[id(loop)] - self.trues[id(loop)]
            return self.trues[id(loop)] / runs if runs else 0.0
        return self.turns[id(loop)] / self.entered[id(loop)] if self.entered[id(loop)] else 0.0

    def taken(self, branch) -> float:
        tests = self.tests[id(branch)]
        return self.trues[id(branch)] / tests if tests else 0.0


def _array_like(value) -> bool:
    return isinstance(value, (np.ndarray, np.generic, int, float, complex)) and not isinstance(value, bool)
