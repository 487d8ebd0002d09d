"""Specialize: the derivative for arguments of known shapes.

Given the shapes of the arguments of a call (the API compiles one version
per set of shapes it meets, up to a few), the shapes analysis fixes the shape
of most values, and every `unbroadcast(g, x)` whose `g` already has `x`'s
shape is just `g`. The optimizer then drops what that leaves unread: values
the tape kept only so their shape could be read in the reverse sweep.

    dtotal = unbroadcast(dnew_total, total)     ==>     dtotal = dnew_total

An adjoint every entry of which is one number (a mean's or a sum's, spread over
its argument, then scaled) that flows into a matrix product's adjoint makes that
adjoint a row or column sum instead of a matrix product:

    dsub = unsum(1.0, sub) * k                  ==>     dx = matmul_dleft_uniform(dsub, x, w)
    dx = matmul_dleft(dsub, x, w)                       (c times w's row sums, each row)
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from .. import ir
from . import optimize
from .shapes import infer


def run(fn: ir.Function, params: dict) -> ir.Function:
    shapes = infer(fn, params)

    def shape(atom):
        if isinstance(atom, ir.Const):
            return np.shape(atom.value)
        known = shapes.get(atom.name) if isinstance(atom, ir.Var) else None
        return known.shape if known is not None else None

    def equal_shapes(s):
        if isinstance(s, ir.Assign) and s.op == "unbroadcast" and shape(s.args[0]) is not None \
                and shape(s.args[0]) == shape(s.args[1]):
            return replace(s, op="id", args=s.args[:1], params=())
        return s

    fn = optimize.run(replace(fn, body=_mapped(fn.body, equal_shapes)))
    uniform = _uniform(fn, shape)
    fn = replace(fn, body=_mapped(fn.body, lambda s: _sums(s, uniform, shape)))
    return _fold_seeds(fn, shape)


FRESH = {"mul", "div", "add", "sub", "pow", "neg"}     # ops whose result is a new array


def _fold_seeds(fn: ir.Function, shape) -> ir.Function:
    """`u * y` where every entry of `u` is one known constant c and y has u's shape:
    `c * y`, so the spread constant is never multiplied in (and, c being 1.0 and y a
    new array read only there, just y). Where that leaves u unread, it goes."""
    flat = list(ir.walk_all(fn.body))
    values = _constant_values(flat, shape)
    if not values:
        return fn
    reads = Counter(name for t in flat for name in ir.uses(t))
    made = {t.target: t for t in flat if isinstance(t, ir.Assign)}
    readers: dict = {}
    for t in flat:
        for name in ir.uses(t):
            readers.setdefault(name, []).append(t if isinstance(t, ir.Assign) else ir.Assign("", "?"))

    def fold(s):
        if not (isinstance(s, ir.Assign) and s.op == "mul" and len(s.args) == 2):
            return s
        for u, y in (s.args, s.args[::-1]):
            if isinstance(u, ir.Var) and u.name in values and shape(y) is not None and shape(y) == shape(u):
                c = values[u.name]
                fresh = isinstance(y, ir.Var) and reads[y.name] == 1 and y.name in made \
                    and (made[y.name].op in FRESH or _ufunc(made[y.name].op))
                consumed = reads[s.target] == 1 and all(t.op in FRESH for t in readers.get(s.target, ()))
                if c != 1.0 or fresh or consumed:   # 1.0 * y is y: it must not be seen as a new array
                    return replace(s, args=(ir.Const(c), y))
        return s

    return optimize.run(replace(fn, body=_mapped(fn.body, fold)))


def _ufunc(op: str) -> bool:
    from .. import rules
    found = rules.OPS.get(op)
    return found is not None and found.kind == "elementwise"


def _constant_values(flat, shape) -> dict:
    """name -> c for names assigned once whose every entry is the float c: `grad`'s seed
    spread by `unsum`, then scaled by constants or negated."""
    assigned = Counter(name for t in flat for name in ir.defs(t))
    values = {}
    for s in flat:
        if not isinstance(s, ir.Assign) or assigned[s.target] != 1 or shape(ir.Var(s.target)) is None:
            continue
        a = s.args
        if s.op == "unsum" and isinstance(a[0], ir.Const) and type(a[0].value) is float \
                and dict(s.params).get("axis") is None:
            values[s.target] = a[0].value
        elif s.op in ("neg", "id") and isinstance(a[0], ir.Var) and a[0].name in values:
            values[s.target] = -values[a[0].name] if s.op == "neg" else values[a[0].name]
        elif s.op in ("mul", "div") and len(a) == 2 and isinstance(a[0], ir.Var) and a[0].name in values \
                and isinstance(a[1], ir.Const) and type(a[1].value) in (int, float):
            values[s.target] = values[a[0].name] * a[1].value if s.op == "mul" else values[a[0].name] / a[1].value
        elif s.op == "mul" and len(a) == 2 and isinstance(a[1], ir.Var) and a[1].name in values \
                and isinstance(a[0], ir.Const) and type(a[0].value) in (int, float):
            values[s.target] = a[0].value * values[a[1].name]
    return values


def _mapped(stmts, change) -> tuple:
    """`stmts` with `change` applied to every statement, nested ones included."""
    out = []
    for s in stmts:
        if isinstance(s, ir.Def):
            s = ir.Def(replace(s.fn, body=_mapped(s.fn.body, change)), s.loc)
        else:
            s = ir.with_bodies(s, lambda body: _mapped(body, change))
        out.append(change(s))
    return tuple(out)


UNIFORM = {"matmul_dleft": "matmul_dleft_uniform", "matmul_dright": "matmul_dright_uniform"}
WORTH_IT = 1 << 16      # multiply-adds of the product below which a small matmul is cheaper


def _uniform(fn: ir.Function, shape) -> set:
    """Names (assigned once) whose every entry is the same number: a constant or a
    scalar spread by `unsum` over a whole array, and such a value negated or combined
    with a scalar."""
    flat = list(ir.walk_all(fn.body))
    assigned = Counter(name for t in flat for name in ir.defs(t))
    found = set()

    def even(a) -> bool:
        return isinstance(a, ir.Var) and a.name in found or shape(a) == ()

    for s in flat:
        if not isinstance(s, ir.Assign) or assigned[s.target] != 1:
            continue
        if s.op == "unsum" and shape(s.args[0]) == () and dict(s.params).get("axis") is None:
            found.add(s.target)
        elif s.op in ("mul", "div", "add", "sub", "neg", "id") and any(
                isinstance(a, ir.Var) and a.name in found for a in s.args) and all(even(a) for a in s.args):
            found.add(s.target)
    return found


def _sums(s, uniform: set, shape):
    """A matrix product's adjoint from a uniform adjoint, as sums."""
    if not (isinstance(s, ir.Assign) and s.op in UNIFORM and isinstance(s.args[0], ir.Var)
            and s.args[0].name in uniform):
        return s
    x, y = shape(s.args[1]), shape(s.args[2])
    if x is not None and y is not None and len(x) == len(y) == 2 and x[0] * x[1] * y[1] >= WORTH_IT:
        return replace(s, op=UNIFORM[s.op])
    return s
