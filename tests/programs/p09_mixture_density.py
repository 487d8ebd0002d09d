"""Mixture density network: MLP outputs mixture weights, means and log-stds of a 1-D GMM."""
import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

def mlp(params, x):
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = np.tanh(h)
    return h

def split_outputs(out, K):
    logits, means, log_stds = out[:, :K], out[:, K:2 * K], out[:, 2 * K:]
    log_weights = logits - logsumexp(logits, axis=1, keepdims=True)
    return log_weights, means, log_stds

def objective(params, x, y, K=3):
    log_w, mu, log_s = split_outputs(mlp(params, x), K)
    comp_ll = norm.logpdf(y[:, None], mu, np.exp(log_s))
    return -np.mean(logsumexp(log_w + comp_ll, axis=1))

def ARGS():
    rs = np.random.RandomState(0)
    sizes = [1, 6, 9]
    params = [(0.5 * rs.randn(m, n), 0.1 * rs.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    x = rs.uniform(-1, 1, size=(10, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rs.randn(10)
    return (params, x, y)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"MDN nll = {objective(*ARGS()):.4f}")
