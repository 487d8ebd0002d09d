"""A projectile with drag, stepped by a helper that returns the new state as a tuple,
passed on by another helper; the loss is the miss distance to a target."""
import numpy as np

G = 9.81


def accel(vx, vy, drag):
    speed = np.sqrt(vx ** 2 + vy ** 2)
    return -drag * speed * vx, -G - drag * speed * vy


def euler_step(state, dt, drag):
    x, y, vx, vy = state
    ax, ay = accel(vx, vy, drag)
    return x + dt * vx, y + dt * vy, vx + dt * ax, vy + dt * ay


def step(state, dt, drag=0.1):
    return euler_step(state, dt, drag)


def objective(launch, target=(10.0, 0.0), dt=0.01, n_steps=120):
    speed, angle = launch
    state = (0.0, 0.0, speed * np.cos(angle), speed * np.sin(angle))
    for _ in range(n_steps):
        state = step(state, dt)
    x, y, _, _ = state
    return (x - target[0]) ** 2 + (y - target[1]) ** 2


def ARGS():
    return (np.array([11.0, 0.8]),)


WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print("miss", objective(*ARGS()))
