"""The transforms users call: grad, value_and_grad, vjp, source.

Each compiles the derivative once per (function, wrt, kind), caches it,
loads the generated source as a real Python function (registered with
`linecache`, so tracebacks show the generated lines) and wraps it with the
checks a user needs: differentiated arguments must be floating point, and
`grad` needs a scalar output.
"""
from __future__ import annotations

import functools
import inspect
import itertools
import linecache
import textwrap
import types
import weakref
from dataclasses import dataclass

import numpy as np

from . import emit, frontend, ir, passes, runtime
from .errors import NotDifferentiableError, ShapeError, UnsupportedSyntaxError

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_COUNTER = itertools.count(1)
BOUND = {"np": np} | {h.__name__: h for h in runtime.HELPERS}


@dataclass
class Compiled:
    fn: object                # the loaded generated function
    source: str               # its module source, as `source()` returns it
    ir: ir.Function
    wrt: tuple                # parameter names
    positions: tuple          # their positions
    single: bool              # wrt was one parameter, not a tuple
    signature: inspect.Signature


def compile_derivative(fn, wrt=0, kind="grad") -> Compiled:
    """The compiled derivative of `fn` (cached: asking again costs no compile)."""
    target = inspect.unwrap(fn)
    key = (wrt if isinstance(wrt, tuple) else (wrt,), not isinstance(wrt, tuple), kind)
    per_fn = _CACHE.setdefault(target, {}) if _weakrefable(target) else {}
    if key not in per_fn:
        per_fn[key] = _compile(target, wrt, kind)
    return per_fn[key]


def _weakrefable(obj) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


def _compile(fn, wrt, kind) -> Compiled:
    source = frontend.parse(fn)
    names, positions, single = _resolve_wrt(fn, source, wrt)
    gen = passes.derivative(fn, names, kind, single)
    loaded = _load(gen, fn, source)
    signature = inspect.signature(fn)
    return Compiled(loaded, emit.module_source(gen), gen, names, positions, single, signature)


def _resolve_wrt(fn, source, wrt):
    params = [p.name for p in inspect.signature(fn).parameters.values()]
    single = not isinstance(wrt, tuple)
    chosen = []
    for w in (wrt,) if single else wrt:
        if isinstance(w, int) and not isinstance(w, bool) and -len(params) <= w < len(params):
            chosen.append(params[w])
        elif isinstance(w, str) and w in params:
            chosen.append(w)
        else:
            raise NotDifferentiableError(
                f"wrt={w!r} names no parameter of `{fn.__name__}`", source.loc(source.tree),
                hint=f"use an index from 0 to {len(params) - 1} or one of: {', '.join(params)}")
    if len(set(chosen)) != len(chosen):
        raise NotDifferentiableError(f"wrt={wrt!r} names a parameter twice", source.loc(source.tree),
                                     hint=f"name each of {', '.join(params)} at most once")
    return tuple(chosen), tuple(params.index(c) for c in chosen), single


def _load(gen: ir.Function, user_fn, source) -> object:
    """Execute the generated source; its globals are the user's module's own."""
    text, needed = emit.function_source(gen)
    for name in sorted(needed & gen.free):
        if source.lookup(name) is not BOUND[name]:
            raise UnsupportedSyntaxError(
                f"your function reads a global `{name}`, a name the generated code needs for "
                f"itself", source.loc(source.tree), hint=f"rename your `{name}`")
    cells = dict(zip(user_fn.__code__.co_freevars, user_fn.__closure__ or ()))
    outer = sorted(needed) + sorted(n for n in cells if n in gen.free and n not in needed)
    factory = f"def __factory__({', '.join(outer)}):\n{textwrap.indent(text, '    ')}" \
              f"    return {gen.name}\n"
    filename = f"<s2sgrad-{next(_COUNTER)} {gen.name}>"
    linecache.cache[filename] = (len(factory), None, factory.splitlines(True), filename)
    module = compile(factory, filename, "exec")
    inner = _code_named(_code_named(module, "__factory__"), gen.name)
    closure = tuple(cells[n] if n not in BOUND else types.CellType(BOUND[n]) for n in inner.co_freevars)
    return types.FunctionType(inner, user_fn.__globals__, gen.name, None, closure)


def _code_named(code, name):
    return next(c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == name)


# -- checks at call time ------------------------------------------------------

