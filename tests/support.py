"""Shared test helpers: finite differences, and user functions written to real files."""
from __future__ import annotations

import copy
import importlib.util
import itertools
import os
import textwrap

import numpy as np

import s2sgrad

_MODULES = itertools.count()
FUZZ_SCALE = int(os.environ.get("S2SGRAD_FUZZ", "1"))


def fuzz(examples: int):
    """hypothesis settings for one fuzz strategy: `examples` programs by default, on
    fixed seeds; `S2SGRAD_FUZZ=10` runs ten times as many, on fresh random seeds."""
    from hypothesis import HealthCheck, settings
    return settings(max_examples=max(1, examples * FUZZ_SCALE), deadline=None, derandomize=FUZZ_SCALE == 1,
                    database=None if FUZZ_SCALE == 1 else settings.default.database,   # (the same programs always)
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])


def numeric_vjp(fn, args, i, cotangent, eps=1e-6):
    """Central finite differences of <cotangent, fn(args)> with respect to args[i]."""
    x = np.asarray(args[i], dtype=float)
    grad = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        values = []
        for step in (eps, -eps):
            moved = x.copy()
            moved[k] += step
            new = list(args)
            new[i] = moved if np.ndim(args[i]) else float(moved)
            values.append(_pair(fn(*new), cotangent))
        grad[k] = (values[0] - values[1]) / (2 * eps)
    return grad if np.ndim(args[i]) else float(grad)


def _pair(out, cotangent) -> float:
    """<cotangent, out>, item by item for a tuple output."""
    if isinstance(out, tuple):
        return sum(_pair(o, c) for o, c in zip(out, cotangent))
    return np.real(np.sum(np.asarray(out) * cotangent))      # (a complex output: the real pairing)


def _cotangent_like(out, rng):
    if isinstance(out, tuple):
        return tuple(_cotangent_like(o, rng) for o in out)
    cotangent = rng.standard_normal(np.shape(out))
    if np.iscomplexobj(out):
        cotangent = cotangent + 1j * rng.standard_normal(np.shape(out))
    return cotangent if np.ndim(out) else cotangent.item()


def check_grads(fn, *args, wrt=None, rtol=1e-5, atol=1e-6, seed=0):
    """Compare s2sgrad's vjp with finite differences for every argument in wrt; return grads.
    A function returning a tuple is pulled back from one random cotangent per output."""
    wrt = tuple(range(len(args))) if wrt is None else wrt
    out, pullback = s2sgrad.vjp(fn, *args, wrt=wrt)
    expected = fn(*args)
    assert isinstance(out, tuple) == isinstance(expected, tuple)
    for o, e in zip(out, expected) if isinstance(out, tuple) else [(out, expected)]:
        np.testing.assert_allclose(o, e, rtol=1e-12, atol=1e-12)
    cotangent = _cotangent_like(out, np.random.default_rng(seed))
    grads = pullback(cotangent)
    for i, g in zip(wrt, grads):
        assert np.shape(g) == np.shape(args[i]), f"gradient of argument {i} has the wrong shape"
        np.testing.assert_allclose(g, numeric_vjp(fn, args, i, cotangent), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of argument {i}")
    return grads


def make_function(tmp_path, source: str, name: str = "f", preamble: str = "import numpy as np\n"):
    """Write `source` to a module in tmp_path, import it, and return its function `name`."""
    module_name = f"s2sgrad_test_module_{next(_MODULES)}"
    path = tmp_path / f"{module_name}.py"
    path.write_text(preamble + textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def derive(fn, wrt: tuple, kind: str, single: bool, stop_after: str = "buffers", shapes=None,
           optimized: bool = True):
    """The pipeline's IR of fn's derivative, as the compiler makes it (the compiler hands
    the pipeline its way to compile the functions fn calls)."""
    from s2sgrad import api, passes
    request = passes.Request(wrt, passes.kind_of(kind), single, shapes=shapes, optimized=optimized,
                             callees=api.callee_derivative)
    return passes.derivative(fn, request, stop_after)


# -- trees: gradients of lists, tuples, dicts, namedtuples, dataclasses, objects --------

def _paths(tree, path=()):
    """Every float entry of a tree, as (path to its leaf, index in the leaf)."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, path + (key,))
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from _paths(value, path + (i,))
    elif isinstance(tree, (float, np.ndarray)):
        for k in np.ndindex(np.shape(tree)):
            yield path, k
    elif hasattr(tree, "__dict__"):
        for key, value in vars(tree).items():
            if isinstance(value, (float, np.ndarray, list, tuple, dict)) and not isinstance(value, str):
                yield from _paths(value, path + (key,))


def _get(tree, path):
    for p in path:
        tree = tree[p] if isinstance(tree, (dict, list, tuple)) else getattr(tree, p)
    return tree


def _moved(tree, path, k, step):
    tree = copy.deepcopy(tree)
    if not path:
        return tree + step if isinstance(tree, float) else _bump(tree, k, step)
    parent = _get(tree, path[:-1])
    leaf = _get(parent, path[-1:])
    new = leaf + step if isinstance(leaf, float) else _bump(leaf, k, step)
    if isinstance(parent, tuple):
        items = list(parent)
        items[path[-1]] = new
        rebuilt = type(parent)(*items) if hasattr(parent, "_fields") else tuple(items)
        return _moved_parent(tree, path[:-1], rebuilt)
    if isinstance(parent, (list, dict)):
        parent[path[-1]] = new
    else:
        setattr(parent, path[-1], new)
    return tree


def _moved_parent(tree, path, new):
    if not path:
        return new
    parent = _get(tree, path[:-1])
    if isinstance(parent, tuple):
        items = list(parent)
        items[path[-1]] = new
        return _moved_parent(tree, path[:-1], type(parent)(*items) if hasattr(parent, "_fields") else tuple(items))
    if isinstance(parent, (list, dict)):
        parent[path[-1]] = new
    else:
        setattr(parent, path[-1], new)
    return tree


def _bump(array, k, step):
    array = np.array(array, dtype=float)
    array[k] += step
    return array


def check_tree_grad(fn, args, i, eps=1e-6, grad=None, rtol=1e-5, atol=1e-7):
    """s2sgrad's gradient with respect to the tree args[i] (or `grad`, when given) against
    central differences, entry by entry, and the gradient in the tree's own types."""
    grad = s2sgrad.grad(fn, i)(*args) if grad is None else grad
    assert type(grad) is type(args[i]) or np.ndim(args[i]) == 0
    for path, k in _paths(args[i]):
        up = list(args)
        up[i] = _moved(args[i], path, k, eps)
        down = list(args)
        down[i] = _moved(args[i], path, k, -eps)
        want = (fn(*up) - fn(*down)) / (2 * eps)
        got = np.asarray(_get(grad, path), dtype=float)[k]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"at {path} {k}")
    return grad
