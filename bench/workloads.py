"""The benchmark workloads, each written once with `np.` for NumPy.

s2sgrad reads a function's source, so the workloads live in this ordinary
module and use the module-level `import numpy as np`. The peers (autograd,
JAX) run the very same code object with the global `np` rebound to
`autograd.numpy` or `jax.numpy` (see `for_module`); the one workload that
writes into an array by subscript assignment, which neither peer supports,
has a functional twin (`PEER_TWINS`) that computes the same thing.

Each `Workload` says which arguments to differentiate and how to build the
inputs at a given size; `WORKLOADS` lists them in table order.
"""
from __future__ import annotations

import inspect
import types
from dataclasses import dataclass
from typing import Callable

import numpy as np


# -- the functions -----------------------------------------------------------

def simple(x):
    """Seed cell 1 on a Python float: y = x + 2; z = y ** 2 + 3."""
    y = x + 2
    z = y ** 2 + 3
    return z


def simple_sum(x):
    """Seed cell 1 on an array, summed to a scalar."""
    y = x + 2
    z = y ** 2 + 3
    return np.sum(z)


def mean_residual(x, y, w):
    """Seed cell 2: the mean of y - x w."""
    return np.mean(y - np.matmul(x, w))


def squares_and_cubes_sum(m):
    """Seed cell 3: n = (m00 ** 2, m01 ** 3) written item by item, then summed."""
    n = np.zeros((1, 2))
    n[0, 0] = m[0, 0] ** 2
    n[0, 1] = m[0, 1] ** 3
    return np.sum(n)


def squares_and_cubes_sum_functional(m):
    """Seed cell 3 without subscript assignment, for autograd and JAX."""
    n = np.stack([m[0, 0] ** 2, m[0, 1] ** 3]).reshape((1, 2))
    return np.sum(n)


def rosenbrock(x):
    """The Rosenbrock function, vectorised with slices."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic_loss(X, y, w):
    """Mean logistic loss for labels y in {-1, +1}, plus an L2 penalty."""
    return np.mean(np.log(1 + np.exp(-y * (X @ w)))) + 0.01 * np.sum(w ** 2)


def mlp_loss(x, W1, b1, W2, b2, t):
    """Two-layer perceptron with tanh, squared loss."""
    return np.mean((np.tanh(x @ W1 + b1) @ W2 + b2 - t) ** 2)


def elementwise_mix(x):
    """A mix of elementwise ops."""
    return np.sum(np.sin(x) * np.exp(-x ** 2) + np.sqrt(np.abs(x) + 1.0) * np.tanh(x))


def scalar_loop(x, n):
    """A scalar Python loop."""
    for i in range(n):
        x = x * 0.9 + np.sin(x)
    return x


def rnn(W, xs, h0):
    """An RNN over T steps, its states written row by row into one array."""
    T = xs.shape[0]
    h = np.zeros((T + 1, h0.shape[0]))
    h[0] = h0
    for t in range(T):
        h[t + 1] = np.tanh(W @ h[t] + xs[t])
    return np.sum(h[T] ** 2)


def rnn_functional(W, xs, h0):
    """The same RNN without subscript assignment, for autograd and JAX."""
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    return np.sum(h ** 2)


def grow_until(x):
    """A while loop whose number of turns depends on the value."""
    while x < 1000.0:
        x = x * 1.5 + np.sqrt(x)
    return x


def branchy_loop(x):
    """A loop with a data-dependent branch each turn."""
    total = 0.0
    for i in range(50):
        if x * i > 20.0:
            total = total + np.sqrt(x * i)
        else:
            total = total - np.sin(x * i)
    return total


def layer(a, w):
    return np.tanh(a @ w)


def two_layers(x, w1, w2):
    """A function calling a helper."""
    return np.sum(layer(layer(x, w1), w2) ** 2)


# -- the same functions over another NumPy-like module -----------------------

PEER_TWINS = {squares_and_cubes_sum: squares_and_cubes_sum_functional, rnn: rnn_functional}


def for_module(fn, module):
    """`fn`'s code with the global `np` bound to `module` (autograd.numpy, jax.numpy)."""
    fn = PEER_TWINS.get(fn, fn)
    scope = dict(fn.__globals__, np=module)
    for name, value in list(scope.items()):      # the helpers it calls see `module` too
        if isinstance(value, types.FunctionType) and value.__globals__ is fn.__globals__:
            scope[name] = types.FunctionType(value.__code__, scope, value.__name__, value.__defaults__,
                                             value.__closure__)
    return scope[fn.__name__] if fn.__name__ in scope else \
        types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)


