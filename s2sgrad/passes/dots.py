"""Dots: the full sum of a product of two arrays, in a derivative, is a dot product.

    mul_4 = mul(2, sub)
    power_dot = mul(sub_dot, mul_4)    ==>    vdot = np.vdot(sub_dot, sub)
    mul_dot = mul(power_dot, 100.0)           total_dot = mul(200.0, vdot)
    total_dot = np.sum(mul_dot)

Forward mode's tangent of a sum of elementwise terms is a sum of products
(`np.sum(f'(x) * t)`), and so is a reverse sweep's adjoint of a scalar factor.
With the arguments' shapes known (specialized code), a full `np.sum` of one
product of two float arrays of the summed shape, scaled by numbers or negated,
each step through a temporary read only there and with no write into an array
between, is written as one `np.vdot`: a single pass over memory and no
temporary array. A sum of several products is left as it is: summing them
apart would lose what cancels entry by entry (x * y - (x - 1) * y at x = 1e12).
Only derivative values are rewritten; the function's own value keeps NumPy's
order of summation, so it equals what the function returns.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from .. import ir
from ..ir.names import Namer
from .dce import drop_dead
from .shapes import infer


def run(fn: ir.Function, params: dict) -> ir.Function:
    known = infer(fn, params)
    reads = Counter()
    for s in ir.walk_all(fn.body):
        reads.update(a.name for a in ir.atoms_of(getattr(s, "args", ())) if isinstance(a, ir.Var))
        if not isinstance(s, ir.Assign):
            reads.update(ir.uses(s))
    once = {n for n, k in ir.assignments(fn.body).items() if k == 1 and n not in fn.params}
    sweep = _Dots(fn, known, {n for n in once if reads[n] == 1}, Namer.of(fn))
    body = sweep.block(fn.body)
    if not sweep.changed:
        return fn
    return replace(fn, body=tuple(drop_dead(body, set())), temps=fn.temps | sweep.namer.made,
                   derived=fn.derived | sweep.namer.made)


class _Dots:
    def __init__(self, fn, known, single_use, namer):
        self.fn, self.known, self.single_use, self.namer = fn, known, single_use, namer
        self.changed = False

    def block(self, stmts) -> list:
        out, made = [], {}    # made: name -> its assignment, in this block since the last write
        for s in stmts:
            if isinstance(s, ir.NESTED):
                out.append(ir.with_bodies(s, lambda body: tuple(self.block(body))))
                made = {}
                continue
            if isinstance(s, ir.Pop) or isinstance(s, ir.Assign) and s.op in ir.WRITES:
                made = {}        # (a dot product computed later must read the values its terms read)
            if isinstance(s, ir.Assign) and self.summed(s):
                found = self.product(s.args[0], made, self.known[s.args[0].name].shape)
                if found is not None:
                    out += self.written(s, *found)
                    self.changed = True
                    continue
            if isinstance(s, ir.Assign):
                made[s.target] = s
            out.append(s)
        return out

    def summed(self, s: ir.Assign) -> bool:
        """A full sum of a float array, into a derivative value."""
        if s.op != "np.sum" or s.target not in self.fn.derived or not isinstance(s.args[0], ir.Var):
            return False
        statics = ir.statics(s)
        shaped = self.known.get(s.args[0].name)
        return statics.get("axis") is None and not statics.get("keepdims") and len(s.args) == 1 \
            and shaped is not None and shaped.dtype == np.float64 and len(shaped.shape) > 0

    def product(self, atom, made: dict, shape):
        """(k, a, b) when `atom` is k * (a * b): numbers and negations around one product of
        two float arrays of `shape`, each through a temporary read only here; else None."""
        scale = 1.0
        while isinstance(atom, ir.Var) and atom.name in self.single_use and atom.name in made:
            d = made[atom.name]
            a, b = (d.args + (None,))[:2]
            if d.params:
                return None
            if d.op == "neg":
                scale, atom = -scale, a
            elif d.op == "mul" and (_number(a) or _number(b)):
                scale, atom = scale * float(a.value if _number(a) else b.value), b if _number(a) else a
            elif d.op == "mul" and self.float_array(a, shape) and self.float_array(b, shape):
                (ka, a), (kb, b) = self.scaled(a, made), self.scaled(b, made)
                return scale * ka * kb, a, b
            else:
                return None
        return None

    def scaled(self, atom, made):
        """(k, x) when `atom` is `k * x` through a temporary read only here, else (1.0, atom)."""
        d = made.get(atom.name) if atom.name in self.single_use else None
        if d is not None and d.op == "mul" and not d.params:
            a, b = d.args
            if _number(a) and isinstance(b, ir.Var) and self.known.get(b.name) == self.known.get(atom.name):
                return float(a.value), b
            if _number(b) and isinstance(a, ir.Var) and self.known.get(a.name) == self.known.get(atom.name):
                return float(b.value), a
        return 1.0, atom

    def float_array(self, atom, shape) -> bool:
        shaped = self.known.get(atom.name) if isinstance(atom, ir.Var) else None
        return shaped is not None and shaped.shape == shape and shaped.dtype == np.float64

    def written(self, s: ir.Assign, scale: float, a, b) -> list:
        """`s.target = scale * np.vdot(a, b)`."""
        if scale == 1.0:
            return [ir.Assign(s.target, "np.vdot", (a, b), (), s.loc)]
        dot = self.fresh("vdot")
        scaled = ("neg", (ir.Var(dot),)) if scale == -1.0 else ("mul", (ir.Const(scale), ir.Var(dot)))
        return [ir.Assign(dot, "np.vdot", (a, b), (), s.loc), ir.Assign(s.target, *scaled, (), s.loc)]

    def fresh(self, base: str) -> str:
        name = self.namer.fresh(base)
        self.namer.made.add(name)
        return name


def _number(atom) -> bool:
    return isinstance(atom, ir.Const) and type(atom.value) in (int, float)
