"""The functions generated code calls, each marked where it is defined.

    @helper(linear=(0,))          # linear in its argument 0, reads the others for shape
    def unsum(g, x, axis=None, keepdims=False): ...

`complex=True` says its forward rule holds for complex values too (a linear
helper's always does; forward mode over a gradient refuses the others there).
`linear` gives the positions of the arguments the helper's value is linear in
(one term each when several vary: `matmul_dleft(g, x, y)` is bilinear in g and
y); `()` says it depends smoothly on none (zeros, lengths). Left out, forward
mode needs a rule of its own for the helper (`@tangent`, rules/helpers.py).
rules/operators.py registers every marked helper as an op with these facts.
"""
from __future__ import annotations

HELPERS: list = []       # every marked function, in the order the topic modules define them


def helper(*, linear: tuple | None = None, complex: bool = False):
    """Mark a function generated code calls (see the module docstring); `complex`: its
    forward rule holds for complex values too (a linear helper's always does)."""
    def mark(fn):
        fn.__s2sgrad_linear__ = None if linear is None else tuple(linear)
        fn.__s2sgrad_complex__ = complex or linear is not None
        HELPERS.append(fn)
        return fn
    return mark
