"""The rule table: every primitive s2sgrad knows, and how to differentiate it.

A primitive is registered once, by one of three decorators:

    @partials(np.sin)                 elementwise: the partial derivative of
    def sin(x, ans): return np.cos(x)     the result with respect to each
                                          argument, over x, y and `ans`
    @adjoint(np.sum)                  any other op: a template whose body
    def sum(ans, x, dans, *, axis=None, keepdims=False):
        dx = unsum(dans, x, axis=axis, keepdims=keepdims)
    nondifferentiable(np.sign)        piecewise constant: the derivative is zero
    nondifferentiable(np.arange, piecewise=False)   no rule yet: refused when differentiated

An op that may return a view of its first argument says so where it is
registered (`@adjoint(np.ravel, view=True)`, after NumPy's documentation);
aliasing.py reads that fact to follow writes through views.

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

import dataclasses
import functools
import importlib
import inspect
import sys
from dataclasses import dataclass, field

import numpy as np

from .methods import ATTRIBUTES, METHODS


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
    spec: "Spec" = None             # how the tests prove the rule (shared by its aliases)
    optional: dict = field(default_factory=dict)   # arguments that may be left out -> their default
    outputs: int = 0                # how many values the op returns, when a tuple
    tangent: object = None          # forward mode's template, when a rule gives one (@tangent)
    refuse: object = None           # statics -> why the rule cannot take them (or None), asked when building
    piecewise: bool | tuple = ()    # the arguments (names; True: all) in which the op is piecewise
                                    # constant or that it reads for their shape only: a differentiated
                                    # value passed there rightly gets no derivative. A differentiated
                                    # value in any other argument the rule does not differentiate is
                                    # refused where it is built (passes/activity.py: no silent zero)

    def constant_in(self, position: int) -> bool:
        """Whether the op's result is rightly constant in its argument at `position`."""
        if self.piecewise is True or self.kind in ("special", "helper"):
            return True
        names = self.args or positional_names(self.obj) or ()
        return position < len(names) and names[position] in self.piecewise
    linear: tuple | None = None     # positions of the arguments the op is linear in, each with the
                                    # others fixed (forward mode applies the op to the tangents,
                                    # one term per varying argument); None: not declared
    view: bool = False              # the result may be a view of its first argument (x.T, x[1:],
                                    # np.ravel(x), np.split(x, 2)): a write into one changes the other
    holds: bool = False             # the result holds its arguments as items (a tuple, a list)
    listed: bool = False            # the result is a Python list (np.split's parts): `+` joins it
    complex: bool = False           # the rule holds for complex arguments too, in JAX's convention (the
                                    # adjoint is the transpose, never the conjugate transpose): true of
                                    # holomorphic ops and of ops linear with real coefficients. Any other
                                    # op given a complex value is refused where the derivative is built
    functions: tuple = ()           # arguments that are functions the op calls (odeint's `func`): passed
                                    # by their module-level names, never differentiated
    tuples: tuple = ()              # arguments that stay tuples (odeint's `args`), not made lists
    fixed: tuple = ()               # (elementwise) arguments with a derivative the rule does not give
                                    # (a distribution's shape in its cdf): refused when differentiated
    on_complex: str | None = None   # the op whose rule serves when an argument is complex (np.abs's: |z|)
    result: str | None = None       # "complex" or "real": what the result is, whatever the arguments
                                    # (np.fft.fft, np.abs); None: complex when an argument is
    constant_items: tuple = ()      # items of a tuple result that no argument moves (solve_ivp's times,
                                    # held fixed, and its result object): never differentiated
    variants: tuple = ()            # (argument, op, values, unknown): the op that stands for a call passing
                                    # that argument (as one of the constants `values`, unless None; `unknown`:
                                    # also a value known only when the code runs): np.trapezoid(y, x)
    fields: tuple = ()              # the names of a tuple result's items, read as attributes (NumPy's
                                    # `np.linalg.eigh(a).eigenvalues`); "*": any other attribute is read
                                    # from that item (solve_ivp's result object: `sol.success`)



@dataclass
class Spec:
    """How the table test proves a rule: where its arguments may be drawn from (one
    domain name per argument, see DOMAINS), its SymPy counterpart or why it has none,
    and, for ops that are not elementwise, example calls over shaped arguments."""

    domain: tuple = ()
    sympy: str | None = None        # an expression over x, y (elementwise), or over arrays
    why: str | None = None          # why there is no SymPy counterpart
    examples: tuple = ()            # (expression over x, y, z, shapes of x, y, z)


