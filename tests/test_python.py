"""Python as people write it (issue 16): code that touches no differentiated value runs as
Python runs it, whatever it calls; statements kept for their effect keep it. Each function
is checked against finite differences, and where it matters in forward mode and second
order too."""
import collections
import logging
import warnings

import numpy as np
import pytest

import s2sgrad
from s2sgrad import NoRuleError, UnsupportedSyntaxError

special = pytest.importorskip("scipy.special")

from .support import check_grads, check_tree_grad

W = np.array([0.3, 0.7, 1.2])


# -- 3. calls on values that are not differentiated ------------------------------------

def rounded_window(w, n):
    k = int(round(n * 1.5))
    if isinstance(n, int) and not isinstance(n, bool):
        k = k - 1
    window = slice(0, k)
    return np.sum(w[window] ** 2)


def grid_weighted(w):
    xs, ys = np.meshgrid(np.linspace(0.0, 1.0, 3), np.linspace(1.0, 2.0, 2))
    return np.sum(np.sin(w) * xs[0]) + np.sum(ys[:, :1] * w[:1])


def mode_switch(w, mode="train"):
    scale = np.float64(2.0) if mode.startswith("tr") else 1.0
    if mode == "train":
        return scale * np.sum(w ** 2)
    return np.sum(w)


def counted(w):
    total = 0.0
    for i in range(len(w)):
        total = total + (i + 1) * np.tanh(w[i])
    return total / max(len(w), 1)


@pytest.mark.parametrize("fn, args", [
    (rounded_window, (W, 2)), (grid_weighted, (W,)), (mode_switch, (W,)), (mode_switch, (W, "test")),
    (counted, (W,)),
])
def test_calls_on_values_not_differentiated_run_as_python(fn, args):
    check_grads(fn, *args, wrt=(0,))
    value, tangent = s2sgrad.jvp(fn, args, (np.ones(3),), wrt=(0,))
    assert value == fn(*args)
    np.testing.assert_allclose(tangent, np.sum(s2sgrad.grad(fn)(*args)))


def first_of_data(w, data):
    return np.sum(w * data.item(0)) + data.item(1)


def test_a_method_of_data_runs_and_the_same_method_of_a_differentiated_value_is_refused():
    check_grads(first_of_data, W, np.array([3.0, 1.0, 2.0]), wrt=(0,))
    with pytest.raises(NoRuleError) as info:
        s2sgrad.grad(first_of_data, 1)
    assert "the method `.item()` has no derivative rule" in str(info.value)
    assert info.value.loc.line == first_of_data.__code__.co_firstlineno + 1


def unwrapped(w):
    return np.sum(np.unwrap(w * 4.0))


def test_a_library_function_without_a_rule_is_refused_at_the_users_line_naming_it():
    with pytest.raises(NoRuleError) as info:
        s2sgrad.grad(unwrapped)
    err = info.value
    assert "`np.unwrap` has no derivative rule" in str(err)
    assert err.loc.line == unwrapped.__code__.co_firstlineno + 1
    assert "@s2sgrad.adjoint(np.unwrap)" in err.hint


# -- 4. randomness inside the objective -------------------------------------------------

def reparameterized(mu, log_sigma, seed):
    rs = np.random.RandomState(seed)
    eps = rs.randn(*mu.shape)
    z = mu + np.exp(log_sigma) * eps
    noise = rs.standard_normal(size=mu.shape)
    return np.sum(z ** 2) + 0.1 * np.sum(noise * z)


def generator_draws(w):
    rng = np.random.default_rng(7)
    a = rng.normal(0.0, 1.0, size=3)
    b = rng.normal(0.0, 1.0, size=3)
    return np.sum((w - a) ** 2) - np.sum(w * b)


def test_random_draws_run_once_per_call_in_the_users_order():
    mu, log_sigma = np.array([0.1, -0.4]), np.array([-0.5, 0.2])
    check_grads(reparameterized, mu, log_sigma, 3, wrt=(0, 1))
    value, both = s2sgrad.value_and_grad(reparameterized, (0, 1))(mu, log_sigma, 3)
    assert value == reparameterized(mu, log_sigma, 3)          # the same draws as the user's code
    np.testing.assert_allclose(both[1], s2sgrad.grad(reparameterized, 1)(mu, log_sigma, 3))
    check_grads(generator_draws, W)
    assert s2sgrad.value_and_grad(generator_draws)(W)[0] == generator_draws(W)   # a then b, not b then a


def global_stream(w):
    eps = np.random.randn(3)
    return np.sum(w * eps)


def test_a_global_draw_is_made_when_the_derivative_runs_and_never_while_compiling():
    np.random.seed(11)
    g = s2sgrad.grad(global_stream)
    s2sgrad.source(global_stream)
    np.random.seed(11)
    expected = np.random.randn(3)
    np.random.seed(11)
    np.testing.assert_array_equal(g(W), expected)          # d/dw sum(w * eps) = eps: the first draw


def test_second_order_through_a_seeded_draw():
    def f(w):
        rs = np.random.RandomState(0)
        eps = rs.randn(3)
        return np.sum(np.sin(w + eps) * eps)
    eps = np.random.RandomState(0).randn(3)
    np.testing.assert_allclose(s2sgrad.hessian(f)(W), np.diag(-np.sin(W + eps) * eps), rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.hvp(f)(W, np.ones(3)), -np.sin(W + eps) * eps, rtol=1e-12)


# -- 7. statements that do not compute the derivative's data --------------------------

def chatty(w):
    """A docstring, an annotation, and a print with an f-string."""
    y: float = np.sum(w ** 2)
    print(f"loss {y:.3f} over {len(w)} weights", "ok", sep=" | ")
    logging.getLogger("s2sgrad.tests").info("loss %s", y)
    assert y >= 0.0, "a sum of squares is never negative"
    pass
    return y


def test_print_runs_once_per_call_and_assert_checks(capsys):
    g = s2sgrad.grad(chatty)
    capsys.readouterr()
    np.testing.assert_allclose(g(W), 2 * W)
    assert capsys.readouterr().out == f"loss {np.sum(W ** 2):.3f} over 3 weights | ok\n"
    assert "print(f'loss {" in s2sgrad.source(chatty)


def checked(w, limit):
    if np.max(np.abs(w)) > limit:
        raise ValueError(f"weights above {limit}")
    assert limit > 0, "the limit must be positive"
    return np.sum(w ** 3)


def test_raise_in_a_branch_and_assert_keep_their_effect():
    np.testing.assert_allclose(s2sgrad.grad(checked)(W, 2.0), 3 * W ** 2)
    with pytest.raises(ValueError, match="weights above 0.5"):
        s2sgrad.grad(checked)(W, 0.5)
    with pytest.raises(AssertionError, match="positive"):
        s2sgrad.grad(checked)(W * 0, 0.0)


def quiet_log(w):
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = np.sum(logs * w)
    return total


def test_with_blocks_whose_manager_binds_nothing_differentiated():
    check_grads(quiet_log, W)
    before = np.geterr()
    s2sgrad.grad(quiet_log)(W)
    assert np.geterr() == before                       # the manager was left again


def shuffled(w):
    rng = np.random.default_rng(0)
    idx = np.arange(3)
    rng.shuffle(idx)
    return np.sum(w[idx] * np.arange(3.0))


def test_a_call_for_its_effect_that_may_change_its_arguments_is_refused():
    with pytest.raises(UnsupportedSyntaxError) as info:
        s2sgrad.grad(shuffled)
    assert "rng.shuffle" in str(info.value) and "changes a value in place" in str(info.value)
    assert "permutation" in info.value.hint


def printed_derivative_input(w):
    print(w)
    return np.sum(np.exp(w))


def test_print_of_a_differentiated_value_is_no_derivative_and_no_refusal(capsys):
    np.testing.assert_allclose(s2sgrad.grad(printed_derivative_input)(W), np.exp(W))
    assert capsys.readouterr().out.strip() == str(W)


# -- 6. comprehensions and generator expressions ----------------------------------------

def features(w, xs):
    basis = [np.sin(w * x) for x in xs]
    odd = [b * 2.0 for k, b in enumerate(basis) if k % 2 == 1]
    total = sum(np.sum(b ** 2) for b in basis) + sum(np.sum(o) for o in odd)
    pairs = np.array([[np.sum(w) * i, np.sum(w * w) * j] for i in range(2) for j in range(1, 3)])
    doubled = [x * 2.0 for x in xs]
    stacked = np.stack([w * x for x in doubled])
    x = 10.0                                         # the comprehension's x is its own
    return total + np.sum(pairs ** 2) + np.sum(stacked) + x * max(doubled)


