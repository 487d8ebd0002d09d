"""Gaussian-process regression as a class: the negative log marginal likelihood as a method,
hyperparameters in a dict, a kernel chosen by name, a Cholesky solve."""
import numpy as np


class GaussianProcess:
    def __init__(self, X, y, kernel="rbf"):
        self.X, self.y, self.kernel = X, y, kernel

    def gram(self, params):
        sq = np.sum((self.X[:, None, :] - self.X[None, :, :]) ** 2, axis=-1)
        scale = np.exp(2 * params["log_amp"])
        if self.kernel == "rbf":
            return scale * np.exp(-0.5 * sq / np.exp(2 * params["log_len"]))
        raise ValueError(f"unknown kernel {self.kernel}")

    def nll(self, params):
        n = len(self.y)
        K = self.gram(params) + (np.exp(2 * params["log_noise"]) + 1e-8) * np.eye(n)
        L = np.linalg.cholesky(K)
        alpha = np.linalg.solve(K, self.y)
        return 0.5 * self.y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * n * np.log(2 * np.pi)


_rs = np.random.RandomState(4)
_X = _rs.uniform(-2, 2, size=(7, 1))
MODEL = GaussianProcess(_X, np.sin(2 * _X[:, 0]) + 0.1 * _rs.randn(7))
TARGET = MODEL.nll


def objective(params):
    return MODEL.nll(params)


def ARGS():
    return ({"log_amp": 0.1, "log_len": -0.3, "log_noise": -1.5},)


WRT = 0