DOMAINS = {
    "real": "any real number",
    "positive": "x > 0",
    "away": "|x| >= 0.5 (away from a kink or pole at 0)",
    "unit": "|x| < 1",
    "above1": "x > 1",
    "near zero": "|x| < 1.2",
    "fraction": "0 < x < 1",
    "1-2": "1 <= x <= 2",
    "distinct": "real, no two entries within 0.1 of each other (no ties)",
    "wellcond": "a square matrix with a dominant diagonal",
    "spd": "a symmetric positive definite matrix",
    "index": "integer indices (not differentiated)",
    "complex": "complex numbers, real and imaginary parts in [-2, 2] (real numbers in the real table)",
    "below0": "-0.3 < x < -0.1 (a location left of the points drawn from the others)",
    "count": "a whole number 0 to 3 (not differentiated)",
    "trials": "a whole number 4 to 6 (not differentiated)",
}

OPS: dict[str, Op] = {}
BY_OBJECT: dict[object, str] = {}     # identity(obj) -> op name
FOREIGN: dict[str, object] = {}     # emitted name -> function, for rules of non-NumPy functions


def _name_of(obj) -> str:
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("numpy") or getattr(np, getattr(obj, "__name__", ""), None) is obj:
        for home in ("", "linalg.", module.removeprefix("numpy").strip(".") + "."):
            if _reached(np, home + obj.__name__) is obj:     # (not a method of an object of theirs)
                return "np." + home + obj.__name__
    if module in ("math", "builtins"):
        return ("math." if module == "math" else "") + obj.__name__
    owner = getattr(obj, "__self__", None)
    if owner is not None and not inspect.ismodule(owner) and owner_home(owner) is not None:
        held = owner_home(owner)[1]      # a method of an object a module holds: `norm.logpdf`
        FOREIGN[held], FOREIGN[f"{held}.{obj.__name__}"] = owner, obj
        return f"{held}.{obj.__name__}"
    key = obj.__name__              # emitted by its own name, bound (and imported) by it
    while FOREIGN.get(key, obj) is not obj:
        key += "_"
    FOREIGN[key] = obj
    return key


def owner_home(owner) -> tuple | None:
    """(module, name) of the public module nearest the top that holds `owner`
    (`("scipy.stats", "norm")`, `("scipy.special", "softmax")`)."""
    for name in sorted(sys.modules, key=lambda n: (n.count("."), n)):
        if any(part.startswith("_") for part in name.split(".")):
            continue
        for attr, value in list(vars(sys.modules[name]).items()):
            if value is owner and not attr.startswith("_"):
                return name, attr
    return None


def identity(obj):
    """What tells a function apart: its id, or for a method of an object (`rs.randn`, made
    anew at each access) the object's id and the method's name."""
    owner = getattr(obj, "__self__", None)
    if owner is not None and not inspect.ismodule(owner) and hasattr(obj, "__name__"):
        return id(owner), obj.__name__
    return id(obj)


def _reached(base, dotted: str):
    """What `base.a.b` is, for dotted "a.b" (None if nothing)."""
    for part in dotted.split("."):
        base = getattr(base, part, None)
    return base


OPTIONAL = {"scipy.special": "scipy_special", "scipy.stats": "scipy_stats", "scipy.linalg": "scipy_linalg",
            "scipy.signal": "scipy_signal", "scipy.integrate": "scipy_integrate"}     # a library a user imports -> our rules for it
_LOADED: set = set()


def optional() -> None:
    """Register the rules of each optional library the process has imported by now:
    s2sgrad never imports SciPy itself (a user who calls scipy.special has)."""
    for module, ours in OPTIONAL.items():
        if ours not in _LOADED and module in sys.modules:
            _LOADED.add(ours)
            importlib.import_module(f"{__package__}.{ours}")


def _add(op: Op) -> Op:
    optional()                      # (ours first: a user's rule registered later wins)
    OPS[op.name] = op
    if op.obj is not None:
        BY_OBJECT[identity(op.obj)] = op.name
        if op.kind != "helper":
            SHOWN[_shown(op.obj)] = op.name
    return op


def _signature(rule) -> tuple[tuple, dict, tuple]:
    params = inspect.signature(rule).parameters.values()
    args = tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD
                 and p.name not in ("ans", "dans"))
    statics = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
    optional = {p.name: p.default for p in params if p.name in args and p.default is not p.empty}
    return args, statics, optional


