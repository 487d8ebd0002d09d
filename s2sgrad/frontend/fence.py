"""The fence: one walk over the user's function that rejects, before any
lowering, every construct s2sgrad does not support yet, with a located error
that says what to write instead."""
from __future__ import annotations

import ast

from ..errors import UnsupportedSyntaxError

# node type -> (what is not supported, what to do instead)
UNSUPPORTED = {
    ast.ClassDef: ("class definitions inside a differentiated function are not supported",
                   "define the class at module level"),
    ast.AsyncFunctionDef: ("async functions cannot be differentiated", "write a plain `def`"),
    ast.Global: ("`global` statements are not supported", "pass the value as an argument"),
    ast.Nonlocal: ("`nonlocal` statements are not supported", "pass the value as an argument"),
    ast.Yield: ("generators (`yield`) cannot be differentiated", "return an array instead"),
    ast.YieldFrom: ("generators (`yield from`) cannot be differentiated", "return an array instead"),
    ast.Await: ("`await` cannot be differentiated", "compute the value before calling"),
    ast.Delete: ("`del` is not supported", "remove the `del` statement"),
    ast.NamedExpr: ("the walrus operator `:=` is not supported", "assign on a line of its own"),
    ast.Set: ("sets are not supported", "use arrays"),
    ast.Match: ("`match` statements are not supported", "use arithmetic or np.where"),
}
if hasattr(ast, "TryStar"):       # (Python 3.11)
    UNSUPPORTED[ast.TryStar] = ("`except*` cannot be differentiated", "catch the exception group whole")


def check(source, inlined: bool = False, generator: bool = False) -> None:
    """Raise an UnsupportedSyntaxError at the first unsupported construct (a function
    inlined where it is called may take `*args`: the call says what they are; a generator
    looped over may `yield`: frontend/generators.py)."""
    fn = source.tree
    args = fn.args
    for bad, what in ((None if inlined else args.vararg, "*args"), (args.kwarg, "**kwargs")):
        if bad is not None:
            raise UnsupportedSyntaxError(f"`{what}` parameters are not supported", source.loc(bad),
                                         hint="name each parameter")
    nested = {id(n) for d in ast.walk(fn) if isinstance(d, ast.FunctionDef) and d is not fn
              for n in ast.walk(d) if isinstance(n, (ast.Yield, ast.YieldFrom))}
    for node in (n for stmt in fn.body for n in ast.walk(stmt)):
        if id(node) in nested:
            continue                  # a generator defined here: checked where it is looped over
        if type(node) in UNSUPPORTED and not (generator and type(node) is ast.Yield):
            what, hint = UNSUPPORTED[type(node)]
            raise UnsupportedSyntaxError(what, source.loc(node), hint=hint)
