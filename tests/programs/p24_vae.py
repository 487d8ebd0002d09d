"""Tiny VAE: encoder/decoder MLPs, reparameterized sample, Bernoulli likelihood via expit/logaddexp."""
import numpy as np

def mlp(params, x, out_act=None):
    *hidden, (W_out, b_out) = params
    for W, b in hidden:
        x = np.tanh(x @ W + b)
    y = x @ W_out + b_out
    return out_act(y) if out_act is not None else y

def bernoulli_loglik(logits, data):
    return np.sum(data * logits - np.logaddexp(0, logits), axis=1)

def objective(enc_params, dec_params, data, latent_dim=2, seed=0):
    rs = np.random.RandomState(seed)
    out = mlp(enc_params, data)
    mu, log_std = out[:, :latent_dim], out[:, latent_dim:]
    z = mu + np.exp(log_std) * rs.randn(*mu.shape)
    logits = mlp(dec_params, z)
    kl = 0.5 * np.sum(np.exp(2 * log_std) + mu ** 2 - 1 - 2 * log_std, axis=1)
    return -np.mean(bernoulli_loglik(logits, data) - kl)

def init(sizes, rs):
    return [(0.3 * rs.randn(m, n), np.zeros(n)) for m, n in zip(sizes[:-1], sizes[1:])]

def ARGS():
    rs = np.random.RandomState(0)
    data = (rs.rand(6, 5) > 0.5).astype(float)
    return (init([5, 4, 4], rs), init([2, 4, 5], rs), data)

WRT = (0, 1)

if __name__ == "__main__":  # pragma: no cover
    print(f"-ELBO {objective(*ARGS()):.4f}")
