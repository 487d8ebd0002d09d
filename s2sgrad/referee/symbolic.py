"""Running IR on SymPy values: the machine the referee (verify.py) hands to interpret.run.

Each op is evaluated on symbols through its SymPy counterpart from the rule table
(an elementwise rule's expression, an adjoint rule's `sympy` expression over arrays,
or the source of the Python function a user's rule wraps); NumPy itself where the
table says NumPy on arrays of symbols is right. Branches and loop counts are decided
at the point the arguments give, and recorded as the path. An op SymPy cannot run
raises Unverifiable, with the reason.
"""
from __future__ import annotations

import inspect
import time
import types

import mpmath
import numpy as np
import sympy

from .. import frontend, ir, rules, runtime
from ..runtime.reductions import _expanded
from ..frontend import lower
from ..ir import interpret
from . import chain
from ..errors import S2SGradError
from ..rules.numpy import DISCRETE, cast_kind

MAX_STEPS = 20000                  # symbolic operations per verification


class Unverifiable(Exception):
    """The referee cannot follow this code symbolically (the message says why)."""


class Budget:
    """What the referee may spend, checked between its steps (no timer signal: it works
    in any thread): `work` units counted (symbolic operations, nodes valued, nodes given
    to `simplify`: deterministic, what tests use) and/or `seconds` of wall-clock time."""

    def __init__(self, seconds=None, work=None, parent=None):
        self.deadline = None if seconds is None else time.perf_counter() + seconds
        self.work, self.spent, self.parent = work, 0, parent

    @classmethod
    def until(cls, deadline):
        """A budget ending at `deadline` (a perf_counter time), or `deadline` itself."""
        if isinstance(deadline, Budget):
            return deadline
        budget = cls()
        budget.deadline = deadline
        return budget

    def share(self, fraction: float) -> "Budget":
        """A part of what is left, spent from this budget too."""
        part = Budget(parent=self)
        if self.work is not None:
            part.work = int(fraction * max(self.work - self.spent, 0))
        if self.deadline is not None:
            part.deadline = time.perf_counter() + fraction * max(self.deadline - time.perf_counter(), 0)
        return part

    def exhausted(self) -> bool:
        over = (self.work is not None and self.spent > self.work) or \
            (self.deadline is not None and time.perf_counter() > self.deadline)
        return over or (self.parent is not None and self.parent.exhausted())

    def spend(self, units: int, doing: str) -> None:
        """Count `units` of work; past the budget, Unverifiable saying what SymPy was doing."""
        self.spent += units
        if self.parent is not None:
            self.parent.spend(units, doing)
        if self.exhausted():
            counted = "" if self.work is None else f" ({self.work} units of work)"
            raise Unverifiable(f"the time budget{counted} ran out while SymPy {doing}")


def symbols_like(name: str, shape: tuple):
    """A real Symbol named `name` for a number; for an array, an object array of
    Symbols `name_i_j` of that shape."""
    if not shape:
        return sympy.Symbol(name, real=True)
    flat = [sympy.Symbol(f"{name}_{'_'.join(map(str, i))}", real=True) for i in np.ndindex(shape)]
    return np.array(flat, dtype=object).reshape(shape)


def user_globals(fn) -> dict:
    """The names a user's function reads: its module's globals and its closure."""
    return dict(fn.__globals__) | frontend.parse(fn).closure


