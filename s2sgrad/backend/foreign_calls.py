"""A derivative called with the arrays of another library (PyTorch, JAX, CuPy, Dask,
array_api_strict): the entry point of its `xp` profile.

`calls.entry_point` sends a call here when an argument is such an array. The
arguments that are NumPy arrays become arrays of that library (so that
`X_torch @ w_numpy` is one library's product), the differentiated ones are
checked to hold floats, the generated code runs on them, and the value and the
gradients come back as that library's arrays: a lazy library (Dask) stays lazy,
nothing is computed here.
"""
from __future__ import annotations

import inspect

import numpy as np

from . import calls
from ..errors import NotDifferentiableError, ShapeError
from ..runtime import array_api


def entry(compile, fn, value: bool, runner=None, into=None):
    """`grad(fn)` (or with `value`, value_and_grad(fn)) for arrays of another library;
    `compile(arrays=names)` makes the derivative for arrays in the parameters `names`;
    `runner(compiled) -> function` runs it (jax.jit's: jax_backend.py), `into` (a
    namespace) is the library NumPy arrays become when no argument names one."""
    signature = inspect.signature(fn)
    runs: dict = {}
    known: dict = {}       # the arguments' types -> (compiled, run, dtypes the differentiated ones may have)
    count = len(signature.parameters)

    def call(*args, **kwargs):
        hit = known.get(tuple(map(type, args))) if not kwargs and len(args) == count else None
        if hit is not None and hit[0].depends.current() and \
                all(type(args[i]) is float or args[i].dtype in hit[2] for i in hit[0].positions):
            return finished(hit[0], hit[1], args)       # (a call like one before: no binding, no conversion)
        given = _bound(signature, args, kwargs)
        compiled = compile(arrays=_arrays(signature, given))    # (cached there, built again when what it read changed)
        given = _copied(_checked(arguments(given, compiled.ir.loc, into), compiled), compiled.written)
        if runner is None:
            run = compiled.fn
        else:
            run = runs.get(id(compiled))
            if run is None or run[0] is not compiled:
                run = runs[id(compiled)] = (compiled, runner(compiled))
            run = run[1]
        if not kwargs and len(args) == count and not compiled.written and all(g is a for g, a in zip(given, args)):
            dtypes = frozenset(args[i].dtype for i in compiled.positions if type(args[i]) is not float)
            known[tuple(map(type, args))] = (compiled, run, dtypes)
        return finished(compiled, run, given)

    def finished(compiled, run, given):
        try:
            result, grads = run(*given)
        except Exception as e:
            calls.noted(e, compiled.ir.loc)
            if isinstance(e, TypeError) and "promoted" in str(e) and hasattr(e, "add_note"):
                e.add_note("  (this library does not mix integer and floating arrays in arithmetic, as NumPy does: "
                           "cast with .astype(float) in the function, or pass NumPy arrays)")
            raise
        shape = tuple(getattr(result, "shape", ()))
        if shape != ():
            raise ShapeError(f"grad needs a function with a scalar output; this one returned an array of shape "
                             f"{shape}", compiled.ir.loc,
                             hint="for a non-scalar output use s2sgrad.vjp(fn, *args), or reduce it (np.sum)")
        args_of = [given[i] for i in compiled.positions]
        grads = _owned(grads, args_of[0], given) if compiled.single else \
            tuple(_owned(g, a, given) for g, a in zip(grads, args_of))
        return (result, grads) if value else grads
    call.__name__ = call.__qualname__ = ("value_and_grad_" if value else "grad_") + fn.__name__
    return call


def vjp(compile, fn, args: tuple):
    """vjp's `(value, pullback)` of `fn` at arguments among which are arrays of another
    library, computed in that library; `compile(kind, arrays=names)` makes the derivative
    `kind` ("vjp", "jvp") for arrays in the parameters `names`. A function with loops or
    branches runs again for each cotangent (its value comes from the jvp along zeros)."""
    signature = inspect.signature(fn)
    given = _bound(signature, args)
    arrays = _arrays(signature, given)
    compiled = compile("vjp", arrays=arrays)
    given = _checked(arguments(given, compiled.ir.loc), compiled)
    if compiled.rerun:
        forward = compile("jvp", arrays=arrays)
        zeros = tuple(_zero(given[i]) for i in forward.positions)
        out = forward.fn(*_copied((*given, *zeros), forward.written))[0]

        def impl(cotangent):
            return compiled.fn(*_copied(given, compiled.written), cotangent)[1]
    else:
        out, impl = compiled.fn(*_copied(given, compiled.written))

    def pullback(cotangent):
        items = tuple(cotangent) if isinstance(out, tuple) and isinstance(cotangent, (tuple, list)) else (cotangent,)
        items = arguments((*items, *given), compiled.ir.loc)[:len(items)]     # (NumPy's: the arguments' library)
        _check_shapes(items, out if isinstance(out, tuple) else (out,), "cotangent", "output", compiled)
        try:
            grads = impl(items if isinstance(out, tuple) else items[0])
        except Exception as e:
            calls.noted(e, compiled.ir.loc)
            raise
        return tuple(_owned(g, given[i], given) for g, i in zip(grads, compiled.positions))
    return out, pullback


