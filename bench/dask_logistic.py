"""The gradient of a logistic loss over a Dask array larger than one worker's memory share.

    python bench/dask_logistic.py                  # (1e7, 50) float64 in 1e6-row chunks, 2 workers
    python bench/dask_logistic.py --rows 2000000   # smaller

A two-worker LocalCluster (processes) computes, from the same lazily generated design
matrix, the loss alone (the primal) and s2sgrad's value and gradient. Reported: that
building the gradient computed nothing (lazy), its agreement with the primal's value and
with a gradient computed chunk by chunk with NumPy, and the time of each, with the ratio
gradient / primal (the goal: within 2x).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402


def logistic_loss(w, X, y):
    p = 1 / (1 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    import dask
    import dask.array as da
    from dask.callbacks import Callback
    from dask.distributed import Client, LocalCluster

    class Count(Callback):
        runs = 0

        def _start(self, dsk):
            Count.runs += 1

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        rows, features = options.rows, options.features
        X = da.random.default_rng(0).normal(size=(rows, features), chunks=(options.chunk, features))
        w_true = np.linspace(-1, 1, features)
        y = (X @ w_true + da.random.default_rng(1).normal(size=rows, chunks=options.chunk) > 0) * 1.0
        w = 0.1 * np.ones(features)
        step = s2sgrad.value_and_grad(logistic_loss)
        with dask.config.set(scheduler="threads"), Count():     # (a compute would run here, and be counted)
            value, grad = step(w, X, y)                 # building the graph
        lazy = Count.runs == 0 and isinstance(grad, da.Array)
        primal, both = [], []
        for _ in range(options.repeats):
            start = time.perf_counter()
            loss = client.compute(logistic_loss(w, X, y), sync=True)
            primal.append(time.perf_counter() - start)
            start = time.perf_counter()
            value_now, grad_now = client.compute([value, grad], sync=True)
            both.append(time.perf_counter() - start)
        # a reference: the same gradient, chunk by chunk with NumPy (X^T (p - y) / n)
        reference = np.zeros(features)
        for k in range(X.numblocks[0]):
            Xk, yk = client.compute([X.blocks[k], y.blocks[k]], sync=True)
            pk = 1 / (1 + np.exp(-(Xk @ w)))
            reference += Xk.T @ (pk - yk)
        reference /= rows
        error = float(np.max(np.abs(grad_now - reference)) / np.max(np.abs(reference)))
        print(f"# dask {dask.__version__}, {cluster.workers.__len__()} workers (processes), X ({rows}, {features}) "
              f"float64 in {options.chunk}-row chunks ({rows * features * 8 / 1e9:.1f} GB), cpus {os.cpu_count()}")
        print(f"lazy (nothing computed while building): {lazy}")
        print(f"value agrees with the primal: {abs(value_now - loss) <= 1e-12 * abs(loss)}; gradient vs chunked "
              f"NumPy: relative max |diff| {error:.1e}")
        print(f"primal {min(primal):.2f} s, value and gradient {min(both):.2f} s: ratio {min(both) / min(primal):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