# -- the workloads -----------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    name: str
    fn: Callable
    wrt: object                       # as s2sgrad.grad takes it: int, name, or tuple
    make_inputs: Callable             # (size, rng) -> tuple of arguments
    sizes: dict                       # label -> size (whatever make_inputs takes)

    @property
    def positions(self) -> tuple:
        """wrt as a tuple of argument positions."""
        params = list(inspect.signature(self.fn).parameters)
        wrt = self.wrt if isinstance(self.wrt, tuple) else (self.wrt,)
        return tuple(w if isinstance(w, int) else params.index(w) for w in wrt)


def _simple_inputs(n, rng):
    return (2.0,)


def _vector(n, rng):
    return (rng.standard_normal(n),)


def _mean_residual_inputs(shape, rng):
    m, k, n = shape
    return rng.standard_normal((m, k)), rng.standard_normal((m, n)), rng.standard_normal((k, n))


def _squares_inputs(n, rng):
    return (np.array([[2.0, 3.0]]),)


def _rosenbrock_inputs(n, rng):
    return (rng.uniform(-1.5, 1.5, n),)


def _logistic_inputs(shape, rng):
    m, d = shape
    X = rng.standard_normal((m, d))
    truth = rng.standard_normal(d)
    y = np.where(X @ truth + 0.5 * rng.standard_normal(m) > 0, 1.0, -1.0)
    w = 0.1 * rng.standard_normal(d)
    return X, y, w


def _mlp_inputs(shape, rng):
    batch, d_in, hidden, d_out = shape
    x = rng.standard_normal((batch, d_in))
    W1 = rng.standard_normal((d_in, hidden)) / np.sqrt(d_in)
    b1 = 0.1 * rng.standard_normal(hidden)
    W2 = rng.standard_normal((hidden, d_out)) / np.sqrt(hidden)
    b2 = 0.1 * rng.standard_normal(d_out)
    t = rng.standard_normal((batch, d_out))
    return x, W1, b1, W2, b2, t


def _loop_inputs(n, rng):
    return 0.5, n


def _rnn_inputs(shape, rng):
    hidden, steps = shape
    return (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden),
            rng.standard_normal((steps, hidden)), rng.standard_normal(hidden))


def _layers_inputs(shape, rng):
    batch, width = shape
    return (rng.standard_normal((batch, width)), rng.standard_normal((width, width)) / np.sqrt(width),
            rng.standard_normal((width, width)) / np.sqrt(width))


WORKLOADS = [
    Workload("cell1 float", simple, 0, _simple_inputs, {"scalar": 1}),
    Workload("cell1 array", simple_sum, 0, _vector, {"n=10": 10, "n=1e6": 1_000_000}),
    Workload("cell2 mean_residual", mean_residual, (0, 1, 2), _mean_residual_inputs,
             {"10x20@20x5": (10, 20, 5), "1000x500@500x100": (1000, 500, 100)}),
    Workload("cell3 setitem", squares_and_cubes_sum, 0, _squares_inputs, {"1x2": 2}),
    Workload("rosenbrock", rosenbrock, 0, _rosenbrock_inputs, {"n=10": 10, "n=1e6": 1_000_000}),
    Workload("logistic", logistic_loss, "w", _logistic_inputs,
             {"100x10": (100, 10), "100000x100": (100_000, 100)}),
    Workload("mlp", mlp_loss, (1, 2, 3, 4), _mlp_inputs,
             {"b8 4-16-1": (8, 4, 16, 1), "b4096 256-512-10": (4096, 256, 512, 10)}),
    Workload("elementwise", elementwise_mix, 0, _vector, {"n=10": 10, "n=1e6": 1_000_000}),
    Workload("scalar loop", scalar_loop, 0, _loop_inputs, {"100 steps": 100}),
    Workload("scalar loop ", scalar_loop, 0, _loop_inputs, {"1000 steps": 1000}),
    Workload("rnn", rnn, (0, 1, 2), _rnn_inputs, {"H=8 T=10": (8, 10), "H=256 T=50": (256, 50)}),
    Workload("while loop", grow_until, 0, lambda n, rng: (1.5,), {"scalar": 1}),
    Workload("branchy loop", branchy_loop, 0, lambda n, rng: (0.7,), {"50 turns": 50}),
    Workload("helper calls", two_layers, (1, 2), _layers_inputs,
             {"b8 16": (8, 16), "b2048 512": (2048, 512)}),
]
