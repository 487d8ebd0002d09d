"""Loops over the user's generator functions, lowered as Python runs them.

    def layers(params, shapes):             for W, b in layers(params, shapes):
        i = 0                                   x = np.tanh(x @ W + b)
        for m, n in shapes:
            W = params[i:i + m * n].reshape(m, n)
            b = params[i + m * n:i + m * n + n]
            i += m * n + n
            yield W, b

Python runs the generator's body and, at each `yield`, one turn of the loop's
body, then goes on in the generator. So the loop is lowered as the generator's
body (its names made its own, its parameters given the call's arguments), each
`yield v` standing for `W, b = v` followed by the loop's body. `break`,
`continue` and `return` in the loop's body, and `return` or a `yield` used as a
value in the generator, are refused at their line.
"""
from __future__ import annotations

import ast
import copy
import inspect

from .. import frontend, ir
from . import fence, _MISSING
from .lower_flow import _own_nodes, located


NESTED_AT_MOST = 4          # loops over one generator inside each other (more: it loops over itself)


class GeneratorLowering:
    """The generators part of `lower.Lowerer` (a mixin: it uses the Lowerer's helpers)."""

    def generator_of(self, call):
        """(the function's tree, the function) when `call` calls a generator function of the
        user's written in this file, else None."""
        if not isinstance(call, ast.Call):
            return None
        func = call.func
        if isinstance(func, ast.Name) and func.id in self.scope.nested:
            tree = self.scope.nested[func.id]
            return (tree, tree) if _yields(tree) else None
        obj = self.scope.static_object(func)
        if obj is _MISSING or not inspect.isgeneratorfunction(obj):
            return None
        source = frontend.parse(obj)
        if (source.file, source.indent) != (self.src.file, self.src.indent):
            raise self.unsupported(call, f"`{ast.unparse(func)}` is a generator written in another module, "
                                         "which s2sgrad does not follow", "define it beside the function that "
                                                                          "loops over it, or return a list")
        return source.tree, obj

    def generator_loop(self, node) -> bool:
        """`for target in gen(args):` over a generator function of the user's, lowered as the
        generator's body with the loop's body at each `yield` (see the module docstring)."""
        call, counter = node.iter, None
        if isinstance(call, ast.Call) and len(call.args) == 1 and not call.keywords and \
                self.scope.static_object(call.func) is enumerate and self.generator_of(call.args[0]):
            call, counter = call.args[0], self.namer.fresh("k")         # enumerate(gen(...)): a count beside
        found = self.generator_of(call)
        if found is None:
            return False
        tree, callee = found
        if sum(c is callee for c in self.generating) >= NESTED_AT_MOST:
            raise self.unsupported(call, "a generator that loops over itself is not supported",
                                   "build the values with a loop or a recursive function returning a list")
        self.refuse_shadowed_globals(tree, callee, call)
        fence.check(frontend.Source(self.src.fn, tree, self.src.file, self.src.indent, self.src.lines,
                                    self.src.closure), generator=True)
        for n in (n for stmt in node.body for n in [stmt, *_own_nodes(stmt)]):
            if isinstance(n, (ast.Break, ast.Continue, ast.Return)) and _belongs(n, node):
                raise self.unsupported(n, f"`{type(n).__name__.lower()}` in a loop over a generator is not "
                                          "supported", "loop over a list (`list(gen(...))`) instead")
        atoms = self.inline_args(call, tree, callee)
        renames = {name: self.namer.fresh(name) for name in sorted(_locals(tree))}
        body = _spliced(_Renamed(renames, self).body(tree), node, self, counter)
        self.scope.locals |= set(renames.values())
        self.scope.assigned |= set(renames.values())
        for n in (n for stmt in body for n in ast.walk(stmt)):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in renames.values():
                self.scope.stores[n.id] += 1
        params = [a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]
        for param, atom in zip(params, atoms):
            self.op("id", (atom,), call, target=renames[param])
            self.defined.add(renames[param])
            held = self.scope.bindings.get(getattr(atom, "name", None))
            if callable(held):
                self.scope.held[renames[param]] = held            # a function the call passes
        if counter is not None:
            self.op("id", (ir.Const(0),), node.iter, target=counter)
            self.scope.locals.add(counter)
            self.defined.add(counter)
        self.generating += (callee,)
        try:
            self.body += self.block(body)
        finally:
            self.generating = self.generating[:-1]
        self.body += self.block(node.orelse)                    # (no `break`: the else always runs)
        return True

    def refuse_shadowed_globals(self, tree, callee, call) -> None:
        """Refuse a module-level generator that reads a name (of its module, or of the function
        that made it) meaning something else here: spliced in, it would read this one."""
        if isinstance(callee, ast.FunctionDef):
            return                                  # (a generator defined here reads this function's names)
        source, mine = frontend.parse(callee), _locals(tree)
        for n in _own_nodes(tree):
            if isinstance(n, ast.Name) and n.id not in mine and not self.means_the_same(n.id, source):
                raise self.unsupported(call, f"the generator `{tree.name}` reads `{n.id}`, which means something "
                                             "else here", f"pass `{n.id}` to it as an argument")


