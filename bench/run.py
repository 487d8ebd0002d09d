"""Benchmark s2sgrad's gradients against the NumPy primal, autograd, JAX (op by op and jit) and PyTorch.

    python bench/run.py              # full run (about 1-2 minutes)
    python bench/run.py --quick      # shorter measurements, fewer repeats (under 30 s)
    python bench/run.py --markdown   # the table as Markdown, for bench/README.md

For each workload and size it reports the NumPy primal's time, and for
s2sgrad, autograd, JAX op by op, jax.jit and PyTorch eager the ratio gradient
time / primal time (lower is better; "-" when the peer is not installed; "err"
when it cannot run the workload, as jax.jit on data-dependent control flow),
with jax.jit's first call (trace and compile). It also reports s2sgrad's
first-call cost on a fresh function object and how far s2sgrad's gradient is
from a reference (autograd's, else JAX's, else central finite differences).
A cell reads FAIL when s2sgrad raises or disagrees with the reference.
See bench/README.md.
"""
from __future__ import annotations

import os
import sys

# Large temporaries (8 MB for n = 1e6) would otherwise be mmap'ed and unmapped on every call,
# so timings would mostly measure page faults, and vary with the allocator's history. Keep
# them in the heap (glibc; elsewhere these variables are ignored), unless told not to.
_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
if __name__ == "__main__" and "--system-malloc" not in sys.argv[1:] \
        and not all(k in os.environ for k in _MALLOC):
    for _k, _v in _MALLOC.items():
        os.environ.setdefault(_k, _v)
    os.execv(sys.executable, sys.orig_argv)        # glibc reads them at start-up only

# One thread everywhere, for a fair comparison; set before NumPy or JAX is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse
import importlib.metadata
import math
import platform
import statistics
import time
import timeit
import traceback
import types
import warnings
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

import s2sgrad
from bench.workloads import WORKLOADS, for_module

RTOL = 1e-6          # s2sgrad vs autograd / JAX: relative to the largest reference entry
FD_RTOL = 1e-4       # finite differences are only this good
SMALL_TARGET, LARGE_TARGET, FIRST_CALL_TARGET_MS = 4.0, 3.0, 20.0


# -- the optional peers ------------------------------------------------------

def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _load_autograd():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import autograd
            import autograd.numpy as anp
    except Exception:                                   # noqa: BLE001 - any import failure
        return None
    return types.SimpleNamespace(name="autograd", version=_version("autograd"), grad=autograd.grad,
                                 np=anp)


def _load_jax():
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        import jax.numpy as jnp
    except Exception:                                   # noqa: BLE001 - any import failure
        return None
    return types.SimpleNamespace(name="jax", version=jax.__version__, jax=jax, np=jnp)


def _load_torch():
    try:
        import torch
        torch.set_num_threads(1)
        from bench import torch_numpy
    except Exception:                                   # noqa: BLE001 - any import failure
        return None
    return types.SimpleNamespace(name="torch", version=torch.__version__, torch=torch, np=torch_numpy)


# -- timing ------------------------------------------------------------------

@dataclass
class Timing:
    target: float       # seconds one measurement should take
    repeats: int

    def loops(self, timer: timeit.Timer) -> int:
        """How many calls make one measurement of about `target` seconds."""
        number = 1
        while True:
            elapsed = timer.timeit(number)
            if elapsed >= self.target * 0.5:
                return number
            if elapsed < self.target / 100:
                number *= 10
            else:
                number = max(number + 1, math.ceil(number * self.target / elapsed))

    def rounds(self, calls: dict) -> dict:
        """Seconds per call of each of `calls` (name -> callable), measured `repeats` times.

        The calls take turns within each round, so that a change in the machine's load
        during the run (other processes, frequency scaling) hits all of them alike; a
        ratio is then taken within each round, and the median over the rounds reported."""
        timers = {name: timeit.Timer(call) for name, call in calls.items()}
        for call in calls.values():
            call()                                      # warm up
        numbers = {name: self.loops(timer) for name, timer in timers.items()}
        times = {name: [] for name in calls}
        for _ in range(self.repeats):
            for name, timer in timers.items():
                times[name].append(timer.timeit(numbers[name]) / numbers[name])
        return times


def median_ratio(times: list, base: list) -> float:
    return statistics.median(t / b for t, b in zip(times, base))


def first_call(fn, wrt, args, tries=3) -> tuple[float, float]:
    """Median over fresh copies of `fn` of (grad() creation, creation + first call), seconds.
    s2sgrad caches the compiled derivative per function object, so each copy compiles anew."""
    results = []
    for _ in range(tries):
        fresh = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                                   fn.__closure__)
        fresh.__kwdefaults__, fresh.__qualname__ = fn.__kwdefaults__, fn.__qualname__
        start = time.perf_counter()
        g = s2sgrad.grad(fresh, wrt)
        created = time.perf_counter()
        g(*args)
        results.append((created - start, time.perf_counter() - start))
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


