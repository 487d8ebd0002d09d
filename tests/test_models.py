"""Realistic models end to end: gradients against finite differences."""
import numpy as np

import s2sgrad

from . import models
from .support import check_grads


def _rng():
    return np.random.default_rng(3)


def test_mlp_with_softmax_cross_entropy():
    rng = _rng()
    args = (rng.normal(size=(4, 6)) * 0.5, rng.normal(size=6) * 0.1, rng.normal(size=(6, 3)) * 0.5,
            rng.normal(size=3) * 0.1, rng.normal(size=(5, 4)), np.array([0, 2, 1, 2, 0]))
    check_grads(models.mlp_softmax_cross_entropy, *args, wrt=(0, 1, 2, 3))


def test_gaussian_negative_log_likelihood_with_slogdet_and_solve():
    rng = _rng()
    args = (rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(6, 3)))
    check_grads(models.gaussian_nll, *args, wrt=(0, 1))
    text = s2sgrad.source(models.gaussian_nll, wrt=(0, 1))
    assert "np.linalg.slogdet(S)" in text and "np.linalg.solve(" in text


def test_logistic_regression_with_l2():
    rng = _rng()
    X = rng.normal(size=(20, 4))
    y = (rng.uniform(size=20) > 0.5).astype(float)
    check_grads(models.logistic_l2, rng.normal(size=4), 0.3, X, y, 0.1, wrt=(0, 1))


def test_attention_with_einsum():
    rng = _rng()
    check_grads(models.attention, rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2)))
