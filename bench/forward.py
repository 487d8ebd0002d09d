"""Forward mode and second derivatives against the NumPy primal and the peers, in one run.

    python bench/forward.py            # jvp rows, then the Hessian of an n = 100 function
    python bench/forward.py --quick

Rows: `s2sgrad.jvp` on the workloads of bench/workloads.py (one random tangent per
differentiated argument), time / primal time, beside `jax.jvp` op by op and
`jax.jit(jax.jvp)`; then `s2sgrad.hessian` of a function of 100 numbers (forward over
reverse, and the Jacobian of the gradient by reverse over reverse) beside
`autograd.hessian`, `jax.hessian` and `jax.jit(jax.hessian)`, in milliseconds
and as a multiple of the primal, with the largest difference from autograd's.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import run as bench                     # (one thread everywhere, set at its import)

import argparse
import statistics

import numpy as np

import s2sgrad
from bench.workloads import WORKLOADS, for_module

N = 100


def hessian_function(x):
    """A smooth function of n numbers whose Hessian is dense in its first rows."""
    return np.sum(np.tanh(x) * x ** 2) + 0.5 * np.sum(x[1:] * x[:-1]) + np.sin(x[0]) * np.sum(x)


def jvp_rows(timing, jax):
    rows = []
    for work in WORKLOADS:
        for label, size in work.sizes.items():
            rng = np.random.default_rng(0)
            args = work.make_inputs(size, rng)
            positions = work.positions
            tangents = tuple(rng.standard_normal(np.shape(args[i])) if np.ndim(args[i])
                             else float(rng.standard_normal()) for i in positions)
            calls = {"primal": lambda: work.fn(*args),
                     "s2sgrad": lambda: s2sgrad.jvp(work.fn, args, tangents, wrt=positions)}
            try:
                _, mine = s2sgrad.jvp(work.fn, args, tangents, wrt=positions)
            except s2sgrad.S2SGradError as error:
                rows.append((work.name, label, "error: " + str(error).splitlines()[0][:60], "-", "-", "-"))
                continue
            diff = "-"
            if jax is not None:
                theirs = for_module(work.fn, jax.np)
                jargs = [jax.np.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
                jt = [jax.np.asarray(t) if isinstance(t, np.ndarray) else t for t in tangents]

                def along(*diff_args, _args=jargs):
                    full = list(_args)
                    for i, a in zip(positions, diff_args):
                        full[i] = a
                    return theirs(*full)
                primals = tuple(jargs[i] for i in positions)
                calls["jax"] = lambda: jax.jax.block_until_ready(jax.jax.jvp(along, primals, tuple(jt)))
                try:
                    jitted = jax.jax.jit(lambda p, t: jax.jax.jvp(along, p, t))
                    jitted(primals, tuple(jt))
                    calls["jax.jit"] = lambda: jax.jax.block_until_ready(jitted(primals, tuple(jt)))
                except Exception:                      # noqa: BLE001 - data-dependent control flow
                    pass
                try:
                    ref = jax.jax.jvp(along, primals, tuple(jt))[1]
                    diff = f"{bench.max_abs_diff((mine,), (np.asarray(ref),))[0]:.1e}"
                except Exception:                      # noqa: BLE001
                    calls.pop("jax", None)
            times = timing.rounds(calls)
            ratio = {k: statistics.median(t / b for t, b in zip(v, times["primal"])) for k, v in times.items()}
            rows.append((work.name, label, f"{ratio['s2sgrad']:.2f}{' *' if ratio['s2sgrad'] > 3 else ''}",
                         f"{ratio['jax']:.2f}" if "jax" in ratio else "err",
                         f"{ratio['jax.jit']:.2f}" if "jax.jit" in ratio else "err", diff))
    return rows


def hessian_rows(timing, autograd, jax):
    x = np.random.default_rng(1).standard_normal(N) * 0.5
    again = s2sgrad.jacobian(s2sgrad.grad(hessian_function), mode="reverse")     # reverse over reverse
    calls = {"primal": lambda: hessian_function(x), "s2sgrad": lambda: s2sgrad.hessian(hessian_function)(x),
             "s2sgrad rev-over-rev": lambda: again(x)}
    mine = s2sgrad.hessian(hessian_function)(x)
    reference, diffs = None, {}
    if autograd is not None:
        import autograd as ag
        theirs = for_module(hessian_function, autograd.np)
        h = ag.hessian(theirs)
        calls["autograd"] = lambda: h(x)
        reference = h(x)
    if jax is not None:
        theirs = for_module(hessian_function, jax.np)
        jx = jax.np.asarray(x)
        h_jax = jax.jax.hessian(theirs)
        h_jit = jax.jax.jit(h_jax)
        h_jit(jx)
        calls["jax"] = lambda: jax.jax.block_until_ready(h_jax(jx))
        calls["jax.jit"] = lambda: jax.jax.block_until_ready(h_jit(jx))
        reference = np.asarray(h_jax(jx)) if reference is None else reference
    if reference is not None:
        diffs["s2sgrad"] = float(np.max(np.abs(mine - reference)))
        diffs["s2sgrad rev-over-rev"] = float(np.max(np.abs(again(x) - reference)))
    times = timing.rounds(calls)
    primal = statistics.median(times["primal"])
    return [(name, f"{statistics.median(t) * 1e3:.2f}", f"{statistics.median(t) / primal:.0f}",
             f"{diffs[name]:.1e}" if name in diffs else "-") for name, t in times.items() if name != "primal"]


def table(head, rows, markdown) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head, *rows])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter measurements")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    options = parser.parse_args(argv)
    timing = bench.Timing(0.02, 3) if options.quick else bench.Timing(0.1, 7)
    autograd, jax = bench._load_autograd(), bench._load_jax()
    print("# jvp time / NumPy primal time (median over interleaved rounds); * marks a miss of <= 3x")
    print(table(("workload", "size", "s2sgrad jvp x", "jax.jvp x", "jax.jit(jvp) x", "max abs diff vs jax"),
                jvp_rows(timing, jax), options.markdown))
    print(f"\n# Hessian of a function of n = {N} numbers (bench/forward.py: hessian_function)")
    print(table(("library", "ms per Hessian", "x primal", "max abs diff vs autograd"),
                hessian_rows(timing, autograd, jax), options.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
