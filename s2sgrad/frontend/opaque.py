"""Code s2sgrad runs as Python runs it, without reading it.

A call of a function that has no rule and is not the user's own (Python's
builtins, a library's function, a method of an object the function made,
such as a random generator) becomes one `opaque` statement:

    eps = rs.randn(*w.shape)        eps = opaque(rs, shape_w, method='randn', starred=1)
    print(f"loss {y:.3f}")          t = opaque(y, fstring=(...));  u = opaque(t, callee='print')
    assert y >= 0, "negative"       v = opaque(ge_y, 'negative', statement='assert')

It runs once per call of the derivative, in the user's order, on the values
the user's code gives it (so a random draw is drawn once and the gradient
uses the same draws as the value). The passes never drop, merge, move or
re-run it (ir.EFFECTS). Nothing differentiated may flow through it: a
differentiated value reaching one whose result the output depends on is
refused where the derivative is built (passes/activity.py), never given a
silent zero. A call whose result is thrown away might change its arguments
(`rng.shuffle(x)`), which s2sgrad cannot follow: it is refused here unless
the function is known to leave them alone (`print`, `logging`, warnings).
One whose value does not vary with its arguments where it is defined (a
count, a flag: frontend/tries.py's `attempt`) says `piecewise=True`: the
differentiated values it reads are then allowed, and give no derivative.
"""
from __future__ import annotations

import ast
import inspect
import logging
import operator
import pprint
import random
import sys
import warnings

import numpy as np

from .. import ir
from ..errors import SourceUnavailableError, UnsupportedSyntaxError
from ..ir import names
from ..runtime import containers
from . import _MISSING

LEAVES_ARGUMENTS = {print, warnings.warn, pprint.pprint, logging.debug, logging.info, logging.warning,
                    logging.error, logging.critical, logging.exception, logging.log}
# functions called for their effect that surely do not change what they are passed
LOGGER_METHODS = {"debug", "info", "warning", "error", "critical", "exception", "log"}
MUTATING_METHODS = {"sort", "fill", "shuffle", "reverse", "extend", "insert", "pop", "popitem", "remove",
                    "clear", "update", "setdefault", "put", "resize", "itemset", "setflags", "partition",
                    "append", "add", "discard", "__setitem__", "__delitem__", "__iadd__", "__imul__"}
# methods that change the object they belong to (or what they are passed): refused whatever
# is done with their result, since s2sgrad cannot follow the change
MUTATING_FUNCTIONS = {np.random.shuffle, np.copyto, np.put, np.place, np.putmask, np.fill_diagonal,
                      np.put_along_axis, random.shuffle, operator.setitem, operator.delitem, setattr, delattr}


