"""Gaussian mixture log-likelihood with unconstrained params (log-std, logits) in a dict; errstate."""
import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

def unpack(params):
    log_weights = params["logits"] - logsumexp(params["logits"])
    return log_weights, params["means"], np.exp(params["log_stds"])

def objective(params, data):
    log_w, means, stds = unpack(params)
    with np.errstate(divide="ignore", under="ignore"):
        comp = np.stack([norm.logpdf(data, m, s) for m, s in zip(means, stds)], axis=1)
    ll = logsumexp(comp + log_w, axis=1)
    assert ll.shape == data.shape
    return -np.sum(ll)

def ARGS():
    rs = np.random.RandomState(1)
    data = np.concatenate([rs.randn(10) - 2, 0.5 * rs.randn(10) + 1.5])
    return ({"logits": np.zeros(3), "means": np.array([-1.0, 0.0, 1.0]), "log_stds": np.zeros(3)}, data)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"GMM nll {objective(*ARGS()):.4f}")
