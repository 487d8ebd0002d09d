"""Functions a review found wrong answers on (each now right, or refused at its line)."""
import numpy as np

G = np.ones((2, 3)) * 0.5


def rows_negative_start(x):
    h = np.zeros(4)
    for t in range(-1, 4):
        h[t] = np.sin(h[t - 1]) + x
    return np.sum(h ** 2)


def rows_two_loops_same_index(x):
    h = np.zeros(5)
    h[0] = x
    for t in range(1, 5):
        h[t] = np.sin(h[t - 1]) * x
    for t in range(1, 5):
        h[t] = h[t] * h[t - 1]
    return np.sum(h ** 2)


def hoist_zero_turns(x, A, B, n):
    s = x
    for i in range(n):
        s = s + np.sum(A @ B) * x
    return np.sum(s)


def global_on_one_path(x, flag):
    y = x * 2.0
    if flag:
        y = x * G
    z = y + x
    return np.sum(z ** 2)


def nested_siblings_sharing_a_name(x):
    w = x * 0.5

    def a(t):
        return t * w

    def b(t):
        return np.sin(t) + w

    def c(t):
        return a(t) * b(t)
    return c(x)


def nested_default_read_at_the_def(x):
    w = x * 2.0

    def g(t, k=w):
        return t * k
    w = x * 5.0
    return g(x) + w


def loop_variable_reassigned(x):
    h = np.zeros(4)
    for t in range(3):
        t = t // 2
        h[t + 1] = np.sin(h[t]) * x + x
    return np.sum(h ** 2)


def take_negative_axis(x):
    return np.take(x, np.array([[0, 1], [1, 1]]), axis=-1)


def cumprod_with_a_zero(x):
    return np.cumprod(x)
