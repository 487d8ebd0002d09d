"""Nested functions lifted to functions of their own.

A `def` inside the function being differentiated reads some of that
function's variables (a closure). Lifting turns it into a function that takes
those variables as extra parameters:

    def f(x, w):                         def inner(t, w, x):      (lifted)
        def inner(t):                        return np.sin(t * w) + x
            return np.sin(t * w) + x
        return inner(x * 2.0)            f calls inner(x * 2.0, w, x)

so a call to it is a call like any other: differentiated once per pattern of
differentiated arguments (closed-over values included), printed by name, and
reused at every call. The lifted function is real Python, compiled from the
user's own lines (tracebacks and comments point at them); `frontend.parse`
gives back its lifted syntax tree.
"""
from __future__ import annotations

import ast
import copy
import weakref

from . import frontend

_LIFTED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # user fn -> {def position: lifted}


def free_names(node: ast.FunctionDef) -> list:
    """The names a nested function reads but does not bind, in order of first reading."""
    bound = {a.arg for a in _parameters(node)}
    bound |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {n.name for n in ast.walk(node) if isinstance(n, ast.FunctionDef) and n is not node}
    read = [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    return list(dict.fromkeys(r for r in read if r not in bound))


def lift(src: frontend.Source, node: ast.FunctionDef, extra: list):
    """The function `node` (defined in `src`'s function) with the names `extra` as
    parameters after its own, every parameter positional; made once per definition."""
    per_fn = _LIFTED.setdefault(src.fn, {})
    key = (node.lineno, node.col_offset, tuple(extra))
    if key not in per_fn:
        tree = copy.deepcopy(node)
        own = [ast.arg(a.arg, None) for a in _parameters(node)]
        tree.args = ast.arguments([], own + [ast.arg(name, None) for name in extra], None, [], [], None, [])
        tree.decorator_list = []
        namespace: dict = {}
        module = ast.fix_missing_locations(ast.Module([tree], []))
        exec(compile(module, src.file, "exec"), src.fn.__globals__, namespace)
        lifted = namespace[node.name]
        lifted.__qualname__ = f"{src.fn.__qualname__}.<locals>.{node.name}"
        lifted.__s2sgrad_source__ = frontend.Source(lifted, tree, src.file, src.indent, src.lines)
        per_fn[key] = lifted
    return per_fn[key]


def _parameters(node: ast.FunctionDef) -> list:
    return node.args.posonlyargs + node.args.args + node.args.kwonlyargs
