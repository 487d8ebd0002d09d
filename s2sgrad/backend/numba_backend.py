"""The numba backend: a derivative compiled by Numba, from a file on disk.

The module source (emitted in the "numba" profile, for arguments of known shapes) is
written to a file named by a hash of its text, in s2sgrad's cache directory
($S2SGRAD_CACHE, else ~/.cache/s2sgrad), imported, and its function wrapped with
`numba.njit(cache=True)`: Numba keeps the machine code beside the file, so a second
process that makes the same derivative loads it instead of compiling again. The
module globals the derivative reads are written into the file (numbers: api._frozen, which
notes them so that another value builds the derivative again): Numba reads globals
once, when it compiles, and the hash then changes with their values.

Numba compiles when the version for the arguments' shapes is made, for their types
(or, where the key does not say them, at the first call). What it cannot compile is
refused there, at the user's line the generated line came from (emit.user_line: the
`# adjoint of line N` comment above it; the function's first line for the code before
the first such comment), naming what Numba said.
"""
from __future__ import annotations

import functools
import hashlib
import math
import importlib.util
import os
import pathlib
import re
import sys

import numpy as np

from .. import errors
from . import emit
from ..errors import Loc, UnsupportedSyntaxError

def cache_dir() -> pathlib.Path:
    """Where the generated files (and Numba's cache beside them) go."""
    root = os.environ.get("S2SGRAD_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "s2sgrad")
    return pathlib.Path(root) / "numba"


def load(name: str, module: str, globals_: dict, loc: Loc, key: tuple = ()):
    """The function `name` of the module source `module`, compiled by Numba; `globals_`:
    the values of the module globals it reads; `loc`: the user's function; `key` (a
    calls.shape_key): the arguments' types, for which it is compiled now (Numba's own
    dispatcher is returned: no wrapper between the caller and the machine code), else
    at its first call (a `Jitted`)."""
    import numba
    source = module + "".join(f"\n{n} = {_literal(v)}" for n, v in sorted(globals_.items())) + \
        f"\n# helpers {_helpers_digest()}\n"         # (Numba's cache knows the file, not what it calls)
    path = _written(source, name)
    jitted = numba.njit(cache=True, boundscheck=True, error_model="numpy")(getattr(_imported(path), name))
    # (an index past the end raises, as NumPy's does; 1 / 0.0 is inf, as NumPy's is)
    signature = _signature(key)
    if signature is None:
        return Jitted(jitted, path, source, loc, None)
    try:
        jitted.compile(signature)
    except numba.core.errors.NumbaError as e:
        raise _located(e, path, source, loc) from None
    return jitted


@functools.cache
def _helpers_digest() -> str:
    """A hash of the Numba helpers' source: a file written for other helpers is another file."""
    from ..runtime import numba_helpers
    return hashlib.sha256(pathlib.Path(numba_helpers.__file__).read_bytes()).hexdigest()[:16]


def _signature(key: tuple):
    """Numba's types of the arguments a shape key describes, or None (a list, an object)."""
    from numba import types
    from numba.np.numpy_support import from_dtype
    scalars = {float: types.float64, int: types.int64, bool: types.boolean, complex: types.complex128,
               np.float64: types.float64, np.float32: types.float32, np.int64: types.int64}
    found = []
    for item in key:
        if isinstance(item, tuple):
            found.append(types.Array(from_dtype(np.dtype(item[1])), len(item[0]), "C"))
        elif item in scalars:
            found.append(scalars[item])
        else:
            return None
    return tuple(found)


class Jitted:
    """A function Numba compiles at its first call (or, where it cannot and there is a
    fallback, that fallback's function from then on)."""

    def __init__(self, jitted, path, source, loc, fallback):
        self.jitted, self.path, self.source, self.loc, self.fallback = jitted, path, source, loc, fallback
        self.run = self._first

    def __call__(self, *args):
        return self.run(*args)

    def falling_back(self, fallback) -> "Jitted":
        """The same compiled function, running `fallback()`'s where Numba cannot compile."""
        return Jitted(self.jitted, self.path, self.source, self.loc, fallback)

    def _first(self, *args):
        import numba
        try:
            result = self.jitted(*args)
        except numba.core.errors.NumbaError as e:
            if self.fallback is None:
                raise _located(e, self.path, self.source, self.loc) from None
            self.run = self.fallback()
            return self.run(*args)
        self.run = self.jitted
        return result


def rerun_where_numba_differs(compiled, numpy_made):
    """`compiled`, running NumPy's code (`numpy_made()`'s) for a call where Numba's
    integers would not be Python's: one overflowing 64 bits, a negative power (the
    helpers raise there: runtime/numba_helpers.py). Only for a derivative that writes
    into none of its arguments (the rerun sees them as they were)."""
    def run(*args):
        try:
            return compiled(*args)
        except (OverflowError, ValueError) as e:
            if "Numba" not in str(e):
                raise
            return numpy_made()(*args)
    return run


def _literal(value) -> str:
    """A number the derivative reads from outside, written as Python source (api._frozen)."""
    value = value.item() if isinstance(value, np.generic) else value
    text = repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        text = f"float({text!r})"                      # (inf, nan)
    return text


def _written(source: str, name: str) -> pathlib.Path:
    """The file holding `source` (written once: Numba's cache is keyed by the file)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"s2sgrad_{name}_{digest}.py"
    if not path.exists():
        part = path.with_suffix(f".{os.getpid()}.part")
        part.write_text(source)
        os.replace(part, path)            # (another process writing the same file: the same text)
    return path


def _imported(path: pathlib.Path):
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def _located(error, path: pathlib.Path, source: str, loc: Loc) -> errors.S2SGradError:
    """Numba's refusal, at the user's line the failing generated line came from."""
    said = str(error)
    lines = [int(n) for n in re.findall(rf'{re.escape(str(path))}", line (\d+)', said)] or \
        [int(n) for n in re.findall(r"File \"[^\"]*s2sgrad_[^\"]*\", line (\d+)", said)]
    where = emit.user_line(source.splitlines(), lines[-1] if lines else 0, loc)
    said = re.sub(r"\x1b\[[0-9;]*m", "", said)            # (Numba colours its messages)
    meaningful = [line.strip() for line in said.splitlines() if line.strip() and not
                  line.strip().startswith(("Failed in", "During:", "File", "<source", "^", "-", "*", "There are"))]
    first = " ".join(meaningful[:2]) if meaningful else said
    return UnsupportedSyntaxError(f"Numba cannot compile this derivative: {first[:300]}", where,
                                  hint="use backend='auto' to run NumPy's code where Numba cannot, or "
                                       "backend='numpy'")
