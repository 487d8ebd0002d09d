"""The SymPy referee: verdicts on real functions, its path, its honesty, the CLI."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import api

from examples import seed

from . import flow_functions as flow
from . import more_functions as more
from .functions import GALLERY
from .support import make_function


def test_a_straight_line_function_is_verified_symbolically():
    from examples import seed
    report = s2sgrad.verify(seed.simple, 2.0)
    assert report and report.verdicts[0].method.startswith("symbolic")
    assert "verified" in str(report) and "dx" in str(report)


def test_branches_and_loops_are_verified_along_the_path_taken(tmp_path):
    fn = make_function(tmp_path, """
        def f(x, w):
            h = np.tanh(x @ w)
            if np.sum(h) > 0:
                h = h * 2.0
            total = 0.0
            for i in range(3):
                total = total + np.sum(np.sin(h * i))
            return total + np.mean(x ** 2)
        """)
    report = s2sgrad.verify(fn, np.array([[0.3, -0.2]]), np.array([[0.5, 0.1], [-0.4, 0.7]]))
    assert report and [v.name for v in report.verdicts] == ["x", "w"]
    assert any("took the if branch" in p for p in report.path)
    assert any("turned 3 times" in p for p in report.path)


def test_a_wrong_derivative_is_caught_with_a_counterexample(tmp_path, monkeypatch):
    fn = make_function(tmp_path, "def f(x):\n    return np.sin(x) * x\n")
    from s2sgrad import rules
    wrong = rules.OPS["np.sin"].spec.sympy
    monkeypatch.setattr(rules.OPS["np.sin"].spec, "sympy", "cos(x)")    # a referee that disagrees
    try:
        report = s2sgrad.verify(fn, 0.7)
    finally:
        rules.OPS["np.sin"].spec.sympy = wrong
    assert not report and report.verdicts[0].verified is False
    assert "SymPy says" in report.verdicts[0].detail


def test_what_sympy_cannot_follow_is_not_verified_but_checked_numerically(tmp_path):
    fn = make_function(tmp_path, "def f(x):\n    return np.sum((x % 0.25) * x)\n")
    report = s2sgrad.verify(fn, np.array([0.3, 0.9, 0.1]))
    assert not report and report.verdicts[0].verified is None
    assert "`mod`" in report.verdicts[0].detail and "not a proof" in report.verdicts[0].method


def test_calls_to_helpers_are_followed_into_their_generated_vjp():
    report = s2sgrad.verify(flow.uses_helpers, 0.8)
    assert report, str(report)


def _small(items):
    """(function, arguments, wrt) of a gallery whose arguments SymPy can take as symbols
    and whose output is a scalar."""
    for fn, make, wrt in items:
        args = make()
        if all(np.size(a) <= 64 for a in args) and np.ndim(fn(*args)) == 0:
            yield pytest.param(fn, args, wrt, id=f"{fn.__name__}-{len(args)}-{np.size(args[0])}")


SEED_ARGUMENTS = {
    "simple": lambda: (1.5,),
    "mean_residual": lambda: (flow._normal(3, 4), flow._normal(3, 2, seed=1), flow._normal(4, 2, seed=2)),
    "quadratic": lambda: (0.7,),
}
EVERY_GALLERY = list(_small([(fn, make, None) for fn, make in GALLERY] + list(flow.FLOW) + list(more.MORE)
                            + [(getattr(seed, n), make, None) for n, make in SEED_ARGUMENTS.items()]))


_REPORTS: dict = {}
WORK = 40_000                      # the referee's budget here: units of work counted, not seconds


def _report(fn, args, wrt):
    """The referee's report (each gallery function verified once per run)."""
    key = (fn, wrt, repr(args))
    if key not in _REPORTS:
        _REPORTS[key] = s2sgrad.verify(fn, *args, wrt=wrt, budget=None, work=WORK)
    return _REPORTS[key]


NOT_PROVEN = {"methods", "modulo", "modular_phase"}
# the gallery functions the referee checks numerically only (`%`, a method SymPy cannot
# follow): each of the others is proven, symbolically or exactly


@pytest.mark.parametrize("fn, args, wrt", EVERY_GALLERY)
def test_every_gallery_function_is_verified_or_honestly_not(fn, args, wrt):
    report = _report(fn, args, wrt)
    for v in report.verdicts:
        assert v.verified is True or (v.verified is None and "not a proof" in v.method), str(report)
    assert bool(report) or fn.__name__ in NOT_PROVEN, str(report)


def test_kinks_are_verified_on_the_side_the_point_is_on(tmp_path):
    fn = make_function(tmp_path, """
        def f(x, y):
            return np.sum(np.maximum(x, y) * np.clip(x, -0.5, 0.5)) + np.max(x * y) + min(np.sum(x), 0.2)
        """)
    report = s2sgrad.verify(fn, np.array([0.3, -0.9, 0.7]), np.array([0.1, 0.4, -0.2]))
    assert report, str(report)


# -- blame, users' rules, long loops ------------------------------------------------

