"""Fitting a line, the way a training script reads: a dataclass config, mini-batches drawn
with a Generator inside the loss, a running list of per-batch losses, f-string logging."""
import dataclasses
import logging

import numpy as np

log = logging.getLogger("fit")


@dataclasses.dataclass
class Config:
    batch: int = 4
    l2: float = 1e-2
    seed: int = 0


def batch_loss(w, b, X, y):
    pred = X @ w + b
    return np.mean((pred - y) ** 2)


def objective(params, X, y, config=Config()):
    w, b = params["w"], params["b"]
    rng = np.random.default_rng(config.seed)
    losses = []
    for _ in range(3):
        idx = rng.choice(len(y), size=config.batch, replace=False)
        losses.append(batch_loss(w, b, X[idx], y[idx]))
    log.debug(f"batch losses {losses}")
    return sum(losses) / len(losses) + config.l2 * np.sum(w ** 2)


def ARGS():
    rs = np.random.RandomState(2)
    X = rs.randn(10, 2)
    return ({"w": np.array([0.1, -0.2]), "b": 0.05}, X, X @ np.array([1.0, -2.0]) + 0.3)


WRT = 0
