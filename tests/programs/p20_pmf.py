"""Probabilistic matrix factorization on observed entries, (U, V) tuple of factor matrices."""
import numpy as np

def predict_entry(U, V, i, j):
    return np.dot(U[i], V[j])

def objective(factors, ratings, lam=0.05):
    U, V = factors
    sq_err = sum((r - predict_entry(U, V, i, j)) ** 2 for (i, j, r) in ratings)
    reg = lam * (np.sum(U ** 2) + np.sum(V ** 2))
    return sq_err / len(ratings) + reg

def ARGS():
    rs = np.random.RandomState(0)
    n_users, n_items, k = 5, 4, 2
    ratings = [(int(i), int(j), float(rs.randint(1, 6))) for i, j in
               zip(rs.randint(0, n_users, 10), rs.randint(0, n_items, 10))]
    return ((0.5 * rs.randn(n_users, k), 0.5 * rs.randn(n_items, k)), ratings)

WRT = 0

if __name__ == "__main__":  # pragma: no cover
    print(f"PMF loss {objective(*ARGS()):.4f}")
