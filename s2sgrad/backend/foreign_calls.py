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

from ..errors import NotDifferentiableError, ShapeError
from ..runtime import array_api


def entry(compile, fn, value: bool, runner=None, into=None):
    """`grad(fn)` (or with `value`, value_and_grad(fn)) for arrays of another library;
    `compile(arrays=names)` makes the derivative for arrays in the parameters `names`;
    `runner(compiled) -> function` runs it (jax.jit's: jax_backend.py), `into` (a
    namespace) is the library NumPy arrays become when no argument names one."""
    signature = inspect.signature(fn)
    names = list(signature.parameters)
    runs: dict = {}

    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        given = tuple(bound.arguments.values())
        arrays = frozenset(n for n, a in zip(names, given) if isinstance(a, np.ndarray) or array_api.foreign(a))
        compiled = compile(arrays=arrays)      # (cached there, and built again when what it read changed)
        given = arguments(given, compiled.ir.loc, into)
        given = tuple(array_api.namespace(a).to(a, copy=True) if i in compiled.written and array_api.foreign(a)
                      else a for i, a in enumerate(given))      # (what it writes into: copies, as NumPy's)
        for name, i in zip(compiled.wrt, compiled.positions):
            _check_floats(given[i], name, compiled)
        if runner is None:
            run = compiled.fn
        else:
            run = runs.get(id(compiled))
            if run is None or run[0] is not compiled:
                run = runs[id(compiled)] = (compiled, runner(compiled))
            run = run[1]
        result, grads = run(*given)
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
        what = f"a {type(x).__name__}"
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
    if array_api.foreign(arg) and grad.dtype != arg.dtype:
        grad = ns.xp.astype(grad, arg.dtype)
    return grad if type(grad).__module__.startswith("jax") else ns.to(grad, copy=True)
