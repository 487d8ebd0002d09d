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
    return replace(fn, body=_mapped(fn.body, lambda s: _sums(s, uniform, shape)))


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