class Machine:
    """Evaluates ops on SymPy values for interpret.run; branches follow the point."""

    def __init__(self, point, budget):
        self.point, self.path, self.recording = point, [], True
        self.budget = Budget.until(budget)
        self.lambdas, self.steps, self.at = {}, 0, chain.Evaluator(point)
        self.trace = None          # a list: each (stmt, args, result) on symbols is kept (blame.py)

    def concrete(self, value):
        """The value at the point (numbers stay numbers)."""
        if isinstance(value, np.ndarray) and value.dtype == object:
            return np.vectorize(lambda v: self.concrete(v), otypes=[object])(value).astype(float)
        if isinstance(value, sympy.logic.boolalg.BooleanAtom):
            return bool(value)
        if isinstance(value, sympy.Expr):
            try:
                with mpmath.workdps(30):
                    return float(self.at.value(value))
            except (KeyError, chain.Unsupported):     # symbols the point does not give
                found = value.subs(self.point)
                return float(found) if found.is_number else found
        return value

    def truth(self, value, stmt) -> bool:
        taken = bool(np.all(self.concrete(value)))
        if self.recording and isinstance(stmt, ir.If) and stmt.loc is not None:
            self.path.append(f"line {stmt.loc.line} took the {'if' if taken else 'else'} branch")
        return taken

    def number(self, value):
        value = self.concrete(value)
        return int(value) if not isinstance(value, (int, np.integer)) else value

    def turned(self, stmt, turns):
        if self.recording and stmt.loc is not None and not stmt.reverse:
            self.path.append(f"line {stmt.loc.line} loop turned {turns} times")

    def apply(self, stmt, args, plain):
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Unverifiable(f"more than {MAX_STEPS} symbolic operations (a long loop)")
        self.budget.spend(1, "ran the code on symbols")
        if not any(_symbolic(a) for a in args):
            return plain(stmt, args)                       # nothing symbolic: numbers
        result = self.evaluate(stmt, args, plain)
        if self.trace is not None:
            self.trace.append((stmt, args, result))
        return result

    def evaluate(self, stmt, args, plain):
        op = rules.OPS.get(stmt.op)
        spec = op.spec if op is not None else None
        if stmt.op in COMPLEX_HELPERS:                  # (they read the dtype, which symbols lack)
            raise Unverifiable(f"`{stmt.op}`: the referee does not follow complex numbers through the "
                               "derivative yet (tests/test_complex.py proves those rules)")
        if stmt.op in COMPLEX_PARTS:                    # SymPy's own complex maths
            return _objects(np.frompyfunc(COMPLEX_PARTS[stmt.op], 1, 1)(np.asarray(args[0], dtype=object)))
        if stmt.op in ARITHMETIC:                       # a comparison's bools count as 0 and 1
            args = [_counted(a) for a in args]
        if stmt.op in ("setitem", "add_at"):            # an entry, not a 0-d array inside one
            args = [*args[:2], _item(args[2]), *args[3:]]
        if stmt.op in ("gt", "ge", "lt", "le", "eq", "ne"):
            return self.concrete(plain(stmt, [self.concrete(a) for a in args]))
        if op is not None and op.kind == "nondiff" or cast_kind(stmt) in DISCRETE:
            return plain(stmt, [self.concrete(a) for a in args])
        if stmt.op == "call":
            return self.call(args[0], args[1:])
        if op is not None and op.kind == "elementwise" and spec and spec.sympy:
            return self.elementwise(stmt, op, args)
        if stmt.op == "np.where":                       # the condition at the point
            condition = np.asarray(self.concrete(args[0]), dtype=bool)
            return _item(np.where(condition, _objects(np.asarray(args[1], dtype=object)),
                                  _objects(np.asarray(args[2], dtype=object))))
        if stmt.op in PICKS:                            # a kink: the side the point is on
            return self.pick(stmt, args)
        if stmt.op == "np.asarray":                     # a conversion to floats: the value itself
            return _objects(np.asarray(args[0], dtype=object)) if np.ndim(args[0]) else args[0]
        if op is not None and op.kind in ("elementwise", "adjoint") and (spec is None or spec.sympy != "numpy"):
            return self.counterpart(stmt, op, args)
        if stmt.op in ("unindex", "add_at"):            # into an array of objects
            if stmt.op == "unindex":
                g, x, index = args
                args = [np.zeros(np.shape(x), dtype=object), index, g]
            target = np.array(args[0], dtype=object)
            return runtime.add_at(target, args[1], _objects(np.asarray(args[2], dtype=object)))
        if stmt.op == "unprod":                         # the product of the others, on symbols
            return _unprod(*args, **ir.statics(stmt))
        if stmt.op in ON_SYMBOLS:
            return _objects(ON_SYMBOLS[stmt.op](*args, **ir.statics(stmt)))
        if stmt.op == "unmax":                          # the ties, at the point
            g, x, ans = args[0], args[1], args[2]
            params = ir.statics(stmt)
            axis, keepdims = params.get("axis"), params.get("keepdims", False)
            at = np.asarray(self.concrete(ans), dtype=float)
            if axis is not None and not keepdims:
                at, g = np.expand_dims(at, axis), np.expand_dims(np.asarray(g, dtype=object), axis)
            hits = np.asarray(self.concrete(x), dtype=float) == at
            return _objects(g * hits.astype(int) / np.sum(hits, axis=axis, keepdims=True))
        try:
            if op is not None and op.kind == "helper" and inspect.isfunction(op.obj):
                result = _with_symbolic_numpy(op.obj)(*[_objects(a) for a in args], **ir.statics(stmt))
            else:
                result = plain(stmt, [_objects(a) for a in args])
        except (TypeError, ValueError) as err:
            raise Unverifiable(f"`{stmt.op}` cannot run on symbols ({err})") from None
        return _objects(result)

    def counterpart(self, stmt, op, args):
        """An op whose rule names a SymPy expression over arrays (`sympy=`), or, wanting
        one, a Python function whose own source can run on symbols (a user's rule)."""
        if op.spec is not None and op.spec.sympy:
            names = dict(zip(("x", "y", "z"), args)) | COUNTERPART_NAMES
            try:
                return _objects(_as_objects(eval(op.spec.sympy, names, ir.statics(stmt))))
            except (TypeError, ValueError, AttributeError, sympy.SympifyError) as err:
                raise Unverifiable(f"`{stmt.op}`'s SymPy counterpart cannot run here ({err})") from None
        if inspect.isfunction(op.obj) and not ir.statics(stmt):
            return self.call(op.obj, args)
        why = f" ({op.spec.why})" if op.spec is not None and op.spec.why else ""
        raise Unverifiable(f"`{stmt.op}` has no SymPy counterpart{why}")

    def pick(self, stmt, args):
        """max/min/clip and their kin at the point: the symbolic entry that wins there
        (the verdict, like every verdict here, is about that path)."""
        values = [self.concrete(a) for a in args]
        if stmt.op in ("np.max", "np.min"):
            params = ir.statics(stmt)
            axis, keepdims = params.get("axis"), params.get("keepdims", False)
            x, c = np.asarray(args[0], dtype=object), np.asarray(values[0], dtype=float)
            choose = np.argmax if stmt.op == "np.max" else np.argmin
            if axis is None:
                picked = np.ravel(x)[choose(c)]
                return np.full((1,) * x.ndim, picked, dtype=object) if keepdims else picked
            index = np.expand_dims(choose(c, axis=axis), axis)
            picked = np.take_along_axis(x, index, axis)
            return picked if keepdims else np.squeeze(picked, axis)
        if stmt.op == "np.clip":
            x, lo, hi = (np.asarray(a, dtype=object) for a in args)
            cx, clo, chi = values
            return _item(np.where(np.asarray(cx) < clo, lo, np.where(np.asarray(cx) > chi, hi, x)))
        x, y = (np.asarray(a, dtype=object) for a in args)
        larger = np.asarray(values[0]) >= np.asarray(values[1])
        keep_x = larger if stmt.op in ("np.maximum", "max", "np.fmax") else ~larger
        return _item(np.where(keep_x, x, y))

    def elementwise(self, stmt, op, args):
        if op.name not in self.lambdas:
            xs = sympy.symbols("x y z w")[:len(op.args)]
            expr = sympy.sympify(op.spec.sympy, locals=dict(zip("xyzwv", xs)))
            self.lambdas[op.name] = sympy.Lambda(xs, expr)
        f = self.lambdas[op.name]
        if any(isinstance(a, np.ndarray) for a in args):
            return np.vectorize(lambda *v: f(*v), otypes=[object])(*args)
        return f(*args)

    def call(self, callee, args):
        """A call: the callee's own IR (the user's function, or a generated vjp)."""
        if getattr(callee, "__s2sgrad_interpreted__", False):
            return callee(*args)                       # the IR calling itself: already on symbols
        gen = getattr(callee, "__s2sgrad_ir__", None)
        if gen is not None:
            return interpret.run(gen, *args, free=dict(getattr(callee, "__globals__", {})), machine=self)
        if inspect.isfunction(callee):
            try:
                lowered = lower.lower(frontend.parse(callee))
            except S2SGradError as err:
                raise Unverifiable(f"`{callee.__name__}` cannot be read ({err.message})") from None
            recording, self.recording = self.recording, False
            try:
                return interpret.run(lowered, *args, free=user_globals(callee), machine=self)
            finally:
                self.recording = recording
        raise Unverifiable(f"a call to {callee!r}")


