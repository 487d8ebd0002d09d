"""A gallery of user functions with loops, branches and early exits.

Each entry of FLOW is (function, argument factory, wrt): the tests compare
s2sgrad's derivative with finite differences, run every pass through the IR
interpreter, and check optimized against unoptimized code.
"""
import numpy as np


def relu_branch(x):
    if x > 0:
        y = x * 2.0
    else:
        y = x * 0.1
    return y * x


def elif_chain(x):
    if x > 1.0:
        y = np.sin(x)
    elif x > 0.0:
        y = x ** 3
    elif x > -1.0:
        y = -x
    else:
        y = np.exp(x)
    return y + x


def nested_branches(x, y):
    if x > 0:
        if y > 0:
            z = x * y
        else:
            z = x - y
    else:
        z = x ** 2
        if y < 0.5:
            z = z * y
    return z


def conditional_expression(x, y):
    return (x * y if x > y else y ** 2) + (1.0 if x > 0 else x)


def boolean_logic(x, y):
    if x > 0 and y > 0 or not x < -5:
        return x * y
    return x + y


def chained_comparison(x):
    if -1.0 < x < 1.0:
        return x ** 3
    return x


def branch_on_array_sum(x):
    if np.sum(x) > 0:
        return np.sum(np.sin(x))
    return np.sum(x ** 2)


def scalar_loop(x):
    for i in range(20):
        x = x * 0.9 + np.sin(x)
    return x


def loop_with_bounds(x):
    total = 0.0
    for i in range(2, 11, 3):
        total = total + x ** i
    return total


def loop_counting_down(x):
    total = x
    for i in range(5, 0, -2):
        total = total * x + i
    return total


def data_dependent_bounds(x, n):
    y = x
    for i in range(n):
        y = np.sin(y) + x
    return y


def loop_over_rows(m):
    total = 0.0
    for row in m:
        total = total + np.sum(row ** 2)
    return total


def enumerate_rows(m):
    total = 0.0
    for i, row in enumerate(m):
        total = total + i * np.sum(np.tanh(row))
    return total


def zip_pairs(a, b):
    total = 0.0
    for u, v in zip(a, b):
        total = total + u * v
    return total


def nested_loops(x):
    total = 0.0
    for i in range(3):
        for j in range(i + 1):
            total = total + x ** (i + j) * 0.5
    return total


def while_until(x):
    while x < 10.0:
        x = x * 1.7 + 0.1
    return x


def while_with_counter(x):
    k = 0
    y = x
    while k < 5:
        y = y * x
        k = k + 1
    return y


def loop_with_break(x):
    total = 0.0
    for i in range(100):
        total = total + x * i
        if total > 10.0:
            break
    return total


def loop_with_continue(x):
    total = 0.0
    for i in range(6):
        if i % 2 == 0:
            continue
        total = total + np.sin(x * i)
    return total


def for_else(x):
    for i in range(3):
        if x > 100.0:
            break
        x = x * 1.5
    else:
        x = x + 1.0
    return x


def while_with_break(x):
    y = x
    while True:
        y = y * 2.0
        if y > 20.0:
            break
    return y


def early_return(x):
    if x > 1.0:
        return x ** 2
    y = x * 3.0
    return y + 1.0


def return_in_loop(x):
    for i in range(10):
        x = x * 1.3
        if x > 5.0:
            return x * 2.0
    return x


def rnn(W, xs, h0):
    T = xs.shape[0]
    h = np.zeros((T + 1, h0.shape[0]))
    h[0] = h0
    for t in range(T):
        h[t + 1] = np.tanh(W @ h[t] + xs[t])
    return np.sum(h[T] ** 2)


def slice_updates_in_loop(x):
    a = np.zeros(6)
    for i in range(3):
        a[i:i + 3] += x * (i + 1.0)
    return np.sum(a ** 2)


