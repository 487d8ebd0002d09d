"""Values that are not arrays: gradients of dicts and lists, the length of a zip, and a
recursive call's derivative, made by the compiler when the call runs."""
from __future__ import annotations

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


@helper(linear=())
def common_length(*seqs):
    """How many times `zip(*seqs)` turns (the number of items of a plain sequence)."""
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
    """The gradient of a list whose items differ in shape (np.array_split's parts): a
    list that adds item by item."""

    def __add__(self, other):
        return GradList(a + b for a, b in zip(self, other))

    __radd__ = __iadd__ = __add__
