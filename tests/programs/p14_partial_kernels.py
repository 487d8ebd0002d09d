"""Kernel ridge regression with kernels configured via functools.partial, passed as args."""
import numpy as np
from functools import partial

def rbf(x, y, lengthscale=1.0):
    return np.exp(-0.5 * np.sum((x - y) ** 2) / lengthscale ** 2)

def poly(x, y, degree=2, c=1.0):
    return (np.dot(x, y) + c) ** degree

def gram(kernel, X, Z):
    return np.array([[kernel(x, z) for z in Z] for x in X])

def objective(coeffs, X, y, kernels):
    K = sum(w * gram(k, X, X) for w, k in zip(coeffs, kernels))
    K = K + 0.1 * np.eye(len(X))
    alpha = np.linalg.solve(K, y)
    return np.dot(y, alpha) + np.sum(np.log(np.abs(np.linalg.eigvalsh(K))))

KERNELS = [partial(rbf, lengthscale=0.7), partial(poly, degree=2), lambda a, b: np.dot(a, b)]

def ARGS():
    rs = np.random.RandomState(4)
    X = rs.randn(5, 2)
    return (np.array([1.0, 0.2, 0.5]), X, rs.randn(5), KERNELS)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"objective: {objective(*ARGS()):.4f}")