def test_comprehensions_and_generator_expressions():
    xs = [0.5, -1.0, 2.0]
    check_grads(features, W, xs, wrt=(0,))
    assert s2sgrad.value_and_grad(features)(W, xs)[0] == features(W, xs)
    value, tangent = s2sgrad.jvp(features, (W, xs), (np.ones(3),), wrt=(0,))
    np.testing.assert_allclose(tangent, np.sum(s2sgrad.grad(features)(W, xs)))
    h = s2sgrad.hessian(features)(W, xs)
    np.testing.assert_allclose(h, h.T, atol=1e-9)


def nested_throwaway_loops(w, signals, weights):
    total = 0.0
    for _ in range(2):
        for _ in range(3):
            total = total + 0.1 * np.sum(w ** 2)
    for i, (s, c) in enumerate(zip(signals, weights)):
        if isinstance(c, (int, float)):
            total = total + c * (i + 1) * np.dot(s[:3], w)
    for name, scale in {"a": 1.0, "b": 0.5}.items():
        total = total + scale * np.sum(np.cos(w)) * len(name)
    return total


def test_loops_over_what_python_iterates():
    signals = [np.linspace(0.0, 1.0, 5), np.linspace(-1.0, 2.0, 5)]
    check_grads(nested_throwaway_loops, W, signals, [2.0, 3], wrt=(0,))


def hmm_forward(log_pi, log_A, log_B, obs):
    alpha = log_pi + log_B[:, obs[0]]
    for t in range(1, len(obs)):
        alpha = special.logsumexp(alpha[:, None] + log_A, 0) + log_B[:, obs[t]]
    probs = special.softmax(alpha)
    return special.logsumexp(alpha) + 0.1 * np.sum(probs * special.log_softmax(alpha))


def test_scipy_logsumexp_softmax_log_softmax_have_rules():
    rng = np.random.default_rng(1)
    args = (rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=(3, 4)), [0, 2, 1, 3])
    check_grads(hmm_forward, *args, wrt=(0, 1, 2))


class Grid:
    """A user's object whose attributes share names with an array's."""
    def __init__(self):
        self.shape, self.size, self.T = (2, 3), 6, 0.5


GRID = Grid()


def on_grid(w, grid):
    rows, cols = grid.shape
    return np.sum(w ** 2) * rows * cols / grid.size * grid.T + w.shape[0]


def test_an_objects_attribute_named_like_an_arrays_is_the_objects():
    np.testing.assert_allclose(s2sgrad.grad(on_grid)(W, GRID), 2 * W * 0.5)
    assert s2sgrad.value_and_grad(on_grid)(W, GRID)[0] == on_grid(W, GRID)


# -- 2. parameters as trees -------------------------------------------------------------

import dataclasses                             # noqa: E402
from collections import namedtuple             # noqa: E402

Layer = namedtuple("Layer", ["W", "b"])


@dataclasses.dataclass
class Params:
    scale: np.ndarray
    shift: float
    name: str = "model"          # static: no gradient, kept as it is
    layers: int = 2


class Plain:
    def __init__(self):
        self.weights = np.array([0.5, -0.25, 1.0])
        self.bias = 0.1
        self.activation = np.tanh


def mlp_loss(params, x, y):
    for W, b in params:
        x = np.tanh(x @ W + b)
    return np.mean((x - y) ** 2)


def namedtuple_loss(layers, x):
    h = x
    for layer in layers:
        h = np.tanh(h @ layer.W + layer.b)
    first = layers[0]
    return np.sum(h ** 2) + 0.1 * np.sum(first.W ** 2)


def dataclass_loss(p, x):
    assert p.name == "model"
    return np.sum(np.sin(p.scale * x + p.shift)) * p.layers


def object_loss(model, x):
    return np.sum(np.tanh(x * model.weights + model.bias) ** 2)


def nested_loss(tree, x):
    enc, (dec_w, dec_b) = tree["encoder"], tree["decoder"]
    h = x
    for w in enc:
        h = np.tanh(h * w)
    return np.sum((h * dec_w + dec_b) ** 2) + tree["prior"] ** 2


def test_gradients_of_trees_have_the_trees_own_types():
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(3, 4)), rng.normal(size=4)), (rng.normal(size=(4, 1)), np.zeros(1))]
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    grad = check_tree_grad(mlp_loss, (params, x, y), 0)
    assert isinstance(grad[0], tuple) and grad[1][1].shape == (1,)
    layers = (Layer(rng.normal(size=(3, 3)), rng.normal(size=3)), Layer(rng.normal(size=(3, 2)), np.ones(2)))
    grad = check_tree_grad(namedtuple_loss, (layers, x), 0)
    assert isinstance(grad[1], Layer)
    p = Params(np.array([0.5, 1.5, -1.0]), 0.25)
    grad = check_tree_grad(dataclass_loss, (p, np.array([1.0, 2.0, 3.0])), 0)
    assert isinstance(grad, Params) and grad.name == "model" and grad.layers == 2 and isinstance(grad.shift, float)
    grad = check_tree_grad(object_loss, (Plain(), np.array([0.3, -0.1, 0.8])), 0)
    assert isinstance(grad, Plain) and grad.activation is np.tanh
    tree = {"encoder": [np.array([0.5, 1.0]), np.array([1.5, -0.5])], "decoder": (np.array([2.0, 1.0]), 0.5),
            "prior": 0.3}
    grad = check_tree_grad(nested_loss, (tree, np.array([0.2, 0.4])), 0)
    assert isinstance(grad["decoder"], tuple) and isinstance(grad["encoder"], list)


def test_a_tree_with_an_integer_leaf_is_refused_naming_the_leaf_briefly():
    params = [(np.ones((3, 4)), np.zeros(4)), (np.ones((4, 1)), np.array([1, 2]))]
    with pytest.raises(s2sgrad.NotDifferentiableError) as info:
        s2sgrad.grad(mlp_loss)(params, np.ones((2, 3)), np.ones((2, 1)))
    message = str(info.value)
    assert "`params[1][1]`" in message and "an array of int64, shape (2,)" in message and len(message) < 600



# -- 5. lambdas and function values -----------------------------------------------------

relu = lambda z: np.maximum(0.0, z)                                   # noqa: E731
log_softmax = lambda z: z - special.logsumexp(z, axis=1, keepdims=True)   # noqa: E731


def predict(params, inputs, nonlinearity=np.tanh):
    for W, b in params[:-1]:
        inputs = nonlinearity(inputs @ W + b)
    W, b = params[-1]
    return log_softmax(inputs @ W + b)


def softplus(t, k=2.0):
    return np.log1p(np.exp(k * t)) / k


def classifier_loss(params, inputs, targets):
    smooth = lambda t, k=2.0: np.log1p(np.exp(k * t)) / k           # noqa: E731
    hidden = predict(params, inputs, nonlinearity=relu) + predict(params, inputs)
    penalty = sum(np.sum(smooth(W)) for W, _ in params)
    return -np.sum(hidden * targets) + 0.01 * penalty + np.sum(predict(params, inputs, softplus) * targets)


def test_lambdas_and_functions_passed_as_arguments():
    rng = np.random.default_rng(3)
    params = [(rng.normal(size=(3, 4)) * 0.5, rng.normal(size=4)), (rng.normal(size=(4, 2)), rng.normal(size=2))]
    inputs, targets = rng.normal(size=(6, 3)), np.eye(2)[rng.integers(0, 2, 6)]
    grad = check_tree_grad(classifier_loss, (params, inputs, targets), 0)
    assert isinstance(grad, list) and isinstance(grad[0], tuple)
    assert s2sgrad.grad(relu)(2.0) == 1.0 and s2sgrad.grad(relu)(-1.0) == 0.0


def held_function(w, f):
    return np.sum(f(w))


def test_a_function_given_as_the_differentiated_functions_argument_is_refused_where_it_is_called():
    with pytest.raises(NoRuleError) as info:
        s2sgrad.grad(held_function)(W, np.tanh)
    assert "function held in a variable" in str(info.value)
    assert info.value.loc.line == held_function.__code__.co_firstlineno + 1


# -- a helper s2sgrad cannot read runs as Python, unless a differentiated value flows through

def unpack(flat, shapes):
    start = 0
    for m, n in shapes:
        yield flat[start:start + m * n].reshape(m, n)
        start += m * n


def design(*columns):
    try:
        return np.column_stack(columns)
    except ValueError:
        return None


def glm_loss(beta, stim):
    X = design(np.ones(len(stim)), stim, stim ** 2)
    return np.sum(np.exp(X @ beta)) - np.sum(X @ beta)


def unpacked_loss(flat, x):
    total = 0.0
    for W in list(unpack(flat, [(2, 2)])):
        total = total + np.sum(np.tanh(x @ W))
    return total


def designed_from_weights(beta, stim):
    X = design(beta * stim[:3], stim[:3])
    return np.sum(X ** 2)


