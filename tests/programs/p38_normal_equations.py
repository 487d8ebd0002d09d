"""Least squares as a textbook writes it: column vectors, r.T @ r a 1x1 matrix."""
import numpy as np


def design(x, degree):
    return np.stack([x ** k for k in range(degree + 1)], axis=1)


def objective(w, x, y, lam=1e-2):
    A = design(x, len(w) - 1)
    r = A @ w.reshape(-1, 1) - y.reshape(-1, 1)
    penalty = lam * w.reshape(1, -1) @ w.reshape(-1, 1)
    loss = (r.T @ r) / len(x) + penalty
    return loss                     # shape (1, 1)


def ARGS():
    rng = np.random.default_rng(3)
    x = np.linspace(-1, 1, 15)
    y = 0.5 - x + 2 * x ** 3 + 0.05 * rng.standard_normal(15)
    return np.zeros(4) + 0.1, x, y


WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print("loss", objective(*ARGS()).item())
