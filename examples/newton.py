"""Newton's method with s2sgrad's gradient and Hessian: the Rosenbrock valley in 2-D.

    python examples/newton.py
"""
import numpy as np

import s2sgrad


def rosenbrock(x):
    return (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2


def newton(f, x, steps=20, tol=1e-12):
    """Minimize f from x by Newton steps: x <- x - H(x)^-1 g(x)."""
    grad, hessian = s2sgrad.grad(f), s2sgrad.hessian(f)
    for step in range(steps):
        g = grad(x)
        if np.linalg.norm(g) < tol:
            break
        x = x - np.linalg.solve(hessian(x), g)
    return x, step


if __name__ == "__main__":
    x, steps = newton(rosenbrock, np.array([-1.2, 1.0]))
    print(f"minimum at {x} after {steps} Newton steps")
    print(s2sgrad.source(rosenbrock))
