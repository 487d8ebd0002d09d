"""GRU over one-hot character sequence with cross-entropy next-char loss; params list of arrays."""
import numpy as np
from scipy.special import expit, logsumexp

def gru_step(params, h, x):
    Wz, Wr, Wh, Uz, Ur, Uh, Wy = params
    z = expit(x @ Wz + h @ Uz)
    r = expit(x @ Wr + h @ Ur)
    h_tilde = np.tanh(x @ Wh + (r * h) @ Uh)
    return (1 - z) * h + z * h_tilde

def string_to_onehot(s, vocab):
    return np.array([[1.0 if c == v else 0.0 for v in vocab] for c in s])

def objective(params, text, vocab="abcd"):
    X = string_to_onehot(text, vocab)
    h = np.zeros(params[3].shape[0])
    loss = 0.0
    for t in range(len(text) - 1):
        h = gru_step(params, h, X[t])
        logits = h @ params[-1]
        loss -= logits[vocab.index(text[t + 1])] - logsumexp(logits)
    return loss / (len(text) - 1)

def ARGS():
    rs = np.random.RandomState(6)
    V, H = 4, 5
    params = [0.4 * rs.randn(V, H) for _ in range(3)] + [0.4 * rs.randn(H, H) for _ in range(3)] + [rs.randn(H, V)]
    return (params, "abcadbca")

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"char-level nll: {objective(*ARGS()):.4f}")
