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

A gradient whose helpers do not all have reverse rules yet is pulled back `by_symmetry`
instead: the Hessian is symmetric, so pulling a cotangent back through the gradient
is pushing it forward (forward mode over the gradient), which every helper supports.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ..errors import NoHelperRuleError, NotDifferentiableError
from ..ir.names import Namer
from . import complex_values, forward, normalize, optimize, reverse, tape
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


def prepared(fn: ir.Function, primal_complex=frozenset()) -> ir.Function:
    """`fn` (a gradient's IR) as the reverse pass reads a function: where the function it is
    the gradient of had names that may hold complex numbers (`primal_complex`), with its own
    found again (the gradient's adjoints of complex values are such names too)."""
    _no_pullbacks(fn)
    inner = Namer.of(fn).fresh("grad_tape")
    body = _plain_sums(ir.rename_stmts(fn.body, {tape.TAPE: inner}))
    made = normalize.run(replace(fn, body=body))
    return replace(made, complex=complex_values.complex_names(made, params=primal_complex)) if primal_complex else made


def _plain_sums(stmts) -> tuple:
    out = []
    for s in stmts:
        if isinstance(s, ir.Assign) and s.op == "iadd":
            s = ir.Assign(s.target, "add", s.args, s.params, s.loc)
        out.append(ir.with_bodies(s, _plain_sums))
    return tuple(out)


def run(fn: ir.Function, wrt: tuple, single: bool, origin, kind, callees=None) -> ir.Function:
    """The derivative `kind` names (a passes.Kind with `of`) of f's gradient or vjp, with respect
    to `wrt` (`fn` is f's IR): forward mode over it for a jvp, reverse mode (or symmetry)
    for a vjp. `callees` compiles the derivatives of the functions it calls."""
    outer, entry, inner, inner_single, along = kind.mode, kind.of.entry, kind.of.inner, kind.of.single, kind.of.along
    if entry == "vjp":               # the vjp a gradient calls (a recursive function's): its jvp
        pulled = optimize.run(reverse.run(fn, inner, "vjp", inner_single, origin, callees))
        return forward.run(pulled, tuple(pulled.params[p] for p in along), over_reverse=True, callees=callees)
    value = entry == "value_and_grad"
    made = returning(gradient(fn, inner, inner_single, origin, callees), value, inner_single)
    if outer == "jvp":
        return forward.run(complex_values.over_gradient(made, fn.complex), wrt, over_reverse=True, callees=callees)
    calls = any(isinstance(s, ir.Assign) and s.op == "call" for s in ir.walk(made.body))
    if calls and not value:          # (a recursive function's gradient calls its vjp)
        return by_symmetry(fn, inner, inner_single, wrt, origin, callees)
    try:
        return reverse.run(prepared(made, fn.complex), wrt, "vjp", single, origin, callees)
    except NoHelperRuleError:
        if value:
            raise
        return by_symmetry(fn, inner, inner_single, wrt, origin, callees)


def gradient(fn: ir.Function, wrt: tuple, single: bool, origin, callees=None, summed=False) -> ir.Function:
    """f's gradient IR (of the sum of its output, `summed`), optimized: what a second
    derivative differentiates."""
    return optimize.run(reverse.run(fn, wrt, "grad", single, origin, callees, summed))


def by_symmetry(fn: ir.Function, inner: tuple, inner_single: bool, wrt: tuple, origin, callees=None) -> ir.Function:
    """`vjp_grad_<f>(*params, cotangent)` returning `(the gradient, (its vjp with respect to
    each of wrt,))`, made as forward mode over the gradient with respect to inner and wrt
    together, along the cotangent: the derivative of grad_q f along v is the pullback of
    v through grad_p f (the mixed second derivatives are equal)."""
    both = tuple(dict.fromkeys(inner + wrt))
    pushed = forward.run(complex_values.over_gradient(gradient(fn, both, False, origin, callees), fn.complex), inner,
                         over_reverse=True, callees=callees)
    *body, ret = pushed.body
    (_, grads), (_, tangents) = ret.value
    namer = Namer.of(pushed)
    cotangent = namer.fresh("dd" + inner[0] if inner_single else "cotangent")
    tangent_params = pushed.params[len(fn.params):]
    take = [ir.Assign(t, "getitem", (ir.Var(cotangent), ir.Index((ir.Const(k),))), (), fn.loc)
            for k, t in enumerate(tangent_params)] if not inner_single else []
    rename = {tangent_params[0]: cotangent} if inner_single else {}
    out = tuple(grads[both.index(p)] for p in inner)
    result = (out[0] if inner_single else out, tuple(tangents[both.index(q)] for q in wrt))
    body = ir.rename_stmts(take + body + [ir.Return(result, ret.loc)], rename)
    doc = f"Vector-Jacobian product of grad_{fn.name} with respect to {', '.join(wrt)}, for the cotangent " \
          "given last (by symmetry: forward mode over the gradient)"
    return replace(pushed, name=namer.fresh(f"vjp_grad_{fn.name}"), params=fn.params + (cotangent,),
                   body=body, doc=doc, derived=pushed.derived | {cotangent})   # (never written into)
