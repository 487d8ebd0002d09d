"""The gallery of programs as people write them (tests/programs): each one runs through
s2sgrad exactly as written, its gradient checked against central differences entry by
entry (in the structure of its parameters: lists of layers, dicts, namedtuples, objects),
its value against the plain function's. Every one runs as written."""
import importlib
import pathlib

import numpy as np
import pytest

import s2sgrad

from .support import check_tree_grad

FOLDER = pathlib.Path(__file__).parent / "programs"
NAMES = sorted(p.stem for p in FOLDER.glob("p[0-9][0-9]_*.py"))
def _program(name):
    return importlib.import_module(f"tests.programs.{name}")


@pytest.mark.parametrize("name", NAMES)
def test_program_runs_as_written_with_right_gradients(name):
    program = _program(name)
    fn = getattr(program, "TARGET", program.objective)
    args, wrt = program.ARGS(), program.WRT
    value, grads = s2sgrad.value_and_grad(fn, wrt)(*args)
    np.testing.assert_allclose(value, fn(*args), rtol=1e-12, atol=1e-12)
    for i, grad in zip(wrt if isinstance(wrt, tuple) else (wrt,), grads if isinstance(wrt, tuple) else (grads,)):
        check_tree_grad(fn, args, i, grad=grad, rtol=1e-5, atol=1e-6)


def test_the_gallery_is_large():
    assert len(NAMES) >= 40
