"""A decorator's wrapper, read as the function it is: what runs is what is differentiated.

A function decorated with `functools.wraps` is the wrapper, not the function
it wraps: `return 2.0 * fn(*args, **kw)` doubles it. Its signature (as
`inspect.signature` reports it) is the wrapped function's, so its `def` is
rewritten to take those parameters and to pass them on where it forwards
`*args` and `**kw`; the wrapped function is a closure variable of the
wrapper, so the call to it is an ordinary call to a user function.

    def wrapper(*args, **kw):              def wrapper(x, scale):
        return 2.0 * fn(*args, **kw)  ==>      return 2.0 * fn(x, scale=scale)

Anything else read from `args` or `kw` (`args[0]`, `len(args)`) is refused
at its line, naming the decorator.
"""
from __future__ import annotations

import ast
import inspect

from ..errors import UnsupportedSyntaxError


def as_function(tree: ast.FunctionDef, fn, loc) -> ast.FunctionDef:
    """The wrapper's `def` with the wrapped function's parameters (`loc(node)` locates a
    node for an error)."""
    params = list(inspect.signature(fn).parameters.values())
    args = tree.args
    declared = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if not args.vararg and not args.kwarg:
        return _spelled_out(tree, fn, params, loc)
    if declared:
        raise _refused(tree, fn, loc, "takes parameters of its own besides *args and **kwargs")
    star = args.vararg.arg if args.vararg else None
    stars = args.kwarg.arg if args.kwarg else None
    body = [_Forwarded(star, stars, params, tree, fn, loc).visit(s) for s in tree.body]
    new = ast.arguments(posonlyargs=[], args=[ast.arg(p.name) for p in params], vararg=None,
                        kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    return ast.copy_location(ast.FunctionDef(tree.name, new, body, [], tree.returns, tree.type_comment,
                                             **_type_params(tree)), tree)


def _spelled_out(tree: ast.FunctionDef, fn, params, loc) -> ast.FunctionDef:
    """A wrapper with parameters of its own (`def wrapper(x, v):`), read with the names
    `inspect.signature` gives them (the wrapped function's, by which `wrt` and keywords
    name them). They must match that signature in number, kind and defaults: a default of
    the wrapper's own is what a call leaving it out gets, so any other would be misread."""
    own = list(inspect.signature(fn, follow_wrapped=False).parameters.values())
    if [(p.kind, _default(p)) for p in own] != [(p.kind, _default(p)) for p in params]:
        raise _refused(tree, fn, loc, "takes parameters that differ from those of the function it wraps "
                                      "(in number, kind or default values)")
    names = {p.name: q.name for p, q in zip(own, params) if p.name != q.name}
    if not names:
        return tree
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} \
        | {a.arg for s in tree.body for a in ast.walk(s) if isinstance(a, ast.arg)}
    if used & set(names.values()) or any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(tree)):
        raise _refused(tree, fn, loc, "names its parameters differently from the function it wraps, "
                                      "and uses those names for something else")
    return _Renamed(names).visit(tree)


def _default(p):
    return "none" if p.default is p.empty else repr(p.default)


class _Renamed(ast.NodeTransformer):
    """Parameters and the names that read them, renamed."""

    def __init__(self, names: dict):
        self.names = names

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return ast.copy_location(ast.arg(self.names.get(node.arg, node.arg), node.annotation), node)

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(self.names.get(node.id, node.id), node.ctx), node)


def _type_params(tree) -> dict:
    return {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}


class _Forwarded(ast.NodeTransformer):
    """`f(*args, **kw)` as `f(x, y=y)`; any other use of `args` or `kw` is refused."""

    def __init__(self, star, stars, params, tree, fn, loc):
        self.star, self.stars, self.tree, self.fn, self.loc = star, stars, tree, fn, loc
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            raise _refused(tree, fn, loc, "wraps a function of *args or **kwargs")
        self.positional = [p.name for p in params if p.kind is not p.KEYWORD_ONLY]
        self.keyword = [p.name for p in params if p.kind is p.KEYWORD_ONLY]

    def visit_Call(self, node: ast.Call) -> ast.Call:
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred) and isinstance(a.value, ast.Name) and a.value.id == self.star:
                args += [ast.copy_location(ast.Name(n, ast.Load()), a) for n in self.positional]
            else:
                args.append(self.visit(a))
        keywords = []
        for k in node.keywords:
            if k.arg is None and isinstance(k.value, ast.Name) and k.value.id == self.stars:
                keywords += [ast.keyword(n, ast.copy_location(ast.Name(n, ast.Load()), k)) for n in self.keyword]
            else:
                keywords.append(self.visit(k))
        return ast.copy_location(ast.Call(self.visit(node.func), args, keywords), node)

    def visit_Name(self, node: ast.Name):
        if node.id in (self.star, self.stars):
            raise _refused(node, self.fn, self.loc, f"reads `{node.id}` other than to pass it on")
        return node


def _refused(node, fn, loc, what: str) -> UnsupportedSyntaxError:
    decorator = fn.__code__.co_qualname.split(".<locals>")[0] if hasattr(fn.__code__, "co_qualname") \
        else "its decorator"
    return UnsupportedSyntaxError(
        f"`{fn.__name__}` is wrapped by the decorator `{decorator}`, whose wrapper {what}; s2sgrad "
        "differentiates the wrapper (what runs), so it must read as a function of the same parameters",
        loc(node), hint=f"write the wrapper as `def wrapper(*args, **kwargs): ... fn(*args, **kwargs) ...`, "
                        f"or differentiate `{fn.__name__}.__wrapped__` and apply the decoration yourself")