def _unwrapped(phases):
    return np.unwrap(phases)


def unwrapped_from_weights(beta, stim):
    return np.sum(_unwrapped(beta * stim[:3]))


def test_a_helper_runs_on_data_and_is_refused_where_differentiated_values_meet_no_rule():
    check_grads(glm_loss, np.array([0.1, -0.2, 0.05]), np.linspace(-1.0, 1.0, 5), wrt=(0,))
    check_grads(unpacked_loss, np.arange(4.0) / 4, np.ones((3, 2)))      # (a generator: read as it runs)
    check_grads(designed_from_weights, np.array([0.1, -0.2, 0.05]), np.linspace(-1.0, 1.0, 5))   # (a try)
    with pytest.raises(NoRuleError) as info:             # never a silent zero
        s2sgrad.grad(unwrapped_from_weights)(np.array([0.1, -0.2, 0.05]), np.linspace(-1.0, 1.0, 5))
    assert "np.unwrap" in str(info.value)
    assert info.value.loc.line == _unwrapped.__code__.co_firstlineno + 1


# -- 8. classes and methods -------------------------------------------------------------

class Ridge:
    def __init__(self, X, y, alpha):
        self.X, self.y, self.alpha = X, y, alpha

    def predict(self, w):
        return self.X @ w

    def penalty(self, w):
        return self.alpha * np.sum(w ** 2)

    def loss(self, w):
        resid = self.predict(w) - self.y
        return 0.5 * np.mean(resid ** 2) + self.penalty(w)


class LassoLike(Ridge):
    def penalty(self, w):
        return self.alpha * np.sum(np.abs(w))


def test_a_bound_method_and_the_methods_it_calls():
    rng = np.random.default_rng(5)
    model = Ridge(rng.normal(size=(6, 3)), rng.normal(size=6), 0.1)
    w = rng.normal(size=3)
    check_grads(model.loss, w)
    np.testing.assert_allclose(s2sgrad.grad(model.loss)(w), s2sgrad.grad(Ridge.loss, 1)(model, w))
    value, g = s2sgrad.value_and_grad(model.loss)(w)
    assert value == model.loss(w)
    np.testing.assert_allclose(s2sgrad.hessian(model.loss)(w), model.X.T @ model.X / 6 + 0.2 * np.eye(3), atol=1e-12)
    assert "def grad_loss(self, w):" in s2sgrad.source(model.loss)


def test_a_subclass_method_replacing_the_one_inlined_is_caught():
    rng = np.random.default_rng(5)
    lasso = LassoLike(rng.normal(size=(6, 3)), rng.normal(size=6), 0.1)
    w = rng.normal(size=3)
    check_grads(lasso.loss, w)                           # its own class: its own penalty
    with pytest.raises(AssertionError, match="replaced by a subclass"):
        s2sgrad.grad(Ridge.loss, 1)(lasso, w)            # Ridge's code on a LassoLike: refused


def _spring(state, t, k, c):
    x, v = state
    return np.array([v, -k * x - c * v])


def _step(f, y, t, dt, *args):
    k1 = f(y, t, *args)
    k2 = f(y + 0.5 * dt * k1, t + 0.5 * dt, *args)
    return y + dt * k2


def _integrate(f, y0, ts, *args):
    ys = [y0]
    for t0, t1 in zip(ts[:-1], ts[1:]):
        ys.append(_step(f, ys[-1], t0, t1 - t0, *args))
    return np.stack(ys)


def trajectory_error(phys, y0, ts, observed):
    k, c = phys
    traj = _integrate(_spring, y0, ts, k, c)
    return np.sum((traj[:, 0] - observed) ** 2)


def test_args_passed_on_through_helpers():
    ts = np.linspace(0.0, 2.0, 9)
    check_grads(trajectory_error, np.array([2.0, 0.3]), np.array([1.0, 0.0]), ts, np.cos(1.5 * ts), wrt=(0,))


def starred_unpacking(params, x):
    *hidden, (W_out, b_out) = params
    for W, b in hidden:
        x = np.tanh(x @ W + b)
    first, *middle, last = [1.0, 2.0, 3.0, 4.0]
    return np.sum(x @ W_out + b_out) * first + sum(middle) * last


def test_starred_unpacking_of_a_tree():
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(3, 4)), rng.normal(size=4)), (rng.normal(size=(4, 4)), rng.normal(size=4)),
              (rng.normal(size=(4, 1)), np.zeros(1))]
    check_tree_grad(starred_unpacking, (params, rng.normal(size=(2, 3))), 0)


def _layer(x, W, activation=None, kind="dense"):
    y = x @ W
    if kind not in ("dense", "linear"):
        raise ValueError(kind)
    return activation(y) if activation is not None else y


def optional_activation(W, x):
    hidden = _layer(x, W, np.tanh)
    out = _layer(hidden, W.T, kind="linear")
    return np.sum(out ** 2)


def test_is_none_and_in_tests_decided_where_the_values_are_known():
    rng = np.random.default_rng(2)
    check_grads(optional_activation, rng.normal(size=(3, 3)), rng.normal(size=(4, 3)), wrt=(0,))


# -- 9. outputs holding one number in an array ------------------------------------------

def least_squares_1x1(w, X, y):
    r = X @ w.reshape(-1, 1) - y.reshape(-1, 1)
    return r.T @ r / len(y)              # shape (1, 1), as a textbook writes it


def energy_keepdims(x):
    return np.sum(np.sin(x) * x, keepdims=True)     # shape (1,)


def test_outputs_of_shape_1_or_1x1_are_taken_as_scalars():
    rng = np.random.default_rng(3)
    w, X, y = rng.normal(size=3), rng.normal(size=(5, 3)), rng.normal(size=5)
    check_tree_grad(least_squares_1x1, (w, X, y), 0)
    check_tree_grad(energy_keepdims, (w,), 0)
    value, (dw, dy) = s2sgrad.value_and_grad(least_squares_1x1, (0, 2))(w, X, y)
    assert np.shape(value) == (1, 1)
    np.testing.assert_allclose(value, least_squares_1x1(w, X, y))
    np.testing.assert_allclose(dy, 2 * (y - X @ w) / len(y))


def test_an_output_of_several_numbers_is_still_refused():
    with pytest.raises(s2sgrad.ShapeError, match=r"returned an array of shape \(3,\)"):
        s2sgrad.grad(lambda x: x * 2)(W)


def _polar(r, theta):
    return r * np.cos(theta), r * np.sin(theta)


def to_cartesian(r, theta):
    return _polar(r, theta)                 # a helper's tuple passed on as it is


def arc_energy(r, theta):
    x, y = to_cartesian(r, theta)
    both = to_cartesian(r, 2 * theta)
    return np.sum(x * y) + np.sum(both[0] ** 2 * both[1])


def test_a_helpers_tuple_returned_directly():
    rng = np.random.default_rng(4)
    r, theta = rng.uniform(0.5, 2.0, size=4), rng.normal(size=4)
    check_grads(to_cartesian, r, theta)
    check_tree_grad(arc_energy, (r, theta), 0)
    check_tree_grad(arc_energy, (r, theta), 1)


# -- errors that say what to do ------------------------------------------------------------

def uses_pullback_as_a_name(x):
    pullback = np.sin(x)
    return pullback * x


def test_a_variable_named_pullback_is_the_users_own():
    x = np.array([0.4, 1.3])
    check_grads(uses_pullback_as_a_name, x)
    assert "def pullback_2(" in s2sgrad.source(uses_pullback_as_a_name, kind="vjp")


def _made(fn):
    def applied(x):
        return fn(x) + x
    return applied


def calls_a_made_function(x):
    return np.sum(_made(np.sin)(x))


def repeats_computed(x):
    return np.sum(np.repeat(x, int(np.sum(x))))


def test_refusals_give_valid_advice():
    with pytest.raises(NoRuleError) as caught:
        s2sgrad.grad(calls_a_made_function)(W)
    assert "give that function a name at module level" in str(caught.value)
    assert "_rule(" not in str(caught.value)      # no `def _made(np.sin)_rule`
    check_grads(repeats_computed, W)          # (a count computed when it runs: no derivative of its own)


# -- 10. derivatives of functions applied entry by entry ------------------------------------

def my_tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def leaky_layers(x, w):
    for _ in range(3):
        x = np.where(x > 0, x, 0.1 * x) * w + np.sin(x)
    return x


def _column_fd(fn, args, i, eps=1e-6):
    """d sum(fn) / d args[i], entry by entry, by central differences."""
    out = np.zeros_like(args[i])
    for k in range(args[i].size):
        up, down = list(args), list(args)
        step = np.zeros_like(args[i])
        step.flat[k] = eps
        up[i], down[i] = args[i] + step, args[i] - step
        out.flat[k] = (np.sum(fn(*up)) - np.sum(fn(*down))) / (2 * eps)
    return out


