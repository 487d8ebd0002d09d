"""Single-head self-attention layer + mean-pool regression head; params in a dict."""
import numpy as np
from scipy.special import softmax

def attention(params, X, causal=False):
    Q, K, V = (X @ params[name] for name in ("Wq", "Wk", "Wv"))
    scores = Q @ K.T / np.sqrt(Q.shape[-1])
    if causal:
        T = X.shape[0]
        scores = np.where(np.tril(np.ones((T, T))) > 0, scores, -1e9)
    return softmax(scores, axis=-1) @ V

def layer_norm(h, eps=1e-5):
    mu = h.mean(axis=-1, keepdims=True)
    var = h.var(axis=-1, keepdims=True)
    return (h - mu) / np.sqrt(var + eps)

def objective(params, X, target, causal=True):
    h = layer_norm(X + attention(params, X, causal=causal))
    pooled = h.mean(axis=0)
    return np.sum((pooled @ params["Wo"] - target) ** 2)

def ARGS():
    rs = np.random.RandomState(8)
    d = 4
    params = {k: 0.5 * rs.randn(d, d) for k in ("Wq", "Wk", "Wv")}
    params["Wo"] = rs.randn(d, 2)
    return (params, rs.randn(5, d), np.array([1.0, -1.0]))

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"attn loss {objective(*ARGS()):.4f}")
