"""Black-box VI with the reparameterization trick; RandomState seeded inside the objective."""
import numpy as np
from scipy.stats import norm

def log_density(z):
    mu, log_sigma = z[:, 0], z[:, 1]
    sigma_density = norm.logpdf(log_sigma, 0, 1.35)
    mu_density = norm.logpdf(mu, 0, np.exp(log_sigma))
    return sigma_density + mu_density

def gaussian_entropy(log_std):
    D = len(log_std)
    return 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)

def unpack_params(params, D=2):
    return params[:D], params[D:]

def objective(params, num_samples=20, seed=0):
    rs = np.random.RandomState(seed)
    mean, log_std = unpack_params(params)
    samples = rs.randn(num_samples, len(mean)) * np.exp(log_std) + mean
    lower_bound = gaussian_entropy(log_std) + np.mean(log_density(samples))
    return -lower_bound

def ARGS():
    return (np.array([-1.0, -1.0, -5.0 + 4.0, -2.0]),)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"negative ELBO = {objective(*ARGS()):.4f}")
