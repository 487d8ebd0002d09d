"""Complex values: which names may hold complex numbers, and what that asks of each rule.

    def f(z, w):                    z given complex numbers (Kind.complex)
        a = np.abs(z) * w           np.abs of a complex value: its own rule
        return np.sum(a ** 2)       (|z| has no complex derivative: dz = dans * conj(z) / |z|)

A value may hold complex numbers when it is a parameter the derivative is built
for complex arguments (api: a call with complex arguments builds its own
derivative), a complex constant (`1j`), a cast to a complex dtype, or made from
one by any op but those whose result is real (rules.Op.result: np.real, np.imag,
np.abs, np.angle, np.fft.irfft) and those without a derivative (comparisons); and
the results of ops that are complex whatever their arguments (np.fft.fft). s2sgrad follows
JAX's convention (runtime/complex_numbers.py): a rule that holds for complex
arguments as written says so (rules.Op.complex: holomorphic ops, and ops linear
with real coefficients); a differentiated value reaching any other op as a
complex number is refused here, at the user's line. The reverse pass reads
`complex_names` to keep the adjoint of a real value real.
"""
from __future__ import annotations

import inspect
from dataclasses import replace

import numpy as np

from .. import ir, rules
from ..errors import NotDifferentiableError
from ..ir.names import Namer
from ..rules.numpy import cast_kind
from . import fold
from .activity import closure, useful_values, varied_values

APART = {"call_adjoint", "pullback"}       # calls whose callee's derivative is compiled at run time
SIZES = {"len", "np.shape", "np.ndim", "np.size", "int", "bool", "np.argmax", "np.argmin", "np.argsort",
         "np.searchsorted", "np.nonzero", "np.count_nonzero", "np.iscomplexobj", "np.isrealobj"}
# ops without a derivative whose result is integers or booleans, whatever they are given


def complex_names(fn: ir.Function, params=(), free=None, returns_complex=None, active=frozenset()) -> frozenset:
    """The names of `fn` that may hold complex numbers, given the parameters `params` that
    do; `free(name)` is the value a free name holds now (a module's or a closure's), and
    `returns_complex(function, its complex parameters, its differentiated positions)` says
    whether a function it calls may return complex numbers (`active`: the names
    differentiated, which say the positions)."""
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and _keeps(s)]
    seeds = set(params) & (set(fn.params) | set(fn.free))
    for name in fn.free:
        value = fn.bindings.get(name) if name in fn.bindings else free(name) if free else None
        if _holds_complex(value):
            seeds.add(name)
    calls = _Calls(fn, returns_complex, active)
    found = closure(seeds, assigns, lambda s, known: _makes(s, known, calls), lambda s: {s.target}, ir.uses)
    return frozenset(found)


def _holds_complex(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_holds_complex(v) for v in value[:64])
    if isinstance(value, dict):
        return any(_holds_complex(v) for v in list(value.values())[:64])
    return isinstance(value, (complex, np.complexfloating)) or isinstance(value, np.ndarray) and value.dtype.kind == "c"


def is_complex(atom, names) -> bool:
    """Whether an atom may hold complex numbers: a name among `names`, or a complex constant."""
    if isinstance(atom, ir.Var):
        return atom.name in names
    value = getattr(atom, "value", None)
    return any(isinstance(v, (complex, np.complexfloating)) for v in (value if isinstance(value, tuple) else (value,)))


def _keeps(stmt: ir.Assign) -> bool:
    """Whether the result of `stmt` may be complex when an argument is (or always is)."""
    op = rules.OPS.get(stmt.op)
    if op is not None and op.result == "real" or stmt.op in SIZES or stmt.op in fold.BOOLEAN:
        return False
    return cast_kind(stmt) in (None, "c")


def _makes(stmt: ir.Assign, known, calls) -> bool:
    op = rules.OPS.get(stmt.op)
    dtype = ir.statics(stmt).get("dtype")
    if cast_kind(stmt) == "c" or op is not None and op.result == "complex" or _complex_dtype(dtype):
        return True
    if stmt.op == "call":
        return calls.returns_complex(stmt, known)
    return any(is_complex(a, known) for a in stmt.args)


def _complex_dtype(dtype) -> bool:
    try:
        return dtype is not None and np.dtype(getattr(dtype, "value", dtype)).kind == "c"
    except TypeError:
        return False


