"""Gaussian mixture log-likelihood with scipy.stats.norm.logpdf and logsumexp; components
kept as a list of dicts, responsibilities printed for the first point."""
import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm


def log_likelihood(components, x):
    logits = np.array([c["logit"] for c in components])
    log_w = logits - logsumexp(logits)
    per = np.stack([lw + norm.logpdf(x, loc=c["mu"], scale=np.exp(c["log_sigma"]))
                    for lw, c in zip(log_w, components)])
    resp = np.exp(per[:, 0] - logsumexp(per[:, 0]))
    print(f"responsibilities of x[0]: {np.round(resp, 3)}")
    return np.sum(logsumexp(per, axis=0))


def objective(components, x):
    return -log_likelihood(components, x) / len(x)


def ARGS():
    rs = np.random.RandomState(8)
    x = np.concatenate([rs.randn(6) - 1.5, 0.5 * rs.randn(5) + 2.0])
    return ([{"logit": 0.0, "mu": -1.0, "log_sigma": 0.0}, {"logit": 0.3, "mu": 1.5, "log_sigma": -0.5}], x)


WRT = 0
