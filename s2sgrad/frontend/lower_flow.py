"""Lowering of control flow: branches, loops, and the flags that stand for
`break`, `continue` and an early `return`.

Statements after one that may break, continue or return run under a guard
(`if not broke: ...`); a `for` loop that may stop early becomes a `while`
loop that also tests its flag; `a and b`, `a or b` and `a if c else b`
become branches, so that only the operand Python evaluates is computed.
"""
from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass

from .. import ir
from . import _MISSING, running

UNROLLED_AT_MOST = 64        # items of a sequence of functions a loop is unrolled over


class FlowLowering:
    """The control-flow half of `lower.Lowerer` (a mixin: it uses the Lowerer's helpers)."""

    def block(self, stmts) -> list:
        """Lower a list of statements; what follows a `break`, `continue` or `return`
        inside it runs only while no such flag is set."""
        saved, self.body = self.body, []
        ended = False
        for k, stmt in enumerate(stmts):
            self.ended = False
            self.stmt(stmt)
            if isinstance(stmt, (ast.Return, ast.Break, ast.Continue)) or self.ended:
                ended = True
                break                                  # the rest cannot run
            flags = self.exit_flags(stmt)
            if flags and k + 1 < len(stmts):
                stop = self.any_of(flags, stmt)
                self.body.append(ir.If(stop, (), tuple(self.block(stmts[k + 1:])), self.src.loc(stmts[k + 1])))
                break
        lowered, self.body = self.body, saved
        self.ended, self.block_ended = False, ended    # (block_ended: read by a branch known here, stmt_If)
        return lowered

    def exit_flags(self, stmt) -> list:
        """The flags `stmt` may set that stop the statements after it."""
        flags = []
        loop = self.loops[-1] if self.loops else None
        if self.exit is not None and _returns(stmt):
            flags.append(self.exit.returned)
        if loop is not None and not isinstance(stmt, (ast.For, ast.While)):
            if loop.broke and _contains(stmt, ast.Break):
                flags.append(loop.broke)
            if loop.skip and _contains(stmt, ast.Continue):
                flags.append(loop.skip)
        return flags

    def any_of(self, flags, node) -> ir.Var:
        atom = ir.Var(flags[0])
        for flag in flags[1:]:
            atom = self.op("or", (atom, ir.Var(flag)), node)
        return atom

    def flag(self, name: str, value: bool, node) -> None:
        self.op("id", (ir.Const(value),), node, target=name)
        self.defined.add(name)

    def stmt_If(self, node):
        cond = self.expr(node.test)
        if isinstance(cond, ir.Const) and not isinstance(cond.value, tuple):
            taken = node.body if cond.value else node.orelse         # known here: one branch
            self.body += self.block(taken)
            self.ended = self.block_ended       # it ends in a return, break or continue: the rest cannot run
            return
        before = dict(self.scope.held)
        body = self.block(node.body)
        after_body, self.scope.held = self.scope.held, before
        orelse = self.block(node.orelse)
        self.scope.held = {k: v for k, v in self.scope.held.items() if after_body.get(k, None) is v}
        self.body.append(ir.If(cond, tuple(body), tuple(orelse), self.src.loc(node)))   # (a function held
        # after it: the same one on both paths)

    def forget_held(self, loop) -> None:
        """Forget the functions held by names a loop assigns: at the start of a turn they hold
        what the turn before left (lowered once, the body stands for every turn)."""
        for n in ast.walk(loop):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                self.scope.held.pop(n.id, None)

    def stmt_Break(self, node):
        self.flag(self.loops[-1].broke, True, node)

    def stmt_Continue(self, node):
        self.flag(self.loops[-1].skip, True, node)

    def stmt_For(self, node):
        node = self.items_loop(node)
        targets = {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
        for n in (n for stmt in node.body for n in [stmt, *_own_nodes(stmt)]):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in targets:
                if isinstance(node.target, ast.Name) and not _reads(n.id, self.src.tree, node):
                    return self.stmt_For(_counted_by(node, self.fresh_local("turn")))   # `for _ in ...` twice
                raise self.unsupported(n, f"assigning to the loop variable `{n.id}` inside its loop is "
                                          "not supported", f"give the new value another name than `{n.id}`")
        if self.generator_loop(node) or self.unrolled(node):
            return
        self.forget_held(node)
        kind, parts = self.iteration(node.iter)
        loop = self.enter_loop(node)
        if kind == "range":
            start, stop, step = parts
        else:
            start, stop, step = ir.Const(0), self.op("common_length", parts, node.iter), ir.Const(1)
        counter = node.target.id if kind == "range" and isinstance(node.target, ast.Name) \
            and not loop.broke else self.namer.fresh("i" if kind == "range" else "k")
        self.defined.add(counter)
        saved, self.body = self.body, []
        if kind == "range" and counter != getattr(node.target, "id", None):
            self.assign_atom(node.target, ir.Var(counter), node)
        elif kind == "enumerate" or kind == "zip" or kind == "seq":
            self.bind_items(node.target, kind, parts, ir.Var(counter), node)
        head, self.body = self.body, saved
        body = head + self.loop_body(node.body, loop)
        if loop.broke:
            self.while_loop(node, counter, start, stop, step, body, loop)
        else:
            self.body.append(ir.For(counter, start, stop, step, tuple(body), self.src.loc(node)))
        self.forget_held(node)
        self.leave_loop(node, loop)

    def items_loop(self, node):
        """`for k, v in d.items():` as `for k in keys: v = d[k]` (the keys read once: no
        pair of a key and a differentiated value to build); else `node` itself."""
        it, target = node.iter, node.target
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "items"
                and not it.args and not it.keywords and isinstance(it.func.value, (ast.Name, ast.Attribute))
                and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[0], ast.Name)):
            return node
        keys = self.fresh_local("keys")
        self.op("dict_keys", (self.expr(it.func.value),), it, target=keys)
        self.defined.add(keys)
        key = target.elts[0]
        read = ast.Assign([target.elts[1]], ast.Subscript(it.func.value, ast.Name(key.id, ast.Load()), ast.Load()))
        for made in ast.walk(read):
            if not hasattr(made, "lineno") or made is read:
                ast.copy_location(made, it)
        loop = ast.For(key, ast.copy_location(ast.Name(keys, ast.Load()), it), [read] + node.body, node.orelse)
        return ast.copy_location(loop, node)

    def unrolled(self, node) -> bool:
        """`for f in (np.sin, relu): ...`, or over a module's list of functions (or of tuples
        holding some): each turn is lowered on its own with the loop's names bound to that
        turn's items, so the function each turn calls is known. False where the sequence is
        not known here or holds no function (an ordinary loop)."""
        items = self.static_items(node.iter)
        if items is None or not any(_holds_function(item, self.static_value) for item in items):
            return False
        if len(items) > UNROLLED_AT_MOST:
            raise self.unsupported(node.iter, f"a loop over {len(items)} functions is not supported (at most "
                                              f"{UNROLLED_AT_MOST})", "split the sequence")
        self.zipped_atoms = {}
        items = [self.evaluated(item, node) for item in items]     # (Python builds the sequence first)
        loop = self.enter_loop(node)
        for k, item in enumerate(items):
            saved, self.body = self.body, []
            self.bind_static(node.target, item, node)
            turn, self.body = self.body + self.loop_body(node.body, loop), saved
            if loop.broke and k:
                going = self.op("not", (ir.Var(loop.broke),), node)
                self.body.append(ir.If(going, tuple(turn), (), self.src.loc(node)))
            else:
                self.body += turn
            if loop.broke or loop.skip:
                self.forget_held(node)      # which turn ran last, or how far, is known when it runs
        self.leave_loop(node, loop)
        return True

    def static_items(self, node):
        """The items of a sequence known here, each ("node", its expression), ("value", the
        object, an expression reading it), ("tuple", items) or, for a sequence zipped with
        one known here, ("item", its expression, k); or None."""
        if isinstance(node, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in node.elts):
            return [("node", e) for e in node.elts]
        func = self.scope.static_object(node.func) if isinstance(node, ast.Call) and not node.keywords else None
        if func is zip or func is enumerate or func is reversed:
            parts = [self.static_items(a) for a in node.args]
            if not parts or all(p is None for p in parts) or func is not zip and (len(parts) > 1 or None in parts):
                return None
            if func is enumerate:
                return [("tuple", [("value", k, ast.Constant(k)), item]) for k, item in enumerate(parts[0])]
            if func is reversed:
                return parts[0][::-1]
            n = min(len(p) for p in parts if p is not None)     # (one not known here: read item by item)
            return [("tuple", [p[k] if p is not None else ("item", a, k) for p, a in zip(parts, node.args)])
                    for k in range(n)]
        if func is range and all(isinstance(a, ast.Constant) and type(a.value) is int for a in node.args):
            return [("value", k, ast.Constant(k)) for k in range(*(a.value for a in node.args))]
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            items, bounds = self.static_items(node.value), [node.slice.lower, node.slice.upper, node.slice.step]
            if items is not None and all(b is None or isinstance(b, ast.Constant) and type(b.value) is int
                                         or isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.USub)
                                         and isinstance(b.operand, ast.Constant) for b in bounds):
                return items[slice(*(None if b is None else ast.literal_eval(b) for b in bounds))]
            return None
        obj = self.scope.static_object(node) if isinstance(node, (ast.Name, ast.Attribute)) else _MISSING
        if isinstance(obj, (list, tuple)):
            if isinstance(node, ast.Name):
                self.src.note_contents(node.id)         # (a function appended to it: a new derivative)
            elif inspect.ismodule(self.scope.static_object(node.value)):     # `layers.ACTS`
                running.resolved_contents(vars(self.scope.static_object(node.value)), node.attr, obj)
            return [_value(v, ast.copy_location(ast.Subscript(node, ast.Constant(k), ast.Load()), node))
                    for k, v in enumerate(obj)]
        return None

    def evaluated(self, item, node):
        """`item` with the expressions of a sequence written here evaluated (in order, into
        names of their own), but for the functions, which are bound where they are called."""
        kind, *parts = item
        if kind == "tuple":
            return ("tuple", [self.evaluated(i, node) for i in parts[0]])
        if kind == "node" and isinstance(parts[0], (ast.Tuple, ast.List)) and \
                not any(isinstance(e, ast.Starred) for e in parts[0].elts):
            return ("tuple", [self.evaluated(("node", e), node) for e in parts[0].elts])
        if kind == "item":                       # a sequence zipped with one known here: read once
            seq, k = parts
            if id(seq) not in self.zipped_atoms:
                self.zipped_atoms[id(seq)] = self.expr(seq)
            return ("item", self.zipped_atoms[id(seq)], k)
        if kind == "node" and not isinstance(parts[0], ast.Lambda) and self.static_value(parts[0]) is _MISSING:
            atom = self.expr(parts[0])
            return ("atom", self.op("id", (atom,), node) if isinstance(atom, ir.Var) else atom)
        return item

    def bind_static(self, target, item, node) -> None:
        """Assign one item of a sequence known here to a loop's target."""
        kind, *parts = item
        if isinstance(target, (ast.Tuple, ast.List)) and kind not in ("atom", "item"):
            inner = parts[0] if kind == "tuple" else [_value(v, ast.copy_location(
                ast.Subscript(parts[1], ast.Constant(k), ast.Load()), node)) for k, v in enumerate(parts[0])] \
                if kind == "value" and isinstance(parts[0], (list, tuple)) else None
            if inner is None or len(inner) != len(target.elts):
                raise self.unsupported(target, "the items of this sequence cannot be unpacked into these names",
                                       "give as many names as each item holds")
            for elt, sub in zip(target.elts, inner):
                self.bind_static(elt, sub, node)
            return
        if kind == "item":                        # its k-th item, read at turn k as zip reads it
            return self.assign_atom(target, self.op("getitem", (parts[0], ir.Index((ir.Const(parts[1]),))), node),
                                    node)
        if kind == "atom":
            return self.assign_atom(target, parts[0], node)
        if not isinstance(target, ast.Name):
            raise self.unsupported(target, "a loop over functions binds them to names", "write `for f in ...`")
        if kind == "node" and isinstance(parts[0], ast.Lambda):
            name = self.namer.fresh("lambda_fn")
            self.stmt_FunctionDef(as_def(name, parts[0]))
            self.scope.held[target.id] = self.scope.nested[name]          # called where it is held
            return
        if kind == "node":
            return self.hold(target, parts[0], node)
        value, read = parts
        if isinstance(value, (bool, int, float, str, type(None))):
            return self.assign_atom(target, ir.Const(value), node)
        if callable(value) or inspect.ismodule(value):
            self.op("id", (ir.Var(self.bind(target.id, value)),), node, target=self.store(target))
            self.scope.held[target.id] = value
            return
        self.assign_atom(target, self.expr(read), node)

    def iteration(self, node):
        """What a `for` loop iterates over: ("range", (start, stop, step)), ("enumerate", (seq,)),
        ("zip", seqs) or ("seq", (seq,))."""
        obj = self.scope.static_object(node.func) if isinstance(node, ast.Call) and not node.keywords else None
        if obj in (range, enumerate, zip):
            args = tuple(self.expr(items_of(a) if self.generator_of(a) else a) for a in node.args) \
                if not (obj is enumerate and len(node.args) == 1
                                                                  and self.is_zip(node.args[0])) else ()
            if obj is range and 1 <= len(args) <= 3:
                return "range", ((ir.Const(0), args[0], ir.Const(1)) if len(args) == 1 else
                                 (args + (ir.Const(1),))[:3])
            if obj is enumerate and len(node.args) == 1 and self.is_zip(node.args[0]):
                return "enumerate", self.zipped(node.args[0])       # enumerate(zip(a, b))
            if obj is enumerate and len(args) == 1 or obj is zip and args:
                return obj.__name__, args
            raise self.unsupported(node, f"this form of `{obj.__name__}` is not supported",
                                   "range(stop), range(start, stop[, step]), enumerate(seq), zip(a, b, ...)")
        seq = self.expr(node)
        made = self.body[-1] if self.body else None
        if isinstance(made, ir.Assign) and made.target == getattr(seq, "name", None) and made.op == "opaque":
            seq = self.op("opaque", (seq,), node, None, (("callee", self.bind("list", list)),))   # an iterator
        return "seq", (seq,)

    def is_zip(self, node) -> bool:
        return isinstance(node, ast.Call) and not node.keywords and self.scope.static_object(node.func) is zip

    def zipped(self, node) -> tuple:
        """The sequences of `zip(a, b)` (lowered), or () when `node` is not a zip."""
        return tuple(self.expr(a) for a in node.args) if self.is_zip(node) and node.args else ()

    def bind_items(self, target, kind, seqs, counter, node):
        items = [self.op("getitem", (seq, ir.Index((counter,))), node) for seq in seqs]
        if kind == "enumerate" and len(items) > 1:        # enumerate(zip(a, b)): i, (x, y)
            inner = target.elts[1] if isinstance(target, ast.Tuple) and len(target.elts) == 2 else None
            if not isinstance(inner, ast.Tuple) or len(inner.elts) != len(items):
                raise self.unsupported(target, f"unpack enumerate(zip(...)) into a counter and a tuple of "
                                               f"{len(items)} names", "write `for i, (a, b) in ...`")
            self.assign_atom(target.elts[0], counter, node)
            for elt, item in zip(inner.elts, items):
                self.assign_atom(elt, item, node)
            return
        if kind == "enumerate":
            items = [counter] + items
        if kind == "seq":
            return self.assign_atom(target, items[0], node)
        if not isinstance(target, ast.Tuple) or len(target.elts) != len(items):
            raise self.unsupported(target, f"unpack {kind}(...) into {len(items)} names", "")
        for elt, item in zip(target.elts, items):
            self.assign_atom(elt, item, node)

    def enter_loop(self, node) -> "Loop":
        stops = _contains(node, ast.Break, loops=False) or any(isinstance(n, ast.Return) for n in ast.walk(node))
        loop = Loop(self.namer.fresh("broke") if stops else None,
                    self.namer.fresh("skip") if _contains(node, ast.Continue, loops=False) else None)
        if loop.broke:
            self.flag(loop.broke, False, node)
        self.loops.append(loop)
        return loop

    def leave_loop(self, node, loop) -> None:
        self.loops.pop()
        if node.orelse:
            orelse = self.block(node.orelse)
            if loop.broke:
                self.body.append(ir.If(ir.Var(loop.broke), (), tuple(orelse), self.src.loc(node.orelse[0])))
            else:
                self.body += orelse

    def loop_body(self, stmts, loop) -> list:
        saved, self.body = self.body, []
        if loop.skip:
            self.flag(loop.skip, False, stmts[0])
        lowered, self.body = self.body, saved
        return lowered + self.block(stmts)

    def while_loop(self, node, counter, start, stop, step, body, loop):
        """`for` with a `break`: a `while` that also stops on the flag."""
        if not (isinstance(step, ir.Const) and step.value):
            raise self.unsupported(node.iter, "a loop with `break` or `return` needs a constant, "
                                              "non-zero step", "write range(start, stop, 1)")
        self.op("id", (start,), node, target=counter)
        saved, self.body = self.body, []
        more = self.op("lt" if step.value > 0 else "gt", (ir.Var(counter), stop), node)
        going = self.op("not", (ir.Var(loop.broke),), node)
        cond = self.op("and", (more, going), node)
        test, self.body = self.body, saved
        step_up = ir.Assign(counter, "add", (ir.Var(counter), step), (), self.src.loc(node))
        self.body.append(ir.While(tuple(test), cond, tuple(body) + (step_up,), self.src.loc(node)))

    def expr_ListComp(self, node, target):
        """`[elt for x in xs if c]`: a list built by the loop it stands for, its names renamed
        apart from the function's (Python gives a comprehension a scope of its own)."""
        if any(gen.is_async for gen in node.generators):
            raise self.unsupported(node, "async comprehensions are not supported", "write a loop")
        renames = {n.id: self.namer.fresh(n.id) for gen in node.generators for n in ast.walk(gen.target)
                   if isinstance(n, ast.Name)}
        node = _Renamed(renames).comprehension(node)
        items = self.fresh_local("items")       # (never the target: `xs = [.. for x in xs]`)
        self.scope.locals |= set(renames.values())
        self.scope.assigned |= set(renames.values())
        self.op("list", (), node, target=items)
        self.defined.add(items)
        append = ast.Attribute(ast.Name(items, ast.Load()), "append", ast.Load())
        body = [ast.Expr(ast.Call(append, [node.elt], []))]
        for gen in reversed(node.generators):
            for cond in reversed(gen.ifs):
                body = [ast.If(cond, body, [])]
            body = [ast.For(gen.target, gen.iter, body, [])]
        for made in _made_nodes(body[0], node):
            ast.copy_location(made, node)
        self.stmt(body[0])
        if target is not None:
            return self.op("id", (ir.Var(items),), node, target)
        return ir.Var(items)

    expr_GeneratorExp = expr_ListComp       # consumed whole where it is used: sum(...), max(...)

    def stmt_While(self, node):
        self.forget_held(node)
        loop = self.enter_loop(node)
        saved, self.body = self.body, []
        cond = self.expr(node.test)
        test, self.body = self.body, saved
        if loop.broke:         # after a `break`, Python does not evaluate the test again
            going, result, loc = self.fresh_temp("going"), self.fresh_temp("going_on"), self.src.loc(node)
            run_test = tuple(test) + (ir.Assign(result, "id", (cond,), (), loc),)
            stop = (ir.Assign(result, "id", (ir.Const(False),), (), loc),)
            test = [ir.Assign(going, "not", (ir.Var(loop.broke),), (), loc),
                    ir.If(ir.Var(going), run_test, stop, loc)]
            cond = ir.Var(result)
        body = self.loop_body(node.body, loop)
        self.body.append(ir.While(tuple(test), cond, tuple(body), self.src.loc(node)))
        self.forget_held(node)
        self.leave_loop(node, loop)

    def expr_IfExp(self, node, target):
        cond = self.expr(node.test)
        if isinstance(cond, ir.Const) and not isinstance(cond.value, tuple):     # known here: one arm
            return self.expr(node.body if cond.value else node.orelse, target)
        result = target or self.fresh_temp("choice")
        arms = []
        for branch in (node.body, node.orelse):
            saved, self.body = self.body, []
            self.expr_into(branch, result, node)
            arms.append(tuple(self.body))
            self.body = saved
        self.body.append(ir.If(cond, arms[0], arms[1], self.src.loc(node)))
        return ir.Var(result)

    def expr_BoolOp(self, node, target):
        """`a and b`: b only when a is true; the value is the last one evaluated."""
        result = target or self.fresh_temp("either" if isinstance(node.op, ast.Or) else "both")
        self.expr_into(node.values[0], result, node)
        self.short_circuit(node.values[1:], result, isinstance(node.op, ast.And), node)
        return ir.Var(result)

    def short_circuit(self, rest, result, is_and, node) -> None:
        if not rest:
            return
        saved, self.body = self.body, []
        self.expr_into(rest[0], result, node)
        self.short_circuit(rest[1:], result, is_and, node)
        more, self.body = tuple(self.body), saved
        self.body.append(ir.If(ir.Var(result), more if is_and else (), () if is_and else more,
                               self.src.loc(node)))


