"""Values that are not arrays: gradients of trees (lists, tuples, dicts, namedtuples,
dataclasses and other objects holding arrays), the length of a zip, and a recursive
call's derivative, made by the compiler when the call runs.

A tree's gradient is built as a mutable tree that adds item by item (GradList for a
list or tuple, GradDict for a dict, GradAttrs for an object's attributes); the entry
point gives it the argument's own types at the end (backend/calls.py). A list or tuple
of numbers or of arrays of one shape keeps an array for its gradient, as before.
An object's attributes that hold no floats (ints, strings, functions) are static: they
get no gradient, and the gradient object keeps them as they are.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import os
import sys

import numpy as np

from .registry import helper


COMPILER: dict = {}     # "vjp", "jvp": s2sgrad.api's entry points, which api registers here
                        # when it loads (the runtime never imports the compiler)


@helper()
def call_adjoint(fn, *args, wrt):
    """The gradients, with respect to the arguments at positions `wrt`, of the call
    `fn(*args[:-1])` pulled back from the cotangent `args[-1]` (a recursive call's
    derivative: `fn`'s own vjp, compiled once by s2sgrad)."""
    *args, cotangent = args
    return COMPILER["vjp"](fn, *args, wrt=tuple(wrt))[1](cotangent)


@helper()
def call_jvp(fn, *args, wrt):
    """`(fn(*primals), tangent)` for a recursive call in forward mode: `args` are the call's
    arguments followed by the tangents of those at positions `wrt` (`fn`'s own jvp,
    compiled once by s2sgrad)."""
    primals, tangents = args[:len(args) - len(wrt)], args[len(args) - len(wrt):]
    return COMPILER["jvp"](fn, primals, tangents, wrt=tuple(wrt))


@helper(linear=(0,))
def like_result(t, ans):
    """The tangents `t` of an op's tuple result, in the result's own type (NumPy's
    QRResult, EighResult: read by field name, `.Q`)."""
    return type(ans)(*t) if hasattr(ans, "_fields") else t


@helper(linear=())
def dict_keys(d):
    """The keys of a dict, as a list: `d.items()` and `d.values()` are read as the items of
    each key in turn (frontend/lower.py)."""
    if not isinstance(d, dict):
        raise TypeError(f"s2sgrad reads `.items()` and `.values()` of a dict, and this is a {type(d).__name__}: "
                        "convert it to a dict or a list first")
    return list(d)


@helper(linear=())
def common_length(*seqs):
    """How many times `zip(*seqs)` turns (the number of items of a plain sequence). The
    generated loop reads items by position: a dict (whose loop walks its keys) is refused."""
    for s in seqs:
        if isinstance(s, (dict, set, frozenset)):
            raise TypeError(f"s2sgrad loops over a sequence by position, and this is a {type(s).__name__}: "
                            "loop over d.items(), d.values(), d.keys() or list(d) instead")
    return min(len(s) for s in seqs)


class GradDict(dict):
    """The gradient of a dict argument: a dict whose sum with another adds key by key."""

    def __add__(self, other):
        total = GradDict(self)
        for key, value in other.items():
            total[key] = total[key] + value if key in total else value
        return total

    __radd__ = __add__

    def __iadd__(self, other):
        for key, value in other.items():
            self[key] = self[key] + value if key in self else value
        return self


class GradList(list):
    """The gradient of a list or tuple whose items differ in shape or are trees (np.array_split's
    parts, a list of layers): a list that adds item by item, and whose slice is one too
    (`dparams[:-1] += g` adds into the items; a plain list's `+=` would append)."""

    def __add__(self, other):
        if len(other) != len(self):
            raise ValueError(f"adding gradients of {len(self)} and {len(other)} items")
        return GradList(a + b for a, b in zip(self, other))

    __radd__ = __iadd__ = __add__

    def __getitem__(self, index):
        item = list.__getitem__(self, index)
        return GradList(item) if isinstance(index, slice) else item


class GradAttrs(GradDict):
    """The gradient of an object (a dataclass, or a plain object holding arrays): its
    differentiated attributes by name."""


def is_object(x) -> bool:
    """Whether `x` is an object whose attributes can hold what is differentiated: a
    dataclass, or an object of a class of the user's own (not a library's: a SymPy
    expression, a random generator)."""
    if isinstance(x, (np.ndarray, np.generic, int, float, complex, str, bytes, list, tuple, dict, type)) \
            or x is None or callable(x):
        return False
    return dataclasses.is_dataclass(x) or hasattr(x, "__dict__") and _users_class(type(x))


@functools.lru_cache(maxsize=256)
def _users_class(cls) -> bool:
    """Whether a class is defined outside Python's own library and the installed packages."""
    path = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return cls.__module__ == "__main__" if path is None else not in_library(path)


def in_library(path: str) -> bool:
    """Whether a file is part of Python's own library or of an installed package."""
    path = os.path.realpath(path)
    return any(path.startswith(root + os.sep) for root in _library_paths())


@functools.lru_cache(maxsize=1)
def _library_paths() -> tuple:
    import sysconfig
    return tuple({os.path.realpath(p) for key in ("stdlib", "platstdlib", "purelib", "platlib")
                  if (p := sysconfig.get_paths().get(key))})


def attributes(x) -> dict:
    """An object's attributes by name (a dataclass's fields, or its `__dict__`)."""
    if dataclasses.is_dataclass(x):
        return {f.name: getattr(x, f.name) for f in dataclasses.fields(x)}
    return dict(vars(x))


def holds_floats(x) -> bool:
    """Whether a value is a float, an array of floats, or a tree holding some."""
    if isinstance(x, (float, np.floating)) or isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return True
    if isinstance(x, (list, tuple)):
        return any(holds_floats(item) for item in x)
    if isinstance(x, dict):
        return any(holds_floats(item) for item in x.values())
    return is_object(x) and any(holds_floats(v) for v in attributes(x).values())


def uniform(items) -> bool:
    """Whether a list's or tuple's items are numbers or arrays of one shape (its gradient is
    then one array)."""
    shapes = set()
    for item in items:
        if isinstance(item, (list, tuple, dict)) or is_object(item):
            return False
        shapes.add(np.shape(item))
    return len(shapes) <= 1


def rebuild(grad, arg, leaf):
    """The gradient `grad` of a tree `arg`, given `arg`'s own types (a tuple for a tuple, the
    namedtuple or dataclass itself); `leaf(g, a)` makes each array's or number's."""
    if isinstance(arg, dict):
        return {key: rebuild(grad[key], value, leaf) for key, value in arg.items()}
    if isinstance(arg, (list, tuple)):
        items = [rebuild(grad[i], item, leaf) for i, item in enumerate(arg)] if len(arg) else []
        if isinstance(arg, tuple) and hasattr(arg, "_fields"):
            return type(arg)(*items)
        return type(arg)(items) if type(arg) in (list, tuple) else list(items)
    if is_object(arg):
        made = copy.copy(arg)
        for name, value in attributes(arg).items():
            if name in grad:
                object.__setattr__(made, name, rebuild(grad[name], value, leaf))
        return made
    return leaf(grad, arg)
