"""The pipeline: from a user's function to the IR of its derivative.

    lower -> normalize -> hoist -> complex -> reverse -> optimize -> specialize -> dots -> sums -> inplace
          -> rows -> accumulate -> buffers -> portable (the Array API's) -> numba (Numba's)

`pipeline(fn, request)` lists the stages a Request runs, each `(name, run)` with
`run(ir) -> ir`: a stage the request does not need (specializing without shapes,
the optimizer at -O0) is left out. `derivative` runs the list; `ir.verify` checks
the grammar of the result (the tests stop after every stage in turn), and
`stop_after` ends it early (the CLI's `--dump-after`).
"""
from __future__ import annotations

from functools import partial

from .. import frontend, ir
from ..frontend import lower, running
from . import again, accumulate, buffers, complex_values, dots, forward, hoist, inplace, normalize, numba_ready, optimize, portable, reverse, rows, specialize, sums
from .request import GRAD, JVP, VJP, Kind, Of, Request, kind_of  # noqa: F401

PRIMAL_STAGES = ("lower", "normalize", "hoist", "complex")          # the function itself, not yet its derivative
STAGES = ("lower", "normalize", "hoist", "complex", "reverse", "optimize", "specialize", "dots", "sums", "inplace", "rows",
          "accumulate", "buffers", "portable", "numba")


def pipeline(fn, request: Request) -> list:
    """The stages that make `request`'s derivative of the Python function `fn`, in order."""
    kind, wrt, single, callees = request.kind, request.wrt, request.single, request.callees
    if kind.of is not None:                   # a derivative of a derivative s2sgrad made
        sweep = partial(again.run, wrt=wrt, single=single, origin=fn, kind=kind, callees=callees)
    elif kind.forwards:                       # forward mode over the gradient (Hessians)
        sweep = partial(_higher, wrt=wrt, single=single, origin=fn, forwards=kind.forwards, callees=callees,
                        summed=kind.summed)
    elif kind.mode == "jvp":
        sweep = partial(forward.run, wrt=wrt, callees=callees)
    else:
        sweep = partial(reverse.run, wrt=wrt, kind=kind.mode, single=single, origin=fn, callees=callees,
                        summed=kind.summed, flat=request.profile == "numba")
    numpy, xp, numba = (request.profile == p for p in ("numpy", "xp", "numba"))
    optimized, first = request.optimized, not kind.higher
    shapes = request.shapes if not xp else None
    stages = [
        ("lower", lambda _: lower.lower(request.source or frontend.parse(fn), keep_calls=first and numpy)),
        # (a second derivative inlines the calls, as does code for the Array API or Numba)
        ("normalize", normalize.run),
        ("hoist", hoist.run) if optimized else None,
        ("complex", partial(complex_values.run, wrt=wrt if kind.of is None else None, params=kind.complex,
                            free=partial(free_value, fn), returns_complex=request.returns_complex)),
        ("reverse", sweep),                   # (forward mode's own sweep for a jvp)
        ("optimize", optimize.run) if optimized else None,
        ("specialize", partial(specialize.run, params=shapes)) if optimized and shapes else None,
        ("dots", partial(dots.run, params=shapes)) if optimized and shapes and numpy else None,
        ("sums", partial(sums.run, params=shapes)) if optimized and shapes else None,
        ("inplace", inplace.run),
        ("rows", rows.run) if optimized and first and not xp else None,
        ("accumulate", accumulate.run) if optimized and first and not xp else None,
        ("buffers", partial(buffers.run, params=shapes)) if optimized and shapes and numpy else None,
        ("portable", partial(portable.run, arrays=request.arrays)) if xp else None,
        ("numba", partial(numba_ready.run, params=shapes)) if numba and shapes else None,
    ]
    return [stage for stage in stages if stage is not None]


def derivative(fn, request: Request, stop_after: str = "numba", resume=None, record=None) -> ir.Function:
    """Run `fn`'s pipeline for `request`; return the IR after `stop_after` (or after the
    last stage that ran before it). `resume=(stage, IR)` starts after that stage (a
    specialization reuses the general code's early stages); `record`, a dict, receives
    the IR after each stage (a stage left out: the IR as it stood)."""
    runs = dict(pipeline(fn, request))
    done, result = resume or (None, None)
    for name in STAGES[STAGES.index(done) + 1 if done else 0:]:
        if name in runs:
            result = _same_if_equal(runs[name](result), result)
        if record is not None:
            record[name] = result
        if name == stop_after:
            break
    ir.verify(result)            # the tests verify the IR after every stage (stop_after)
    return result


def _same_if_equal(new: ir.Function, old) -> ir.Function:
    """`old` itself when a stage changed nothing (the next stage then finds what was worked
    out about it already: passes/shapes.py keeps the last shapes)."""
    if new is not old and isinstance(old, ir.Function) and new == old and new.bindings is old.bindings \
            and new.companions == old.companions and new.complex == old.complex:
        return old
    return new


def free_value(fn, name: str):
    """The value a free name of the Python function `fn` has now (its closure's, else its
    module's; None if neither holds it), noted so that the derivative is built again if
    the name comes to hold complex numbers, or stops holding them (running.resolved_kind)."""
    code = getattr(fn, "__code__", None)
    if code is not None and name in code.co_freevars and fn.__closure__:
        where = fn.__closure__[code.co_freevars.index(name)]
        try:
            value = where.cell_contents
        except ValueError:                     # (a cell not filled yet)
            return None
    else:
        where = getattr(fn, "__globals__", {})
        value = where.get(name)
    running.resolved_kind(where, name, value)
    return value


def _higher(fn: ir.Function, wrt, single, origin, forwards: int, callees, summed=False) -> ir.Function:
    """The gradient, then forward mode over it `forwards` times (each along the same
    parameters, whose earlier tangents stay fixed): Hessian-vector products, and the
    second and third derivatives of functions of one number."""
    result = complex_values.over_gradient(again.gradient(fn, wrt, single, origin, callees, summed), fn.complex)
    for _ in range(forwards):
        result = optimize.run(forward.run(result, wrt, over_reverse=True, callees=callees))
    return result