def jvp(compile, fn, primals: tuple, tangents: tuple):
    """jvp's `(value, tangent)` of `fn` at arguments among which are arrays of another
    library, computed in that library; `compile(arrays=names)` makes the forward-mode
    derivative (a jvp, or hvp's over the gradient) for arrays in the parameters `names`."""
    signature = inspect.signature(fn)
    given = _bound(signature, tuple(primals))
    compiled = compile(arrays=_arrays(signature, given))
    tangents = tuple(tangents)
    if len(tangents) != len(compiled.positions):
        raise ShapeError(f"jvp takes one tangent per differentiated argument: {len(compiled.positions)}, "
                         f"not {len(tangents)}", compiled.ir.loc,
                         hint="pass a tuple of tangents shaped like the arguments in `wrt`")
    both = arguments((*given, *tangents), compiled.ir.loc)
    given, tangents = _checked(both[:len(given)], compiled), both[len(given):]
    _check_shapes(tangents, tuple(given[i] for i in compiled.positions), "tangent", "argument", compiled)
    try:
        value, tangent = compiled.fn(*_copied((*given, *tangents), compiled.written))
    except Exception as e:
        calls.noted(e, compiled.ir.loc)
        raise
    return value, (tuple(_owned(t, None, both) for t in tangent) if isinstance(tangent, tuple)
                   else _owned(tangent, None, both))


def _bound(signature, args: tuple, kwargs=None) -> tuple:
    """The arguments of a call, positional, with the defaults filled in."""
    bound = signature.bind(*args, **(kwargs or {}))
    bound.apply_defaults()
    return tuple(bound.arguments.values())


def _arrays(signature, given: tuple) -> frozenset:
    """The names of the parameters given arrays (NumPy's or another library's)."""
    return frozenset(n for n, a in zip(signature.parameters, given) if isinstance(a, np.ndarray) or
                     array_api.foreign(a))


def _checked(given: tuple, compiled) -> tuple:
    """`given`, its differentiated arguments checked to hold floats."""
    for name, i in zip(compiled.wrt, compiled.positions):
        _check_floats(given[i], name, compiled)
    return given


def _copied(given: tuple, written) -> tuple:
    """`given` with the arrays the code writes into copied (as NumPy's code copies them)."""
    return tuple(array_api.namespace(a).to(a, copy=True) if i in written and array_api.foreign(a) else a
                 for i, a in enumerate(given))


def typed(value, like):
    """`value` (another library's array) in `like`'s floating dtype, where `like` is one."""
    if array_api.foreign(value) and array_api.foreign(like) and value.dtype != like.dtype and \
            array_api.namespace(like).xp.isdtype(like.dtype, "real floating"):
        return array_api.namespace(value).xp.astype(value, like.dtype)
    return value


def _zero(x):
    return array_api.namespace(x).xp.zeros_like(x) if array_api.foreign(x) else 0.0


def _check_shapes(values: tuple, like: tuple, what: str, of: str, compiled) -> None:
    """Each of `values` (cotangents, tangents) shaped like its counterpart in `like`."""
    if len(values) != len(like):
        raise ShapeError(f"{len(values)} {what}s given for {len(like)} {of}s", compiled.ir.loc,
                         hint=f"pass one {what} per {of}")
    for i, (v, o) in enumerate(zip(values, like)):
        if tuple(getattr(v, "shape", ())) != tuple(getattr(o, "shape", ())):
            which = f" {i}" if len(like) > 1 else ""
            raise ShapeError(f"the {what}{which} has shape {tuple(getattr(v, 'shape', ()))} but the {of}{which} has "
                             f"shape {tuple(getattr(o, 'shape', ()))}", compiled.ir.loc,
                             hint=f"pass arrays shaped like the {of}s")


def arguments(args: tuple, loc, into=None) -> tuple:
    """`args` with NumPy arrays made arrays of the one other library among them (or of
    `into`'s, a namespace, when there is none)."""
    others = [a for a in args if array_api.foreign(a)]
    try:
        ns = array_api.namespace(*others) if others or into is None else into
    except TypeError as e:
        libraries = sorted({type(a).__module__.split(".")[0] for a in others})
        raise NotDifferentiableError(f"the arguments are arrays of more than one library ({', '.join(libraries)})",
                                     loc, hint="pass the arrays of one library (NumPy arrays may go with any "
                                               "one)") from e
    return tuple(ns.to(a) if isinstance(a, np.ndarray) else a.item() if isinstance(a, np.generic) else a
                 for a in args)         # (a NumPy number: Python's, which any library takes)


def _check_floats(x, name: str, compiled) -> None:
    if isinstance(x, float):
        return
    if array_api.foreign(x):
        ns = array_api.namespace(x)
        if ns.xp.isdtype(x.dtype, "real floating"):
            return
        what = f"an array of {x.dtype}"
    else:
        kind = type(x).__name__
        what = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    raise NotDifferentiableError(f"cannot differentiate with respect to `{name}`: it is {what}", compiled.ir.loc,
                                 hint=f"pass floats as `{name}` (an array of floats of its library), or leave it "
                                      "out of wrt")


def _owned(grad, arg, given):
    """A gradient with its argument's floating dtype, an array of its own that the caller
    may write into (not an argument, another gradient, or a broadcast view): a copy,
    but for JAX's, which nothing writes into."""
    if not array_api.foreign(grad):
        return grad
    ns = array_api.namespace(grad)
    if arg is not None and array_api.foreign(arg) and grad.dtype != arg.dtype:
        grad = ns.xp.astype(grad, arg.dtype)
    return grad if type(grad).__module__.startswith("jax") else ns.to(grad, copy=True)
