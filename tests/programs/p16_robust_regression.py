"""Robust regression with Student-t likelihood; try/except fallback on degrees of freedom."""
import numpy as np
from scipy.special import gammaln

def student_t_logpdf(x, df, loc, scale):
    z = (x - loc) / scale
    return (gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * np.log(df * np.pi)
            - np.log(scale) - (df + 1) / 2 * np.log1p(z ** 2 / df))

def get_df(config):
    try:
        df = float(config["df"])
    except KeyError:
        df = 4.0
    return df

def objective(theta, X, y, config):
    slope, intercept, log_scale = theta[:-2], theta[-2], theta[-1]
    df = get_df(config)
    preds = X @ slope + intercept
    return -np.sum(student_t_logpdf(y, df, preds, np.exp(log_scale)))

def ARGS():
    rs = np.random.RandomState(7)
    X = rs.randn(15, 2)
    y = X @ np.array([1.5, -0.5]) + 0.3 + 0.2 * rs.standard_t(3, size=15)
    y[3] += 5.0
    return (np.array([1.0, 0.0, 0.1, -1.0]), X, y, {"nu": 3})

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"t-regression nll: {objective(*ARGS()):.4f}")