def scaled_items_in_loop(x):
    a = x * 1.0
    for i in range(x.shape[0]):
        a[i] *= a[i - 1] + 1.0
    return np.sum(a)


def overwrite_argument_in_loop(x):
    for i in range(3):
        x = np.tanh(x) + 0.5 * x
    return np.sum(x)


def piecewise_loop(x):
    total = 0.0
    for i in range(8):
        if x * i > 2.0:
            total = total + np.sqrt(x * i)
        else:
            total = total - x * i
    return total


def cumulative_product(x):
    p = 1.0
    for i in range(x.shape[0]):
        p = p * x[i]
    return p


def newton_sqrt(a):
    x = a
    for i in range(6):
        x = 0.5 * (x + a / x)
    return x


def branch_inside_while(x):
    steps = 0
    while steps < 6:
        if x > 1.0:
            x = x * 0.5
        else:
            x = x * 3.0
        steps = steps + 1
    return x


def loop_reads_only(x, w):
    total = 0.0
    for i in range(4):
        total = total + np.sum(w * x) * i
    return total


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


FLOW = [
    (relu_branch, lambda: (1.3,), None), (relu_branch, lambda: (-0.7,), None),
    (elif_chain, lambda: (1.5,), None), (elif_chain, lambda: (0.5,), None),
    (elif_chain, lambda: (-0.5,), None), (elif_chain, lambda: (-2.0,), None),
    (nested_branches, lambda: (1.0, 2.0), None), (nested_branches, lambda: (1.0, -2.0), None),
    (nested_branches, lambda: (-1.0, 0.2), None), (nested_branches, lambda: (-1.0, 2.0), None),
    (conditional_expression, lambda: (2.0, 1.0), None), (conditional_expression, lambda: (-1.0, 0.5), None),
    (boolean_logic, lambda: (1.0, 2.0), None), (boolean_logic, lambda: (-6.0, -1.0), None),
    (chained_comparison, lambda: (0.5,), None), (chained_comparison, lambda: (1.5,), None),
    (branch_on_array_sum, lambda: (_normal(4) + 1.0,), None),
    (branch_on_array_sum, lambda: (_normal(4) - 1.0,), None),
    (scalar_loop, lambda: (0.3,), None),
    (loop_with_bounds, lambda: (0.9,), None),
    (loop_counting_down, lambda: (0.7,), None),
    (data_dependent_bounds, lambda: (0.4, 5), (0,)),
    (loop_over_rows, lambda: (_normal(3, 4),), None),
    (enumerate_rows, lambda: (_normal(3, 4),), None),
    (zip_pairs, lambda: (_normal(5), _normal(4, seed=1)), None),
    (nested_loops, lambda: (0.8,), None),
    (while_until, lambda: (1.2,), None),
    (while_with_counter, lambda: (1.1,), None),
    (loop_with_break, lambda: (0.7,), None),
    (loop_with_continue, lambda: (0.3,), None),
    (for_else, lambda: (1.0,), None),
    (while_with_break, lambda: (1.3,), None),
    (early_return, lambda: (2.0,), None), (early_return, lambda: (0.5,), None),
    (return_in_loop, lambda: (1.2,), None), (return_in_loop, lambda: (0.01,), None),
    (rnn, lambda: (_normal(3, 3) * 0.5, _normal(4, 3, seed=1), _normal(3, seed=2)), None),
    (slice_updates_in_loop, lambda: (_normal(3),), None),
    (scaled_items_in_loop, lambda: (_normal(4) * 0.5,), None),
    (overwrite_argument_in_loop, lambda: (_normal(4),), None),
    (piecewise_loop, lambda: (0.7,), None),
    (cumulative_product, lambda: (_normal(5),), None),
    (newton_sqrt, lambda: (2.0,), None),
    (branch_inside_while, lambda: (0.8,), None),
    (loop_reads_only, lambda: (_normal(3), _normal(3, seed=1)), None),
]


# -- calls to the user's own functions -----------------------------------------

