"""Lowering: a Python syntax tree to the IR, in three-address form.

Every expression becomes a chain of `Assign`s with one primitive each;
temporaries are named after what they hold (`sin_x`, `matmul_x_w`). Names
are resolved by the object they refer to, so `np.sin`, `numpy.sin` and a
`sin` imported from numpy all lower to the op `np.sin`. The fence has already
rejected what is not supported; what remains unknown here (a call with no
rule, a keyword that is not a constant) is reported at the user's line.

A rule's own source is lowered the same way (templates.py).
"""
from __future__ import annotations

import ast
import functools
import inspect
import operator

import numpy as np

from .. import errors, frontend, ir, rules
from . import fence
from ..ir import aliasing, names
from ..ir.names import RESERVED, Namer
from ..rules.methods import ATTRIBUTES, COPIED, METHODS, PACKED
from .inline import CallLowering
from .generators import GeneratorLowering
from .tries import TryLowering
from .opaque import MUTATING_METHODS, OpaqueLowering, library
from .scope import Scope
from .lower_flow import Exit, FlowLowering, _own_nodes, _returns, as_def, items_of, located
from ..errors import NoRuleError, UndefinedNameError, UnsupportedSyntaxError
from . import _MISSING

SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
           ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
           ast.BitAnd: "&", ast.BitXor: "^", ast.USub: "-", ast.UAdd: "+", ast.Not: "not",
           ast.Invert: "~"}
BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
          ast.Pow: "pow", ast.MatMult: "matmul", ast.Mod: "mod", ast.FloorDiv: "floordiv"}
STATIC_TYPES = (bool, int, float, complex, str, type, np.dtype, type(None))
FLOATING = {"np.sin", "np.cos", "np.tan", "np.exp", "np.log", "np.sqrt", "np.tanh", "np.sinh", "np.cosh",
            "np.arctan", "np.arcsin", "np.arccos", "np.log1p", "np.expm1", "np.log2", "np.log10", "np.exp2",
            "np.mean", "np.linalg.inv", "np.linalg.solve"}   # ops whose result holds floats, whatever they are given
COMPARE = {ast.Gt: "gt", ast.GtE: "ge", ast.Lt: "lt", ast.LtE: "le", ast.Eq: "eq", ast.NotEq: "ne"}
def lower(source: frontend.Source, namer: Namer | None = None, keep_calls: bool = True) -> ir.Function:
    """Lower a parsed user function to IR (checked by the fence first); without
    `keep_calls`, every call to the user's functions but a recursive one is inlined."""
    fence.check(source)
    return Lowerer(source, namer, inlining=(source.fn,), keep_calls=keep_calls).function()


