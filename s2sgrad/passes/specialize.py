"""Specialize: the derivative for arguments of known shapes.

Given the shapes of the arguments of a call (the API compiles one version
per set of shapes it meets, up to a few), the shapes analysis fixes the shape
of most values, and every `unbroadcast(g, x)` whose `g` already has `x`'s
shape is just `g` (so is forward mode's `broadcast_like(t, y)`). The optimizer
then drops what that leaves unread: values the tape kept only so their shape
could be read in the reverse sweep.

    dtotal = unbroadcast(dnew_total, total)     ==>     dtotal = dnew_total

An adjoint every entry of which is one number (a mean's or a sum's, spread over
its argument, then scaled) that flows into a matrix product's adjoint makes that
adjoint a row or column sum instead of a matrix product:

    dsub = unsum(1.0, sub) * k                  ==>     dx = matmul_dleft_uniform(dsub, x, w)
    dx = matmul_dleft(dsub, x, w)                       (c times w's row sums, each row)
"""
from __future__ import annotations

import operator
from collections import Counter
from dataclasses import replace

import numpy as np

from .. import ir, rules
from . import cse, dce, optimize
from .shapes import infer


def run(fn: ir.Function, params: dict) -> ir.Function:
    shapes = infer(fn, params)

    def shape(atom):
        if isinstance(atom, ir.Const):
            return np.shape(atom.value)
        known = shapes.get(atom.name) if isinstance(atom, ir.Var) else None
        return known.shape if known is not None else None

    def floats(atom) -> bool:
        """Whether `atom` is known to hold floats (`1.0 * mask` is no mask: a cast)."""
        known = shapes.get(atom.name) if isinstance(atom, ir.Var) else None
        return known is not None and known.dtype.kind in "fc"

    def equal_shapes(s):
        if isinstance(s, ir.Assign) and s.op in ("unbroadcast", "broadcast_like") and shape(s.args[0]) is not None \
                and shape(s.args[0]) == shape(s.args[1]):
            return replace(s, op="id", args=s.args[:1], params=())
        return s

    fn = dce.run(cse.run(replace(fn, body=_mapped(fn.body, equal_shapes))))   # (the copies made go)
    flat = list(ir.walk_all(fn.body))
    uniform = _uniform(flat, shape)
    if not uniform:
        return optimize.run(fn)
    readers: dict = {}
    for t in flat:
        for name in ir.uses(t):
            readers.setdefault(name, []).append(t)
    made = {t.target: t for t in flat if isinstance(t, ir.Assign)}
    change = lambda s: _folded(_sums(s, uniform, shape), uniform, shape, floats, readers, made)   # noqa: E731
    return optimize.run(replace(fn, body=_mapped(fn.body, change)))


def _mapped(stmts, change) -> tuple:
    """`stmts` with `change` applied to every statement, nested ones included."""
    out = []
    for s in stmts:
        if isinstance(s, ir.Def):
            s = ir.Def(replace(s.fn, body=_mapped(s.fn.body, change)), s.loc)
        else:
            s = ir.with_bodies(s, lambda body: _mapped(body, change))
        out.append(change(s))
    return tuple(out)


def _uniform(flat, shape) -> dict:
    """name -> c, or None where c is not known when compiling, for names assigned once
    whose every entry is the same number c: a scalar spread by `unsum` over a whole
    array, and such a value negated or combined with scalars."""
    assigned = Counter(name for t in flat for name in ir.defs(t))
    found: dict = {}
    for s in flat:
        if not isinstance(s, ir.Assign) or assigned[s.target] != 1:
            continue
        if s.op == "unsum" and shape(s.args[0]) == () and dict(s.params).get("axis") is None:
            found[s.target] = _known(s.args[0], found)
        elif s.op in SCALAR_OPS and any(isinstance(a, ir.Var) and a.name in found for a in s.args) \
                and all(isinstance(a, ir.Var) and a.name in found or shape(a) == () for a in s.args):
            values = [_known(a, found) for a in s.args]
            found[s.target] = None if None in values else SCALAR_OPS[s.op](*values)
    return found


