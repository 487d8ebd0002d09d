"""HMM forward algorithm in log space with logsumexp; unconstrained logits -> log-probs."""
import numpy as np
from scipy.special import logsumexp

def normalize_logits(logits):
    return logits - logsumexp(logits, axis=-1, keepdims=True)

def hmm_log_likelihood(log_pi, log_A, log_B, observations):
    log_alpha = log_pi + log_B[:, observations[0]]
    for t in range(1, len(observations)):
        obs = observations[t]
        log_alpha = logsumexp(log_alpha[:, None] + log_A, axis=0) + log_B[:, obs]
    return logsumexp(log_alpha)

def objective(pi_logits, A_logits, B_logits, observations):
    log_pi = normalize_logits(pi_logits)
    log_A = normalize_logits(A_logits)
    log_B = normalize_logits(B_logits)
    return -hmm_log_likelihood(log_pi, log_A, log_B, observations)

def ARGS():
    rs = np.random.RandomState(3)
    K, V, T = 3, 4, 7
    return (rs.randn(K), rs.randn(K, K), rs.randn(K, V), rs.randint(0, V, size=T))

WRT = (0, 1, 2)

if __name__ == "__main__":  # pragma: no cover
    print(f"-log p(obs) = {objective(*ARGS()):.4f}")
