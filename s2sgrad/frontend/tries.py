"""`try` statements: the derivative of the path that ran.

    try:                                    k, h, e = attempt(K, jitter)       (runs the body as
        L = np.linalg.cholesky(K)           if k == 1:                          Python does, and says
    except np.linalg.LinAlgError:               L = np.linalg.cholesky(K)      how far it got and
        L = np.linalg.cholesky(K + jitter)  else:                              which handler caught)
                                                L = np.linalg.cholesky(K + jitter)

An exception can stop the body at any of its statements, after those before
it have run. s2sgrad first runs the body as Python runs it, in a function made
from its lines (`attempt`), which returns k, the number of statements that
completed, h, the handler that caught the exception (-1 for none), and the
exception. Then the path that ran is lowered and differentiated: the whole
body and the `else` block when k is the body's length, else the k statements
that completed and handler h; then `finally`. An exception no handler catches
leaves `attempt` as it would leave the body.

So the body runs twice: `attempt` on copies of the values it reads, then the
path on the values themselves. It must be simple statements (assignments,
calls, a `return`), since a loop or branch that an exception stops half-way
leaves what it did so far (so must a function that writes into its
arguments), and it must not print, draw random numbers or call what s2sgrad
cannot tell is free of effects (they would happen twice). Each is refused at
its line. A handler's bare `raise` raises the exception it caught.
"""
from __future__ import annotations

import ast
import copy
import functools
import inspect
import types

from .. import ir
from ..errors import UnsupportedSyntaxError
from .lower_flow import located
from .opaque import _writes_arguments, library

SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Pass)


class TryLowering:
    """The `try` part of `lower.Lowerer` (a mixin: it uses the Lowerer's helpers)."""

    def stmt_Try(self, node):
        self.check_try_body(node)
        names = self.read_in(node)
        args = tuple(self.opaque_value(ast.copy_location(ast.Name(n, ast.Load()), node)) for n in names)
        result = self.op("opaque", args, node, self.fresh_temp("tried"),
                         (("callee", self.bind("attempt", self.attempt(node, names))), ("piecewise", True)))
        done, caught, error = (self.fresh_local(base) for base in ("done", "caught", "error"))
        for i, name in enumerate((done, caught)):
            self.op("getitem", (result, ir.Index((ir.Const(i),))), node, target=name)
        loc = self.src.loc(node)            # the exception: it may hold what the body computed (`e.last`)
        why = ("the exception a `try` caught holds values s2sgrad does not follow; the derivative cannot "
               "flow through it", "compute the value again after the `try`", "NoRuleError",
               loc.file, loc.line, loc.col, loc.end_col, loc.text)
        self.op("opaque", (result, *args), node, error, (("callee", self.bind("exception_of", _exception_of)),
                                                        ("unread", why), ("pure", True)))
        self.defined |= {done, caught, error}
        mark = len(self.body)
        self.body += self.block(_paths(node, done, caught, error))
        ran = next(s for s in self.body[mark:] if isinstance(s, ir.If))     # (`if done == n:` the body)
        for stmt in ir.walk_all(ran.body):
            if isinstance(stmt, ir.Assign) and stmt.op in ir.EFFECTS and not _pure(dict(stmt.params)):
                raise UnsupportedSyntaxError("a call that may print, draw a random number or change a value "
                                             "is not supported in a `try` body: s2sgrad runs the body twice",
                                             stmt.loc, hint="move it out of the `try`")

    def check_try_body(self, node) -> None:
        """Refuse what a second run of the body would not do as the first: a loop or branch
        an exception stops half-way, a function that writes into its arguments."""
        for stmt in node.body:
            if not isinstance(stmt, SIMPLE):
                raise self.unsupported(stmt, "only simple statements (assignments, calls, `return`) are supported "
                                             "in a `try` body: s2sgrad runs it first to see how far it gets",
                                       "move the loop or branch into a function and call it here")
        if node.finalbody and any(isinstance(n, ast.Return) for part in (node.body, node.handlers, node.orelse,
                                                                          node.finalbody)
                                  for stmt in part for n in ast.walk(stmt)):
            raise self.unsupported(node, "`return` in a `try` that has a `finally` is not supported (the "
                                         "`finally` runs after the return)", "return after the `try`")
        known = set(self.defined)
        for stmt in node.body:
            for name in (n for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)):
                if name.id in self.partials or isinstance(self.scope.held.get(name.id), ast.AST) or \
                        name.id in self.scope.locals and name.id not in known and name.id not in self.scope.nested:
                    raise self.unsupported(name, f"`{name.id}` cannot be read in a `try` body (s2sgrad runs the body "
                                                 "first as a function of its own)", f"call the function `{name.id}` "
                                                                                     "holds by its own name")
            known |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for call in (n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Call)):
            if isinstance(call.func, ast.Name) and call.func.id in self.scope.nested:
                raise self.unsupported(call, "a function defined inside the differentiated function cannot be "
                                             "called in a `try` body", "define it at module level")
            callee = self.scope.static_object(call.func)
            if inspect.isfunction(callee) and not library(callee) and _writes_arguments(callee):
                raise self.unsupported(call, f"`{ast.unparse(call.func)}` writes into its arguments, which an "
                                             "exception may stop half-way: not supported in a `try` body",
                                       "return new values from it instead")

    def read_in(self, node) -> list:
        """The variables of the function the `try` statement uses (passed to `attempt`)."""
        read = []
        for n in ast.walk(ast.Module(node.body + [ast.Expr(h.type) for h in node.handlers if h.type], [])):
            if isinstance(n, ast.Name) and n.id not in read and (
                    n.id in self.defined or n.id in self.src.closure or self.scope.enclosing(n.id)):
                read.append(n.id)
        return read

    def attempt(self, node, names):
        """The function that runs the body as Python does, on copies of what it is given:
        (statements completed, the handler that caught, the exception)."""
        count = "_s2s_done"
        body = []
        for k, stmt in enumerate(node.body):
            if isinstance(stmt, ast.Return):
                body += [located(ast.Expr(stmt.value), stmt), _counted(count, len(node.body), stmt)]
                break
            body += [stmt, _counted(count, k + 1, stmt)]
        handlers = [located(ast.ExceptHandler(h.type or ast.Name("BaseException", ast.Load()), "_s2s_error", [
            located(ast.Return(ast.Tuple([ast.Name(count, ast.Load()), ast.Constant(i),
                                           ast.Name("_s2s_error", ast.Load())], ast.Load())), h)]), h)
            for i, h in enumerate(node.handlers)]
        tail = ast.Return(ast.Tuple([ast.Name(count, ast.Load()), ast.Constant(-1), ast.Constant(None)], ast.Load()))
        guarded = [located(ast.Try(body, handlers, [], []), node)] if handlers else body
        made = ast.FunctionDef(
            "attempt", ast.arguments([], [ast.arg(n) for n in names], None, [], [], None, []),
            [_counted(count, 0, node), *guarded, located(tail, node)],
            [], None, None, **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}))
        module = ast.fix_missing_locations(ast.Module([located(made, node)], []))
        code = compile(module, self.src.file, "exec")
        function_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
        return _on_copies(types.FunctionType(function_code, getattr(self.src.fn, "__globals__", {}), "attempt"))


