"""A gallery of user functions, written the way people write NumPy.

Each entry of GALLERY is (function, argument factory). The tests differentiate
every function for every argument and check it against finite differences,
the IR interpreter after every pass, and the generated code.
"""
import numpy
import numpy as np
import numpy as xp
from numpy import exp, matmul, sin

SCALE = 0.5
WEIGHTS = np.linspace(-1.0, 1.0, 6).reshape(2, 3)


def polynomial(x):
    return 3.0 * x ** 3 - 2.0 * x ** 2 + x - 7.0


def reused_names(x):
    y = x * 2.0
    y = y + x
    y = y * y
    return y


def augmented(x, y):
    z = x * 1.0
    z += y
    z *= x
    z -= 1.0
    z /= 2.0
    z **= 2
    return z


def tuple_unpacking(x, y):
    a, b = x * 2.0, y - 1.0
    a, b = b, a
    return a * b ** 2


def unpack_array(v):
    a, b, c = v
    return a * b + c


def numpy_alias(x):
    return numpy.sin(x) + xp.cos(x)


def imported_names(x, w):
    return np.sum(sin(matmul(x, w)) * exp(-w[0, 0]))


def global_constants(x):
    return np.sum(WEIGHTS * x) * SCALE


def negative_constants(x):
    return (-2.0) ** 2 * x - x ** -1.0 + 2.0 ** -x


def division_chain(x, y):
    return x / y / (x + 3.0) - y / x


def softplus(x):
    return np.sum(np.log(1.0 + np.exp(x)))


def logistic_loss(w, X, y):
    margins = y * (X @ w)
    return np.mean(np.log(1.0 + np.exp(-margins))) + 0.01 * np.sum(w ** 2)


def mlp(W1, b1, W2, x):
    h = np.tanh(x @ W1 + b1)
    out = h @ W2
    return np.sum(out ** 2) / 2.0


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def slices_and_items(x):
    return x[0, 1] * np.sum(x[1:, :2]) + np.sum(x[:, -1] ** 2)


def write_items(m):
    n = np.zeros((2, 2))
    n[0, 0] = m[0] * m[1]
    n[1, :] = np.sin(m)
    n[0, 1] += m[0] ** 2
    return np.sum(n * n)


def write_into_argument_copy(a):
    b = a.copy()
    b[0] = b[1] * 3.0
    return np.sum(b ** 2)


def reductions(x):
    s = np.sum(x, axis=0)
    m = x.mean(axis=1, keepdims=True)
    return np.sum(s * s) + np.sum((x - m) ** 2)


def shapes(x):
    y = x.reshape(3, 2).T
    z = np.transpose(y) @ y
    return np.sum(z * np.ones_like(z))


def dots(x, y):
    return np.dot(x, y) + x.dot(y) * 0.5


def maximum_and_abs(x):
    return np.sum(np.maximum(x, 0.0) + np.abs(x) * 0.1)


def square_root_of_sum(x):
    return np.sqrt(np.sum(x * x) + 1.0)


def trig(x):
    return np.tan(x) * np.cos(x) + np.sin(x) ** 2


def unused_argument(x, unused):
    return x * 2.0


def constant_output(x):
    return 3.0


def identity(x):
    return x


def broadcast_mix(a, b, c):
    return np.sum(a * b + c / (1.0 + b ** 2))


def _rng(seed=0):
    return np.random.default_rng(seed)


def positive(*shape):
    return _rng(1).uniform(0.5, 2.0, shape)


def normal(*shape, seed=0):
    return _rng(seed).standard_normal(shape)


GALLERY = [
    (polynomial, lambda: (1.3,)),
    (reused_names, lambda: (normal(3),)),
    (augmented, lambda: (normal(4), normal(4, seed=1))),
    (tuple_unpacking, lambda: (0.7, -1.2)),
    (unpack_array, lambda: (normal(3, 2),)),
    (numpy_alias, lambda: (normal(5),)),
    (imported_names, lambda: (normal(4, 3), normal(3, 2, seed=2))),
    (global_constants, lambda: (normal(2, 3),)),
    (negative_constants, lambda: (positive(3),)),
    (division_chain, lambda: (positive(3), positive(3) + 1.0)),
    (softplus, lambda: (normal(6),)),
    (logistic_loss, lambda: (normal(4), normal(20, 4, seed=3), np.sign(normal(20, seed=4)))),
    (mlp, lambda: (normal(3, 5), normal(5, seed=1), normal(5, 2, seed=2), normal(7, 3, seed=3))),
    (rosenbrock, lambda: (normal(6),)),
    (slices_and_items, lambda: (normal(4, 3),)),
    (write_items, lambda: (normal(2),)),
    (write_into_argument_copy, lambda: (normal(3),)),
    (reductions, lambda: (normal(4, 3),)),
    (shapes, lambda: (normal(6),)),
    (dots, lambda: (normal(4), normal(4, seed=1))),
    (maximum_and_abs, lambda: (normal(7),)),
    (square_root_of_sum, lambda: (normal(5),)),
    (trig, lambda: (0.4,)),
    (unused_argument, lambda: (1.5, 2.5)),
    (constant_output, lambda: (1.5,)),
    (identity, lambda: (normal(3),)),
    (broadcast_mix, lambda: (normal(4, 1), normal(1, 3, seed=1), normal(3, seed=2))),
]


# -- builtins, the math module, attributes and methods ---------------------------

import math  # noqa: E402


def builtin_abs_min_max(x, y):
    return abs(x - y) + max(x, y) * min(x, 2.0 * y)


def math_functions(x):
    return math.sin(x) * math.exp(-x) + math.sqrt(x) * math.log(1.0 + x) + math.tanh(x) / math.cos(x)


def float_conversion(x):
    return float(x) * 3.0 + x


def attributes(x):
    n = x.shape[0]
    return np.sum(x) / n + x.ndim * np.mean(x) + len(x) * x.size * 0.01 * np.sum(x ** 2)


def methods(x):
    return x.max() + x.min(axis=0).sum() + x.T.dot(x).mean() + x.astype(float).reshape(-1)[0]


def amax_amin(x):
    return np.sum(np.amax(x, axis=1) - np.amin(x, axis=0, keepdims=True))


def minimum_maximum(x, y):
    return np.sum(np.minimum(x, y) * np.maximum(x, 0.5))


def modulo(x):
    return np.sum(x % 1.5 + (x // 0.7) * x)


def rounding_is_flat(x):
    return np.sum(np.floor(x) * x + np.round(x) + np.ceil(x) * np.trunc(x))


def inactive_branch_of_code(x, n):
    unused = np.ones(3) * n
    unused = unused + 2.0
    return np.sum(x * 2.0)


GALLERY += [
    (builtin_abs_min_max, lambda: (0.7, 1.9)),
    (math_functions, lambda: (0.8,)),
    (float_conversion, lambda: (1.5,)),
    (attributes, lambda: (normal(5),)),
    (methods, lambda: (normal(4, 3),)),
    (amax_amin, lambda: (normal(3, 3),)),
    (minimum_maximum, lambda: (normal(5), normal(5, seed=1))),
    (modulo, lambda: (_rng(3).uniform(0.1, 0.6, 5),)),
    (rounding_is_flat, lambda: (_rng(4).uniform(0.1, 0.4, 5) + np.arange(5),)),
]
