"""L2-regularized logistic regression with keyword-only regularization and errstate."""
import numpy as np
from scipy.special import expit

def log_sigmoid(z):
    return -np.logaddexp(0.0, -z)

def objective(weights, bias, X, y, *, l2=0.1, reduce="mean"):
    logits = X @ weights + bias
    with np.errstate(over="ignore"):
        ll = y * log_sigmoid(logits) + (1 - y) * log_sigmoid(-logits)
    if reduce == "mean":
        nll = -np.mean(ll)
    else:
        nll = -np.sum(ll)
    return nll + 0.5 * l2 * np.dot(weights, weights)

def accuracy(weights, bias, X, y):
    return np.mean((expit(X @ weights + bias) > 0.5) == y)

def ARGS():
    rs = np.random.RandomState(0)
    X = rs.randn(20, 3)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rs.randn(20) > 0).astype(float)
    return (rs.randn(3) * 0.1, 0.0, X, y)

WRT = (0, 1)

if __name__ == "__main__":  # pragma: no cover
    args = ARGS()
    print(f"nll={objective(*args):.4f} acc={accuracy(*args):.2f}")
