"""`import s2sgrad` is light: SymPy (the referee) and SciPy (its rules) load when used."""
from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent('''
    import sys
    import numpy as np
    import s2sgrad
    print(sorted(m for m in ("sympy", "mpmath", "scipy") if m in sys.modules))
    from scipy import special


    def f(x):
        return np.sum(special.gammaln(x) * special.expit(x))


    x = np.array([1.5, 2.0])
    print(np.round(s2sgrad.grad(f)(x), 8).tolist())
    print(np.round(s2sgrad.hvp(f)(x, np.ones(2)), 8).tolist())
    print(bool(s2sgrad.verify(f, x)), "sympy" in sys.modules)
''')


def test_import_leaves_sympy_and_scipy_alone_and_scipy_rules_follow_the_users_import(tmp_path):
    """The scipy.special rules register when the user's program has imported SciPy (after
    s2sgrad); the referee imports SymPy on its first use and follows polygamma, whose
    derivative in its order SymPy cannot write (that argument does not vary here)."""
    (tmp_path / "user.py").write_text(PROGRAM)
    out = subprocess.run([sys.executable, "user.py"], cwd=tmp_path, capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "[]"
    # d/dx gammaln(x) expit(x) = digamma(x) expit(x) + gammaln(x) expit(x) (1 - expit(x))
    assert lines[1] == "[0.01181903, 0.37238721]"
    assert lines[3] == "True True"
