"""The transforms users call: grad, value_and_grad, vjp, source.

Each compiles the derivative once per (function, wrt, kind), caches it,
loads the generated source as a real Python function (registered with
`linecache`, so tracebacks show the generated lines) and wraps it with the
checks a user needs: differentiated arguments must be floating point, and
`grad` needs a scalar output.
"""
from __future__ import annotations

import builtins
import contextlib
import dataclasses
import gc
import functools
import inspect
import itertools
import math
import os
import linecache
import textwrap
import types
import weakref
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import frontend, ir, passes, rules, runtime
from .ir import aliasing
from .runtime import array_api
from .backend import calls, emit, foreign_calls, jax_backend, numba_backend
from .backend import cost as costing, export as exporting
from .passes import complex_values
from .frontend import running
from .errors import NotDifferentiableError, S2SGradError, ShapeError, UnsupportedSyntaxError

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_COUNTER = itertools.count(1)
HVP = passes.Kind("grad", forwards=1)       # forward mode over the gradient
BOUND = {"np": np, "math": math, "namespace": array_api.namespace} | {h.__name__: h for h in runtime.HELPERS}


@dataclass
class Compiled:
    ir: ir.Function
    wrt: tuple                # parameter names
    positions: tuple          # their positions
    single: bool              # wrt was one parameter, not a tuple
    signature: inspect.Signature
    rerun: bool = False       # a vjp whose pullback runs the forward sweep again
    outputs: int = 0          # how many values the function returns, if a tuple
    optimized: object = None  # the IR after the optimizer: where specializations start
    emit: object = None       # makes (module source, loaded function) when first asked
    depends: object = None    # the code it was built from (running.Depends)
    complex: tuple = ()       # the parameters it was built for complex numbers in
    sees_complex: bool = False    # some value in it may be complex (passes/complex_values.py)
    complex_output: bool = False  # the function's value may be complex
    entries: dict = dataclasses.field(default_factory=dict)   # (a variant for complex numbers) its entry points
    writes: tuple = ()        # positions of the parameters the function itself writes into

    @functools.cached_property
    def made(self) -> tuple:
        return self.emit()

    @functools.cached_property
    def written(self) -> tuple:
        """Positions of the parameters the generated function may write into (calls.written),
        or the user's function does (even where the derivative needs no write): each call
        copies them, refusing one that shares memory with another argument (calls.alone)."""
        return tuple(sorted(set(calls.written(self.ir)) | set(self.writes)))

    @property
    def source(self) -> str:
        """The generated module source, as `source()` returns it (emitted when first asked:
        a `grad` whose calls all run specialized code never needs the general one's)."""
        return self.made[0]

    @property
    def fn(self):
        """The loaded generated function."""
        return self.made[1]


def compile_derivative(fn, wrt=0, kind="grad", shapes=None, profile="numpy", arrays=frozenset()) -> Compiled:
    """The compiled derivative of `fn` (cached: asking again costs no compile); `shapes`,
    one `calls.shape_key` item per parameter, asks for the version specialized to them.
    `kind`: "grad", "vjp", "jvp" or a passes.Kind (a higher derivative). `profile`: "xp"
    for code that runs on the arrays of any Array API library (runtime/array_api.py), given
    arrays in the parameters `arrays`."""
    kind = passes.kind_of(kind)
    if kind in (passes.VJP, passes.JVP) and hasattr(fn, "__s2sgrad__"):
        return _of_derivative(fn, wrt, kind, shapes)
    key = (wrt if isinstance(wrt, tuple) else (wrt,), not isinstance(wrt, tuple), kind, shapes, profile, arrays)
    per_fn = _CACHE.setdefault(fn, {}) if _weakrefable(fn) else {}
    if key not in per_fn or not per_fn[key].depends.current():    # (built from code since changed)
        with running.recording() as seen, _collector_paused():
            compiled = _compile(fn, wrt, kind, shapes, profile, arrays)
        compiled.depends = running.Depends(fn, seen)
        per_fn[key] = compiled
    running.extend(per_fn[key].depends)       # (a caller's derivative depends on it too)
    return per_fn[key]


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector paused while compiling: the IR of a long function is many
    small objects, which every collection would scan again (compile time then grows
    faster than the code). Compiling makes no garbage that needs it."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _of_derivative(derivative, wrt, kind, shapes):
    """The vjp or jvp of a gradient s2sgrad made (`grad(f)` or `value_and_grad(f)`): the
    derivative of f's generated gradient, compiled as f's (reverse over reverse, or
    forward over reverse)."""
    made = derivative.__s2sgrad__
    of, positions, single, chain, value = made.fn, made.positions, made.single, made.chain, made.value
    names = list(inspect.signature(of).parameters)
    inner = names[positions[0]] if single else tuple(names[p] for p in positions)
    inners = (inner,) if single else inner
    if chain == ("vjp",) and kind == passes.JVP:    # a vjp's jvp: along its parameters at `wrt`
        along = wrt if isinstance(wrt, tuple) else (wrt,)
        compiled = compile_derivative(of, inner, passes.Kind("jvp", of=passes.Of("vjp", inners, single, along)),
                                      shapes)
        signature = inspect.signature(derivative)           # (the vjp's: its cotangent last)
        return dataclasses.replace(compiled, signature=signature, positions=along,
                                   wrt=tuple(list(signature.parameters)[p] for p in along))
    if chain != ("reverse",):
        source = frontend.parse(of)
        raise NotDifferentiableError(f"a {kind} of a derivative made by {' over '.join(reversed(chain))} "
                                     "is not supported yet",
                                     source.loc(source.tree), hint="differentiate s2sgrad.grad(f) itself")
    entry = "value_and_grad" if value else "grad"
    return compile_derivative(of, wrt, passes.Kind(kind.mode, of=passes.Of(entry, inners, single)), shapes)


def _specializer(fn, wrt, kind, backend="numpy"):
    """key -> the generated function specialized to the arguments' shapes in `key`: for
    the numba backend, compiled by Numba ("auto": NumPy's where Numba cannot)."""
    if backend == "numpy":
        return lambda key: compile_derivative(fn, wrt, kind, key).fn

    def numba_made(key):
        try:
            made = compile_derivative(fn, wrt, kind, key, profile="numba").fn
        except (S2SGradError, ImportError):
            if backend == "numba":
                raise
            return compile_derivative(fn, wrt, kind, key).fn
        def numpy_made():
            return compile_derivative(fn, wrt, kind, key).fn
        if backend == "auto" and isinstance(made, numba_backend.Jitted):      # (compiled at its first call)
            made = made.falling_back(numpy_made)
        if backend == "auto" and not compile_derivative(fn, wrt, kind, key, profile="numba").written:
            made = numba_backend.rerun_where_numba_differs(made, numpy_made)   # (int64 overflow: NumPy's code)
        return made
    return numba_made


def _numba_current(fn, wrt, backend):
    """For the numba backend, a check that the numbers it compiled in are those the
    function's globals hold now (None otherwise: the entry point checks its own code)."""
    if backend == "numpy":
        return None
    try:
        numba_general = compile_derivative(fn, wrt, "grad", profile="numba")
    except S2SGradError:
        if backend == "numba":
            raise
        return None                   # (auto: NumPy's code, whose own check is the entry point's)
    general = compile_derivative(fn, wrt, "grad")
    return general.depends.joined(numba_general.depends).current


BACKENDS = ("numpy", "numba", "auto", "jax")


