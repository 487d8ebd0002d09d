"""LSTM cell unrolled over a sequence; params as a namedtuple; expit gates."""
import numpy as np
from collections import namedtuple
from scipy.special import expit

LSTMParams = namedtuple("LSTMParams", ["W", "U", "b", "W_out"])

def lstm_cell(p, h, c, x):
    H = h.shape[0]
    z = x @ p.W + h @ p.U + p.b
    i, f, o, g = (z[k * H:(k + 1) * H] for k in range(4))
    c_new = expit(f) * c + expit(i) * np.tanh(g)
    h_new = expit(o) * np.tanh(c_new)
    return h_new, c_new

def objective(p, xs, target):
    H = p.U.shape[0]
    h, c = np.zeros(H), np.zeros(H)
    for t in range(len(xs)):
        h, c = lstm_cell(p, h, c, xs[t])
    pred = h @ p.W_out
    return 0.5 * np.sum((pred - target) ** 2)

def ARGS():
    rs = np.random.RandomState(2)
    D, H = 3, 4
    p = LSTMParams(0.3 * rs.randn(D, 4 * H), 0.3 * rs.randn(H, 4 * H), np.zeros(4 * H), rs.randn(H, 2))
    return (p, rs.randn(6, D), np.array([0.5, -0.5]))

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"lstm loss: {objective(*ARGS()):.4f}")
