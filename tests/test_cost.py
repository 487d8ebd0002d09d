"""The cost report: the estimate of a derivative's operations against a count of those
it runs, the tape's bytes, the table."""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad
from bench.workloads import WORKLOADS
from s2sgrad.backend.cost import flops

SMALL = [(w, size) for w in WORKLOADS for size, n in w.sizes.items()
         if np.prod(n if isinstance(n, tuple) else (n,)) <= 100_000]


@pytest.mark.parametrize("workload, size", SMALL, ids=[f"{w.name.strip()} {s}" for w, s in SMALL])
def test_the_estimate_agrees_with_the_operations_run_within_ten_percent(workload, size):
    args = workload.make_inputs(workload.sizes[size], np.random.default_rng(0))
    report = s2sgrad.cost(workload.fn, *args, wrt=workload.wrt, timed=False)
    assert report.counted > 0 and abs(report.flops - report.counted) <= 0.1 * report.counted, str(report)
    assert report.primal > 0 and report.flops >= report.primal


def decay(x, n):
    for i in range(n):
        x = x * 0.9 + np.sin(x)
    return x


def test_the_tape_and_the_table_of_a_loop():
    report = s2sgrad.cost(decay, 0.5, 30)
    text = str(report)
    assert report.tape_bytes == report.lines[0].tape_bytes + sum(ln.tape_bytes for ln in report.lines[1:])
    line = next(ln for ln in report.lines if "x = x * 0.9" in ln.text)
    assert line.taped == 30 and line.tape_bytes == 30 * 8                  # (x, a float, each turn)
    assert line.primal == 3 * 30 and line.flops > line.primal              # (*, sin, + each turn)
    assert "cost of the gradient of decay" in text and "x = x * 0.9 + np.sin(x)" in text
    assert "measured: derivative" in text and report.seconds > 0


def test_the_operations_of_one_op():
    assert flops("matmul", [(3, 4), (4, 5)], (3, 5)) == 2 * 3 * 4 * 5
    assert flops("matmul_dleft", [(3, 5), (3, 4), (4, 5)], (3, 4)) == 2 * 3 * 4 * 5
    assert flops("matmul", [(4,), (4,)], ()) == 8
    assert flops("np.sum", [(10, 3)], ()) == 30 and flops("mul", [(10, 3), ()], (10, 3)) == 30
    assert flops("getitem", [(10,), None], ()) == 0