def _backend(backend: str) -> str:
    """`backend`, checked: "numba" needs Numba installed (the `numba` extra), "jax" JAX."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}")
    needs = {"numba": ("numba", "pip install 's2sgrad[numba]' (or use backend='auto', which runs NumPy's code "
                                "without it)"),
             "jax": ("jax", "pip install 'jax[cpu]'")}.get(backend)
    if needs is not None:
        try:
            __import__(needs[0])
        except ImportError as e:
            raise ImportError(f"backend={backend!r} needs {needs[0]}: {needs[1]}") from e
    return backend


def _jax_entry(fn, wrt, value: bool):
    """grad(fn, backend="jax"): the Array API derivative under jax.jit (backend/jax_backend.py)."""
    compile = functools.partial(compile_derivative, fn, wrt, "grad", profile="jax")
    entry = foreign_calls.entry(compile, fn, value, runner=jax_backend.runner, into=jax_backend.namespace())
    return jax_backend.checked(entry, lambda: frontend.parse(fn).loc(frontend.parse(fn).tree))


_COMPILING: set = set()


def callee_derivative(fn, wrt: tuple, kind: str = "vjp"):
    """The vjp (or jvp) of a function another derivative calls, or None while that very
    derivative is being compiled (a recursive call)."""
    key = (id(fn), wrt, passes.kind_of(kind))
    if key in _COMPILING:
        return None
    _COMPILING.add(key)
    try:
        return compile_derivative(fn, wrt, kind)
    finally:
        _COMPILING.discard(key)


_RETURNS_COMPLEX: dict = {}      # (id(function), its complex parameters) -> (its code, the answer)


def callee_returns_complex(fn, names: tuple, positions: tuple) -> bool:
    """Whether a function another derivative calls may return complex numbers when the
    parameters `names` are given them, found as for the caller (passes/complex_values.py):
    from the vjp the caller compiles for its differentiated `positions`, else from the
    function itself (read only that far, once)."""
    if positions:
        compiled = callee_derivative(fn, positions, passes.Kind("vjp", complex=names))
        return bool(names) if compiled is None else compiled.complex_output     # (None: recursion)
    key = (id(fn), names)
    known = _RETURNS_COMPLEX.get(key)
    if known is not None and known[0] is getattr(fn, "__code__", None):
        return known[1]
    if len(_RETURNS_COMPLEX) > 1024:
        _RETURNS_COMPLEX.clear()                      # (a cache: kept small)
    _RETURNS_COMPLEX[key] = (getattr(fn, "__code__", None), bool(names))     # (a recursive call: its arguments)
    try:
        request = passes.Request((), passes.Kind("grad", complex=names), callees=callee_derivative,
                                 returns_complex=callee_returns_complex)
        answer = _complex_output(passes.derivative(fn, request, stop_after="complex"))
    except S2SGradError:
        answer = bool(names)        # (code s2sgrad cannot read runs as it is: its arguments decide)
    _RETURNS_COMPLEX[key] = (getattr(fn, "__code__", None), answer)
    return answer




def _complex_output(fn: ir.Function) -> bool:
    """Whether the function (the IR after the complex stage) may return complex numbers."""
    return any(complex_values.is_complex(a, fn.complex) for a in ir.atoms_of(fn.body[-1].value))


def _weakrefable(obj) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


def _compile(fn, wrt, kind, shapes=None, profile="numpy", arrays=frozenset()) -> Compiled:
    stages: dict = {}
    if shapes is None:
        source = frontend.parse(fn)
        names, positions, single = _resolve_wrt(fn, source, wrt)
        where = source.loc(source.tree)
        gen = passes.derivative(fn, passes.Request(names, kind, single, callees=callee_derivative, source=source,
                                                   returns_complex=callee_returns_complex,
                                                   profile="xp" if profile == "jax" else profile,
                                                   arrays=arrays),
                                record=stages)
        if profile in ("numba", "jax"):       # (refused now, and noted: compiled code holds them)
            _frozen(fn, gen, where, profile)
    else:                    # the general code's stages up to the optimizer are the same
        general = compile_derivative(fn, wrt, kind, profile=profile)
        names, positions, single, where = general.wrt, general.positions, general.single, general.ir.loc
        params = list(general.ir.params)          # (a jvp's tangents too)
        known = calls.abstract_arguments(params, shapes)
        frozen = _frozen(fn, general.ir, where) if profile == "numba" else {}
        request = passes.Request(names, kind, single, shapes=known | calls.abstract_values(frozen),
                                 callees=callee_derivative, returns_complex=callee_returns_complex, profile=profile)
        gen = passes.derivative(fn, request, resume=("optimize", general.optimized))
    scope, of = _Scope.of(fn, where), weakref.ref(fn)   # (the cache keeps fn alive: never)

    def made():
        module, text, needed = emit.sources(gen, "xp" if profile == "jax" else profile)
        if profile == "numba":
            return module, numba_backend.load(gen.name, module, {n: frozen[n] for n in gen.free - needed},
                                              scope.loc, shapes)
        loaded = _load(gen, text, needed, scope)
        if kind == passes.VJP:                 # (a second derivative through a call to it: its jvp)
            loaded.__s2sgrad__ = calls.Derived(of, positions, single, ("vjp",))
        return module, loaded
    signature = inspect.signature(fn)
    value = gen.body[-1].value[0]
    complex_params = kind.complex if isinstance(kind, passes.Kind) else ()
    typed = stages.get("complex")
    writes = calls.written(stages["lower"]) if "lower" in stages else general.writes
    return Compiled(gen, names, positions, single, signature, complex=complex_params, writes=writes,
                    sees_complex=bool(typed.complex) if typed else general.sees_complex,
                    complex_output=_complex_output(typed) if typed else general.complex_output,
                    rerun=len(gen.params) > len(signature.parameters),
                    outputs=len(value) if isinstance(value, tuple) else 0, optimized=stages.get("optimize"),
                    emit=made)


def _frozen(fn, general: ir.Function, loc, backend: str = "numba") -> dict:
    """The values of the module globals (and closure names) the derivative reads, which
    the numba and jax backends compile into their code: numbers only (an array may change
    in place, unseen), each noted so that another value builds the derivative again."""
    scope, values = _Scope.of(fn, loc), {}
    for name in sorted(general.free):
        value = general.bindings[name] if name in general.bindings else scope.lookup(name)
        if not isinstance(value, (bool, int, float, complex, np.generic)):
            what = f"calls `{name}`, which the {backend} backend cannot compile here" \
                if getattr(builtins, name, None) is value or callable(value) else \
                f"reads `{name}` ({type(value).__name__}) from outside the function, which the {backend} backend " \
                "cannot hold in compiled code"
            raise NotDifferentiableError(f"the derivative {what}", loc,
                                         hint=f"pass `{name}` as an argument, or use backend='auto' (or 'numpy')")
        if name not in general.bindings:     # (an inlined function's own global: as the NumPy backend binds it)
            running.resolved_value(scope.cells.get(name, scope.globals), name, value)
        values[name] = value
    return values


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


class _Scope(NamedTuple):
    """Where the user's function finds its names (held without the function itself, so
    that a cached derivative never keeps it alive), and where to point at it."""
    globals: dict
    cells: dict
    loc: object

    @staticmethod
    def of(fn, loc) -> "_Scope":
        return _Scope(fn.__globals__, dict(zip(fn.__code__.co_freevars, fn.__closure__ or ())), loc)

    def lookup(self, name: str):
        cell = self.cells.get(name)
        if cell is not None:
            return cell.cell_contents
        return self.globals.get(name, getattr(builtins, name, None))


def _load(gen: ir.Function, text: str, needed: set, scope: _Scope) -> object:
    """Execute the generated source; its globals are the user's module's own. The source
    shows in tracebacks (linecache) for as long as the function lives."""
    bound = {name: _outside(name) for name in needed}
    for name in sorted(needed & gen.free):
        if scope.lookup(name) is not bound[name]:
            raise UnsupportedSyntaxError(
                f"your function reads a global `{name}`, a name the generated code needs for "
                f"itself", scope.loc, hint=f"rename your `{name}`")
    cells = dict(scope.cells) | {name: types.CellType(value) for name, value in gen.bindings.items()}
    outer = sorted(needed) + sorted(n for n in cells if n in gen.free and n not in needed)
    factory = f"def __factory__({', '.join(outer)}):\n{textwrap.indent(text, '    ')}" \
              f"    return {gen.name}\n"
    filename = f"<s2sgrad-{next(_COUNTER)} {gen.name}>"
    linecache.cache[filename] = (len(factory), None, factory.splitlines(True), filename)
    module = compile(factory, filename, "exec")
    inner = _code_named(_code_named(module, "__factory__"), gen.name)
    cells[gen.name] = types.CellType()          # a recursive vjp calls itself by name
    closure = tuple(cells[n] if n not in bound else types.CellType(bound[n]) for n in inner.co_freevars)
    made = types.FunctionType(inner, scope.globals, gen.name, None, closure)
    made.__s2sgrad_ir__ = gen                   # the referee (verify.py) runs this IR on symbols
    cells[gen.name].cell_contents = made
    weakref.finalize(made, linecache.cache.pop, filename, None)
    return made


def _outside(name: str):
    """The object a name the generated code needs from outside stands for: `np`, a runtime
    helper, a function of a user's rule, a builtin (under `_s2s_` where the code's own
    names hide it)."""
    plain = name.removeprefix(emit.RESERVED)
    found = (BOUND | rules.FOREIGN).get(plain, _NOTHING)
    return found if found is not _NOTHING else emit.outside_value(name)


_NOTHING = object()


def _code_named(code, name):
    return next(c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == name)


# -- the public transforms ----------------------------------------------------

def _is_method(fn) -> bool:
    return inspect.ismethod(fn) and inspect.isfunction(fn.__func__)


_AS_METHOD_OF: dict = {}     # (function, class) -> the function, named as a method of that class


def _function_of(method):
    """A bound method's function, named as a method of its object's own class (a subclass
    that inherits it: the methods it calls on `self` are then that class's)."""
    fn, cls = method.__func__, type(method.__self__)
    if fn.__qualname__ == f"{cls.__qualname__}.{fn.__name__}":
        return fn
    key = (fn, cls)
    if key not in _AS_METHOD_OF:
        copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
        copy.__qualname__, copy.__kwdefaults__ = f"{cls.__qualname__}.{fn.__name__}", fn.__kwdefaults__
        _AS_METHOD_OF[key] = copy
    return _AS_METHOD_OF[key]


def _after_self(wrt):
    """Positions counted from a method's first argument, counted from `self` instead."""
    shift = (lambda w: w + 1 if isinstance(w, int) and w >= 0 else w)
    return tuple(map(shift, wrt)) if isinstance(wrt, tuple) else shift(wrt)


def _of_method(transform):
    """`transform(fn, wrt, ...)` taking a bound method too (`grad(model.loss)`): the method's
    function, differentiated with respect to the same arguments after `self`, is called on
    the method's object (read as data: its attributes are not differentiated)."""
    @functools.wraps(transform)
    def taking(fn, wrt=0, *rest, **options):
        fn = frontend.readable(fn)                 # (np.tanh: read as `def tanh(x): return np.tanh(x)`)
        if not _is_method(fn):
            return transform(fn, wrt, *rest, **options)
        made = transform(_function_of(fn), _after_self(wrt), *rest, **options)
        if isinstance(made, str):
            return made
        return functools.wraps(fn)(functools.partial(made, fn.__self__))
    return taking


@_of_method
def value_and_grad(fn, wrt=0, backend="numpy"):
    """`fn`'s value and its gradient with respect to `wrt` (an index, a name, or a tuple);
    the result is a function with `fn`'s parameters returning `(value, gradient)`.
    `backend="numba"` compiles the derivative with Numba for each set of argument shapes
    it is called with ("auto": with Numba where it can, else NumPy's code); "jax" runs the
    Array API code under jax.jit (JAX arrays in and out)."""
    if _backend(backend) == "jax":
        return _jax_entry(fn, wrt, True)
    return calls.entry_point(compile_derivative(fn, wrt, "grad"), fn, value=True,
                             specialize=_specializer(fn, wrt, "grad", _backend(backend)),
                             always=backend != "numpy", current=_numba_current(fn, wrt, backend),
                             renew=functools.partial(value_and_grad, fn, wrt, backend),
                             size_one=functools.partial(_size_one, fn, wrt),
                             complex_variant=functools.partial(_complex_entry, fn, wrt, True),
                             foreign_variant=functools.partial(_foreign_entry, fn, wrt, True))


@_of_method
def grad(fn, wrt=0, backend="numpy"):
    """The gradient of scalar-valued `fn` with respect to `wrt` (an index, a name, or a
    tuple of them); the result is a function with `fn`'s parameters. `fn` may itself be a
    derivative s2sgrad made of a function of one number: `grad(grad(f))` is f''. A bound
    method (`model.loss`) is differentiated with respect to its own arguments.
    `backend="numba"` compiles the derivative with Numba for each set of argument shapes
    it is called with ("auto": with Numba where it can, else NumPy's code); "jax" runs the
    Array API code under jax.jit (JAX arrays in and out)."""
    if hasattr(fn, "__s2sgrad__"):
        if backend != "numpy":
            raise ValueError("a derivative of a derivative runs on NumPy's backend only: leave backend out")
        return _higher_order(fn, wrt)
    if _backend(backend) == "jax":
        return _jax_entry(fn, wrt, False)
    return calls.entry_point(compile_derivative(fn, wrt, "grad"), fn, value=False,
                             specialize=_specializer(fn, wrt, "grad", _backend(backend)),
                             always=backend != "numpy", current=_numba_current(fn, wrt, backend),
                             renew=functools.partial(grad, fn, wrt, backend),
                             size_one=functools.partial(_size_one, fn, wrt),
                             complex_variant=functools.partial(_complex_entry, fn, wrt, False),
                             foreign_variant=functools.partial(_foreign_entry, fn, wrt, False))


def _complex_entry(fn, wrt, value: bool, names: tuple):
    """The entry point of `fn`'s gradient built for complex numbers in the parameters `names`
    (its gradient with respect to a complex z is df/dx - 1j df/dy, z = x + 1j y: JAX's
    convention, runtime/complex_numbers.py)."""
    kind = passes.Kind("grad", complex=names)
    compiled = compile_derivative(fn, wrt, kind)
    key = (value, names)
    entries = compiled.entries
    if key not in entries:
        entries[key] = calls.entry_point(compiled, fn, value=value, specialize=_specializer(fn, wrt, kind),
                                         size_one=functools.partial(_size_one, fn, wrt))
    return entries[key]


def _foreign_entry(fn, wrt, value: bool):
    """The entry point of `fn`'s gradient for the arrays of another library than NumPy
    (PyTorch, JAX, CuPy, Dask, array_api_strict): built for the Array API (the `xp`
    profile, runtime/array_api.py), it computes in that library and returns its arrays."""
    return foreign_calls.entry(functools.partial(compile_derivative, fn, wrt, "grad", profile="xp"), fn, value)


def _not_of_derivative(fn, what: str) -> None:
    """Refuse a derivative of a derivative s2sgrad made, on another library's arrays."""
    made = getattr(fn, "__s2sgrad__", None)
    if made is not None:
        loc = compile_derivative(made.fn, made.positions, "grad").ir.loc
        raise NotDifferentiableError(f"the {what} of a derivative s2sgrad made runs on NumPy arrays only, not on "
                                     "another library's", loc,
                                     hint="for second derivatives on another library's arrays use s2sgrad.hvp or "
                                          "s2sgrad.hessian of the function itself")


def _in_library(fn, wrt: tuple, kind, arrays=frozenset()):
    """`fn`'s derivative `kind` for the Array API (the `xp` profile), given arrays in the
    parameters `arrays`: what vjp and jvp run on another library's arrays."""
    return compile_derivative(fn, wrt, kind, profile="xp", arrays=arrays)


def _size_one(fn, wrt, *args):
    """`(value, gradient)` of a function whose output is an array holding one number (shape
    (1,), (1, 1)), as autograd gives: its vjp along a cotangent of ones."""
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    out, pullback = vjp(fn, *args, wrt=wrt)
    grads = pullback(np.ones_like(out))
    return out, grads if len(wrt) > 1 else grads[0]


def vjp(fn, *args, wrt=None, backend="numpy"):
    """`(fn(*args), pullback)`; `pullback(cotangent)` returns one gradient per differentiated
    argument (by default every argument given) and may be called any number of times.
    `backend="numba"`: the pullback is compiled by Numba for the shapes it is called with
    (the value is the function's own); "auto": Numba's where it can, else NumPy's."""
    fn = frontend.readable(fn)
    if _is_method(fn):                  # model.loss: the arguments after `self`
        wrt = tuple(range(len(args))) if wrt is None else wrt
        return vjp(_function_of(fn), fn.__self__, *args, wrt=_after_self(wrt), backend=backend)
    if wrt is None:                     # (the arguments given: not a default left out)
        wrt = tuple(range(min(len(args), len(inspect.signature(fn).parameters))))
    if _backend(backend) == "jax":
        raise ValueError("vjp takes backend='numpy', 'numba' or 'auto' (the jax backend makes gradients)")
    if any(array_api.foreign(a) for a in args):       # (PyTorch, JAX, Dask...: computed in that library)
        _not_of_derivative(fn, "vjp")
        return foreign_calls.vjp(functools.partial(_in_library, fn, wrt if isinstance(wrt, tuple) else (wrt,)),
                                 fn, args)
    if backend != "numpy":
        return _numba_vjp(fn, args, wrt if isinstance(wrt, tuple) else (wrt,), backend)
    compiled = compile_derivative(fn, wrt if isinstance(wrt, tuple) else (wrt,), "vjp")
    given = calls.complex_params(compiled, args)
    if given:                           # complex numbers: the vjp built for them
        compiled = compile_derivative(fn, wrt if isinstance(wrt, tuple) else (wrt,),
                                      passes.Kind("vjp", complex=given))
    calls.apart(args, compiled.written)
    if compiled.rerun:                  # (its pullback runs the forward sweep again)
        _no_draws_again(compiled.ir, "this vjp of a function with loops or branches")
    args = calls.arguments(compiled, args)
    if compiled.rerun:      # loops and branches: the derivative runs the function again,
        out = fn(*_copies(args))      # each time on arguments of its own

        def impl(cotangent):
            return compiled.fn(*_copies(args), cotangent)[1]
    else:                   # the pullback keeps what it reads: arrays of its own, not the caller's
        out, impl = compiled.fn(*_copies(args))
    calls.check_real(out, compiled)

    return out, _pullback(impl, out, args, compiled)


def _pullback(impl, out, args, compiled):
    """vjp's pullback: `impl(cotangent)`'s gradients, checked and the caller's own."""
    def pullback(cotangent):
        _check_cotangent(cotangent, out, compiled.ir.loc)
        items = (cotangent, out) if not isinstance(out, tuple) else (*cotangent, *out)
        try:
            grads = impl(cotangent)
        except Exception as e:
            calls.noted(e, compiled.ir.loc)
            raise
        grads = calls.own_all(grads, [args[i] for i in compiled.positions], (*args, *items))
        calls.check_gradients(grads, compiled)
        return grads
    return pullback


def _numba_vjp(fn, args, wrt: tuple, backend: str):
    """vjp's (value, pullback) with the pullback compiled by Numba for the shapes of the
    arguments and the cotangent it is given: the vjp taking the cotangent last
    (reverse.run's `flat`), run again from the arguments each time."""
    compiled = compile_derivative(fn, wrt, "vjp")
    try:
        compile_derivative(fn, wrt, "vjp", profile="numba")        # (refused now where it is built)
        if calls.complex_params(compiled, args):
            raise NotDifferentiableError("the numba backend takes real numbers", compiled.ir.loc,
                                         hint="use backend='numpy' for complex arguments")
    except S2SGradError:
        if backend == "numba":
            raise
        return vjp(fn, *args, wrt=wrt)
    calls.apart(args, compiled.written)
    args = calls.arguments(compiled, args)
    out = fn(*_copies(args))
    calls.check_real(out, compiled)

    def impl(cotangent):
        key = calls.shape_key((*args, cotangent))
        try:
            made = compile_derivative(fn, wrt, "vjp", key, profile="numba").fn
        except S2SGradError:
            if backend == "numba":
                raise
            return vjp(fn, *args, wrt=wrt)[1](cotangent)
        return made(*_copies(args), cotangent)[1]

    return out, _pullback(impl, out, args, compiled)


LARGE = 1 << 16         # entries from which a jvp runs code specialized to the arguments' shapes


def jvp(fn, primals, tangents, wrt=None):
    """`(fn(*primals), tangent)`: the derivative of `fn` at `primals` along `tangents`, one
    per differentiated argument (all of them by default; for a gradient s2sgrad made, the
    arguments it is taken with respect to), computed by forward mode in the same sweep as
    the value."""
    fn = frontend.readable(fn)
    if _is_method(fn):
        wrt = tuple(range(len(primals))) if wrt is None else wrt
        return jvp(_function_of(fn), (fn.__self__, *primals), tangents, wrt=_after_self(wrt))
    try:
        found = _JVP_ENTRIES.get((id(fn), wrt))
    except TypeError:                          # (wrt a list: no cache)
        found = None
    if found is not None and found[0]() is fn and found[2].current():
        return found[1](primals, tangents)
    return _jvp_entry(fn, wrt)(primals, tangents)


_JVP_ENTRIES: dict = {}      # (id(fn), wrt) -> (weak reference to fn, its entry): one lookup a call


def _jvp_entry(fn, wrt):
    """jvp's path for `fn` and `wrt`: straight to the generated code for arguments it
    takes as they are (calls.jvp_entry), else through `_jvp`'s checks."""
    given, made = wrt, getattr(fn, "__s2sgrad__", None)
    if wrt is None and made is not None:      # a gradient: along the arguments it is taken for
        wrt = made.positions[0] if made.single else made.positions
    elif wrt is None:
        wrt = tuple(range(len(inspect.signature(fn).parameters)))
    compiled = compile_derivative(fn, wrt if isinstance(wrt, tuple) else (wrt,), "jvp")
    entry = calls.jvp_entry(compiled, functools.partial(_jvp_of, weakref.ref(fn), compiled), LARGE)
    key = (id(fn), given)
    if _weakrefable(fn) and isinstance(given, (int, str, tuple, type(None))):
        forget = functools.partial(_JVP_ENTRIES.pop, key, None)     # (bound now: it may run at exit)
        _JVP_ENTRIES[key] = (weakref.ref(fn, lambda _: forget()), entry, compiled.depends)
    return entry


def _jvp_of(of, compiled, primals, tangents):
    """`_jvp` of the function `of` refers to (weakly: the table of entries keeps none alive)."""
    return _jvp(of(), compiled, primals, tangents)


def _jvp(fn, compiled, primals, tangents):
    if not hasattr(fn, "__s2sgrad__") and any(array_api.foreign(a) for a in (*primals, *tangents)):
        return foreign_calls.jvp(functools.partial(_in_library, fn, compiled.positions, "jvp"), fn, primals,
                                 tangents)
    given = calls.complex_params(compiled, tuple(primals))
    if given:                           # complex numbers: the jvp built for them
        compiled = compile_derivative(fn, compiled.positions, passes.Kind("jvp", complex=given))
    calls.apart(tuple(primals), compiled.written)      # (before arguments() makes arrays of its own)
    args = calls.arguments(compiled, tuple(primals))
    tangents = tuple(tangents)
    if len(tangents) != len(compiled.positions):
        raise ShapeError(f"jvp takes one tangent per differentiated argument: {len(compiled.positions)}, "
                         f"not {len(tangents)}", compiled.ir.loc,
                         hint="pass a tuple of tangents shaped like the arguments in `wrt`")
    _check_tangents(compiled, args, tangents)
    if any(type(a) is np.ndarray and a.size >= LARGE for a in args):
        # large arrays: the version specialized to these shapes (results written into memory
        # the code holds, passes/buffers.py)
        compiled = compile_derivative(fn, compiled.positions, "jvp", calls.shape_key((*args, *tangents)))
    try:
        value, tangent = compiled.fn(*calls.copies((*args, *tangents), compiled.written))
    except Exception as e:
        calls.noted(e, compiled.ir.loc)
        raise
    return value, calls.typed_like(calls.fresh(tangent, tangents), value)


def _no_dicts(compiled, args, what: str) -> None:
    """Second derivatives along a dict of arrays are not made yet: say so, at the function."""
    for name, i in zip(compiled.wrt, compiled.positions):
        if isinstance(args[i], dict):
            raise NotDifferentiableError(f"{what} with respect to a dict (`{name}`) is not supported yet",
                                         compiled.ir.loc, hint=f"pass the arrays in `{name}` as arguments "
                                                              "of their own, or use s2sgrad.grad or vjp")


def _check_tangents(compiled, args, tangents) -> None:
    """Each tangent shaped like the argument it goes with (a list or tuple of arrays: item
    by item, as the tree it is)."""
    for i, t in zip(compiled.positions, tangents):
        if not _like(t, args[i]):
            raise ShapeError(f"the tangent of argument {i} is not shaped like the argument ({_described(t)} for "
                             f"{_described(args[i])})", compiled.ir.loc, hint="pass tangents shaped like their arguments")


def _like(t, a) -> bool:
    if isinstance(a, (list, tuple)) and not _numbers(a):
        return isinstance(t, (list, tuple)) and len(t) == len(a) and all(_like(u, b) for u, b in zip(t, a))
    if isinstance(a, dict):
        return isinstance(t, dict) and t.keys() == a.keys() and all(_like(t[k], a[k]) for k in a)
    if type(t) is float and type(a) is float:
        return True
    try:
        return np.shape(t) == np.shape(a)
    except ValueError:                     # (a ragged tree where an array was wanted)
        return False


def _numbers(a) -> bool:
    return all(isinstance(v, (int, float, complex, np.number)) for v in a)


def _described(v) -> str:
    if isinstance(v, (list, tuple)) and not _numbers(v):
        return f"a {type(v).__name__} of {len(v)}"
    try:
        return f"shape {np.shape(v)}"
    except ValueError:
        return type(v).__name__


@_of_method
def jacobian(fn, wrt=0, mode="reverse"):
    """A function with `fn`'s parameters returning the Jacobian of `fn` with respect to
    `wrt`: for an output of shape S and an argument of shape A, an array of shape S + A
    (a tuple of them when `wrt` is a tuple). `mode="reverse"` pulls back one cotangent per
    output entry (cheaper for few outputs), `mode="forward"` pushes one tangent per
    argument entry (cheaper for few inputs); both give the same matrix."""
    if mode not in ("reverse", "forward"):
        raise ValueError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    single = not isinstance(wrt, tuple)
    positions = (wrt,) if single else wrt

    def jac(*args):
        _no_draws_again(compile_derivative(fn, _indices(fn, positions), "vjp" if mode == "reverse" else "jvp").ir,
                        "a Jacobian")
        if mode == "reverse":
            out, pullback = vjp(fn, *args, wrt=positions)
            _one_output(out, fn)
            rows = [pullback(_basis(out, k)) for k in range(math.prod(np.shape(out)))]
            blocks = [_stacked([r[j] for r in rows], None, np.shape(out) + np.shape(args[p]))
                      for j, p in enumerate(_indices(fn, positions))]
        else:
            places = _indices(fn, positions)

            def along(tangents):
                out, column = jvp(fn, args, tangents, wrt=places)
                _one_output(out, fn)
                return column
            blocks = [_stacked([along(t) for t in _basis_tangents(args, places, j)], args[p])
                      for j, p in enumerate(places)]
        return blocks[0] if single else tuple(blocks)
    return jac


def _basis_tangents(args, places, j):
    """One tuple of tangents per entry of argument `places[j]`: that entry 1, all else 0."""
    zeros = [np.zeros(np.shape(args[p])) if np.ndim(args[p]) else 0.0 for p in places]
    for k in range(math.prod(np.shape(args[places[j]]))):
        tangents = list(zeros)
        tangents[j] = _basis(args[places[j]], k)
        yield tuple(tangents)


def _stacked(columns: list, arg, shape=None):
    """Results, one per entry of `arg` (in order), as one array shaped result + arg (or,
    with `shape`, the rows stacked in that shape): of the results' library."""
    foreign = array_api.foreign(columns[0])
    xp = array_api.namespace(columns[0]).xp if foreign else np
    whole = xp.stack([xp.asarray(c) for c in columns]) if foreign else np.array(columns)
    if shape is not None:
        return xp.reshape(whole, shape)
    ndim = np.ndim(arg)
    whole = xp.reshape(whole, np.shape(arg) + tuple(np.shape(columns[0])))
    return xp.permute_dims(whole, (*range(ndim, whole.ndim), *range(ndim))) if foreign else \
        np.moveaxis(whole, range(ndim), range(-ndim, 0))


def _higher_order(derivative, wrt):
    """`grad` of a derivative s2sgrad made (`grad(f)`, `grad(grad(f))`): one more forward
    sweep over f's gradient, along the same argument, which must be one number."""
    made = derivative.__s2sgrad__
    fn, positions, single, chain = made.fn, made.positions, made.single, made.chain
    position = _indices(fn, (wrt,))[0] if not isinstance(wrt, tuple) else None
    loc = compile_derivative(fn, positions if not single else positions[0], "grad").ir.loc
    if not single or position != positions[0]:
        raise NotDifferentiableError("grad of a derivative takes it again with respect to the same, single "
                                     "argument", loc, hint="for several arguments use s2sgrad.hessian")
    chain = chain + ("forward",)
    kind = passes.Kind("grad", forwards=len(chain) - 1, summed=chain[0] == "elementwise")
    compile_derivative(fn, (position,), kind)                   # (errors now, not when called)
    names = list(inspect.signature(fn).parameters)

    def higher(*args):
        compiled = compile_derivative(fn, (position,), kind)     # (the running code's)
        args = calls.arguments(compiled, args)
        if np.ndim(args[position]) != 0:
            raise NotDifferentiableError(f"grad of grad needs `{names[position]}` to be one number, not an "
                                         f"array of shape {np.shape(args[position])}", loc,
                                         hint="for an array argument use s2sgrad.hessian or s2sgrad.hvp")
        out = compiled.fn(*args, *[1.0] * (len(chain) - 1))
        for _ in chain[1:]:
            out = out[1]                       # the tangent of what the sweep before returned
        return out[1][0]                       # ... of the gradient
    higher.__name__ = "d" * len(chain) + "_" + fn.__name__
    higher.__s2sgrad__ = calls.Derived(fn, (position,), True, chain)
    return higher


def elementwise_grad(fn, wrt=0):
    """The gradient of the sum of `fn`'s output, whatever its shape: for a function applied
    entry by entry (np.tanh, a user's activation), the derivative at each entry, shaped like
    the argument. `elementwise_grad(elementwise_grad(f))` is the second derivative at each
    entry (forward mode over it, along ones), and so on."""
    made = getattr(fn, "__s2sgrad__", None)
    if made is None:
        fn = frontend.readable(fn)
        positions = _indices(fn, wrt if isinstance(wrt, tuple) else (wrt,))
        return _elementwise(fn, positions, not isinstance(wrt, tuple), ("elementwise",))
    source = frontend.parse(made.fn)
    loc = source.loc(source.tree)
    if made.chain[0] != "elementwise":
        raise NotDifferentiableError("elementwise_grad of a derivative takes an elementwise_grad", loc,
                                     hint="write elementwise_grad(elementwise_grad(f))")
    if not made.single or _indices(made.fn, (wrt,)) != made.positions:
        raise NotDifferentiableError("elementwise_grad of an elementwise_grad takes it again with respect to "
                                     "the same, single argument", loc,
                                     hint="use s2sgrad.hessian or s2sgrad.hvp for mixed derivatives")
    return _elementwise(made.fn, made.positions, True, made.chain + ("forward",))


def _elementwise(fn, positions, single, chain):
    """elementwise_grad's function: the summed gradient, then forward mode over it along
    ones, once per "forward" in `chain`."""
    kind = passes.Kind("grad", forwards=len(chain) - 1, summed=True)
    which = positions[0] if single else positions
    compile_derivative(fn, which, kind)                     # (errors now, not when called)

    def elementwise(*args):
        compiled = compile_derivative(fn, which, kind)      # (the running code's)
        args = calls.arguments(compiled, args)
        out = compiled.fn(*args, *[np.ones_like(args[positions[0]])] * (len(chain) - 1))
        for _ in chain[1:]:
            out = out[1]                       # the tangent of what the sweep before returned
        if single:
            return calls.own(out[1], args[positions[0]], args)
        return calls.own_all(out[1], [args[p] for p in positions], args)
    elementwise.__name__ = "elementwise_" + "d" * len(chain) + "_" + fn.__name__
    elementwise.__s2sgrad__ = calls.Derived(fn, positions, single, chain)
    return elementwise


@_of_method
def hvp(fn, wrt=0):
    """A function `(*args, tangent)` returning the Hessian of scalar-valued `fn` (with
    respect to `wrt`) times `tangent`, one array shaped like the argument (a tuple of them,
    and of tangents, when `wrt` is a tuple): forward mode run over the generated gradient,
    so no Hessian is ever formed."""
    single = not isinstance(wrt, tuple)
    compile_derivative(fn, (wrt,) if single else wrt, HVP)    # (errors now, not when called)

    def product(*args):
        compiled = compile_derivative(fn, (wrt,) if single else wrt, HVP)   # (the running code's)
        *args, tangents = args
        tangents = (tangents,) if single else tuple(tangents)
        if any(array_api.foreign(a) for a in (*args, *tangents)):     # (computed in that library)
            compile = functools.partial(_in_library, fn, compiled.positions, HVP)
            along = foreign_calls.jvp(compile, fn, tuple(args), tangents)[1][1]
            along = tuple(foreign_calls.typed(t, args[p]) for t, p in zip(along, compiled.positions))
            return along[0] if single else along
        calls.apart(tuple(args), compiled.written)
        args = calls.arguments(compiled, tuple(args))
        _no_dicts(compiled, args, "hvp")
        _check_tangents(compiled, args, tangents)
        try:
            _, (_, along) = compiled.fn(*calls.copies((*args, *tangents), compiled.written))
        except Exception as e:
            calls.noted(e, compiled.ir.loc)
            raise
        along = calls.fresh(tuple(along), (*args, *tangents))
        calls.check_real(along, compiled)
        return along[0] if single else along
    return product


@_of_method
def hessian(fn, wrt=0):
    """A function with `fn`'s parameters returning the Hessian of scalar-valued `fn`: for
    one argument of shape A, an array of shape A + A (a vector's: the n x n matrix); for a
    tuple `wrt`, a tuple of rows of blocks, `H[i][j]` of shape Ai + Aj holding the second
    derivatives with respect to argument i and argument j. Built one column per entry of
    the arguments: a pullback through the gradient (reverse over reverse: the gradient runs
    once) where the gradient is straight-line code, else a Hessian-vector product (forward
    over reverse: one sweep a column, no tape to rerun). The Hessian is symmetric, so the
    two give the same columns."""
    single = not isinstance(wrt, tuple)
    places = _indices(fn, (wrt,) if single else wrt)
    times, gradient = hvp(fn, places), grad(fn, places)
    gradient_of = compile_derivative(fn, places, "grad")

    def hess(*args):
        foreign = any(array_api.foreign(a) for a in args)      # (columns by hvp, in that library)
        if not foreign:
            _no_dicts(gradient_of, calls.arguments(gradient_of, args), "hessian")
        _no_draws_again(gradient_of.ir, "a Hessian")
        if foreign or compile_derivative(gradient, places, "vjp").rerun:
            def along(t):
                return times(*args, t)
        else:
            along = vjp(gradient, *args, wrt=places)[1]
        blocks = [[None] * len(places) for _ in places]
        for j, p in enumerate(places):
            columns = [along(t) for t in _basis_tangents(args, places, j)]
            for i in range(len(places)):
                blocks[i][j] = _stacked([c[i] for c in columns], args[p])
        return blocks[0][0] if single else tuple(tuple(row) for row in blocks)
    return hess

def _indices(fn, positions) -> tuple:
    names = list(inspect.signature(fn).parameters)
    return tuple(p if isinstance(p, int) else names.index(p) for p in positions)


def _basis(like, k):
    """The k-th unit array shaped like `like` (1.0 for a number)."""
    if np.ndim(like) == 0:
        return 1.0
    e = np.zeros(np.shape(like))
    e.flat[k] = 1.0
    return e


def _one_output(out, fn) -> None:
    if isinstance(out, tuple) or isinstance(_shape(out), list):
        what = f"{len(out)} values" if isinstance(out, tuple) else "a list of arrays of different shapes"
        raise NotDifferentiableError(f"jacobian needs a function returning one array, but this one "
                                     f"returns {what}", compile_derivative(fn, 0, "jvp").ir.loc,
                                     hint="differentiate each output in its own function, or return "
                                          "np.concatenate of the parts")


def _shape(value):
    """np.shape of a value, or for a list of arrays that differ in shape (np.split's
    parts), the list of their shapes (NumPy makes no array of them)."""
    if isinstance(value, (list, tuple)) and len({np.shape(item) for item in value}) > 1:
        return [np.shape(item) for item in value]
    return np.shape(value)


def _check_cotangent(cotangent, out, loc) -> None:
    """A cotangent shaped like the output (a tuple of them for a tuple output)."""
    if isinstance(out, tuple):
        if not isinstance(cotangent, (tuple, list)) or len(cotangent) != len(out):
            given = f"a tuple of {len(cotangent)}" if isinstance(cotangent, (tuple, list)) \
                else type(cotangent).__name__
            raise ShapeError(f"the function returns {len(out)} values, so the cotangent must be a "
                             f"tuple of {len(out)}, not {given}", loc,
                             hint="pass one cotangent per output, e.g. tuple(np.ones_like(o) for o in out)")
        for i, (c, o) in enumerate(zip(cotangent, out)):
            if _shape(c) != _shape(o):
                raise ShapeError(f"cotangent {i} has shape {_shape(c)} but output {i} has shape "
                                 f"{_shape(o)}", loc, hint="pass arrays shaped like the outputs")
    elif _shape(cotangent) != _shape(out):
        raise ShapeError(f"the cotangent has shape {_shape(cotangent)} but the output has "
                         f"shape {_shape(out)}", loc,
                         hint="pass an array shaped like the output, e.g. np.ones_like(out)")


MAKERS = ("np.random.default_rng", "np.random.RandomState", "np.random.Generator", "np.random.seed")


def _no_draws_again(gen: ir.Function, why: str) -> None:
    """Refuse, at the line that draws, a derivative that runs the function more than once
    (`why`) when it draws random numbers from a generator made outside it (NumPy's own, a
    module's Generator): each run would draw other numbers, and the runs would not agree."""
    flat = [s for s in ir.walk_all(gen.body) if isinstance(s, ir.Assign) and s.op == "opaque"]
    made = {s.target for s in flat if dict(s.params).get("callee") in MAKERS}
    seeded = any(dict(s.params).get("callee") == "np.random.seed" for s in flat)
    for s in flat:
        how = dict(s.params)
        callee = str(how.get("callee", ""))
        outside = callee.startswith("np.random.") and callee not in MAKERS and not seeded or \
            how.get("method") in aliasing.DRAWS and isinstance(s.args[0], ir.Var) and s.args[0].name not in made
        if outside:
            raise NotDifferentiableError(f"{why} runs the function more than once, and it draws random numbers "
                                         "here from a generator made outside it: each run would draw others",
                                         s.loc, hint="use s2sgrad.grad or value_and_grad (one run, the same draws), "
                                                     "or make the generator inside the function from a seed")


def _copies(args) -> tuple:
    return tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in args)