def _arguments(compiled: Compiled, args, kwargs) -> tuple:
    if kwargs or len(args) != len(compiled.signature.parameters):
        bound = compiled.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        args = tuple(bound.arguments.values())
    for i in compiled.positions:
        x = args[i]
        if type(x) is not float and not (type(x) is np.ndarray and x.dtype.kind == "f"):
            _check_float(x, compiled.wrt[compiled.positions.index(i)], compiled)
    return args


def _check_float(x, name, compiled: Compiled) -> None:
    dtype = np.result_type(x) if isinstance(x, (int, float, complex, np.generic, np.ndarray)) else None
    if dtype is not None and dtype.kind == "f":
        return
    what = f"{type(x).__name__} {x!r}" if dtype is None or np.ndim(x) == 0 else f"array of {dtype}"
    what = ("an " if what[0] in "aeiou" else "a ") + what
    loc = compiled.ir.loc
    hint = (f"pass floats (e.g. {name}=np.asarray({name}, dtype=float)), or leave `{name}` out of wrt"
            if dtype is not None and dtype.kind in "biu" else
            f"pass a float or a NumPy array of floats as `{name}`, or leave it out of wrt")
    raise NotDifferentiableError(f"cannot differentiate with respect to `{name}`: it is {what}",
                                 loc, hint=hint)


def _check_scalar(value, compiled: Compiled) -> None:
    if type(value) is float or np.size(value) == 1:
        return
    raise ShapeError(f"grad needs a function with a scalar output; this one returned an array of "
                     f"shape {np.shape(value)}", compiled.ir.loc,
                     hint="for a non-scalar output use s2sgrad.vjp(fn, *args) and call the "
                          "pullback with a cotangent of the output's shape")


def _own(grad, arg, *others):
    """A gradient shaped like its argument, that the caller may modify: never a
    read-only view or an array the caller passed in."""
    if type(grad) is float and type(arg) is float:
        return grad
    if np.shape(grad) != np.shape(arg):
        return np.broadcast_to(grad, np.shape(arg)).copy()
    if isinstance(grad, np.ndarray) and (grad.base is not None or not grad.flags.writeable
                                         or any(grad is o for o in others)):
        return grad.copy()
    return grad


def _own_all(grads, args, compiled: Compiled, *others):
    if compiled.single:
        return _own(grads, args[compiled.positions[0]], *others)
    return tuple(_own(g, args[i], *others) for g, i in zip(grads, compiled.positions))


# -- the public transforms ----------------------------------------------------

def value_and_grad(fn, wrt=0):
    """`fn`'s value and its gradient with respect to `wrt` (an index, a name, or a tuple)."""
    compiled = compile_derivative(fn, wrt, "grad")
    impl = compiled.fn

    @functools.wraps(fn)
    def value_and_grad_fn(*args, **kwargs):
        args = _arguments(compiled, args, kwargs)
        value, grads = impl(*args)
        _check_scalar(value, compiled)
        return value, _own_all(grads, args, compiled)
    return value_and_grad_fn


def grad(fn, wrt=0):
    """The gradient of scalar-valued `fn` with respect to `wrt` (an index, a name, or a
    tuple of them); the result is a function with `fn`'s parameters."""
    both = value_and_grad(fn, wrt)

    @functools.wraps(fn)
    def grad_fn(*args, **kwargs):
        return both(*args, **kwargs)[1]
    return grad_fn


def vjp(fn, *args, wrt=None):
    """`(fn(*args), pullback)`; `pullback(cotangent)` returns one gradient per differentiated
    argument (all of them by default) and may be called any number of times."""
    if wrt is None:
        wrt = tuple(range(len(inspect.signature(inspect.unwrap(fn)).parameters)))
    compiled = compile_derivative(fn, wrt if isinstance(wrt, tuple) else (wrt,), "vjp")
    args = _arguments(compiled, args, {})
    out, impl = compiled.fn(*args)

    def pullback(cotangent):
        if np.shape(cotangent) != np.shape(out):
            raise ShapeError(f"the cotangent has shape {np.shape(cotangent)} but the output has "
                             f"shape {np.shape(out)}", compiled.ir.loc,
                             hint="pass an array shaped like the output, e.g. np.ones_like(out)")
        return _own_all(impl(cotangent), args, compiled, cotangent)
    return out, pullback


def source(fn, wrt=0, kind="grad") -> str:
    """The generated source of `fn`'s derivative (`kind` is "grad" or "vjp")."""
    if kind not in ("grad", "vjp"):
        raise ValueError(f"kind must be 'grad' or 'vjp', not {kind!r}")
    return compile_derivative(fn, wrt, kind).source
