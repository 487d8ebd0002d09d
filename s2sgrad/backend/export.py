"""Export: a derivative as a module that runs with NumPy alone (`s2sgrad.export`, `s2sgrad export`).

The generated module imports s2sgrad's runtime helpers and reads the user's module
globals by name; saved and imported elsewhere it would fail. The exported module
instead holds, after a provenance header,

    import numpy as np                       the modules the code and its helpers use
    def unbroadcast(g, x): ...               each runtime helper the code calls, and what
                                             those call in turn, copied (decorators left out)
    from model import LAMBDA                 the user's globals, imported by name from the
                                             user's module (or, frozen, written as values)
    def grad_loss(w, X, y): ...              the derivative (and its callees' derivatives)

A helper that reads something that cannot be written as source (an object of a class
of s2sgrad's, a closure's value) is refused, naming it. The header names the source
file and function, a hash of the source of the function and of each function it calls,
s2sgrad's version, the rules used, and the command that makes the module again:
`s2sgrad export --check OUT.py` runs it and says whether the file is stale.
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import math
import types

import numpy as np

from .. import ir, rules
from ..errors import S2SGradError
from . import emit

_BUILTINS = set(dir(builtins))


class ExportError(S2SGradError):
    """What cannot be written into an exported module."""


def module(gen: ir.Function, *, lookup, header: list, freeze: bool = False, public=None) -> str:
    """The exported module of the generated function `gen`: `lookup(name)` gives a user's
    global it reads as (value, the module it is imported from: None for a closure's value),
    `header` the provenance lines; `freeze` writes numbers and arrays as values;
    `public` (source text), a function appended after the derivative (grad's wrapper)."""
    text = emit.module_source(gen)
    lines = text.splitlines()
    end = next((i for i, line in enumerate(lines) if not line.startswith(("import ", "from "))), len(lines))
    imports, body = lines[:end], "\n".join(lines[end:]).strip("\n")
    copied = _Copied()
    for line in imports:
        if line.startswith("from s2sgrad.runtime import "):
            for item in line.split(" import ", 1)[1].split(", "):
                name, _, alias = item.partition(" as ")
                copied.helper(name, alias or name, gen.loc)
        else:
            copied.imports.add(line)
    user = _user_names(sorted(_read_from_outside(body + "\n" + (public or ""), copied)), lookup, freeze,
                       gen.loc, copied)
    imports = sorted(copied.imports, key=_import_order) + [line for line in user if line.startswith("from ")]
    values = [line for line in user if not line.startswith("from ")]
    parts = ["\n".join(f"# {line}" if line else "#" for line in header), "\n".join(imports),
             *copied.definitions, "\n".join(values) if values else None, body, public]
    return "\n\n\n".join(p for p in parts if p) + "\n"


def _read_from_outside(text: str, copied) -> set:
    """The global names the module's functions read that neither it nor the copied
    helpers and imports define: the user's."""
    tree = ast.parse(text)
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    read = set().union(*(_globals_read(n) for n in tree.body if isinstance(n, ast.FunctionDef)))
    imported = {line.split(" as ")[-1].split(" ")[-1] for line in copied.imports if " import " not in line} | \
        {name.strip().split(" as ")[-1] for line in copied.imports if " import " in line
         for name in line.split(" import ", 1)[1].split(",")}
    return read - defined - set(copied.names) - imported


def _import_order(line: str):
    return (not line.startswith("import "), line)


def _user_names(names, lookup, freeze: bool, loc, copied) -> list:
    """The lines giving the user's globals the derivative reads: imported from their
    modules, or (freeze, or a closure's value) written as values where they are numbers
    or arrays of numbers."""
    lines, imported, closed = [], {}, []
    for name in names:
        if name in copied.names:
            continue
        value, home = lookup(name)
        if isinstance(value, types.ModuleType):
            copied.imports.add(_module_import(name, value))
        elif (freeze or home is None or home[0] is None) and literal(value) is not None:
            lines.append(f"{name} = {literal(value)}")
        elif home is None or home[0] is None:
            closed.append(name)
        else:
            imported.setdefault(home[0], []).append(name if home[1] == name else f"{home[1]} as {name}")
    if closed:
        raise ExportError(f"the derivative reads {', '.join(closed)} from a closure (or a module not in a file), "
                          "which an exported module cannot import", loc,
                          hint="export with freeze=True (--freeze) to write numbers and arrays as values, or "
                               "pass them as arguments")
    return [f"from {home} import {', '.join(items)}" for home, items in sorted(imported.items())] + lines


def _module_import(name: str, module) -> str:
    return f"import {module.__name__}" + ("" if module.__name__ == name else f" as {name}")


def literal(value):
    """`value` written as source (a number, a string, a tuple or list of them, a NumPy
    array, dtype or type), or None where it cannot be."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({repr(value)!r})"
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return f"np.{type(value).__name__}({literal(value.item())})"
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return f"np.array({literal(value.tolist())}, dtype=np.{value.dtype.name})"
    if isinstance(value, np.dtype):
        return f"np.dtype({value.name!r})"
    if isinstance(value, type):
        if getattr(builtins, value.__name__, None) is value:
            return value.__name__
        if getattr(np, value.__name__, None) is value:
            return f"np.{value.__name__}"
        return None
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [literal(v) for v in (sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value)]
        if any(i is None for i in items):
            return None
        inner = ", ".join(items) + ("," if isinstance(value, tuple) and len(items) == 1 else "")
        return {tuple: f"({inner})", list: f"[{inner}]"}.get(type(value), f"{type(value).__name__}({{{inner}}})"
                                                             if items else f"{type(value).__name__}()")
    if isinstance(value, dict):
        pairs = [(literal(k), literal(v)) for k, v in value.items()]
        return None if any(k is None or v is None for k, v in pairs) else \
            "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    return None


class _Copied:
    """The runtime helpers copied into the module, with what they read: each definition
    once, after those it reads (a helper's own helpers first)."""

    def __init__(self):
        self.imports: set = set()
        self.definitions: list = []
        self.names: dict = {}        # name -> the object defined under it

    def helper(self, name: str, alias: str, loc) -> None:
        from .. import runtime
        self._function(getattr(runtime, name), name, loc)
        if alias != name:
            self.definitions.append(f"{alias} = {name}")
            self.names[alias] = self.names[name]

    def _function(self, fn, name: str, loc) -> None:
        if self._taken(name, fn, loc):
            return
        self.names[name] = fn
        tree = ast.parse(inspect.getsource(fn)).body[0]
        tree.decorator_list = [d for d in tree.decorator_list if not _marking(d)]
        where = vars(inspect.getmodule(fn))          # (a class has no __globals__: its module's)
        for read in sorted(_globals_read(tree)):
            self._global(read, where.get(read, _MISSING), fn, loc)
        self.definitions.append(ast.unparse(tree))

    def _global(self, name: str, value, reader, loc) -> None:
        if value is _MISSING:
            return                                   # (a name the function binds itself)
        value = getattr(value, "__wrapped__", value)     # (a cached function: the function)
        if isinstance(value, types.ModuleType):
            self.imports.add(_module_import(name, value))
        elif isinstance(value, (types.FunctionType, type)) and value.__module__.startswith("s2sgrad."):
            self._function(value, name, loc)          # (a class of s2sgrad's too: GradList)
        elif callable(value) and not isinstance(value, type) and not value.__module__.startswith("s2sgrad"):
            home = emit._home(value)
            self.imports.add(f"from {home} import {value.__name__}" +
                             ("" if value.__name__ == name else f" as {name}"))
        elif literal(value) is not None:
            if not self._taken(name, value, loc):
                self.names[name] = value
                self.definitions.append(f"{name} = {literal(value)}")
        else:
            raise ExportError(f"the runtime helper `{reader.__name__}` reads `{name}` ({type(value).__name__}), "
                              "which an exported module cannot hold yet", loc,
                              hint="use the derivative through s2sgrad (s2sgrad.grad), or avoid the function that "
                                   f"needs `{reader.__name__}`")

    def _taken(self, name: str, value, loc) -> bool:
        """Whether `name` is defined already (as `value`: nothing to do; as another: refused)."""
        if name not in self.names:
            return False
        if self.names[name] is value or self.names[name] == value:
            return True
        raise ExportError(f"two runtime helpers read different values named `{name}`", loc,
                          hint="use the derivative through s2sgrad (s2sgrad.grad)")


_MISSING = object()


def _marking(decorator) -> bool:
    """Whether a decorator only marks or caches (s2sgrad's `@helper(...)`, `functools.cache`):
    left out of the copy, which computes the same."""
    called = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(called, ast.Name) and called.id == "helper" or \
        isinstance(called, ast.Attribute) and called.attr in ("cache", "lru_cache")


def _globals_read(tree: ast.FunctionDef) -> set:
    """The global names a function's code reads (not its parameters, its own names, or
    builtins)."""
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    stores = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    params = {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    nested = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n is not tree}
    return loads - stores - params - nested - _BUILTINS


def digest(fn) -> str:
    """A short hash of a function's source."""
    return hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()[:16]


def rules_used(gen: ir.Function) -> list:
    """For each module holding rules the derivative used (operators aside), `names (module)`."""
    found: dict = {}
    for f in [gen, *companions(gen)]:
        for stmt in ir.walk_all(f.body):
            op = rules.OPS.get(stmt.op) if isinstance(stmt, ir.Assign) else None
            where = getattr(op.rule, "__module__", None) if op is not None and op.rule is not None else None
            if op is not None and op.kind != "helper" and where and where != "s2sgrad.rules.operators":
                found.setdefault(where, set()).add(rules.shown(stmt.op))
    return [f"{', '.join(sorted(names))} ({where})" for where, names in sorted(found.items())]


def companions(gen: ir.Function) -> list:
    """The derivatives of the functions `gen` calls, and theirs."""
    return [g for c in gen.companions for g in (c, *companions(c))]