def test_elementwise_grad_to_the_sixth_order_against_sympy():
    sympy = pytest.importorskip("sympy")
    t = sympy.Symbol("t")
    x = np.linspace(-2.0, 2.0, 7)
    d = my_tanh
    for order in range(1, 7):
        d = s2sgrad.elementwise_grad(d)
        want = sympy.lambdify(t, sympy.diff(sympy.tanh(t), t, order))(x)
        np.testing.assert_allclose(d(x), want, rtol=1e-9, atol=1e-9, err_msg=f"order {order}")


def test_elementwise_grad_of_a_loop_with_respect_to_two_arguments():
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(2, 3)), rng.uniform(0.5, 1.5, size=3)
    dx, dw = s2sgrad.elementwise_grad(leaky_layers, (0, 1))(x, w)
    np.testing.assert_allclose(dx, _column_fd(leaky_layers, (x, w), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dw, _column_fd(leaky_layers, (x, w), 1), rtol=1e-6, atol=1e-8)
    first = s2sgrad.elementwise_grad(leaky_layers)
    second = s2sgrad.elementwise_grad(first)(x, w)
    np.testing.assert_allclose(second, _column_fd(first, (x, w), 0), rtol=1e-5, atol=1e-7)


def spread(x):
    return x * np.arange(3.0) + np.cumsum(x * np.ones(3)) ** 2     # one number in, three out


def test_elementwise_grad_seeds_ones_of_the_outputs_shape():
    # sum(spread(x)) = 3x + (1 + 4 + 9) x**2: 3 + 28x, then 28
    assert s2sgrad.elementwise_grad(spread)(0.5) == pytest.approx(3 + 28 * 0.5)
    assert s2sgrad.grad(s2sgrad.elementwise_grad(spread))(0.5) == pytest.approx(28.0)


def test_elementwise_grad_of_other_derivatives_is_refused():
    with pytest.raises(s2sgrad.NotDifferentiableError, match="takes an elementwise_grad"):
        s2sgrad.elementwise_grad(s2sgrad.grad(lambda x: np.sum(my_tanh(x))))
    with pytest.raises(s2sgrad.NotDifferentiableError, match="the same, single argument"):
        s2sgrad.elementwise_grad(s2sgrad.elementwise_grad(leaky_layers), 1)


# -- 7. imports inside the function ----------------------------------------------------------

def imports_inside(x):
    import math
    import numpy.linalg
    import scipy.special as sps
    from scipy.special import logsumexp as lse
    from numpy import sin
    return np.sum(x) * math.pi + lse(x) + numpy.linalg.norm(sin(x)) + np.sum(sps.log_ndtr(x))


def imports_what_is_missing(x):
    import no_such_module_anywhere  # noqa: F401
    return x


def test_imports_inside_the_function_bind_their_names():
    check_grads(imports_inside, np.array([0.5, -1.0, 2.0]))
    with pytest.raises(UnsupportedSyntaxError, match="this import fails"):
        s2sgrad.grad(imports_what_is_missing)(1.0)


# -- 5. functools.partial --------------------------------------------------------------------

def _weighted_sq(x, a, b=1.0, c=0.0):
    return np.sum(a * x ** 2) * b + c


def partial_losses(x):
    import functools
    scaled = functools.partial(_weighted_sq, a=2.0)
    fixed = functools.partial(_weighted_sq, x, 3.0, c=1.0)
    dot_x = functools.partial(np.dot, x)
    again = functools.partial(fixed, b=4.0)
    return scaled(x) + scaled(x, b=3.0) + scaled(x, a=0.5) + fixed(0.5) + dot_x(np.sin(x)) + again()


def partial_passed_on(x):
    import functools
    f = functools.partial(_weighted_sq, a=2.0)
    return _apply(f, x)


def _apply(fn, x):
    return fn(x)


def partial_of_a_changing_value(x):
    import functools
    total = 0.0
    for i in range(3):
        if i == 0:
            f = functools.partial(_weighted_sq, a=i + 1.0)
        total = total + f(x)
    return total


def keyword_that_is_no_parameter(x):
    return _weighted_sq(x, 1.0, d=2.0)


def test_functools_partial_is_the_call_it_stands_for():
    check_grads(partial_losses, np.array([0.5, -1.0, 2.0]))


@pytest.mark.parametrize("fn, words", [
    (partial_passed_on, "follows where it is called by its name"),
    (partial_of_a_changing_value, "`i` is given to functools.partial and changes later"),
    (keyword_that_is_no_parameter, "`_weighted_sq` takes no parameter `d`"),    # (was silently dropped)
])
def test_partials_s2sgrad_cannot_follow_are_refused(fn, words):
    with pytest.raises(UnsupportedSyntaxError, match=words):
        s2sgrad.grad(fn)(np.array([0.5, -1.0]))


# -- 10. grad called inside a function that is differentiated -----------------------------------

def _phase(x, w):
    return np.sum(np.sin(w * x))


def gradient_penalty(w, x):
    g = s2sgrad.grad(_phase, 1)(x, w)                     # with respect to another argument
    value, g_w = s2sgrad.value_and_grad(_phase, wrt=1)(x, w)
    return np.sum(g ** 2) + value * np.sum(g_w)


def gradient_of_itself(x):
    return np.sum(s2sgrad.grad(_phase)(x, x) ** 2)      # with respect to the same one


def test_grad_written_inside_a_differentiated_function():
    w, x = np.array([0.3, 0.7, -1.1]), np.array([1.0, 2.0, 0.5])
    check_grads(gradient_penalty, w, x)
    check_grads(gradient_of_itself, x)
    with pytest.raises(UnsupportedSyntaxError, match="second derivative"):
        s2sgrad.hessian(gradient_of_itself)(x)


def _drift(state, dt):
    x, v = state
    return x + dt * v, v


def tuple_state_reassigned_in_a_loop(v0):
    state = (0.0, v0)
    for _ in range(3):
        state = _drift(state, 0.1)
    x, _ = state
    return (x - 1.0) ** 2


def test_a_tuple_reassigned_in_a_loop_is_never_read_as_its_first_value():
    # it was: the read after the loop took the tuple built before it (x = 0.0), a silent wrong value
    value, grad = s2sgrad.value_and_grad(tuple_state_reassigned_in_a_loop)(2.0)
    assert value == pytest.approx(tuple_state_reassigned_in_a_loop(2.0))
    assert grad == pytest.approx(2 * (0.3 * 2.0 - 1.0) * 0.3)


def swapped_pairs(a, b):
    pair = (a, b)
    for k in range(3):
        pair = (pair[1] * 1.5, np.sin(pair[0]) + k)     # both read before either is written
        if k == 1:
            pair = (pair[0] + pair[1], pair[1])
    first, second = pair
    return np.sum(first * second)


def rotated(state, angle):
    x, y = state
    return x * np.cos(angle) - y * np.sin(angle), x * np.sin(angle) + y * np.cos(angle)


def orbit(x0, angles):
    state = (x0, 2.0 * x0)
    for angle in angles:
        state = rotated(state, angle)
    return np.sum(state[0] ** 2 + 3.0 * state[1])


def test_tuples_reassigned_keep_each_item_in_a_variable():
    rng = np.random.default_rng(9)
    check_grads(swapped_pairs, rng.normal(size=3), rng.normal(size=3))
    check_grads(orbit, rng.normal(size=2), np.array([0.3, -0.2, 1.1]))


# -- 5. map and lambdas called where they are written ----------------------------------------

def _energy(v):
    return np.sum(v ** 2)


def mapped_terms(x, w):
    terms = sum(map(_energy, [x, np.sin(x)])) + sum(map(np.sum, [x, x ** 2]))
    dots = list(map(lambda a, b: np.dot(a, b), [x, 2 * x], [w, w]))
    return terms + dots[0] * np.prod(np.array(list(map(np.tanh, dots)))) + (lambda v: v ** 3)(w[0])


def map_kept_in_a_variable(x):
    squares = map(np.square, x)
    return sum(squares)


def test_map_and_lambdas_called_in_place():
    rng = np.random.default_rng(12)
    check_grads(mapped_terms, rng.normal(size=3), rng.normal(size=3))
    with pytest.raises(UnsupportedSyntaxError, match="map object kept in a variable"):
        s2sgrad.grad(map_kept_in_a_variable)(W)


# -- 6. dict and set comprehensions ------------------------------------------------------------

def weighted_by_name(x, names=("a", "bb", "ccc")):
    weight = {name: i + 1.0 for i, name in enumerate(names) if name != "bb"}
    lengths = {len(n) for n in names}
    total = 0.0
    for key in sorted(weight):
        total = total + weight[key] * np.sum(np.sin(x) * len(key))
    return total * len(lengths)


def dict_of_differentiated_values(x):
    parts = {i: x[i] ** 2 for i in range(2)}
    return parts[0] + parts[1]


def test_dict_and_set_comprehensions_run_as_python():
    check_grads(weighted_by_name, np.array([0.4, -1.2, 2.0]))
    with pytest.raises(NoRuleError, match="a dict holding differentiated values"):
        s2sgrad.grad(dict_of_differentiated_values)(W)


# -- found by an adversarial review: values that change after they are captured -------------------

def _times(a, b):
    return a * b


def partial_of_a_parameter_rebound(x):
    import functools
    h = functools.partial(_times, x)
    x = x * 3.0
    return np.sum(h(x))


def tuple_alias_kept(x):
    p = (x[0], x[1])
    q = p
    for _ in range(2):
        p = (p[1] * 2, p[0])         # q keeps the first items
    return q[0] * 100.0 + q[1] * 10 + p[0] + p[1]


def tuple_alias_through_a_helper(x):
    def step(s):
        return s[1], s[0] + s[1]
    p = (x[0], x[1])
    old = p
    p = step(p)
    return old[0] + 10 * p[0] + p[1]


def test_values_captured_before_they_change_are_kept_or_refused():
    x = np.array([0.3, -1.2, 0.7])
    with pytest.raises(UnsupportedSyntaxError, match="`x` is given to functools.partial and changes later"):
        s2sgrad.grad(partial_of_a_parameter_rebound)(x)
    check_grads(tuple_alias_kept, x)
    check_grads(tuple_alias_through_a_helper, x)


# -- 5. functions held in variables, and loops over functions ----------------------------

def _relu(v):
    return np.maximum(v, 0.0)


ACTIVATIONS = (np.tanh, _relu, np.sin)
NAMED_LAYERS = [
    ("soft", lambda v, s: np.log1p(np.exp(s * v))),
    ("cubic", lambda v, s: s * v ** 3),
]


def aliased_activation(w):
    act = np.tanh
    squash = _relu
    return np.sum(act(w) * squash(w - 0.5))


def _activation_by_mode(w, mode):
    act = np.sin
    if mode == "tanh":
        act = np.tanh
    return np.sum(act(w) ** 2)


def activation_by_mode(w):
    return _activation_by_mode(w, "tanh") + _activation_by_mode(w, "sin")


def _picked_activation(kind):
    if kind == "relu":
        return _relu
    return np.tanh


def returned_activation(w):
    act = _picked_activation("relu")
    other = _picked_activation("tanh")
    return np.sum(act(w) * other(w))


def loop_over_written_functions(w):
    total = 0.0
    for f in [np.sin, np.cos, lambda v: v ** 3, _relu]:
        total = total + np.sum(f(w))
    return total


def loop_over_module_functions(w):
    return sum(np.sum(g(w) * (k + 1)) for k, g in enumerate(ACTIVATIONS))


def loop_over_named_pairs(w):
    outs = [fn(w, 0.5 * (i + 1)) for i, (name, fn) in enumerate(NAMED_LAYERS) if name != "skip"]
    return np.sum(outs[0] * outs[1])


def loop_over_functions_with_break(w):
    total = 0.0
    for f in (np.exp, np.sin, np.cos):
        total = total + np.sum(f(w))
        if total > 5.0:
            break
    return total


def loop_over_functions_and_values(w):
    total = 0.0
    scale = 1.0
    for f, c in [(np.sin, scale), (np.tanh, scale * 2.0)]:
        scale = scale * 10.0                 # the list was built before the loop: c is 1 then 2
        total = total + c * np.sum(f(w))
    return total


def sorted_values(w):
    ordered = sorted(w)
    largest = sorted(w * w, reverse=True)[:2]
    return ordered[0] * 3.0 + ordered[-1] + sum(largest)


@pytest.mark.parametrize("fn", [aliased_activation, activation_by_mode, returned_activation,
                                loop_over_written_functions, loop_over_module_functions, loop_over_named_pairs,
                                loop_over_functions_with_break, loop_over_functions_and_values, sorted_values])
def test_functions_held_in_variables_are_called_as_known_here(fn):
    w = np.array([0.3, -0.8, 1.1])
    check_grads(fn, w)
    value, tangent = s2sgrad.jvp(fn, (w,), (np.ones(3),))
    np.testing.assert_allclose(value, fn(w))
    np.testing.assert_allclose(tangent, np.sum(s2sgrad.grad(fn)(w)))


def activation_changed_in_a_loop(w):
    act = np.sin
    total = 0.0
    for i in range(3):
        total = total + np.sum(act(w * (i + 1)))    # sin, then cos, then cos: decided turn by turn
        act = np.cos
    return total


def test_a_function_changed_from_turn_to_turn_is_refused_where_it_is_called():
    with pytest.raises(NoRuleError, match="function held in a variable") as info:
        s2sgrad.grad(activation_changed_in_a_loop)(W)
    assert info.value.loc.line == activation_changed_in_a_loop.__code__.co_firstlineno + 4


def test_a_function_picked_at_run_time_is_refused_where_it_is_called():
    def picked(w, flag):
        act = np.tanh
        if flag > 0:                         # decided by a value: not known when compiling
            act = np.sin
        return np.sum(act(w))

    with pytest.raises(NoRuleError, match="function held in a variable") as info:
        s2sgrad.grad(picked)(W, 1.0)
    assert info.value.loc.line == picked.__code__.co_firstlineno + 4


def test_sorted_with_a_key_is_refused():
    def by_key(w):
        return sorted(w, key=abs)[0]

    with pytest.raises(UnsupportedSyntaxError, match="keyword `key` of `sorted` is not supported"):
        s2sgrad.grad(by_key)(W)


def test_the_adjoint_of_sorted_follows_pythons_order_at_ties():
    w = np.array([0.5, 0.2, 0.5, 0.2])      # sorted puts equal items in their order (and reversed too)
    weights = np.array([1.0, 10.0, 100.0, 1000.0])
    g = s2sgrad.grad(lambda_free_sorted)(w, weights)
    order = sorted(range(4), key=w.__getitem__, reverse=True)
    expected = np.zeros(4)
    expected[order] = weights
    np.testing.assert_array_equal(g, expected)


def lambda_free_sorted(w, weights):
    return np.sum(np.array(sorted(w, reverse=True)) * weights)


# -- Python's list arithmetic: joined and repeated lists are refused, never differentiated as NumPy's

def repeated_list(w):
    ys = [w[0], w[1]]
    zs = ys * 2
    return zs[0] * zs[3]


def joined_comprehensions(w):
    ys = [v * v for v in w]
    zs = ys + ys
    return zs[0] + 10.0 * zs[4]


def extended_list(w):
    ys = [w[0], w[1]]
    ys += [w[2]]
    return ys[0] + 10.0 * ys[2]


def joined_rows(w):
    rows = [[w[0], w[1]], [w[2]]]
    return sum(rows[0] + rows[1])


def list_turned_array(w):
    ys = [w[0], w[1]]
    ys = np.array(ys)                        # an array from here on: `*` multiplies
    return np.sum(ys * 2 + ys)


@pytest.mark.parametrize("fn, line", [(repeated_list, 2), (joined_comprehensions, 2), (extended_list, 2),
                                      (joined_rows, 2)])
def test_list_arithmetic_is_refused_at_its_line(fn, line):
    with pytest.raises(s2sgrad.NotDifferentiableError, match="list or tuple") as info:
        s2sgrad.grad(fn)(W)
    assert info.value.loc.line == fn.__code__.co_firstlineno + line


def test_a_list_made_an_array_again_is_differentiated():
    check_grads(list_turned_array, W)


def test_a_parameter_given_a_list_and_repeated_is_refused_when_called():
    def repeat_parameter(ws):
        zs = ws * 2
        return zs[0] * zs[3] + zs[1]

    with pytest.raises(s2sgrad.NotDifferentiableError, match="list or tuple") as info:
        s2sgrad.grad(repeat_parameter)([1.0, 2.0])
    assert info.value.loc.line == repeat_parameter.__code__.co_firstlineno + 1
    np.testing.assert_allclose(s2sgrad.grad(repeat_parameter)(np.array([1.0, 2.0, 3.0, 4.0])), [16, 2, 0, 4])


# -- generators looped over -------------------------------------------------------------

def _unpack(params, shapes):
    start = 0
    for m, n in shapes:
        W = params[start:start + m * n].reshape(m, n)
        start += m * n
        b = params[start:start + n]
        start += n
        yield W, b


def generator_network(params, x):
    shapes = [(2, 3), (3, 1)]
    for W, b in _unpack(params, shapes):
        x = np.tanh(x @ W + b)
    return np.sum(x ** 2)


def _running_sums(values, start=0.0):
    total = start
    for v in values:
        total = total + v
        yield total
    yield total * 0.5                          # a second `yield`: one more turn


def generator_running(params, x):
    out = 0.0
    for t in _running_sums(params[:4], start=np.sum(x)):
        out = out + t * t
    return out + sum(s for s in _running_sums(params[4:7])) + np.sum(list(_running_sums(params[7:9])))


def generator_closure(params, x):
    scale = 1.0

    def scaled():
        for v in params[:5]:
            yield v * scale                    # reads `scale` as the loop below has left it
    total = np.sum(x)
    for u in scaled():
        total = total + np.sin(u)
        scale = scale * 2.0
    return total


def _layers_with(params, act):
    for k in range(2):
        yield act(params[k] * params[k + 2])


def generator_given_a_function(params, x):
    return sum(_layers_with(params, np.tanh)) * np.sum(x)


@pytest.mark.parametrize("fn", [generator_network, generator_running, generator_closure, generator_given_a_function])
def test_loops_over_generators_run_them_as_python_does(fn):
    params = np.linspace(-0.9, 1.1, 13)
    x = np.array([[0.2, -0.4], [0.7, 0.1]])
    check_grads(fn, params, x)
    value, tangent = s2sgrad.jvp(fn, (params, x), (np.ones(13), np.zeros((2, 2))))
    np.testing.assert_allclose(value, fn(params, x))
    np.testing.assert_allclose(tangent, np.sum(s2sgrad.grad(fn)(params, x)), rtol=1e-10)


def generator_loop_with_break(params):
    total = 0.0
    for t in _running_sums(params):
        total = total + t
        if total > 1.0:
            break
    return total


def _returning_generator(values):
    for v in values:
        if v > 0.5:
            return
        yield v


def generator_returning(params):
    return sum(v for v in _returning_generator(params))


def _sending_generator(values):
    for v in values:
        got = yield v
        values = got


def generator_sent(params):
    return sum(v for v in _sending_generator(params))


@pytest.mark.parametrize("fn, line, what", [(generator_loop_with_break, 5, "`break` in a loop over a generator"),
                                            (generator_returning, -4, "`return` inside a generator"),
                                            (generator_sent, -4, "a `yield` used as a value")])
def test_what_generators_do_beyond_yield_is_refused_at_its_line(fn, line, what):
    with pytest.raises(UnsupportedSyntaxError, match=what) as info:
        s2sgrad.grad(fn)(W)
    assert info.value.loc.line == fn.__code__.co_firstlineno + line


def generator_enumerated(params, x):
    total = np.sum(x)
    for k, (W, b) in enumerate(_unpack(params, [(2, 2), (2, 1)])):
        total = total + (k + 1) * np.sum(W) * np.sum(b)
    return total


def test_a_generator_enumerated_is_read_whole():
    check_grads(generator_enumerated, np.linspace(-0.9, 1.1, 13), np.ones((2, 2)))


FUNCTIONS = [np.sin, np.cos, np.tanh]


def _pick_with_elif(kind):
    if kind == "relu":
        return _relu
    elif kind == "tanh":
        return np.tanh
    else:
        raise ValueError("unknown activation " + kind)


def picked_with_elif(w):
    a = _pick_with_elif("tanh")
    b = _pick_with_elif("relu")
    return np.sum(a(w) * b(w))


def swapped_functions(w):
    a, b = np.sin, _relu
    a, b = b, a
    return np.sum(a(w) * b(w))


def functions_zipped_with_values(w, c):
    total = 0.0
    for g, ci in zip(FUNCTIONS, c):
        total = total + ci * np.sum(g(w))
    for k, g in enumerate(reversed(FUNCTIONS[:2])):
        total = total + k * np.sum(g(2.0 * w))
    for g, i in zip(FUNCTIONS[::-1][1:], range(2)):
        total = total + i * np.sum(g(w) ** 2)
    return total


@pytest.mark.parametrize("fn, args", [(picked_with_elif, (W,)), (swapped_functions, (W,)),
                                      (functions_zipped_with_values, (W, np.array([1.0, -2.0, 3.0])))])
def test_more_ways_of_holding_functions(fn, args):
    check_grads(fn, *args)


def function_after_a_break(w):
    for f in FUNCTIONS:
        if np.sum(f(w)) > 0.5:
            break
    return np.sum(f(w))                       # which one: known only when it runs


def test_a_function_left_by_a_loop_that_may_break_is_refused():
    with pytest.raises(NoRuleError, match="function held in a variable") as info:
        s2sgrad.grad(function_after_a_break)(W)
    assert info.value.loc.line == function_after_a_break.__code__.co_firstlineno + 4


def _join(a, b):
    return a + b


def joined_in_a_helper(w):
    both = _join([w[0]], [w[1]])
    return both[0] * both[1]


def items_in_a_dict(w):
    outs = {}
    outs["a"] = np.sin(w)
    return np.sum(outs["a"])


def test_lists_joined_in_a_helper_and_dicts_written_into_are_refused():
    with pytest.raises(s2sgrad.NotDifferentiableError, match="list or tuple") as info:
        s2sgrad.grad(joined_in_a_helper)(W)
    assert info.value.loc.line == _join.__code__.co_firstlineno + 1
    with pytest.raises(NoRuleError, match="a dict holding differentiated values") as info:
        s2sgrad.grad(items_in_a_dict)(W)
    assert info.value.loc.line == items_in_a_dict.__code__.co_firstlineno + 2


def test_a_derivative_follows_the_module_when_its_functions_change(tmp_path):
    from .support import make_function
    summed = make_function(tmp_path, """
        FUNCS = [np.sin, np.cos]
        ACT = np.tanh

        def f(w):
            total = np.sum(ACT(w))
            for g in FUNCS:
                total = total + np.sum(g(w))
            return total
    """)
    df = s2sgrad.grad(summed)
    np.testing.assert_allclose(df(W), 1 - np.tanh(W) ** 2 + np.cos(W) - np.sin(W))
    summed.__globals__["FUNCS"].append(np.exp)
    summed.__globals__["ACT"] = np.sin
    np.testing.assert_allclose(df(W), np.cos(W) + np.cos(W) - np.sin(W) + np.exp(W))
    np.testing.assert_allclose(s2sgrad.grad(summed)(W), np.cos(W) + np.cos(W) - np.sin(W) + np.exp(W))


def _scaled_items(ys, c):
    return [c * y for y in ys]


def joined_after_a_helper_made_the_list(w):
    ys = _scaled_items([w[0], w[1]], 2.0)
    both = _join(ys, ys)
    return both[0] + 10.0 * both[3]


def test_a_list_made_by_a_helper_and_joined_in_another_is_refused():
    with pytest.raises(s2sgrad.NotDifferentiableError, match="list or tuple") as info:
        s2sgrad.grad(joined_after_a_helper_made_the_list)(W)
    assert info.value.loc.line == _join.__code__.co_firstlineno + 1


# -- try / except / else / finally: the derivative of the path that ran --------------------

def _logdet(K, jitter):
    try:
        L = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(K + jitter * np.eye(K.shape[0]))
    return 2.0 * np.sum(np.log(np.diag(L)))


def gp_evidence(A, d, jitter):
    K = A @ A.T + np.diag(d)
    return _logdet(K, jitter) + np.sum(d ** 2)


def guarded_ratio(a, b):
    scale = 2.0
    try:
        r = a / b
        y = np.log(r) * scale
    except ZeroDivisionError as error:
        y = a * scale + 0.0 * len(str(error))
    else:
        y = y + a * b
    finally:
        scale = 0.5
    return y * scale


def first_of_two_tries(a, b):
    try:
        q = a / b
        return q * q
    except (ZeroDivisionError, FloatingPointError):
        pass
    return a ** 3


@pytest.mark.parametrize("fn, args", [
    (gp_evidence, (np.array([[0.5, 0.1], [0.2, 0.4]]), np.array([1.0, 2.0]), 0.1)),
    (gp_evidence, (np.zeros((2, 2)), np.array([1.0, -1e-3]), 0.1)),        # not positive: the handler ran
    (guarded_ratio, (2.0, 3.0)), (first_of_two_tries, (2.0, 3.0)),
])
def test_try_statements_differentiate_the_path_that_ran(fn, args):
    check_grads(fn, *args)


@pytest.mark.parametrize("fn, args, expected", [(guarded_ratio, (2.0, 0.0), (1.0, 0.0)),
                                                (first_of_two_tries, (2.0, 0.0), (12.0, 0.0))])
def test_an_exception_caught_takes_the_handlers_path(fn, args, expected):
    assert s2sgrad.grad(fn, (0, 1))(*args) == expected
    assert s2sgrad.value_and_grad(fn, (0, 1))(*args)[0] == fn(*args)


def uncaught(a):
    try:
        y = np.sqrt(a) + int("not a number")
    except ZeroDivisionError:
        y = a
    return y


def drawn_in_try(a, rng):
    try:
        y = a * rng.normal()
    except ValueError:
        y = a
    return y


def looped_in_try(a):
    try:
        for k in range(3):
            a = a * 2.0
    except ValueError:
        pass
    return a


def test_what_a_try_cannot_do_twice_is_refused_and_an_exception_uncaught_propagates():
    with pytest.raises(ValueError, match="not a number"):
        s2sgrad.grad(uncaught)(2.0)
    with pytest.raises(UnsupportedSyntaxError, match="runs the body twice") as info:
        s2sgrad.grad(drawn_in_try)(2.0, np.random.default_rng(0))
    assert info.value.loc.line == drawn_in_try.__code__.co_firstlineno + 2
    with pytest.raises(UnsupportedSyntaxError, match="simple statements") as info:
        s2sgrad.grad(looped_in_try)(2.0)
    assert info.value.loc.line == looped_in_try.__code__.co_firstlineno + 2


def test_a_ufunc_is_differentiated_as_the_function_that_calls_it():
    x = np.array([0.3, -0.8, 1.1])
    np.testing.assert_allclose(s2sgrad.elementwise_grad(np.tanh)(x), 1 - np.tanh(x) ** 2)
    np.testing.assert_allclose(s2sgrad.elementwise_grad(s2sgrad.elementwise_grad(np.tanh))(x),
                               -2 * np.tanh(x) * (1 - np.tanh(x) ** 2))
    assert s2sgrad.grad(np.sin)(0.5) == np.cos(0.5)
    np.testing.assert_allclose(s2sgrad.grad(np.arctan2, (0, 1))(1.0, 2.0), (0.4, -0.2))
    np.testing.assert_allclose(s2sgrad.elementwise_grad(special.expit)(x),
                               special.expit(x) * (1 - special.expit(x)))
    assert s2sgrad.jvp(np.exp, (1.0,), (2.0,))[1] == 2.0 * np.exp(1.0)
    assert "np.tanh(x)" in s2sgrad.source(np.tanh)


def dict_items_loop(params, x):
    total = 0.0
    for name, value in params.items():
        total = total + np.sum(np.tanh(value * x)) * len(name)
    return total + sum(np.sum(v ** 2) for v in params.values()) + np.sum(np.stack(list(params.values())[:1]))


def test_a_dict_of_parameters_is_read_by_items_and_values():
    params = {"w": np.array([0.3, 0.5]), "b": np.array([0.7, -0.2])}
    x = np.array([1.0, 2.0])
    grads = s2sgrad.grad(dict_items_loop)(params, x)
    check_tree_grad(dict_items_loop, (params, x), 0, grad=grads, rtol=1e-6, atol=1e-8)
    assert set(grads) == {"w", "b"}
    with pytest.raises(TypeError, match="loop over d.items()"):       # (by position: a refusal when it runs)
        s2sgrad.grad(keys_loop)(params, x)


def keys_loop(params, x):
    return sum(np.sum(params[k] * x) for k in params)


def try_finally_only(x):
    s = 1.0
    try:
        s = s + np.log(x)
    finally:
        s = s * 2.0
    return s


def augmented_in_try(x, y):
    s = 1.0 + 0.0 * y
    acc = np.array([x, y]) * 1.0
    try:
        s += x ** 2
        acc += acc ** 2                    # in place: the second run starts from the same acc
        s += np.log(y) if y > 0 else 1 / (y - y)
    except ZeroDivisionError:
        s = s - y
    return s + np.sum(acc)


def _log_or_raise(t):
    try:
        return np.log(t) + 0.0 * float(t)
    except ValueError:
        raise


def _checked_log(t):
    if t <= 0:
        raise ValueError("not positive")
    return np.log(t)


def nested_and_reraised(x, y):
    try:
        v = _checked_log(x) * _log_or_raise(y)
    except ValueError as error:
        v = x * y * len(str(error)) / 12.0
    return v


@pytest.mark.parametrize("fn, args", [(try_finally_only, (2.0,)), (augmented_in_try, (0.7, 0.4)),
                                      (augmented_in_try, (0.7, -0.5)), (nested_and_reraised, (2.0, 3.0)),
                                      (nested_and_reraised, (-2.0, 3.0))])
def test_try_statements_as_people_write_them(fn, args):
    check_grads(fn, *args)


def _fill_then_check(x, out):
    out[0] = x[0] * 2.0
    if x[1] < 0:
        raise ValueError("negative")
    out[1] = x[1]
    return out


def filled_in_try(x):
    buf = np.zeros(2)
    try:
        buf = _fill_then_check(x, buf)
    except ValueError:
        buf[1] = 1.0
    return np.sum(buf)


def printed_in_try(x):
    try:
        y = _shown(np.log(x))
    except ValueError:
        y = x
    return y


def _shown(v):
    print("value", v)
    return v


def test_a_try_body_that_cannot_run_twice_is_refused():
    with pytest.raises(UnsupportedSyntaxError, match="writes into its arguments"):
        s2sgrad.grad(filled_in_try)(np.array([0.5, -1.0]))
    with pytest.raises(UnsupportedSyntaxError, match="runs the body twice") as info:
        s2sgrad.grad(printed_in_try)(2.0)
    assert info.value.loc.line == _shown.__code__.co_firstlineno + 1


SCALE = 2.0


def _scaled_values(v):
    for i in range(len(v)):
        yield v[i] * SCALE


def _walk(v, depth):
    if depth == 0:
        yield v
    else:
        for w in _walk(v * 0.5, depth - 1):
            yield w


def _guarded_values(v):
    for i in range(len(v)):
        try:
            yield v[i]
        except ValueError:
            pass


def shadowing_generator(x, SCALE):
    return sum(t * SCALE for t in _scaled_values(x))


def recursive_generator(x):
    return sum(np.sum(w) for w in _walk(x, 2))


def yield_in_try(x):
    return sum(np.log(t) for t in _guarded_values(x))


@pytest.mark.parametrize("fn, args, what", [(shadowing_generator, (W, 5.0), "reads `SCALE`, which means something else here"),
                                            (recursive_generator, (W,), "loops over itself"),
                                            (yield_in_try, (W,), "inside a `try`")])
def test_generators_that_cannot_be_spliced_are_refused(fn, args, what):
    with pytest.raises(UnsupportedSyntaxError, match=what):
        s2sgrad.grad(fn)(*args)


# -- tuples holding differentiated values, in lists ---------------------------------------

def pairs_in_a_list(w):
    pairs = [(w[0], w[1]), (w[1], w[2])]
    return sum(a * b for a, b in pairs)


def layers_appended(w):
    layers = []
    for i in range(2):
        layers.append((w * (i + 1.0), w[i]))
    total = 0.0
    for W, b in layers:
        total = total + np.sum(np.tanh(W)) * b
    return total


def _weights_and_biases(params):
    yield params[:2], params[2]
    yield params[3:5], params[5]


def generator_pairs_listed(params):
    layers = list(_weights_and_biases(params))
    return sum(np.sum(W ** 2) * b for W, b in layers) + \
        sum(np.sum(p[0] * q[0]) for p, q in zip(_weights_and_biases(params), _weights_and_biases(params * 2.0)))


@pytest.mark.parametrize("fn, n", [(pairs_in_a_list, 3), (layers_appended, 3), (generator_pairs_listed, 6)])
def test_tuples_of_differentiated_values_in_lists(fn, n):
    w = np.linspace(-0.7, 0.9, n)
    check_grads(fn, w)
    value, tangent = s2sgrad.jvp(fn, (w,), (np.ones(n),))
    np.testing.assert_allclose(tangent, np.sum(s2sgrad.grad(fn)(w)), rtol=1e-10)
    hessian = s2sgrad.hessian(fn)(w)
    step = 1e-6
    numeric = np.array([(s2sgrad.grad(fn)(w + step * e) - s2sgrad.grad(fn)(w - step * e)) / (2 * step)
                        for e in np.eye(n)])
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-6)


