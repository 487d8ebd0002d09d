"""MLP with batch normalization; running stats used when mode == 'eval'. Keyword-only mode."""
import numpy as np

def batchnorm(h, gamma, beta, *, mode, running=None, eps=1e-5):
    if mode == "train":
        mu, var = h.mean(axis=0), h.var(axis=0)
    elif mode == "eval":
        mu, var = running
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return gamma * (h - mu) / np.sqrt(var + eps) + beta

def objective(params, X, y, *, mode="train"):
    h = X
    for layer in params["hidden"]:
        h = h @ layer["W"]
        h = batchnorm(h, layer["gamma"], layer["beta"], mode=mode,
                      running=(np.zeros(h.shape[1]), np.ones(h.shape[1])))
        h = np.maximum(h, 0.01 * h)
    out = h @ params["W_out"]
    return np.mean((out[:, 0] - y) ** 2)

def ARGS():
    rs = np.random.RandomState(9)
    hidden = [{"W": rs.randn(3, 5), "gamma": np.ones(5), "beta": np.zeros(5)},
              {"W": rs.randn(5, 4) / 2, "gamma": 1 + 0.1 * rs.randn(4), "beta": 0.1 * rs.randn(4)}]
    X = rs.randn(8, 3)
    return ({"hidden": hidden, "W_out": rs.randn(4, 1)}, X, np.sin(X[:, 0]))

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    args = ARGS()
    print(f"train {objective(*args):.4f}, eval {objective(*args, mode='eval'):.4f}")
