"""Realistic models, written as a user would: each one's gradient is checked against
finite differences in tests/test_models.py."""
import numpy as np


def mlp_softmax_cross_entropy(W1, b1, W2, b2, x, labels):
    """A 2-layer MLP with a softmax cross-entropy loss (labels as integer classes)."""
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    picked = np.take_along_axis(log_probs, labels[:, None], axis=1)
    return -np.mean(picked)


def gaussian_nll(mu, L, X):
    """Negative log-likelihood of rows of X under N(mu, S), S = L L^T + I (slogdet, solve)."""
    S = L @ L.T + np.eye(L.shape[0])
    sign, logdet = np.linalg.slogdet(S)
    centred = X - mu
    solved = np.linalg.solve(S, centred.T)
    n, d = X.shape
    return 0.5 * (np.sum(centred.T * solved) + n * logdet + n * d * np.log(2.0 * np.pi))


def logistic_l2(w, b, X, y, lam):
    """Logistic regression with L2 regularisation (y in {0, 1})."""
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    return loss + lam * np.sum(w ** 2)


def attention(Q, K, V):
    """Scaled dot-product attention pooled to a scalar (einsum, softmax, std)."""
    scores = np.einsum("id,jd->ij", Q, K) / np.sqrt(Q.shape[1])
    weights = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    out = weights @ V
    return np.sum(out ** 2) + np.std(out)
