"""Linear-Gaussian regression model as a class; differentiate the bound method MODEL.loss."""
import numpy as np

class RidgeModel:
    def __init__(self, X, y, alpha=0.5):
        self.X = X
        self.y = y
        self.alpha = alpha

    def predict(self, w):
        return self.X @ w

    def penalty(self, w):
        return self.alpha * np.sum(w ** 2)

    def loss(self, w):
        resid = self.predict(w) - self.y
        return 0.5 * np.mean(resid ** 2) + self.penalty(w)

rs = np.random.RandomState(0)
_X = rs.randn(12, 4)
MODEL = RidgeModel(_X, _X @ np.array([1.0, 0.0, -1.0, 2.0]) + 0.1 * rs.randn(12))

def objective(w):
    return MODEL.loss(w)

TARGET = MODEL.loss

def ARGS():
    return (np.array([0.5, 0.1, -0.3, 1.0]),)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"loss = {TARGET(*ARGS()):.4f}")
