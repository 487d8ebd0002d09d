"""Sums in place: an adjoint adds into its own array when no one else can see it.

    dx = mul(sqrt, t)                   dx = mul(sqrt, t)
    dx = add(dx, u)            ==>      dx = iadd(dx, u)          (prints `dx += u`)
    dx = sub(dx, w)                     dx = iadd(dx, -w)         (prints `dx -= w`)

The reverse pass adds in place only into arrays it made itself (zeros, sums);
it cannot know, without shapes, whether `dx + u` has dx's shape. With the
arguments' shapes known (specialized code), a sum that keeps the shape and
dtype of the array it adds into reuses that array instead of allocating a new
one, when that array is a new one made earlier in the same block and nothing
between (no view, no tape, no closure, no call) can have kept a reference to
it: only arithmetic has read it, so no one can tell it changed.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ..ir.names import Namer
from . import shapes
from .specialize import follow_owned


def run(fn: ir.Function, params: dict) -> ir.Function:
    known = shapes.infer(fn, params)
    namer = Namer.of(fn)
    added: list = []
    body = _block(fn.body, known, namer, added)
    if body == fn.body:
        return fn                      # (the next pass finds the shapes it knows already)
    new = replace(fn, body=body, temps=fn.temps | namer.made, derived=fn.derived | namer.made)
    for stmt in added:                 # a sum in place keeps its shape; a negation, its operand's
        shapes.learn(known, stmt)
    shapes.remember(new, params, known)
    return new


def _block(stmts, known: dict, namer: Namer, added: list) -> tuple:
    out: list = []
    fresh: dict = {}                  # name -> whether `owned` holds for it after `out`
    for s in stmts:
        if isinstance(s, ir.NESTED):
            s = ir.with_bodies(s, lambda body: _block(body, known, namer, added))
        elif isinstance(s, ir.Assign) and s.op in ("add", "sub") and s.target in known \
                and _other(s) is not None and fresh.get(s.target, False):
            other = _other(s)
            if s.op == "sub":
                neg = namer.fresh("neg")
                namer.made.add(neg)
                out.append(ir.Assign(neg, "neg", (other,), (), s.loc))
                added.append(out[-1])
                other = ir.Var(neg)
            s = ir.Assign(s.target, "iadd", (ir.Var(s.target), other), (), s.loc)
        out.append(s)
        follow_owned(fresh, s)
    return tuple(out)


def _other(s: ir.Assign):
    """What `s` adds to (or subtracts from) its own target, or None."""
    me = ir.Var(s.target)
    if s.args[0] == me and s.args[1] != me:
        return s.args[1]
    if s.op == "add" and s.args[1] == me and s.args[0] != me:
        return s.args[0]
    return None
