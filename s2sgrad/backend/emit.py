"""Emission: IR to Python source, through `ast` and `ast.unparse` only.

The emitter decides how code looks, never what it computes: operators
print as operators, ops as calls to their NumPy or runtime names, keywords
equal to the callee's default are left out, and a compiler temporary read
exactly once is folded back into the expression that reads it, so
`pow_y = y ** 2; z = pow_y + 3` prints as `z = y ** 2 + 3`. Comments are
placed through marker statements that are replaced after unparsing.
`module_source` also prints exactly the imports the code needs; `user_line` reads a
generated line's origin back from its comments.
"""
from __future__ import annotations

import ast
import builtins
import functools
import sys
import warnings
import inspect
import itertools
import html
import linecache
import math
import re
from collections import Counter
from dataclasses import replace

import numpy as np

from .. import ir, rules
from ..errors import Loc
from ..ir import aliasing
from ..runtime import array_api

BINOPS = {"add": ast.Add, "sub": ast.Sub, "mul": ast.Mult, "div": ast.Div, "pow": ast.Pow,
          "matmul": ast.MatMult, "mod": ast.Mod, "floordiv": ast.FloorDiv}
COMPARE = {"gt": ast.Gt, "ge": ast.GtE, "lt": ast.Lt, "le": ast.LtE, "eq": ast.Eq, "ne": ast.NotEq}
FOLD_LIMIT = 16          # largest expression (in ast nodes) a temporary is folded into
MARK = "__s2sgrad_comment_{}__"


def user_line(generated: list, line: int, loc):
    """Where in the user's code the generated line number `line` (of the lines `generated`)
    came from: the line the `# adjoint of line N` comment above it names, else `loc` (the
    user's function: the code before the first such comment is the function's own)."""
    for text in reversed(generated[:line]):
        found = re.match(r"\s*# adjoint of line (\d+):", text)
        if found:
            number = int(found.group(1))
            return Loc(loc.file, number, 0, None, linecache.getline(loc.file, number).rstrip("\n"))
    return loc


class Source(str):
    """Generated source, as `s2sgrad.source` returns it: a string that prints as it is and
    shows highlighted in a notebook (Pygments' colours where it is installed, else plain)."""

    def _repr_html_(self) -> str:
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer
        except ImportError:
            return f"<pre>{html.escape(self)}</pre>"
        return highlight(str(self), PythonLexer(), HtmlFormatter(noclasses=True))


def module_source(fn: ir.Function, profile: str = "numpy") -> str:
    """A standalone module: the imports the code needs, then the function."""
    return sources(fn, profile)[0]


def sources(fn: ir.Function, profile: str = "numpy") -> tuple[str, str, set]:
    """(the standalone module, the function alone, the names it needs bound: helpers, `np`).
    The module prints the derivatives of the functions `fn` calls (its companions, and
    theirs) first, each once, under the names `fn` calls them by. `profile`: "numpy", or
    "xp" for code that runs on any Array API library's arrays (runtime/array_api.py)."""
    lines, shown = [], []
    for f in _with_companions(fn):
        emitter = Emitter(f, profile)
        body = emitter.function(f)
        lines.append(_imports(emitter))
        shown.append(body)
    imports = lines[0] if len(lines) == 1 else _merged_imports(lines[-1], [line for ls in lines[:-1] for line in ls])
    shown = list(dict.fromkeys(shown))                   # each function once, `fn` last
    module = "\n".join(imports) + ("\n\n\n" if imports else "") + "\n\n".join(shown)
    foreign = {name.split(".")[0] for name in emitter.foreign}       # (norm.logpdf reads `norm`)
    opening = {emitter.namespace} if emitter.namespace else set()
    return module, body, set(emitter.helpers) | emitter.modules | foreign | emitter.builtins | opening


def _with_companions(fn: ir.Function) -> list:
    """The companions of `fn`, each after its own, then `fn`."""
    return [g for companion in fn.companions for g in _with_companions(companion)] + [fn]


def _imports(emitter) -> list:
    """The import lines of the names one function's code used."""
    imports = [{"np": "import numpy as np", "math": "import math"}[m] for m in sorted(emitter.modules)]
    if emitter.namespace:
        imports.append(f"from s2sgrad.runtime.array_api import {_as(emitter.namespace)}")
    if emitter.profile == "numba":
        imports.append("import s2sgrad.runtime.numba_helpers  # noqa: F401 (the helpers, for Numba)")
    if emitter.helpers:
        imports.append(f"from s2sgrad.runtime import {', '.join(_as(h) for h in sorted(emitter.helpers))}")
    shadowed = sorted(b for b in emitter.builtins if b.startswith(RESERVED))
    if shadowed:
        imports.append(f"from builtins import {', '.join(_as(b) for b in shadowed)}")
    return imports + [_import_of(name) for name in sorted(emitter.foreign)]