class _Calls:
    """Whether the functions a function calls return complex numbers (asked once a call)."""

    def __init__(self, fn: ir.Function, returns_complex, active):
        self.fn, self.ask, self.active, self.known = fn, returns_complex, active, {}

    def returns_complex(self, stmt: ir.Assign, known) -> bool:
        callee = self.fn.bindings.get(stmt.args[0].name) if isinstance(stmt.args[0], ir.Var) else None
        given = complex_arguments(stmt, callee, known)
        if callee is None or self.ask is None:
            return bool(given)
        positions = tuple(i - 1 for i in range(1, len(stmt.args))      # (as named_calls.py asks)
                          if isinstance(stmt.args[i], ir.Var) and stmt.args[i].name in self.active) \
            if stmt.target in self.active else ()
        key = (stmt.args[0].name, given, positions)
        if key not in self.known:
            self.known[key] = self.ask(callee, given, positions)
        return self.known[key]


def complex_arguments(stmt: ir.Assign, callee, known) -> tuple:
    """The names of the callee's parameters a call gives complex numbers."""
    try:
        names = list(inspect.signature(callee).parameters) if callee is not None else []
    except (TypeError, ValueError):
        names = []
    return tuple(names[i - 1] if i - 1 < len(names) else f"#{i}" for i in range(1, len(stmt.args))
                 if is_complex(stmt.args[i], known))


def run(fn: ir.Function, wrt: tuple | None, params=(), free=None, returns_complex=None) -> ir.Function:
    """`fn` with each op given a complex value checked against its rule (and np.abs of one
    given its own rule), and the names that may hold complex numbers written on it
    (`ir.Function.complex`); the same function when none may. `wrt`: the parameters
    differentiated (None: all of them, for a derivative of a derivative)."""
    varied, useful = varied_values(fn, fn.params if wrt is None else wrt), useful_values(fn)
    active = varied & useful
    names = complex_names(fn, params, free, returns_complex, active)
    fn = _checked_opaque(_floats_kept(fn, varied), names, active)
    if not names:
        return fn

    def visit(body):
        return tuple(_checked(s, names, active, varied, useful) if isinstance(s, ir.Assign)
                     else ir.with_bodies(s, visit) for s in body)
    return replace(fn, body=visit(fn.body), complex=names)


def over_gradient(fn: ir.Function, primal: frozenset) -> ir.Function:
    """A gradient's IR as forward mode reads it (Hessians), where the function it is the
    gradient of has the names `primal` that may hold complex numbers: the gradient's own
    ops given complex values (its rules' templates were inlined after the complex stage)
    take their complex rules (Op.on_complex), and one whose rule does not hold for complex
    numbers is refused at its line rather than differentiated as if they were real."""
    if not primal:
        return fn
    names = complex_names(fn, params=primal)
    varied = varied_values(fn, fn.params)

    def checked(stmt: ir.Assign) -> ir.Assign:
        op = rules.OPS.get(stmt.op)
        if op is None or not any(is_complex(a, names) for a in stmt.args) or \
                not any(isinstance(a, ir.Var) and a.name in varied for a in stmt.args):
            return stmt
        if op.on_complex:
            return replace(stmt, op=op.on_complex)
        if op.kind in ("elementwise", "adjoint", "helper") and not op.complex:
            raise NotDifferentiableError(f"second derivatives through `{rules.shown(stmt.op)}` of complex values "
                                         "are not supported yet", stmt.loc,
                                         hint="differentiate the gradient in reverse mode: s2sgrad.vjp(s2sgrad.grad(f), x)")
        return stmt

    def visit(body):
        return tuple(checked(s) if isinstance(s, ir.Assign) else ir.with_bodies(s, visit) for s in body)
    return replace(fn, body=visit(fn.body), complex=names)


