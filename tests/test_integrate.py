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
