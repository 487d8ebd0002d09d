import subprocess, sys
from s2sgrad_cli.main import main
SRC = '''import numpy as np


def f(x, y, w):
    """A small model."""
    z = np.sin(x) * y + w ** 2
    return np.sum(z)


def g(m):
    n = np.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    return np.sum(n)
'''
def test_explore(tmp_path):
    p = tmp_path / "model.py"; p.write_text(SRC)
    for args in [[], ["--wrt", "x,w"], ["--ir"], ["-O0"], ["--kind", "vjp"]]:
        print("==", args); main(["show", f"{p}::f", *args])
    for st in ["lower", "normalize", "reverse", "optimize", "inplace"]:
        print("==", st); main(["show", f"{p}::g", "--dump-after", st])
    print("== O0 g"); main(["show", f"{p}::g", "-O0"])
    print("== g"); main(["show", f"{p}::g"])
