"""Vanilla RNN over a sequence; params in a dict; sum of per-step losses via generator."""
import numpy as np

def rnn_step(params, h, x, nonlinearity=np.tanh):
    return nonlinearity(h @ params["W_hh"] + x @ params["W_xh"] + params["b_h"])

def readout(params, h):
    return h @ params["W_hy"] + params["b_y"]

def run_rnn(params, inputs):
    h = np.zeros(params["W_hh"].shape[0])
    hiddens = []
    for x in inputs:
        h = rnn_step(params, h, x)
        hiddens.append(h)
    return hiddens

def objective(params, inputs, targets):
    hiddens = run_rnn(params, inputs)
    return sum(np.sum((readout(params, h) - y) ** 2) for h, y in zip(hiddens, targets)) / len(targets)

def ARGS():
    rs = np.random.RandomState(0)
    H, D, O, T = 4, 3, 2, 5
    params = {"W_hh": 0.3 * rs.randn(H, H), "W_xh": 0.3 * rs.randn(D, H), "b_h": np.zeros(H),
              "W_hy": 0.3 * rs.randn(H, O), "b_y": 0.1 * rs.randn(O)}
    return (params, rs.randn(T, D), rs.randn(T, O))

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"rnn loss {objective(*ARGS()):.4f}")
