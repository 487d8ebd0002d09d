"""The pipeline: from a user's function to the IR of its derivative.

    lower -> normalize -> hoist -> reverse -> optimize -> specialize -> sums -> inplace -> rows
          -> accumulate -> buffers

Each stage takes the previous stage's IR and returns new IR; `ir.verify`
checks the grammar of the result (the tests stop after every stage in turn). `stop_after` ends the pipeline early
(the CLI's `--dump-after`), and `optimize=False` skips the optimizer (`-O0`).
"""
from __future__ import annotations

from functools import partial

from .. import frontend, ir, lower
from . import accumulate, buffers, forward, hoist, inplace, normalize, optimize, reverse, rows, specialize, sums

PRIMAL_STAGES = ("lower", "normalize", "hoist")          # the function itself, not yet its derivative
STAGES = ("lower", "normalize", "hoist", "reverse", "optimize", "specialize", "sums", "inplace", "rows",
          "accumulate", "buffers")


def derivative(fn, wrt: tuple, kind: str = "grad", single: bool = True,
               stop_after: str = "buffers", optimized: bool = True, shapes=None,
               resume=None, record=None) -> ir.Function:
    """Run the pipeline on the Python function `fn`; return the IR after `stop_after`.
    `shapes` (parameter name -> shapes.Shaped) asks for code specialized to them;
    `resume=(stage, IR)` starts after that stage (a specialization reuses the general
    code's early stages); `record`, a dict, receives the IR after each stage."""
    higher = kind.startswith("reverse,")   # "reverse,forward[,forward]": forward over a gradient
    sweep = partial(forward.run, wrt=wrt) if kind == "jvp" else \
        partial(_higher, wrt=wrt, single=single, origin=fn, forwards=kind.count("forward")) if higher else \
        partial(reverse.run, wrt=wrt, kind=kind, single=single, origin=fn)
    stages = {
        "lower": lambda _: lower.lower(frontend.parse(fn), keep_calls=not higher),   # Hessians inline calls
        "normalize": normalize.run,
        "hoist": hoist.run if optimized else (lambda f: f),
        "reverse": sweep,                  # (forward mode's own sweep for a jvp)
        "optimize": optimize.run if optimized else (lambda f: f),
        "specialize": partial(specialize.run, params=shapes) if optimized and shapes else (lambda f: f),
        "sums": partial(sums.run, params=shapes) if optimized and shapes else (lambda f: f),
        "accumulate": accumulate.run if optimized and not higher else (lambda f: f),
        "buffers": partial(buffers.run, params=shapes) if optimized and shapes else (lambda f: f),
        "inplace": inplace.run,
        "rows": rows.run if optimized and not higher else (lambda f: f),
    }
    done, result = resume or (None, None)
    for name in STAGES[STAGES.index(done) + 1 if done else 0:]:
        result = stages[name](result)
        if record is not None:
            record[name] = result
        if name == stop_after:
            break
    ir.verify(result)            # the tests verify the IR after every stage (stop_after)
    return result


def _higher(fn: ir.Function, wrt, single, origin, forwards: int) -> ir.Function:
    """The gradient, then forward mode over it `forwards` times (each along the same
    parameters, whose earlier tangents stay fixed): Hessian-vector products, and the
    second and third derivatives of functions of one number."""
    result = optimize.run(reverse.run(fn, wrt, "grad", single, origin))
    for _ in range(forwards):
        result = optimize.run(forward.run(result, wrt, over_reverse=True))
    return result
