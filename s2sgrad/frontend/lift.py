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

from .. import frontend

_LIFTED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # user fn -> {def position: lifted}


def free_names(node: ast.FunctionDef) -> list:
    """The names a nested function reads but does not bind, in order of first reading."""
    bound = {a.arg for a in _parameters(node)}
    bound |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {n.name for n in ast.walk(node) if isinstance(n, ast.FunctionDef) and n is not node}
    read = [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    return list(dict.fromkeys(r for r in read if r not in bound))


def lift(src: frontend.Source, node: ast.FunctionDef, extra: list, siblings=None):
    """The function `node` (defined in `src`'s function) with the names `extra` as
    parameters after its own, every parameter positional; made once per definition.
    `siblings` maps the nested functions it calls to (their lifted function, the names
    they take): each call passes them on, and the lifted function sees the lifted one."""
    siblings = siblings or {}
    per_fn = _LIFTED.setdefault(src.fn, {})
    key = (node.lineno, node.col_offset, tuple(extra), tuple((n, id(f)) for n, (f, _) in sorted(siblings.items())))
    if key not in per_fn:
        tree = _PassOn(siblings).visit(copy.deepcopy(node))
        own = [ast.arg(a.arg, None) for a in _parameters(node)]
        tree.args = ast.arguments([], own + [ast.arg(name, None) for name in extra], None, [], [], None, [])
        tree.decorator_list = []
        names = sorted(siblings)             # a factory whose cells hold the lifted siblings
        factory = ast.FunctionDef("__lift__", ast.arguments([], [ast.arg(n, None) for n in names], None, [],
                                                            [], None, []),
                                  [tree, ast.Return(ast.Name(node.name, ast.Load()))], [], None, None,
                                  lineno=node.lineno, col_offset=0, end_lineno=node.end_lineno,
                                  end_col_offset=node.end_col_offset, **_TYPE_PARAMS)
        namespace: dict = {}
        module = ast.fix_missing_locations(ast.Module([factory], []))
        exec(compile(module, src.file, "exec"), src.fn.__globals__, namespace)
        lifted = namespace["__lift__"](*(siblings[n][0] for n in names))
        lifted.__qualname__ = f"{src.fn.__qualname__}.<locals>.{node.name}"
        closure = {n: siblings[n][0] for n in names}
        lifted.__s2sgrad_source__ = frontend.Source(lifted, tree, src.file, src.indent, src.lines, closure)
        per_fn[key] = lifted
    return per_fn[key]


_TYPE_PARAMS = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}


class _PassOn(ast.NodeTransformer):
    """Calls to lifted siblings get the names those take, after their own arguments."""

    def __init__(self, siblings):
        self.siblings = siblings

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.siblings:
            node.args = node.args + [ast.copy_location(ast.Name(n, ast.Load()), node)
                                     for n in self.siblings[node.func.id][1]]
        return node


def _parameters(node: ast.FunctionDef) -> list:
    return node.args.posonlyargs + node.args.args + node.args.kwonlyargs
