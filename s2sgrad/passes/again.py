"""A gradient made ready to be differentiated again (a vjp or jvp of a gradient, and
of a function that calls one).

The gradient's IR returns `(value, gradients)`; the function the user holds (`grad(f)`
or `value_and_grad(f)`) returns the gradients alone, or both: `returning` gives the
IR that same result. For reverse mode, `prepared` also makes the gradient read as the
normalized code the reverse pass takes: its tape gets a name of its own (the new
derivative keeps its own `tape`), sums into an adjoint in place (`dx += g`) become
plain sums (a value on a tape must not change under it), and names outside loops are
given one assignment each. Push and pop stay as they are: the reverse pass
differentiates them (what comes off a tape goes back on the tape's adjoint tape).
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ..errors import NotDifferentiableError
from ..lower import Namer
from . import normalize, tape
from .forward import _no_pullbacks


def returning(fn: ir.Function, value: bool, single: bool) -> ir.Function:
    """`fn` (a gradient's IR) returning what `grad(f)` returns, or with `value` what
    `value_and_grad(f)` does."""
    ret = fn.body[-1]
    out, grads = ret.value
    if value and not single:
        raise NotDifferentiableError("the value_and_grad of several arguments cannot be differentiated "
                                     "again yet", ret.loc,
                                     hint="use s2sgrad.grad(f, wrt=(...)) and f itself")
    result = (out, grads) if value else grads
    return replace(fn, body=fn.body[:-1] + (ir.Return(result, ret.loc),))


def prepared(fn: ir.Function) -> ir.Function:
    """`fn` (a gradient's IR) as the reverse pass reads a function."""
    _no_pullbacks(fn)
    inner = Namer.of(fn).fresh("grad_tape")
    body = _plain_sums(ir.rename_stmts(fn.body, {tape.TAPE: inner}))
    return normalize.run(replace(fn, body=body))


def _plain_sums(stmts) -> tuple:
    out = []
    for s in stmts:
        if isinstance(s, ir.Assign) and s.op == "iadd":
            s = ir.Assign(s.target, "add", s.args, s.params, s.loc)
        out.append(ir.with_bodies(s, _plain_sums))
    return tuple(out)