def located(made, where):
    """`made`, and the nodes s2sgrad made inside it, at the place of `where` (the user's own
    nodes inside it keep theirs): for located errors."""
    for n in ast.walk(made):
        if not hasattr(n, "lineno") and "lineno" in n._attributes:
            ast.copy_location(n, where)
    return made


def items_of(call: ast.Call) -> ast.ListComp:
    """`[item for item in call]`, located at the call (a generator, or a dict's values, read whole)."""
    item = ast.Name("item", ast.Store())
    return located(ast.ListComp(ast.Name("item", ast.Load()), [ast.comprehension(item, call, [], 0)]), call)


def as_def(name: str, node: ast.Lambda) -> ast.FunctionDef:
    """`name = lambda args: body` as the `def` it stands for."""
    extra = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
    body = [ast.copy_location(ast.Return(node.body), node.body)]
    return ast.copy_location(ast.FunctionDef(name, node.args, body, [], None, None, **extra), node)


def _value(value, read) -> tuple:
    """An item of a sequence of the module: ("tuple", items) for a tuple, else ("value", ...)."""
    if isinstance(value, tuple):
        return ("tuple", [_value(v, ast.copy_location(ast.Subscript(read, ast.Constant(k), ast.Load()), read))
                          for k, v in enumerate(value)])
    return ("value", value, read)


