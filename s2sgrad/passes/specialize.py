"""Specialize: the derivative for arguments of known shapes.

Given the shapes of the arguments of a call (the API compiles one version
per set of shapes it meets, up to a few), the shapes analysis fixes the shape
of most values, and every `unbroadcast(g, x)` whose `g` already has `x`'s
shape is just `g`. The optimizer then drops what that leaves unread: values
the tape kept only so their shape could be read in the reverse sweep.

    dtotal = unbroadcast(dnew_total, total)     ==>     dtotal = dnew_total
"""
from __future__ import annotations

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

    def simpler(stmts) -> tuple:
        out = []
        for s in stmts:
            if isinstance(s, ir.Def):
                s = ir.Def(replace(s.fn, body=simpler(s.fn.body)), s.loc)
            else:
                s = ir.with_bodies(s, simpler)
            if isinstance(s, ir.Assign) and s.op == "unbroadcast" and shape(s.args[0]) is not None \
                    and shape(s.args[0]) == shape(s.args[1]):
                s = replace(s, op="id", args=s.args[:1], params=())
            out.append(s)
        return tuple(out)

    return optimize.run(replace(fn, body=simpler(fn.body)))