WRONG_RULE = """
import numpy as np
import s2sgrad


def softplus_w(x):
    return np.log1p(np.exp(x))


@s2sgrad.adjoint(softplus_w)
def softplus_w_adjoint(ans, x, dans):
    dx = dans / (1 + np.exp(x))


def model(x, w):
    h = softplus_w(x * w)
    return np.sum(h * h)
"""


def test_a_wrong_user_rule_is_caught_and_blamed_at_the_users_line(tmp_path):
    model = make_function(tmp_path, WRONG_RULE, name="model", preamble="")
    report = s2sgrad.verify(model, np.array([0.2, 0.7]), np.array([1.5, -0.3]))
    assert not report and all(v.verified is False for v in report.verdicts)
    blame = report.blame
    assert blame.stage == "reverse" and blame.culprit == "the rule for `softplus_w`"
    assert blame.line.endswith(":16: h = softplus_w(x * w)")
    assert blame.rule.startswith("softplus_w_adjoint, written at ") and blame.rule.endswith(":10")
    assert "dmul_x_w = dh / (1 + np.exp(mul_x_w))" in blame.statements
    assert "SymPy says" in blame.detail and "blame: the rule for `softplus_w`" in str(report)


def test_a_right_user_rule_is_followed_through_its_functions_source(tmp_path):
    model = make_function(tmp_path, WRONG_RULE.replace("np.exp(x))\n\n\ndef model", "np.exp(-x))\n\n\ndef model"),
                          name="model", preamble="")
    report = s2sgrad.verify(model, np.array([0.2, 0.7]), np.array([1.5, -0.3]))
    assert report, str(report)


def test_verify_rule_checks_one_rule_alone(tmp_path):
    wrong = make_function(tmp_path, WRONG_RULE, name="softplus_w", preamble="")
    report = s2sgrad.verify_rule(wrong, np.array([0.2, -0.7]))
    assert not report and report.verdicts[0].verified is False and "the rule" in report.verdicts[0].detail
    assert s2sgrad.verify_rule(np.arctan2, 0.3, np.array([0.2, 0.7]))
    assert s2sgrad.verify_rule(np.sum, np.array([[0.2, 0.7], [0.1, 0.4]]), axis=1)
    assert s2sgrad.verify_rule(np.linalg.inv, np.array([[2.0, 0.7], [0.1, 1.5]]))
    with pytest.raises(ValueError, match="no derivative rule"):
        s2sgrad.verify_rule(print, 1.0)


def test_a_broken_pass_is_blamed_with_the_lines_it_changed(tmp_path, monkeypatch):
    import dataclasses
    from s2sgrad import ir
    from s2sgrad.passes import optimize
    fn = make_function(tmp_path, "def f(x, w):\n    h = np.sin(x * w)\n    return np.sum(h * np.cos(x))\n")
    original = optimize.run

    def broken(function):                     # turns the first adjoint product into a sum
        function = original(function)
        body, done = [], False
        for stmt in function.body:
            if not done and isinstance(stmt, ir.Assign) and stmt.op == "mul" and stmt.target.startswith("d"):
                stmt, done = dataclasses.replace(stmt, op="add"), True
            body.append(stmt)
        return dataclasses.replace(function, body=tuple(body))

    monkeypatch.setattr(optimize, "run", broken)
    report = s2sgrad.verify(fn, np.array([0.2, 0.7]), np.array([1.5, -0.3]))
    assert not report and report.blame.stage == "optimize"
    assert "`optimize` pass" in report.blame.culprit
    assert any(s.startswith("-") and "*" in s for s in report.blame.statements)
    assert any(s.startswith("+") for s in report.blame.statements)


def test_a_wrong_elementwise_rule_is_blamed_against_its_sympy_counterpart(tmp_path):
    fn = make_function(tmp_path, """
        import numpy as np
        import s2sgrad


        def cube(x):
            return x * x * x


        @s2sgrad.partials(cube, sympy="x**3")
        def cube_partial(x): return 2.0 * x * x


        def f(x):
            y = np.sin(x)
            return np.sum(cube(y) * x)
        """, preamble="")
    report = s2sgrad.verify(fn, np.array([0.3, -0.4]))
    assert not report and report.blame.culprit == "the rule for `cube`"
    assert report.blame.line.endswith(":16: return np.sum(cube(y) * x)")
    assert report.blame.rule.startswith("cube_partial")


def test_a_long_loop_is_verified_exactly_over_its_shared_expression(tmp_path):
    fn = make_function(tmp_path, """
        def f(x):
            total = 0.0
            for i in range(60):
                total = np.sin(total + x * 0.1) * 1.1
            return total
        """)
    report = s2sgrad.verify(fn, 0.3)
    assert report and report.verdicts[0].method.startswith("exact"), str(report)
    assert "turned 60 times" in report.path[0]


def test_the_budget_interrupts_sympy(tmp_path):
    fn = make_function(tmp_path, """
        def f(x):
            total = x
            for i in range(12):
                total = np.tanh(total * x + np.sin(total)) * np.exp(-total * x)
            return np.sum(total)
        """)
    report = s2sgrad.verify(fn, np.array([0.3, 0.5, -0.2]), budget=None, work=300)
    assert report.verdicts[0].verified is None and "time budget" in report.verdicts[0].detail
