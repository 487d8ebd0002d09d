"""A critic with a gradient penalty (as in WGAN-GP): the penalty holds the gradient of the
critic with respect to its input, taken inside the loss that is itself differentiated."""
import numpy as np

import s2sgrad


def critic(x, W, v):
    return np.sum(np.tanh(x @ W) @ v)


def objective(W, v, real, fake, lam=10.0):
    eps = 0.3
    mixed = eps * real + (1 - eps) * fake
    g = s2sgrad.grad(critic)(mixed, W, v)          # d critic / d input
    norms = np.sqrt(np.sum(g ** 2, axis=1) + 1e-12)
    penalty = lam * np.mean((norms - 1.0) ** 2)
    return critic(fake, W, v) - critic(real, W, v) + penalty


def ARGS():
    rng = np.random.default_rng(11)
    return (0.5 * rng.standard_normal((3, 5)), 0.5 * rng.standard_normal(5),
            rng.standard_normal((4, 3)), rng.standard_normal((4, 3)) + 1.0)


WRT = (0, 1)

if __name__ == "__main__":  # pragma: no cover
    print("critic loss", objective(*ARGS()))