def _yields(tree) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(tree))


def _belongs(stmt, loop) -> bool:
    """Whether a break/continue/return of the loop's body acts on that loop (not on a loop
    nested in it, for break and continue)."""
    if isinstance(stmt, ast.Return):
        return True
    for n in ast.walk(loop):
        if n is not loop and isinstance(n, (ast.For, ast.While)) and any(m is stmt for m in ast.walk(n)):
            return False
    return True


def _locals(tree) -> set:
    """The generator's own names: its parameters and what it assigns."""
    spec = tree.args
    names = {a.arg for a in spec.posonlyargs + spec.args + spec.kwonlyargs}
    for n in _own_nodes(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, ast.FunctionDef):
            names.add(n.name)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
    return names


class _Renamed(ast.NodeTransformer):
    """A generator's body with its own names renamed apart from the caller's."""

    def __init__(self, renames: dict, lowerer):
        self.renames, self.lowerer = renames, lowerer

    def body(self, tree) -> list:
        stmts = copy.deepcopy(tree.body)
        if stmts and isinstance(stmts[-1], ast.Return) and stmts[-1].value is None:
            stmts = stmts[:-1]                      # a bare `return` at the end ends it as the end does
        return [self.visit(s) for s in stmts]

    def visit_Name(self, node):
        if node.id in self.renames:
            return ast.copy_location(ast.Name(self.renames[node.id], node.ctx), node)
        return node

    def visit_FunctionDef(self, node):
        return self._shadowing(node, node.args) or self.generic_visit(ast.copy_location(
            ast.FunctionDef(self.renames.get(node.name, node.name), node.args, node.body, node.decorator_list,
                            node.returns, node.type_comment, **_type_params(node)), node))

    def visit_ExceptHandler(self, node):
        node = self.generic_visit(node)
        if node.name in self.renames:
            node.name = self.renames[node.name]
        return node

    def visit_Lambda(self, node):
        return self._shadowing(node, node.args) or self.generic_visit(node)

    def _shadowing(self, node, args):
        names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        if names & set(self.renames):
            raise self.lowerer.unsupported(node, "a function defined in a generator reuses one of the "
                                                 "generator's names for a parameter", "rename the parameter")
        return None

    def visit_Return(self, node):
        raise self.lowerer.unsupported(node, "`return` inside a generator that is looped over is not supported",
                                       "let the generator run to its end")


def _type_params(node) -> dict:
    return {"type_params": node.type_params} if "type_params" in ast.FunctionDef._fields else {}


def _spliced(stmts, loop, lowerer, counter=None) -> list:
    """`stmts` with each `yield v` statement replaced by `target = v` and the loop's body
    (with a `counter`: `target = (counter, v)`, the body, then the counter counted up)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Yield):
            value = stmt.value.value or ast.copy_location(ast.Constant(None), stmt)
            if counter is not None:
                value = ast.copy_location(ast.Tuple([located(ast.Name(counter, ast.Load()), stmt), value], ast.Load()),
                                          stmt)
            out.append(ast.copy_location(ast.Assign([loop.target], value), stmt))
            out += loop.body
            if counter is not None:
                out.append(located(ast.AugAssign(ast.Name(counter, ast.Store()), ast.Add(), ast.Constant(1)), stmt))
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.YieldFrom) or \
                any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _expressions(stmt)):
            raise lowerer.unsupported(stmt, "a `yield` used as a value (or `yield from`) is not supported",
                                      "write `yield v` on a line of its own")
        if isinstance(stmt, ast.Try) and any(isinstance(n, ast.Yield) for n in ast.walk(stmt)):
            raise lowerer.unsupported(stmt, "a `yield` inside a `try` of the generator is not supported (the "
                                            "loop's body would run inside it)", "yield after the `try`")
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, ast.FunctionDef):
                stmt = copy.copy(stmt)
                setattr(stmt, field, _spliced(getattr(stmt, field), loop, lowerer, counter))
        out.append(stmt)
    return out


def _expressions(stmt):
    """The expression nodes of a statement itself (not of the statements nested in it)."""
    for field, value in ast.iter_fields(stmt):
        if field in ("body", "orelse", "finalbody", "handlers"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ast.AST):
                yield from ast.walk(item)
