"""More user functions, written the way people write numerical Python: small
numerical algorithms, physics, ML losses and signal processing.

Each entry of MORE is (function, argument factory, wrt): tests/test_more.py
compares s2sgrad's vjp with finite differences. Functions s2sgrad refuses with
a located error are kept in KNOWN_LIMITS (the tests check that they are refused).
Argument values are chosen away from kinks, ties and branch boundaries.
"""
import math

import numpy as np

SQRT_2PI = math.sqrt(2.0 * math.pi)
TWO_PI = 2.0 * math.pi
GRAVITY = 9.81


# -- helpers, called from the functions below --------------------------------------

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def logsumexp(v):
    m = np.max(v)
    return m + np.log(np.sum(np.exp(v - m)))


def safe_log(t, floor=1e-3):
    if t < floor:
        return math.log(floor)
    return math.log(t)


def soft_threshold(t, lam=0.5):
    if t > lam:
        return t - lam
    elif t < -lam:
        return t + lam
    return 0.0 * t


def spring_derivs(x, v, k, c=0.1):
    return v, -k * x - c * v


def dist(p, q):
    d = p - q
    return np.sqrt(np.sum(d * d))


def mean_and_var(v, axis=-1):
    mu = np.mean(v, axis=axis, keepdims=True)
    var = np.mean((v - mu) ** 2, axis=axis, keepdims=True)
    return mu, var


# -- arithmetic chains and broadcasting ---------------------------------------------

