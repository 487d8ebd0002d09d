"""A damped pendulum integrated with a while loop; the initial state a namedtuple, the loss
the distance to a target angle, an assert on the step."""
from collections import namedtuple

import numpy as np

State = namedtuple("State", ["theta", "omega"])


def step(theta, omega, dt, damping, gravity=9.81, length=1.0):
    alpha = -gravity / length * np.sin(theta) - damping * omega
    omega = omega + dt * alpha
    return theta + dt * omega, omega


def objective(controls, start, target=0.5, dt=0.05):
    assert dt > 0, "the step must be positive"
    theta, omega = start.theta, start.omega
    t, k = 0.0, 0
    while t < 1.0:
        damping = controls[k % len(controls)]
        theta, omega = step(theta, omega, dt, damping)
        t += dt
        k += 1
    return (theta - target) ** 2 + 0.01 * np.sum(controls ** 2)


def ARGS():
    return (np.array([0.3, 0.5, 0.2]), State(1.0, 0.0))


WRT = 0
