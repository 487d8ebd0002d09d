"""From a Python function object to its syntax tree and the names it can see.

`parse(fn)` reads the function's source with `inspect` (module functions,
nested functions, decorated functions), dedents it, parses it with `ast`,
and records where it came from, so that every later error can point at the
user's own file, line and column. `Source.resolve` answers what a global or
closure name refers to, so `np.sin`, `numpy.sin`, `xp.sin` and a bare
`sin` imported from numpy are the same thing to the compiler.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import textwrap
import weakref
from dataclasses import dataclass, field

from . import running, wrappers
from ..errors import Loc, SourceUnavailableError, UnsupportedSyntaxError

_MISSING = object()


@dataclass
class Source:
    fn: object
    tree: ast.FunctionDef
    file: str
    indent: int                       # columns removed by dedent
    lines: list = field(default_factory=list)
    closure: dict = field(default_factory=dict)

    def loc(self, node) -> Loc:
        """The user's location of an ast node."""
        line = getattr(node, "lineno", self.tree.lineno)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        col = getattr(node, "col_offset", 0) + self.indent
        end = getattr(node, "end_col_offset", None)
        same_line = getattr(node, "end_lineno", line) == line
        return Loc(self.file, line, col, end + self.indent if end is not None and same_line else None,
                   text.rstrip("\n"))

    def lookup(self, name: str):
        """The object a free name refers to now, or _MISSING (a function found is noted as
        what the derivative being built depends on: running.resolved)."""
        where, value = self._where(name)
        if value is _MISSING:
            return getattr(builtins, name, _MISSING)
        running.resolved(where, name, value)
        return value

    def note_value(self, name: str) -> None:
        """Note that what is being built took the value the free name holds now as a
        constant (running.resolved_value: rebinding it builds the derivative again)."""
        self.note_path(name, (), None)

    def note_path(self, name: str, path: tuple, value) -> None:
        """Note that what is being built took the value the free name holds now, or that of
        its attributes `path` (`cfg.temp`), as a constant: another value builds it again."""
        where, held = self._where(name)
        if held is not _MISSING:
            running.resolved_value(where, name, held if not path else value, path)

    def note_contents(self, name: str) -> None:
        """Note that what is being built depends on the items of the sequence `name` holds."""
        where, value = self._where(name)
        if value is not _MISSING:
            running.resolved_contents(where, name, value)

    def _where(self, name: str):
        """(the globals dict or closure cell holding `name`, its value or _MISSING)."""
        if name in self.closure:
            return self.cells.get(name), self.closure[name]
        where = getattr(self.fn, "__globals__", {})
        return where, where.get(name, _MISSING)

    @property
    def cells(self) -> dict:
        code, closure = getattr(self.fn, "__code__", None), getattr(self.fn, "__closure__", None)
        return dict(zip(code.co_freevars, closure)) if code is not None and closure else {}

    def resolve(self, node):
        """The object a Name or dotted Attribute chain refers to, or _MISSING."""
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return _MISSING if base is _MISSING else getattr(base, node.attr, _MISSING)
        return _MISSING


def parse(fn) -> Source:
    """Read and parse `fn`'s source; raise a SourceUnavailableError saying why not."""
    lifted = getattr(fn, "__s2sgrad_source__", None)
    if lifted is not None:           # a nested function lifted by s2sgrad (lift.py)
        return lifted
    if not inspect.isfunction(fn):
        raise SourceUnavailableError(
            f"{fn!r} is not a Python function, so s2sgrad cannot read its source",
            hint="pass a function defined with `def` in a file; for a NumPy or builtin "
                 "function, wrap it: `def f(x): return np.sin(x)`")
    if fn.__name__ == "<lambda>":
        return _parse_lambda(fn)
    lines, first, file = _read(fn)
    indent = len(lines[0]) - len(lines[0].lstrip())
    tree = _parse_def(textwrap.dedent("".join(lines)), fn, file, first)
    ast.increment_lineno(tree, first - 1)
    cells = zip(fn.__code__.co_freevars, fn.__closure__ or ())
    closure = {name: cell.cell_contents for name, cell in cells if _is_filled(cell)}
    source = Source(fn, tree, file, indent, linecache.getlines(file) or lines, closure)
    if getattr(fn, "__wrapped__", None) is not None:     # a decorator's wrapper (functools.wraps)
        source.tree = wrappers.as_function(tree, fn, source.loc)
    return source


_READ: dict = {}     # id(code object) -> (a weak reference to it, its source): code objects
                    # equal in content (the same def in two files) must not share one


_UFUNCS: dict = {}       # a ufunc -> the Python function that calls it


