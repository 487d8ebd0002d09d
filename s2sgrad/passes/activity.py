"""Activity analysis: which values need an adjoint.

A value is *active* when it depends, through differentiable arguments, on a
differentiated parameter, and it reaches the returned value. Only active
statements get adjoint code; `np.zeros(...)`, shapes and comparisons never do.

    def f(x, n):              wrt=x: active = {x, y, z}
        k = np.ones(3)        k does not depend on x
        y = x * k             y does
        z = np.sum(y)         z reaches the output
        return z
"""
from __future__ import annotations

import numpy as np

from .. import ir, rules
from ..frontend import templates
from .. import errors
from ..errors import Loc, NoRuleError, NotDifferentiableError
from ..rules.helpers import NO_DERIVATIVE
from ..rules.numpy import DISCRETE, cast_kind
from ..ir import sequences

CONTAINERS = {"tuple": "tuple", "list": "list"}
ZERO_EXPONENTS = (ir.Const(0), ir.Const(0.0))


def constant_result(stmt: ir.Assign) -> bool:
    """Whether the statement's result is rightly constant in all its arguments: x ** 0 is 1
    wherever x is (0 ** 0 too), and a cast to integers or bools is piecewise constant."""
    return (stmt.op == "pow" and stmt.args[1] in ZERO_EXPONENTS) or cast_kind(stmt) in DISCRETE


def differentiable_positions(stmt: ir.Assign) -> tuple:
    """Positions of the arguments a statement's rule differentiates (a call to a function
    differentiates all but the function itself)."""
    if stmt.op == "call":
        return tuple(range(1, len(stmt.args)))
    if stmt.op == "opaque" and ("piecewise", True) in stmt.params or (ir.UNMOVED, True) in stmt.params:
        return ()                                # its value is constant where it is defined (a count, an item
                                                 # of a tuple result that does not vary: rules.Op.constant_items)
    if stmt.op == "opaque" or stmt.op in CONTAINERS:   # followed as if it were differentiated: where a
        return tuple(range(len(stmt.args)))      # differentiated value flows through one into the output,
                                                 # it is refused (a container: unless a rule takes it)
    if constant_result(stmt):
        return ()
    op = rules.OPS[stmt.op]
    if op.kind == "helper" and op.rule is None and stmt.op not in NO_DERIVATIVE:
        return tuple(range(len(stmt.args)))  # a gradient's helper with no reverse rule: an error, not a zero
    known = _POSITIONS.get(stmt.op)
    if known is None or known[0] is not op:
        known = _POSITIONS[stmt.op] = (op, tuple(op.args.index(a) for a in templates.differentiated(op)))
    return known[1]


_POSITIONS: dict = {}     # op name -> (its rules.Op, the positions its rule differentiates)


def active_values(fn: ir.Function, wrt) -> frozenset:
    """Names of the active values of a normalized function (loops iterate to a fixpoint)."""
    varied = varied_values(fn, wrt)
    useful = useful_values(fn)
    refuse_silent_zeros(fn, varied, useful)
    return frozenset(varied & useful)


def varied_values(fn: ir.Function, wrt) -> set:
    """Names whose value depends on the parameters `wrt` through differentiable arguments."""
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign)]
    inputs = {id(s): _diff_inputs(s) for s in assigns}      # (worked out once per statement)
    return closure(set(wrt), assigns, lambda s, known: inputs[id(s)] & known, lambda s: {s.target},
                   lambda s: inputs[id(s)])


def useful_values(fn: ir.Function) -> set:
    """Names whose value reaches the returned value through differentiable arguments."""
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign)]
    useful = {a.name for s in ir.walk(fn.body) if isinstance(s, ir.Return)
              for a in ir.atoms_of(s.value) if isinstance(a, ir.Var)}
    return closure(useful, assigns, lambda s, known: s.target in known, _diff_inputs, lambda s: (s.target,))


def refuse_silent_zeros(fn: ir.Function, varied: set, useful: set) -> None:
    """Refuse, at the user's line, a derivative that would be silently zero or wrong: a
    differentiated value passed where the op's rule takes a constant (np.linspace's
    `num`, np.einsum's subscripts, an op with no rule yet), unless the op is piecewise
    constant there (rules.Op.piecewise); and `+` or `*` joining or repeating a list or tuple that holds differentiated values."""
    for name, stmt in sequences.arithmetic(fn.body, numeric=varied).items():
        if name in varied and name in useful:
            raise sequences.refusal(stmt)
    for stmt in sequences.dict_writes(fn.body):
        if stmt.target in varied and stmt.target in useful:
            raise NoRuleError("a dict holding differentiated values is not supported here yet", stmt.loc,
                              hint="pass the dict as an argument (s2sgrad differentiates with respect to dicts), "
                                   "or keep the values in variables or a list")
    for stmt in ir.walk(fn.body):
        if isinstance(stmt, ir.Assign) and stmt.target in useful:
            _refuse_cast(stmt, varied)
            _refuse_constant_arguments(stmt, varied)


