"""Model ensemble: list of (name, fn) predictors combined with softmax weights; sorted/max/min builtins."""
import numpy as np

PREDICTORS = [
    ("linear", lambda x, t: t[0] * x),
    ("quad", lambda x, t: t[1] * x ** 2),
    ("sine", lambda x, t: np.sin(t[2] * x)),
]

def combine(theta, x, weights):
    preds = [fn(x, theta) for _, fn in PREDICTORS]
    return sum(w * p for w, p in zip(weights, preds))

def objective(theta, mix_logits, x, y):
    e = np.exp(mix_logits - max(mix_logits))
    weights = e / np.sum(e)
    pred = combine(theta, x, weights)
    errs = (pred - y) ** 2
    worst = sorted(errs)[-3:]
    return np.mean(errs) + 0.1 * sum(worst) + 0.01 * min(abs(t) for t in theta)

def ARGS():
    rs = np.random.RandomState(13)
    x = np.linspace(-2, 2, 9)
    return (np.array([0.5, -0.2, 1.3]), np.array([0.1, -0.3, 0.2]), x, np.sin(1.1 * x) + 0.05 * rs.randn(9))

WRT = (0, 1)

if __name__ == "__main__":  # pragma: no cover
    print(f"ensemble loss {objective(*ARGS()):.4f}")