def readable(fn):
    """`fn`, or for a NumPy or SciPy ufunc (`np.tanh`, `scipy.special.expit`, which has no
    source) the Python function that calls it, written for it and readable like the
    user's own: `def tanh(x): return ufunc(x)`."""
    if type(fn).__name__ != "ufunc" or fn.nout != 1 or not 1 <= fn.nin <= 3:
        return fn
    if fn not in _UFUNCS:
        params = ", ".join("xyz"[:fn.nin])
        name = fn.__name__ if fn.__name__.isidentifier() else "ufunc_call"
        text = f"def {name}({params}):\n    return ufunc({params})\n"
        file = f"<s2sgrad: {fn.__name__}>"
        linecache.cache[file] = (len(text), None, text.splitlines(True), file)
        namespace = {"ufunc": fn}
        exec(compile(text, file, "exec"), namespace)
        _UFUNCS[fn] = namespace[name]
    return _UFUNCS[fn]


def _read(fn) -> tuple:
    """(the lines of `fn`'s `def`, its first line number, its file), read once per code
    object, and only when they compile to that code (a file edited since it was
    imported is refused)."""
    code = fn.__code__
    known = _READ.get(id(code))
    if known is not None and known[0]() is code:
        return known[1]
    try:
        lines, first = inspect.getsourcelines(code)     # (not the function it wraps)
    except (OSError, TypeError) as err:
        raise SourceUnavailableError(
            f"cannot read the source of `{fn.__qualname__}`: {err}",
            hint="s2sgrad reads source code; define the function in a .py file (or a notebook "
                 "cell) instead of typing it at the interactive prompt or building it with exec") from None
    file = inspect.getsourcefile(fn) or code.co_filename
    text = textwrap.dedent("".join(lines))
    _parse_def(text, fn, file, first)                    # (a located error if it is not a def)
    if not running.same_code(text, file, code):
        raise SourceUnavailableError(
            f"the source of `{fn.__qualname__}` in {file} is not the code that runs: the file has "
            "changed since the function was defined", Loc(file, first, text=lines[0].rstrip("\n")),
            hint="reload the module (importlib.reload) or re-run the cell that defines the function, "
                 "then take its derivative again")
    _READ[id(code)] = weakref.ref(code, lambda _, key=id(code): _READ.pop(key, None)), (lines, first, file)
    return lines, first, file


def _parse_def(text: str, fn, file: str, first: int) -> ast.FunctionDef:
    try:
        module = ast.parse(text)
    except SyntaxError:
        module = None
    node = module.body[0] if module and module.body else None
    if isinstance(node, ast.FunctionDef):
        return node
    if isinstance(node, ast.AsyncFunctionDef):
        raise UnsupportedSyntaxError("async functions cannot be differentiated",
                                     Loc(file, first, text=text.splitlines()[0]),
                                     hint="write a plain `def`")
    raise SourceUnavailableError(
        f"the source of `{fn.__qualname__}` does not start with its `def`",
        Loc(file, first, text=text.splitlines()[0] if text else ""),
        hint="define the function with a plain `def` statement")


def _is_filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:  # a closure variable not assigned yet
        return False
    return True


def _parse_lambda(fn) -> Source:
    """A lambda's source, read as the `def` it stands for (`relu = lambda x: ...` is
    `def relu(x): return ...`): found in its file by its line and its parameters."""
    code = fn.__code__
    file = inspect.getsourcefile(fn) or code.co_filename
    lines = linecache.getlines(file)
    try:
        module = ast.parse("".join(lines))
    except SyntaxError:
        module = None
    params = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    found = [(node, parent) for parent in ast.walk(module) if module is not None for node in ast.iter_child_nodes(parent)
             if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno
             and tuple(a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs) == params]
    if len(found) != 1:
        raise SourceUnavailableError("s2sgrad cannot tell this lambda's source apart" if found else
                                     "cannot read the source of this lambda", _lambda_loc(fn),
                                     hint="write it as a `def` (or one lambda on its line)")
    node, parent = found[0]
    name = parent.targets[0].id if isinstance(parent, ast.Assign) and len(parent.targets) == 1 \
        and isinstance(parent.targets[0], ast.Name) else "lambda_"
    tree = ast.FunctionDef(name, node.args, [ast.copy_location(ast.Return(node.body), node.body)], [], None, None,
                           **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}))
    ast.copy_location(tree, node)
    cells = zip(code.co_freevars, fn.__closure__ or ())
    return Source(fn, tree, file, 0, lines, {n: c.cell_contents for n, c in cells if _is_filled(c)})


def _lambda_loc(fn) -> Loc:
    file, line = fn.__code__.co_filename, fn.__code__.co_firstlineno
    text = linecache.getline(file, line).rstrip("\n")
    col = max(text.find("lambda"), 0)
    return Loc(file, line, col, col + len("lambda"), text)
