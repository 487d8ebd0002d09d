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
import re

from ..errors import Loc, UnsupportedSyntaxError
from ..runtime import array_api


def namespace():
    """The Namespace over jax.numpy (NumPy arrays given become its arrays)."""
    import jax
    return array_api.namespace(jax.numpy.zeros(0))


def runner(compiled):
    """A function running `compiled.fn` under jax.jit, with its Python ints and bools static."""
    import jax
    jitted: dict = {}

    def run(*args):
        static = tuple(i for i, a in enumerate(args) if isinstance(a, (bool, int)) or a is None)
        fn = jitted.get(static) or jitted.setdefault(static, jax.jit(compiled.fn, static_argnums=static))
        try:
            return fn(*args)
        except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
                jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError) as e:
            raise _located(e, compiled.ir.loc) from None
    return run


def _located(error, loc: Loc) -> UnsupportedSyntaxError:
    frames = []
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<s2sgrad-"):
            frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    where = loc
    if frames:
        filename, line = frames[-1]
        for text in reversed(linecache.getlines(filename)[:line]):
            found = re.match(r"\s*# adjoint of line (\d+):", text)
            if found:
                number = int(found.group(1))
                where = Loc(loc.file, number, 0, None, linecache.getline(loc.file, number).rstrip("\n"))
                break
    return UnsupportedSyntaxError("jax.jit cannot trace this derivative: a value computed from the arguments "
                                  f"decides a branch, a loop or an index ({type(error).__name__})", where,
                                  hint="use backend='numba' or 'numpy', which run loops and branches on values, or "
                                       "pass the value deciding it as a Python int (static under jit)")