def library(obj) -> bool:
    """Whether `obj` is a library's function (Python's own or an installed package's), whose
    source s2sgrad does not read: it has a rule, or runs as it is."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    path = getattr(module, "__file__", None)
    if path is None:
        return module is not None                       # built into Python
    return containers.in_library(path)


class OpaqueLowering:
    """The `opaque` half of `lower.Lowerer` (a mixin: it uses the Lowerer's helpers)."""

    def opaque_call(self, node: ast.Call, obj, target):
        """A call of a function s2sgrad does not read, or of a function held in a variable."""
        self.refuse_changes(node, obj)
        args, params = self.opaque_args(node)
        word = ast.unparse(node.func).rsplit(".", 1)[-1]
        if obj is _MISSING:                   # a variable of this function holding a function
            return self.op("opaque", (self.expr(node.func), *args), node, self.named(target, word, args),
                           (("value", True),) + params)
        return self.op("opaque", args, node, self.named(target, word, args),
                       (("callee", self.dotted(node.func)),) + params)

    def own_method(self, node: ast.Call, target):
        """`self.predict(w)` inside a method: the class's own method, inlined with `self` passed
        first; the code checks that the object's class has not replaced it (a subclass's
        method would be another function). None when the method is not the user's own."""
        func = node.func
        cls = self.scope.classes[func.value.id]
        method = inspect.getattr_static(cls, func.attr, None)
        if not inspect.isfunction(method) or library(method):
            return None
        owner = self.expr(func.value)
        kind = self.op("attr", (owner,), node, self.named(None, "class", (owner,)), (("name", "__class__"),))
        found = self.op("attr", (kind,), node, self.named(None, func.attr, ()), (("name", func.attr),))
        same = self.op("eq", (found, ir.Var(self.bind(func.attr, method))), node)
        self.op("opaque", (same, ir.Const(f"{cls.__name__}.{func.attr} was replaced by a subclass's method; "
                                          "take the derivative of the subclass's own method")), node, None,
                (("statement", "assert"),))
        call = ast.copy_location(ast.Call(func, [func.value] + list(node.args), node.keywords), node)
        return self.inline(call, method, target)

    def opaque_method(self, node: ast.Call, target):
        """A method call on a value of this function (`rs.randn(3)`, `w.argsort()`)."""
        self.refuse_changes(node, None)
        owner = self.expr(node.func.value)
        args, params = self.opaque_args(node)
        return self.op("opaque", (owner, *args), node, self.named(target, node.func.attr, (owner, *args)),
                       (("method", node.func.attr),) + params)

    def named(self, target, word: str, args):
        """`target`, or a temporary named after the function called (`randn_w`)."""
        if target is None:
            target = self.namer.fresh(names.temp_base(word, args, self.scope.locals))
            self.temps.add(target)
        return target

    def refuse_changes(self, node: ast.Call, obj) -> None:
        """Refuse a call that changes a value of the function in place (`y.sort()`,
        `np.copyto(y, x)`, `map(np.random.shuffle, ...)`): s2sgrad cannot follow the change."""
        func = node.func
        owner = self.scope.static_object(func.value) if isinstance(func, ast.Attribute) else _MISSING
        method = func.attr if isinstance(func, ast.Attribute) and not inspect.ismodule(owner) else None
        passed = [a.value if isinstance(a, ast.Starred) else a for a in node.args] + [k.value for k in node.keywords]
        changes = method in MUTATING_METHODS or any(obj is f for f in MUTATING_FUNCTIONS) and passed or \
            any(any(self.static_value(a) is f for f in MUTATING_FUNCTIONS) for a in passed)
        if changes:
            raise self.unsupported(node, f"`{ast.unparse(func)}(...)` changes a value in place, which s2sgrad "
                                         "cannot follow", "make a new value instead (`y = np.sort(y)`, "
                                                          "`idx = rng.permutation(idx)`)")

    def opaque_args(self, node: ast.Call):
        """The call's arguments as atoms (keyword values last) and how to pass them."""
        atoms, starred = [], ()
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                starred += (i,)
                arg = arg.value
            atoms.append(self.opaque_value(arg))
        keywords = []
        for kw in node.keywords:
            if kw.arg is None:
                raise self.unsupported(kw.value, "`**` in a call of a function s2sgrad does not read is "
                                                 "not supported", "pass the keywords by name")
            if kw.arg == "out":
                raise self.unsupported(kw, f"`{ast.unparse(node.func)}` writes its result into `out=`, which "
                                           "s2sgrad cannot follow", "assign its result instead")
            keywords.append(kw.arg)
            atoms.append(self.opaque_value(kw.value))
        params = ((("keywords", tuple(keywords)),) if keywords else ()) + \
            ((("starred", starred),) if starred else ())
        return tuple(atoms), params

    def opaque_value(self, node):
        """An argument of a call s2sgrad runs as it is: a value, or a function, class or
        module of the user's module passed as it is (`isinstance(n, int)`)."""
        obj = self.static_value(node)
        if obj is not _MISSING:
            return ir.Var(self.bind(ast.unparse(node).rsplit(".", 1)[-1].strip("()").split(",")[0] or "value", obj))
        return self.expr(node)

    def static_value(self, node):
        """A function, class or module the node names, or a tuple of them (`(int, float)`)."""
        if isinstance(node, ast.Tuple) and node.elts:
            items = [self.static_value(e) for e in node.elts]
            return _MISSING if any(i is _MISSING for i in items) else tuple(items)
        obj = self.scope.static_object(node) if isinstance(node, (ast.Name, ast.Attribute)) else _MISSING
        return obj if obj is not _MISSING and (callable(obj) or inspect.ismodule(obj)) else _MISSING

    def dotted(self, func) -> str:
        """`np.random.randn` as the generated code reads it: its first name bound to what it
        is in the user's module (the name itself, unless the derivative uses it otherwise)."""
        base = func
        while isinstance(base, ast.Attribute):
            base = base.value
        if not isinstance(base, ast.Name):
            raise self.unsupported(func, f"`{ast.unparse(func)}` cannot be called here", "")
        value = self.src.lookup(base.id)
        if base.id in getattr(self.src.fn, "__globals__", {}) and base.id not in self.src.closure \
                and not inspect.ismodule(value):
            self.scope.free.add(base.id)     # a global of the module: read when the code runs (it may change)
            return ast.unparse(func)
        return self.bind(base.id, value) + ast.unparse(func)[len(base.id):]

    def inline_or_run(self, node: ast.Call, callee, target):
        """A call of the user's own function, inlined; where its code cannot be (a `try`,
        a `yield`, a construct not supported yet) and it writes into none of its arguments,
        it runs as Python runs it instead, and the reason is kept: a differentiated value
        reaching it is refused with that reason (passes/activity.py)."""
        saved = (len(self.body), set(self.temps), dict(self.packed), set(self.defined), dict(self.scope.bindings),
                 set(self.scope.free), list(self.augmented))
        try:
            return self.inline(node, callee, target)
        except (UnsupportedSyntaxError, SourceUnavailableError) as err:
            if not inspect.isfunction(callee) or _writes_arguments(callee):
                raise
            del self.body[saved[0]:]
            self.temps, self.packed, self.defined = saved[1], saved[2], saved[3]
            self.scope.bindings, self.scope.free, self.augmented = saved[4], saved[5], saved[6]
            loc = err.loc
            why = (err.message, err.hint, type(err).__name__) + \
                ((loc.file, loc.line, loc.col, loc.end_col, loc.text) if loc is not None else ())
            made = self.opaque_call(node, callee, target)
            last = self.body[-1]
            self.body[-1] = ir.Assign(last.target, last.op, last.args, last.params + (("unread", why),), last.loc)
            return made

    def effect(self, node: ast.Expr) -> None:
        """A call whose value is thrown away: kept for what it does."""
        start = len(self.body)
        self.expr(node.value)
        made = self.body[-1] if len(self.body) > start else None
        if not (isinstance(made, ir.Assign) and made.op == "opaque"):
            return                                   # the user's own function, inlined: its effects are in it
        how = dict(made.params)
        reads = made.args[1:] if "value" in how else made.args
        if any(isinstance(a, ir.Var) for a in reads) and not self.leaves_arguments(node.value):
            raise self.unsupported(node, f"`{ast.unparse(node.value.func)}(...)` is called for what it does, "
                                         "and s2sgrad cannot tell whether it changes the values it is passed",
                                   "use its result instead (`idx = rng.permutation(idx)`), or call it outside "
                                   "the differentiated function")

    def leaves_arguments(self, call: ast.Call) -> bool:
        """Whether the function called is one of LEAVES_ARGUMENTS, or a logger's method
        (of a logger the module holds, or `logging.getLogger(...)`'s)."""
        func = call.func
        obj = self.scope.static_object(func)
        if any(obj is f for f in LEAVES_ARGUMENTS) or isinstance(getattr(obj, "__self__", None), logging.Logger):
            return True
        owner = func.value if isinstance(func, ast.Attribute) else None
        return isinstance(owner, ast.Call) and self.scope.static_object(owner.func) is logging.getLogger \
            and func.attr in LOGGER_METHODS

    def expr_JoinedStr(self, node, target):
        """An f-string: its values, formatted when the code runs."""
        parts, values = [], []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(("text", part.value))
                continue
            spec = part.format_spec
            if spec is not None and not all(isinstance(p, ast.Constant) for p in spec.values):
                raise self.unsupported(spec, "a computed format inside an f-string is not supported",
                                       "write the format out (`{x:.3f}`)")
            values.append(self.expr(part.value))
            parts.append(("value", part.conversion, "".join(p.value for p in spec.values) if spec else ""))
        return self.op("opaque", tuple(values), node, target, (("fstring", tuple(parts)),))

    def expr_Dict(self, node, target):
        """A dict display with constant keys: built as Python builds it (a dict holding a
        differentiated value is refused where the derivative is built)."""
        if not all(isinstance(k, ast.Constant) for k in node.keys):
            raise self.unsupported(node, "a dict display with computed keys (or `**`) is not supported",
                                   "write its keys out")
        values = tuple(self.expr(v) for v in node.values)
        return self.op("opaque", values, node, self.named(target, "table", values),
                       (("display", tuple(k.value for k in node.keys)),))

    def stmt_Assert(self, node):
        args = (self.expr(node.test),) + ((self.expr(node.msg),) if node.msg is not None else ())
        self.op("opaque", args, node, None, (("statement", "assert"),))

    def stmt_Raise(self, node):
        exc = node.exc
        if exc is None or node.cause is not None:
            raise self.unsupported(node, "only `raise Error(...)` is supported here", "raise an exception object")
        obj = self.scope.static_object(exc.func) if isinstance(exc, ast.Call) else _MISSING
        if isinstance(obj, type) and issubclass(obj, BaseException):     # raise ValueError(...), as written
            args, params = self.opaque_args(exc)
            self.op("opaque", args, node, None, (("statement", "raise"), ("callee", self.dotted(exc.func))) + params)
        else:
            self.op("opaque", (self.expr(exc),), node, None, (("statement", "raise"), ("value", True)))

    def stmt_With(self, node):
        """`with np.errstate(...):` and the like: the manager entered before the body and left
        after it (the body's derivative runs outside it)."""
        managers = []
        for item in node.items:
            manager = self.expr(item.context_expr)
            entered = self.op("opaque", (manager,), item.context_expr, None, (("method", "__enter__"),))
            if item.optional_vars is not None:
                if not isinstance(item.optional_vars, ast.Name):
                    raise self.unsupported(item.optional_vars, "`with ... as` a pattern is not supported",
                                           "bind one name")
                self.op("id", (entered,), item.optional_vars, target=item.optional_vars.id)
                self.defined.add(item.optional_vars.id)
            managers.append(manager)
        self.body += self.block(node.body)
        for manager in reversed(managers):
            self.op("opaque", (manager, ir.Const(None), ir.Const(None), ir.Const(None)), node, None,
                    (("method", "__exit__"),))


def _writes_arguments(callee) -> bool:
    """Whether a function of the user's writes into what it is passed (it cannot then run
    unread: s2sgrad would not see the write)."""
    from .inline import _writes_parameters
    from .. import frontend
    try:
        return _writes_parameters(frontend.parse(callee).tree)
    except Exception:  # unreadable: assume the worst
        return True