RESERVED = "_s2s_"      # the prefix of a helper's or builtin's name where the function's own names hide it


def _as(name: str) -> str:
    """`unbroadcast`, or `unbroadcast as _s2s_unbroadcast` where the code calls it that."""
    return f"{name.removeprefix(RESERVED)} as {name}" if name.startswith(RESERVED) else name


def outside_value(name: str):
    """What a name the emitter uses for a builtin (`range`, `_s2s_range`) stands for."""
    return getattr(builtins, name.removeprefix(RESERVED))


def _taken(fn: ir.Function) -> set:
    """Every name the function's own code binds or reads from the user's scope: where a
    builtin or helper the generated code calls would be hidden by one of them."""
    names = set(fn.params) | set(fn.free) | {fn.name}
    for stmt in ir.walk_all(fn.body):
        names |= ir.defs(stmt)
        if isinstance(stmt, ir.Def):
            names |= set(stmt.fn.params) | {stmt.fn.name}
    return names


def _import_of(name: str) -> str:
    """The import line of a function with a user's rule (scipy.special.erf, ...)."""
    obj = rules.FOREIGN[name]
    if "." in name:                                  # norm.logpdf: the object holding the method
        home, held = rules.owner_home(obj.__self__)
        return f"from {home} import {held}"
    alias = "" if obj.__name__ == name else f" as {name}"
    return f"from {_home(obj)} import {obj.__name__}{alias}"


def _home(obj) -> str:
    """The module a function is imported from (a ufunc does not say: look for it)."""
    module = getattr(obj, "__module__", None)
    if module and not any(part.startswith("_") for part in module.split(".")):
        return module
    with warnings.catch_warnings():               # (deprecated modules warn when read)
        warnings.simplefilter("ignore")
        for name in sorted(sys.modules, key=lambda n: (n.count("."), "._" in n or n.startswith("_"), n)):
            if getattr(sys.modules[name], obj.__name__, None) is obj:
                return name
    return module or "__main__"


def _merged_imports(ours: list, theirs: list) -> list:
    """One import block: numpy and math first, then one `from s2sgrad.runtime import` line,
    then the functions of users' rules."""
    names = set()
    for line in ours + theirs:
        if line.startswith("from s2sgrad.runtime import "):
            names |= set(line.split(" import ", 1)[1].split(", "))
    modules = sorted({line for line in ours + theirs if line.startswith("import ")})
    foreign = sorted({line for line in ours + theirs if line.startswith("from ")
                      and not line.startswith("from s2sgrad.runtime import ")})
    return modules + ([f"from s2sgrad.runtime import {', '.join(sorted(names))}"] if names else []) + foreign


class _Pending(dict):
    """Temporaries waiting to be folded into the expression that reads them: name ->
    (expression, the names it reads), with the pending names that read each name at hand,
    so that finding those a change touches costs what they are, not all that wait."""

    def __init__(self):
        super().__init__()
        self.readers: dict = {}        # a name -> the pending names whose expressions read it
        self.order: dict = {}          # a pending name -> when it began to wait
        self.clock = itertools.count()

    def __setitem__(self, name, entry):
        super().__setitem__(name, entry)
        self.order[name] = next(self.clock)
        for read in entry[1]:
            self.readers.setdefault(read, set()).add(name)

    def pop(self, name, *default):
        entry = super().pop(name, *default)
        if name in self.order:
            del self.order[name]
            for read in entry[1]:
                self.readers[read].discard(name)
        return entry

    def reading(self, changed) -> list:
        """The pending names that read a name in `changed` or are one, oldest first."""
        hit = [n for c in changed for n in self.readers.get(c, ())] + [c for c in changed if c in self]
        if len(hit) < 2:
            return hit                          # (most statements: none)
        return sorted(set(hit), key=self.order.__getitem__)


