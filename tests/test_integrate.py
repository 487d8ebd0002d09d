"""scipy.integrate.odeint inside differentiated functions, as people write them: fitting the
parameters of an ODE model to data, a second-order system with tfirst=True, a right-hand
side that calls helpers; checked against finite differences of the whole solve."""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad
from s2sgrad.errors import NoRuleError, UnsupportedSyntaxError

from .support import check_grads, make_function

PROGRAMS = '''
import numpy as np
from scipy.integrate import odeint


def logistic_growth(p, t, r, K):
    return r * p * (1.0 - p / K)


def fit_error(r, K, p0, data):
    times = np.linspace(0.0, 4.0, len(data))
    model = odeint(logistic_growth, p0, times, args=(r, K), rtol=1e-10, atol=1e-10)[:, 0]
    return np.mean((model - data) ** 2)


def friction(v, mu):
    return mu * v * np.abs(v)


def oscillator(t, state, omega, mu):
    x, v = state
    return np.array([v, -omega ** 2 * x - friction(v, mu)])


def final_energy(state0, omega, mu):
    path = odeint(oscillator, state0, np.linspace(0.0, 3.0, 7), args=(omega, mu), tfirst=True,
                  rtol=1e-10, atol=1e-10)
    x, v = path[-1]
    print("final", round(float(x), 3))
    return 0.5 * v ** 2 + 0.5 * omega ** 2 * x ** 2


def with_a_count(k, y0):
    return np.sum(odeint(powered, y0, np.linspace(0.0, 1.0, 4), args=(k, 2), rtol=1e-10, atol=1e-10) ** 2)


def powered(y, t, k, n):
    return -k * y ** n


def moving_times(k, t_end):
    return np.sum(odeint(logistic_growth, np.array([0.1]), np.linspace(0.0, t_end, 3), args=(k, 1.0)))


def inline_rhs(k):
    return np.sum(odeint(lambda y, t: -k * y, np.array([1.0]), np.linspace(0.0, 1.0, 3)))
'''


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("integrate")
    return {name: make_function(folder, PROGRAMS, name, preamble="")
            for name in ("fit_error", "final_energy", "moving_times", "inline_rhs", "with_a_count")}


def test_fitting_an_ode_model_by_the_adjoint_method(programs):
    data = np.array([0.1, 0.22, 0.41, 0.63, 0.79, 0.9])
    check_grads(programs["fit_error"], 1.1, 1.0, np.array([0.1]), data, wrt=(0, 1, 2), rtol=1e-5, atol=1e-8)
    value, tangent = s2sgrad.jvp(programs["fit_error"], (1.1, 1.0, np.array([0.1]), data), (1.0, 0.5),
                                 wrt=(0, 1))
    g = s2sgrad.grad(programs["fit_error"], (0, 1))(1.1, 1.0, np.array([0.1]), data)
    np.testing.assert_allclose(tangent, g[0] + 0.5 * g[1], rtol=1e-6)


def test_a_second_order_system_whose_right_hand_side_calls_helpers(programs, capsys):
    check_grads(programs["final_energy"], np.array([1.0, 0.0]), 1.3, 0.2, rtol=1e-5, atol=1e-8)
    assert "final" in capsys.readouterr().out


def test_a_number_as_the_initial_state(tmp_path):
    decay = make_function(tmp_path, """
from scipy.integrate import odeint


def rhs(y, t, k):
    return -k * y


def f(y0, k):
    return np.sum(odeint(rhs, y0, np.linspace(0.0, 2.0, 6), args=(k,), rtol=1e-12, atol=1e-12) ** 2)
""")
    g = s2sgrad.grad(decay, (0, 1))(1.3, 0.6)
    _, along = s2sgrad.jvp(decay, (1.3, 0.6), (1.0, 0.5))
    assert along == pytest.approx(g[0] + 0.5 * g[1], rel=1e-6)
    check_grads(decay, 1.3, 0.6, rtol=1e-5, atol=1e-8)


def test_an_integer_among_the_arguments_is_not_differentiated(programs):
    check_grads(programs["with_a_count"], 0.8, np.array([1.0, 0.5]), rtol=1e-5, atol=1e-8)


def test_what_odeint_is_not_differentiated_in_is_refused_at_its_line(programs):
    with pytest.raises(NoRuleError, match="odeint.*`t`"):
        s2sgrad.grad(programs["moving_times"], 1)(0.5, 2.0)
    with pytest.raises(UnsupportedSyntaxError, match="module level"):
        s2sgrad.grad(programs["inline_rhs"])(0.5)
    assert s2sgrad.grad(programs["moving_times"], 0)(0.5, 2.0) > 0