@_of_method
def source(fn, wrt=0, kind="grad", profile="numpy") -> str:
    """The generated source of `fn`'s derivative (`kind` is "grad", "vjp" or "jvp"; the
    command line also asks for higher derivatives, by a passes.Kind). `profile="xp"`: the
    gradient grad runs on the arrays of another library (PyTorch, JAX, Dask, ...), for
    arrays in every parameter."""
    if profile == "numpy":
        compiled = compile_derivative(fn, wrt, passes.kind_of(kind))
        if passes.kind_of(kind) == passes.VJP and compiled.rerun:     # (value, pullback), as vjp returns
            swept, wrapper = _pullback_form(frontend.readable(fn), compiled)
            text = emit.module_source(swept)
            numpy = "np.copy(" in wrapper and "import numpy as np\n" not in text
            return emit.Source(("import numpy as np\n" if numpy else "") + text + "\n\n" + wrapper)
        return emit.Source(compiled.source)
    if profile != "xp" or passes.kind_of(kind) != passes.GRAD:
        raise ValueError(f"profile must be 'numpy', or 'xp' for a gradient (kind='grad'), not {profile!r} with "
                         f"kind={kind!r}")
    fn = frontend.readable(fn)
    every = frozenset(inspect.signature(fn).parameters)
    return emit.Source(compile_derivative(fn, wrt, passes.GRAD, profile="xp", arrays=every).source)


