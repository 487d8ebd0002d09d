"""MLP with dropout controlled by a string mode argument; mask drawn from a seeded RandomState."""
import numpy as np

relu = lambda x: np.maximum(0.0, x)

def dropout(h, rate, rs, mode):
    if mode == "train":
        mask = (rs.rand(*h.shape) > rate) / (1.0 - rate)
        return h * mask
    return h

def forward(params, X, mode="train", rate=0.3, seed=0):
    rs = np.random.RandomState(seed)
    h = X
    for W, b in params[:-1]:
        h = dropout(relu(h @ W + b), rate, rs, mode)
    W, b = params[-1]
    return h @ W + b

def objective(params, X, y, mode="train"):
    out = forward(params, X, mode=mode)[:, 0]
    return np.mean((out - y) ** 2)

def ARGS():
    rs = np.random.RandomState(5)
    sizes = [2, 8, 8, 1]
    params = [(rs.randn(m, n) / np.sqrt(m), 0.1 * rs.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    X = rs.randn(10, 2)
    return (params, X, X[:, 0] * X[:, 1])

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    a = ARGS()
    print(f"train {objective(*a):.4f} eval {objective(*a, mode='eval'):.4f}")