IVP_PROGRAMS = '''
import numpy as np
from scipy.integrate import solve_ivp


def sir(t, state, beta, gamma):
    s, i, r = state
    infections = beta * s * i
    return np.array([-infections, infections - gamma * i, gamma * i])


def sir_misfit(beta, gamma, observed):
    days = np.arange(1.0, 1.0 + len(observed))          # (the first report a day after the start)
    sol = solve_ivp(sir, (0.0, days[-1]), [0.99, 0.01, 0.0], t_eval=days, args=(beta, gamma),
                    rtol=1e-10, atol=1e-12)
    if not sol.success:
        raise RuntimeError(sol.message)
    print("solved with", sol.nfev, "evaluations")
    return np.sum((sol.y[1] - observed) ** 2)


def predation(t, z, beta, alpha, delta):
    prey, predators = z
    return [alpha * prey - beta * prey * predators, delta * prey * predators - predators]


def final_populations(z0, beta):
    sol = solve_ivp(predation, (0.0, 2.0), z0, args=(beta, 1.1, 0.4), rtol=1e-10, atol=1e-10)
    return sol.y[:, -1] @ np.array([1.0, 2.0])


def in_a_lambda(z0, beta):
    return solve_ivp(lambda t, z: predation(t, z, beta, 1.1, 0.4), (0.0, 2.0), z0).y[0, -1]


def decay(t, y, k):
    return -k * y


def stiff_energy(y0, k):
    sol = solve_ivp(decay, [0.0, 1.5], y0, method="Radau", args=(k,), t_eval=np.linspace(0.5, 1.5, 3),
                    rtol=1e-10, atol=1e-12)
    return np.trapezoid(sol.y[0] ** 2, sol.t)


def until(y0, t_end):
    return solve_ivp(decay, (0.0, t_end), y0, args=(1.0,)).y[0, -1]


def dense(y0):
    return solve_ivp(decay, (0.0, 1.0), y0, args=(1.0,), dense_output=True).y[0, -1]


def by_key_and_counts(k):
    sol = solve_ivp(decay, (0.0, 1.0), [1.0], t_eval=[0.5, 1.0], args=(k,), rtol=1e-10, atol=1e-10)
    return sol["y"][0, -1] * sol["t"][0] + 0.0 * sol.nfev * (sol.status + 1)


def continued(k):
    first = solve_ivp(decay, (0.0, 1.0), [1.0], t_eval=[0.5, 1.0], args=(k,), rtol=1e-10, atol=1e-10)
    then = solve_ivp(decay, (first.t[-1], 2.0), first.y[:, -1], args=(k,), t_eval=first.t + 1.0, rtol=1e-10,
                     atol=1e-10)
    return np.sum(then.y)


def at_the_solvers_steps(k):
    return np.mean(solve_ivp(decay, (0.0, 2.0), [1.0], args=(k,), rtol=1e-10, atol=1e-10).y)


def by_position(k):
    return solve_ivp(decay, (0.0, 1.0), [1.0], args=(k,))[1]


def pair(t, y, a):
    return (-a * y[0], a * y[0])


def in_a_pair(a, data):
    sol = solve_ivp(pair, (0.0, 1.0), [1.0, 0.0], t_eval=[1.0], args=(data["scale"] * a,), rtol=1e-11, atol=1e-12)
    return sol.y[1, 0]


def rates(t, y, p):
    return [-p["k"] * y[0]]


def pulse_rhs(t, y, k):
    return -k * y + 20.0 * np.exp(-((t - 0.537) / 0.01) ** 2) * y


def through_a_pulse(x, k):
    sol = solve_ivp(pulse_rhs, (0.0, 1.0), x, t_eval=[1.0], args=(k,), max_step=0.004, rtol=1e-10, atol=1e-12)
    return np.sum(sol.y[:, -1])


def times_maybe_given(x, k, t_eval=None):
    sol = solve_ivp(decay, (0.0, 2.0), x, t_eval=t_eval, args=(k,), rtol=1e-10, atol=1e-10)
    return np.sum(sol.y[:, -1]) * sol.t[1]


def blowup(t, y, k):
    return k * y ** 2


def with_a_penalty(x, k):
    sol = solve_ivp(blowup, (0.0, 2.0), x, args=(k,))
    if not sol.success:
        return 100.0 + np.sum(x ** 2)          # a penalty, as fitting code writes
    return np.sum(sol.y[:, -1])


def last_state(sol):
    return sol.y[:, -1]


def through_a_helper(x, k):
    return np.sum(last_state(solve_ivp(decay, (0.0, 1.0), x, args=(k,), rtol=1e-10, atol=1e-10)) ** 2)


def a_dict_of_parameters(p):
    return solve_ivp(rates, (0.0, 1.0), [1.0], t_eval=[1.0], args=(p,), rtol=1e-11, atol=1e-12).y[0, 0]
'''