def _register(kind: str, target, name: str | None, spec: dict, outputs: int = 0, refuse=None,
              piecewise: tuple = (), view: bool = False, holds: bool = False, linear=None,
              methods: tuple = (), attributes: tuple = (), listed: bool = False, complex: bool = False,
              result: str | None = None, fixed: tuple = (), functions: tuple = (), tuples: tuple = (),
              fields: tuple = ()):
    def decorate(rule):
        obj = None if isinstance(target, str) else target
        key = name or (target if isinstance(target, str) else _name_of(target))
        args, statics, optional = _signature(rule)
        if not hasattr(rule, "spec"):
            rule.spec = Spec()             # one Spec per rule, shared by the names it has
        for field_name, value in spec.items():
            if value is not None:
                setattr(rule.spec, field_name, tuple(value) if field_name in ("domain", "examples") else value)
        _add(Op(key, key, kind, rule, args, statics, obj, spec=rule.spec, optional=optional,
                outputs=outputs, refuse=refuse, piecewise=piecewise, view=view, holds=holds,
                linear=_positions(linear, args, key), listed=listed, complex=complex, result=result,
                fixed=tuple(fixed), functions=tuple(functions), tuples=tuple(tuples), fields=tuple(fields)))
        _methods(key, methods, attributes)
        return rule
    return decorate


def _positions(linear, args: tuple, key: str) -> tuple | None:
    """`linear=` as positions: True is the first argument, else argument names."""
    if linear is None or linear is False:
        return None
    names = args[:1] if linear is True else tuple(linear)
    unknown = [n for n in names if n not in args]
    if unknown:
        raise ValueError(f"linear={linear!r} for {key}: {unknown[0]!r} is not one of its arguments {args}")
    return tuple(args.index(n) for n in names)


def _methods(key: str, methods: tuple, attributes: tuple) -> None:
    """Array methods (`x.sum()`) and attributes (`x.T`) that are this op on the array."""
    METHODS.update(dict.fromkeys(methods, key))
    ATTRIBUTES.update(dict.fromkeys(attributes, key))


def partials(target, name: str | None = None, *, domain=None, sympy=None, why=None, piecewise=(),
             view=False, methods=(), linear=None, complex=False, result=None, fixed=()):
    """Register an elementwise op by a function returning its partials. `domain` (one
    name per argument), `sympy` (the op over symbols x, y) or `why` (there is none) tell
    the table test how to prove it; aliases stacked on the same rule share them. The
    arguments named in `piecewise` are integers the op is not differentiated in (their
    partial is written 0). `view`: the result may be the argument itself (a plain `y = x`);
    `methods`: the array methods that are this op (`x.clip()`); `linear`, `complex` and
    `result` as for `adjoint` (an op whose partials are its complex derivative: holomorphic).
    `fixed` names the arguments whose partial the rule does not give (its value there is
    a placeholder): a differentiated value reaching one is refused where it is built."""
    return _register("elementwise", target, name, dict(domain=domain, sympy=sympy, why=why),
                     piecewise=tuple(piecewise), view=view, methods=tuple(methods), linear=linear,
                     complex=complex, result=result, fixed=fixed)


def adjoint(target, name: str | None = None, *, domain=None, sympy=None, why=None, examples=None,
            outputs: int = 0, refuse=None, view: bool = False, holds: bool = False, linear=None,
            methods=(), attributes=(), listed: bool = False, complex: bool = False, result=None,
            functions=(), tuples=(), fields=()):
    """Register an op by an adjoint template (see the module docstring); `examples` are
    calls the table test differentiates, `sympy` the op over arrays of symbols. An op
    returning a tuple says how many `outputs`; its template gets `dans` as a tuple.
    `refuse(statics)` says, when a derivative is built, why the rule cannot take those
    static keywords ((message, hint), or None): an error at the user's line, never at run
    time. `view`: the result may share memory with the first argument (NumPy documents a
    view); `holds`: it holds its arguments as items (a list); `listed`: it returns a
    Python list (ir/sequences.py: `+` on it joins lists).
    `linear`: the op is linear in its first argument (True) or in each of the arguments
    named (a tuple: multilinear, like a product), the others held fixed; forward mode
    then needs no rule of its own (the tangent is the op applied to the tangent).
    `methods`, `attributes`: the array methods (`x.sum()`) and attributes (`x.T`) that
    are this op applied to the array. `complex`: the template holds for complex arguments
    as written (Op.complex; the table test proves it on complex values); `result`: "complex"
    or "real" when the result is that whatever the arguments are (np.fft.fft, np.real);
    `functions`: the arguments that are functions the op calls (odeint's right-hand side);
    `tuples`: the arguments that must stay tuples (odeint's `args`); `fields`: the names of
    the items of a tuple result (Op.fields)."""
    return _register("adjoint", target, name, dict(domain=domain, sympy=sympy, why=why, examples=examples),
                     outputs, refuse=refuse, view=view, holds=holds, linear=linear,
                     methods=tuple(methods), attributes=tuple(attributes), listed=listed, complex=complex,
                     result=result, functions=functions, tuples=tuples, fields=fields)


