"""Gray-Scott-like reaction-diffusion on a 1-D ring, params via keyword-only args and a config class."""
import numpy as np

class Config:
    def __init__(self, n=16, steps=25, dt=0.2):
        self.n, self.steps, self.dt = n, steps, dt

def diffuse(u, D):
    return D * (np.roll(u, 1) + np.roll(u, -1) - 2 * u)

def step(u, v, *, Du, Dv, feed, kill, dt):
    uvv = u * v * v
    u_new = u + dt * (diffuse(u, Du) - uvv + feed * (1 - u))
    v_new = v + dt * (diffuse(v, Dv) + uvv - (feed + kill) * v)
    return u_new, v_new

def objective(rates, cfg=Config()):
    feed, kill = rates[0], rates[1]
    x = np.arange(cfg.n)
    u = np.ones(cfg.n)
    v = np.where(np.abs(x - cfg.n // 2) < 3, 0.5, 0.0)
    for _ in range(cfg.steps):
        u, v = step(u, v, Du=0.2, Dv=0.1, feed=feed, kill=kill, dt=cfg.dt)
    pattern = np.clip(v, 0.0, None)
    return np.sum(pattern ** 2) / cfg.n

def ARGS():
    return (np.array([0.04, 0.06]),)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"pattern energy {objective(*ARGS()):.6f}")