def _leaky(alpha):
    def act(v):
        return np.where(v > 0, v, alpha * v)
    return act


def _dense(W, b):
    return lambda v: np.tanh(v @ W + b)


def closures_made_by_helpers(W, x):
    act = _leaky(0.1)
    layer = _dense(W, W[0])
    return np.sum(act(layer(x) - 0.2) ** 2)


def test_a_function_a_helper_makes_and_returns_is_called_where_it_is_held():
    check_grads(closures_made_by_helpers, np.array([[0.3, -0.2], [0.5, 0.4]]), np.array([[1.0, 2.0], [-1.0, 0.5]]))


Layer = collections.namedtuple("Layer", "W b scale", defaults=(1.0,))


def namedtuples_made_inside(w):
    layers = [Layer(w[:2] * 2.0, w[2]), Layer(W=w[1:] ** 2, b=w[0], scale=0.5)]
    total = 0.0
    for layer in layers:
        total = total + layer.scale * np.sum(np.tanh(layer.W)) * layer.b
    first = layers[0]
    return total + first[1] * first.W[0] + sum(Layer(w[0], w[1]))


def test_namedtuples_made_inside_the_function_carry_the_derivative():
    check_grads(namedtuples_made_inside, W)
    value, tangent = s2sgrad.jvp(namedtuples_made_inside, (W,), (np.ones(3),))
    np.testing.assert_allclose(tangent, np.sum(s2sgrad.grad(namedtuples_made_inside)(W)))
    with pytest.raises(UnsupportedSyntaxError, match="has the fields W, b, scale"):
        s2sgrad.grad(lambda_free_bad_layer)(W)


