"""Damped oscillator integrated with RK4; fit physical params (k, c) to observed trajectory."""
import numpy as np

def dynamics(state, t, k, c):
    x, v = state[0], state[1]
    return np.array([v, -k * x - c * v])

def rk4_step(f, y, t, dt, *args):
    k1 = f(y, t, *args)
    k2 = f(y + 0.5 * dt * k1, t + 0.5 * dt, *args)
    k3 = f(y + 0.5 * dt * k2, t + 0.5 * dt, *args)
    k4 = f(y + dt * k3, t + dt, *args)
    return y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

def integrate(f, y0, ts, *args):
    ys = [y0]
    for t0, t1 in zip(ts[:-1], ts[1:]):
        ys.append(rk4_step(f, ys[-1], t0, t1 - t0, *args))
    return np.stack(ys)

def objective(phys, y0, ts, observed):
    k, c = phys
    traj = integrate(dynamics, y0, ts, k, c)
    return np.sum((traj[:, 0] - observed) ** 2)

def ARGS():
    ts = np.linspace(0, 3, 16)
    observed = np.exp(-0.2 * ts) * np.cos(1.5 * ts)
    return (np.array([2.0, 0.3]), np.array([1.0, 0.0]), ts, observed)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"trajectory error {objective(*ARGS()):.5f}")
