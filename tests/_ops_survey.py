from collections import Counter
import inspect
from s2sgrad import ir, passes
from .test_forward import _entries, _float_positions
import numpy as np
def main():
    ops = Counter(); nodes = Counter()
    for p in _entries():
        fn, make_args, wrt = p.values
        args = make_args()
        positions = tuple(wrt) if wrt is not None else _float_positions(args)
        names = list(inspect.signature(fn).parameters)
        positions = tuple(names[p] if isinstance(p, int) else p for p in positions)
        try:
            f = passes.derivative(fn, positions, "grad", stop_after="optimize")
        except Exception as e:
            nodes["ERR " + type(e).__name__] += 1; continue
        for s in ir.walk_all(f.body):
            nodes[type(s).__name__ + (" rev" if getattr(s, "reverse", False) else "")] += 1
            if isinstance(s, ir.Assign):
                ops[s.op] += 1
    print(nodes); print(sorted(ops.items(), key=lambda kv: -kv[1]))
