"""Gaussian process log marginal likelihood with RBF kernel; hyperparams as a dict."""
import numpy as np

def rbf_kernel(x, xp, params):
    lengthscale = np.exp(params["log_lengthscale"])
    output_var = np.exp(params["log_output_var"])
    diffs = (x[:, None, :] - xp[None, :, :]) / lengthscale
    return output_var * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))

def objective(params, X, y):
    noise_var = np.exp(params["log_noise"]) + 1e-6
    K = rbf_kernel(X, X, params) + noise_var * np.eye(len(X))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(K, y - params["mean"])
    log_det = 2.0 * np.sum(np.log(np.diag(L)))
    n = y.shape[0]
    return -0.5 * np.dot(y - params["mean"], alpha) - 0.5 * log_det - 0.5 * n * np.log(2 * np.pi)

def ARGS():
    rs = np.random.RandomState(0)
    X = rs.randn(6, 2)
    y = np.sin(X[:, 0]) + 0.1 * rs.randn(6)
    params = {"log_lengthscale": np.array([0.1, -0.2]), "log_output_var": 0.3,
              "log_noise": -1.0, "mean": 0.05}
    return (params, X, y)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"log marginal likelihood: {objective(*ARGS()):.4f}")
