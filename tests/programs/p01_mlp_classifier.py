"""MLP classifier, params as list of (W, b) tuples, tanh nonlinearity passed as argument."""
import numpy as np
from scipy.special import logsumexp

def init_params(layer_sizes, scale=0.1, rs=np.random.RandomState(0)):
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]

def predict(params, inputs, nonlinearity=np.tanh):
    for W, b in params[:-1]:
        inputs = nonlinearity(inputs @ W + b)
    W, b = params[-1]
    logits = inputs @ W + b
    return logits - logsumexp(logits, axis=1, keepdims=True)

def l2_norm(params):
    return sum(np.sum(W ** 2) + np.sum(b ** 2) for W, b in params)

def objective(params, inputs, targets, l2=0.01):
    log_prior = -l2 * l2_norm(params)
    log_lik = np.sum(predict(params, inputs) * targets)
    return -(log_prior + log_lik) / len(inputs)

def ARGS():
    rs = np.random.RandomState(1)
    X = rs.randn(8, 3)
    y = np.eye(4)[rs.randint(0, 4, size=8)]
    return (init_params([3, 5, 4]), X, y)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"loss = {objective(*ARGS()):.4f}")