class Emitter:
    def __init__(self, fn: ir.Function, profile: str = "numpy"):
        self.profile, self.namespace = profile, None     # (xp: the name of runtime.array_api.namespace)
        self.modules, self.helpers, self.comments, self.foreign = set(), set(), [], set()
        self.builtins, self.taken = set(), _taken(fn)
        self.uses = Counter()
        _count_uses(fn, self.uses)
        self.temps, self.derived = fn.temps, fn.derived
        self.flat, self.view_groups = list(_all_statements(fn)), None

    def function(self, fn: ir.Function) -> str:
        tree = ast.Module([self.funcdef(fn)], [])
        text = ast.unparse(_numbered(tree))
        for k, comment in enumerate(self.comments):
            text = text.replace(MARK.format(k), "# " + comment, 1)
        return text + "\n"

    def funcdef(self, fn: ir.Function, nested: bool = False) -> ast.FunctionDef:
        body = [ast.Expr(ast.Constant(fn.doc))] if fn.doc else []
        if self.profile == "xp" and not nested:      # xp = namespace(x, w): the arguments' library
            self.namespace = self.unhidden("namespace")
            opened = ast.Call(ast.Name(self.namespace, ast.Load()), [ast.Name(p, ast.Load()) for p in fn.params], [])
            body.append(_assign(self.unhidden("xp"), opened))
        body += self.block(fn.body, fn.temps) or [ast.Pass()]
        args = ast.arguments([], [ast.arg(p) for p in fn.params], None, [], [], None, [])
        extra = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
        return ast.FunctionDef(fn.name, args, body, [], None, None, **extra)

    # -- statements ---------------------------------------------------------

    def block(self, stmts, temps, pending=None) -> list:
        """A statement list; with `pending` given, what is still foldable at its end is
        left there for the caller (a `while` test folds into the loop's condition)."""
        out, keep_open = [], pending is not None
        pending = _Pending() if pending is None else pending
        written = {s.args[2].name for s in stmts if isinstance(s, ir.Assign) and s.op == "setitem"
                   and s.target == getattr(s.args[0], "name", None) and isinstance(s.args[2], ir.Var)}
        for stmt in stmts:
            if isinstance(stmt, ir.Comment):
                if out and _is_mark(out[-1]):
                    out.pop()                      # the line above it kept nothing of its own
                out.append(self.comment(stmt.text))
                continue
            changed = ir.defs(stmt)
            if _writes_in_place(stmt):                          # its views see the write too
                changed = self.views(stmt.target)
            elif isinstance(stmt, ir.NESTED):                   # (and the views of what a loop writes into)
                for inner in ir.walk(b for body in ir.bodies(stmt) for b in body):
                    if _writes_in_place(inner):
                        changed = changed | self.views(inner.target)
            if isinstance(stmt, ir.Assign) and isinstance(dict(stmt.params).get(ir.OUT), str):
                changed = changed | self.views(dict(stmt.params)[ir.OUT])      # its memory is reused
            out += self.flush(pending, changed, keep=_read_before_write(stmt))
            if isinstance(stmt, ir.Def):
                out.append(self.funcdef(stmt.fn, nested=True))
            elif isinstance(stmt, ir.NESTED + (ir.Push, ir.Pop)):
                out += self.structured(stmt, pending, temps)
            elif isinstance(stmt, ir.Return):
                out.append(ast.Return(self.value(stmt.value, pending)))
            elif stmt.op == "setitem":
                out += self.setitem(stmt, pending)
            elif stmt.op == "append" and stmt.params:         # in place: xs.append(v)
                method = ast.Attribute(ast.Name(stmt.target, ast.Load()), "append", ast.Load())
                out.append(ast.Expr(ast.Call(method, [self.atom(stmt.args[1], pending)], [])))
            elif stmt.op == "opaque" and (self.uses[stmt.target] == 0 or "statement" in dict(stmt.params)):
                out.append(self.effect(stmt, pending))
            elif stmt.op == "iadd":
                value = self.atom(stmt.args[1], pending)
                op = ast.Sub() if _negated(value) is not None else ast.Add()   # dx += -g: dx -= g
                out.append(ast.AugAssign(ast.Name(stmt.target, ast.Store()), op, _negated(value) or value))
            elif ir.OUT in dict(stmt.params):                    # into memory it names
                expr = self.expr(replace(stmt, params=tuple(ir.statics(stmt).items())), pending)
                into = self.into(expr, ast.Name(dict(stmt.params)[ir.OUT], ast.Load()))
                out.append(_assign(stmt.target, into if into is not None else expr))
            else:
                expr = self.expr(stmt, pending)
                # any size goes into `a[i] = a[i] + v`, which prints as the shorter `a[i] += v`
                names = _names_if_small(expr) if self.foldable(stmt, temps) else None
                if names is None and self.foldable(stmt, temps) and stmt.target in written:
                    names = _names(expr)
                if names is not None:
                    pending[stmt.target] = (expr, names)
                else:
                    out.append(_assign(stmt.target, expr))
        return out if keep_open else out + self.flush(pending, set(pending))

    def structured(self, stmt, pending, temps) -> list:
        """Loops, branches and the tape."""
        if isinstance(stmt, ir.Push):
            value = self.atom(stmt.value, pending)
            if stmt.index is not None:
                value = ast.Call(self.dotted("np.copy"), [ast.Subscript(value, self.index(stmt.index, pending),
                                                                         ast.Load())], [])
            return [ast.Expr(ast.Call(ast.Attribute(ast.Name(stmt.tape, ast.Load()), "append", ast.Load()),
                                      [value], []))]
        if isinstance(stmt, ir.Pop):
            popped = ast.Call(ast.Attribute(ast.Name(stmt.tape, ast.Load()), "pop", ast.Load()), [], [])
            if self.profile == "xp" and stmt.index is not None:
                put = ast.Call(self.dotted("np.setitem"), [ast.Name(stmt.target, ast.Load()),
                                                             self.index(stmt.index, pending, value=True), popped], [])
                return [_assign(stmt.target, put)]
            target = ast.Name(stmt.target, ast.Store()) if stmt.index is None else \
                ast.Subscript(ast.Name(stmt.target, ast.Load()), self.index(stmt.index, pending), ast.Store())
            return [ast.Assign([target], popped)]
        if isinstance(stmt, ir.If):
            test = self.atom(stmt.cond, pending)
            body, orelse = self.block(stmt.body, temps), self.block(stmt.orelse, temps)
            if not body:
                return [ast.If(ast.UnaryOp(ast.Not(), test), orelse or [ast.Pass()], [])]
            return [ast.If(test, body, orelse)]
        if isinstance(stmt, ir.For) and stmt.reverse and self.profile == "numba":
            turns = ast.Call(self.builtin("range"), self.descending(stmt, pending), [])
            return [ast.For(ast.Name(stmt.target, ast.Store()), turns, self.block(stmt.body, temps) or
                            [ast.Pass()], [])]
        if isinstance(stmt, ir.For):
            bounds = [self.atom(a, pending) for a in (stmt.start, stmt.stop, stmt.step)]
            if stmt.step == ir.Const(1):
                bounds = [bounds[1]] if stmt.start == ir.Const(0) else bounds[:2]
            turns = ast.Call(self.builtin("range"), bounds, [])
            if stmt.reverse:
                turns = ast.Call(self.builtin("reversed"), [turns], [])
            return [ast.For(ast.Name(stmt.target, ast.Store()), turns, self.block(stmt.body, temps) or
                            [ast.Pass()], [])]
        inner = _Pending()
        test = self.block(stmt.test, temps, inner)
        cond = self.atom(stmt.cond, inner)
        body = self.block(stmt.body, temps) or [ast.Pass()]
        if not test:
            return [ast.While(cond, body, [])]
        stop = ast.If(ast.UnaryOp(ast.Not(), cond), [ast.Break()], [])
        return [ast.While(ast.Constant(True), test + [stop] + body, [])]

    def descending(self, stmt: ir.For, pending) -> list:
        """The bounds of `reversed(range(start, stop, step))` as a range of its own (Numba
        compiles no `reversed`): `range(n - 1, -1, -1)`, and for any start and step
        `range(start + (stop - start - s) // step * step, start - s, -step)`, s the sign of
        step (1 or -1; worked out when the code runs if step is a name)."""
        start, stop, step = (self.atom(a, pending) for a in (stmt.start, stmt.stop, stmt.step))
        if stmt.start == ir.Const(0) and stmt.step == ir.Const(1):
            return [ast.BinOp(stop, ast.Sub(), ast.Constant(1)), ast.Constant(-1), ast.Constant(-1)]
        if isinstance(stmt.step, ir.Const):
            sign = ast.Constant(1 if stmt.step.value > 0 else -1)
        else:
            sign = ast.IfExp(ast.Compare(step, [ast.Gt()], [ast.Constant(0)]), ast.Constant(1), ast.Constant(-1))
        span = ast.BinOp(ast.BinOp(ast.BinOp(stop, ast.Sub(), start), ast.Sub(), sign), ast.FloorDiv(), step)
        last = ast.BinOp(start, ast.Add(), ast.BinOp(span, ast.Mult(), step))
        return [last, ast.BinOp(start, ast.Sub(), sign), _negated(step) or ast.UnaryOp(ast.USub(), step)]

    def views(self, name: str) -> set:
        if self.view_groups is None:
            self.view_groups = aliasing.view_groups(self.flat)
        return self.view_groups.get(name, {name})

    def foldable(self, stmt: ir.Assign, temps) -> bool:
        """A temporary read once, computed where it is read (never an effect: effects run in
        the user's order, each on a line of its own, but an f-string may wait for its print)."""
        return stmt.target in temps and self.uses[stmt.target] == 1 and \
            (stmt.op not in ir.EFFECTS or not {"fstring", "display"}.isdisjoint(dict(stmt.params)))

    def effect(self, stmt: ir.Assign, pending) -> ast.stmt:
        """An opaque statement whose value nothing reads: `print(...)`, `assert`, `raise`."""
        how = dict(stmt.params)
        args = [self.atom(a, pending) for a in stmt.args]
        if how.get("statement") == "assert":
            return ast.Assert(args[0], args[1] if len(args) > 1 else None)
        if how.get("statement") == "raise":
            return ast.Raise(args[0] if "value" in how else _opaque(how, args), None)
        return ast.Expr(_opaque(how, args))

    def flush(self, pending: dict, changed: set, keep=frozenset()) -> list:
        """Assign the pending temporaries that read a name about to change."""
        return [_assign(name, pending.pop(name)[0]) for name in pending.reading(changed) if name not in keep]

    def setitem(self, stmt: ir.Assign, pending) -> list:
        array, index, value = stmt.args
        if self.profile == "xp":        # x = xp.setitem(x, index, v): JAX's arrays take no `x[i] = v`
            into = self.atom(array, pending)
            if array.name != stmt.target:
                into = ast.Call(self.dotted("np.copy"), [into], [])
            call = ast.Call(self.dotted("np.setitem"), [into, self.index(index, pending, value=True),
                                                         self.atom(value, pending)], [])
            return [_assign(stmt.target, call)]
        out = []
        if array.name != stmt.target:
            copy = ast.Call(ast.Attribute(self.atom(array, pending), "copy", ast.Load()), [], []) \
                if self.profile == "numpy" else ast.Call(self.dotted("np.copy"), [self.atom(array, pending)], [])
            out.append(_assign(stmt.target, copy))
        target = ast.Subscript(ast.Name(stmt.target, ast.Load()), self.index(index, pending), ast.Store())
        value = self.atom(value, pending)
        if isinstance(value, ast.BinOp) and _same_place(value.left, target) and stmt.target in self.derived:
            return out + [ast.AugAssign(target, value.op, value.right)]   # a[i] = a[i] + v
        into = self.into(value, ast.Subscript(target.value, target.slice, ast.Load())) \
            if dict(stmt.params).get(ir.OUT) else None
        if into is not None:                                # computed straight into the slice
            return out + [ast.Expr(into)]
        return out + [ast.Assign([target], value)]

    def into(self, expr: ast.expr, out: ast.expr):
        """`expr`, a NumPy ufunc applied to its arguments, written into `out` (None when
        `expr` is not such a call)."""
        power = isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Pow) and \
            isinstance(expr.right, ast.Constant) and POWERS.get(expr.right.value)
        if power:                              # what NumPy's `a ** 2` calls: np.square
            expr = ast.Call(self.dotted(power), [expr.left], [])
        elif isinstance(expr, ast.BinOp) and type(expr.op) in UFUNC_OF:
            expr = ast.Call(self.dotted(UFUNC_OF[type(expr.op)]), [expr.left, expr.right], [])
        elif isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
            expr = ast.Call(self.dotted("np.negative"), [expr.operand], [])
        if not isinstance(expr, ast.Call):
            return None                        # (a value with a name of its own: copied in)
        return ast.Call(expr.func, expr.args, expr.keywords + [ast.keyword("out", out)])

    def comment(self, text: str) -> ast.stmt:
        self.comments.append(text)
        return ast.Expr(ast.Name(MARK.format(len(self.comments) - 1), ast.Load()))

    # -- expressions --------------------------------------------------------

    def expr(self, stmt: ir.Assign, pending) -> ast.expr:
        args = [self.index(a, pending, value=stmt.op != "getitem") if isinstance(a, ir.Index)
                else self.atom(a, pending) for a in stmt.args]
        if stmt.op in ("add", "sub") and _negated(args[1]) is not None:
            flipped = ast.Sub() if stmt.op == "add" else ast.Add()   # a + -b prints as a - b
            return ast.BinOp(args[0], flipped, _negated(args[1]))
        if stmt.op == "matmul" and self.profile == "xp":      # (promoting dtypes, as NumPy's @ does)
            return ast.Call(self.dotted("np.matmul"), args, [])
        if stmt.op in BINOPS:
            return ast.BinOp(args[0], BINOPS[stmt.op](), args[1])
        if stmt.op in COMPARE:
            return ast.Compare(args[0], [COMPARE[stmt.op]()], [args[1]])
        if stmt.op in ("neg", "pos"):
            return ast.UnaryOp(ast.USub() if stmt.op == "neg" else ast.UAdd(), args[0])
        if stmt.op == "id":
            return args[0]
        if stmt.op == "getitem":
            return ast.Subscript(args[0], args[1], ast.Load())
        if stmt.op == "tuple":                     # (made as a namedtuple class: its `kind`)
            kind = dict(stmt.params).get("kind")
            return ast.Call(ast.Name(kind, ast.Load()), args, []) if kind else ast.Tuple(args, ast.Load())
        if stmt.op == "call":
            return ast.Call(args[0], args[1:], [])
        if stmt.op == "opaque":
            return _opaque(dict(stmt.params), args)
        if stmt.op == "attr" or ir.ATTRIBUTE in dict(stmt.params):
            how = dict(stmt.params)
            return ast.Attribute(args[0], how.get("name") or how[ir.ATTRIBUTE], ast.Load())
        if stmt.op == "pullback":                  # back(dy): the other arguments are what it reads
            return ast.Call(args[0], [args[1]], [])
        if stmt.op == "list":
            return ast.List(args, ast.Load())
        if stmt.op == "append":                    # xs + [v]: the list before stays as it was
            return ast.BinOp(args[0], ast.Add(), ast.List([args[1]], ast.Load()))
        if stmt.op == "not":
            return ast.UnaryOp(ast.Not(), args[0])
        if stmt.op == "np.invert":                 # (`~mask`, as the user writes it)
            return ast.UnaryOp(ast.Invert(), args[0])
        if stmt.op in ("and", "or"):
            return ast.BoolOp(ast.And() if stmt.op == "and" else ast.Or(), args)
        return self.call(rules.OPS[stmt.op], args, stmt.params)

    def call(self, op, args, params) -> ast.Call:
        defaults = _defaults(op.obj)
        keywords = [ast.keyword(k, self.constant(v)) for k, v in params
                    if not (k in defaults and _same(defaults[k], v))]
        if op.optional:      # arguments left out stay out; others by name where NumPy wants that
            named = rules.positional_names(op.obj)
            given = [(name, a) for name, a in zip(op.args, args)
                     if not (name in op.optional and isinstance(a, ast.Constant) and a.value is None)]
            in_place = [named is None or i == 0 or named[i:i + 1] == (name,) for i, (name, _) in enumerate(given)]
            args = [a for (_, a), keep in zip(given, in_place) if keep]
            keywords = [ast.keyword(name, a) for (name, a), keep in zip(given, in_place) if not keep] + keywords
        if op.kind == "helper" or getattr(rules.OPS.get(op.emit), "kind", None) == "helper":
            if self.profile == "xp":
                return ast.Call(self.dotted("np." + op.emit), args, keywords)      # xp.unbroadcast(...)
            name = self.unhidden(op.emit)     # (a helper, or an op the generated code calls through one)
            self.helpers.add(name)
            return ast.Call(ast.Name(name, ast.Load()), args, keywords)
        return ast.Call(self.dotted(op.emit), args, keywords)

    def unhidden(self, name: str) -> str:
        """`name`, or `_s2s_name` where the function's own names would hide it."""
        return RESERVED + name if name in self.taken else name

    def builtin(self, name: str) -> ast.Name:
        """A builtin the generated code calls (`range`), under a name the user's cannot hide."""
        name = self.unhidden(name)
        self.builtins.add(name)
        return ast.Name(name, ast.Load())

    def dotted(self, name: str) -> ast.expr:
        if self.profile == "xp" and name in XP_BUILTINS:
            name = "np." + name                       # xp.len(a): an array's first dimension
        if "." not in name and name not in rules.FOREIGN and hasattr(builtins, name):
            return self.builtin(name)                 # len, float, ...
        parts = name.split(".")
        if self.profile == "xp" and parts[0] == "np":      # xp.acos where NumPy's is np.arccos
            rest = ".".join(parts[1:])
            parts = [self.unhidden("xp"), *array_api.STANDARD.get(rest, rest).split(".")]
        elif parts[0] in ("np", "math") and len(parts) > 1:
            self.modules.add(parts[0])
        if name in rules.FOREIGN:
            self.foreign.add(name)
        node = ast.Name(parts[0], ast.Load())
        for part in parts[1:]:
            node = ast.Attribute(node, part, ast.Load())
        return node

    def atom(self, atom, pending) -> ast.expr:
        if isinstance(atom, ir.Const):
            return self.constant(atom.value)
        if atom.name in pending:
            return pending.pop(atom.name)[0]
        return ast.Name(atom.name, ast.Load())

    def value(self, value, pending) -> ast.expr:
        if isinstance(value, tuple):
            return ast.Tuple([self.value(v, pending) for v in value], ast.Load())
        return self.atom(value, pending)

    def index(self, index: ir.Index, pending, value: bool = False) -> ast.expr:
        """An index inside brackets, or (`value`) as a value a helper takes: `slice(1, None)`."""
        items = [self.index_item(i, pending, value) for i in index.items]
        return items[0] if len(items) == 1 else ast.Tuple(items, ast.Load())

    def index_item(self, item, pending, value: bool = False) -> ast.expr:
        if isinstance(item, ir.Slice):
            parts = [None if a is None else self.atom(a, pending) for a in (item.lower, item.upper, item.step)]
            if value:
                return ast.Call(self.builtin("slice"), [p or ast.Constant(None) for p in parts], [])
            return ast.Slice(*parts)
        if item is None or item is Ellipsis:
            return ast.Constant(item)
        return self.atom(item, pending)

    def constant(self, value) -> ast.expr:
        """A literal, written so that Python reads it back as the same value."""
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, tuple):
            return ast.Tuple([self.constant(v) for v in value], ast.Load())
        if isinstance(value, type):
            return self.dotted(("np." if value.__module__ == "numpy" else "") + value.__name__)
        if isinstance(value, float) and not math.isfinite(value):
            node = self.dotted("np.nan" if math.isnan(value) else "np.inf")
            return ast.UnaryOp(ast.USub(), node) if value < 0 else node
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.copysign(1, value) < 0:
            return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        return ast.Constant(value)


