"""Compile time against code length: the CPU time of the first call of `s2sgrad.grad`
on generated straight-line functions of 100 to 800 lines (parse, differentiate,
optimise, emit, load, specialise to the arguments, run once).

    python bench/scaling.py                 # 100, 200, 400, 800 lines
    python bench/scaling.py 100 1600        # other lengths

Linear growth doubles the time with the length; the last column is the time over
that of the first length. Each line reads the one before and an earlier one, with
a mix of elementwise ops, reductions and products, as code a scientist writes.
"""
from __future__ import annotations

import importlib.util
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402

LINES = ("t{i} = np.sin(t{a}) * w + t{b}",
         "t{i} = np.tanh(t{a} + 0.5 * t{b})",
         "t{i} = t{a} * t{b} - np.exp(-t{a} ** 2)",
         "t{i} = t{a} / (1.0 + np.abs(t{b}))",
         "t{i} = t{a} - np.mean(t{b}) * x",
         "t{i} = np.sqrt(t{a} ** 2 + 1.0) + np.sum(t{b} * w) * 0.01")


def source(n: int) -> str:
    body = ["    t0 = x * w", "    t1 = np.cos(x) + w"]
    for i in range(2, n):
        body.append("    " + LINES[i % len(LINES)].format(i=i, a=i - 1, b=(i * 7) % (i - 1)))
    return "import numpy as np\n\n\ndef f(x, w):\n" + "\n".join(body) + f"\n    return np.sum(t{n - 1})\n"


def first_call(n: int, folder: pathlib.Path) -> float:
    path = folder / f"straight_{n}.py"
    path.write_text(source(n))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, w = np.linspace(0.1, 0.9, 8), np.linspace(-0.5, 0.5, 8)
    start = time.process_time()
    s2sgrad.grad(module.f, wrt=(0, 1))(x, w)
    return time.process_time() - start


def main(argv) -> int:
    lengths = [int(a) for a in argv] or [100, 200, 400, 800]
    with tempfile.TemporaryDirectory() as folder:
        times = [first_call(n, pathlib.Path(folder)) for n in lengths]
    print(f"{'lines':>6}  {'first grad call, CPU s':>22}  {'x first':>8}")
    for n, t in zip(lengths, times):
        print(f"{n:>6}  {t:>22.3f}  {t / times[0]:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