runtime.COMPILER.update(vjp=vjp, jvp=jvp, grad=grad)   # derivatives made when they run (a recursive call, an ODE)


EXPORTED = ("grad", "value_and_grad", "vjp", "jvp")


def export(fn, wrt=0, kind="grad", freeze=False, command=None, shapes_of=None, verdict=None) -> str:
    """A module of `fn`'s derivative that runs with NumPy alone (backend/export.py): the
    runtime helpers it calls copied in, the user's globals it reads imported from the
    function's module (or, `freeze`, written as values), and a header saying where it
    came from. `kind`: "grad" (a function returning the gradients), "value_and_grad",
    "vjp" or "jvp", as `s2sgrad.<kind>` computes them; `command`: the command line that
    makes it again, named in the header. `shapes_of` (arguments): the code specialized to
    their shapes and dtypes (grad and value_and_grad); `verdict`: the SymPy referee's, for
    the header (the command line's export --verify)."""
    if kind not in EXPORTED:
        raise ValueError(f"kind must be one of {', '.join(EXPORTED)}, not {kind!r}")
    fn = frontend.readable(fn)
    base = "grad" if kind == "value_and_grad" else kind
    compiled = compile_derivative(fn, wrt, base)
    notes = []
    if shapes_of is not None:
        if base != "grad":
            raise ValueError("shapes_of specializes grad and value_and_grad exports")
        key = calls.shape_key(calls.arguments(compiled, tuple(shapes_of)))
        compiled = compile_derivative(fn, wrt, base, key)
        notes.append("for arguments shaped " + ", ".join(
            f"{n} {k[0]} {np.dtype(k[1]).name}" if isinstance(k, tuple) else f"{n} {k.__name__}"
            for n, k in zip(inspect.signature(fn).parameters, key)) + " only")
    if verdict is not None:
        notes.append(f"the SymPy referee, at the arguments given: {verdict}")
    gen, loc = compiled.ir, compiled.ir.loc
    if kind == "vjp" and compiled.rerun:                   # (value, pullback), as vjp returns
        swept, wrapper = _pullback_form(fn, compiled)
        return _exported(fn, compiled, swept, wrapper, kind, freeze, command, notes)
    name = f"{kind}_{fn.__name__}" if kind in ("grad", "value_and_grad") else gen.name
    inner = ("_" if compiled.written or kind == "grad" else "") + \
        ("value_and_grad_" + fn.__name__ if kind in ("grad", "value_and_grad") else gen.name)
    defaults = kind in ("grad", "value_and_grad") and any(
        p.default is not p.empty for p in inspect.signature(fn).parameters.values())
    inner = "_" + inner.lstrip("_") if defaults else inner       # (the public function takes the defaults)
    gen = dataclasses.replace(gen, name=inner)
    public = _public(fn, compiled, name, inner, kind) if inner != name else None
    return _exported(fn, compiled, gen, public, kind, freeze, command, notes)