def _refuse_cast(stmt: ir.Assign, varied: set) -> None:
    """A differentiated cast to anything but floats, complex numbers, integers and bools."""
    kind = cast_kind(stmt)
    if stmt.target in varied and kind not in (None, "f", "c"):      # (ints and bools do not vary)
        what = f"dtype kind {kind}"
        raise NotDifferentiableError(f"a cast to {what} in a differentiated computation is not supported yet",
                                     stmt.loc, hint="cast to floats, or to integers where no derivative is wanted")


def _refuse_constant_arguments(stmt: ir.Assign, varied: set) -> None:
    """A differentiated value where the op's rule takes a constant, unless it is piecewise there."""
    if stmt.op == "call" or constant_result(stmt) or ("piecewise", True) in stmt.params \
            or (ir.UNMOVED, True) in stmt.params:
        return                                  # (an opaque call whose value is constant where it is defined)
    if stmt.op == "opaque":
        if any(isinstance(a, ir.Var) and a.name in varied for a in stmt.args):
            args, kwargs = _not_read(stmt)
            kind = dict(stmt.params).get("unread", ("", "", "NoRuleError"))[2]
            raise getattr(errors, kind, NoRuleError)(*args, **kwargs)
        return
    op, kept = rules.OPS[stmt.op], set(differentiable_positions(stmt))
    for i, arg in enumerate(stmt.args):
        if i not in kept and isinstance(arg, ir.Var) and arg.name in varied and not op.constant_in(i):
            raise NoRuleError(f"`{rules.shown(stmt.op)}` has no derivative rule for its argument {_argument_name(op, i)}, "
                              "which depends on a differentiated input", stmt.loc,
                              hint="pass a value there that does not depend on the differentiated arguments, "
                                   "or give the function a rule that differentiates it (@s2sgrad.adjoint)")


def _not_read(stmt: ir.Assign) -> tuple:
    """(message, location, hint=...) refusing a differentiated value in code s2sgrad runs
    without reading (frontend/opaque.py)."""
    how = dict(stmt.params)
    if "unread" in how:           # the user's function, which could not be inlined: say why
        message, hint, kind, *where = how["unread"]
        return (message, Loc(*where) if where else stmt.loc), {"hint": hint}
    if "display" in how or how.get("callee") in ("dict", "set"):    # (a dict or set comprehension too)
        kind = "set" if how.get("callee") == "set" else "dict"
        return (f"a {kind} holding differentiated values is not supported here yet", stmt.loc), \
            {"hint": "pass the dict as an argument (s2sgrad differentiates with respect to dicts), or use "
                     "the values directly"}
    if "method" in how:
        return (f"the method `.{how['method']}()` has no derivative rule (s2sgrad does not read the "
                "methods of the values a function is given)", stmt.loc), \
            {"hint": "supported methods: " + ", ".join(f".{m}()" for m in rules.METHODS)}
    if "callee" not in how:
        return ("this calls a function held in a variable, which s2sgrad cannot see when compiling, so "
                "the derivative cannot flow through it", stmt.loc), \
            {"hint": "call the function by its own name here"}
    name, loc = how["callee"], stmt.loc
    call = loc.text[loc.col:loc.end_col] if loc and loc.end_col else name
    if name.startswith("operator") and name.endswith((".add", ".mul")):     # [a, b] * x: a list written there
        return (f"`{call}`: `{'+' if name.endswith('add') else '*'}` of a list or tuple written there joins or "
                "repeats it, or, with an array, is NumPy's; s2sgrad runs it as it is and does not differentiate it",
                stmt.loc), {"hint": "make it an array: np.array([...])"}
    return (f"`{name}` has no derivative rule, so the derivative cannot flow through `{call}`", stmt.loc), \
        {"hint": errors.rule_hint(name)}


def _argument_name(op, position: int) -> str:
    names = op.args or rules.positional_names(op.obj) or ()
    return f"`{names[position]}`" if position < len(names) else f"number {position + 1}"


def closure(known: set, assigns, reaches, adds, triggers) -> set:
    """`known`, grown by `adds(stmt)` for every statement that `reaches(stmt, known)` until
    nothing more is added: a worklist, so a statement is looked at again only when one of
    its `triggers` (the names `reaches` reads) has just become known."""
    waiting: dict = {}
    for stmt in assigns:
        for name in triggers(stmt):
            waiting.setdefault(name, []).append(stmt)
    todo, seen = list(assigns), set()
    while todo:
        stmt = todo.pop()
        if not reaches(stmt, known):
            continue
        for name in adds(stmt) - known:
            known.add(name)
            if name not in seen:
                seen.add(name)
                todo.extend(waiting.get(name, ()))
    return known


def _diff_inputs(stmt: ir.Assign) -> set:
    return {stmt.args[i].name for i in differentiable_positions(stmt)
            if isinstance(stmt.args[i], ir.Var)}