POWERS = {2: "np.square", 0.5: "np.sqrt"}
XP_BUILTINS = {"len"}      # builtins whose xp profile form is the namespace's (len of an array)
UFUNC_OF = {ast.Add: "np.add", ast.Sub: "np.subtract", ast.Mult: "np.multiply", ast.Div: "np.divide",
            ast.Pow: "np.power"}


def _negated(expr: ast.expr):
    """`e` when `expr` is `-e` or `-c * e`, else None (flipping a sign is exact)."""
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        return expr.operand
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult) and isinstance(expr.left, ast.UnaryOp) \
            and isinstance(expr.left.op, ast.USub) and isinstance(expr.left.operand, ast.Constant):
        return ast.BinOp(expr.left.operand, ast.Mult(), expr.right)
    return None


def _is_mark(node) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Name) and \
        node.value.id.startswith("__s2sgrad_comment_")


def _opaque(how: dict, args: list) -> ast.expr:
    """A call s2sgrad runs without reading it (frontend/opaque.py), or an f-string."""
    if "fstring" in how:
        values, parts = iter(args), []
        for part in how["fstring"]:
            if part[0] == "text":
                parts.append(ast.Constant(part[1]))
            else:
                spec = ast.JoinedStr([ast.Constant(part[2])]) if part[2] else None
                parts.append(ast.FormattedValue(next(values), part[1], spec))
        return ast.JoinedStr(parts)
    if "display" in how:
        return ast.Dict([ast.Constant(k) for k in how["display"]], args)
    keywords = how.get("keywords", ())
    if "callee" in how:
        func, positional = ast.parse(how["callee"], mode="eval").body, args
    elif "method" in how:
        func, positional = ast.Attribute(args[0], how["method"], ast.Load()), args[1:]
    else:
        func, positional = args[0], args[1:]
    split = len(positional) - len(keywords)
    starred = how.get("starred", ())
    plain = [ast.Starred(a, ast.Load()) if i in starred else a for i, a in enumerate(positional[:split])]
    return ast.Call(func, plain, [ast.keyword(k, v) for k, v in zip(keywords, positional[split:])])