def _exported(fn, compiled, gen, public, kind, freeze, command, notes=()) -> str:
    """The exported module of the derivative `gen` (and the function `public` after it)."""
    loc = compiled.ir.loc
    callees = [c for c in _callee_functions(fn, gen)]
    header = [f"The {kind} of {fn.__name__} ({loc.file}:{loc.line}) with respect to "
              f"{', '.join(compiled.wrt)}, exported by s2sgrad {_version()}; it needs NumPy only.",
              f"source sha256: {fn.__name__} {exporting.digest(fn)}" +
              "".join(f", {c.__name__} {exporting.digest(c)}" for c in callees),
              "rules: " + ("; ".join(exporting.rules_used(gen)) or "arithmetic only")]
    header += list(notes)
    if command:
        header.append(f"made by: {command}")
    return exporting.module(gen, lookup=_read_outside(fn, compiled.ir), header=header, freeze=freeze, public=public)


def _read_outside(fn, gen: ir.Function):
    """`lookup(name) -> (value, (module, its name there))` for what the exported derivative
    reads from outside: a global of the function's module or of the module of a function
    it calls, or a value held under another name there (a closure `closed = make(1.5)` the
    code calls `inner`); a closure's value has no module (None). Raises ExportError for a
    name found nowhere."""
    closures = [inspect.getclosurevars(fn).nonlocals] + \
        [inspect.getclosurevars(f).nonlocals for f in gen.bindings.values() if isinstance(f, types.FunctionType)]
    places = [fn.__globals__] + [f.__globals__ for f in gen.bindings.values() if hasattr(f, "__globals__")]

    def lookup(name):
        if name in closures[0]:
            return closures[0][name], None
        for where in places:
            if name in where:
                return where[name], (_home_module(where), name)
        if name in gen.bindings:
            value = gen.bindings[name]
            for where in places:
                held = next((n for n, v in where.items() if v is value and not n.startswith("__")), None)
                if held is not None:
                    return value, (_home_module(where), held)
            return value, None
        for closure in closures[1:]:
            if name in closure:
                return closure[name], None
        raise exporting.ExportError(f"the derivative reads `{name}`, which export cannot find in the function's "
                                    "module, the modules of the functions it calls, or their closures",
                                    gen.loc, hint="pass it as an argument, or make it a global of the module")
    return lookup