def lambda_free_bad_layer(w):
    return Layer(w, w, w, w).b


# -- dtypes: a float32 argument's gradient is float32 -------------------------------------

def single_precision_model(x, W):
    h = np.tanh(x @ W)
    buffer = np.zeros(3, dtype=x.dtype)
    buffer[0] = x[0] * 2
    return np.sum(h ** 2) + np.mean(x) + np.sum(buffer * x[:3]) + np.max(x) + np.sum(x * x, dtype=np.float64) \
        * np.mean(W, axis=0, dtype=np.float64)[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64])
def test_a_gradient_has_its_arguments_float_type(dtype):
    x, W = np.linspace(-1, 1, 4).astype(dtype), np.full((4, 3), 0.1, dtype)
    value, (gx, gW) = s2sgrad.value_and_grad(single_precision_model, (0, 1))(x, W)
    assert gx.dtype == dtype and gW.dtype == dtype and value.dtype == single_precision_model(x, W).dtype
    check_grads(single_precision_model, x.astype(float), W.astype(float))
    exact = s2sgrad.grad(single_precision_model, (0, 1))(x.astype(float), W.astype(float))
    tolerance = {np.float16: 2e-2, np.float32: 1e-5, np.float64: 1e-12}[dtype]
    np.testing.assert_allclose(gx, exact[0], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(gW, exact[1], rtol=tolerance, atol=tolerance)
    assert s2sgrad.grad(lambda_free_scalar)(dtype(0.5)).dtype == dtype


def lambda_free_scalar(t):
    return np.sin(t) * t


def summed_in_integers(x):
    return np.sum(x, dtype=int) * 1.0 + np.sum(x)


def test_a_sum_taken_in_integers_is_refused():
    with pytest.raises(NoRuleError, match="a sum taken in integers") as info:
        s2sgrad.grad(summed_in_integers)(np.array([1.5, 2.5]))
    assert info.value.loc.line == summed_in_integers.__code__.co_firstlineno + 1


# -- from a review: what a helper's function, a try or a namedtuple subclass cannot bring here

def _maker_of_scaled():
    def scaled(v):
        return v * SCALE                    # the module's SCALE
    return scaled


def caller_shadowing_scale(x, SCALE=100.0):
    scaled = _maker_of_scaled()
    return np.sum(scaled(x)) + 0.0 * SCALE


def finally_returns(x):
    try:
        return np.sum(x * 2.0)
    finally:
        x = x * 3.0


def partial_in_try(x):
    import functools
    g = functools.partial(np.multiply, 3.0)
    try:
        y = g(x)
    except ValueError:
        y = x * 0.5
    return np.sum(y)


class _Checked(collections.namedtuple("_Checked", "W b")):
    def __new__(cls, W, b):
        return super().__new__(cls, W * 2.0, b)


def namedtuple_with_its_own_new(x):
    p = _Checked(x, x * 3.0)
    return np.sum(p.W * p.b)


@pytest.mark.parametrize("fn", [caller_shadowing_scale, finally_returns, partial_in_try, namedtuple_with_its_own_new])
def test_what_would_read_other_values_here_is_refused(fn):
    with pytest.raises(s2sgrad.S2SGradError) as info:
        s2sgrad.grad(fn)(W)
    assert info.value.loc is not None and info.value.loc.file == __file__


def list_times_array(w):
    ys = [w[0], w[1]]
    return np.sum(ys * w[:2])                 # NumPy multiplies: a float array, not a count


def _each_entry(v):
    for i in range(len(v)):
        yield v[i]


def pairs_from_one_generator(w):
    total = 0.0
    for a in _each_entry(w):
        for b in _each_entry(w):
            total = total + a * b * b
    return total


@pytest.mark.parametrize("fn", [list_times_array, pairs_from_one_generator])
def test_lists_times_arrays_and_nested_loops_over_one_generator(fn):
    check_grads(fn, W)


def einsum_sublists(A, B):
    return np.sum(np.einsum(A, [0, 1], B, [1, 2], [0, 2]) ** 2) + np.einsum(A, [0, 0]) \
        + np.sum(np.linalg.matrix_power(A, 3)) + np.sum(np.linalg.matrix_power(B, -1)) \
        + np.sum(np.linalg.multi_dot([A, B, A]))


def test_einsum_sublists_matrix_powers_and_chained_products():
    A = np.array([[0.5, 0.2], [0.1, 0.4]])
    check_grads(einsum_sublists, A, A.T + np.eye(2))


def nan_entries_and_poles(x, mask):
    kept = np.nanmax(np.where(mask, np.nan, x) * 2.0)
    return kept + np.sum(special.j1(x) + special.i1(x) + special.i1e(x) + special.rgamma(x - 1.0)) + np.sum(x * G.T[0])


G = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).T