def _assign(name: str, expr: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], expr)


def _same_place(expr: ast.expr, target: ast.Subscript) -> bool:
    return isinstance(expr, ast.Subscript) and \
        ast.dump(expr.value) == ast.dump(target.value) and ast.dump(expr.slice) == ast.dump(target.slice)


def _all_statements(fn: ir.Function):
    for stmt in ir.walk(fn.body):
        yield stmt
        if isinstance(stmt, ir.Def):
            yield from _all_statements(stmt.fn)


def _writes_in_place(stmt) -> bool:
    return isinstance(stmt, ir.Pop) and stmt.index is not None or isinstance(stmt, ir.Assign) \
        and stmt.op in ir.WRITES and getattr(stmt.args[0], "name", None) == stmt.target


def _read_before_write(stmt) -> set:
    """Names a statement reads before it assigns (all but the array it writes into)."""
    if isinstance(stmt, ir.Assign) and stmt.op == "setitem":
        return {a.name for a in ir.atoms_of(stmt.args[1:]) if isinstance(a, ir.Var)}
    return ir.uses(stmt)


def _count_uses(fn: ir.Function, counter: Counter) -> None:
    _count_block(fn.body, counter)


def _count_block(stmts, counter: Counter) -> None:
    for stmt in stmts:
        if isinstance(stmt, ir.Def):
            _count_uses(stmt.fn, counter)
            counter.update({n: 2 for n in ir.uses(stmt)})   # never fold into a nested function
        elif isinstance(stmt, ir.NESTED):
            counter.update(ir.heads(stmt))
            inner, made = Counter(), ir.defs(stmt)
            for body in ir.bodies(stmt):
                _count_block(body, inner)
                made -= ir.exposed(body)           # (read before it is made again there)
            # a value made outside a loop or branch is never folded into it
            counter.update({n: (c if n in made else 2) for n, c in inner.items()})
        elif isinstance(stmt, ir.Assign):
            counter.update(a.name for a in ir.atoms_of(stmt.args) if isinstance(a, ir.Var))   # t + t: twice
            if isinstance(dict(stmt.params).get(ir.OUT), str):
                counter.update([dict(stmt.params)[ir.OUT]])   # written into: it needs its name
        elif not isinstance(stmt, ir.Comment):
            counter.update(ir.uses(stmt) if not isinstance(stmt, ir.Pop) else ir.uses(stmt) - {stmt.target})