def _pullback_form(fn, compiled):
    """The vjp of a function with loops or branches as `(value, pullback)`: the generated
    sweep taking the cotangent last, renamed `_sweep_f`, and `vjp_f` returning the
    function's value and a pullback that runs the sweep for each cotangent it is given
    (a tape is one sweep's own), on copies of the arguments it writes into."""
    params = list(inspect.signature(fn).parameters)
    cotangents = list(compiled.ir.params[len(params):])
    swept = dataclasses.replace(compiled.ir, name=f"_sweep_{fn.__name__}",
                                doc=f"The value of {fn.__name__} and its gradients with respect to "
                                    f"{', '.join(compiled.wrt)} for the cotangent given last.")
    given = [f"np.copy({p})" if i in compiled.written else p for i, p in enumerate(params)]
    along = "cotangent" if len(cotangents) == 1 else "*cotangent"
    wrapper = (f"def vjp_{fn.__name__}({', '.join(params)}):\n"
               f'    """Vector-Jacobian product of {fn.__name__} with respect to {", ".join(compiled.wrt)}: returns '
               f"({fn.__name__}(...), pullback); pullback(cotangent) returns the gradients (it runs the sweep "
               f'again: each call has a tape of its own)."""\n\n'
               f"    def pullback(cotangent):\n"
               f"        return _sweep_{fn.__name__}({', '.join(given + [along])})[1]\n"
               f"    return ({fn.__name__}({', '.join(given)}), pullback)\n")
    return swept, wrapper