def _vectorized(f):
    return lambda x, *rest, **_: _item(np.vectorize(f, otypes=[object])(np.asarray(x, dtype=object), *rest))


def _symbolic_solve(a, b):
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if a.ndim > 2:
        return np.stack([_symbolic_solve(a[k], b[k]) for k in range(a.shape[0])])
    x = sympy.Matrix(a.tolist()).LUsolve(sympy.Matrix(b.tolist()))
    return np.array(x.tolist(), dtype=object).reshape(b.shape)


class _SymbolicNumpy:
    """numpy, for a runtime helper running on arrays of symbols: the functions NumPy
    cannot apply to SymPy objects are SymPy's."""
    linalg = type("linalg", (), {"solve": staticmethod(_symbolic_solve),
                                 "inv": staticmethod(lambda a: np.array(sympy.Matrix(a.tolist()).inv().tolist(),
                                                                       dtype=object))})

    def __getattr__(self, name):
        if name in ("sqrt", "exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arctan"):
            return _vectorized(getattr(sympy, {"arctan": "atan"}.get(name, name)))
        return getattr(np, name)


def _with_symbolic_numpy(fn):
    """`fn` (a runtime helper) reading the symbolic numpy instead of numpy."""
    return types.FunctionType(fn.__code__, fn.__globals__ | {"np": _SymbolicNumpy()}, fn.__name__,
                              fn.__defaults__, fn.__closure__)