def _names_if_small(expr: ast.expr) -> set | None:
    """The names `expr` reads if it has at most FOLD_LIMIT expression nodes, else None
    (one walk, which stops as soon as it has more)."""
    count, names, todo = 0, set(), [expr]
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is ast.Name:
            names.add(node.id)
        elif kind is not ast.Constant:
            fields = _CHILDREN.get(kind)
            if fields is None:
                todo.extend(ast.iter_child_nodes(node))
            else:
                for field in fields:
                    child = getattr(node, field)
                    if type(child) is list:
                        todo.extend(child)
                    elif child is not None:
                        todo.append(child)
        if isinstance(node, ast.expr):
            count += 1
            if count > FOLD_LIMIT:
                return None
    return names


_CHILDREN = {ast.BinOp: ("left", "right"), ast.UnaryOp: ("operand",), ast.Call: ("func", "args", "keywords"),
             ast.keyword: ("value",), ast.Attribute: ("value",), ast.Subscript: ("value", "slice"),
             ast.Tuple: ("elts",), ast.List: ("elts",), ast.Compare: ("left", "comparators"),
             ast.BoolOp: ("values",), ast.Slice: ("lower", "upper", "step"), ast.Starred: ("value",),
             ast.IfExp: ("test", "body", "orelse")}      # (the nodes emit makes; others walked generically)


def _names(expr: ast.expr) -> set:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _numbered(node):
    """`node` with a line number on every statement (ast.unparse reads them; numbering
    statements alone is much cheaper than ast.fix_missing_locations)."""
    for field in ("body", "orelse"):
        for stmt in getattr(node, field, ()):
            stmt.lineno = 1
            _numbered(stmt)
    return node


@functools.lru_cache(maxsize=1024)
def _defaults(obj) -> dict:
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not p.empty}


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b
