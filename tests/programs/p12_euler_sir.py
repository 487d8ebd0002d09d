"""SIR epidemic model integrated with forward Euler; params as dataclass."""
import numpy as np
from dataclasses import dataclass

@dataclass
class SIRParams:
    log_beta: float
    log_gamma: float

def sir_rhs(s, i, r, beta, gamma):
    new_inf = beta * s * i
    recov = gamma * i
    return -new_inf, new_inf - recov, recov

def objective(p, observed_infected, dt=0.1, steps_per_obs=5):
    beta, gamma = np.exp(p.log_beta), np.exp(p.log_gamma)
    s, i, r = 0.99, 0.01, 0.0
    preds = []
    for _ in range(len(observed_infected)):
        for _ in range(steps_per_obs):
            ds, di, dr = sir_rhs(s, i, r, beta, gamma)
            s, i, r = s + dt * ds, i + dt * di, r + dt * dr
        preds.append(i)
    preds = np.array(preds)
    return np.sum((np.log(preds) - np.log(observed_infected)) ** 2)

def ARGS():
    t = np.arange(1, 9) * 0.5
    obs = 0.01 * np.exp(0.8 * t) / (1 + 0.01 * (np.exp(0.8 * t) - 1))
    return (SIRParams(log_beta=np.log(1.2), log_gamma=np.log(0.3)), obs)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"SIR fit loss: {objective(*ARGS()):.4f}")
