"""Bayesian neural net with mean-field Gaussian posterior, flattened parameter vector."""
import numpy as np
from scipy.stats import norm

def shapes_and_num(layer_sizes):
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    return shapes, sum((m + 1) * n for m, n in shapes)

def unpack_layers(weights, shapes):
    idx = 0
    for m, n in shapes:
        W = weights[idx:idx + m * n].reshape(m, n)
        idx += m * n
        b = weights[idx:idx + n]
        idx += n
        yield W, b

def predictions(weights, inputs, shapes, nonlinearity=lambda x: np.maximum(x, 0.0)):
    for W, b in unpack_layers(weights, shapes):
        outputs = inputs @ W + b
        inputs = nonlinearity(outputs)
    return outputs

def objective(var_params, X, y, layer_sizes=(1, 4, 1), noise=0.1, seed=0):
    rs = np.random.RandomState(seed)
    shapes, N = shapes_and_num(layer_sizes)
    mean, log_std = var_params[:N], var_params[N:]
    w = mean + np.exp(log_std) * rs.randn(N)
    log_prior = np.sum(norm.logpdf(w, 0, 1))
    preds = predictions(w, X, shapes)[:, 0]
    log_lik = np.sum(norm.logpdf(y, preds, noise))
    entropy = np.sum(log_std)
    return -(log_prior + log_lik + entropy)

def ARGS():
    rs = np.random.RandomState(1)
    X = np.linspace(-2, 2, 8)[:, None]
    y = np.cos(X[:, 0]) + 0.1 * rs.randn(8)
    N = shapes_and_num((1, 4, 1))[1]
    return (np.concatenate([0.5 * rs.randn(N), -2 * np.ones(N)]), X, y)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"-ELBO estimate = {objective(*ARGS()):.3f}")
