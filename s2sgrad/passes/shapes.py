"""Shapes: what every value of a derivative looks like, given its arguments' shapes.

An analysis (the specialize pass asks it). Each name gets one abstract value,
`Shaped(shape, dtype, value)`, joined over every statement that assigns it
anywhere in the function (flow-insensitive, so it holds on every path and
every turn of every loop); `value` is the Python value when it is the same
on all of them (a length, a shape tuple: `T = xs.shape[0]`). A name missing
from the result may have any shape. The shapes come from a table of shape
rules; small operands may instead be run through the op itself, on zeros.
"""
from __future__ import annotations

import weakref

import warnings
from dataclasses import dataclass

import numpy as np

from .. import ir, rules
from ..ir import interpret

_NONE = object()           # no known value
OWN = dict(rules.OPS)      # s2sgrad's own ops, safe to run on stand-ins; never a user's (a random
                           # draw registered with s2sgrad.nondifferentiable would advance their stream)
SMALL = 4096               # operands up to this size may be evaluated on zeros


@dataclass(frozen=True)
class Shaped:
    shape: tuple
    dtype: np.dtype
    value: object = _NONE

    @staticmethod
    def of(value) -> "Shaped":
        return Shaped(np.shape(value), np.asarray(value).dtype, value)

    def dummy(self):
        """A stand-in with this shape and dtype (the value itself when known)."""
        if self.value is not _NONE:
            return self.value
        if not self.shape:
            return self.dtype.type(0).item() if self.dtype.kind in "biuf" else self.dtype.type(0)
        return np.broadcast_to(np.zeros((), self.dtype), self.shape)


UNKNOWN = None


@dataclass(frozen=True)
class _Index:
    items: tuple               # an index's items, each abstract


_LAST: list = [lambda: None, None, None]     # the last (function, params, shapes) worked out


def infer(fn: ir.Function, params: dict) -> dict:
    """name -> Shaped, for the names whose shape `fn` fixes given `params` (name -> Shaped).
    A pass that changes nothing hands the next one the same function: its shapes are
    not worked out again."""
    if _LAST[0]() is fn and _LAST[1] is params:
        return dict(_LAST[2])
    known = _infer(fn, params)
    _LAST[:] = [weakref.ref(fn), params, known]
    return dict(known)


def remember(fn: ir.Function, params: dict, known: dict) -> None:
    """Record the shapes a pass worked out for the function it made (`infer` then returns
    them): what `known` says of the function it started from, with `learn` applied to the
    statements it added."""
    _LAST[:] = [weakref.ref(fn), params, dict(known)]


def learn(known: dict, stmt) -> None:
    """`known` updated with what a new statement assigns, where its arguments are known."""
    for name, result in _defined(stmt, known, set()):
        if result is UNKNOWN or result is _BOTTOM:
            known.pop(name, None)
        else:
            known[name] = result


def _infer(fn: ir.Function, params: dict) -> dict:
    state: dict = dict(params)
    assigned = {n for s in ir.walk_all(fn.body) if not isinstance(s, ir.NESTED) for n in ir.defs(s)}
    assigned |= {s.target for s in ir.walk_all(fn.body) if isinstance(s, ir.For)}
    assigned |= {s.counter for s in ir.walk_all(fn.body) if isinstance(s, ir.While) and s.counter}
    # a parameter of unknown shape, a global, a closure or a bound value: any shape
    unknown: set = (set(fn.params) - set(params)) | (set(_read(fn)) - assigned - set(params))
    stmts = [s for s in _walk_all(fn.body)]
    for _ in range(20):
        # walks in order until nothing changes; a walk in which no statement read a name
        # not yet assigned and no name changed once assigned is the last (the next would
        # see the same values): straight code assigning each name once takes one
        changed = again = False
        for s in stmts:
            for name, result in _defined(s, state, unknown):
                if name in unknown:
                    continue
                if result is _BOTTOM:
                    again = True
                    continue
                before = state.get(name, _BOTTOM)
                joined = _join(before, result)
                if joined is UNKNOWN:
                    unknown.add(name)
                    state.pop(name, None)
                elif joined != before:
                    state[name] = joined
                else:
                    continue
                changed = True
                again = again or before is not _BOTTOM
        if not (changed and again):
            break
    return {n: v for n, v in state.items() if n not in unknown}