@pytest.fixture(scope="module")
def ivp_programs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ivp")
    return {name: make_function(folder, IVP_PROGRAMS, name, preamble="")
            for name in ("sir_misfit", "final_populations", "stiff_energy", "until", "dense", "in_a_lambda",
                         "by_key_and_counts", "continued", "at_the_solvers_steps", "by_position", "in_a_pair",
                         "a_dict_of_parameters", "through_a_pulse", "times_maybe_given", "with_a_penalty",
                         "through_a_helper")}


def test_fitting_an_epidemic_model_with_solve_ivp(ivp_programs, capsys):
    """t_eval after the start (the adjoint integrates back to t_span[0]), sol.success and
    sol.nfev read from the result, the jvp agreeing with the gradient."""
    observed = np.array([0.02, 0.035, 0.06, 0.09])
    misfit = ivp_programs["sir_misfit"]
    check_grads(misfit, 0.9, 0.3, observed, wrt=(0, 1), rtol=1e-5, atol=1e-9)
    assert "evaluations" in capsys.readouterr().out
    g = s2sgrad.grad(misfit, (0, 1))(0.9, 0.3, observed)
    _, along = s2sgrad.jvp(misfit, (0.9, 0.3, observed), (1.0, -2.0), wrt=(0, 1))
    assert along == pytest.approx(g[0] - 2.0 * g[1], rel=1e-6)


def test_a_right_hand_side_returning_a_list_and_the_final_state(ivp_programs):
    check_grads(ivp_programs["final_populations"], np.array([1.0, 0.5]), 0.4, rtol=1e-5, atol=1e-8)


def test_a_stiff_solver_and_the_times_read_back(ivp_programs):
    check_grads(ivp_programs["stiff_energy"], np.array([1.0, -0.5]), 0.8, rtol=1e-5, atol=1e-8)


def test_what_solve_ivp_is_not_differentiated_in_is_refused_at_its_line(ivp_programs):
    with pytest.raises(NoRuleError, match="solve_ivp.*`t_span`") as error:
        s2sgrad.grad(ivp_programs["until"], 1)(np.array([1.0]), 2.0)
    assert error.value.loc is not None
    with pytest.raises(NoRuleError, match="dense_output"):
        s2sgrad.grad(ivp_programs["dense"])(np.array([1.0]))
    with pytest.raises(UnsupportedSyntaxError, match="module"):    # (its derivative is made on its own)
        s2sgrad.grad(ivp_programs["in_a_lambda"])(np.array([1.0, 0.5]), 0.4)


def test_named_fields_of_numpys_decompositions(tmp_path):
    """NumPy's named results (`eigh(a).eigenvalues`, `svd(a).S`, `qr(a).R`,
    `slogdet(a).logabsdet`), also read inside a branch; a field NumPy does not have is
    refused at its line."""
    f = make_function(tmp_path, """
def f(x):
    spectrum = np.linalg.eigh(x @ x.T)
    parts = np.linalg.svd(x)
    total = np.sum(spectrum.eigenvalues ** 2) + np.sum(parts.U[:, 0] ** 2 * np.arange(3.0))
    if total > 0:
        total = total + np.sum(parts.S) + np.sum(parts.Vh[0] ** 2 * np.arange(3.0))
    return total + np.sum(np.linalg.qr(x).R ** 2) + np.linalg.slogdet(x).logabsdet
""")
    check_grads(f, np.eye(3) + 0.1 * np.arange(9.0).reshape(3, 3), rtol=1e-5, atol=1e-7)
    wrong = make_function(tmp_path, "def f(x):\n    return np.linalg.qr(x).Z\n", name="f")
    with pytest.raises(UnsupportedSyntaxError, match="has no field `Z`"):
        s2sgrad.grad(wrong)(np.eye(2))


def test_the_result_by_key_its_counts_and_its_times_reused(ivp_programs):
    """sol["y"] is sol.y; counts and messages never vary, nor do the times given as t_eval,
    so a later solve may start where this one ended."""
    check_grads(ivp_programs["by_key_and_counts"], 0.7, rtol=1e-5, atol=1e-9)
    check_grads(ivp_programs["continued"], 0.7, rtol=1e-5, atol=1e-9)
    with pytest.raises(UnsupportedSyntaxError, match="read by its fields"):
        s2sgrad.grad(ivp_programs["by_position"])(0.7)


def test_the_solvers_own_steps_are_not_differentiated_but_at_the_end(ivp_programs):
    """Without t_eval the times are the solver's steps, which move with k: a derivative of
    the solution there is refused (reverse) or NaN (forward), never the wrong number."""
    with pytest.raises(ValueError, match="t_eval"):
        s2sgrad.grad(ivp_programs["at_the_solvers_steps"])(0.7)
    _, tangent = s2sgrad.jvp(ivp_programs["at_the_solvers_steps"], (0.7,), (1.0,))
    assert np.isnan(tangent)


