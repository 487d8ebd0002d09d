"""The referee's independent witness: the user's own function, run by Python itself.

The symbolic interpreter (symbolic.py) runs the compiler's IR, so it shares the
compiler's model of the code. Python running the ORIGINAL function on real NumPy
arrays (copies of the arguments) does not: casts, views, overlapping updates,
decorators and redefinitions behave there as they really do. verify.py asks it two
things: the function's value at the point (the IR must compute the same), and
central differences of the function, against the gradient the generated code
returns when run on floats. Comparisons here are the referee's one notion of
agreement: relative, with NaN and inf compared as what they are.
"""
from __future__ import annotations

import copy
import inspect

import numpy as np

VALUE_RTOL = 1e-9                  # the IR's value against the function's, relative
DIFF_RTOL = 1e-5                   # central differences against the gradient, relative
STEP = 1e-6                        # the difference step, relative to the entry


def call(fn, args):
    """`fn` at copies of `args` (it may write into its arguments), quietly (a NaN is
    the referee's to report)."""
    args, keywords = arguments(fn, copy.deepcopy(list(args)))
    with np.errstate(all="ignore"):
        return fn(*args, **keywords)


def arguments(fn, values) -> tuple[list, dict]:
    """The positional and keyword arguments that call `fn` with its parameters set to
    `values`, in order (keyword-only parameters are passed by name)."""
    args, keywords = list(values), {}
    for name, p in reversed(list(inspect.signature(fn).parameters.items())[:len(args)]):
        if p.kind is p.KEYWORD_ONLY:
            keywords[name] = args.pop()
    return args, keywords


def same(a, b, rtol) -> bool:
    """Whether two numbers agree to `rtol` relative to the larger (at least 1): NaN
    agrees with NaN only, an infinity with the same infinity only."""
    a, b = complex(a), complex(b)
    if np.isnan(a) or np.isnan(b):
        return bool(np.isnan(a) and np.isnan(b))
    if np.isinf(a) or np.isinf(b):
        return a == b
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def describe(value) -> str:
    """A number as the verdicts print it."""
    value = complex(value)
    return f"{value.real:.10g}" if value.imag == 0 else f"{value:.10g}"


def value_mismatch(fn, args, computed):
    """A sentence when `computed` (the IR's value at the point) differs from what `fn`
    itself returns at `args`; None when they agree."""
    try:
        actual = call(fn, args)
    except Exception as err:                # noqa: BLE001 - the user's code, reported
        return f"your function raised {type(err).__name__} at these arguments: {err}"
    if np.ndim(actual) != 0:
        return None
    actual = np.asarray(actual).item()
    if same(computed, actual, VALUE_RTOL):
        return None
    return (f"the compiled function computes {describe(computed)} where your function computes "
            f"{describe(actual)} (relative tolerance {VALUE_RTOL:g}): s2sgrad reads the code "
            f"differently from Python (a cast, a view, an overlapping update, a decorator?)")


class Differences:
    """Central differences of `fn` in one argument's entries, at two steps (their gap
    estimates their own error), and one-sided differences (a kink shows as a gap between
    the two sides)."""

    def __init__(self, fn, args, position):
        self.fn, self.args, self.position = fn, list(args), position
        self.base = np.asarray(args[position], dtype=float)
        self.f0 = self._at(self.base)

    def _at(self, x):
        args = list(self.args)
        args[self.position] = x if np.ndim(self.args[self.position]) else float(x)
        return complex(np.asarray(call(self.fn, args)).item())

    def _moved(self, k, step):
        x = self.base.copy()
        x[k] += step
        return self._at(x)

    def entry(self, k):
        """(central difference, its error estimate, forward difference, backward difference)."""
        h = STEP * max(1.0, abs(float(self.base[k])))
        up, down = self._moved(k, h), self._moved(k, -h)
        wide = (self._moved(k, 4 * h) - self._moved(k, -4 * h)) / (8 * h)
        central = (up - down) / (2 * h)
        return central, abs(central - wide), (up - self.f0) / h, (self.f0 - down) / h


def gradient_mismatch(differences, gradient, name):
    """(a sentence saying where central differences of the user's function and the
    generated gradient (its finite entries) disagree, or None; the kinks met). At a
    kink (the one-sided differences apart) any value between the two sides is taken
    as a derivative."""
    kinks = []
    for k in np.ndindex(differences.base.shape):
        have = complex(np.asarray(gradient)[k])
        if not np.isfinite(have):
            continue
        central, error, forward, backward = differences.entry(k)
        where = f"{name}{list(k) if k else ''}"
        scale = max(1.0, abs(have), abs(central))
        tolerance = DIFF_RTOL * scale + 10 * error
        if abs(forward - backward) > 100 * tolerance:                  # the two sides differ
            kinks.append(f"{where} (one-sided derivatives {describe(backward)} and {describe(forward)}, "
                         f"the generated code {describe(have)})")
            low, high = sorted((forward.real, backward.real))
            if low - tolerance <= have.real <= high + tolerance:
                continue
        elif abs(have - central) <= tolerance:
            continue
        return (f"d/d{where}: central differences of your function say {describe(central)}, the "
                f"generated code {describe(have)} (relative tolerance {DIFF_RTOL:g}, the differences' "
                f"own error {error:.1e})"), kinks
    return None, kinks


def not_finite(fn, args):
    """A sentence when `fn` is NaN or infinite at `args` (no derivative to check)."""
    value = complex(np.asarray(call(fn, args)).item())
    if np.isfinite(value):
        return None
    return f"your function is {describe(value)} at these arguments: there is no derivative to verify"


def nan_entries(gradient, name) -> list:
    """The entries of a gradient that are NaN or infinite, named."""
    values = np.asarray(gradient, dtype=complex)
    return [f"{name}{list(k) if k else ''} = {describe(values[k])}" for k in np.ndindex(values.shape)
            if not np.isfinite(values[k])]