# -- gradients and their comparison -------------------------------------------

def _as_tuple(grads, wrt):
    return tuple(grads) if isinstance(wrt, tuple) else (grads,)


def max_abs_diff(got, ref) -> tuple[float, float]:
    """(max |got - ref|, that divided by the largest |ref| entry)."""
    diff = max(float(np.max(np.abs(np.asarray(g, dtype=float) - np.asarray(r, dtype=float))))
               if np.shape(g) == np.shape(r) else math.inf for g, r in zip(got, ref))
    scale = max(float(np.max(np.abs(np.asarray(r, dtype=float)))) for r in ref)
    return diff, diff / scale if scale > 0 else diff


def finite_differences(fn, args, positions, got, coords=3):
    """Central differences on a few coordinates of each differentiated argument; returns
    (the s2sgrad values at those coordinates, the estimates) as tuples of arrays."""
    rng = np.random.default_rng(1)
    mine, estimates = [], []
    for k, i in enumerate(positions):
        x = args[i]
        flat = [()] if np.ndim(x) == 0 else [np.unravel_index(j, np.shape(x)) for j in
                                              rng.choice(np.size(x), min(coords, np.size(x)),
                                                         replace=False)]
        for idx in flat:
            value = float(x) if np.ndim(x) == 0 else float(x[idx])
            h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(value))

            def at(v):
                changed = list(args)
                if np.ndim(x) == 0:
                    changed[i] = v
                else:
                    changed[i] = x.copy()
                    changed[i][idx] = v
                return float(fn(*changed))
            estimates.append((at(value + h) - at(value - h)) / (2 * h))
            mine.append(float(np.asarray(got[k])[idx]) if np.ndim(x) else float(got[k]))
    return (np.array(mine),), (np.array(estimates),)


def _torch_grad(tc, fn, args, positions):
    """A call computing fn's gradient with PyTorch's eager autograd: the differentiated
    arguments become leaf tensors afresh each call (converted from NumPy once, outside)."""
    torch = tc.torch
    tensors = [torch.as_tensor(a, dtype=torch.float64) if isinstance(a, (float, np.ndarray)) else a
               for a in args]

    def gradient():
        inputs = [t.detach().requires_grad_(True) if i in positions else t for i, t in enumerate(tensors)]
        out = fn(*inputs)
        grads = torch.autograd.grad(out, [inputs[i] for i in positions])
        return tuple(g.numpy() for g in grads)
    return gradient


def _load_numba():
    try:
        import numba
    except Exception:                                   # noqa: BLE001 - any import failure
        return None
    return types.SimpleNamespace(name="numba", version=numba.__version__, numba=numba)


def _numba_calls(work, wrt, args, mine, nb, row, calls) -> None:
    """s2sgrad's gradient compiled by Numba (backend="auto": NumPy's code where Numba
    cannot), its first call (the compile; from Numba's cache when it holds it), and the
    primal compiled by numba.njit, to compare the two."""
    start = time.perf_counter()
    g_nb = s2sgrad.grad(work.fn, wrt, backend="auto")
    try:
        theirs = _as_tuple(g_nb(*args), wrt)
    except Exception as err:                            # noqa: BLE001
        row.ratios["numba"] = "err"
        row.notes.append(f"backend='numba' raised {type(err).__name__}: {err}")
        return
    row.numba_ms = (time.perf_counter() - start) * 1e3
    if max_abs_diff(theirs, mine)[1] > RTOL:
        row.ratios["numba"] = "FAIL"
        return
    calls["numba"] = lambda: g_nb(*args)
    primal = nb.numba.njit(work.fn)
    try:
        primal(*args)
        calls["njit primal"] = lambda: primal(*args)
    except Exception:                                   # noqa: BLE001 - Numba cannot compile the primal
        row.ratios["njit primal"] = "err"


# -- one row -----------------------------------------------------------------

@dataclass
class Row:
    workload: str
    size: str
    large: bool
    primal: float = math.nan
    ratios: dict = field(default_factory=dict)   # peer name -> ratio | "FAIL" | "-"
    transform_ms: float | str = "-"
    first_ms: float | str = "-"
    jit_ms: float | str = "-"                    # jax.jit's first call: trace + compile + run
    numba_ms: float | str = "-"                  # backend="numba"'s first call: transform + Numba compile
    diff: str = "-"
    failure: str = ""                            # what went wrong with s2sgrad, if anything
    notes: list = field(default_factory=list)