def _floats_kept(fn: ir.Function, varied) -> ir.Function:
    """`fn` without each `cast_into(v, a)` (a value stored into an array that lowering could
    not tell holds floats), the store taking v itself, where every value `a` is given (not
    an item of it) varies with what is differentiated: made from floats by differentiable
    ops, it holds floats, and the store casts nothing."""
    made: dict = {}
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Assign) and s.op not in ("setitem", "setitem.any"):
            made.setdefault(s.target, []).append(s)

    def floats(name) -> bool:
        return bool(made.get(name)) and all(s.target in varied and cast_kind(s) in (None, "f", "c")
                                            for s in made[name])

    kept = {s.target: s.args[0] for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and s.op == "cast_into"
            and isinstance(s.args[1], ir.Var) and floats(s.args[1].name)}
    if not kept:
        return fn

    def visit(body):
        return tuple(replace(s, args=ir.rename(s.args, kept)) if isinstance(s, ir.Assign) else ir.with_bodies(s, visit)
                     for s in body if not (isinstance(s, ir.Assign) and s.target in kept))
    return replace(fn, body=visit(fn.body))


def _checked(stmt: ir.Assign, names, active, varied, useful) -> ir.Assign:
    op = rules.OPS.get(stmt.op)
    if op is not None and op.kind == "nondiff" and op.piecewise is True and stmt.target in names and \
            stmt.target in useful and \
            not stmt.op.endswith("_like") and any(isinstance(a, ir.Var) and a.name in varied for a in stmt.args):
        raise NotDifferentiableError(f"`{rules.shown(stmt.op)}` of complex numbers has no derivative rule (for them it is not "
                                     "piecewise constant)", stmt.loc,
                                     hint="write it with ops that hold for complex numbers (np.sign(z) is z / np.abs(z))")
    given = [a for a in stmt.args if is_complex(a, names)]
    if not given or not any(isinstance(a, ir.Var) and a.name in active for a in stmt.args):
        return stmt
    if op is not None and op.on_complex:
        return replace(stmt, op=op.on_complex)
    if stmt.op in APART:
        raise NotDifferentiableError("a recursive call given complex numbers is not supported yet", stmt.loc,
                                     hint="call it with real arguments")
    if cast_kind(stmt) not in (None, "c"):
        raise NotDifferentiableError("a cast of complex numbers to reals drops their imaginary part",
                                     stmt.loc, hint="say which part you mean: np.real(z), np.imag(z) or np.abs(z)")
    if op is not None and op.kind in ("elementwise", "adjoint", "helper") and not op.complex:
        raise NotDifferentiableError(f"`{rules.shown(stmt.op)}` has no derivative rule for complex numbers, and it is given "
                                     "one here", stmt.loc,
                                     hint="take the complex value apart first (np.real, np.imag, np.abs, np.angle), "
                                          "or write the op with ones that hold for complex numbers")
    return stmt


def _checked_opaque(fn: ir.Function, names, active) -> ir.Function:
    """`fn` with the value of each call s2sgrad runs without reading (an `opaque` op) that a
    differentiated statement reads checked, where the code runs, to hold no complex
    numbers (runtime `real_valued`): its dtype is not known when compiling, and a complex
    one would meet rules built for reals."""
    counts = ir.assignments(fn.body)
    flat = list(ir.walk(fn.body))
    read = {n for s in flat if isinstance(s, ir.Assign) and s.target in active for n in ir.uses(s)}
    written = {s.args[0].name for s in flat if isinstance(s, ir.Assign) and s.op in ir.WRITES
               and s.args and isinstance(s.args[0], ir.Var)}
    guarded = {s.target: s for s in flat if isinstance(s, ir.Assign) and s.op == "opaque" and s.target in read
               and s.target not in names | written and counts[s.target] == 1
               and "display" not in dict(s.params) and dict(s.params).get("callee") not in ("dict", "set", "list")}
    if not guarded:
        return fn
    namer = Namer.of(fn)
    renamed = {t: namer.fresh(t + "_real") for t in guarded}

    def visit(body):
        out = []
        for s in body:
            if isinstance(s, ir.Assign) and s.target in guarded and s is guarded[s.target]:
                where = (s.loc.file, s.loc.line, s.loc.col, s.loc.end_col, s.loc.text) if s.loc else ()
                out += [s, ir.Assign(renamed[s.target], "real_valued", (ir.Var(s.target),), (("where", where),), s.loc)]
            elif isinstance(s, ir.Assign):
                out.append(replace(s, args=ir.rename(s.args, renamed)))
            elif isinstance(s, ir.Return):
                out.append(ir.Return(ir.rename(s.value, renamed), s.loc))
            else:
                out.append(ir.with_bodies(s, visit))
        return tuple(out)
    return replace(fn, body=visit(fn.body), temps=fn.temps | set(renamed.values()))