def test_rules_at_nan_entries_poles_and_a_module_arrays_attribute():
    x = np.array([0.0, 1.0, 0.5])              # j1, i1, i1e at 0; rgamma at its pole -1
    mask = np.array([False, False, True])
    check_grads(nan_entries_and_poles, x, mask, wrt=(0,))
    np.testing.assert_allclose(s2sgrad.jvp(nan_entries_and_poles, (x, mask), (np.ones(3),), wrt=(0,))[1],
                               np.sum(s2sgrad.grad(nan_entries_and_poles)(x, mask)))


def multivariate_shapes(x, cov_diag):
    from scipy.stats import multivariate_normal
    return np.sum(multivariate_normal.logpdf(x, np.zeros(3), cov_diag)) + \
        np.sum(multivariate_normal.logpdf(x[:, :1].ravel(), np.array([0.3]), np.array([[1.5]])))


def test_multivariate_normal_with_a_diagonal_and_one_dimension():
    pytest.importorskip("scipy.stats")
    check_grads(multivariate_shapes, np.array([[0.3, -0.5, 0.8], [0.1, 0.2, -0.4]]), np.array([1.0, 2.0, 3.0]))


class _NotConverged(Exception):
    def __init__(self, last):
        super().__init__("not converged")
        self.last = last