def variant(base: str, argument: str, key: str, examples=(), values=None, why=None, domain=None, **changes) -> Op:
    """Register `key`, the op a call of `base` stands for when it passes `argument` (one of
    the constants `values`, if given: Op.variants): `base`'s rules with `changes`, proven by
    `examples` of its own (calls that pass the argument so, from `domain` if given), by
    finite differences alone when `why` says why SymPy cannot follow them. A call passing
    a value known only when it runs (which may be None) keeps `base`."""
    op = OPS[base]
    spec = dataclasses.replace(op.spec, examples=tuple(examples), **({"sympy": None, "why": why} if why else {}),
                               **({"domain": tuple(domain)} if domain else {}))
    made = dataclasses.replace(op, name=key, spec=spec, variants=(), **changes)
    OPS[key] = made
    op.variants += ((argument, key, values, False),)
    return made


def check_statics(op: Op, stmt) -> None:
    """Refuse, at the user's line, a differentiated call whose static keywords its rule
    cannot take (Op.refuse): reverse and forward mode ask before using the rule."""
    why = op.refuse(dict(op.statics) | {k: getattr(v, "value", v) for k, v in stmt.params}) \
        if op.refuse is not None else None
    if why is not None:
        from ..errors import NoRuleError
        raise NoRuleError(why[0], stmt.loc, hint=why[1])


def alias(obj, key: str) -> None:
    """Another name for a registered op (np.add is `+`, np.absolute is np.abs)."""
    BY_OBJECT[identity(obj)] = key
    SHOWN[_shown(obj)] = key


SHOWN: dict[str, str] = {}          # the name a user writes -> its op (`np.add` -> "add")
OPERATORS = {"add": "x + y", "sub": "x - y", "mul": "x * y", "div": "x / y", "pow": "x ** y",
             "mod": "x % y", "floordiv": "x // y", "neg": "-x", "pos": "+x", "matmul": "x @ y",
             "getitem": "x[index]", "setitem": "x[index] = v", "append": "xs.append(v)"}
KINDS = {"elementwise": "derivative (elementwise)", "adjoint": "derivative", "nondiff": "no derivative"}


def _kind(op: Op) -> str:
    """How the listing shows an op: a derivative, none (piecewise constant), or none yet."""
    if op.kind != "nondiff" or op.piecewise is True:
        return KINDS[op.kind]
    return "no rule yet: refused if differentiated" + (f" (except {', '.join(op.piecewise)})" if op.piecewise else "")


def shown(op) -> str:
    """The name messages give an op (an Op, or its key): a variant's is its base op's
    (`solve_ivp`, not `solve_ivp.at_times`: Op.variants)."""
    key = op.name if isinstance(op, Op) else op
    obj = OPS[key].obj if key in OPS else None
    return BY_OBJECT.get(identity(obj), key) if obj is not None else key


def _shown(obj) -> str:
    name = _name_of(obj)
    if "." in name and name in FOREIGN:              # norm.logpdf -> scipy.stats.norm.logpdf
        return f"{owner_home(FOREIGN[name].__self__)[0]}.{name}"
    if name in FOREIGN:              # scipy.special._logsumexp.softmax -> scipy.special.softmax
        home = owner_home(obj)
        return f"{home[0]}.{home[1]}" if home else f"{obj.__module__}.{obj.__name__}"
    return name


def listing(foreign: bool = True) -> list:
    """(what a user writes, what s2sgrad knows of it) for every function and operator
    with a rule, sorted: what `s2sgrad rules` prints and the README's table shows
    (without `foreign`: only NumPy, math and Python's own, whatever is installed)."""
    optional()
    rows = {OPERATORS[k]: _kind(OPS[k]) for k in OPERATORS if k in OPS}
    for shown, key in SHOWN.items():
        if foreign or key not in FOREIGN and not shown.startswith("scipy."):    # (SciPy's names for NumPy's)
            rows[shown] = _kind(OPS[key])
    rows |= {f"x.{m}()": _kind(OPS[k]) for m, k in METHODS.items()}
    rows |= {f"x.{a}": _kind(OPS[k]) for a, k in ATTRIBUTES.items()}
    return sorted(rows.items(), key=lambda r: (r[0].lstrip("x.-+").startswith(("np.", "math.", "scipy")), r[0]))


