"""Calls to the user's own functions, inlined at the call site.

The callee's body is lowered where the call stands, its names renamed so
they cannot meet the caller's; a function defined inside the one being
differentiated reads the caller's variables (a closure); a function from
another module reads that module's values, which the loader binds under
fresh names. Recursion is refused with a located error.
"""
from __future__ import annotations

import ast
import copy
import functools
import inspect

from .. import frontend, ir
from . import fence, lift
from ..ir import aliasing, sequences
from . import _MISSING


class CallLowering:
    """The calls half of `lower.Lowerer` (a mixin: it uses the Lowerer's helpers)."""

    def stmt_FunctionDef(self, node):
        if node.decorator_list:
            raise self.unsupported(node, "a decorated function inside a differentiated function is "
                                         "not supported", "define it without decorators")
        self.scope.nested[node.name] = node
        self.scope.own_defs[node.name] = node
        self.defined.add(node.name)
        spec = node.args                  # defaults are evaluated here, at the def, as in Python
        positional = spec.posonlyargs + spec.args
        pairs = list(zip(positional[len(positional) - len(spec.defaults):], spec.defaults))
        pairs += [(p, d) for p, d in zip(spec.kwonlyargs, spec.kw_defaults) if d is not None]
        self.scope.def_defaults[id(node)] = {p.arg: self.op("id", (self.expr(d),), d) for p, d in pairs}

    def lifted_call(self, node, callee: ast.FunctionDef, target):
        """A call to a function defined here, lifted to a function of its own (its closed-over
        variables passed as arguments), or None where it must be inlined: it cannot be
        differentiated alone, or returns a tuple not unpacked here."""
        lifted = self.lifted(callee, ())
        if lifted is None or _returns_tuple(lifted[0]) and self.unpacking is not node:
            return None
        fn, extra = lifted
        args = self.inline_args(node, callee, callee)
        args += [self.expr(ast.copy_location(ast.Name(n, ast.Load()), node)) for n in extra]
        return self.op("call", (ir.Var(self.bind(callee.name, fn)), *args), node, target)

    def lifted(self, callee: ast.FunctionDef, lifting: tuple):
        """(the lifted function, the names it takes after its own parameters), or None. A
        nested function it calls is lifted first, and handed the names it needs."""
        if self.scope.own_defs.get(callee.name) is not callee or callee.name in lifting:
            return None
        free = lift.free_names(callee)
        outer = self.scope.outer
        if any(outer is not None and n in outer.nested and n not in self.scope.own_defs for n in free):
            return None
        siblings = {}
        for name in (n for n in free if n in self.scope.own_defs):
            sibling = self.lifted(self.scope.own_defs[name], lifting + (callee.name,))
            if sibling is None:
                return None
            siblings[name] = sibling
        extra = [n for n in free if n not in self.scope.own_defs
                 and (n in self.scope.locals or n in self.src.closure or self.scope.enclosing(n))]
        extra = list(dict.fromkeys(extra + [n for _, names in siblings.values() for n in names]))
        fn = lift.lift(self.src, callee, extra, siblings)
        return (fn, extra) if _stands_alone(fn, type(self)) else None

    def inline(self, node, callee, target):
        """A call to a Python function: its body, lowered here with its own names renamed
        (a closure reads this function's variables; a function from another module reads
        its own module's values)."""
        key = callee if not isinstance(callee, ast.FunctionDef) else id(callee)
        name = ast.unparse(node.func)
        if hasattr(callee, "__s2sgrad__"):
            return self.derivative_call(node, callee, target)
        if not isinstance(callee, ast.FunctionDef) and inspect.unwrap(callee) is not callee:
            raise self.unsupported(node, f"`{name}` is decorated; s2sgrad cannot see what its decorator "
                                         "does", "call the undecorated function, or inline the decoration")
        keep = self.keep_calls and not self.passes_functions(node, callee)   # (else inlined: resolved here)
        if isinstance(callee, ast.FunctionDef) and key not in self.inlining and keep:
            lifted = self.lifted_call(node, callee, target)
            if lifted is not None:
                return lifted
        if key in self.inlining:
            if isinstance(callee, ast.FunctionDef):
                raise self.unsupported(node, f"`{name}` calls itself; recursion is supported for "
                                             "functions defined at module level only",
                                       "define it at module level")
            return self.recursive_call(node, callee, target)
        passes_items = any(isinstance(a, ast.Name) and a.id in self.packed for a in node.args)
        if not isinstance(callee, ast.FunctionDef) and keep and not passes_items \
                and _stands_alone(callee, type(self)) and (not _returns_tuple(callee) or self.unpacking is node) \
                and not _returns_sequence(callee, type(self)) and not _returns_function(callee) \
                and not self.joins_lists(node, callee):
            return self.recursive_call(node, callee, target)
        source = frontend.Source(self.src.fn, callee, self.src.file, self.src.indent, self.src.lines,
                                 self.src.closure) if isinstance(callee, ast.FunctionDef) else frontend.parse(callee)
        fence.check(source, inlined=True)
        child = type(self)(source, self.namer, outer=self.scope if isinstance(callee, ast.FunctionDef) else None,
                        inlining=self.inlining + (key,), keep_calls=self.keep_calls)
        child.scope.nested = dict(self.scope.nested) if isinstance(callee, ast.FunctionDef) else {}
        args = self.inline_args(node, source.tree, callee)
        args = child.spread(source.tree, args, node)
        names = child.scope.params
        child.scope.constants = {n: a.value for n, a in zip(names, args) if isinstance(a, ir.Const)}
        child.scope.functions = {n: self.scope.bindings[a.name] for n, a in zip(names, args)
                                 if isinstance(a, ir.Var) and callable(self.scope.bindings.get(a.name))}
        child.scope.classes = {n: self.scope.classes[a.name] for n, a in zip(names, args)
                               if isinstance(a, ir.Var) and a.name in self.scope.classes}
        child.packed |= {n: self.packed[a.name] for n, a in zip(names, args)   # a tuple whose items are known
                         if isinstance(a, ir.Var) and a.name in self.packed}
        child.fields |= {n: self.fields.get(a.name) or self.made_by(a).fields   # (and read by field: `sol.y`)
                         for n, a in zip(names, args) if isinstance(a, ir.Var) and (
                             a.name in self.fields or getattr(self.made_by(a), "fields", ()))}
        fn = child.function()
        mapping = {local: self.namer.fresh(local) for local in sorted(child.scope.locals - set(child.scope.nested))}
        if target is not None and child.returned and _MISSING not in child.returned and \
                all(r is child.returned[0] for r in child.returned):
            held = child.returned[0]                # act = pick("tanh"): a function known here
            if isinstance(held, ast.FunctionDef):   # a closure the call made: its names as renamed here
                if not isinstance(callee, ast.FunctionDef):
                    self.refuse_other_meanings(held, mapping, source, node)
                held = _closed_over(held, mapping)
                self.scope.nested[held.name] = held
                self.scope.locals |= set(mapping.values())
            self.scope.held[target] = held
        for free in sorted(fn.free - set(child.scope.bindings)):
            if self.outer_name(free, child, callee):
                if free not in self.scope.locals:          # else it is simply this function's variable
                    self.scope.free.add(free)
            else:                                    # a value of the callee's own module (noted: another
                mapping[free] = self.bind(free, source.lookup(free))     # value builds the derivative again)
                source.note_value(free)
        self.scope.bindings |= child.scope.bindings
        for param, atom in zip(fn.params, args):
            self.op("id", (atom,), node, target=mapping[param])
            self.temps.add(mapping[param])
        *body, ret = ir.rename_stmts(fn.body, mapping)
        self.body += body
        written = {id(s) for s in child.augmented}   # its `v += w`: writes the caller's check sees
        self.augmented += [new for old, new in zip(ir.walk(fn.body), ir.walk(body)) if id(old) in written]
        self.packed |= {mapping.get(k, k): ir.rename(v, mapping) for k, v in child.packed.items()}
        self.temps |= {mapping.get(t, t) for t in fn.temps}
        value = ret.value
        if target is not None and value != ir.Var(target) \
                and getattr(value, "name", None) not in self.packed:
            self.op("id", (value,), node, target=target)
            return ir.Var(target)
        return value

    def joins_lists(self, node, callee) -> bool:
        """Whether a call passes a list or tuple to a function that joins or repeats it (`+`,
        `*`), itself or in a function it passes it on to: inlined, so the caller's checks
        see it (ir/sequences.py)."""
        held = sequences.holding(self.body)
        given = [i for i, a in enumerate(node.args) if isinstance(a, (ast.List, ast.Tuple, ast.ListComp))
                 or isinstance(a, ast.Name) and a.id in held]
        return bool(given) and _joins(callee, tuple(given), type(self), ())

    def means_the_same(self, name: str, source) -> bool:
        """Whether `name`, free in another function's code (`source`), means here what it
        means there (read here, it would read this function's)."""
        if name in self.scope.locals or self.scope.enclosing(name):
            return False
        return self.src.lookup(name) is source.lookup(name)

    def refuse_other_meanings(self, fdef, mapping, source, node) -> None:
        """Refuse a function a helper returns that reads a name of the helper's module meaning
        something else here (it is called here, reading this function's names)."""
        spec = fdef.args
        own = {a.arg for a in spec.posonlyargs + spec.args + spec.kwonlyargs} | set(mapping) | \
            {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for n in ast.walk(fdef):
            if isinstance(n, ast.Name) and n.id not in own and not self.means_the_same(n.id, source):
                raise self.unsupported(node, f"the function this returns reads `{n.id}`, which means something "
                                             "else here", f"pass `{n.id}` to it as an argument")

    def recursive_call(self, node, callee, target):
        """A call kept as a call to the function itself (a module-level function that can be
        differentiated on its own, or a recursive call): the reverse sweep uses the callee's
        own derivative, compiled once for each set of differentiated arguments. A tuple
        result must be unpacked right away (`a, b = f(x)`)."""
        source = frontend.parse(callee)
        if _effects_of(callee, type(self), (callee,)):
            raise self.unsupported(node, f"`{callee.__name__}` calls itself and draws random numbers, prints or "
                                         "calls what s2sgrad runs unread; its derivative would run those again",
                                   "draw the numbers outside it and pass them in")
        if source.tree.args.kwonlyargs:
            raise self.unsupported(node, f"`{callee.__name__}` has keyword-only parameters; calls kept as "
                                         "calls (recursion) take positional ones only",
                                   "make its parameters positional")
        if _returns_tuple(callee) and self.unpacking is not node:
            raise self.unsupported(node, f"`{callee.__name__}` calls itself and returns a tuple; its "
                                         "result must be unpacked where it is called",
                                   f"write `a, b = {ast.unparse(node)}`")
        args = self.inline_args(node, source.tree, callee)
        return self.op("call", (ir.Var(self.bind(callee.__name__, callee)), *args), node, target)

    def derivative_call(self, node, derivative, target):
        """A call to a derivative s2sgrad made (`df = s2sgrad.grad(f)`), kept as a call: its
        own derivative is that of f's generated gradient (reverse over reverse, or forward
        over reverse), compiled once and printed beside."""
        name = ast.unparse(node.func)
        made = derivative.__s2sgrad__
        if not self.keep_calls or made.chain != ("reverse",):
            raise self.unsupported(node, f"`{name}` is a derivative s2sgrad made; a second derivative "
                                         "(Hessian, grad of grad) of a function that calls one is not "
                                         "supported yet", "differentiate once (s2sgrad.grad or jvp of this "
                                                          "function), or call f's own hessian")
        if (made.value or not made.single) and self.unpacking is not node:
            raise self.unsupported(node, f"`{name}` returns a tuple; unpack it where it is called",
                                   f"write `a, b = {ast.unparse(node)}`")
        args = self.inline_args(node, frontend.parse(made.fn).tree, made.fn)
        base = name.split(".")[-1] if isinstance(node.func, (ast.Name, ast.Attribute)) else derivative.__name__
        return self.op("call", (ir.Var(self.bind(base, derivative)), *args), node, target)

    def made_derivative(self, call: ast.Call):
        """`s2sgrad.grad(f, 1)` written where its result is called: the derivative, made now
        (what it is given must be known when compiling: functions, numbers, names), or None."""
        transform = self.scope.static_object(call.func)
        if getattr(transform, "__module__", None) != "s2sgrad.api" or \
                getattr(transform, "__name__", None) not in ("grad", "value_and_grad"):
            return None

        def known(node):
            try:
                return ast.literal_eval(node)
            except ValueError:
                return self.scope.static_object(node)
        args, keywords = [known(a) for a in call.args], {k.arg: known(k.value) for k in call.keywords}
        if _MISSING in args or _MISSING in keywords.values() or None in keywords:
            raise self.unsupported(call, "s2sgrad needs to know the function and arguments this derivative is "
                                         "taken of when it compiles", "pass a function defined in the module")
        return transform(*args, **keywords)

    def outer_name(self, name, child, callee) -> bool:
        """Whether an inlined function's free name means the same thing here."""
        if isinstance(callee, ast.FunctionDef):
            return name in self.scope.locals or self.scope.enclosing(name) or self.src.lookup(name) is not _MISSING
        return child.src.fn.__globals__ is self.src.fn.__globals__ and name not in child.src.closure \
            and name not in self.scope.locals

    def inline_args(self, node, tree, callee) -> list:
        """The atoms a call passes for each parameter (defaults filled in; a `*args`
        parameter gets the tuple of the values left over)."""
        if any(k.arg is None for k in node.keywords):
            raise self.unsupported(node, "`**kwargs` in a call is not supported", "pass the arguments by name")
        spec = tree.args
        positional = spec.posonlyargs + spec.args
        params = positional + ([spec.vararg] if spec.vararg else []) + spec.kwonlyargs
        if spec.kwarg:
            raise self.unsupported(node, "calling a function with a `**kwargs` parameter is not supported",
                                   "give it named parameters")
        passed = self.positional_atoms(node)
        if len(passed) > len(positional) and not spec.vararg:
            raise self.unsupported(node, "too many arguments in this call", "")
        given = {p.arg: atom for p, atom in zip(positional, passed)}
        if spec.vararg:
            given[spec.vararg.arg] = passed[len(positional):]          # (spread into parameters: `spread`)
        by_name = {p.arg for p in spec.args + spec.kwonlyargs}
        for k in node.keywords:             # (as Python would raise a TypeError)
            if k.arg not in by_name or k.arg in given:
                what = "no parameter" if k.arg not in by_name else "its value already for the parameter"
                raise self.unsupported(k, f"`{tree.name}` takes {what} `{k.arg}`", "pass each parameter once, "
                                                                                       "by its own name")
        given |= {k.arg: self.opaque_value(k.value) for k in node.keywords}
        defaults = self.defaults(tree, callee)
        atoms = []
        for p in params:
            if p.arg in given:
                atoms.append(given[p.arg])
            elif p.arg in defaults:
                atoms.append(defaults[p.arg])
            else:
                raise self.unsupported(node, f"the call gives no value for `{p.arg}`", "")
        return atoms

    def spread(self, tree, args: list, node) -> list:
        """A `*args` parameter given n values: n parameters of its own, packed into `args` as
        the body starts (its items known, so `f(*args)` passes them on); `args` aligned
        with the parameters again."""
        spec = tree.args
        if not spec.vararg:
            return args
        split = len(spec.posonlyargs + spec.args)
        names = [self.namer.fresh(f"{spec.vararg.arg}_{i}") for i in range(len(args[split]))]
        self.scope.params[split:split + 1] = names
        self.scope.locals |= set(names)
        self.defined |= set(names)
        self.op("tuple", tuple(ir.Var(n) for n in names), tree, target=spec.vararg.arg)
        self.defined.add(spec.vararg.arg)
        self.packed[spec.vararg.arg] = tuple(ir.Var(n) for n in names)
        return args[:split] + list(args[split]) + args[split + 1:]

    def positional_atoms(self, node) -> list:
        """A call's positional arguments as atoms, `*xs` spread where the items of xs are
        known (a tuple built here, a `*args` parameter); a function passed is bound by name."""
        atoms = []
        for arg in node.args:
            if not isinstance(arg, ast.Starred):
                atoms.append(self.opaque_value(arg))
                continue
            seq = self.expr(arg.value)
            items = self.packed.get(getattr(seq, "name", None))
            if items is None:
                raise self.unsupported(arg, "s2sgrad cannot tell how many values this `*` passes",
                                       "pass them one by one, or as a tuple built where it is passed")
            atoms += list(items)
        return atoms

    def passes_functions(self, node, callee) -> bool:
        """Whether a call passes a function, None or a string (or leaves a parameter to a
        default that is one): the callee is then inlined, where that value is known (a
        function to call, a `mode` or `x is None` test decided)."""
        given = list(node.args) + [k.value for k in node.keywords]
        if any(self.static_value(a) is not _MISSING or isinstance(a, ast.Constant) and
               (a.value is None or isinstance(a.value, str)) for a in given):
            return True
        defaults = () if isinstance(callee, ast.FunctionDef) else \
            tuple(callee.__defaults__ or ()) + tuple((callee.__kwdefaults__ or {}).values())
        return any(callable(d) or d is None or isinstance(d, str) for d in defaults)

    def defaults(self, tree, callee) -> dict:
        spec = tree.args
        positional = spec.posonlyargs + spec.args
        pairs = list(zip([p.arg for p in positional[len(positional) - len(spec.defaults):]], spec.defaults))
        pairs += [(p.arg, d) for p, d in zip(spec.kwonlyargs, spec.kw_defaults) if d is not None]
        if isinstance(callee, ast.FunctionDef):
            known = self.scope.defaults_of(callee)
            return known if known is not None else {name: self.expr(value) for name, value in pairs}
        values = dict(zip([n for n, _ in pairs], list(callee.__defaults__ or ()) +
                          [callee.__kwdefaults__[p.arg] for p in spec.kwonlyargs
                           if callee.__kwdefaults__ and p.arg in callee.__kwdefaults__]))
        out = {}
        for name, value in values.items():
            if isinstance(value, (bool, int, float, type(None), str)):
                out[name] = ir.Const(value)
            else:
                out[name] = ir.Var(self.bind(name, value))
        return out

    def bind(self, name: str, value) -> str:
        """The name the generated code reads `value` by (one name per value; the module's
        own name for it when that name means the same thing here)."""
        if self.src.lookup(name) is value and name not in self.scope.locals:
            self.scope.bindings[name] = value
            return name
        for known, bound in self.scope.bindings.items():
            if bound is value and known.rstrip("_0123456789") == name:
                return known
        fresh = self.namer.fresh(name)
        self.scope.bindings[fresh] = value
        return fresh


def _joins(callee, positions, lowerer, seen) -> bool:
    """Whether `callee` joins or repeats a list or tuple given at `positions`, or passes
    one on to a function that does."""
    alone = _alone(callee, lowerer) if inspect.isfunction(callee) and callee not in seen else None
    if alone is None:
        return False
    fn = alone[0]
    given = [fn.params[i] for i in positions if i < len(fn.params)]
    return bool(sequences.arithmetic(fn.body, given, maybe=fn.params)) or any(
        _joins(fn.bindings.get(getattr(call.args[0], "name", None)), inner, lowerer, seen + (callee,))
        for call, inner in sequences.passed(fn.body, given))


def _closed_over(fdef: ast.FunctionDef, mapping: dict) -> ast.FunctionDef:
    """A function a call defined and returned, reading the call's variables by the names
    they have in the caller (`mapping`)."""
    spec = fdef.args
    own = {a.arg for a in spec.posonlyargs + spec.args + spec.kwonlyargs} | \
        {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    renames = {k: v for k, v in mapping.items() if k not in own}

    class Renamed(ast.NodeTransformer):
        def visit_Name(self, node):
            return ast.copy_location(ast.Name(renames[node.id], node.ctx), node) if node.id in renames else node
    return Renamed().visit(copy.deepcopy(fdef))


@functools.lru_cache(maxsize=512)
def _returns_function(callee) -> bool:
    """Whether a function returns a function (a lambda, a `def` of its own, one of its
    module's): inlined, so the caller knows which function it holds."""
    try:
        source = frontend.parse(callee)
    except Exception:  # unreadable: not kept as a call anyway
        return False
    tree = source.tree
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n is not tree}
    for n in ast.walk(tree):
        value = n.value if isinstance(n, ast.Return) else None
        if isinstance(value, ast.Lambda) or isinstance(value, ast.Name) and value.id in defined:
            return True
        if isinstance(value, (ast.Name, ast.Attribute)) and callable(source.resolve(value)):
            return True
    return False


def _returns_sequence(callee, lowerer) -> bool:
    """Whether a function returns a list or tuple it makes: inlined, so the caller knows
    the value is one (ir/sequences.py)."""
    alone = _alone(callee, lowerer) if inspect.isfunction(callee) else None
    ret = alone[0].body[-1] if alone is not None and alone[0].body else None
    return isinstance(ret, ir.Return) and isinstance(ret.value, ir.Var) and \
        ret.value.name in sequences.holding(alone[0].body)


@functools.lru_cache(maxsize=512)
def _alone(callee, lowerer):
    """(a module-level function lowered on its own by the class `lowerer`, the writes its
    augmented assignments make), or None where it cannot be."""
    try:
        source = frontend.parse(callee)
        fence.check(source)
        lowering = lowerer(source, inlining=(source.fn,))
        return lowering.function(), lowering.augmented
    except Exception:  # anything it cannot do alone, inlining may still do
        return None


@functools.lru_cache(maxsize=512)
def _stands_alone(callee, lowerer) -> bool:
    """Whether a module-level function can be differentiated as a function of its own:
    it lowers on its own (a helper that takes keywords by name, writes into its parameters
    or returns one of them, or a view of one, is inlined instead)."""
    try:
        tree = frontend.parse(callee).tree
    except Exception:  # unreadable: run as it is, or refused, where it is called
        return False
    if tree.args.kwonlyargs or _writes_parameters(tree):
        return False              # inlined: keywords by name, and writes the caller sees
    alone = _alone(callee, lowerer)
    if alone is None or _has_effects(alone[0], lowerer):
        return False              # inlined: its draws and prints run once, where the caller runs them
    return not aliasing.reaches_parameters(*alone)       # else inlined: the caller sees it


def _has_effects(fn, lowerer, seen=()) -> bool:
    """Whether lowered code runs an effect (ir.EFFECTS: a random draw, a print), itself or in
    a function it keeps as a call: its own derivative would run it again."""
    for s in ir.walk_all(fn.body):
        if isinstance(s, ir.Assign) and s.op in ir.EFFECTS:
            return True
        if isinstance(s, ir.Assign) and s.op == "call" and isinstance(s.args[0], ir.Var):
            callee = fn.bindings.get(s.args[0].name)
            if inspect.isfunction(callee) and callee not in seen and _effects_of(callee, lowerer, seen + (callee,)):
                return True
    return False


_CHECKING: set = set()   # callees whose effects are being looked for (lowering one meets its own calls)


def _effects_of(callee, lowerer, seen) -> bool:
    if callee in _CHECKING:
        return False      # the check already under way looks at this function's body
    _CHECKING.add(callee)
    try:
        alone = _alone(callee, lowerer)
        return alone is not None and _has_effects(alone[0], lowerer, seen)   # (unreadable: not kept as a call)
    finally:
        _CHECKING.discard(callee)


@functools.lru_cache(maxsize=512)
def _returns_tuple(callee) -> bool:
    """Whether a module-level function returns a tuple (`return a, b`)."""
    return any(isinstance(n, ast.Return) and isinstance(n.value, ast.Tuple)
               for n in ast.walk(frontend.parse(callee).tree))


def _writes_parameters(tree) -> bool:
    """Whether a function writes into (or appends to) one of its parameters."""
    params = {a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    for n in ast.walk(tree):
        target = n.targets[0] if isinstance(n, ast.Assign) and len(n.targets) == 1 else \
            n.target if isinstance(n, ast.AugAssign) else None
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id in params:
            return True
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id in params:
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "append" \
                and isinstance(n.func.value, ast.Name) and n.func.value.id in params:
            return True
    return False
