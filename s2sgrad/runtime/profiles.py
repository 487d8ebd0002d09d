"""Helpers the code of the other profiles calls: the Array API's (runtime/array_api.py)
and Numba's (runtime/numba_helpers.py). In NumPy's code they are what NumPy does
implicitly (a mask read as numbers, a module's array as it is, an index as given,
Python's ints), so here each is an identity or a plain operator; the profiles give
them their own implementations."""
from __future__ import annotations

import numpy as np

from .broadcasting import gradient_dtype
from .registry import helper


@helper(linear=())
def as_floats(mask, like):
    """Booleans (a mask) as floats of `like`'s dtype, for arithmetic: the Array API's
    arrays take no booleans there (passes/portable.py puts it where the code multiplies
    by a comparison); NumPy's do, so here it only casts."""
    return np.asarray(mask, dtype=gradient_dtype(like))


@helper(linear=(0,))
def in_library(value):
    """A value of the user's module, as the generated code reads it: itself (the `xp`
    profile's makes a NumPy array there one of the arguments' library)."""
    return value


@helper(linear=(0,))
def contiguous(x):
    """x, or a copy of it laid out in memory as a reshape reads it (the numba backend's
    reshape of a strided array: NumPy copies it then too)."""
    return np.ascontiguousarray(x) if type(x) is np.ndarray else x


@helper(linear=())
def int_add(a, b):
    """a + b of two Python ints (the numba backend's: checked, as int64 can overflow)."""
    return a + b


@helper(linear=())
def int_sub(a, b):
    """a - b of two Python ints (the numba backend's: checked)."""
    return a - b


@helper(linear=())
def int_mul(a, b):
    """a * b of two Python ints (the numba backend's: checked)."""
    return a * b


@helper(linear=())
def int_pow(a, b):
    """a ** b of two Python ints (the numba backend's: checked; a negative power is refused)."""
    return a ** b


@helper(linear=())
def as_index(key, x=None):
    """An index into x holding values read from arrays or lists (`x[labels[k]]`, `x[rows,
    cols]`): itself (the `xp` profile's makes it one the standard takes: runtime/array_api.py)."""
    return key


@helper(linear=())
def tape_push(tape, n, value):
    """Save `value` at `tape[n]`; n + 1. The numba backend's tape of numbers, an array made
    before the loops that fill it (passes/numba_ready.py); Numba's implementation refuses a
    value not of the tape's type, which a store would cast silently."""
    tape[n] = value
    return n + 1


@helper(linear=())
def trips(start, stop, step):
    """How many turns `for _ in range(start, stop, step)` takes."""
    return len(range(start, stop, step))