SCALAR_OPS = {"mul": operator.mul, "div": operator.truediv, "add": operator.add, "sub": operator.sub,
              "neg": operator.neg, "id": lambda a: a}


def _known(atom, found: dict):
    """A float constant's value, or a uniform name's known value, else None."""
    if isinstance(atom, ir.Const):
        return atom.value if type(atom.value) in (int, float) else None
    return found.get(atom.name)


UNIFORM = {"matmul_dleft": "matmul_dleft_uniform", "matmul_dright": "matmul_dright_uniform"}
WORTH_IT = 1 << 16      # multiply-adds of the product below which a small matmul is cheaper


def _sums(s, uniform: dict, shape):
    """A matrix product's adjoint from a uniform adjoint, as sums."""
    if not (isinstance(s, ir.Assign) and s.op in UNIFORM and isinstance(s.args[0], ir.Var)
            and s.args[0].name in uniform):
        return s
    x, y = shape(s.args[1]), shape(s.args[2])
    if x is not None and y is not None and len(x) == len(y) == 2 and x[0] * x[1] * y[1] >= WORTH_IT:
        return replace(s, op=UNIFORM[s.op])
    return s


FRESH = {"mul", "div", "add", "sub", "pow", "neg"}     # ops whose result is a new array


def _folded(s, uniform: dict, shape, floats, readers: dict, made: dict):
    """`u * y`, every entry of `u` the known constant c and y of u's shape: `c * y`, so
    the spread constant is never multiplied in; the optimizer then makes `1.0 * y` just
    y, which is right only where y holds floats (a boolean mask times 1.0 is floats),
    and y is a new array read only there, or the product itself is read only by
    arithmetic (no one can see it is not a new array)."""
    if not (isinstance(s, ir.Assign) and s.op == "mul" and len(s.args) == 2):
        return s
    for u, y in (s.args, s.args[::-1]):
        c = uniform.get(u.name) if isinstance(u, ir.Var) else None
        if c is None or shape(y) is None or shape(y) != shape(u) or not floats(y):
            continue
        fresh = isinstance(y, ir.Var) and len(readers.get(y.name, ())) == 1 and y.name in made \
            and _new_array(made[y.name])
        consumed = len(readers.get(s.target, ())) == 1 and _new_array(readers[s.target][0])
        if c != 1.0 or fresh or consumed:
            return replace(s, args=(ir.Const(float(c)), y))
    return s


def owned(before: list, name: str) -> bool:
    """Whether `name`, as the statements `before` leave it, is a new array that only
    arithmetic has read since it was made (no view, tape, closure or call has it)."""
    for t in reversed(before):
        if isinstance(t, ir.Assign) and t.target == name:
            return _new_array(t)               # (an `iadd`, too: an array added into before)
        if name in ir.uses(t) and not (isinstance(t, ir.Assign) and _new_array(t)):
            return False
        if isinstance(t, ir.NESTED) and name in ir.defs(t):
            return False
    return False


def follow_owned(fresh: dict, t) -> None:
    """Update `fresh` (name -> whether `owned` holds for it) for one more statement `t`:
    the same answers as `owned`, kept while walking forwards, in one pass."""
    if not (isinstance(t, ir.Assign) and _new_array(t)):
        for name in ir.uses(t):
            fresh[name] = False
    if isinstance(t, ir.NESTED):
        for name in ir.defs(t):
            fresh[name] = False
    if isinstance(t, ir.Assign):
        fresh[t.target] = _new_array(t)


def _new_array(s) -> bool:
    """Whether statement `s` makes a new array: arithmetic, or an elementwise op other
    than `id` (a copy of the name, not of the array). One written into the memory of an
    argument (`out=`, passes/buffers.py) owns that memory: the argument is read no more."""
    if not isinstance(s, ir.Assign) or s.op == "id":
        return False
    op = rules.OPS.get(s.op)
    return s.op in FRESH or (op is not None and op.kind == "elementwise")
