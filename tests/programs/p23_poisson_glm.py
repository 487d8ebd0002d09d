"""Poisson GLM for spike counts with a history filter, built with *args design components."""
import numpy as np
from scipy.special import gammaln

def design_matrix(*columns):
    return np.column_stack([np.asarray(c, dtype=float) for c in columns])

def history(counts, lags):
    return [np.concatenate([np.zeros(l), counts[:-l]]) for l in range(1, lags + 1)]

def objective(beta, stim, counts, lags=2, dt=0.1):
    X = design_matrix(np.ones(len(stim)), stim, *history(counts, lags))
    log_rate = X @ beta + np.log(dt)
    rate = np.exp(log_rate)
    ll = counts * log_rate - rate - gammaln(counts + 1)
    return -np.sum(ll)

def ARGS():
    rs = np.random.RandomState(3)
    stim = rs.randn(30)
    counts = rs.poisson(np.exp(1.0 + 0.5 * stim) * 0.1).astype(float)
    return (np.array([1.0, 0.3, -0.1, 0.05]), stim, counts)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"Poisson GLM nll = {objective(*ARGS()):.4f}")