def layer_norm(x, gamma, beta):
    mu, var = mean_and_var(x)
    y = (x - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(y ** 3) * 0.1 + np.sum(y * x)


def scaled_dot_attention(q, k, v):
    d = q.shape[1]
    scores = q @ k.T / math.sqrt(d)
    scores = scores - scores.max(axis=1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=1, keepdims=True)
    out = w @ v
    return float(np.sum(out ** 2))


def gaussian_log_likelihood(x, mu, log_sigma):
    sigma = np.exp(log_sigma)
    z = (x[:, None] - mu[None, :]) / sigma
    return np.sum(-0.5 * z ** 2 - log_sigma - math.log(SQRT_2PI))


def matrix_chain(A, B, c):
    M = A @ B
    G = M.T @ M
    v = np.dot(G, c)
    r = A.reshape(2, 6).T @ c
    return np.sum(v ** 2) + r.dot(r) * 0.1 + np.matmul(c, G).mean()


def coulomb_energy(pos, charges):
    diff = pos[:, None, :] - pos[None, :, :]
    r2 = np.sum(diff ** 2, axis=-1) + 1.0
    qq = charges[:, None] * charges[None, :]
    return 0.5 * np.sum(qq / np.sqrt(r2))


def min_max_scale(x):
    lo = x.min()
    hi = x.max()
    s = (x - lo) / (hi - lo)
    return np.sum(np.sin(3.0 * s) * x)


def modular_phase(t, freq):
    angle = freq * t
    phase = angle % TWO_PI
    turns = angle // TWO_PI
    return np.sum(np.cos(phase) * t + turns * phase)


def poisson_regression(w, X, counts):
    log_rate = X @ w
    return np.sum(np.exp(log_rate) - counts * log_rate) / counts.shape[0]


def focal_loss(logits, targets, gamma=2.0):
    p = sigmoid(logits)
    pt = targets * p + (1.0 - targets) * (1.0 - p)
    return -np.mean((1.0 - pt) ** gamma * np.log(pt))


def relu_mask_loss(x, w):
    h = x @ w
    mask = (h > 0.0).astype(float)
    return np.sum(mask * h ** 2) + np.sum(np.maximum(h, 0.0)) * 0.5


def quadratic_form(A, x):
    return x.dot(A.T.dot(x)) + np.dot(x, A @ x) * 0.5 + x @ A.T @ x


def covariance_trace(X):
    Xc = X - X.mean(axis=0)
    C = Xc.T @ Xc / (X.shape[0] - 1)
    diag_sum = 0.0
    for i in range(C.shape[0]):
        diag_sum += C[i, i]
    return diag_sum + np.sum(C ** 2) * 0.1 + np.max(np.abs(C), axis=1).sum()


def tan_warp(x):
    return np.sum(np.tan(0.5 * x) / (1.0 + x ** 2)) + np.min(np.minimum(x, 0.3 * x ** 2))


# -- branches, conditional expressions, boolean logic, returns ----------------------

def huber_loss(pred, target, delta):
    total = 0.0
    for p, t in zip(pred, target):
        r = p - t
        if abs(r) <= delta:
            total += 0.5 * r * r
        else:
            total += delta * (abs(r) - 0.5 * delta)
    return total / len(pred)


def clip_by_norm(g, max_norm):
    norm = np.sqrt(np.sum(g * g))
    if norm > max_norm:
        g = g * (max_norm / norm)
    return np.sum(g * np.cos(g))


def elastic_net_prox(w, lam):
    out = np.zeros(w.shape[0])
    for i in range(w.shape[0]):
        out[i] = soft_threshold(w[i], lam=lam)
    return np.sum(out ** 2) + lam * np.sum(np.abs(w))


def activation_zoo(x, kind):
    if kind == 0:
        y = np.maximum(x, 0.0)
    elif kind == 1:
        y = np.tanh(x)
    elif kind == 2 or kind == 3:
        y = x * sigmoid(x) if kind == 2 else np.log(1.0 + np.exp(x))
    else:
        y = x
    return np.sum(y ** 2)


def classify_margin(x, w):
    score = np.dot(x, w)
    if score > 2.0:
        return score - 1.0
    if score < -2.0:
        return -score * 0.5
    return math.tanh(score) + 0.25 * score ** 2


def piecewise_friction(v, mu_s, mu_k):
    speed = abs(v)
    stuck = speed < 0.1 and mu_s > mu_k
    moving = not stuck
    if moving and (v > 0 or mu_k > 1.0):
        return mu_k * v ** 2
    elif moving:
        return -mu_k * v ** 2 + mu_s
    return mu_s * v


def bounded_growth(x, cap):
    y = x * 3.0 if x < cap else cap + 0.1 * x
    z = y if y > 1.0 else y ** 2
    return y * z + (x if not x > 2.0 else -x)


def helper_in_branches(x, y):
    if x > y:
        r = safe_log(x - y) + soft_threshold(y, lam=0.2)
    else:
        r = safe_log(y - x, floor=0.5)
    for i in range(3):
        r += safe_log(x * i)
    return r


# -- loops over ranges with data-dependent bounds -----------------------------------

def trapezoid_sine(a, b, n):
    h = (b - a) / n
    total = 0.5 * (math.sin(a) + math.sin(b))
    for k in range(1, n):
        total += math.sin(a + k * h)
    return total * h


def simpson_gaussian(mu, sigma, n):
    def pdf(t):
        z = (t - mu) / sigma
        return math.exp(-0.5 * z * z) / (sigma * SQRT_2PI)
    h = 2.0 / n
    total = pdf(0.0) + pdf(2.0)
    for k in range(1, n):
        weight = 4.0 if k % 2 == 1 else 2.0
        total += weight * pdf(k * h)
    return total * h / 3.0


def pendulum_euler(theta, omega, dt, steps):
    for _ in range(steps):
        alpha = -GRAVITY * math.sin(theta)
        omega = omega + dt * alpha
        theta = theta + dt * omega
    return 0.5 * omega ** 2 + GRAVITY * (1.0 - math.cos(theta))


def leapfrog_orbit(q, p, dt):
    def accel(r):
        return -r / np.sum(r * r) ** 1.5
    a = accel(q)
    for step in range(25):
        p = p + 0.5 * dt * a
        q = q + dt * p
        a = accel(q)
        p = p + 0.5 * dt * a
    return 0.5 * np.sum(p * p) - 1.0 / np.sqrt(np.sum(q * q))


def damped_oscillator_rk4(k, c, x0, v0):
    dt = 0.05
    x, v = x0, v0
    for i in range(40):
        k1x, k1v = spring_derivs(x, v, k, c=c)
        k2x, k2v = spring_derivs(x + 0.5 * dt * k1x, v + 0.5 * dt * k1v, k, c=c)
        k3x, k3v = spring_derivs(x + 0.5 * dt * k2x, v + 0.5 * dt * k2v, k, c=c)
        k4x, k4v = spring_derivs(x + dt * k3x, v + dt * k3v, k, c)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return x * x + v * v


def heat_equation(u0, alpha, steps):
    u = u0.copy()
    for t in range(steps):
        new = u.copy()
        new[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u = new
    return np.sum(u ** 2)


def moving_average(x, width):
    n = x.shape[0] - width + 1
    out = np.zeros(n)
    for i in range(n):
        out[i] = np.mean(x[i:i + width])
    return np.sum(out ** 2)


def fir_filter(signal, taps):
    n = signal.shape[0]
    y = np.zeros(n)
    for i in range(n):
        for k in range(taps.shape[0]):
            if i - k < 0:
                break
            y[i] += taps[k] * signal[i - k]
    return np.sum(y ** 2)


def iir_lowpass(x, alpha):
    y = np.zeros(x.shape[0])
    y[0] = x[0]
    for i in range(1, x.shape[0]):
        y[i] = alpha * x[i] + (1.0 - alpha) * y[i - 1]
    return np.sum((y - x) ** 2)


def dft_power(x, k_max):
    n = x.shape[0]
    t = np.zeros(n)
    for j in range(n):
        t[j] = j
    power = 0.0
    for k in range(1, k_max + 1):
        re = np.sum(x * np.cos(TWO_PI * k * t / n))
        im = -np.sum(x * np.sin(TWO_PI * k * t / n))
        power += (re * re + im * im) / k
    return power


def autocorrelation(x, max_lag):
    x = x - x.mean()
    var = np.sum(x * x)
    acf = 0.0
    for lag in range(1, max_lag + 1):
        acf += (np.sum(x[:-lag] * x[lag:]) / var) ** 2
    return acf


def overlap_add(frames, hop):
    n_frames, width = frames.shape
    out = np.zeros((n_frames - 1) * hop + width)
    window = np.zeros(width)
    for j in range(width):
        window[j] = 0.5 - 0.5 * math.cos(TWO_PI * j / (width - 1))
    for i, frame in enumerate(frames):
        out[i * hop:i * hop + width] += frame * window
    return np.sum(out ** 2) + np.sum(np.tanh(out))


def discounted_returns(rewards, gamma):
    n = rewards.shape[0]
    returns = rewards.copy()
    for i in range(n - 2, -1, -1):
        returns[i] += gamma * returns[i + 1]
    weights = np.ones(n)
    for i in range(n):
        weights[i] *= gamma ** i
    return np.sum(returns * weights)


def cumulative_sum(x):
    c = np.zeros(x.shape[0])
    c[0] = x[0]
    for i in range(1, x.shape[0]):
        c[i] = c[i - 1] + x[i]
    return np.sum(np.sin(c))


def total_variation(img, eps):
    dx = img[1:, :] - img[:-1, :]
    dy = img[:, 1:] - img[:, :-1]
    return np.sum(np.sqrt(dx[:, :-1] ** 2 + dy[:-1, :] ** 2 + eps))


def sliding_window_max_pool(x, size, stride):
    out = []
    for start in range(0, x.shape[0] - size + 1, stride):
        out.append(np.max(x[start:start + size]))
    pooled = np.array(out)
    return np.sum(pooled ** 2)


def pairwise_spring_network(x, k, rest):
    energy = 0.0
    for i in range(x.shape[0]):
        for j in range(i + 1, min(i + 3, x.shape[0])):
            stretch = abs(x[j] - x[i]) - rest * (j - i)
            energy += 0.5 * k * stretch ** 2
    return energy


def rbf_kernel_matrix(X, Z, gamma):
    K = np.zeros((X.shape[0], Z.shape[0]))
    for i in range(X.shape[0]):
        for j in range(Z.shape[0]):
            d = X[i] - Z[j]
            K[i, j] = math.exp(-gamma * float(np.dot(d, d)))
    return np.sum(K) - np.sum(K.min(axis=0))


# -- loops over rows, enumerate, zip, continue, break -------------------------------

def lennard_jones(pos, cutoff):
    n = pos.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            r = dist(pos[i], pos[j])
            if r > cutoff:
                continue
            inv6 = (1.0 / r) ** 6
            energy += 4.0 * (inv6 * inv6 - inv6)
    return energy


def kmeans_loss(points, centers):
    total = 0.0
    for p in points:
        best = dist(p, centers[0]) ** 2
        for c in centers[1:]:
            d = dist(p, c) ** 2
            if d < best:
                best = d
        total += best
    return total / points.shape[0]


def hinge_svm(w, b, X, y):
    loss = 0.0
    for xi, yi in zip(X, y):
        margin = yi * (np.dot(w, xi) + b)
        if margin >= 1.0:
            continue
        loss += 1.0 - margin
    return loss / X.shape[0] + 0.05 * np.dot(w, w)


def gated_rnn(Wx, Wh, xs, h0):
    h = h0
    for x_t in xs:
        z = sigmoid(Wx @ x_t + Wh @ h)
        cand = np.tanh(Wx @ x_t - Wh @ h)
        h = (1.0 - z) * h + z * cand
    return np.sum(h ** 2)


def softmax_cross_entropy(logits, labels):
    total = 0.0
    for i in range(logits.shape[0]):
        row = logits[i]
        total += logsumexp(row) - row[labels[i]]
    return total / logits.shape[0]


def gmm_nll(x, means, log_sigmas, logit_w):
    log_w = logit_w - logsumexp(logit_w)
    nll = 0.0
    for xi in x:
        comps = log_w - 0.5 * ((xi - means) / np.exp(log_sigmas)) ** 2 - log_sigmas - math.log(SQRT_2PI)
        nll -= logsumexp(comps)
    return nll


def contrastive_loss(a, b, same, margin):
    total = 0.0
    for i in range(a.shape[0]):
        d = dist(a[i], b[i])
        if same[i] > 0.5:
            total += d ** 2
        else:
            total += max(0.0, margin - d) ** 2
    return total / 2


def signed_log_compress(x):
    out = np.zeros(x.shape[0])
    for i, v in enumerate(x):
        out[i] = math.log(1.0 + v) if v > 0 else -math.log(1.0 - v)
    return np.sum(out * x)


def max_drawdown(prices):
    peak = prices[0]
    worst = 0.0
    for p in prices[1:]:
        peak = max(peak, p)
        worst = max(worst, (peak - p) / peak)
    return worst


def power_iteration(A, iters):
    v = np.ones(A.shape[0])
    for _ in range(iters):
        v = A @ v
        v = v / np.sqrt(np.sum(v * v))
    return v.dot(A @ v)


def horner(coeffs, x):
    acc = 0.0
    for c in coeffs[::-1]:
        acc = acc * x + c
    return acc


def chebyshev_series(c, x):
    t_prev = np.ones(x.shape[0])
    t_cur = x.copy()
    total = c[0] * t_prev + c[1] * t_cur
    for k in range(2, len(c)):
        t_prev, t_cur = t_cur, 2.0 * x * t_cur - t_prev
        total = total + c[k] * t_cur
    return np.sum(total ** 2)


# -- while loops, for-else, early exits ---------------------------------------------

def newton_cube_root(a):
    x = a if a > 1.0 else 1.0
    step = 1.0
    count = 0
    while abs(step) > 1e-12 and count < 50:
        step = (x ** 3 - a) / (3.0 * x ** 2)
        x = x - step
        count += 1
    return x


def damped_until_small(amplitude, decay):
    energy = amplitude ** 2
    t = 0.0
    while energy > 0.01:
        energy = energy * math.exp(-decay)
        t += 1.0
    return energy + t * decay


def projectile_range(v0, angle, drag):
    dt = 0.01
    x, y = 0.0, 0.0
    vx = v0 * math.cos(angle)
    vy = v0 * math.sin(angle)
    while True:
        ax = -drag * vx
        ay = -GRAVITY - drag * vy
        x_new = x + dt * vx
        y_new = y + dt * vy
        if y_new < 0.0:
            frac = y / (y - y_new)
            return x + frac * (x_new - x)
        x, y = x_new, y_new
        vx = vx + dt * ax
        vy = vy + dt * ay


def early_stopping_fit(w, X, y, lr):
    for epoch in range(100):
        r = X @ w - y
        loss = 0.5 * np.mean(r ** 2)
        if loss < 0.05:
            break
        w = w - lr * (X.T @ r) / X.shape[0]
    return loss + 0.01 * np.sum(w ** 2)


def gradient_flow_descent(x0, lr, tol):
    x = x0
    it = 0
    while it < 200:
        g = 4.0 * x ** 3 - 3.0 * x
        if abs(g) < tol:
            break
        x = x - lr * g
        it += 1
    return x ** 4 - 1.5 * x ** 2


def piecewise_linear_interp(grid, values, x):
    for i in range(grid.shape[0] - 1):
        if grid[i] <= x < grid[i + 1]:
            t = (x - grid[i]) / (grid[i + 1] - grid[i])
            result = (1.0 - t) * values[i] + t * values[i + 1]
            break
    else:
        result = values[-1] + 0.0 * x
    return result * result


def first_crossing_time(signal, level):
    for i, s in enumerate(signal):
        if i > 0 and s > level:
            prev = signal[i - 1]
            return (i - 1) + (level - prev) / (s - prev)
    return float(len(signal)) + 0.0 * level


def while_continue_sampler(x):
    k = 0
    total = 0.0
    while k < 7:
        k += 1
        if k % 3 == 0:
            continue
        total += math.sin(x * k) / k
    return total


# -- lists ---------------------------------------------------------------------------

def gram_schmidt_volume(M):
    basis = []
    logvol = 0.0
    for row in M:
        v = row
        for q in basis:
            v = v - np.dot(q, v) * q
        norm = np.sqrt(np.sum(v * v))
        logvol += math.log(norm)
        basis.append(v / norm)
    Q = np.stack(basis)
    return logvol + np.sum(Q @ M.T) * 0.1


def taylor_exp(x, n_terms):
    terms = [1.0]
    term = 1.0
    for k in range(1, n_terms):
        term = term * x / k
        terms.append(term)
    return sum(terms) + terms[2] * len(terms)


def bezier_arc_length(ctrl, samples):
    def point(t):
        s = 1.0 - t
        return s ** 3 * ctrl[0] + 3.0 * s * s * t * ctrl[1] + 3.0 * s * t * t * ctrl[2] + t ** 3 * ctrl[3]
    curve = []
    for i in range(samples + 1):
        curve.append(point(i / samples))
    length = 0.0
    for i in range(1, len(curve)):
        length += dist(curve[i], curve[i - 1])
    return length


def stacked_features(x):
    feats = [x, x ** 2, np.sin(x)]
    F = np.stack(feats, axis=1)
    G = np.array([np.sum(x), np.mean(x ** 2)])
    total = 0.0
    for f in feats:
        total += np.sum(f) ** 2
    return np.sum(F.T @ F) + G[0] * G[1] + total


# -- closures -------------------------------------------------------------------------

def nested_closure_energy(a, b):
    def potential(q):
        return a * q * q + b * math.cos(q)

    def force(q, h=1e-3):
        return -(potential(q + h) - potential(q - h)) / (2.0 * h)
    q, v = 1.0, 0.0
    for _ in range(30):
        v = v + 0.05 * force(q)
        q = q + 0.05 * v
    return potential(q) + 0.5 * v * v


# -- more item writes, swaps, index arithmetic and names that outlive their loop ----------

def bubble_sorted_weights(x):
    a = x.copy()
    n = a.shape[0]
    for i in range(n):
        swapped = False
        for j in range(n - 1 - i):
            if a[j] > a[j + 1]:
                a[j], a[j + 1] = a[j + 1], a[j]
                swapped = True
        if not swapped:
            break
    total = 0.0
    for k in range(n):
        total += (k + 1.0) * a[k]
    return total


def vandermonde_fit_residual(x, c, y):
    V = np.zeros((x.shape[0], c.shape[0]))
    for i in range(x.shape[0]):
        for j in range(c.shape[0]):
            V[i, j] = x[i] ** j
    r = V @ c - y
    return 0.5 * r.dot(r)


def jacobi_solve(A, b, iters):
    n = b.shape[0]
    x = np.zeros(n)
    for it in range(iters):
        x_new = np.zeros(n)
        for i in range(n):
            s = 0.0
            for j in range(n):
                if j == i:
                    continue
                s += A[i, j] * x[j]
            x_new[i] = (b[i] - s) / A[i, i]
        x = x_new
    return np.sum(x ** 2)


def normalize_rows(m):
    out = np.zeros(m.shape)
    for i, row in enumerate(m):
        out[i] = row / np.sqrt(np.sum(row ** 2))
    return np.sum(out[:, 0]) + np.sum(out * m)


def torque_sum(r, f):
    total = np.zeros(3)
    for a, b in zip(r, f):
        tau = np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])
        total = total + tau
    return np.sum(total ** 2)


