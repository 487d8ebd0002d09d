"""A tiny interpreter of the IR, so a pass can be tested by what it means.

`run(fn, *args, free={})` executes an `ir.Function` on Python and NumPy
values, without emitting any source: the tests run the IR after every pass
and compare with the user's function and with the generated code.
"""
from __future__ import annotations

import operator

import numpy as np

from . import ir, rules

OPERATORS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": operator.pow, "matmul": operator.matmul, "neg": operator.neg, "id": lambda a: a,
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
    "eq": operator.eq, "ne": operator.ne, "tuple": lambda *a: a, "getitem": operator.getitem,
}


def run(fn: ir.Function, *args, free=None):
    """Run `fn` on `args`; `free` gives the values of the names it reads from outside."""
    env = dict(free or {}) | dict(zip(fn.params, args))
    for stmt in fn.body:
        if isinstance(stmt, ir.Return):
            return _value(stmt.value, env)
        if isinstance(stmt, ir.Def):
            env[stmt.fn.name] = _closure(stmt.fn, env)
        elif isinstance(stmt, ir.Assign):
            env[stmt.target] = _assign(stmt, env)
    return None


def _closure(fn, env):
    return lambda *args: run(fn, *args, free=env)


def _assign(stmt: ir.Assign, env):
    args = [_value(a, env) for a in stmt.args]
    if stmt.op == "setitem":
        array, index, value = args
        if stmt.target != stmt.args[0].name:
            array = np.array(array, copy=True)
        array[index] = value
        return array
    if stmt.op in OPERATORS:
        return OPERATORS[stmt.op](*args)
    return rules.OPS[stmt.op].obj(*args, **dict(stmt.params))


def _value(value, env):
    if isinstance(value, ir.Var):
        return env[value.name]
    if isinstance(value, ir.Const):
        return value.value
    if isinstance(value, ir.Index):
        return tuple(_value(i, env) for i in value.items)
    if isinstance(value, ir.Slice):
        return slice(*(None if a is None else _value(a, env) for a in (value.lower, value.upper, value.step)))
    if isinstance(value, tuple):
        return tuple(_value(v, env) for v in value)
    return value          # None (np.newaxis) or Ellipsis inside an index
