"""Rule templates: a rule's own source lowered to IR once, then inlined by the reverse
and forward passes with its parameters renamed, so the generated code is made of the
rules' own lines."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from .. import frontend, ir, rules
from .lower import Lowerer


@dataclass(frozen=True)
class Template:
    """A rule's source lowered to IR, ready to inline."""

    params: tuple            # every parameter name of the rule
    body: tuple              # its statements
    result: object           # partials: the returned atom(s); adjoints: None
    outputs: tuple           # adjoints: the arguments it differentiates


def inline(tmpl: Template, mapping: dict, outputs: dict, loc, fresh):
    """A template's statements with its parameters mapped (`mapping`, `outputs` for the
    names it assigns that the caller chose) and its other names made fresh (`fresh(op,
    args)` names one); returns the statements and the template's result, renamed."""
    local, stmts = dict(outputs), []
    for s in tmpl.body:
        names = {**mapping, **local}
        args = ir.rename(s.args, names)
        params = tuple((k, names[v.name].value if isinstance(v, ir.Var) else v) for k, v in s.params)
        if s.target not in local:
            local[s.target] = fresh(s.op, args)
        stmts.append(ir.Assign(local[s.target], s.op, args, params, loc))
    return stmts, ir.rename(tmpl.result, {**mapping, **local})


def template(op, into: bool = False, tangent: bool = False) -> Template:
    """The lowered template of an op's rule, or with `into` of its rule for adding into
    an adjoint that already exists, or with `tangent` of its forward-mode rule (lowered
    once, then cached)."""
    return _template(op.name, into, tangent, id(op.tangent) if tangent else 0)


def differentiated(op: rules.Op) -> tuple:
    """Names of the arguments an op's rule differentiates (an adjoint template's: those
    whose `d<arg>` it assigns)."""
    if op.kind == "elementwise":
        return tuple(a for a in op.args if (op.piecewise is True or a not in op.piecewise) and a not in op.fixed)
    if op.kind == "adjoint" or (op.kind == "helper" and op.rule is not None):
        return template(op).outputs
    return ()


@functools.lru_cache(maxsize=None)
def _template(name: str, into: bool, tangent: bool = False, _which: int = 0) -> Template:
    op = rules.OPS[name]
    source = frontend.parse(op.tangent if tangent else op.into if into else op.rule)
    fn = Lowerer(source, template_mode=True).function()
    body = [s for s in fn.body if not isinstance(s, ir.Return)]
    result = fn.body[-1].value if fn.body and isinstance(fn.body[-1], ir.Return) else None
    assigned = {s.target for s in body}
    outputs = tuple(a for a in op.args if "d" + a in assigned)
    return Template(fn.params, tuple(body), result, outputs)