class Lowerer(FlowLowering, CallLowering, GeneratorLowering, TryLowering, OpaqueLowering):
    """Lowers one function: statements and expressions here, control flow in lower_flow,
    calls in inline, code run as it is in opaque; what each name stands for is its
    Scope's (scope.py)."""

    def __init__(self, source, namer=None, template_mode=False, outer=None, inlining=(), keep_calls=True):
        self.src, self.template_mode = source, template_mode
        self.keep_calls = keep_calls    # a call to a function that stands alone stays a call (its vjp)
        self.inlining = inlining        # the functions being inlined into each other, outermost first
        self.scope = Scope(source, outer)    # (outer: the scope of the function this one is written in)
        tree = source.tree
        clash = sorted(self.scope.locals & RESERVED) if not template_mode else []
        if clash:
            node = next(n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == clash[0]
                        or isinstance(n, ast.arg) and n.arg == clash[0])
            raise self.unsupported(node, f"the name `{clash[0]}` is one the generated code uses for "
                                         "itself", f"rename your variable `{clash[0]}`")
        self.namer = namer or Namer()
        self.namer.taken |= self.scope.locals | RESERVED | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        self.defined, self.body, self.temps = set(self.scope.params), [], set()
        self.exit = None             # the flags of an early `return`, when there is one
        self.loops = []              # the flags of the loops being lowered, innermost last
        self.augmented = []          # statements written by `x op= v` (in place for arrays)
        self.packed = {}             # temporaries holding a tuple built here: their items
        self.partials = {}           # names given functools.partial(g, ...): the call that made them
        self.returned = []           # per `return` lowered: the function it returns, or _MISSING
        self.ended = False           # the statement just lowered ends its block (a branch known here that returns)
        self.block_ended = False     # the block just lowered ended so
        self.zipped_atoms = {}       # a loop unrolled over functions zipped with a sequence: the sequence read
        self.generating = ()         # the generators being spliced into loops, outermost first
        self.items_of_tuples = {}    # name -> tuple_length(name), for the names it is not 0 for
        self.fields = {}             # a name given a named tuple an op returns -> its fields (Op.fields)
        self.tuple_ops = {}          # a name an op returning a tuple assigned last -> that op
        self.defining = {}           # a name -> the statements that assign it a value (not an item)
        self.item_names = {}         # a tuple name reassigned -> the variables of its items
        self.unpacking = None        # a call whose tuple result is unpacked into names

    # -- the function and its statements --------------------------------

    def function(self) -> ir.Function:
        stmts = self.src.tree.body
        if stmts and _is_docstring(stmts[0]):
            stmts = stmts[1:]
        last = stmts[-1] if stmts else self.src.tree
        if self.template_mode:
            return ir.Function(self.src.tree.name, tuple(self.scope.params), tuple(self.block(stmts)))
        if not isinstance(last, ast.Return) and not any(_returns(s) for s in stmts):
            raise self.unsupported(last, "the function must return a value", "return the output")
        if any(_returns(s) for s in stmts[:-1]) or not isinstance(last, ast.Return):
            self.exit = Exit(self.namer.fresh("result"), self.namer.fresh("returned"))
            self.op("id", (ir.Const(None),), self.src.tree, target=self.exit.result)
            self.op("id", (ir.Const(False),), self.src.tree, target=self.exit.returned)
            self.defined |= {self.exit.result, self.exit.returned}
        body = self.body + self.block(stmts)
        if self.exit is not None:
            result = ir.Var(self.exit.result)
            if len(self.inlining) < 2 and self.exit.result in self.packed:   # outputs stay items
                result = self.packed[self.exit.result]
            body.append(ir.Return(result, self.src.loc(last)))
        writes = self.augmented + [s for s in ir.walk(body) if isinstance(s, ir.Assign) and s.op == "setitem"]
        aliasing.check_writes(body, writes)
        return ir.Function(self.src.tree.name, tuple(self.scope.params), tuple(body),
                           self.src.loc(self.src.tree), frozenset(self.temps),
                           frozenset(self.scope.free | set(self.scope.bindings)), bindings=dict(self.scope.bindings))

    def stmt(self, node) -> None:
        handler = getattr(self, "stmt_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(node, f"`{type(node).__name__}` statements are not supported",
                                   "rewrite it with assignments and NumPy calls")
        handler(node)

    def stmt_Pass(self, node):
        pass

    stmt_Import = stmt_ImportFrom = stmt_Pass     # their names were bound when the function was read (scope.py)

    def stmt_Expr(self, node):
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append" \
                and isinstance(call.func.value, ast.Name) and call.func.value.id in self.scope.locals \
                and len(call.args) == 1 and not call.keywords:
            items = self.read_name(call.func.value)
            if len(self.inlining) > 1 and items.name in self.scope.params:
                raise self.unsupported(node, "appending to a list the caller passed in is not "
                                             "supported", "build the list here and return it")
            self.op("append", (items, self.expr(call.args[0])), node, target=items.name)
            self.augmented.append(self.body[-1])   # a write: names sharing the list would see it
            return
        if isinstance(call, ast.Call):
            return self.effect(node)
        raise self.unsupported(node, f"the value of the expression `{ast.unparse(node.value)}` is thrown "
                                     "away; a statement with no effect on the result is not supported",
                               "remove the line, or assign its value")

    def stmt_Return(self, node):
        if node.value is None:
            raise self.unsupported(node, "the function must return a value", "return the output")
        if isinstance(node.value, ast.Lambda):             # return lambda v: ...: the def it stands for
            name = self.namer.fresh("lambda_fn")
            self.stmt_FunctionDef(as_def(name, node.value))
            node = ast.copy_location(ast.Return(ast.copy_location(ast.Name(name, ast.Load()), node.value)), node)
        own = isinstance(node.value, ast.Name) and self.scope.own_defs.get(node.value.id)
        self.returned.append(own or self.static_value(node.value))
        if own:                                           # a function defined here (a closure), returned
            return self.return_function(node, ir.Const(None))
        if self.returned[-1] is not _MISSING:
            return self.return_function(node)
        if self.exit is not None:
            kinds = {isinstance(n.value, ast.Tuple) for n in _own_nodes(self.src.tree)
                     if isinstance(n, ast.Return)}
            if len(kinds) > 1:
                raise self.unsupported(node, "this function returns a tuple on some paths and one "
                                             "value on others", "return the same kind of value")
            if isinstance(node.value, ast.Tuple):
                self.return_items(node)
            else:
                self.expr_into(node.value, self.exit.result, node)
            self.flag(self.exit.returned, True, node)
            for loop in self.loops:
                self.flag(loop.broke, True, node)
            return
        if isinstance(node.value, ast.Tuple) and (self.template_mode or len(self.inlining) < 2):
            value = tuple(self.expr(e) for e in node.value.elts)   # outputs stay items
        else:
            value = self.expr(node.value)
            if len(self.inlining) < 2 and getattr(value, "name", None) in self.packed:
                value = self.packed[value.name]          # `return g(x)`, g returning a tuple
        self.body.append(ir.Return(value, self.src.loc(node)))

    def return_function(self, node, atom=None) -> None:
        """`return np.tanh`: the function, as a value; the caller that assigns the result
        holds it (`act = pick("tanh")`: inline) where every `return` lowered gives it (a
        function defined here is no value: None stands for it)."""
        atom = atom or self.opaque_value(node.value)
        if self.exit is None:
            self.body.append(ir.Return(atom, self.src.loc(node)))
            return
        self.op("id", (atom,), node, target=self.exit.result)
        self.flag(self.exit.returned, True, node)
        for loop in self.loops:
            self.flag(loop.broke, True, node)

    def return_items(self, node) -> None:
        """An inlined function's early `return a, b`: each item into a variable of its own,
        so the caller unpacks them at compile time whichever return ran."""
        result, size = self.exit.result, len(node.value.elts)
        items = self.packed.setdefault(result, tuple(ir.Var(self.namer.fresh(f"{result}_{i}"))
                                                     for i in range(size)))
        if len(items) != size:
            raise self.unsupported(node.value, "the returns of this function give tuples of "
                                               "different lengths", "return the same number of values")
        for item, elt in zip(items, node.value.elts):
            self.expr_into(elt, item.name, node)

    def stmt_Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.value, ast.Lambda) and isinstance(node.targets[0], ast.Name):
            return self.stmt_FunctionDef(as_def(node.targets[0].id, node.value))     # f = lambda x: ...
        if isinstance(node.value, ast.Call) and self.scope.static_object(node.value.func) is map:
            raise self.unsupported(node.value, "a map object kept in a variable runs out once read, which "
                                               "s2sgrad does not follow", "keep the list: `list(map(...))`")
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and self.is_partial(node.value):
            if self.scope.stores[node.targets[0].id] > 1:
                raise self.unsupported(node, f"`{node.targets[0].id}` is given a functools.partial and assigned "
                                             "again", "give each partial a name of its own")
            self.partials[node.targets[0].id] = node.value       # f = partial(g, a): f(b) is g(a, b)
            return None
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and \
                self.static_value(node.value) is not _MISSING:
            return self.hold(node.targets[0], node.value, node)          # act = np.tanh
        if len(node.targets) == 1 and _pairs(node.targets[0], node.value) and \
                any(self.static_value(v) is not _MISSING for v in node.value.elts):
            return self.assign_pairs(node.targets[0], node.value, node)          # act, out = np.tanh, relu
        if len(node.targets) == 1:
            return self.assign(node.targets[0], node.value, node)
        value = self.expr(node.value)
        for target in node.targets:
            self.assign_atom(target, value, node)

    def hold(self, target: ast.Name, value_node, stmt) -> None:
        """`name = f` for a function, class or module f known here: calls of `name` are calls
        of f from here on (until it is assigned again); the generated code gets the value too."""
        obj = self.static_value(value_node)
        self.op("id", (self.opaque_value(value_node),), stmt, target=self.store(target))
        self.scope.held[target.id] = obj
        self.scope.nested.pop(target.id, None)

    def assign_pairs(self, target, value, stmt) -> None:
        """`a, b = f, x`: every value read first (`a, b = b, a` swaps), then each name given
        its own (a function held: `hold`)."""
        values = []
        for v in value.elts:
            obj = self.static_value(v)
            atom = self.opaque_value(v) if obj is not _MISSING else self.expr(v)
            if isinstance(atom, ir.Var) and atom.name in self.scope.locals:
                atom = self.op("id", (atom,), stmt)
            values.append((obj, atom))
        for t, (obj, atom) in zip(target.elts, values):
            self.assign_atom(t, atom, stmt)
            if obj is not _MISSING:
                self.scope.held[t.id] = obj

    def stmt_AnnAssign(self, node):
        if node.value is None:
            return
        self.assign(node.target, node.value, node)

    def stmt_AugAssign(self, node):
        op = self.binary_op(node)
        value = self.expr(node.value)
        if isinstance(node.target, ast.Name):
            current = self.read_name(node.target)
            self.op(op, (current, value), node, target=self.store(node.target))
            self.augmented.append(self.body[-1])
            return
        array, index = self.subscript_target(node.target)
        item = self.op("getitem", (array, index), node.target)
        updated = self.op(op, (item, value), node)
        self.op("setitem", (array, index, self.cast_into(updated, array, node)), node, target=array.name)

    # -- assignment targets -------------------------------------------------

    def assign(self, target, value_node, stmt) -> None:
        if isinstance(target, ast.Name) and self.tuple_length(target.id):
            return self.assign_items(target, value_node, stmt)
        if isinstance(target, ast.Name):
            name = self.store(target)
            atom = self.expr(value_node, target=name)
            if atom != ir.Var(name):
                self.op("id", (atom,), stmt, target=name)
            packed = self.packed.get(getattr(atom, "name", None))
            if packed is None and self.scope.stores[target.id] == 1 and self.outputs_of(atom):
                self.fields[name] = self.made_by(atom).fields    # (`s.eigenvalues`, in a branch too)
                packed = tuple(self.op("getitem", (ir.Var(name), ir.Index((ir.Const(i),))), stmt)  # `s = eigh(a)`:
                               for i in range(self.outputs_of(atom)))     # each item read once, here
            if packed is not None and self.scope.stores[target.id] == 1:
                if getattr(atom, "name", None) in self.item_names:    # `q = p`, p's items reassigned later:
                    packed = tuple(self.op("id", (item,), stmt) for item in packed)   # q keeps these
                self.packed[name] = packed     # `t = f(x)` then `t[0]`: the items, known here
        elif isinstance(target, ast.Tuple) and isinstance(value_node, ast.Tuple):
            if len(target.elts) != len(value_node.elts):
                raise self.unsupported(stmt, "the number of names and values differ", "")
            atoms = [self.expr(v) for v in value_node.elts]
            assigned = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
            atoms = [self.op("id", (a,), stmt) if isinstance(a, ir.Var) and a.name in assigned else a
                     for a in atoms]         # `a, b = b, a` reads both before writing either
            for t, atom in zip(target.elts, atoms):
                self.assign_atom(t, atom, stmt)
        else:
            self.unpacking = value_node if isinstance(target, ast.Tuple) else None
            self.assign_atom(target, self.expr(value_node), stmt)

    def tuple_length(self, name: str) -> int:
        """n where `name` is assigned more than once, each time a tuple of n items (a display,
        or a call of a function whose every return is one): its items get variables of their
        own (`state = step(state)` in a loop), so the derivative flows through each; else 0."""
        if not self.items_of_tuples:
            self.items_of_tuples = _tuple_lengths(self.src.tree, self.scope)
        return self.items_of_tuples.get(name, 0)

    def assign_items(self, target, value_node, stmt) -> None:
        """`state = (a, b)` for a tuple name of tuple_length n: each item into its own variable
        (the same ones at every assignment), then the tuple of them."""
        n, name = self.tuple_length(target.id), self.store(target)
        if name not in self.item_names:
            self.item_names[name] = tuple(self.namer.fresh(f"{name}_{i}") for i in range(n))
        holders = self.item_names[name]
        atom = self.expr(value_node)
        if getattr(self.made_by(atom), "fields", ()):
            self.fields[name] = self.made_by(atom).fields      # (`r.S` of each r a loop makes)
        items = self.packed.get(getattr(atom, "name", None))
        if items is None:           # a call kept as a call: every return of it gives n items
            items = [self.op("getitem", (atom, ir.Index((ir.Const(i),))), stmt) for i in range(n)]
        if len(items) != n:
            raise self.unsupported(stmt, f"`{name}` is given tuples of different lengths here and elsewhere",
                                   "give each tuple a name of its own")
        items = [self.op("id", (a,), stmt) if isinstance(a, ir.Var) and a.name in holders else a
                 for a in items]                       # `p = (p[1], p[0])` reads both before writing
        for holder, item in zip(holders, items):
            self.op("id", (item,), stmt, target=holder)
        self.op("tuple", tuple(ir.Var(h) for h in holders), stmt, target=name)
        self.packed[name] = tuple(ir.Var(h) for h in holders)

    def assign_atom(self, target, atom, stmt) -> None:
        if isinstance(target, ast.Name):
            self.op("id", (atom,), stmt, target=self.store(target))
        elif isinstance(target, (ast.Tuple, ast.List)) and any(isinstance(e, ast.Starred) for e in target.elts):
            self.assign_starred(target, atom, stmt)
        elif isinstance(target, ast.Tuple):
            packed = self.packed.get(getattr(atom, "name", None))
            if packed is not None and len(packed) != len(target.elts):
                raise self.unsupported(target, f"{len(packed)} values cannot be unpacked into "
                                               f"{len(target.elts)} names", "")
            for i, elt in enumerate(target.elts):
                item = packed[i] if packed is not None else \
                    self.op("getitem", (atom, ir.Index((ir.Const(i),))), stmt)
                self.assign_atom(elt, item, stmt)
        elif isinstance(target, ast.Subscript):
            array, index = self.subscript_target(target)
            self.op("setitem", (array, index, self.cast_into(atom, array, stmt)), stmt, target=array.name)
        else:
            raise self.unsupported(target, "only names, tuples of names and array items can be "
                                           "assigned to", "assign to a local variable")

    def assign_starred(self, target, atom, stmt) -> None:
        """`first, *rest, last = xs`: the names before and after the starred one take items
        counted from each end, the starred one the slice between (a list, as in Python)."""
        elts = target.elts
        k = next(i for i, e in enumerate(elts) if isinstance(e, ast.Starred))
        after = len(elts) - k - 1
        packed = self.packed.get(getattr(atom, "name", None))
        count = self.outputs_of(atom)
        if packed is None and count:           # `coef, *rest = np.linalg.lstsq(...)`: the items it returns
            packed = tuple(self.op("getitem", (atom, ir.Index((ir.Const(i),))), stmt) for i in range(count))
        for i, elt in enumerate(elts):
            if i == k and count:                # the middle items, as a list of their own
                name = self.fresh_temp("items")
                self.op("list", (), stmt, target=name)
                for item in packed[k:len(packed) - after]:
                    self.op("append", (ir.Var(name), item), stmt, target=name)
                self.assign_atom(elt.value, ir.Var(name), stmt)
                continue
            if i == k:
                stop = ir.Const(-after) if after else None
                part = self.op("getitem", (atom, ir.Index((ir.Slice(ir.Const(k) if k else None, stop),))), stmt)
                self.assign_atom(elt.value, self.op("opaque", (part,), stmt, None,
                                                    (("callee", self.bind("list", list)),))
                                 if packed is not None else part, stmt)
                continue
            index = i if i < k else i - len(elts)
            item = packed[index] if packed is not None else \
                self.op("getitem", (atom, ir.Index((ir.Const(index),))), stmt)
            self.assign_atom(elt, item, stmt)

    def outputs_of(self, atom) -> int:
        """How many values the op that made `atom` returns, when it is a rule's op returning
        a tuple (0 otherwise)."""
        op = self.made_by(atom)
        return op.outputs if op is not None else 0

    def noted(self, node) -> None:
        """Note that the value of the free name at the root of `node` was taken as a constant
        (so that rebinding it builds the derivative again): a module's or a closure's."""
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Name) and node.id not in self.scope.locals and self.scope.static_object(node) \
                is not _MISSING and node.id not in self.scope.imported:
            self.src.note_value(node.id)

    def cast_into(self, value, array, node):
        """The value stored into `array`: as it is where the array surely holds floats; else
        through runtime.cast_into, whose derivative is none when the array turns out to hold
        integers or booleans (NumPy casts the value to them: `y = np.array([0, 0]); y[0] = x`)."""
        if not isinstance(value, ir.Var) or self.template_mode or self.surely_float(array):
            return value                        # (a rule's template writes into adjoints: floats)
        return self.op("cast_into", (value, array), node)

    def surely_float(self, atom, depth: int = 0) -> bool:
        """Whether the array `atom` names surely holds floats (or complex numbers), as far as
        the statements that made it tell (a parameter, an unknown call: not surely)."""
        if isinstance(atom, ir.Const):
            return isinstance(atom.value, (float, complex))
        made = self.defining.get(atom.name, ())
        if not made or depth > 8:
            return False
        return all(self.float_made(s, depth) for s in made)

    def float_made(self, made: ir.Assign, depth: int) -> bool:
        """Whether the statement `made` surely makes floats (surely_float)."""
        dtype = dict(made.params).get("dtype")
        if dtype is not None:
            try:
                return np.dtype(getattr(dtype, "value", dtype)).kind in "fc"
            except TypeError:
                return False
        if made.op in ("np.zeros", "np.ones", "np.empty", "div", "np.random.rand", "np.random.randn", "list"):
            return True
        if made.op == "append":                 # (a list: floats if every item is)
            return self.surely_float(made.args[1], depth + 1)
        if made.op in FLOATING or made.op in ("add", "sub", "mul", "pow", "neg", "id", "np.copy", "np.array",
                                              "np.asarray", "np.full", "np.zeros_like", "np.ones_like",
                                              "np.empty_like", "np.full_like", "np.stack", "np.concatenate"):
            return any(self.surely_float(a, depth + 1) for a in made.args if isinstance(a, (ir.Var, ir.Const)))
        return False

    def items_of(self, atom):
        """The items of the tuple `atom` names, where they are known here (None otherwise)."""
        name = getattr(atom, "name", None)
        if self.packed.get(name) is not None:
            return self.packed[name]
        made = next((s for s in reversed(self.body) if isinstance(s, ir.Assign) and s.target == name), None)
        return made.args if made is not None and made.op == "tuple" and self.scope.stores.get(name, 0) <= 1 else None

    def made_by(self, atom):
        """The rule's op returning a tuple whose result `atom` names, when the last statement
        lowered that assigns it is one (else None)."""
        name = getattr(atom, "name", None)
        if name in self.tuple_ops:
            return self.tuple_ops[name]
        made = next((s for s in reversed(self.body) if isinstance(s, ir.Assign) and s.target == name), None)
        return rules.OPS.get(made.op) if made is not None else None    # (a statement an inlined call made)

    def field(self, owner, attr: str, node, target):
        """`r.eigenvalues`, of a rule's op returning a named tuple: that item (Op.fields); an
        attribute the op does not name, read from its "*" item (`sol.success` of solve_ivp's
        result). None when the op names no fields."""
        op = self.made_by(owner)
        fields = self.fields.get(getattr(owner, "name", None)) or (op.fields if op is not None else ())
        if not fields:
            return None
        name = attr if attr in fields else "*" if "*" in fields else None
        if name is None:
            raise self.unsupported(node, f"the result of `{ast.unparse(node.value)}` has no field `{attr}`",
                                   f"read one of: {', '.join(fields)}")
        i = fields.index(name)
        packed = self.packed.get(owner.name)
        item = packed[i] if packed else self.op("getitem", (owner, ir.Index((ir.Const(i),))), node,
                                                 None if name == "*" else target)
        if name != "*":
            return item
        return self.op("attr", (item,), node, self.named(target, attr.strip("_"), (item,)), (("name", attr),))

    def subscript_target(self, node):
        if not (isinstance(node.value, ast.Name) and node.value.id in self.scope.locals):
            raise self.unsupported(node, "only items of a local array can be assigned to",
                                   "copy the array into a local variable first")
        return self.read_name(node.value), self.index(node.slice)

    def store(self, node: ast.Name) -> str:
        self.defined.add(node.id)
        self.scope.held.pop(node.id, None)
        return node.id

    # -- expressions ----------------------------------------------------------

    def expr(self, node, target=None):
        """Lower an expression; return the atom holding its value."""
        handler = getattr(self, "expr_" + type(node).__name__, None)
        if handler is None:
            raise self.unsupported(node, f"`{type(node).__name__}` expressions are not supported",
                                   "rewrite it with arithmetic and NumPy calls")
        return handler(node, target)

    def is_partial(self, node) -> bool:
        """Whether `node` is `functools.partial(g, ...)` with values that keep them (names
        assigned once): a call of it is then the call of g it stands for."""
        if not (isinstance(node, ast.Call) and node.args and self.scope.static_object(node.func) is functools.partial):
            return False
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.unsupported(node, "functools.partial with *args or **kwargs is not supported",
                                   "give partial its arguments one by one")
        in_loops = {n.id for loop in ast.walk(self.src.tree) if isinstance(loop, (ast.For, ast.While))
                    for n in ast.walk(loop) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        changing = sorted({n.id for part in (*node.args[1:], *(k.value for k in node.keywords))
                           for n in ast.walk(part) if isinstance(n, ast.Name)
                           and (self.scope.stores[n.id] + (n.id in self.scope.params) > 1 or n.id in in_loops)})
        if changing:
            raise self.unsupported(node, f"`{changing[0]}` is given to functools.partial and changes later, "
                                         "which s2sgrad does not follow", "give it a name of its own")
        return True

    def expr_DictComp(self, node, target):
        """`{k: v for ...}` as `dict([(k, v) for ...])`: built as Python builds it, from a list
        comprehension (a dict holding differentiated values is refused where the derivative
        is built)."""
        pairs = ast.Tuple([node.key, node.value], ast.Load())
        located(pairs, node)
        return self.expr(_built_from(node, "dict", pairs), target)

    def expr_SetComp(self, node, target):
        """`{v for ...}` as `set([v for ...])`."""
        return self.expr(_built_from(node, "set", node.elt), target)

    def expr_Lambda(self, node, target):
        raise self.unsupported(node, "a lambda is supported where it is given a name (`f = lambda x: ...`)",
                               "name it on a line of its own, or write a `def`")

    def expr_Starred(self, node, target):
        raise self.unsupported(node, "a starred argument (`*xs`) is not supported here",
                               "pass the values one by one")

    def expr_Constant(self, node, target):
        if node.value is Ellipsis:
            raise self.unsupported(node, "`...` is only supported inside an index", "")
        return ir.Const(node.value)

    def expr_Name(self, node, target):
        if node.id in self.scope.nested or isinstance(self.scope.held.get(node.id), ast.AST):
            raise self.unsupported(node, f"`{node.id}` is defined inside the differentiated function: it can be "
                                         "called here, not passed on as a value",
                                   "define it at module level to pass it to another function")
        if node.id in self.scope.locals:
            return self.read_name(node)
        if self.scope.enclosing(node.id):
            self.scope.free.add(node.id)               # a variable of an enclosing function
            return ir.Var(node.id)
        obj = self.src.lookup(node.id)
        if obj is _MISSING:
            raise self.error(UndefinedNameError, node, f"name `{node.id}` is not defined", "")
        if callable(obj) or type(obj).__name__ == "module":
            raise self.unsupported(node, f"`{node.id}` can only be called here, not used as a value",
                                   "call it")
        if self.template_mode:                   # a rule's lines run in the caller's module
            if type(obj) in (int, float):
                return ir.Const(obj)
            raise self.unsupported(node, f"this rule reads the global `{node.id}`, which the code it is "
                                         "inlined into cannot see",
                                   f"read it through a function the rule calls, registered with "
                                   f"s2sgrad.nondifferentiable (`def {node.id.lower()}(): return {node.id}`)")
        self.scope.free.add(node.id)
        return ir.Var(node.id)

    def expr_Attribute(self, node, target):
        obj = self.scope.static_object(node)
        if isinstance(obj, (int, float)):
            return ir.Const(obj)
        if obj is not _MISSING and (callable(obj) or inspect.ismodule(obj)):
            raise self.unsupported(node, f"`{ast.unparse(node)}` can only be called here", "")
        if node.attr not in ATTRIBUTES:             # (a value of the module's too: `G.T` of a global array)          # an attribute of an object, read as Python reads it
            if node.attr in MUTATING_METHODS:
                raise self.unsupported(node, f"`{ast.unparse(node)}` changes a value in place, which s2sgrad "
                                             "cannot follow", "make a new value instead (`y = np.sort(y)`)")
            owner = self.expr(node.value)
            item = self.field(owner, node.attr, node, target)
            if item is not None:
                return item
            return self.op("attr", (owner,), node, self.named(target, node.attr.strip("_"), (owner,)),
                           (("name", node.attr),))
        return self.op(ATTRIBUTES[node.attr], (self.expr(node.value),), node, target, ((ir.ATTRIBUTE, node.attr),))

    def expr_UnaryOp(self, node, target):
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and isinstance(node.operand.value, (int, float)):
            return ir.Const(-node.operand.value)
        names = {ast.USub: "neg", ast.UAdd: "pos", ast.Not: "not", ast.Invert: "np.invert"}   # (`~mask`)
        return self.op(names[type(node.op)], (self.expr(node.operand),), node, target)

    def expr_BinOp(self, node, target):
        if _sequence_display(node.left) or _sequence_display(node.right) or \
                isinstance(node.op, ast.Mod) and isinstance(node.left, (ast.Constant, ast.JoinedStr)):
            # [a] + [b], [x] * 3, "%f" % x: Python's operation on lists, tuples and strings, run as it is
            name = {ast.Add: "add", ast.Mult: "mul", ast.Mod: "mod"}.get(type(node.op))
            if name is None:
                raise self.unsupported(node, "this operation on a list or string is not supported", "")
            args = (self.expr(node.left), self.expr(node.right))
            return self.op("opaque", args, node, target, (("callee", f"{self.bind('operator', operator)}.{name}"),))
        chain = [node]                 # a + b + c + ...: lowered in a loop, not by recursion
        while isinstance(chain[-1].left, ast.BinOp):
            chain.append(chain[-1].left)
        value = self.expr(chain[-1].left)
        for link in reversed(chain):
            op = self.binary_op(link)
            value = self.op(op, (value, self.expr(link.right)), link, target if link is node else None)
        return value

    def expr_Compare(self, node, target):
        if len(node.ops) == 1 and type(node.ops[0]) in (ast.Is, ast.IsNot, ast.In, ast.NotIn):
            return self.identity_test(node, target)
        if any(type(op) not in COMPARE for op in node.ops):
            raise self.unsupported(node, "only the comparisons <, <=, >, >=, == and != are "
                                         "supported", "compare with those")
        if len(node.ops) == 1:
            decided = self.decided(node)
            if decided is not None:                    # `mode == "tanh"` in a helper given "tanh"
                return decided
            args = (self.expr(node.left), self.expr(node.comparators[0]))
            return self.op(COMPARE[type(node.ops[0])], args, node, target)
        pairs = [ast.Compare(a, [op], [b], lineno=node.lineno, col_offset=node.col_offset)
                 for a, op, b in zip([node.left] + node.comparators, node.ops, node.comparators)]
        return self.expr_BoolOp(ast.BoolOp(ast.And(), pairs, lineno=node.lineno,
                                           col_offset=node.col_offset), target)

    def decided(self, node):
        """A comparison of two literals, as a constant (or None: decided when the code runs,
        as is one Python would refuse, `"a" < 1`)."""
        known = [self.literal(n) for n in (node.left, node.comparators[0])]
        try:
            return None if _MISSING in known else ir.Const(bool(LITERAL_COMPARE[type(node.ops[0])](*known)))
        except TypeError:
            return None

    def literal(self, node):
        """The str, number, bool or None `node` is known to be here (written, or a parameter of
        an inlined call given one and not assigned), else _MISSING."""
        if isinstance(node, ast.Name) and node.id in self.scope.constants and node.id not in self.scope.assigned:
            value = self.scope.constants[node.id]
        elif isinstance(node, ast.Constant):
            value = node.value
        else:
            return _MISSING
        return value if isinstance(value, (str, int, float, bool, type(None))) else _MISSING

    def identity_test(self, node, target):
        """`x is None`, `f is not None`, `mode in ("a", "b")`: decided here where both sides
        are known (a function a helper was given), else run as Python runs it."""
        op, right = node.ops[0], node.comparators[0]
        left = self.static_value(node.left)
        if isinstance(node.left, ast.Name) and node.left.id in self.scope.constants \
                and node.left.id not in self.scope.assigned:
            left = self.scope.constants[node.left.id]             # a literal a helper was given
        if left is not _MISSING and isinstance(right, ast.Constant) and isinstance(op, (ast.Is, ast.IsNot)):
            return ir.Const((left is right.value) == isinstance(op, ast.Is))
        name = {ast.Is: "is_", ast.IsNot: "is_not", ast.In: "contains", ast.NotIn: "contains"}[type(op)]
        a, b = self.opaque_value(node.left), self.opaque_value(right)
        args = (b, a) if name == "contains" else (a, b)
        found = self.op("opaque", args, node, None if isinstance(op, ast.NotIn) else target,
                        (("callee", f"{self.bind('operator', operator)}.{name}"),))
        return self.op("not", (found,), node, target) if isinstance(op, ast.NotIn) else found

    def expr_into(self, node, name, stmt) -> None:
        atom = self.expr(node, target=name)
        if atom != ir.Var(name):
            self.op("id", (atom,), stmt, target=name)
        self.defined.add(name)

    def fresh_local(self, base: str) -> str:
        """A new variable the lowering adds to the function's own (a loop's counter)."""
        name = self.namer.fresh(base)
        self.scope.locals.add(name)
        self.scope.assigned.add(name)
        return name

    def fresh_temp(self, base: str) -> str:
        name = self.namer.fresh(base)
        self.temps.add(name)
        return name

    def expr_Subscript(self, node, target):
        trick = self.scope.static_object(node.value)
        if trick is np.r_ or trick is np.c_:
            return self.index_trick(node, trick, target)
        value = self.expr(node.value)
        packed = self.packed.get(getattr(value, "name", None))
        index = node.slice
        fields = self.fields.get(getattr(value, "name", None)) or getattr(self.made_by(value), "fields", ())
        if "*" in fields:                 # a result object read by field (solve_ivp's): sol["y"] is sol.y
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                return self.field(value, index.value, node, target)
            raise self.unsupported(node, f"`{ast.unparse(node.value)}` is read by its fields, not by position",
                                   f"read one of: {', '.join(f for f in fields if f != '*')}, or another attribute")
        if packed is not None and isinstance(index, ast.Constant) and isinstance(index.value, int) \
                and -len(packed) <= index.value < len(packed):
            return packed[index.value]            # an item of a tuple built right here
        return self.op("getitem", (value, self.index(node.slice)), node, target)

    def index_trick(self, node, trick, target):
        """`np.r_[a, b]`: np.concatenate of the items made arrays of one dimension at least;
        `np.c_[a, b]`: each made a column (a matrix, an array as it is: runtime.as_column),
        joined along the last axis. A tuple of arrays given whole is its items, as NumPy
        reads it (`np.c_[t]`); slices and string directives are refused."""
        if not _plain_items(node):
            name = "np.r_" if trick is np.r_ else "np.c_"
            raise self.unsupported(node, f"{name}[...] with slices or string directives is not supported",
                                   "write the arrays out and join them with np.concatenate or np.stack")
        items = _items(node)
        atoms = [self.expr(item) for item in items]
        if len(atoms) == 1 and self.items_of(atoms[0]) is not None:
            atoms = list(self.items_of(atoms[0]))
        elif len(atoms) == 1 and isinstance(atoms[0], ir.Var):     # (a tuple here would be its items)
            atoms = [self.op("one_item", (atoms[0],), node)]
        made = [self.op("np.atleast_1d" if trick is np.r_ else "as_column", (atom,), node) for atom in atoms]
        return self.op("np.concatenate", (self.op("tuple", tuple(made), node),), node, target,
                       (("axis", 0 if trick is np.r_ else -1),))

    def expr_List(self, node, target):
        """A list literal: an empty list, then one `append` per item."""
        items = [self.expr(e) for e in node.elts]
        name = target or self.fresh_temp("items")
        self.op("list", (), node, target=name)
        for atom in items:
            self.op("append", (ir.Var(name), atom), node, target=name)
        self.defined.add(name)
        return ir.Var(name)

    def expr_Tuple(self, node, target):
        atoms = tuple(self.expr(e) for e in node.elts)
        if all(isinstance(a, ir.Const) for a in atoms):
            return ir.Const(tuple(a.value for a in atoms))
        return self.op("tuple", atoms, node, target)

    def expr_Call(self, node, target):
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.scope.classes \
                and func.value.id not in self.scope.assigned:
            made = self.own_method(node, target)
            if made is not None:
                return made
        if isinstance(func, ast.Attribute) and self.scope.static_object(func.value) is _MISSING:
            return self.method(node, target)
        if isinstance(func, ast.Lambda):                # (lambda v: ...)(x), map(lambda v: ..., xs)
            name = self.namer.fresh("lambda_fn")
            self.stmt_FunctionDef(as_def(name, func))
            return self.inline(ast.copy_location(ast.Call(ast.Name(name, ast.Load()), node.args, node.keywords),
                                                 node), self.scope.nested[name], target)
        if isinstance(func, ast.Call):
            made = self.made_derivative(func)          # s2sgrad.grad(f)(x)
            if made is not None:
                return self.derivative_call(node, made, target)
        if isinstance(func, ast.Name) and isinstance(self.scope.held.get(func.id), ast.FunctionDef):
            return self.inline(node, self.scope.held[func.id], target)      # a lambda of a list looped over
        if isinstance(func, ast.Name) and func.id in self.partials:
            return self.expr_Call(_partial_call(self.partials[func.id], node), target)
        if isinstance(func, ast.Name) and func.id in self.scope.nested:
            return self.inline(node, self.scope.nested[func.id], target)
        if isinstance(func, ast.Name) and self.scope.outer is not None and func.id in self.scope.outer.nested:
            return self.inline(node, self.scope.outer.nested[func.id], target)
        obj = self.scope.static_object(func)
        if any(obj is c for c in CONSUMERS) and any(self.generator_of(a) for a in node.args):
            node = ast.copy_location(ast.Call(func, [items_of(a) if self.generator_of(a) else a for a in node.args],
                                              node.keywords), node)      # sum(gen(...)): sum([v for v in gen(...)])
            if obj is list and len(node.args) == 1 and not node.keywords:
                return self.expr(node.args[0], target)
        if obj is list and len(node.args) == 1 and not node.keywords and (isinstance(node.args[0], ast.ListComp) or (
                isinstance(node.args[0], ast.Call) and self.scope.static_object(node.args[0].func) is map)
                or _dict_view(node.args[0])):
            return self.expr(node.args[0], target)      # list(map(...)), list(d.values()): the list they stand for
        if obj is map and len(node.args) >= 2 and not node.keywords:
            return self.expr(_map_as_list(node), target)         # map(f, xs): [f(x) for x in xs]
        if (obj is max or obj is min) and len(node.args) == 1 and not node.keywords:
            return self.op("np." + obj.__name__, (self.expr(_listed(node.args[0])),), node, target)  # max(xs)
        if obj is np.linalg.matrix_power and len(node.args) + len(node.keywords) == 2 and \
                all(k.arg == "n" for k in node.keywords):
            power = node.args[1] if len(node.args) == 2 else node.keywords[0].value
            return self.matrix_power(ast.copy_location(ast.Call(func, [node.args[0], power], []), node), target)
        if obj is np.linalg.multi_dot and len(node.args) == 1 and isinstance(node.args[0], (ast.List, ast.Tuple)) \
                and len(node.args[0].elts) >= 2 and not node.keywords:
            factors = [self.expr(e) for e in node.args[0].elts]          # multi_dot([a, b, c]): a @ b @ c
            product = factors[0]
            for k, factor in enumerate(factors[1:]):
                product = self.op("matmul", (product, factor), node, target if k == len(factors) - 2 else None)
            return product
        if obj is np.linalg.svd and len(node.args) == 1 and any(
                k.arg == "compute_uv" and isinstance(k.value, ast.Constant) and not k.value.value for k in node.keywords):
            return self.op("np.linalg.svdvals", (self.expr(node.args[0]),), node, target)    # the values alone
        if (obj is np.sum or obj is np.mean) and node.args and any(k.arg in ("where", "initial") for k in node.keywords):
            if obj is np.mean and not all(isinstance(e, (ast.Name, ast.Constant)) for e in
                                          [node.args[0]] + [k.value for k in node.keywords if k.arg == "where"]):
                raise self.unsupported(node, "np.mean(..., where=...) reads its array and its mask twice here",
                                       "give them names first: `m = ...; np.mean(x, where=m)`")
            return self.expr(_masked_reduction(node, obj is np.mean), target)    # np.sum(x, where=m): of np.where
        if obj is np.einsum and node.args and not isinstance(node.args[0], ast.Constant):
            node = _einsum_subscripts(node)              # np.einsum(a, [0, 1], b, [1, 2], [0, 2]): "ab,bc->ac"
        if obj is np.where and len(node.args) == 1 and not node.keywords:
            return self.opaque_call(node, obj, target)       # np.where(cond): the indices, no derivative
        if isinstance(func, ast.Attribute) and func.attr == "reduce" and \
                any(self.scope.static_object(func.value) is u for u in REDUCED):
            return self.reduction(node, REDUCED[self.scope.static_object(func.value)], target)
        if isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields") and _plain_record(obj):
            return self.record(node, obj, target)                 # Params(W, b): a namedtuple
        op = rules.lookup(obj) if obj is not _MISSING else None
        if op is not None and op.variants:
            op = _variant(op, node, self.scope, self.noted)
        if op is None and inspect.isfunction(obj) and (not library(obj) or hasattr(obj, "__s2sgrad__")):
            return self.inline_or_run(node, obj, target)
        if op is None and not self.template_mode and \
                (callable(obj) or isinstance(func, ast.Name) and func.id in self.scope.locals):
            return self.opaque_call(node, obj, target)
        if op is None:
            raise self.no_rule(node, obj)
        try:
            args, params = self.call_args(op, node.args, node.keywords, node)
        except UnsupportedSyntaxError:
            if op.kind != "nondiff" or self.template_mode:
                raise
            return self.opaque_call(node, obj, target)     # np.zeros(n, dtype=x.dtype): run as Python runs it
        return self.op(op.name, args, node, target, params)

    def matrix_power(self, node, target):
        """`np.linalg.matrix_power(a, n)` for an integer n written here: the products it
        stands for, by repeated squaring (of inv(a) for n < 0); n = 0 gives the identity,
        which has no derivative (run as it is)."""
        try:
            n = ast.literal_eval(node.args[1])
        except ValueError:
            n = self.literal(node.args[1])
        if type(n) is not int:
            raise self.unsupported(node.args[1], "the power of np.linalg.matrix_power must be an integer written "
                                                 "here", "write the power as a number")
        if n == 0:                                   # the identity: constant in a
            return self.op("opaque", (self.expr(node.args[0]), ir.Const(0)), node, target or self.fresh_temp("eye"),
                           (("callee", self.dotted(node.func)), ("piecewise", True)))
        power = self.expr(node.args[0])
        if n < 0:
            power, n = self.op("np.linalg.inv", (power,), node), -n
        result = None
        while n:
            if n & 1:
                last = n == 1
                result = power if result is None and not last else \
                    self.op("id", (power,), node, target) if result is None else \
                    self.op("matmul", (result, power), node, target if last else None)
            n >>= 1
            if n:
                power = self.op("matmul", (power, power), node)
        return result

    def reduction(self, node, name, target):
        """`np.add.reduce(x, axis=0)` as the reduction it is (`np.sum(x, axis=0)`): axis 0
        unless another is given."""
        keywords = list(node.keywords)
        if len(node.args) > 2:
            raise self.unsupported(node.args[2], "`reduce`'s dtype or out is not supported here", "leave it out")
        if len(node.args) > 1:
            keywords.append(ast.keyword("axis", node.args[1]))
        if not any(k.arg == "axis" for k in keywords):
            keywords.append(ast.copy_location(ast.keyword("axis", ast.Constant(0)), node))
        args, params = self.call_args(rules.OPS[name], node.args[:1], keywords, node)
        return self.op(name, args, node, target, params)

    def record(self, node, cls, target):
        """`Params(W, b=b)` for a namedtuple class: the tuple of its fields, in order (defaults
        filled in), made as that class; each field's adjoint is the tuple's item."""
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.unsupported(node, "`*` or `**` in a namedtuple's call is not supported", "name the fields")
        given = dict(zip(cls._fields, node.args)) | {k.arg: k.value for k in node.keywords}
        unknown = sorted(set(given) - set(cls._fields))
        missing = [f for f in cls._fields if f not in given and f not in cls._field_defaults]
        if len(node.args) > len(cls._fields) or unknown or missing:
            raise self.unsupported(node, f"`{cls.__name__}` has the fields {', '.join(cls._fields)}",
                                   "give each field once")
        atoms = tuple(self.expr(given[f]) if f in given else self.opaque_value_of(cls._field_defaults[f], f)
                      for f in cls._fields)
        return self.op("tuple", atoms, node, target, (("kind", self.bind(cls.__name__, cls)),))

    def opaque_value_of(self, value, name: str):
        """A value known here, as an atom (a constant, or a name bound to it)."""
        return ir.Const(value) if isinstance(value, (bool, int, float, str, type(None))) else \
            ir.Var(self.bind(name, value))

    def method(self, node, target):
        name = node.func.attr
        if _dict_view(node):
            return self.dict_view(node, target)
        if name not in METHODS and not self.template_mode:     # run as Python runs it (refused if differentiated)
            return self.opaque_method(node, target)
        if name not in METHODS:
            raise self.error(NoRuleError, node.func, f"the method `.{name}()` has no derivative rule",
                             "supported methods: " + ", ".join(f".{m}()" for m in METHODS))
        positional = list(node.args)
        if name in PACKED and len(positional) > 1:
            positional = [ast.Tuple(positional, ast.Load(), lineno=node.lineno,
                                    col_offset=node.col_offset)]
        op = rules.OPS[METHODS[name]]
        args, params = self.call_args(op, [node.func.value] + positional, node.keywords, node)
        if name in COPIED:                       # x.flatten() is np.ravel(x), never a view of x
            return self.op("np.copy", (self.op(op.name, args, node, None, params),), node, target)
        return self.op(op.name, args, node, target, params)

    def dict_view(self, node, target):
        """`d.items()`, `d.values()`: the list `[(k, d[k]) for k in keys]` (`[d[k] ...]`), the
        keys read once (runtime.dict_keys), so a value is differentiated through `d[k]`."""
        owner = node.func.value
        keys = self.fresh_local("keys")
        self.op("dict_keys", (self.expr(owner),), node, target=keys)
        self.defined.add(keys)
        item = ast.Subscript(owner, ast.Name("key", ast.Load()), ast.Load())
        elt = ast.Tuple([ast.Name("key", ast.Load()), item], ast.Load()) if node.func.attr == "items" else item
        made = ast.ListComp(elt, [ast.comprehension(ast.Name("key", ast.Store()), ast.Name(keys, ast.Load()), [], 0)])
        located(made, node)
        return self.expr(made, target)

    def argument(self, op, name: str, node):
        """The atom of one argument of a rule's op: a tuple written there made a list, unless
        the op takes a tuple (rules.Op.tuples: odeint's `args`); a function the op calls
        (odeint's `func`, rules.Op.functions) passed by its module-level name, read where
        the code runs."""
        if name in op.tuples:                  # a tuple an op returned (cho_factor's): the tuple of its items
            atom = self.expr(node)
            items = self.packed.get(getattr(atom, "name", None))
            if items is None and self.outputs_of(atom):
                items = tuple(self.op("getitem", (atom, ir.Index((ir.Const(i),))), node)
                              for i in range(self.outputs_of(atom)))
            return atom if items is None else self.op("tuple", tuple(items), node)
        if name not in op.functions:
            return self.expr(_listed(node))
        obj = self.src.lookup(node.id) if isinstance(node, ast.Name) and node.id not in self.scope.locals else _MISSING
        if not callable(obj):
            raise self.unsupported(node, f"`{rules.shown(op)}` takes the function `{name}` by the name it has in the module",
                                   "define the function at module level and pass its name")
        self.scope.free.add(node.id)
        return ir.Var(node.id)

    def call_args(self, op, positional, keywords, node):
        """Split a call's arguments into atoms and static keyword parameters."""
        if op.kind not in ("elementwise", "adjoint"):
            atoms = tuple(self.expr(a) for a in positional)
            atoms += tuple(ir.Const(op.optional[name]) for name in op.args[len(atoms):] if name in op.optional)
            return atoms, tuple((k.arg, self.static(k.value, k.arg)) for k in keywords)    # (a helper's defaults)
        atoms, statics = [None] * len(op.args), {}
        named = rules.positional_names(op.obj)
        for i, arg in enumerate(positional):
            real = named[i] if named and 0 < i < len(named) else None   # NumPy's own order first
            if real in op.args:
                atoms[op.args.index(real)] = self.argument(op, real, arg)
            elif real in op.statics:
                statics[real] = self.static(arg, real)
            elif i < len(op.args):
                atoms[i] = self.argument(op, op.args[i], arg)
            elif real is None and i - len(op.args) < len(op.statics) and not rules.takes_varargs(op.obj):
                key = list(op.statics)[i - len(op.args)]        # (a ufunc's or builtin's: by position)
                statics[key] = self.static(arg, key)
            elif real is not None and _none_by_default(op, real, arg):
                continue                                # np.trapezoid(y, None, dx): as if left out
            elif real is not None or rules.takes_varargs(op.obj):
                what = f"`{real}`" if real else f"number {i + 1}"
                raise self.unsupported(arg, f"the argument {what} of `{rules.shown(op)}` is not supported",
                                       "supported: " + ", ".join(op.args + tuple(op.statics)))
            else:
                raise self.unsupported(arg, f"too many arguments for `{rules.shown(op)}`", "")
        for kw in keywords:
            if kw.arg is None:
                raise self.unsupported(kw, f"`**` keywords in a call of `{rules.shown(op)}` are not supported",
                                       "write each keyword out")
            if kw.arg in op.args:
                atoms[op.args.index(kw.arg)] = self.argument(op, kw.arg, kw.value)
            elif kw.arg in op.statics:
                statics[kw.arg] = self.static(kw.value, kw.arg)
            elif not _none_by_default(op, kw.arg, kw.value):
                raise self.unsupported(kw, f"the keyword `{kw.arg}` of `{rules.shown(op)}` is not supported",
                                       "supported keywords: " + (", ".join(op.statics) or "none"))
        for i, name in enumerate(op.args):
            if atoms[i] is None and name in op.optional:
                atoms[i] = ir.Const(op.optional[name])   # np.average(x): no weights
        if None in atoms:
            missing = op.args[atoms.index(None)]
            raise self.unsupported(node, f"`{rules.shown(op)}` needs its argument `{missing}`", "")
        return tuple(atoms), tuple(statics.items())

    def index(self, node) -> ir.Index:
        items = node.elts if isinstance(node, ast.Tuple) else [node]
        return ir.Index(tuple(self.index_item(item) for item in items))

    def index_item(self, node):
        if isinstance(node, ast.Slice):
            return ir.Slice(*(None if part is None else self.index_atom(part)
                              for part in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return Ellipsis
        if self.scope.static_object(node) is None or (isinstance(node, ast.Constant) and node.value is None):
            return None
        return self.index_atom(node)

    def index_atom(self, node):
        if self.template_mode:
            return self.expr(node)
        try:
            value = ast.literal_eval(node)
        except ValueError:
            value = None
        if isinstance(value, int) and not isinstance(value, bool):
            return ir.Const(value)
        return self.expr(node)

    # -- helpers --------------------------------------------------------------

    def op(self, name, args, node, target=None, params=()):
        """Append `target = name(*args)` and return the Var holding the result."""
        if target is None:
            target = self.namer.fresh(names.temp_base(name, args, self.scope.locals))
            self.temps.add(target)
        if name == "getitem" and isinstance(args[0], ir.Var) and _constant_item(self.made_by(args[0]), args[1]):
            params = tuple(params) + ((ir.UNMOVED, True),)      # (an item no argument moves: Op.constant_items)
        self.body.append(ir.Assign(target, name, tuple(args), tuple(params), self.src.loc(node)))
        if name not in ("setitem", "setitem.any"):
            self.defining.setdefault(target, []).append(self.body[-1])     # (surely_float reads them)
        made = rules.OPS.get(name)
        if made is not None and made.outputs:
            self.tuple_ops[target] = made
        else:
            self.tuple_ops.pop(target, None)
        if name == "tuple" and target in self.temps:
            self.packed[target] = tuple(args)   # a tuple made once: its items are known
        return ir.Var(target)

    def read_name(self, node: ast.Name) -> ir.Var:
        if node.id in self.partials:
            raise self.unsupported(node, f"`{node.id}` holds a functools.partial, which s2sgrad follows where "
                                         "it is called by its name, not as a value", f"call `{node.id}(...)` here")
        if node.id not in self.defined:
            raise self.unsupported(node, f"`{node.id}` is used before it is assigned", "")
        return ir.Var(node.id)

    def binary_op(self, node) -> str:
        if type(node.op) not in BINARY:
            raise self.error(NoRuleError, node, f"the operator `{SYMBOLS[type(node.op)]}` has no "
                             "derivative rule", "supported: + - * / ** @ % //")
        return BINARY[type(node.op)]

    def static(self, node, key):
        """The value of a keyword that must be known when compiling (axis=0)."""
        if self.template_mode and isinstance(node, ast.Name) and node.id in self.scope.locals:
            return ir.Var(node.id)
        if isinstance(node, ast.Name) and node.id in self.scope.constants and node.id not in self.scope.assigned:
            return self.scope.constants[node.id]          # a parameter of an inlined call, given a literal
        if isinstance(node, (ast.List, ast.Tuple)):        # axis=[0, 1]: a tuple, item by item
            return tuple(self.static(e, key) for e in node.elts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.static(node.operand, key)     # ord=-np.inf
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value
        try:
            return ast.literal_eval(node)
        except ValueError:
            value = self.scope.static_object(node)
        if isinstance(value, STATIC_TYPES):
            self.noted(node)                          # (a module's `AXIS = 0`: read again at each call)
            return value
        raise self.unsupported(node, f"the value of `{key}` must be known when s2sgrad compiles",
                               f"give `{key}` a number written here, or a name of the module bound to one")

    def no_rule(self, node, obj):
        """A call to a function with no rule: name it, its argument, and the decorators
        that would give it one."""
        name = ast.unparse(node.func)
        first = ast.unparse(node.args[0]) if node.args else "x"
        return self.error(
            NoRuleError, node.func,
            f"`{name}` has no derivative rule, so the derivative cannot flow through `{name}({first}, ...)`",
            errors.rule_hint(name))

    def error(self, cls, node, message, hint):
        return cls(message, self.src.loc(node), hint=hint)

    def unsupported(self, node, message, hint):
        return self.error(UnsupportedSyntaxError, node, message, hint)


REDUCED = {np.add: "np.sum", np.multiply: "np.prod", np.maximum: "np.max", np.minimum: "np.min"}   # ufunc.reduce

CONSUMERS = (list, sum, max, min, sorted, zip, enumerate)   # what reads a generator whole: given its items

LITERAL_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                   ast.Gt: operator.gt, ast.GtE: operator.ge}


def _masked_reduction(node, mean: bool):
    """`np.sum(x, where=m, initial=c)` as `np.sum(np.where(m, x, 0.0)) + c`, and
    `np.mean(x, where=m)` as that sum over `np.sum` of the mask spread like x (the same
    values, from ops that have rules)."""
    np_name = node.func.value if isinstance(node.func, ast.Attribute) else ast.Name("np", ast.Load())
    keywords = {k.arg: k.value for k in node.keywords}
    mask, initial = keywords.pop("where", None), keywords.pop("initial", None)
    rest = [ast.keyword(k, v) for k, v in keywords.items()]
    x = node.args[0]

    def call(name, args, kws=()):
        return ast.Call(ast.Attribute(np_name, name, ast.Load()), args, list(kws))
    if mask is not None:
        x = call("where", [mask, x, ast.Constant(0.0)])
    total = call("sum", [x, *node.args[1:]], rest)
    if mean:
        count = call("where", [mask, ast.Constant(1.0), ast.Constant(0.0)]) if mask is not None else \
            ast.Constant(1.0)
        total = ast.BinOp(total, ast.Div(), call("sum", [ast.BinOp(count, ast.Mult(), call("ones_like", [node.args[0]])),
                                                         *node.args[1:]], rest))
    if initial is not None:
        total = ast.BinOp(total, ast.Add(), initial)
    return ast.copy_location(total, node)


def _items(node) -> list:
    return node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]


def _plain_items(node) -> bool:
    """Whether an index trick's items are values (no slices, no string directives)."""
    return not any(isinstance(i, ast.Slice) or isinstance(i, ast.Constant) and isinstance(i.value, str)
                   for i in _items(node))


def _dict_view(node) -> bool:
    """Whether `node` is `d.items()` or `d.values()` of a name (or attribute) `d`."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("items", "values") \
        and not node.args and not node.keywords and isinstance(node.func.value, (ast.Name, ast.Attribute))


def _einsum_subscripts(node: ast.Call) -> ast.Call:
    """`np.einsum(a, [0, 1], b, [1, 2], [0, 2])` written with its subscripts string instead
    (`np.einsum("ab,bc->ac", a, b)`); the call itself where its sublists are not written out."""
    args = list(node.args)
    try:
        lists = [ast.literal_eval(a) for a in args[1::2]]
    except ValueError:
        return node
    out = ast.literal_eval(args[-1]) if len(args) % 2 == 1 and len(args) > 2 else None   # (the output's, last)
    if not all(isinstance(sub, list) and all(isinstance(i, int) or i is Ellipsis for i in sub)
               for sub in lists + ([out] if out is not None else [])):
        return node
    letter = lambda i: "..." if i is Ellipsis else "abcdefghijklmnopqrstuvwxyz"[i]   # noqa: E731
    spec = ",".join("".join(map(letter, sub)) for sub in lists)
    if out is not None:
        spec += "->" + "".join(map(letter, out))
    operands = args[0:2 * len(lists):2]
    subscripts = ast.copy_location(ast.Constant(spec), node)
    return ast.copy_location(ast.Call(node.func, [subscripts] + operands, node.keywords), node)


def _plain_record(cls) -> bool:
    """Whether a namedtuple class makes its tuple of the values given, as namedtuple's own
    class does (a subclass with its own `__new__` or `__init__` may change them: run as it is)."""
    for c in cls.__mro__:
        if "_make" in vars(c):
            return True                 # namedtuple's own class, reached first
        if "__new__" in vars(c) or "__init__" in vars(c):
            return False
    return False


def _pairs(target, value) -> bool:
    """Whether `target = value` gives names their values pair by pair (`a, b = f, x`)."""
    return isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) \
        and all(isinstance(t, ast.Name) for t in target.elts) and not any(isinstance(v, ast.Starred) for v in value.elts)


def _sequence_display(node) -> bool:
    return isinstance(node, (ast.List, ast.ListComp, ast.Tuple))


def _variant(op, node, scope, noted):
    """The op a call of `op` stands for, given the arguments it passes (Op.variants): an
    argument that is None (written so, or a global holding it) is not passed; one whose
    value is known only when the code runs (a parameter that may be None) picks the
    variant only where the variant says it holds for None too."""
    named = rules.positional_names(op.obj) or ()
    given = dict([(k.arg, k.value) for k in node.keywords] + list(zip(named, node.args)))
    for argument, key, values, unknown in op.variants:
        if argument not in given:
            continue
        value = _known(given[argument], scope)
        if isinstance(given[argument], (ast.Name, ast.Attribute)) and value is not _MISSING:
            noted(given[argument])                  # (a module global: None or not, read again at each call)
        if value is None or value is _MISSING and (values is not None or not unknown):
            continue
        if values is None or value in values:
            return rules.OPS[key]
    return op


def _known(node, scope):
    """The value an argument written as `node` has, where it is known when compiling (a
    constant, a module global); `...` for an expression that cannot be None (a list, an
    arithmetic, a NumPy call); else _MISSING."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        return scope.static_object(node)
    if isinstance(node, (ast.List, ast.Tuple, ast.ListComp, ast.BinOp, ast.UnaryOp)) or isinstance(node, ast.Call) \
            and (getattr(scope.static_object(node.func), "__module__", None) or "").split(".")[0] == "numpy":
        return ...
    return _MISSING


def _none_by_default(op, name: str, node) -> bool:
    """Whether an argument written as None is the function's own default there (so the
    call is the one that leaves it out: `np.trapezoid(y, x=None)`)."""
    if not (isinstance(node, ast.Constant) and node.value is None) or op.obj is None:
        return False
    try:
        parameter = inspect.signature(op.obj).parameters.get(name)
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.default is None


def _constant_item(op, index) -> bool:
    """Whether `index` takes an item of op's tuple result that no argument moves."""
    return op is not None and bool(op.constant_items) and isinstance(index, ir.Index) and len(index.items) == 1 \
        and isinstance(index.items[0], ir.Const) and index.items[0].value in op.constant_items


def _tuple_lengths(tree, scope) -> dict:
    """Lowerer.tuple_length of every name, read off the function's syntax in one walk
    (a name stored other than by `name = ...` alone, or once, or a parameter: 0)."""
    stores, assigns = {}, {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1
        elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            assigns.setdefault(n.targets[0].id, []).append(n)
    lengths = {None: 0}          # (never empty: the walk runs once)
    for name, values in assigns.items():
        if stores[name] < 2 or len(values) != stores[name] or name in scope.params:
            continue
        found = {_length_of(a.value, scope.static_object, scope.nested) for a in values}
        if len(found) == 1 and None not in found:
            lengths[name] = found.pop()
    return lengths


def _length_of(node, resolve, nested, depth: int = 0):
    """How many items the tuple `node` gives, where every way it can end says so, else None
    (a call: every return of the function it calls, followed a few calls deep; `resolve`
    says what a name stands for, `nested` holds the functions defined in the function)."""
    if isinstance(node, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in node.elts):
        return len(node.elts)
    if not isinstance(node, ast.Call) or depth > 4:
        return None
    callee = nested.get(node.func.id) if isinstance(node.func, ast.Name) else None
    if callee is None:
        obj = resolve(node.func)
        op = rules.lookup(obj) if obj is not _MISSING else None
        if op is not None and op.outputs:          # a rule's op returning a tuple (np.linalg.svd)
            single = obj is np.linalg.svd and any(k.arg == "compute_uv" for k in node.keywords)
            return None if single else op.outputs
        if not inspect.isfunction(obj):
            return None
        try:
            source = frontend.parse(obj)
        except Exception:  # a function s2sgrad cannot read: not known
            return None
        callee, resolve, nested = source.tree, source.resolve, {}
    returns = [r for r in ast.walk(callee) if isinstance(r, ast.Return)]
    lengths = {_length_of(r.value, resolve, nested, depth + 1) for r in returns}
    return lengths.pop() if len(lengths) == 1 else None


def _map_as_list(node: ast.Call) -> ast.ListComp:
    """`map(f, xs, ys)` as the list it gives, `[f(a, b) for a, b in zip(xs, ys)]` (the
    comprehension's names are its own: lower_flow renames them)."""
    fn, *seqs = node.args
    names = [f"map_item_{i}" for i in range(len(seqs))]
    call = ast.Call(fn, [ast.Name(n, ast.Load()) for n in names], [])
    if len(seqs) == 1:
        target, iterable = ast.Name(names[0], ast.Store()), seqs[0]
    else:
        target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
        iterable = ast.Call(ast.Name("zip", ast.Load()), list(seqs), [])
    made = ast.ListComp(call, [ast.comprehension(target, iterable, [], 0)])
    located(made, node)
    return made


def _built_from(node, kind: str, elt) -> ast.Call:
    """`kind([elt for <node's generators>])`, located where node is."""
    made = ast.Call(ast.Name(kind, ast.Load()), [ast.ListComp(elt, node.generators)], [])
    located(made, node)
    return made


def _partial_call(made: ast.Call, call: ast.Call) -> ast.Call:
    """A call of `f = functools.partial(g, a, k=v)`, `f(b, k=w)`, as the call of g it stands
    for: `g(a, b, k=w)` (the call's keywords over the partial's)."""
    given = {k.arg for k in call.keywords}
    keywords = [k for k in made.keywords if k.arg not in given] + list(call.keywords)
    return ast.copy_location(ast.Call(made.args[0], [*made.args[1:], *call.args], keywords), call)


def _is_docstring(stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
        and isinstance(stmt.value.value, str)


def _listed(node):
    """A tuple display passed to a rule's argument, as a list (`np.concatenate((a, b))`):
    lists of differentiated values have adjoints, tuples are unpacked at compile time."""
    if isinstance(node, ast.Tuple) and not all(isinstance(e, ast.Constant) for e in node.elts):
        return ast.copy_location(ast.List(node.elts, ast.Load()), node)
    return node