def run_row(work, label, size, large, peers, timing) -> Row:
    row = Row(work.name, label, large)
    rng = np.random.default_rng(0)
    args = work.make_inputs(size, rng)
    positions = work.positions
    wrt = work.wrt
    argnum = positions if isinstance(wrt, tuple) else positions[0]
    calls = {"primal": lambda: work.fn(*args)}

    # s2sgrad: first call on fresh copies, then the steady state.
    mine = None
    try:
        transform, first = first_call(work.fn, wrt, args)
        row.transform_ms, row.first_ms = transform * 1e3, first * 1e3
        g = s2sgrad.grad(work.fn, wrt)
        mine = _as_tuple(g(*args), wrt)
        calls["s2sgrad"] = lambda: g(*args)
    except Exception as err:                            # noqa: BLE001 - report, keep going
        row.ratios["s2sgrad"] = row.first_ms = row.transform_ms = "FAIL"
        row.diff = "FAIL (error)"
        row.failure = "".join(traceback.format_exception_only(type(err), err)).strip()

    # The peers, and the reference gradient.
    reference, ref_name = None, None
    ag, jx = peers.get("autograd"), peers.get("jax")
    if ag is not None:
        g_ag = ag.grad(for_module(work.fn, ag.np), argnum)
        try:
            reference, ref_name = _as_tuple(g_ag(*args), wrt), "autograd"
            calls["autograd"] = lambda: g_ag(*args)
        except Exception as err:                        # noqa: BLE001
            row.ratios["autograd"] = "err"
            row.notes.append(f"autograd raised {type(err).__name__}: {err}")
    if jx is not None:
        g_jx = jx.jax.grad(for_module(work.fn, jx.np), argnum)
        jargs = tuple(jx.np.asarray(a) for a in args)   # converted once, outside the timing
        block = jx.jax.block_until_ready
        try:
            theirs = tuple(np.asarray(t) for t in _as_tuple(block(g_jx(*jargs)), wrt))
            calls["jax"] = lambda: block(g_jx(*jargs))
            if reference is None:
                reference, ref_name = theirs, "jax"
            elif max_abs_diff(theirs, reference)[1] > RTOL:
                row.notes.append("jax and autograd disagree: max|diff| = "
                                 f"{max_abs_diff(theirs, reference)[0]:.2e}")
        except Exception as err:                        # noqa: BLE001
            row.ratios["jax"] = "err"
            row.notes.append(f"jax raised {type(err).__name__}: {err}")

    if jx is not None and "jax" in calls:
        g_jit = jx.jax.jit(g_jx)
        try:
            start = time.perf_counter()
            block(g_jit(*jargs))
            row.jit_ms = (time.perf_counter() - start) * 1e3
            calls["jax.jit"] = lambda: block(g_jit(*jargs))
        except Exception as err:                        # noqa: BLE001 - data-dependent control flow
            row.ratios["jax.jit"] = row.jit_ms = "err"
            row.notes.append(f"jax.jit raised {type(err).__name__}")
    nb = peers.get("numba")
    if nb is not None and mine is not None:
        _numba_calls(work, wrt, args, mine, nb, row, calls)
    tc = peers.get("torch")
    if tc is not None:
        g_tc = _torch_grad(tc, for_module(work.fn, tc.np), args, positions)
        try:
            theirs = g_tc()
            calls["torch"] = g_tc
            if reference is not None and max_abs_diff(theirs, reference)[1] > RTOL:
                row.notes.append(f"torch disagrees with {ref_name}: max|diff| = "
                                 f"{max_abs_diff(theirs, reference)[0]:.2e}")
        except Exception as err:                        # noqa: BLE001
            row.ratios["torch"] = "err"
            row.notes.append(f"torch raised {type(err).__name__}: {err}")

    times = timing.rounds(calls)
    row.primal = statistics.median(times["primal"])
    for name in calls.keys() - {"primal", "njit primal"}:
        row.ratios[name] = median_ratio(times[name], times["primal"])
    if "njit primal" in times and "numba" in times:     # Numba's gradient over Numba's primal
        row.ratios["numba/njit"] = median_ratio(times["numba"], times["njit primal"])

    if mine is not None:
        if reference is not None:
            got, tol = mine, RTOL
        else:
            got, reference = finite_differences(work.fn, args, positions, mine)
            ref_name, tol = "fd", FD_RTOL
        diff, rel = max_abs_diff(got, reference)
        row.diff = f"{diff:.1e}" + (" (fd)" if ref_name == "fd" else "")
        if not rel <= tol:
            row.ratios["s2sgrad"] = "FAIL"
            row.diff = "FAIL " + row.diff
            row.failure = (f"gradient differs from {ref_name}'s: max|diff| = {diff:.3e} "
                           f"(relative {rel:.3e} > {tol:g})")
    return row


