"""Functions s2sgrad cannot read (they stand for C extensions), and the rules users give them."""
import numpy as np

import s2sgrad


def softplus(x):
    return np.log1p(np.exp(x))


def smooth_step(x):
    return x * x * (3.0 - 2.0 * x)


def bucket(x):
    return np.floor(x * 4.0)


@s2sgrad.adjoint(softplus, domain=("real",), examples=[("softplus(x)", [(3,)])],
                 sympy="np.vectorize(lambda v: sp.log(1 + sp.exp(v)), otypes=[object])(x)")
def softplus_adjoint(ans, x, dans):
    dx = dans / (1 + np.exp(-x))


@s2sgrad.partials(smooth_step, domain=("fraction",), sympy="x**2 * (3 - 2*x)")
def smooth_step_partial(x): return 6.0 * x * (1.0 - x)


s2sgrad.nondifferentiable(bucket)


def model(x, w):
    h = softplus(x * w)
    return np.sum(smooth_step(h / (1.0 + h)) + bucket(x) * h)
