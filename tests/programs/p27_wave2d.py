"""2-D wave equation leapfrog on a meshgrid; differentiate w.r.t. wave speed and initial pulse amplitude."""
import numpy as np

def laplace2d(u):
    return (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u)

def objective(c, amp, n=10, steps=15, probe=(2, 7)):
    xs = np.linspace(0, 1, n)
    XX, YY = np.meshgrid(xs, xs, indexing="ij")
    u_prev = amp * np.exp(-((XX - 0.5) ** 2 + (YY - 0.5) ** 2) / 0.02)
    u = u_prev.copy()
    courant = (c * 0.3) ** 2
    signal = []
    for step in range(steps):
        u_next = 2 * u - u_prev + courant * laplace2d(u)
        u_prev, u = u, u_next
        signal.append(u[probe])
    energy = sum(s ** 2 for s in signal)
    return energy / steps

def ARGS():
    return (1.2, 0.8)

WRT = (0, 1)

if __name__ == "__main__":  # pragma: no cover
    print(f"probe energy {objective(*ARGS()):.6f}")
