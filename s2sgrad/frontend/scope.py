"""The names of one function being lowered, and what each stands for.

A Scope knows a function's parameters, the names it assigns (and how often),
the functions it defines with `def`, the scope of the function it is written
in (`outer`, for a nested function inlined into its caller), and what a name
that is none of those refers to: the module's or the closure's value. The
lowerer asks it; lowering itself (statements, expressions, control flow,
calls) is in lower.py, lower_flow.py and inline.py.
"""
from __future__ import annotations

import ast
import types
import collections
import importlib

from . import _MISSING, running
from ..errors import UnsupportedSyntaxError
from .lower_flow import _own_nodes


class Scope:
    def __init__(self, source, outer: "Scope | None" = None):
        tree = source.tree
        self.src, self.outer = source, outer
        spec = tree.args
        self.params = [a.arg for a in spec.posonlyargs + spec.args + ([spec.vararg] if spec.vararg else [])
                       + spec.kwonlyargs]
        own = list(_own_nodes(tree))
        self.stores = collections.Counter([n.id for n in own if isinstance(n, ast.Name)
                                           and isinstance(n.ctx, ast.Store)] +
                                          [n.name for n in own if isinstance(n, ast.ExceptHandler) and n.name])
        self.locals = set(self.params) | set(self.stores) \
            | {n.name for n in own if isinstance(n, ast.FunctionDef) and n is not tree}
        self.assigned = set(self.stores)
        self.nested: dict = {}         # functions defined with `def` inside this one, by name
        self.own_defs: dict = {}       # those defined by this function's own statements
        self.def_defaults: dict = {}   # id(def) -> its default values, evaluated at the def
        self.constants: dict = {}      # parameters an inlined call gave literal values
        self.bindings: dict = {}       # values an inlined function reads from its own module
        self.free: set = set()         # names read from an enclosing function or the module
        self.functions: dict = {}      # parameters an inlined call gave a function (or module) to
        self.held: dict = {}           # local names holding a function known here (`act = np.tanh`), as
        # the statements are lowered: a name assigned again, or given different functions on two
        # paths, is forgotten (a lambda of a list the loop is unrolled over is held as its `def`)
        self.imported = _imported(source, own)   # names the function's own `import` statements bind
        self.classes: dict = _own_class(source) if outer is None else {}
        # parameters known to hold an object of a class (a method's `self`): its methods are inlined

    def enclosing(self, name: str) -> bool:
        """Whether `name` is a variable of a function this one is defined in."""
        scope = self.outer
        while scope is not None:
            if name in scope.locals:
                return True
            scope = scope.outer
        return False

    def static_object(self, node):
        """What a non-local Name or dotted Attribute refers to, or _MISSING."""
        base = node
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name) and base.id in self.held and not isinstance(self.held[base.id], ast.AST):
            return _reached(self.held[base.id], node)
        if isinstance(base, ast.Name) and base.id in self.functions and base.id not in self.assigned:
            return _reached(self.functions[base.id], node)
        if isinstance(base, ast.Name) and base.id in self.imported and base.id not in self.assigned:
            value = _reached(self.imported[base.id], node)
            if isinstance(value, types.FunctionType) and isinstance(node, ast.Attribute):
                owner = _reached(self.imported[base.id], node.value)    # (`import util` in the function:
                running.resolved_value(getattr(owner, "__dict__", None), node.attr, value)   # util.scale)
            return value
        if not isinstance(base, ast.Name) or base.id in self.locals:
            return _MISSING
        value = self.src.resolve(node)
        if isinstance(value, CONSTANTS) or isinstance(value, types.FunctionType) and isinstance(node, ast.Attribute):
            self.src.note_path(base.id, _path(node), value)    # (`cfg.temp`, `AXIS`: built in as a constant;
        return value                                            # `util.scale`: a function rebound there: read again)

    def defaults_of(self, callee) -> dict | None:
        """The default values a nested `def` got where it was defined (in this function or
        one it is written in), or None."""
        scope = self
        while scope is not None and id(callee) not in scope.def_defaults:
            scope = scope.outer
        return scope.def_defaults[id(callee)] if scope is not None else None


def _imported(source, own) -> dict:
    """{name: module or object} for the `import` statements written in the function: they
    are run once, when s2sgrad reads it (a module is imported once in Python too), and
    the names they bind are known from then on, as a module-level import's are."""
    found = {}
    for node in own:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            try:
                found |= _bound_by(node, getattr(source.fn, "__globals__", {}).get("__package__"))
            except ImportError as error:
                raise UnsupportedSyntaxError(f"this import fails: {error}", source.loc(node),
                                             hint="install the module, or import what exists") from None
    return found


def _bound_by(node, package) -> dict:
    """The names one import statement binds, and their values."""
    if isinstance(node, ast.Import):
        bound = {}
        for alias in node.names:
            module = importlib.import_module(alias.name)          # `import a.b` binds `a`
            top = alias.name.partition(".")[0]
            bound[alias.asname or top] = module if alias.asname else importlib.import_module(top)
        return bound
    module = importlib.import_module("." * node.level + (node.module or ""), package)
    return {alias.asname or alias.name: getattr(module, alias.name) if hasattr(module, alias.name)
            else importlib.import_module(f"{module.__name__}.{alias.name}") for alias in node.names}


def _reached(value, node):
    """What `node` (a Name, or attributes of one) is, when its first name holds `value`."""
    if isinstance(node, ast.Attribute):
        base = _reached(value, node.value)
        return _MISSING if base is _MISSING else getattr(base, node.attr, _MISSING)
    return value


def _own_class(source) -> dict:
    """{first parameter: class} for a method of a class defined at module level (its
    `__qualname__` names the class), else {}."""
    fn, tree = source.fn, source.tree
    parts = getattr(fn, "__qualname__", "").split(".")
    params = tree.args.posonlyargs + tree.args.args
    if len(parts) < 2 or "<locals>" in parts or not params or getattr(fn, "__name__", None) != tree.name:
        return {}
    owner = getattr(fn, "__globals__", {}).get(parts[0])
    for part in parts[1:-1]:
        owner = getattr(owner, part, None)
    return {params[0].arg: owner} if isinstance(owner, type) else {}


CONSTANTS = (bool, int, float, complex, str, type(None), tuple)
# what a free name's value (or attribute) may be taken as, when compiling


def _path(node) -> tuple:
    """The attributes a dotted chain reads after its root name (`cfg.model.depth`: model, depth)."""
    path = []
    while isinstance(node, ast.Attribute):
        path.append(node.attr)
        node = node.value
    return tuple(reversed(path))
