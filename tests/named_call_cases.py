"""User functions for the regression tests of calls kept as calls (named callee derivatives)."""
import numpy as np
def g(x):
    return np.sin(x) * x
def f_mut_after(a):
    y = g(a)
    a[0] = 5.0
    return np.sum(y) + np.sum(a)
def sq(v):
    return v * v
def f_loop_mut(a):
    b = a * 1.0
    s = 0.0
    for i in range(3):
        s = s + np.sum(sq(b))
        b[i] = 2.0 * b[i] + 1.0
    return s
def lin(p, x):
    return p["w"] * x + p["b"]
def f_dict_helper2(p, x):
    return np.sum(lin(p, x) * p["w"])
def withdef(x, y=2.0):
    return x * y
def f_default(x):
    return withdef(x) + withdef(x, x)


def mutate(a):
    a[0] = a[0] * 3.0
    return np.sum(a * a)


def f_callee_mutates(a):
    b = a * 1.0
    s = mutate(b)
    return s + np.sum(b)


def push(ys, v):
    ys.append(v)
    return np.sum(v)


def f_push_helper(x):
    xs = [x]
    t = push(xs, 2.0 * x)
    return np.sum(sum(xs)) + t


def scale(x, *, s=2.0):
    return x * s


def f_keyword_only(x, c):
    return np.sum(x * scale(c, s=3.0)) + np.sum(scale(x, s=0.5))


def doubled(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args):
        return 2.0 * fn(*args)
    return wrapper


@doubled
def dsq(x):
    return x * x


def f_decorated(x):
    return np.sum(dsq(x))
