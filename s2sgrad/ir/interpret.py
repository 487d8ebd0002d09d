"""A tiny interpreter of the IR, so a pass can be tested by what it means.

`run(fn, *args, free={})` executes an `ir.Function` on Python and NumPy
values, without emitting any source: the tests run the IR after every pass
and compare with the user's function and with the generated code.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import ir, rules

OPERATORS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": operator.pow, "matmul": operator.matmul, "mod": operator.mod, "floordiv": operator.floordiv, "neg": operator.neg, "id": lambda a: a,
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
    "eq": operator.eq, "ne": operator.ne, "tuple": lambda *a: a, "getitem": operator.getitem,
    "list": lambda *a: list(a), "append": lambda xs, v: [*xs, v], "not": operator.not_, "and": lambda a, b: a and b, "or": lambda a, b: a or b,
}


class _Returned(Exception):
    def __init__(self, value):
        self.value = value


MACHINE = "__machine__"      # env key of an object that evaluates ops another way (verify.py)


def run(fn: ir.Function, *args, free=None, machine=None):
    """Run `fn` on `args`; `free` gives the values of the names it reads from outside.
    A `machine` (with `apply(stmt, args, plain)`, `truth(value, stmt)`, `number(value)`)
    evaluates the ops and decides the branches instead: the SymPy referee runs the IR on
    symbols with it."""
    free = dict(free or {}) | ({MACHINE: machine} if machine is not None else {})
    def again(*values):                       # it may call itself
        return run(fn, *values, free=free)
    again.__s2sgrad_interpreted__ = True
    itself = {fn.name: again}
    env = free | itself | fn.bindings | dict(zip(fn.params, args))
    try:
        _block(fn.body, env)
    except _Returned as done:
        return done.value
    return None


def _block(stmts, env) -> None:
    for stmt in stmts:
        _STATEMENTS[type(stmt)](stmt, env)


def _return(stmt, env):
    raise _Returned(_value(stmt.value, env))


def _truth(value, stmt, env) -> bool:
    machine = env.get(MACHINE)
    return machine.truth(value, stmt) if machine is not None else bool(value)


def _if(stmt, env):
    _block(stmt.body if _truth(_value(stmt.cond, env), stmt, env) else stmt.orelse, env)


def _for(stmt, env):
    machine = env.get(MACHINE)
    bounds = [_value(a, env) for a in (stmt.start, stmt.stop, stmt.step)]
    turns = range(*(machine.number(b) for b in bounds) if machine is not None else bounds)
    if machine is not None:
        machine.turned(stmt, len(turns))
    for i in reversed(turns) if stmt.reverse else turns:
        env[stmt.target] = i
        _block(stmt.body, env)


def _while(stmt, env):
    while True:
        _block(stmt.test, env)
        if not _truth(_value(stmt.cond, env), stmt, env):
            return
        _block(stmt.body, env)


def _push(stmt, env):
    value = _value(stmt.value, env)
    env.setdefault(stmt.tape, []).append(value if stmt.index is None else
                                         np.copy(value[_value(stmt.index, env)]))


def _pop(stmt, env):
    value = env[stmt.tape].pop()
    if stmt.index is None:
        env[stmt.target] = value
    else:
        env[stmt.target][_value(stmt.index, env)] = value


_STATEMENTS = {
    ir.Assign: lambda s, env: env.__setitem__(s.target, _assign(s, env)),
    ir.Def: lambda s, env: env.__setitem__(s.fn.name, _closure(s.fn, env)),
    ir.Comment: lambda s, env: None,
    ir.Return: _return, ir.If: _if, ir.For: _for, ir.While: _while, ir.Push: _push, ir.Pop: _pop,
}


def _closure(fn, env):
    return lambda *args: run(fn, *args, free=env)


def _assign(stmt: ir.Assign, env):
    args = [_value(a, env) for a in stmt.args]
    machine = env.get(MACHINE)
    if machine is not None:
        return machine.apply(stmt, args, _plain)
    return _plain(stmt, args)


def _plain(stmt: ir.Assign, args):
    """The op's value, computed with Python and NumPy."""
    if stmt.op == "setitem":
        array, index, value = args
        if stmt.target != stmt.args[0].name:
            array = np.array(array, copy=True)
        array[index] = value
        return array
    if stmt.op == "call":
        return args[0](*args[1:])
    if stmt.op == "pullback":
        return args[0](args[1])
    if stmt.op == "iadd":
        args[0] += args[1]
        return args[0]
    if stmt.op in OPERATORS:
        return OPERATORS[stmt.op](*args)
    return rules.OPS[stmt.op].obj(*args, **ir.statics(stmt))


def _value(value, env):
    if isinstance(value, ir.Var):
        return env[value.name]
    if isinstance(value, ir.Const):
        return value.value
    if isinstance(value, ir.Index):
        items = tuple(_value(i, env) for i in value.items)
        return items[0] if len(items) == 1 else items
    if isinstance(value, ir.Slice):
        return slice(*(None if a is None else _value(a, env) for a in (value.lower, value.upper, value.step)))
    if isinstance(value, tuple):
        return tuple(_value(v, env) for v in value)
    return value          # None (np.newaxis) or Ellipsis inside an index
