"""1-D convolutional filter learned by loops over positions (valid conv) + max pooling."""
import numpy as np

def conv1d(signal, kernel, bias):
    k = len(kernel)
    return np.array([np.dot(signal[t:t + k], kernel) + bias for t in range(len(signal) - k + 1)])

def max_pool(x, width=2):
    n = len(x) // width
    return np.array([np.max(x[i * width:(i + 1) * width]) for i in range(n)])

def objective(kernel, bias, signals, targets):
    losses = []
    for idx, (sig, tgt) in enumerate(zip(signals, targets)):
        feat = max_pool(np.tanh(conv1d(sig, kernel, bias)))
        losses.append(np.mean((feat - tgt) ** 2))
    return sum(losses) / len(losses)

def ARGS():
    rs = np.random.RandomState(2)
    signals = [rs.randn(10) for _ in range(3)]
    targets = [rs.randn(4) * 0.5 for _ in range(3)]
    return (rs.randn(3) * 0.5, 0.1, signals, targets)

WRT = (0, 1)

if __name__ == "__main__":  # pragma: no cover
    print(f"conv loss {objective(*ARGS()):.4f}")
