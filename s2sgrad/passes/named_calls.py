"""Named calls: a call to the user's function uses the callee's own vjp.

The vjp is compiled once for each set of differentiated arguments, reused at
every call with that set, and printed beside the derivative that calls it:

    y = call(g, x)          ==>     y_vjp = call(vjp_g, x)
                                    y = getitem(y_vjp, [0])      (y_vjp[1] is the pullback)

A callee with loops or branches has a vjp that takes the cotangent and runs again
in the reverse sweep. How each call pulls back is written on the call itself, as
static parameters the reverse pass reads (see `run`). A function calling itself (with the same differentiated
arguments) calls its own vjp by name; mutual recursion is differentiated at run
time (`call_adjoint`). This runs inside the reverse pass, before its sweep.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir
from ..ir.names import Namer
from .complex_values import complex_arguments
from .request import Kind


def run(fn: ir.Function, active: frozenset, callees, itself=None, own: str = "") -> ir.Function:
    """Rewrite the active calls. Each says how its result pulls back, in its own static
    parameters: a call of the callee's vjp, `pair = call(vjp_g, x, wanted=(1,), outputs=0)`,
    whose `pair[1]` is the pullback, or a call kept as it is that reruns the callee's vjp in
    the reverse sweep, `y = call(g, x, rerun='vjp_g', wanted=(1,), outputs=0)`. `wanted`
    are the positions of the differentiated arguments (in the call's arguments, the
    callee first), `outputs` counts the items of a tuple result (0 for one value).
    `itself` is (the Python function, its differentiated positions, the vjp's name, its
    outputs) when the derivative being made is a vjp that reruns: a call to the same
    function with the same differentiated arguments then calls that vjp. `own` is the name
    of the derivative being made, which no callee's vjp may take. `callees(function,
    positions, kind)` gives a callee's compiled derivative, or None while it is itself being
    compiled (the compiler passes it down: passes never compile, emit or load code)."""
    namer = Namer.of(fn)
    namer.taken.add(own)          # the derivative's own name: a callee's vjp never takes it
    bindings, companions, pairs = dict(fn.bindings), list(fn.companions), set()

    def rewrite(stmts):
        out = []
        for s in stmts:
            if isinstance(s, ir.Assign) and s.op == "call" and s.params:
                s = replace(s, params=())   # (what an earlier sweep wrote on it is not this one's)
            if not (isinstance(s, ir.Assign) and s.op == "call" and s.target in active
                    and s.args[0].name in bindings):
                out.append(ir.with_bodies(s, lambda body: tuple(rewrite(body))))
                continue
            wanted = tuple(i for i in range(1, len(s.args)) if isinstance(s.args[i], ir.Var)
                           and s.args[i].name in active)
            if itself and (bindings[s.args[0].name], tuple(i - 1 for i in wanted)) == itself[:2]:
                out.append(replace(s, params=(("rerun", itself[2]), ("wanted", wanted), ("outputs", itself[3]))))
                continue
            if wanted and callees is None:
                raise TypeError("a call to your function is differentiated here: pass callees= "
                                "(s2sgrad.api.callee_derivative) to compile its vjp")
            given = complex_arguments(s, bindings[s.args[0].name], fn.complex)
            kind = Kind("vjp", complex=given) if given else "vjp"    # (complex arguments: its vjp for them)
            compiled = callees(bindings[s.args[0].name], tuple(i - 1 for i in wanted), kind) if wanted else None
            if compiled is None:
                out.append(s)
                continue
            vjp = next((n for n, v in bindings.items() if v is compiled.fn), None) \
                or namer.fresh(compiled.ir.name)
            bindings[vjp] = compiled.fn
            shown = renamed(compiled.ir, vjp)
            if shown not in companions:               # printed under the name the code calls
                companions.append(shown)
            how = (("wanted", wanted), ("outputs", compiled.outputs))
            if compiled.rerun:
                out.append(replace(s, params=(("rerun", vjp),) + how))
                continue
            pair = namer.fresh(s.target + "_vjp")
            pairs.add(pair)
            out += [ir.Assign(pair, "call", (ir.Var(vjp), *s.args[1:]), how, s.loc),
                    ir.Assign(s.target, "getitem", (ir.Var(pair), ir.Index((ir.Const(0),))), (), s.loc)]
        return out

    body = tuple(rewrite(fn.body))
    free = fn.free | {b for b in bindings if b not in fn.bindings}
    return replace(fn, body=body, temps=fn.temps | pairs, free=free, bindings=bindings,
                   companions=tuple(companions))


def renamed(fn: ir.Function, new: str) -> ir.Function:
    """A callee's derivative under the name its caller binds it to: its `def` and the calls
    it makes to itself (recursion) both."""
    if fn.name == new:
        return fn
    return replace(fn, name=new, body=ir.rename_stmts(fn.body, {fn.name: new}))
