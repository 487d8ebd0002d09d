"""1-D heat equation explicit simulation; optimize initial condition to match a target."""
import numpy as np

def laplacian(u, dx):
    left = np.roll(u, 1)
    right = np.roll(u, -1)
    return (left - 2 * u + right) / dx ** 2

def simulate(u0, alpha, dt, dx, num_steps):
    u = u0
    for step in range(num_steps):
        u = u + dt * alpha * laplacian(u, dx)
    return u

def objective(u0, target, alpha=0.1, num_steps=20):
    dx = 1.0 / len(u0)
    dt = 0.2 * dx ** 2 / alpha
    assert dt * alpha / dx ** 2 < 0.5, "unstable time step"
    u_final = simulate(u0, alpha, dt, dx, num_steps)
    return np.mean((u_final - target) ** 2)

def ARGS():
    x = np.linspace(0, 1, 16, endpoint=False)
    rs = np.random.RandomState(0)
    return (np.sin(2 * np.pi * x) + 0.1 * rs.randn(16), np.exp(-(x - 0.5) ** 2 / 0.02))

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"mismatch = {objective(*ARGS()):.5f}")
