"""Transform time over the test galleries: how long `s2sgrad.grad(fn)` takes to make
the derivative of each gallery function (parse, differentiate, optimise, emit, compile),
and how long its first call takes (which compiles the version for the arguments' shapes).

    python bench/compile_times.py          # median, slowest, and every function over 20 ms

Each function is timed on a fresh copy (no cache), three times; the minimum counts.
Callee vjps are cached across copies of the caller, as they are for a user.
"""
from __future__ import annotations

import pathlib
import statistics
import sys
import time
import types

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402
from tests.flow_functions import FLOW  # noqa: E402
from tests.functions import GALLERY  # noqa: E402
from tests.more_functions import MORE  # noqa: E402

LIMIT_MS = 20.0


def _fresh(fn):
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def _entries():
    seen = set()
    for fn, make_args, *wrt in [(f, m) for f, m in GALLERY] + FLOW + MORE:
        wrt = wrt[0] if wrt and wrt[0] is not None else None
        out = fn(*make_args())
        if fn in seen or isinstance(out, tuple) or np.ndim(out) != 0:
            continue
        seen.add(fn)
        yield fn, make_args, wrt


def measure(fn, make_args, wrt):
    args = make_args()
    wrt = tuple(range(len(args))) if wrt is None else tuple(wrt)
    make, first = [], []
    for _ in range(3):
        copy = _fresh(fn)
        start = time.perf_counter()
        g = s2sgrad.grad(copy, wrt=wrt)
        made = time.perf_counter()
        g(*args)
        make.append(made - start)
        first.append(time.perf_counter() - start)
    return min(make) * 1e3, min(first) * 1e3


def main() -> int:
    rows = [(fn.__name__, *measure(fn, make_args, wrt)) for fn, make_args, wrt in _entries()]
    makes = [m for _, m, _ in rows]
    firsts = [f for _, _, f in rows]
    slowest = max(rows, key=lambda r: r[1])
    print(f"{len(rows)} gallery functions: transform median {statistics.median(makes):.1f} ms, "
          f"slowest {slowest[1]:.1f} ms ({slowest[0]}); first call median "
          f"{statistics.median(firsts):.1f} ms, slowest {max(firsts):.1f} ms")
    for name, make, first in sorted(rows, key=lambda r: -r[1]):
        if make > LIMIT_MS or first > LIMIT_MS:
            print(f"  over {LIMIT_MS:.0f} ms: {name}: transform {make:.1f} ms, first call {first:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
