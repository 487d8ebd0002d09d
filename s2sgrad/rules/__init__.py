"""The rule table: every primitive s2sgrad knows, and how to differentiate it.

A primitive is registered once, by one of three decorators:

    @partials(np.sin)                 elementwise: the partial derivative of
    def sin(x, ans): return np.cos(x)     the result with respect to each
                                          argument, over x, y and `ans`
    @adjoint(np.sum)                  any other op: a template whose body
    def sum(ans, x, dans, *, axis=None, keepdims=False):
        dx = unsum(dans, x, axis=axis, keepdims=keepdims)
    nondifferentiable(np.zeros)       the result carries no derivative

`adjoint_into` adds an in-place form for ops whose adjoint writes into part
of an array (indexing): `dx[index] += dans` instead of a new array of zeros.

Positional parameters of a rule are the op's arguments (x, y, ...);
keyword-only parameters are static keywords (axis, keepdims); `ans` is the
op's result and `dans` its adjoint. An adjoint template assigns `d<arg>` for
each argument it differentiates. The compiler parses a rule's source once
and inlines its lines into the generated code, renaming the parameters, so
the generated code is made of these rules' own lines.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field


@dataclass
class Op:
    name: str                       # key in OPS and in the IR: "add", "np.sin"
    emit: str                       # dotted name the emitter calls ("np.sin"),
                                    # or the op's own name for operators
    kind: str                       # "elementwise" | "adjoint" | "nondiff" | "helper" | "special"
    rule: object = None             # the partials or adjoint template function
    args: tuple = ()                # names of the op's positional arguments
    statics: dict = field(default_factory=dict)   # static keywords and defaults
    obj: object = None              # the Python object user code calls
    into: object = None             # optional template adding into an existing `dx` in place
    into_same: bool = False         # ... usable only when the incoming adjoint is that `dx`

    @property
    def differentiable(self) -> tuple:
        """Names of the arguments this op's rule differentiates."""
        if self.kind == "elementwise":
            return self.args
        if self.kind == "adjoint":
            from .. import lower  # the template's assignments say which
            return lower.template(self).outputs
        return ()


OPS: dict[str, Op] = {}
BY_OBJECT: dict[int, str] = {}


def _name_of(obj) -> str:
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("numpy") or type(obj).__name__ == "ufunc":
        return "np." + obj.__name__
    return ("math." if module == "math" else "") + obj.__name__


def _add(op: Op) -> Op:
    OPS[op.name] = op
    if op.obj is not None:
        BY_OBJECT[id(op.obj)] = op.name
    return op


def _signature(rule) -> tuple[tuple, dict]:
    params = inspect.signature(rule).parameters.values()
    args = tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD
                 and p.name not in ("ans", "dans"))
    statics = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
    return args, statics


def _register(kind: str, target, name: str | None):
    def decorate(rule):
        obj = None if isinstance(target, str) else target
        key = name or (target if isinstance(target, str) else _name_of(target))
        args, statics = _signature(rule)
        _add(Op(key, key, kind, rule, args, statics, obj))
        return rule
    return decorate


def partials(target, name: str | None = None):
    """Register an elementwise op by a function returning its partials."""
    return _register("elementwise", target, name)


def adjoint(target, name: str | None = None):
    """Register an op by an adjoint template (see the module docstring)."""
    return _register("adjoint", target, name)


def adjoint_into(name: str, same: bool = False):
    """Register, for an op with an adjoint template, a second template that updates an
    adjoint array `dx` the generated code owns in place (`dx[i] += dans`), used instead
    of building a new array. The parameters `d<arg>` it takes are the arrays it updates;
    with `same`, it applies only when the incoming adjoint `dans` is that very `dx`."""
    def decorate(rule):
        OPS[name].into, OPS[name].into_same = rule, same
        return rule
    return decorate


def nondifferentiable(target, name: str | None = None):
    """Register an op whose result carries no derivative (zeros, shape, ...)."""
    key = name or (target if isinstance(target, str) else _name_of(target))
    obj = None if isinstance(target, str) else target
    _add(Op(key, key, "nondiff", obj=obj))
    return target


def helper(fn):
    """Register a runtime helper that rule templates call (unbroadcast, ...)."""
    _add(Op(fn.__name__, fn.__name__, "helper", obj=fn))
    return fn


def special(name: str) -> None:
    """Register an op the emitter writes as syntax (getitem, tuple, id)."""
    _add(Op(name, name, "special"))


def lookup(obj) -> Op | None:
    """The op a Python object stands for, if it has one."""
    key = BY_OBJECT.get(id(obj))
    return OPS[key] if key is not None else None


from . import operators, numpy  # noqa: E402,F401  (fill the table)