def _holds_function(item, static) -> bool:
    """Whether an item of a sequence known here is or holds a function (`static` tells what
    an expression names)."""
    kind, *parts = item
    if kind == "tuple":
        return any(_holds_function(i, static) for i in parts[0])
    if kind == "node" and isinstance(parts[0], (ast.Tuple, ast.List)):
        return any(_holds_function(("node", e), static) for e in parts[0].elts)
    value = static(parts[0]) if kind == "node" else parts[0]
    return isinstance(parts[0], ast.Lambda) or callable(value) and not isinstance(value, type)


def _reads(name: str, *trees) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
               for tree in trees for n in ast.walk(tree))


def _counted_by(loop: ast.For, name: str) -> ast.For:
    """`loop` with its variable, which nothing reads, renamed (`for _ in range(n)` inside
    another `for _`)."""
    target = ast.copy_location(ast.Name(name, ast.Store()), loop.target)
    return ast.copy_location(ast.For(target, loop.iter, loop.body, loop.orelse), loop)


class _Renamed(ast.NodeTransformer):
    """A comprehension with its own names (the targets of its `for`s) renamed, everywhere but
    in the first iterable, which Python evaluates in the enclosing scope."""

    def __init__(self, renames: dict):
        self.renames = renames

    def comprehension(self, node):
        import copy
        node = copy.deepcopy(node)
        first = node.generators[0].iter
        node.generators[0].iter = None
        node = self.visit(node)
        node.generators[0].iter = first
        return node

    def visit_Name(self, node):
        if node.id in self.renames:
            return ast.copy_location(ast.Name(self.renames[node.id], node.ctx), node)
        return node


