"""Rules from users: the same decorators the built-in rules use, end to end."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import rules

from . import user_rules_module as m
from .support import check_grads


def test_a_users_rules_give_the_right_gradient():
    x, w = np.array([0.2, 0.7, -0.4]), np.array([1.5, -0.3, 0.8])
    check_grads(m.model, x, w, wrt=(1,))           # bucket(x) is a step: x is not differentiated
    check_grads(m.softplus, x)
    assert rules.OPS["softplus"].kind == "adjoint" and rules.OPS["bucket"].kind == "nondiff"


def test_the_generated_module_imports_the_users_functions_and_runs_alone():
    text = s2sgrad.source(m.model, wrt=1)
    assert "from tests.user_rules_module import bucket" in text
    assert "softplus(x * w)" in text or "softplus(mul_x_w)" in text
    namespace = {}
    exec(compile(text, "<generated>", "exec"), namespace)
    x, w = np.array([0.2, 0.7]), np.array([1.5, -0.3])
    value, dw = namespace["grad_model"](x, w)
    np.testing.assert_allclose(value, m.model(x, w))
    np.testing.assert_allclose(dw, s2sgrad.grad(m.model, wrt=1)(x, w))


def test_a_users_elementwise_rule_joins_the_table_and_its_proofs():
    spec = rules.OPS["smooth_step"].spec
    assert spec.domain == ("fraction",) and spec.sympy
    from .test_rules import ELEMENTWISE
    assert "smooth_step" in ELEMENTWISE


def test_scipy_special_has_rules_when_scipy_is_installed():
    special = pytest.importorskip("scipy.special")

    def loss(x, y):
        return np.sum(special.xlogy(y, special.expit(x)) + special.gammaln(x + 3.0) * special.erf(x))

    check_grads(loss, np.array([0.3, -0.8]), np.array([0.5, 2.0]))
    assert "from scipy.special import expit" in s2sgrad.source(loss)
