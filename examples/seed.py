"""The PyTorch autograd tutorial that s2sgrad started from, cell by cell, the s2sgrad way.

    s2sgrad show examples/seed.py::simple           # the generated gradient code
    python examples/seed.py                          # run every cell
"""
import numpy as np

import s2sgrad


def simple(x):
    """Cell 1: y = x + 2; z = y ** 2 + 3."""
    y = x + 2
    z = y ** 2 + 3
    return z


def mean_residual(x, y, w):
    """Cell 2: the mean of y - x w."""
    return np.mean(y - np.matmul(x, w))


def squares_and_cubes(m):
    """Cell 3: n = (m0 ** 2, m1 ** 3), written item by item into an array."""
    n = np.zeros((1, 2))
    n[0, 0] = m[0, 0] ** 2
    n[0, 1] = m[0, 1] ** 3
    return n


def quadratic(x):
    """Cell 4: y = 2x + x ** 2 + 3, differentiated twice."""
    y = x * 2 + x ** 2 + 3
    return y


def main():
    print("cell 1: value and gradient of simple at x = 2:", s2sgrad.value_and_grad(simple)(2.0))
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((10, 20)), rng.standard_normal((10, 5)), rng.standard_normal((20, 5))
    dx, dy, dw = s2sgrad.grad(mean_residual, wrt=(0, 1, 2))(x, y, w)
    print("cell 2: dy is 1/50 everywhere:", np.allclose(dy, 1 / 50), "| dx[0, :3] =", dx[0, :3])
    n, pullback = s2sgrad.vjp(squares_and_cubes, np.array([[2.0, 3.0]]))
    print("cell 3: n =", n, "| pullback(ones) =", pullback(np.ones_like(n))[0])
    value, pullback = s2sgrad.vjp(quadratic, 3.0)
    first, second = pullback(1.0)[0], pullback(1.0)[0]
    print("cell 4: pullback twice:", first, second, "| accumulated like .grad:", first + second)
    print()
    print(s2sgrad.source(simple))


if __name__ == "__main__":
    main()