_BOTTOM = object()         # not seen yet


def _read(fn: ir.Function) -> set:
    return {n for s in ir.walk_all(fn.body) if not isinstance(s, ir.NESTED) for n in ir.uses(s)}


def _walk_all(stmts):
    for s in ir.walk(stmts):
        yield s
        if isinstance(s, ir.Def):
            unknown_params = s.fn.params
            yield ("params", unknown_params)
            yield from _walk_all(s.fn.body)


def _defined(s, state, unknown):
    """(name, abstract value) for each name `s` assigns."""
    if isinstance(s, tuple):                   # a nested function's parameters: anything
        return [(p, UNKNOWN) for p in s[1]]
    if isinstance(s, ir.For):
        return [(s.target, Shaped((), np.dtype(int)))]
    if isinstance(s, ir.While) and s.counter:
        return [(s.counter, Shaped((), np.dtype(int)))]
    if isinstance(s, ir.Assign):
        args = [_atom(a, state, unknown) for a in s.args]
        if any(a is UNKNOWN for a in args):
            return [(s.target, UNKNOWN)]
        if any(a is _BOTTOM for a in args):
            return [(s.target, _BOTTOM)]
        return [(s.target, _result(s, args))]
    return []                                  # a pop restores a value assigned elsewhere


def _atom(atom, state, unknown):
    if isinstance(atom, ir.Const):
        return Shaped.of(atom.value) if isinstance(atom.value, (int, float, bool, tuple)) \
            or atom.value is None else UNKNOWN
    if isinstance(atom, ir.Var):
        return UNKNOWN if atom.name in unknown else state.get(atom.name, _BOTTOM)
    if isinstance(atom, ir.Index):
        items = [_atom(i, state, unknown) for i in atom.items]
        return _BOTTOM if _BOTTOM in items else UNKNOWN if UNKNOWN in items else _Index(tuple(items))
    if isinstance(atom, ir.Slice):
        parts = [Shaped.of(None) if p is None else _atom(p, state, unknown)
                 for p in (atom.lower, atom.upper, atom.step)]
        if any(p is UNKNOWN or p is _BOTTOM for p in parts):
            return UNKNOWN if UNKNOWN in parts else _BOTTOM
        if any(p.value is _NONE for p in parts):
            return UNKNOWN                     # x[i:j]: its length depends on the values
        return Shaped((), np.dtype(object), slice(*(p.value for p in parts)))
    return UNKNOWN


def _join(old, new):
    if old is _BOTTOM:
        return new
    if new is UNKNOWN or old is UNKNOWN:
        return UNKNOWN
    if new.value is None and new.shape == ():
        return old                             # a placeholder None (the tape's first turn)
    if old.value is None and old.shape == ():
        return new
    if old == new:
        return old
    if old.shape == new.shape and old.dtype == new.dtype:
        return Shaped(old.shape, old.dtype)
    return UNKNOWN


# -- the shape rules ----------------------------------------------------------------

def _broadcast(op: str, args, params):
    """An elementwise op's result: the arguments' broadcast shape, and the dtype the op
    gives on one element of each (`i / n` of two ints is a float, `np.sqrt` of one too)."""
    first = args[0] if args else None
    if first is not None and first.shape and all(a.shape == first.shape and a.dtype == first.dtype for a in args) \
            and first.dtype == _FLOAT64:
        return Shaped(first.shape, first.dtype)          # (float arrays alike: the common case, fast)
    shape = np.broadcast_shapes(*(a.shape for a in args))
    return Shaped(shape, _elementwise_dtype(op, args, params))