def _made_nodes(stmt, comprehension) -> list:
    """The nodes of the loop a comprehension became that are not the user's own (they take
    the comprehension's place in the source, for located errors)."""
    own = {id(n) for n in ast.walk(comprehension)}
    return [n for n in ast.walk(stmt) if id(n) not in own and hasattr(n, "_attributes") and n._attributes]


@dataclass
class Exit:
    result: str              # the value an early `return` set
    returned: bool | str     # the flag it set


@dataclass
class Loop:
    broke: str | None        # set by `break` (or a `return` inside the loop)
    skip: str | None         # set by `continue`


def _returns(stmt) -> bool:
    """Whether a statement holds a `return` of the function it is in."""
    return isinstance(stmt, ast.Return) or not isinstance(stmt, ast.FunctionDef) and \
        any(isinstance(n, ast.Return) for n in _own_nodes(stmt))


def _own_nodes(node):
    """The nodes of a function's body, not those of functions defined inside it."""
    todo = list(ast.iter_child_nodes(node))
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(n))


def _contains(node, kind, loops=True) -> bool:
    """Whether `node` holds a `kind` statement that belongs to the loop around it
    (not to a loop nested inside it)."""
    todo = list(ast.iter_child_nodes(node)) if not loops or isinstance(node, (ast.For, ast.While)) else [node]
    while todo:
        n = todo.pop()
        if isinstance(n, kind):
            return True
        if not isinstance(n, (ast.For, ast.While, ast.FunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(n))
    return False
