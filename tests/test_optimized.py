"""Optimized code gives the gradients unoptimized code gives, over every gallery.

The unoptimized derivative (`-O0`: the reverse pass's output, no hoisting,
optimizer, specialization, rows or accumulation) runs in the IR interpreter; the
optimized one is the code a user's call runs (`s2sgrad.grad`, specialized to the
arguments' shapes). They must agree to rounding.
"""
import inspect

import numpy as np
import pytest

import s2sgrad

from .flow_functions import FLOW
from .functions import GALLERY
from .more_functions import MORE
from .test_flow import _interpret, _wrt

CASES = [(fn, make, None) for fn, make in GALLERY] + list(FLOW) + list(MORE)


def _scalar(fn, make):
    try:
        return np.ndim(fn(*make())) == 0 and not isinstance(fn(*make()), tuple)
    except Exception:                      # noqa: BLE001 - the known limits raise on purpose
        return False


SCALAR = [pytest.param(fn, make, wrt, id=f"{fn.__name__}{i}") for i, (fn, make, wrt) in enumerate(CASES)
          if _scalar(fn, make)]


@pytest.mark.parametrize("fn, make_args, wrt", SCALAR)
def test_optimized_code_gives_the_unoptimized_gradients(fn, make_args, wrt):
    args = make_args()
    names = _wrt(fn, args, wrt)
    positions = tuple(range(len(args))) if wrt is None else tuple(wrt)
    bound = inspect.signature(fn).bind(*args)
    bound.apply_defaults()                 # the interpreter takes every parameter
    _, plain = _interpret(fn, names, tuple(bound.arguments.values()), optimized=False)
    best = s2sgrad.grad(fn, wrt=positions)(*args)
    assert len(plain) == len(best)
    for a, b in zip(plain, best):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
