"""Linear feedback policy rolled out on a cart-pole-like linear system; quadratic cost."""
import numpy as np
from collections import namedtuple

System = namedtuple("System", "A B Q R")

def make_system(dt=0.1):
    A = np.array([[1.0, dt], [0.0, 1.0]])
    B = np.array([[0.0], [dt]])
    return System(A, B, np.diag([1.0, 0.1]), 0.01 * np.eye(1))

def rollout_cost(K, sys, x0, horizon):
    x, cost = x0, 0.0
    for t in range(horizon):
        u = -K @ x
        cost = cost + x @ sys.Q @ x + u @ sys.R @ u
        x = sys.A @ x + sys.B @ u
    return cost + 10.0 * x @ sys.Q @ x

def objective(K, x0s, horizon=20):
    sys = make_system()
    costs = [rollout_cost(K, sys, x0, horizon) for x0 in x0s]
    return np.mean(costs)

def ARGS():
    rs = np.random.RandomState(0)
    return (np.array([[1.0, 1.5]]), [rs.randn(2) for _ in range(3)])

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"LQR cost {objective(*ARGS()):.4f}")