from .helper_module import clipped_step, pair, scaled  # noqa: E402


def square(t):
    return t * t


def twice(t, k=2.0):
    if t > 0:
        return square(t) * k
    return -t


def uses_helpers(x):
    return square(x) + twice(x) + twice(x, k=3.0)


def uses_other_module(x):
    return scaled(x) + scaled(x, power=3) + pair(x, 0.5) + clipped_step(x)


def closure_over_arguments(x, w):
    def inner(t):
        return np.sin(t * w) + x
    total = 0.0
    for i in range(3):
        total = total + inner(x * i)
    return total


def call_in_loop(x):
    for i in range(4):
        x = square(x) * 0.5 + 0.1
    return x


def keyword_arguments(x, y):
    return twice(k=y, t=x) + scaled(power=1, t=y)


def helper_with_array(w, x):
    def layer(a):
        return np.tanh(a @ w)
    return np.sum(layer(layer(x)) ** 2)


FLOW += [
    (uses_helpers, lambda: (1.3,), None), (uses_helpers, lambda: (-0.5,), None),
    (uses_other_module, lambda: (0.7,), None), (uses_other_module, lambda: (1.7,), None),
    (closure_over_arguments, lambda: (0.4, 1.5), None),
    (call_in_loop, lambda: (0.3,), None),
    (keyword_arguments, lambda: (0.6, 1.4), None),
    (helper_with_array, lambda: (_normal(3, 3) * 0.5, _normal(2, 3, seed=1)), None),
]


def polar(r, theta):
    return r * np.cos(theta), r * np.sin(theta)


def uses_tuple_helper(r, theta):
    x, y = polar(r, theta)
    total = 0.0
    for i in range(3):
        a, b = polar(x + i, y)
        total = total + a * b
    return total + polar(r, 2.0 * theta)[1]


FLOW += [(uses_tuple_helper, lambda: (1.3, 0.4), None)]


# -- lists -----------------------------------------------------------------------

def list_of_values(x, y):
    items = [x, x * y, np.sin(y)]
    return items[0] * items[1] + items[2] ** 2


def append_in_loop(x):
    values = []
    for i in range(4):
        values.append(np.tanh(x * i))
    return sum(values) + values[1] * values[3]


def stack_appended_rows(x):
    rows = []
    for i in range(3):
        rows.append(x * (i + 1.0))
    m = np.array(rows)
    return np.sum(m ** 2) + np.sum(np.stack(rows, axis=1) * 0.5)


def loop_over_list(x):
    powers = [x, x ** 2, x ** 3]
    total = 0.0
    for p in powers:
        total = total + np.sin(p)
    return total + len(powers)


FLOW += [
    (list_of_values, lambda: (0.8, 1.3), None),
    (append_in_loop, lambda: (0.6,), None),
    (stack_appended_rows, lambda: (_normal(4),), None),
    (loop_over_list, lambda: (0.7,), None),
]


# -- a dict of arrays as an argument: its gradient is a dict -------------------------

def dict_model(params, x):
    h = np.tanh(x @ params["W"] + params["b"])
    return np.sum(h ** 2) + 0.1 * np.sum(params["W"] ** 2)


# -- recursion: kept as a call, differentiated by the callee's own vjp --------------

def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def recursive_sum(v, lo, hi):
    if hi - lo == 1:
        return np.sin(v[lo]) * v[lo]
    mid = (lo + hi) // 2
    return recursive_sum(v, lo, mid) + recursive_sum(v, mid, hi)


def calls_recursive(x):
    return power(x, 3) + power(np.tanh(x), 2)


def ping(x, n):
    if n == 0:
        return x
    return np.sin(pong(x, n - 1))


def pong(x, n):
    if n == 0:
        return x * x
    return ping(x, n - 1) * 1.5


FLOW += [
    (power, lambda: (1.3, 4), (0,)),
    (ping, lambda: (0.7, 5), (0,)),
    (recursive_sum, lambda: (_normal(6), 0, 6), (0,)),
    (calls_recursive, lambda: (0.8,), None),
]


