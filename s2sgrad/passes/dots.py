"""Dots: the full sum of a derivative's elementwise expression becomes dot products.

    mul_4 = mul(2, sub)
    power_dot = mul(sub_dot, mul_4)
    mul_dot = mul(power_dot, 100.0)    ==>    vdot = np.vdot(sub_dot, sub)
    mul_3 = mul(t, sub_2)                     vdot_2 = np.vdot(t, sub_2)
    add_dot = sub(mul_dot, mul_3)             total_dot = 200.0 * vdot - vdot_2
    total_dot = np.sum(add_dot)

The tangent of a sum of elementwise terms (forward mode's `np.sum(f'(x) * t)`)
is a sum of products. With the arguments' shapes known (specialized code), a
full `np.sum` of an expression built from sums, differences, negations,
products by numbers and products of two float arrays of the summed shape, each
through a temporary read only there and with no write into an array between, is
written as scaled `np.vdot`s: one
pass over memory each and no temporary array, where NumPy would make and read
one array per operation. Only derivative values are rewritten; the function's
own value keeps NumPy's order of summation, so it equals what the function returns.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from .. import ir
from ..lower import Namer
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
                terms = self.terms(s.args[0], 1.0, made, self.known[s.args[0].name].shape)
                if terms is not None and any(b is not None for _, _, b in terms):
                    out += self.written(s, terms)
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

    def terms(self, atom, scale: float, made: dict, shape):
        """`scale * atom`'s entries' sum as terms (scale, a, b): scale * vdot(a, b), or with b
        None scale * sum(a); None when atom is not an array of `shape` made of what dots take."""
        if not isinstance(atom, ir.Var) or not self.float_array(atom, shape):
            return None
        d = made.get(atom.name) if atom.name in self.single_use else None
        if d is None or d.params:
            return [(scale, atom, None)]
        a, b = (d.args + (None,))[:2]
        if d.op in ("add", "sub"):
            left = self.terms(a, scale, made, shape)
            right = self.terms(b, -scale if d.op == "sub" else scale, made, shape)
            if left is not None and right is not None:
                return left + right
        elif d.op == "neg":
            inner = self.terms(a, -scale, made, shape)
            if inner is not None:
                return inner
        elif d.op == "mul":
            number = next((x.value for x in (a, b) if _number(x)), None)
            other = b if _number(a) else a
            if number is not None:
                inner = self.terms(other, scale * number, made, shape)
                if inner is not None:
                    return inner
            elif self.float_array(a, shape) and self.float_array(b, shape):
                (ka, a), (kb, b) = self.scaled(a, made), self.scaled(b, made)
                return [(scale * ka * kb, a, b)]
        return [(scale, atom, None)]

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

    def written(self, s: ir.Assign, terms) -> list:
        """`s.target = k1 * t1 + k2 * t2 ...`, each t a vdot or a sum (the last step assigns
        the target itself)."""
        out, parts = [], []
        for k, a, b in terms:
            part = self.fresh("vdot" if b is not None else "sum")
            out.append(ir.Assign(part, "np.vdot", (a, b), (), s.loc) if b is not None else
                       ir.Assign(part, "np.sum", (a,), (), s.loc))
            if abs(k) != 1.0:
                product = self.fresh("mul")
                out.append(ir.Assign(product, "mul", (ir.Const(abs(k)), ir.Var(part)), (), s.loc))
                part = product
            parts.append((k < 0, ir.Var(part)))
        (negative, total), rest = parts[0], parts[1:]
        if negative:
            out.append(ir.Assign(s.target if not rest else self.fresh("neg"), "neg", (total,), (), s.loc))
            total = ir.Var(out[-1].target)
        for k, (negative, part) in enumerate(rest):
            step = s.target if k == len(rest) - 1 else self.fresh("add")
            out.append(ir.Assign(step, "sub" if negative else "add", (total, part), (), s.loc))
            total = ir.Var(step)
        if total != ir.Var(s.target):
            out.append(ir.Assign(s.target, "id", (total,), (), s.loc))
        return out

    def fresh(self, base: str) -> str:
        name = self.namer.fresh(base)
        self.namer.made.add(name)
        return name


def _number(atom) -> bool:
    return isinstance(atom, ir.Const) and type(atom.value) in (int, float)