def _symbolic_cofactor(a):
    """runtime.cofactor on symbols: the transposed adjugate, matrix by matrix."""
    a = np.asarray(a, dtype=object)
    if a.ndim > 2:
        return np.stack([_symbolic_cofactor(m) for m in a])
    return np.array(sympy.Matrix(a.tolist()).adjugate().T.tolist(), dtype=object)


ON_SYMBOLS = {"np.std": lambda x, **kw: _vectorized(sympy.sqrt)(np.var(x, **kw)), "cofactor": _symbolic_cofactor}


COMPLEX_PARTS = {"np.conjugate": sympy.conjugate, "np.real": sympy.re, "np.imag": sympy.im, "np.angle": sympy.arg,
                 "np.abs.complex": sympy.Abs}
COMPLEX_HELPERS = {"complex_like", "unimag", "unangle", "angle_tangent", "unmodulus", "modulus_tangent"}
COUNTERPART_NAMES = {"np": np, "M": sympy.Matrix, "sp": sympy, "log": sympy.log, "abs": sympy.Abs,
                     "sign": sympy.sign}

PICKS = {"np.maximum", "np.minimum", "max", "min", "np.fmax", "np.fmin", "np.clip", "np.max", "np.min"}


ARITHMETIC = {"add", "sub", "mul", "div", "pow", "neg", "iadd", "matmul"}


def _counted(value):
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, np.ndarray) and value.dtype == bool:
        return value.astype(int)
    return value


def _unprod(g, x, axis=None, keepdims=False):
    """runtime.unprod on symbols: each entry's adjoint is g times the other entries'
    product along the axis."""
    x = np.asarray(x, dtype=object)
    moved = np.moveaxis(x.reshape(-1) if axis is None else x, -1 if axis is None else axis, -1)
    others = np.empty_like(moved)
    for k in range(moved.shape[-1]):
        others[..., k] = np.prod(np.delete(moved, k, -1), axis=-1)
    others = np.moveaxis(others, -1, -1 if axis is None else axis).reshape(x.shape)
    return _objects(_expanded(np.asarray(g, dtype=object), axis, keepdims) * others)


def _item(value):
    """A 0-d object array as the object it holds."""
    return value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _symbolic(value) -> bool:
    if isinstance(value, sympy.Basic):
        return True
    if isinstance(value, np.ndarray) and value.dtype == object:
        return True
    if isinstance(value, (list, tuple)):
        return any(_symbolic(v) for v in value)
    return False


def _objects(value):
    """Float arrays as object arrays, so symbols can be written into them."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(object)
    return value


def _as_objects(value):
    """A counterpart's value as NumPy sees values: Matrices as object arrays, tuples
    of them as tuples."""
    if isinstance(value, tuple):
        return tuple(_as_objects(v) for v in value)
    if isinstance(value, sympy.MatrixBase):
        return np.array(value.tolist(), dtype=object)
    return value


def entries(value) -> list:
    """The entries of a value on symbols, flat, as SymPy expressions."""
    flat = np.ravel(np.asarray(value, dtype=object))
    return [sympy.sympify(_item(e) if isinstance(e, np.ndarray) else e) for e in flat]
