"""The jax backend: the derivative's Array API code, traced and compiled by `jax.jit`.

`grad(f, backend="jax")` runs the `xp` profile's derivative (runtime/array_api.py) on
JAX arrays under `jax.jit`: NumPy arrays given become JAX arrays, Python ints and bools
are static (a loop's bound, a flag: jit compiles once per value), floats are traced. The
result is JAX's arrays. Code whose control flow depends on the values (`if x > 0`,
`while err > tol`, an index read from an array) cannot be traced: the first call refuses
it at the user's line the generated line came from (the `# adjoint of line N` comment
above it; the function's first line for the code before the first such comment).
"""
from __future__ import annotations

import linecache

from ..errors import Loc, NotDifferentiableError, UnsupportedSyntaxError
from ..runtime import array_api
from . import emit


def namespace():
    """The Namespace over jax.numpy (NumPy arrays given become its arrays)."""
    import jax
    return array_api.namespace(jax.numpy.zeros(0))


def runner(compiled):
    """A function running `compiled.fn` under jax.jit, with its Python ints and bools static."""
    import jax
    jitted: dict = {}

    def run(*args):
        fn = jitted.get(tuple(map(type, args)))                  # (the types say which are static)
        if fn is None:
            static = tuple(i for i, a in enumerate(args) if not (isinstance(a, (float, complex)) or
                                                                    array_api.foreign(a)))   # (ints, flags, strings)
            fn = jitted[tuple(map(type, args))] = jax.jit(compiled.fn, static_argnums=static)
        try:
            return fn(*args)
        except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError,
                jax.errors.NonConcreteBooleanIndexError) as e:
            raise _located(e, compiled.ir.loc) from None
    return run


def checked(entry, loc):
    """`entry`, refusing float64 numbers (NumPy's, Python's) given where JAX would compute
    them in float32 (its default, unless x64 is enabled); `loc()`: where to say so."""
    import jax

    def call(*args, **kwargs):
        if not jax.config.jax_enable_x64:
            _float64((*args, *kwargs.values()), loc())
        return entry(*args, **kwargs)
    call.__name__ = call.__qualname__ = entry.__name__
    return call


def _float64(args, loc: Loc) -> None:
    if any(isinstance(a, float) or getattr(getattr(a, "dtype", None), "name", "") == "float64" for a in args):
        raise NotDifferentiableError("JAX computes float64 numbers in float32 unless told otherwise, and the "
                                     "derivative would silently lose precision", loc,
                                     hint="enable float64 first: jax.config.update('jax_enable_x64', True), or pass "
                                          "float32 arrays")


def _located(error, loc: Loc) -> UnsupportedSyntaxError:
    frames = []
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<s2sgrad-"):
            frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    where = emit.user_line(linecache.getlines(frames[-1][0]), frames[-1][1], loc) if frames else loc
    return UnsupportedSyntaxError("jax.jit cannot trace this derivative: a value computed from the arguments "
                                  f"decides a branch, a loop or an index ({type(error).__name__})", where,
                                  hint="use backend='numba' or 'numpy', which run loops and branches on values, or "
                                       "pass the value deciding it as a Python int (static under jit)")
