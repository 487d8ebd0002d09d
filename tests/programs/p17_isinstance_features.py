"""Feature-map regression where inputs may be scalars or arrays (isinstance dispatch)."""
import numpy as np

def featurize(x, degree):
    if isinstance(x, (int, float)):
        x = np.array([x], dtype=float)
    return np.stack([x ** d for d in range(int(degree) + 1)], axis=-1)

def objective(w, xs, ys, degree=3.0):
    total = 0.0
    count = 0
    for x, y in zip(xs, ys):
        phi = featurize(x, degree)
        pred = phi @ w
        total = total + np.sum((pred - y) ** 2)
        count += np.size(y)
    return total / count

def ARGS():
    rs = np.random.RandomState(0)
    xs = [0.5, np.array([0.1, -0.3, 0.8]), 2, np.linspace(-1, 1, 4)]
    ys = [np.sin(np.asarray(x, dtype=float)) for x in xs]
    return (0.1 * rs.randn(4), xs, ys)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"poly fit mse {objective(*ARGS()):.5f}")