def _exception_of(tried, *read):
    """The exception `attempt` caught (the values the body read are passed along so that a
    differentiated one reaching it through the exception is refused: passes/activity.py)."""
    return tried[2]


def _on_copies(run):
    """`run`, given copies of its arguments (the body runs again after it, on the originals)."""
    @functools.wraps(run)
    def attempt(*args):
        return run(*(copy.deepcopy(a) for a in args))
    return attempt


PURE_CALLS = {"int", "float", "str", "bool", "complex", "isinstance", "len", "round", "abs", "min", "max", "sum",
              "tuple", "list", "dict", "sorted", "range", "zip", "enumerate", "type", "repr", "format", "divmod",
              "hasattr", "getattr", "slice"}
PURE_MODULES = ("np.", "numpy.", "math.", "scipy.", "operator.")
PURE_METHODS = {"copy", "astype", "reshape", "item", "tolist", "get", "keys", "format", "startswith", "endswith",
                "lower", "upper", "strip", "split", "join", "__enter__", "__exit__"}


def _pure(how: dict) -> bool:
    """Whether a call run unread does nothing a second run would do again (print, log, draw a
    random number, write into a value): Python's and NumPy's computing functions."""
    if "fstring" in how or "display" in how or how.get("statement") in ("assert", "raise") or how.get("piecewise") \
            or how.get("pure"):
        return True                     # (a `try` inside: its own body was checked)
    callee, method = str(how.get("callee", "")), how.get("method")
    if method is not None:
        return method in PURE_METHODS
    if "value" in how or "random" in callee or callee.endswith(".rvs"):
        return False                             # (a function held in a variable; a draw)
    return callee.split(".")[0] in PURE_CALLS or callee.startswith(PURE_MODULES)


def _paths(node, done, caught, error) -> list:
    """The `try` statement as the branches over what `attempt` found, in Python."""
    def compare(left, op, value):
        return ast.Compare(ast.Name(left, ast.Load()), [op], [ast.Constant(value)])
    prefix = [located(ast.If(compare(done, ast.Gt(), k), [stmt], []), stmt) for k, stmt in enumerate(node.body)]
    handled = []
    for i, h in reversed(list(enumerate(node.handlers))):
        arm = ([located(ast.Assign([ast.Name(h.name, ast.Store())], ast.Name(error, ast.Load())), h)]
               if h.name else []) + [_ReRaised(error).visit(copy.deepcopy(stmt)) for stmt in h.body]
        handled = [located(ast.If(compare(caught, ast.Eq(), i), arm, handled), h)]
    paths = [located(ast.If(compare(done, ast.Eq(), len(node.body)), node.body, prefix + handled), node)]
    if node.orelse:
        paths.append(located(ast.If(compare(done, ast.Eq(), len(node.body)), node.orelse, []), node.orelse[0]))
    return [ast.fix_missing_locations(p) for p in paths] + node.finalbody


class _ReRaised(ast.NodeTransformer):
    """A handler's bare `raise` as `raise error` (the exception it caught)."""

    def __init__(self, error: str):
        self.error = error

    def visit_Raise(self, node):
        if node.exc is None:
            return ast.copy_location(ast.Raise(ast.copy_location(ast.Name(self.error, ast.Load()), node), None), node)
        return node

    def visit_Try(self, node):
        return node                    # (a bare `raise` there re-raises that try's exception)

    def visit_FunctionDef(self, node):
        return node


def _counted(count: str, k: int, where):
    return located(ast.Assign([ast.Name(count, ast.Store())], ast.Constant(k)), where)