def _newton_root(a, turns):
    z = a
    for _ in range(turns):
        z = 0.5 * (z + a / z)
    if abs(z * z - a) > 1e-12:
        raise _NotConverged(z)
    return z


def value_carried_by_an_exception(x):
    try:
        r = _newton_root(x[0], 3)
    except _NotConverged as error:
        r = error.last                       # computed inside the try, from x
    return r * x[1]


def described_and_printed(x):
    y = np.sin(x)
    text = str(y)
    print("y is", text[:3])
    return np.sum(y)


def test_an_exceptions_values_are_refused_and_unread_calls_do_not_stop_forward_mode():
    with pytest.raises(NoRuleError, match="the exception a `try` caught") as info:
        s2sgrad.grad(value_carried_by_an_exception)(np.array([2.0, 3.0]))
    assert info.value.loc.line == value_carried_by_an_exception.__code__.co_firstlineno + 1
    value, tangent = s2sgrad.jvp(described_and_printed, (W,), (np.ones(3),))
    np.testing.assert_allclose(tangent, np.sum(np.cos(W)))


def test_a_float32_values_tangent_is_float32():
    x = np.array([0.5, 1.5, 0.2], dtype=np.float32)
    value, tangent = s2sgrad.jvp(lambda_free_float32, (x,), (np.ones(3, np.float32),))
    assert value.dtype == np.float32 and tangent.dtype == np.float32
    np.testing.assert_allclose(tangent, s2sgrad.jvp(lambda_free_float32, (x.astype(float),), (np.ones(3),))[1],
                               rtol=1e-5)


def lambda_free_float32(x):
    return np.sin(x) * np.ptp(x) + np.median(x)