# -- functions returning tuples: their vjp, and named calls unpacking them -----------

def min_and_spread(v):
    """Two outputs, one chosen by a branch (its vjp reruns with a tuple cotangent)."""
    m = np.mean(v)
    if m > 0:
        return m, np.sum((v - m) ** 2)
    return -m, np.sum(v ** 2)


def step_pair(h, c, w):
    c = c * 0.5 + np.tanh(h * w)
    return np.tanh(c) * w, c


def unrolled_cell(x, w):
    """A tuple helper called in a loop, both items carried (a named call per turn)."""
    h, c = x, 0.0 * x
    for t in range(4):
        h, c = step_pair(h, c, w)
    return np.sum(h ** 2)


def uses_first_item_only(x, w):
    """The second item is never differentiated: its cotangent is zeros."""
    h, c = step_pair(x, x, w)
    return np.sum(h)


def uses_branchy_pair(v, scale):
    a, b = min_and_spread(v * scale)
    return a * b + a


def fib_pair(x, n):
    """A recursive function returning a tuple, unpacked at its recursive call."""
    if n == 0:
        return x, 1.0
    a, b = fib_pair(x, n - 1)
    return a + b * x, a


def uses_fib_pair(x):
    a, b = fib_pair(x, 4)
    return a * b


def indexes_tuple_result(x, w):
    """A tuple result kept whole and indexed: the helper is inlined."""
    t = step_pair(x, x, w)
    return np.sum(t[0] * t[1])


FLOW += [
    (min_and_spread, lambda: (_normal(4),), None),
    (min_and_spread, lambda: (_normal(4) - 2.0,), None),
    (step_pair, lambda: (_normal(3), _normal(3, seed=1), 0.7), None),
    (unrolled_cell, lambda: (_normal(3), 0.8), None),
    (uses_first_item_only, lambda: (_normal(2, 3), _normal(3, seed=1)), None),
    (uses_branchy_pair, lambda: (_normal(4), 1.5), None),
    (uses_branchy_pair, lambda: (_normal(4), -1.5), None),
    (fib_pair, lambda: (0.9, 3), (0,)),
    (uses_fib_pair, lambda: (0.9,), None),
    (indexes_tuple_result, lambda: (_normal(3), 0.6), None),
]


def closure_two_sites(x, w):
    """A nested function over a differentiated value, called with two patterns of
    differentiated arguments: lifted, one vjp per pattern."""
    def wave(t):
        return np.sin(t * w)
    return np.sum(wave(x) + wave(2.0) * x)


FLOW += [(closure_two_sites, lambda: (_normal(3), 0.7), None)]


# -- a weight's gradient summed over the turns (passes/accumulate.py) ---------------

def batched_rnn(U, xs, h):
    """Rows are examples: `h @ U` each turn (the right operand is the fixed matrix)."""
    for t in range(xs.shape[0]):
        h = np.tanh(h @ U + xs[t])
    return np.sum(h ** 2)


def vector_rnn_right(U, xs, h):
    for t in range(xs.shape[0]):
        h = np.sin(h @ U) + xs[t]
    return np.sum(h)


def weight_changes_in_loop(W, x):
    """W is updated each turn: its gradient cannot be summed after the loop."""
    for t in range(3):
        x = np.tanh(W @ x)
        W = W * 0.9
    return np.sum(x)


FLOW += [
    (batched_rnn, lambda: (_normal(3, 3) * 0.5, _normal(4, 2, 3, seed=1), _normal(2, 3, seed=2)), None),
    (vector_rnn_right, lambda: (_normal(3, 3) * 0.5, _normal(4, 3, seed=1), _normal(3, seed=2)), None),
    (weight_changes_in_loop, lambda: (_normal(3, 3) * 0.5, _normal(3, seed=1)), None),
]