def _public(fn, compiled, name: str, inner: str, kind: str) -> str:
    """The exported function `name`: copies of the arguments the derivative `inner` writes
    into (the caller's stay as they were), then the derivative (grad: its gradients only)."""
    params = list(compiled.ir.params)
    copies = "".join(f"    {params[i]} = np.copy({params[i]})\n" for i in compiled.written if i < len(params))
    call = f"{inner}({', '.join(params)})" + ("[1]" if kind == "grad" else "")
    signature = inspect.signature(fn).parameters
    shown = []
    for p in params:
        default = signature[p].default if p in signature and kind in ("grad", "value_and_grad") else \
            inspect.Parameter.empty
        if default is not inspect.Parameter.empty and exporting.literal(default) is None:
            raise exporting.ExportError(f"the default of `{p}` cannot be written into an exported module",
                                        compiled.ir.loc, hint=f"give `{p}` a default of numbers, or none")
        shown.append(p if default is inspect.Parameter.empty else f"{p}={exporting.literal(default)}")
    doc = calls.entry_doc(fn.__name__, list(compiled.wrt), kind == "value_and_grad") \
        if kind in ("grad", "value_and_grad") else compiled.ir.doc
    return (f"def {name}({', '.join(shown)}):\n"
            f'    """{doc}"""\n'
            f"{copies}    return {call}\n")


