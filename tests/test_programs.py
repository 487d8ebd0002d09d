"""The gallery of programs as people write them (tests/programs): each one runs through
s2sgrad exactly as written, its gradient checked against central differences entry by
entry (in the structure of its parameters: lists of layers, dicts, namedtuples, objects),
its value against the plain function's. The few that use what s2sgrad cannot follow yet
are refused at a line of the program, never answered wrongly."""
import importlib
import pathlib

import numpy as np
import pytest

import s2sgrad

from .support import check_tree_grad

FOLDER = pathlib.Path(__file__).parent / "programs"
NAMES = sorted(p.stem for p in FOLDER.glob("p[0-9][0-9]_*.py"))
REFUSED = {     # program -> what its refusal names (functions without rules: the coverage issue)
    "p14_partial_kernels": "np.linalg.eigvalsh",
    "p15_meshgrid_potential": "np.gradient",
    "p25_planar_flow": "multivariate_normal.logpdf",
}


def _program(name):
    return importlib.import_module(f"tests.programs.{name}")


@pytest.mark.parametrize("name", [n for n in NAMES if n not in REFUSED])
def test_program_runs_as_written_with_right_gradients(name):
    program = _program(name)
    fn = getattr(program, "TARGET", program.objective)
    args, wrt = program.ARGS(), program.WRT
    value, grads = s2sgrad.value_and_grad(fn, wrt)(*args)
    np.testing.assert_allclose(value, fn(*args), rtol=1e-12, atol=1e-12)
    for i, grad in zip(wrt if isinstance(wrt, tuple) else (wrt,), grads if isinstance(wrt, tuple) else (grads,)):
        check_tree_grad(fn, args, i, grad=grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_program_beyond_reach_is_refused_at_its_line(name):
    program = _program(name)
    fn = getattr(program, "TARGET", program.objective)
    with pytest.raises(s2sgrad.S2SGradError) as info:
        s2sgrad.grad(fn, program.WRT)(*program.ARGS())
    assert REFUSED[name] in str(info.value)
    assert info.value.loc is not None and info.value.loc.file == program.__file__


def test_the_gallery_is_large_and_mostly_runs():
    assert len(NAMES) - len(REFUSED) >= 30 and len(NAMES) - len(REFUSED) >= 0.85 * len(NAMES)