_FLOAT64 = np.dtype(np.float64)
_DTYPES: dict = {}           # (op, the arguments' dtypes, params) -> the result's dtype


def _elementwise_dtype(op: str, args, params) -> np.dtype:
    if all(a.dtype == _FLOAT64 for a in args):
        return _FLOAT64                        # (no elementwise rule makes other numbers of floats)
    key = (op, tuple((a.dtype, bool(a.shape)) for a in args), params)
    try:
        return _DTYPES[key]
    except KeyError:
        pass
    except TypeError:                          # (a param that cannot be a key)
        key = None
    env = {f"a{i}": np.ones((), a.dtype) if a.shape else  # (an array's element; a number as Python's)
           a.dtype.type(1).item() if a.dtype.kind in "biuf" else a.dtype.type(1) for i, a in enumerate(args)}
    stmt = ir.Assign("out", op, tuple(ir.Var(f"a{i}") for i in range(len(args))), tuple(params))
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            dtype = np.asarray(interpret._assign(stmt, env)).dtype
    except Exception:  # (an op its stand-ins do not fit: NumPy's promotion of the arguments)
        dtype = np.result_type(*(a.dummy() if not a.shape else a.dtype for a in args))
    if key is not None:
        _DTYPES[key] = dtype
    return dtype


def _ufunc(f, args):
    """A NumPy ufunc's result: the arguments' broadcast shape, and the dtype it gives on
    one element of each (a scalar argument as it is: its value may decide the dtype)."""
    shape = np.broadcast_shapes(*(a.shape for a in args))
    with np.errstate(all="ignore"):
        one = f(*(a.dummy() if not a.shape else np.ones((), a.dtype) for a in args))
    return Shaped(shape, np.asarray(one).dtype)


def _like(position, dtype=None):
    return lambda args, params: Shaped(args[position].shape, np.dtype(dtype or args[position].dtype))


def _reduce(args, params):
    x, axis, keepdims = args[0], params.get("axis"), params.get("keepdims", False)
    ndim = len(x.shape)
    axes = range(ndim) if axis is None else [a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))]
    shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape) if keepdims or i not in axes)
    return Shaped(shape, x.dtype)


def _matmul(args, params):
    a, b = args[0].shape, args[1].shape
    if len(a) == 2 and len(b) in (1, 2) and a[1] == b[0]:
        return Shaped(a[:1] + b[1:], np.result_type(args[0].dtype, args[1].dtype))
    if len(a) == 1 and len(b) == 2 and a[0] == b[0]:
        return Shaped(b[1:], np.result_type(args[0].dtype, args[1].dtype))
    return _evaluated(args, params, "np.matmul")


def _value_of(fn):
    return lambda args, params: Shaped.of(fn(args[0].dummy()))


def _zeros(args, params):
    shape = args[0].value
    if shape is _NONE:
        return UNKNOWN
    return Shaped(tuple(shape) if isinstance(shape, tuple) else (shape,), np.dtype(float))


SHAPE_RULES = {
    "unbroadcast": _like(1, float), "unsum": _like(1, float), "unmax": _like(1, float),
    "zero_grad": _like(0, float), "matmul_dleft": _like(1, float), "dot_dleft": _like(1, float),
    "matmul_dright": _like(2, float), "dot_dright": _like(2, float),
    "matmul_dleft_sum": _like(1, float), "matmul_dright_sum": _like(2, float),
    "matmul_dleft_uniform": _like(1, float), "matmul_dright_uniform": _like(2, float),
    "np.copy": _like(0), "np.asarray": lambda args, params: _like(0, dict(params).get("dtype"))(args, params), "np.zeros_like": _like(0, float),
    "np.ones_like": _like(0, float), "float": lambda args, params: Shaped((), np.dtype(float)),
    "np.sum": _reduce, "np.mean": _reduce, "np.max": _reduce, "np.min": _reduce,
    "np.amax": _reduce, "np.amin": _reduce,
    "matmul": _matmul, "np.matmul": _matmul,
    "np.shape": _value_of(np.shape), "np.ndim": _value_of(np.ndim), "np.size": _value_of(np.size),
    "len": _value_of(len), "np.zeros": _zeros, "np.ones": _zeros,
}
for _name in ("gt", "ge", "lt", "le", "eq", "ne"):
    SHAPE_RULES[_name] = lambda args, params: Shaped(np.broadcast_shapes(*(a.shape for a in args)),
                                                     np.dtype(bool))