def adjoint_into(name: str, same: bool = False):
    """Register, for an op with an adjoint template, a second template that updates an
    adjoint array `dx` the generated code owns in place (`dx[i] += dans`), used instead
    of building a new array. The parameters `d<arg>` it takes are the arrays it updates;
    with `same`, it applies only when the incoming adjoint `dans` is that very `dx`."""
    def decorate(rule):
        OPS[name].into, OPS[name].into_same = rule, same
        return rule
    return decorate


def tangent(target, name: str | None = None):
    """Give an op forward mode's rule, the twin of `adjoint`: a template over the op's
    arguments, `ans`, and `d<arg>`, each argument's tangent (zeros where it does not vary),
    that assigns `dans`, the tangent of the result. The op must have its reverse rule
    already (`@adjoint` or `@partials`); elementwise ops need none: their partials serve."""
    def decorate(rule):
        optional()
        key = name or (target if isinstance(target, str) else BY_OBJECT.get(identity(target)))
        if key not in OPS:
            raise ValueError(f"{getattr(target, '__name__', target)} has no rule yet: register its "
                             "reverse rule with @s2sgrad.adjoint or @s2sgrad.partials first")
        op = OPS[key]
        if op.kind == "helper" and not op.args:      # a helper with no reverse rule: its arguments
            args, statics, _ = _signature(rule)
            op.args = tuple(a for a in args if not (a.startswith("d") and a[1:] in args))
            op.statics = statics
        op.tangent = rule
        return rule
    return decorate


def nondifferentiable(target, name: str | None = None, *, piecewise: bool | tuple = True, methods=(),
                      attributes=()):
    """Register an op whose result carries no derivative. By default it is piecewise
    constant in every argument or reads their shapes only (np.sign, np.floor, comparisons,
    np.zeros_like): a differentiated argument rightly passes zero. `piecewise=False` says
    it has a derivative but no rule yet, and a tuple names the arguments that are
    piecewise (np.full_like's `a`): a differentiated value reaching any other argument is
    a located error when the derivative is built, never a silent zero."""
    key = name or (target if isinstance(target, str) else _name_of(target))
    obj = None if isinstance(target, str) else target
    _add(Op(key, key, "nondiff", obj=obj, piecewise=piecewise if piecewise is True else tuple(piecewise or ())))
    _methods(key, tuple(methods), tuple(attributes))
    return target


def helper(fn):
    """Register a runtime helper that rule templates call (unbroadcast, ...), with the
    positions it is linear in, marked where it is defined (runtime/registry.py)."""
    _add(Op(fn.__name__, fn.__name__, "helper", obj=fn, linear=getattr(fn, "__s2sgrad_linear__", None),
            complex=getattr(fn, "__s2sgrad_complex__", False)))
    return fn


def transpose(helper_fn, *, examples):
    """Give a runtime helper of the generated code its reverse rule (rules/helpers.py): a
    template like an @adjoint rule's, so that a gradient can be differentiated again."""
    def decorate(rule):
        op = OPS[helper_fn.__name__]
        op.rule = rule
        op.args, op.statics, op.optional = _signature(rule)
        op.spec = Spec(examples=tuple(examples))
        return rule
    return decorate


def special(name: str, holds: bool = False) -> None:
    """Register an op the emitter writes as syntax (tuple, list, comparisons); `holds`: its
    result holds its arguments as items, so a write into one is seen through it."""
    _add(Op(name, name, "special", holds=holds))


@functools.lru_cache(maxsize=1024)
def positional_names(obj):
    """The names of a Python function's positional parameters, or None for ufuncs,
    builtins and `*args` functions: where NumPy's order differs from a rule's
    (np.average(x, 0) is the axis), lowering and emission follow NumPy's."""
    if obj is None or inspect.isbuiltin(obj):
        return None
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


@functools.lru_cache(maxsize=1024)
def takes_varargs(obj) -> bool:
    """Whether a Python function takes `*args` (np.gradient's spacings): its extra
    positional arguments are not a rule's keywords."""
    try:
        return any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return False


def lookup(obj) -> Op | None:
    """The op a Python object stands for, if it has one."""
    optional()
    key = BY_OBJECT.get(identity(obj))
    return OPS[key] if key is not None else None


