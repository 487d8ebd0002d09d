"""Reverse over reverse: the runtime helpers' reverse rules (rules/helpers.py), proven
against finite differences on every example, and gradients differentiated again in
reverse mode."""
import numpy as np
import pytest

from s2sgrad.rules import OPS

from .support import check_grads, make_function

PREAMBLE = "import numpy as np\nfrom s2sgrad.runtime import *\n"
TRANSPOSED = sorted(n for n, op in OPS.items() if op.kind == "helper" and op.rule is not None)
CASES = [pytest.param(name, expr, shapes, id=f"{name}: {expr} {shapes}")
         for name in TRANSPOSED for expr, shapes in OPS[name].spec.examples]


def test_the_reverse_sweeps_helpers_have_reverse_rules():
    assert {"unbroadcast", "unsum", "untranspose", "unmax", "matmul_dleft", "matmul_dright", "dot_dleft",
            "dot_dright", "add_at", "unindex", "uncumsum", "broadcast_like", "max_tangent"} <= set(TRANSPOSED)


@pytest.mark.parametrize("name, expr, shapes", CASES)
def test_helper_reverse_rule_matches_finite_differences(tmp_path, name, expr, shapes):
    params = "xyz"[:len(shapes)]
    fn = make_function(tmp_path, f"def f({', '.join(params)}):\n    return {expr}\n", preamble=PREAMBLE)
    rng = np.random.default_rng(len(CASES))
    args = [rng.standard_normal(s) if s else float(rng.standard_normal()) for s in shapes]
    check_grads(fn, *args, rtol=1e-5, atol=1e-7)
