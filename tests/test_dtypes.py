"""The dtype of what the runtime's helpers make: float32 in, float32 out (as NumPy's own
arithmetic on float32 arrays gives), complex in, complex out (runtime.gradient_dtype is
where they decide it)."""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime as r

from .support import make_function


def _helpers(x, g_row, g_full):
    small = np.ones(2, x.dtype)
    return {
        "unsum": lambda: r.unsum(g_row, x, axis=0), "unsort": lambda: r.unsort(g_full, x),
        "untake": lambda: r.untake(small, x, np.array([0, 4])), "unprod": lambda: r.unprod(g_row, x, axis=0),
        "uncumprod": lambda: r.uncumprod(g_full, x, np.cumprod(x, axis=1), axis=1),
        "unbroadcast": lambda: r.unbroadcast(g_full, x[:1]), "zero_grad": lambda: r.zero_grad(x),
        "unmax": lambda: r.unmax(g_row, x, np.max(x.real, axis=0), axis=0),
        "unrepeat": lambda: r.unrepeat(np.ones(12, x.dtype), x, 2), "uncumsum": lambda: r.uncumsum(g_full, x, axis=1),
        "undiagonal": lambda: r.undiagonal(small, x), "untake_along_axis":
            lambda: r.untake_along_axis(g_full, x, np.zeros((2, 3), int), axis=1),
        "unpartition": lambda: r.unpartition(g_full, x.real, np.partition(x.real, 1), 1),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.complex128])
def test_helpers_keep_the_dtype_they_are_given(dtype):
    x = (np.arange(1, 7).reshape(2, 3) * (1 + 0.5j if dtype == np.complex128 else 1)).astype(dtype)
    made = _helpers(x, np.ones(3, dtype), np.ones((2, 3), dtype))
    for name, make in made.items():
        if name in ("unmax", "unpartition") and dtype == np.complex128:
            continue                                  # (orders: defined for reals only)
        assert np.asarray(make()).dtype == dtype, name


def test_float32_programs_give_float32_gradients(tmp_path):
    f = make_function(tmp_path, "def f(x):\n    s = np.sort(x, axis=1)\n    return np.sum(np.max(s, axis=0) * "
                                "np.prod(x, axis=1)[0] + np.cumprod(x, axis=1)[:, -1].mean())\n")
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3) / 4
    g = s2sgrad.grad(f)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, s2sgrad.grad(f)(x.astype(float)), rtol=1e-5)
