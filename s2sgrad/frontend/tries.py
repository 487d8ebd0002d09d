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

So the body runs twice, the second time on the same values: it must be
simple statements (assignments, calls, a `return`), since a loop or branch
that an exception stops half-way leaves what it did so far, and it must not
print or draw random numbers (they would happen twice). Both are refused at
their line.
"""
from __future__ import annotations

import ast
import types

from .. import ir
from ..errors import UnsupportedSyntaxError
from .lower_flow import _own_nodes

SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return, ast.Pass)


class TryLowering:
    """The `try` part of `lower.Lowerer` (a mixin: it uses the Lowerer's helpers)."""

    def stmt_Try(self, node):
        for stmt in node.body:
            if not isinstance(stmt, SIMPLE):
                raise self.unsupported(stmt, "only simple statements (assignments, calls, `return`) are supported "
                                             "in a `try` body: s2sgrad runs it first to see how far it gets",
                                       "move the loop or branch into a function and call it here")
        names = self.read_in(node)
        attempt = self.attempt(node, names)
        args = tuple(self.opaque_value(ast.copy_location(ast.Name(n, ast.Load()), node)) for n in names)
        start = len(self.body)
        result = self.op("opaque", args, node, self.fresh_temp("tried"),
                         (("callee", self.bind("attempt", attempt)), ("piecewise", True)))
        done, caught, error = (self.fresh_local(base) for base in ("done", "caught", "error"))
        for i, name in enumerate((done, caught, error)):
            self.op("getitem", (result, ir.Index((ir.Const(i),))), node, target=name)
            self.defined.add(name)
        self.block_of(_paths(node, done, caught, error))
        self.refuse_effects(node, start)

    def block_of(self, stmts) -> None:
        self.body += self.block(stmts)

    def read_in(self, node) -> list:
        """The variables of the function the `try` statement reads (passed to `attempt`)."""
        read = []
        for n in ast.walk(ast.Module(node.body + [ast.Expr(h.type) for h in node.handlers if h.type], [])):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in read and (
                    n.id in self.defined or n.id in self.src.closure or self.scope.enclosing(n.id)):
                read.append(n.id)
        return read

    def attempt(self, node, names):
        """The function that runs the body as Python does: (statements completed, the
        handler that caught, the exception)."""
        count = "_s2s_done"
        body = []
        for k, stmt in enumerate(node.body):
            if isinstance(stmt, ast.Return):
                body += [_located(ast.Expr(stmt.value), stmt), _counted(count, len(node.body), stmt)]
                break
            body += [stmt, _counted(count, k + 1, stmt)]
        handlers = [_located(ast.ExceptHandler(h.type or ast.Name("BaseException", ast.Load()), "_s2s_error", [
            _located(ast.Return(ast.Tuple([ast.Name(count, ast.Load()), ast.Constant(i),
                                           ast.Name("_s2s_error", ast.Load())], ast.Load())), h)]), h)
            for i, h in enumerate(node.handlers)]
        tail = ast.Return(ast.Tuple([ast.Name(count, ast.Load()), ast.Constant(-1), ast.Constant(None)], ast.Load()))
        made = ast.FunctionDef(
            "attempt", ast.arguments([], [ast.arg(n) for n in names], None, [], [], None, []),
            [_counted(count, 0, node), _located(ast.Try(body, handlers, [], []), node), _located(tail, node)],
            [], None, None, **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}))
        module = ast.fix_missing_locations(ast.Module([_located(made, node)], []))
        code = compile(module, self.src.file, "exec")
        function_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
        return types.FunctionType(function_code, getattr(self.src.fn, "__globals__", {}), "attempt")

    def refuse_effects(self, node, start: int) -> None:
        """Refuse a print, a random draw or another call s2sgrad runs unread in the `try`
        body (lowered from `start`, after `attempt`): the body runs twice."""
        lines = {n.lineno for stmt in node.body for n in [stmt, *_own_nodes(stmt)] if hasattr(n, "lineno")}
        for stmt in ir.walk(self.body[start + 1:]):
            if isinstance(stmt, ir.Assign) and stmt.op in ir.EFFECTS and stmt.loc is not None \
                    and stmt.loc.line in lines and _effectful(stmt):
                raise UnsupportedSyntaxError("a call s2sgrad runs unread (a print, a random draw, ...) in a `try` "
                                             "body is not supported: s2sgrad runs the body twice", stmt.loc,
                                             hint="move it out of the `try`")


EFFECTFUL = ("print", "logging", "logger", "warn", "random")   # what says something, or draws
DRAWS = {"randn", "rand", "normal", "uniform", "standard_normal", "choice", "shuffle", "permutation",
         "integers", "randint", "random", "binomial", "poisson", "gamma", "beta", "exponential",
         "multivariate_normal", "info", "debug", "warning", "error", "write"}


def _effectful(stmt: ir.Assign) -> bool:
    """Whether a call run unread may do something twice that Python does once (print, log,
    warn, draw a random number); a pure library call (`np.column_stack`) may run twice."""
    how = dict(stmt.params)
    if "statement" in how:
        return True
    words = str(how.get("callee", "")).lower().replace(".", " ").split() + [str(how.get("method", "")).lower()]
    return "value" in how or any(w.startswith(EFFECTFUL) or w in DRAWS for w in words)


def _paths(node, done, caught, error) -> list:
    """The `try` statement as the branches over what `attempt` found, in Python."""
    def name(n):
        return ast.Name(n, ast.Load())

    def compare(left, op, value):
        return ast.Compare(name(left), [op], [ast.Constant(value)])
    completed = node.body + node.orelse
    prefix = [_located(ast.If(compare(done, ast.Gt(), k), [stmt], []), stmt) for k, stmt in enumerate(node.body)]
    handled = []
    for i, h in reversed(list(enumerate(node.handlers))):
        arm = ([_located(ast.Assign([ast.Name(h.name, ast.Store())], name(error)), h)] if h.name else []) + h.body
        handled = [_located(ast.If(compare(caught, ast.Eq(), i), arm, handled), h)]
    branch = _located(ast.If(compare(done, ast.Eq(), len(node.body)), completed, prefix + handled), node)
    return [ast.fix_missing_locations(branch)] + node.finalbody


def _counted(count: str, k: int, where):
    return _located(ast.Assign([ast.Name(count, ast.Store())], ast.Constant(k)), where)


def _located(made, where):
    """`made` (and the nodes s2sgrad made inside it) at the place of `where`."""
    for n in ast.walk(made):
        if not hasattr(n, "lineno") and "lineno" in n._attributes:
            ast.copy_location(n, where)
    return made
