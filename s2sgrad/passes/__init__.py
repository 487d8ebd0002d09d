"""The pipeline: from a user's function to the IR of its derivative.

    lower -> normalize -> hoist -> reverse -> optimize -> specialize -> dots -> sums -> inplace
          -> rows -> accumulate -> buffers

Each stage takes the previous stage's IR and returns new IR; `ir.verify`
checks the grammar of the result (the tests stop after every stage in turn). `stop_after` ends the pipeline early
(the CLI's `--dump-after`), and `optimize=False` skips the optimizer (`-O0`).
"""
from __future__ import annotations

import ast
import re
from functools import partial

from .. import frontend, ir
from ..frontend import lower
from . import again, accumulate, buffers, dots, forward, hoist, inplace, normalize, optimize, reverse, rows, specialize, sums

PRIMAL_STAGES = ("lower", "normalize", "hoist")          # the function itself, not yet its derivative
STAGES = ("lower", "normalize", "hoist", "reverse", "optimize", "specialize", "dots", "sums", "inplace", "rows",
          "accumulate", "buffers")


def derivative(fn, wrt: tuple, kind: str = "grad", single: bool = True,
               stop_after: str = "buffers", optimized: bool = True, shapes=None,
               resume=None, record=None, callees=None) -> ir.Function:
    """Run the pipeline on the Python function `fn`; return the IR after `stop_after`.
    `shapes` (parameter name -> shapes.Shaped) asks for code specialized to them;
    `resume=(stage, IR)` starts after that stage (a specialization reuses the general
    code's early stages); `record`, a dict, receives the IR after each stage. `callees(fn,
    positions, kind)` gives the compiled vjp or jvp of a function `fn` calls (api's
    callee_derivative: the compiler hands it down, the passes never compile code)."""
    again_of = _derived(kind)              # "vjp of grad('x')": a derivative of a gradient
    higher = kind.startswith("reverse,") or again_of is not None   # (or "reverse,forward[,forward]")
    sweep = partial(forward.run, wrt=wrt, callees=callees) if kind == "jvp" else \
        partial(_higher, wrt=wrt, single=single, origin=fn, forwards=kind.count("forward"), callees=callees) \
        if kind.startswith("reverse,") else \
        partial(again.run, wrt=wrt, single=single, origin=fn, how=again_of, callees=callees) if again_of else \
        partial(reverse.run, wrt=wrt, kind=kind, single=single, origin=fn, callees=callees)
    stages = {
        "lower": lambda _: lower.lower(frontend.parse(fn), keep_calls=not higher),   # Hessians inline calls
        "normalize": normalize.run,
        "hoist": hoist.run if optimized else (lambda f: f),
        "reverse": sweep,                  # (forward mode's own sweep for a jvp)
        "optimize": optimize.run if optimized else (lambda f: f),
        "specialize": partial(specialize.run, params=shapes) if optimized and shapes else (lambda f: f),
        "dots": partial(dots.run, params=shapes) if optimized and shapes else (lambda f: f),
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


def _higher(fn: ir.Function, wrt, single, origin, forwards: int, callees) -> ir.Function:
    """The gradient, then forward mode over it `forwards` times (each along the same
    parameters, whose earlier tangents stay fixed): Hessian-vector products, and the
    second and third derivatives of functions of one number."""
    result = again.gradient(fn, wrt, single, origin, callees)
    for _ in range(forwards):
        result = optimize.run(forward.run(result, wrt, over_reverse=True, callees=callees))
    return result


def derived_kind(outer: str, entry: str, inner, along: tuple = ()) -> str:
    """The kind naming the `outer` derivative ("vjp" or "jvp") of what `s2sgrad.<entry>(f,
    inner)` returns (entry "grad" or "value_and_grad"; inner a name or a tuple of names),
    or (entry "vjp") of f's vjp with respect to inner, along its parameters at `along`."""
    return f"{outer} of {entry}({inner!r})" + (f" along {along!r}" if along else "")


def _derived(kind: str):
    """(outer, entry, inner names, single, along) from a kind `derived_kind` made, else None."""
    match = re.fullmatch(r"(vjp|jvp) of (grad|value_and_grad|vjp)\((.*?)\)(?: along (.*))?", kind)
    if match is None:
        return None
    inner = ast.literal_eval(match[3])
    single = not isinstance(inner, tuple)
    return match[1], match[2], (inner,) if single else inner, single, ast.literal_eval(match[4] or "()")