# -- the table ---------------------------------------------------------------

HEADERS = ("workload", "size", "primal us", "s2sgrad x", "autograd x", "jax x", "jax.jit x", "torch x",
           "s2s numba x", "numba / njit primal", "s2s transform+compile ms", "s2s 1st call ms",
           "jax.jit 1st call ms", "s2s numba 1st call ms", "max abs diff vs ref")


def _ratio(value) -> str:
    return value if isinstance(value, str) else f"{value:.2f}"


def cells(row: Row) -> list:
    target = LARGE_TARGET if row.large else SMALL_TARGET
    mine = row.ratios.get("s2sgrad", "-")
    mark = lambda bad: " *" if bad else ""               # noqa: E731
    first, compile_ms = row.first_ms, row.transform_ms
    return [row.workload, row.size, f"{row.primal * 1e6:.1f}",
            _ratio(mine) + mark(isinstance(mine, float) and mine > target),
            _ratio(row.ratios.get("autograd", "-")), _ratio(row.ratios.get("jax", "-")),
            _ratio(row.ratios.get("jax.jit", "-")), _ratio(row.ratios.get("torch", "-")),
            _ratio(row.ratios.get("numba", "-")), _ratio(row.ratios.get("numba/njit", "-")),
            (f"{compile_ms:.1f}" if isinstance(compile_ms, float) else compile_ms)
            + mark(isinstance(compile_ms, float) and compile_ms > FIRST_CALL_TARGET_MS),
            f"{first:.1f}" if isinstance(first, float) else first,
            f"{row.jit_ms:.1f}" if isinstance(row.jit_ms, float) else row.jit_ms,
            f"{row.numba_ms:.1f}" if isinstance(row.numba_ms, float) else row.numba_ms,
            row.diff]


def render(rows, markdown: bool) -> str:
    body = [cells(r) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(HEADERS) + " |",
                 "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADERS) - 2)) + "|"]
        escape = lambda c: c.replace("|", "\\|").replace("*", "\\*")   # noqa: E731
        lines += ["| " + " | ".join(escape(c) for c in r) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(HEADERS)]
    fmt = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)   # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(HEADERS), "  ".join("-" * w for w in widths)] + [fmt(r) for r in body])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="shorter measurements and fewer repeats (under 30 s)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--system-malloc", action="store_true",
                        help="keep the allocator's defaults (large temporaries then cost page "
                             "faults on every call, and timings vary more)")
    parser.add_argument("--only", metavar="WORD", default="",
                        help="run only the workloads whose name contains WORD")
    options = parser.parse_args(argv)
    timing = Timing(0.02, 3) if options.quick else Timing(0.1, 7)

    peers = {p.name: p for p in (_load_autograd(), _load_jax(), _load_torch(), _load_numba())
             if p is not None}
    started = time.perf_counter()
    rows = []
    for work in (w for w in WORKLOADS if options.only in w.name):
        for k, (label, size) in enumerate(work.sizes.items()):
            if sys.stderr.isatty():
                print(f"\r\033[K  {work.name} [{label}] ...", end="", file=sys.stderr, flush=True)
            rows.append(run_row(work, label, size, k > 0, peers, timing))
    elapsed = time.perf_counter() - started
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)

    versions = ", ".join([f"python {platform.python_version()}", f"numpy {np.__version__}",
                          f"s2sgrad {getattr(s2sgrad, '__version__', '?')}"]
                         + [f"{p.name} {p.version}" for p in peers.values()])
    missing = [name for name in ("autograd", "jax") if name not in peers]
    malloc = "system malloc" if options.system_malloc else "large temporaries kept in the heap"
    print(f"# {versions}; 1 thread; {malloc}; {'quick' if options.quick else 'full'} run in "
          f"{elapsed:.0f} s")
    if missing:
        print(f"# not installed: {', '.join(missing)} (shown as -)")
    print(f"# ratios are gradient time / NumPy primal time, the median over {timing.repeats} "
          f"rounds of interleaved ~{timing.target * 1e3:.0f} ms measurements; * marks a miss of the targets "
          f"(<= {SMALL_TARGET:g}x small, <= {LARGE_TARGET:g}x large, transform+compile <= "
          f"{FIRST_CALL_TARGET_MS:g} ms); 1st call adds one gradient evaluation")
    print()
    print(render(rows, options.markdown))
    failures = [r for r in rows if r.failure]
    notes = [(r, n) for r in rows for n in r.notes]
    if failures or notes:
        print()
    for r in failures:
        print(f"FAIL {r.workload} [{r.size}]: {r.failure}")
    for r, n in notes:
        print(f"note {r.workload} [{r.size}]: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