NEVER = {"opaque", "attr", "call", "pullback", "call_adjoint", "list", "append", "common_length", "np.array", "np.stack",
         "sum", "setitem"}


FOLDED = {"tuple", "add", "sub", "mul", "floordiv", "mod", "neg", "id", "getitem"}


def _known(a) -> bool:
    if isinstance(a, _Index):
        return all(_known(i) for i in a.items)
    return a.value is not _NONE


def _result(s: ir.Assign, args):
    if s.op == "id":
        return args[0]
    if all(_known(a) for a in args) and s.op in FOLDED:
        folded = _evaluated(args, dict(s.params), s.op, keep_value=True)
        if folded is not UNKNOWN and isinstance(folded.value, (int, tuple)):
            return folded                      # shape arithmetic: `T + 1`, `shape[0]`
    if s.op == "setitem":
        return Shaped(args[0].shape, args[0].dtype) if isinstance(args[0], Shaped) else UNKNOWN
    if s.op in NEVER:
        return UNKNOWN
    op = rules.OPS.get(s.op)
    try:
        if s.op in SHAPE_RULES:
            return SHAPE_RULES[s.op](args, dict(s.params))
        if op is not None and op.kind == "elementwise":
            return _broadcast(s.op, args, s.params)
        if op is not OWN.get(s.op):
            return UNKNOWN                       # a user's function: never run when compiling
        if op is not None and isinstance(op.obj, np.ufunc) and op.obj.nout == 1 and not s.params:
            return _ufunc(op.obj, args)          # np.sign, np.floor, np.isnan...
    except (ValueError, TypeError, IndexError):
        return UNKNOWN
    return _evaluated(args, dict(s.params), s.op)


def _index_dummy(index: _Index):
    items = tuple(i.dummy() for i in index.items)
    return items[0] if len(items) == 1 else items


def _evaluated(args, params, op, keep_value=False):
    """The op run on stand-ins; only for small operands, and never where an integer or
    boolean of unknown value could decide the result's shape (a length, a mask)."""
    for a in args:
        items = a.items if isinstance(a, _Index) else [a]
        for item in items:
            if not isinstance(item, Shaped):
                return UNKNOWN
            if op != "getitem" and int(np.prod(item.shape, dtype=np.int64)) > SMALL:
                return UNKNOWN                 # (indexing the stand-in view costs nothing)
            if item.value is _NONE and item.dtype.kind == "b" and item.shape:
                return UNKNOWN                 # a boolean mask
            if item.value is _NONE and item.dtype.kind in "iu" and op not in ("getitem",):
                return UNKNOWN                 # perhaps a length or a count
    env = {f"a{i}": _index_dummy(a) if isinstance(a, _Index) else a.dummy() for i, a in enumerate(args)}
    stmt = ir.Assign("out", op, tuple(ir.Var(f"a{i}") for i in range(len(args))), tuple(params.items()))
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = interpret._assign(stmt, env)
    except Exception:  # the stand-ins do not fit (an index out of range, ...)
        return UNKNOWN
    if not isinstance(result, (np.ndarray, np.generic, int, float, bool, tuple)):
        return UNKNOWN
    if isinstance(result, tuple) and not all(isinstance(r, (int, np.integer)) for r in result):
        return UNKNOWN
    shaped = Shaped.of(result)
    return shaped if keep_value else Shaped(shaped.shape, shaped.dtype)