def ring_energy(x, k):
    n = x.shape[0]
    energy = 0.0
    for i in range(n):
        d = x[(i + 1) % n] - x[i]
        energy += 0.5 * k * d * d
    return energy


def upsample_smooth(x):
    n = 2 * x.shape[0]
    y = np.zeros(n)
    for i in range(n):
        y[i] = x[i // 2] * (0.75 if i % 2 == 0 else 0.25) + (x[i // 2] if i > 0 and i % 2 == 1 else 0.0)
    return np.sum(np.sin(y) * y)


def leaky_odd_even(x):
    out = np.zeros(x.shape[0])
    for i, v in enumerate(x):
        out[i] = v if v > 0 and i % 2 == 0 else 0.5 * v
    return np.sum(out ** 2 + out)


def clamp_step(x, g, limit=0.5):
    if abs(g) > limit:
        return x - (limit if g > 0 else -limit), True
    return x - g, False


def clipped_descent(x0, scale):
    x = x0
    clipped = 0
    for it in range(15):
        g = scale * (x ** 3 - 2.0)
        x, was_clipped = clamp_step(x, g, limit=0.3)
        if was_clipped:
            clipped += 1
    return x * x + 0.0 * clipped


def last_row_energy(m):
    e = 0.0
    for row in m:
        e = np.sum(row ** 2)
    return e + np.sum(row) * 0.5


def until_converged_or_min_turns(x):
    it = 0
    converged = False
    while not converged or it < 3:
        x_new = math.cos(x)
        converged = abs(x_new - x) < 2e-3
        x = x_new
        it += 1
    return x


def pairwise_differences(x):
    d = x.reshape(-1, 1) - x.reshape(1, -1)
    return np.sum(np.tanh(d) ** 2) + np.sum(d.max(axis=0, keepdims=True) * x.T)


def strided_accumulate(x):
    a = np.zeros(8)
    for i in range(x.shape[0]):
        a[i::2] += x[i] * (i + 1.0)
    return np.sum(a ** 2)


def scale_rows_then_center_columns(m, s):
    a = m.copy()
    for i in range(a.shape[0]):
        a[i, :] *= s[i]
    for j in range(a.shape[1]):
        a[:, j] -= np.mean(a[:, j])
    return np.sum(a ** 3)


# -- the same algorithms as the KNOWN_BUGS entries, written in a way s2sgrad accepts --------

def standardize(v, eps=1e-5):
    mu = np.mean(v, axis=-1, keepdims=True)
    var = np.mean((v - mu) ** 2, axis=-1, keepdims=True)
    return (v - mu) / np.sqrt(var + eps), var


def layer_norm_fixed_axis(x, gamma, beta):
    y, var = standardize(x, eps=1e-3)
    y = y * gamma + beta
    return np.sum(y ** 3) * 0.1 + np.sum(y * x) + np.sum(np.log(var))


def heat_equation_laplacian(u0, alpha, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        lap = np.zeros(n)
        lap[1:-1] = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u = u + alpha * lap
    return np.sum(u ** 2)


def kmeans_by_index(points, centers):
    total = 0.0
    for p in points:
        best = dist(p, centers[0]) ** 2
        for j in range(1, centers.shape[0]):
            d = dist(p, centers[j]) ** 2
            best = d if d < best else best
        total += best
    return total / points.shape[0]


def running_drawdown(prices):
    peak = prices[0]
    worst = 0.0
    for i, p in enumerate(prices):
        if i == 0:
            continue
        peak = max(peak, p)
        worst = max(worst, (peak - p) / peak)
    return worst


def horner_by_index(coeffs, x):
    acc = 0.0
    for k in range(len(coeffs) - 1, -1, -1):
        acc = acc * x + coeffs[k]
    return acc


def closure_with_defaults(a, b):
    def force(q, h=1e-3):
        up = a * (q + h) ** 2 + b * math.cos(q + h)
        down = a * (q - h) ** 2 + b * math.cos(q - h)
        return -(up - down) / (2.0 * h)
    q, v = 1.0, 0.0
    for _ in range(30):
        v = v + 0.05 * force(q)
        q = q + 0.05 * v
    return a * q * q + b * math.cos(q) + 0.5 * v * v


def bubble_sorted_weights_float_tmp(x):
    a = x.copy()
    n = a.shape[0]
    for i in range(n):
        swapped = False
        for j in range(n - 1 - i):
            if a[j] > a[j + 1]:
                tmp = float(a[j])
                a[j] = a[j + 1]
                a[j + 1] = tmp
                swapped = True
        if not swapped:
            break
    total = 0.0
    for k in range(n):
        total += (k + 1.0) * a[k]
    return total


def jacobi_solve_updates(A, b, iters):
    n = b.shape[0]
    x = np.zeros(n)
    for it in range(iters):
        r = b - A @ x
        step = np.zeros(n)
        for i in range(n):
            step[i] = r[i] / A[i, i]
        x = x + step
    return np.sum(x ** 2)


def clamp_step_one_return(x, g, limit=0.5):
    if abs(g) > limit:
        new, clipped = x - (limit if g > 0 else -limit), True
    else:
        new, clipped = x - g, False
    return new, clipped


def clipped_descent_one_return(x0, scale):
    x = x0
    clipped = 0
    for it in range(15):
        g = scale * (x ** 3 - 2.0)
        x, was_clipped = clamp_step_one_return(x, g, limit=0.3)
        if was_clipped:
            clipped += 1
    return x * x + 0.0 * clipped


# -- arguments --------------------------------------------------------------------------

def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _uniform(lo, hi, *shape, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def _spd(n, seed=0):
    m = _normal(n, n, seed=seed)
    return m @ m.T / n + np.eye(n)


def _regression_targets():
    return _normal(10, 3, seed=1) @ np.array([1.0, -0.5, 0.3]) + 0.1 * _normal(10, seed=2)


def _lattice():
    grid = np.array([[0.0, 0.0], [1.1, 0.0], [0.0, 1.15], [1.2, 1.1], [2.3, 0.1]])
    return grid + 0.02 * _normal(5, 2, seed=7)


MORE = [
    # arithmetic and broadcasting
    (layer_norm, lambda: (_normal(3, 4), _normal(4, seed=1), _normal(4, seed=2)), None),
    (scaled_dot_attention, lambda: (_normal(3, 4), _normal(5, 4, seed=1), _normal(5, 2, seed=2)), None),
    (gaussian_log_likelihood, lambda: (_normal(4), _normal(3, seed=1), _normal(3, seed=2) * 0.3), None),
    (matrix_chain, lambda: (_normal(3, 4), _normal(4, 2, seed=1), _normal(2, seed=2)), None),
    (coulomb_energy, lambda: (_normal(4, 3), _normal(4, seed=1)), None),
    (min_max_scale, lambda: (_normal(6),), None),
    (modular_phase, lambda: (np.array([0.4, 1.3, 2.9, 4.1]), 2.2), None),
    (poisson_regression, lambda: (_normal(3) * 0.3, _normal(6, 3, seed=1), np.array([0.0, 1, 3, 2, 0, 5])),
     (0,)),
    (focal_loss, lambda: (_normal(5), np.array([1.0, 0.0, 1.0, 1.0, 0.0])), (0,)),
    (relu_mask_loss, lambda: (_normal(4, 3), _normal(3, 2, seed=1)), None),
    (quadratic_form, lambda: (_normal(3, 3), _normal(3, seed=1)), None),
    (covariance_trace, lambda: (_normal(6, 3),), None),
    (tan_warp, lambda: (_uniform(-1.5, 1.5, 5),), None),
    # branches
    (huber_loss, lambda: (_normal(6) * 1.5, _normal(6, seed=1), 1.0), None),
    (clip_by_norm, lambda: (_normal(4), 1.0), None),
    (clip_by_norm, lambda: (_normal(4) * 0.2, 1.0), None),
    (elastic_net_prox, lambda: (np.array([0.9, -0.1, 0.3, -1.2, 0.05]), 0.2), None),
    (activation_zoo, lambda: (_normal(5), 0), (0,)),
    (activation_zoo, lambda: (_normal(5), 1), (0,)),
    (activation_zoo, lambda: (_normal(5), 2), (0,)),
    (activation_zoo, lambda: (_normal(5), 3), (0,)),
    (activation_zoo, lambda: (_normal(5), 4), (0,)),
    (classify_margin, lambda: (np.array([1.0, 2.0]), np.array([1.5, 0.8])), None),
    (classify_margin, lambda: (np.array([1.0, 2.0]), np.array([-1.5, -0.8])), None),
    (classify_margin, lambda: (np.array([1.0, 2.0]), np.array([0.3, -0.4])), None),
    (piecewise_friction, lambda: (0.5, 0.8, 0.6), None),
    (piecewise_friction, lambda: (-0.5, 0.8, 0.6), None),
    (piecewise_friction, lambda: (0.05, 0.8, 0.6), None),
    (bounded_growth, lambda: (0.2, 1.0), None),
    (bounded_growth, lambda: (0.5, 1.0), None),
    (bounded_growth, lambda: (2.5, 1.0), None),
    (helper_in_branches, lambda: (1.7, 0.4), None),
    (helper_in_branches, lambda: (0.6, 0.8), None),
    (helper_in_branches, lambda: (0.3, 1.6), None),
    # loops with bounds
    (trapezoid_sine, lambda: (0.2, 2.5, 12), (0, 1)),
    (simpson_gaussian, lambda: (0.9, 0.6, 10), (0, 1)),
    (pendulum_euler, lambda: (0.8, 0.1, 0.02, 60), (0, 1, 2)),
    (leapfrog_orbit, lambda: (np.array([1.0, 0.1]), np.array([0.05, 0.9]), 0.05), None),
    (damped_oscillator_rk4, lambda: (2.0, 0.3, 1.0, -0.5), None),
    (moving_average, lambda: (_normal(8), 3), (0,)),
    (fir_filter, lambda: (_normal(7), _normal(3, seed=1)), None),
    (iir_lowpass, lambda: (_normal(6), 0.3), None),
    (dft_power, lambda: (_normal(8), 3), (0,)),
    (autocorrelation, lambda: (_normal(9), 3), (0,)),
    (overlap_add, lambda: (_normal(3, 4), 2), (0,)),
    (discounted_returns, lambda: (_normal(5), 0.9), None),
    (cumulative_sum, lambda: (_normal(5),), None),
    (total_variation, lambda: (_normal(4, 5), 0.1), None),
    (sliding_window_max_pool, lambda: (_normal(9), 3, 2), (0,)),
    (pairwise_spring_network, lambda: (np.array([0.0, 1.1, 1.9, 3.2, 4.05]), 2.0, 1.0), None),
    (rbf_kernel_matrix, lambda: (_normal(3, 2), _normal(4, 2, seed=1), 0.7), None),
    # rows, enumerate, zip, continue
    (lennard_jones, lambda: (_lattice(), 1.55), (0,)),
    (hinge_svm, lambda: (_normal(3) * 3.0, 0.1, _normal(8, 3, seed=1), np.sign(_normal(8, seed=2))), (0, 1)),
    (gated_rnn, lambda: (_normal(3, 2) * 0.5, _normal(3, 3, seed=1) * 0.5, _normal(4, 2, seed=2),
                         _normal(3, seed=3)), None),
    (softmax_cross_entropy, lambda: (_normal(4, 3), np.array([0, 2, 1, 2])), (0,)),
    (gmm_nll, lambda: (_normal(5), _normal(3, seed=1), _normal(3, seed=2) * 0.2, _normal(3, seed=3)), None),
    (contrastive_loss, lambda: (_normal(4, 2), _normal(4, 2, seed=1), np.array([1.0, 0.0, 1.0, 0.0]), 1.6),
     (0, 1, 3)),
    (signed_log_compress, lambda: (_normal(6),), None),
    (power_iteration, lambda: (_spd(3), 8), (0,)),
    (chebyshev_series, lambda: (_normal(5), _uniform(-0.9, 0.9, 4)), None),
    # while, for-else, early exits
    (newton_cube_root, lambda: (2.0,), None),
    (newton_cube_root, lambda: (0.5,), None),
    (damped_until_small, lambda: (1.3, 0.37), None),
    (projectile_range, lambda: (5.0, 0.7, 0.1), None),
    (early_stopping_fit, lambda: (np.zeros(3), _normal(10, 3, seed=1), _regression_targets(), 0.1), (0, 3)),
    (gradient_flow_descent, lambda: (0.3, 0.05, 1e-3), (0, 1)),
    (piecewise_linear_interp, lambda: (np.array([0.0, 0.5, 1.2, 2.0]), _normal(4), 0.8), None),
    (piecewise_linear_interp, lambda: (np.array([0.0, 0.5, 1.2, 2.0]), _normal(4), 2.7), None),
    (first_crossing_time, lambda: (np.array([0.1, 0.3, 0.2, 0.9, 1.4]), 0.6), None),
    (first_crossing_time, lambda: (np.array([0.1, 0.3, 0.2]), 0.6), None),
    (while_continue_sampler, lambda: (0.45,), None),
    # lists
    (gram_schmidt_volume, lambda: (_normal(3, 3),), None),
    (taylor_exp, lambda: (0.8, 8), (0,)),
    (bezier_arc_length, lambda: (_normal(4, 2), 10), (0,)),
    (stacked_features, lambda: (_normal(4),), None),
    # item writes, swaps, index arithmetic
    (vandermonde_fit_residual, lambda: (_uniform(-1, 1, 5), _normal(3), _normal(5, seed=1)), None),
    (normalize_rows, lambda: (_normal(3, 4),), None),
    (torque_sum, lambda: (_normal(4, 3), _normal(4, 3, seed=1)), None),
    (ring_energy, lambda: (_normal(5), 1.5), None),
    (upsample_smooth, lambda: (_normal(4),), None),
    (leaky_odd_even, lambda: (_normal(6),), None),
    (last_row_energy, lambda: (_normal(3, 4),), None),
    (until_converged_or_min_turns, lambda: (0.3,), None),
    (pairwise_differences, lambda: (_normal(5),), None),
    (strided_accumulate, lambda: (_normal(3),), None),
    (scale_rows_then_center_columns, lambda: (_normal(3, 4), _normal(3, seed=1)), None),
    # rewritten versions of the KNOWN_BUGS entries
    (layer_norm_fixed_axis, lambda: (_normal(3, 4), _normal(4, seed=1), _normal(4, seed=2)), None),
    (heat_equation_laplacian, lambda: (_normal(7), 0.2, 5), (0, 1)),
    (kmeans_by_index, lambda: (_normal(6, 2), _normal(3, 2, seed=1)), None),
    (running_drawdown, lambda: (np.array([10.0, 9.0, 11.0, 10.5, 8.0, 12.0, 9.5]),), None),
    (horner_by_index, lambda: (_normal(5), 0.7), None),
    (closure_with_defaults, lambda: (1.2, 0.5), None),
    (bubble_sorted_weights_float_tmp, lambda: (_normal(6),), None),
    (jacobi_solve_updates, lambda: (_spd(3) + 2.0 * np.eye(3), _normal(3, seed=1), 6), (0, 1)),
    (clipped_descent_one_return, lambda: (0.5, 0.4), None),
]


# -- s2sgrad bugs: these are correct user code (checked by hand), kept here until fixed --------

# Once s2sgrad bugs or limits, fixed since (each found by this gallery): double buffering
# refused as a view hazard, a loop-length temporary shadowing a runtime helper, nested defs
# closing over the outermost function's arguments, a helper returning tuples early.
MORE += [
    (heat_equation, lambda: (_normal(7), 0.2, 5), (0, 1)),
    (jacobi_solve, lambda: (_spd(3) + 2.0 * np.eye(3), _normal(3, seed=1), 6), (0, 1)),
    (kmeans_loss, lambda: (_normal(6, 2), _normal(3, 2, seed=1)), None),
    (max_drawdown, lambda: (np.array([10.0, 9.0, 11.0, 10.5, 8.0, 12.0, 9.5]),), None),
    (horner, lambda: (_normal(5), 0.7), None),
    (nested_closure_energy, lambda: (1.2, 0.5), None),
    (clipped_descent, lambda: (0.5, 0.4), None),
]

# Limits s2sgrad refuses with a located error (not run): swapping two items of an array,
# refused as a possible view (an item of a 1-D array is a copy, but the compiler does not
# know the rank).
KNOWN_LIMITS = [
    (bubble_sorted_weights, lambda: (_normal(6),), None),
]
