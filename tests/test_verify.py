"""The SymPy referee: verdicts on real functions, its path, its honesty, the CLI."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import api

from . import flow_functions as flow
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


GALLERY_SMALL = [(fn, make) for fn, make in GALLERY
                 if all(np.size(a) <= 12 for a in make()) and np.ndim(fn(*make())) == 0]


@pytest.mark.parametrize("fn, make_args", GALLERY_SMALL, ids=[f.__name__ for f, _ in GALLERY_SMALL])
def test_the_gallery_is_verified_or_honestly_not(fn, make_args):
    report = s2sgrad.verify(fn, *make_args())
    for v in report.verdicts:
        assert v.verified is True or (v.verified is None and "not a proof" in v.method), str(report)


def test_kinks_are_verified_on_the_side_the_point_is_on(tmp_path):
    fn = make_function(tmp_path, """
        def f(x, y):
            return np.sum(np.maximum(x, y) * np.clip(x, -0.5, 0.5)) + np.max(x * y) + min(np.sum(x), 0.2)
        """)
    report = s2sgrad.verify(fn, np.array([0.3, -0.9, 0.7]), np.array([0.1, 0.4, -0.2]))
    assert report, str(report)