def test_a_right_hand_side_returning_a_tuple_and_parameters_in_a_dict(ivp_programs):
    check_grads(ivp_programs["in_a_pair"], 0.7, {"scale": 1.5}, wrt=(0,), rtol=1e-5, atol=1e-9)
    with pytest.raises(TypeError, match="dict holding floats"):        # (its derivative would be lost)
        s2sgrad.grad(ivp_programs["a_dict_of_parameters"])({"k": 0.5})
    with pytest.raises(TypeError, match="dict holding floats"):
        s2sgrad.jvp(ivp_programs["a_dict_of_parameters"], ({"k": 0.5},), ({"k": 1.0},))


def test_trapezoid_with_sample_points_and_with_none_for_them(tmp_path):
    f = make_function(tmp_path, """
def f(y, x):
    return np.trapezoid(y ** 2, x, axis=0) @ np.arange(1.0, 4.0) + np.trapezoid(y[:, 0], x=None, dx=0.5)
""")
    check_grads(f, np.arange(12.0).reshape(4, 3) / 7, np.array([0.0, 0.3, 0.35, 1.0]), rtol=1e-6, atol=1e-9)


def test_hessians_through_ode_solutions_match_differences_of_the_gradient(programs, ivp_programs):
    """Forward mode over the adjoint method: the adjoint system of the solution and its
    tangent (runtime/integrate.py), for odeint and solve_ivp."""
    data = np.array([0.1, 0.22, 0.41, 0.63, 0.79, 0.9])
    cases = [(programs["fit_error"], (1.1, 1.0, np.array([0.1]), data), (0, 1)),
             (ivp_programs["sir_misfit"], (0.9, 0.3, np.array([0.02, 0.035, 0.06, 0.09])), (0, 1))]
    for fn, args, wrt in cases:
        hessian = s2sgrad.hessian(fn, wrt)(*args)
        gradient = s2sgrad.grad(fn, wrt)
        for j in range(2):
            step = 1e-5
            up, down = list(args), list(args)
            up[wrt[j]], down[wrt[j]] = args[wrt[j]] + step, args[wrt[j]] - step
            column = (np.array(gradient(*up)) - np.array(gradient(*down))) / (2 * step)
            np.testing.assert_allclose([hessian[i][j] for i in range(2)], column, rtol=1e-4, atol=1e-7)


def test_the_largest_step_given_holds_in_the_adjoint_and_tangent_solves(ivp_programs):
    """A narrow pulse the solver resolves only with max_step: the derivative's own solves
    take the same largest step (they would step over it)."""
    check_grads(ivp_programs["through_a_pulse"], np.array([1.0]), 0.7, rtol=1e-5, atol=1e-9)
    _, along = s2sgrad.jvp(ivp_programs["through_a_pulse"], (np.array([1.0]), 0.7), (np.zeros(1), 1.0), wrt=(0, 1))
    assert along == pytest.approx(s2sgrad.grad(ivp_programs["through_a_pulse"], 1)(np.array([1.0]), 0.7), rel=1e-6)


def test_t_eval_known_only_when_the_code_runs_holds_no_time_fixed(ivp_programs):
    """t_eval a parameter that may be None: the times are not taken as fixed (they are
    the solver's own steps when it is None), so a derivative through them is refused."""
    with pytest.raises(ValueError, match="t_eval"):
        s2sgrad.grad(ivp_programs["times_maybe_given"], 1)(np.array([1.0, 2.0]), 1.3)


def test_a_failed_solve_checked_for_is_differentiated_as_written(ivp_programs):
    penalty = ivp_programs["with_a_penalty"]
    for k in (50.0, 0.1):
        check_grads(penalty, np.array([1.0]), k, rtol=1e-4, atol=1e-7)
        _, along = s2sgrad.jvp(penalty, (np.array([1.0]), k), (np.ones(1), 0.0), wrt=(0, 1))
        assert along == pytest.approx(s2sgrad.grad(penalty, 0)(np.array([1.0]), k)[0], rel=1e-6)


def test_a_result_passed_to_a_helper(ivp_programs):
    """Forward mode (which inlines the helper) reads its fields there; reverse mode compiles
    the helper on its own and says to pass the fields."""
    f = ivp_programs["through_a_helper"]
    _, along = s2sgrad.jvp(f, (np.array([1.0, 0.5]), 0.7), (np.ones(2), 0.0), wrt=(0, 1))
    step = 1e-6
    numeric = (f(np.array([1.0, 0.5]) + step, 0.7) - f(np.array([1.0, 0.5]) - step, 0.7)) / (2 * step)
    assert along == pytest.approx(numeric, rel=1e-6)
    with pytest.raises(NoRuleError, match="only its items") as error:
        s2sgrad.grad(f)(np.array([1.0, 0.5]), 0.7)
    assert "`.y`" in error.value.hint