def _callee_functions(fn, gen: ir.Function) -> list:
    """The user's functions whose derivatives the exported module holds (by name, once)."""
    found = {}
    for companion in exporting.companions(gen):
        target = frontend.readable(fn).__globals__.get(companion.name.split("_", 1)[-1])
        if isinstance(target, types.FunctionType) and target is not fn:
            found[target.__name__] = target
    return [found[n] for n in sorted(found)]


def _home_module(where: dict):
    """The module an exported file imports a global of the module dict `where` from: its
    name, or (a module run as a script, or loaded by the command line) its file's."""
    name = where.get("__name__")
    if name and name != "__main__" and not name.startswith("s2sgrad_user_"):
        return name
    file = where.get("__file__") or ""
    return os.path.splitext(os.path.basename(file))[0] if file.endswith(".py") else None


def _version() -> str:
    import importlib.metadata
    try:
        return importlib.metadata.version("s2sgrad")
    except importlib.metadata.PackageNotFoundError:     # (run from a checkout not installed)
        return "unknown"


def cost(fn, *args, wrt=0, timed=True):
    """What `grad(fn, wrt)` costs at `args` (a report that prints as a table): per user
    line and in total, the values its tape holds and their bytes, the extra memory, and
    its operations estimated from the code specialized to the arguments' shapes, against
    the function's own (and counted in one run of the derivative's IR); `timed`: the
    derivative and the function timed too (backend/cost.py)."""
    fn = frontend.readable(fn)
    general = compile_derivative(fn, wrt, "grad")
    args = calls.arguments(general, args)
    key = calls.shape_key(args)
    compiled = compile_derivative(fn, wrt, "grad", key)
    params = calls.abstract_arguments(list(general.ir.params), key)
    primal = passes.derivative(fn, passes.Request(general.wrt, passes.GRAD, general.single,
                                                  callees=callee_derivative), stop_after="complex")
    scope = _Scope.of(fn, general.ir.loc)
    free = {name: scope.lookup(name) for name in compiled.ir.free | primal.free}
    function = fn if not general.written else lambda *given: fn(*_copies(given))    # (each call on copies)
    return costing.report(fn.__name__, compiled.ir, primal, params, _copies(args), general.ir.loc, free,
                          timed=(grad(fn, wrt), function) if timed else None)
