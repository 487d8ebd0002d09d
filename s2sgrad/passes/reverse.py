"""Reverse mode: the adjoint program of a normalized function.

    def f(x):                       def grad_f(x):
        y = sin(x)                      y = np.sin(x)
        return y            ==>         # adjoint of line 2: y = np.sin(x)
                                        dx = 1.0 * np.cos(x)
                                        return y, dx

The forward sweep is the primal code; outside loops and branches SSA names
keep every value the adjoints read alive. The reverse sweep visits the active
statements backwards and inlines each op's rule from the table: elementwise
ops multiply the adjoint by their partials (and undo broadcasting); other ops
inline their adjoint template. The first contribution to an adjoint is
assigned under its readable name (`dx`), later ones are added (in place when
the array is the code's own). Branches run backwards on the same arm, loops
turn backwards, and every value a loop or branch overwrites is popped back
from the tape after its line's adjoint (`tape.py` decides what is recorded);
calls pull back through the callee's own vjp (`named_calls.py`).

`kind="grad"` seeds the output with 1.0 and returns `(value, gradients)`;
`kind="vjp"` returns `(value, pullback)`, or for a function with loops or
branches takes the cotangent as its last argument.
"""
from __future__ import annotations

from .. import ir, rules
from ..errors import NoHelperRuleError, NoRuleError, NotDifferentiableError
from ..frontend.templates import inline, template
from ..ir.names import RESERVED, Namer, temp_base
from . import named_calls, tape
from .activity import active_values, differentiable_positions
from .complex_values import is_complex
from .dce import drop_dead


def run(fn: ir.Function, wrt: tuple, kind: str = "grad", single: bool = True,
        origin=None, callees=None, summed: bool = False, flat: bool = False) -> ir.Function:
    """The derivative of `fn` (lowered from the Python function `origin`) with respect to
    the parameters named in `wrt`; `callees` compiles the vjps of the functions it calls
    (named_calls.run). `summed`: a gradient of the sum of the output, which may have any
    shape (its seed is an array of ones shaped like it). `flat`: a vjp takes the cotangent
    as its last argument whatever the code (no pullback function: Numba returns none)."""
    fn = tape.count_turns(fn)
    flows = flat or any(isinstance(s, ir.NESTED) for s in fn.body)
    name = Namer(_taken(fn)).fresh(f"{kind}_{fn.name}")
    outputs = len(fn.body[-1].value) if isinstance(fn.body[-1].value, tuple) else 0
    itself = (origin, tuple(fn.params.index(w) for w in wrt), name, outputs) \
        if kind == "vjp" and flows else None
    fn = named_calls.run(fn, active_values(fn, wrt), callees, itself, name)
    *forward, ret = fn.body
    sweep = Reverse(fn, active_values(fn, wrt))
    sweep.complex = fn.complex                # (complex_values.py)
    sweep.namer.taken.add(name)
    back = sweep.namer.fresh("pullback")      # (before any other name: a user's `pullback` stays theirs)
    out = ret.value
    if kind == "grad" and isinstance(out, tuple):
        raise NotDifferentiableError("`grad` needs one scalar output, but this function returns "
                                     f"{len(out)} values", ret.loc,
                                     hint="use s2sgrad.vjp with one cotangent per output, or "
                                          "return one value")
    if kind == "grad" and is_complex(out, sweep.complex):
        raise NotDifferentiableError("`grad` needs a real-valued output, but this function's value may be "
                                     "complex", ret.loc, hint="return np.real(...), np.abs(...) ** 2 or another "
                                     "real number; or use s2sgrad.vjp with a complex cotangent")
    ones = []
    if kind == "grad" and summed and isinstance(out, ir.Var):
        seed = ir.Var(sweep.namer.fresh("d" + out.name))
        ones = [ir.Assign(seed.name, "np.ones_like", (out,), (), ret.loc)]   # d(sum(out)) / d(out)
    elif kind == "grad":
        seed = ir.Const(1.0)
    else:
        seed = ir.Var(sweep.namer.fresh("d" + out.name if isinstance(out, ir.Var) else "dout"))
    sweep.out = ones + sweep.seed(out, seed, ret.loc) + sweep.block(forward)
    sweep.out[:0] = [ir.Assign(d, "list", ()) for d in sweep.dtapes.values()]
    grads = tuple(sweep.gradient(p, fn.loc) for p in wrt)
    temps = frozenset(fn.temps | sweep.temps)
    derived = frozenset(sweep.dnames.values()) | sweep.derived
    forward, backward, value = tape.record(forward, sweep.out, out, sweep)
    if kind == "grad" or flows:
        params = fn.params + ((seed.name,) if kind == "vjp" else ())
        value = (value, grads[0] if single and kind == "grad" else grads)
        return ir.Function(name, params, (*forward, *backward, ir.Return(value)), fn.loc, temps,
                           fn.free, _doc(fn, wrt, kind, flows), derived, fn.bindings,
                           fn.companions)
    pullback = ir.Function(back, (seed.name,), (*backward, ir.Return(grads)), fn.loc, temps,
                           derived=derived)
    body = (*forward, ir.Def(pullback), ir.Return((value, ir.Var(back))))
    return ir.Function(name, fn.params, body, fn.loc, temps, fn.free, _doc(fn, wrt, kind, flows),
                       derived, fn.bindings, fn.companions)


def _doc(fn, wrt, kind, flows=False) -> str:
    names = ", ".join(wrt)
    grads = ", ".join("d" + w for w in wrt)
    grads_tuple = grads + ("," if len(wrt) == 1 else "")
    if kind == "grad":
        return f"Gradient of {fn.name} with respect to {names}: returns ({fn.name}(...), " + \
            (f"{grads})." if len(wrt) == 1 else f"({grads})).")
    if flows:
        return (f"Vector-Jacobian product of {fn.name} with respect to {names}, for the cotangent "
                f"given last: returns ({fn.name}(...), ({grads_tuple}))")
    return (f"Vector-Jacobian product of {fn.name} with respect to {names}: returns "
            f"({fn.name}(...), pullback); pullback(cotangent) returns the gradients.")


INT_OPS = {"add", "sub", "mul", "floordiv", "mod", "neg", "pos", "id", "len", "np.ndim", "np.size"}


def _int_names(fn: ir.Function) -> set:
    """Names that hold Python integers on every path: turns of `range` loops, lengths,
    items of shapes, and integer arithmetic on them (a name assigned anything else, or
    a parameter, may hold an array)."""
    defs: dict = {}
    for s in ir.walk(fn.body):
        if isinstance(s, ir.For):
            defs.setdefault(s.target, []).append("int")
        elif isinstance(s, ir.While) and s.counter:
            defs.setdefault(s.counter, []).append("int")
        elif isinstance(s, ir.Assign):
            defs.setdefault(s.target, []).append(s)
        elif isinstance(s, ir.Pop):
            continue                          # a pop restores a value assigned elsewhere
    shapes = {s.target for s in ir.walk(fn.body) if isinstance(s, ir.Assign) and s.op == "np.shape"}
    ints: set = set()
    changed = True
    while changed:
        changed = False
        for name, how in defs.items():
            if name not in ints and name not in fn.params and all(_int_def(d, ints, shapes) for d in how):
                ints.add(name)
                changed = True
    return ints


def _int_def(d, ints: set, shapes: set) -> bool:
    if d == "int":
        return True
    atoms = [a for a in d.args if not isinstance(a, ir.Index)]
    known = all(isinstance(a, ir.Var) and a.name in ints or isinstance(a, ir.Const)
                and type(a.value) is int or isinstance(a, ir.Const) and a.value is None for a in atoms)
    if d.op == "getitem":                 # an item of a shape
        return isinstance(d.args[0], ir.Var) and d.args[0].name in shapes
    return d.op in ("len", "np.ndim", "np.size") or d.op in INT_OPS and known


def _calls_and_tuples(fn: ir.Function) -> tuple[dict, dict]:
    """(each call of a callee's vjp by the name of the pair it returns, the number of items
    of each tuple result whose items' adjoints are held and pulled back together): a call's
    tuple result, or an op's (`sign, logdet = np.linalg.slogdet(a)`), which may only be
    unpacked."""
    pairs, tuples, flat = {}, {}, list(ir.walk(fn.body))
    for s in flat:
        if not isinstance(s, ir.Assign):
            continue
        how = dict(s.params) if s.op == "call" else {}
        if "wanted" in how and "rerun" not in how:
            pairs[s.target] = s
        elif how.get("outputs"):
            tuples[s.target] = how["outputs"]
        elif s.op == "getitem" and isinstance(s.args[0], ir.Var) and s.args[0].name in pairs:
            if dict(pairs[s.args[0].name].params)["outputs"]:
                tuples[s.target] = dict(pairs[s.args[0].name].params)["outputs"]
        elif rules.OPS.get(s.op) is not None and rules.OPS[s.op].outputs:
            items = [t for t in flat if isinstance(t, ir.Assign) and t.op == "getitem"
                     and t.args[0] == ir.Var(s.target) and _one_item(t)]
            readers = [t for t in flat if s.target in ir.uses(t) and not isinstance(t, ir.NESTED)]
            if len(readers) != len(items):
                op = rules.OPS[s.op]
                fields = [f"`.{f}`" for f in op.fields if f != "*"]
                raise NoRuleError(f"`{rules.shown(s.op)}` returns {op.outputs} values; only its items can be used "
                                  "here", s.loc, hint=f"read them where it is called ({', '.join(fields)}) and pass "
                                  "those on" if fields else "unpack them where it is called: `a, b = ...`")
            tuples[s.target] = rules.OPS[s.op].outputs
    return pairs, tuples


def _one_item(stmt: ir.Assign) -> bool:
    """Whether a getitem takes one item by a constant (`t[1]`)."""
    items = stmt.args[1].items
    return len(items) == 1 and isinstance(items[0], ir.Const)


def _taken(fn: ir.Function) -> set:
    """The names a derivative of `fn` must not make up."""
    names = set(fn.params) | set(fn.free) | RESERVED | {tape.TAPE}
    for stmt in fn.body:
        names |= ir.uses(stmt) | ir.defs(stmt)
    return names


class Reverse:
    def __init__(self, fn: ir.Function, active: frozenset):
        names = _taken(fn)
        self.namer, self.active, self.fn = Namer(names), active, fn
        self.mutable = tape.mutable_names(fn)
        self.ints = _int_names(fn)
        self.bound = tape.bound_before(fn)
        self.first = tape.first_bindings(fn)
        self.user_names = names - fn.temps
        self.adj = Adjoints()        # primal name -> the atom holding its adjoint so far
        self.dnames: dict = {}       # primal name -> the name of its adjoint variable
        self.out: list = []
        self.temps: set = set()
        self.derived: set = set()    # every name the reverse sweep computes
        self.pairs, self.tuples = _calls_and_tuples(fn)   # calls of callees' vjps; tuple results
        self.held: dict = {}         # (tuple result, index) -> its item's adjoint, until the call
        self.line = None
        self.claimed: set = set()    # adjoints a contribution of this statement assigns first
        self.dtapes: dict = {}       # a tape the function keeps -> its adjoint tape
        self.complex: frozenset = frozenset()    # names that may hold complex numbers

    def dname(self, name: str) -> str:
        if name not in self.dnames:
            self.dnames[name] = self.namer.fresh("d" + name)
            if name in self.fn.temps:
                self.temps.add(self.dnames[name])
        return self.dnames[name]

    def output_name(self, name: str) -> str:
        """Where a contribution to `name`'s adjoint is computed: `dx` itself if it is
        the first, else a part to be added to it."""
        if self.adj.get(name) is None and name not in self.claimed:
            self.claimed.add(name)
            return self.dname(name)
        part = self.namer.fresh(self.dname(name) + "_part")
        self.temps.add(part)
        self.derived.add(part)
        return part

    def temp(self, op: str, args) -> str:
        name = self.namer.fresh(temp_base(op, args, self.user_names))
        self.temps.add(name)
        self.derived.add(name)
        return name

    # -- one statement ------------------------------------------------------

    # -- statements, in reverse -----------------------------------------------

    def seed(self, out, seed, loc) -> list:
        """The output's adjoint is the seed; each item of a tuple output gets its item of
        the seed (returns the statements that take the items)."""
        if not isinstance(out, tuple):
            if isinstance(out, ir.Var) and out.name in self.active:
                self.adj[out.name] = seed
            return []
        stmts, parts = [], []
        for i, item in enumerate(out):
            if isinstance(item, ir.Var) and item.name in self.active:
                part = self.output_name(item.name)
                stmts.append(ir.Assign(part, "getitem", (seed, ir.Index((ir.Const(i),))), (), loc))
                parts.append((item.name, ir.Var(part)))
        saved, self.out = self.out, []
        self.commit(stmts, parts, loc)
        result, self.out = self.out, saved
        return result

    def block(self, stmts, keep=()) -> list:
        """The reverse of a list of statements; `keep` names adjoints that must be in
        their own variables at the end (the state a loop or branch must agree on)."""
        saved, self.out, self.line = self.out, [], None
        for stmt in reversed(stmts):
            self.visit(stmt)
        self.materialize(keep)
        result, self.out = self.out, saved
        return result

    def visit(self, stmt) -> None:
        if isinstance(stmt, ir.If):
            return self.branch(stmt)
        if isinstance(stmt, (ir.For, ir.While)):
            return self.loop(stmt)
        if isinstance(stmt, ir.Push):
            return self.pushed(stmt)
        if not isinstance(stmt, (ir.Assign, ir.Pop)):
            return
        dans = self.adj.get(stmt.target) if stmt.target in self.active else None
        owned = stmt.target in self.adj.owned
        if stmt.target in self.mutable:             # the value before this line is another one
            self.adj.pop(stmt.target, None)
            self.adj.owned.discard(stmt.target)
        if isinstance(stmt, ir.Pop):
            self.popped(stmt, dans)
        elif dans is not None:
            if owned and tape.written_index(stmt) is not None:
                self.adj.owned.add(stmt.target)         # a write in place may reuse its adjoint
            self.backprop(stmt, dans)
            if self.adj.get(stmt.target) is None:
                self.adj.owned.discard(stmt.target)
        if stmt.target in self.mutable:
            if id(stmt) not in self.first:
                self.out.append(ir.Pop(tape.TAPE, stmt.target, tape.written_index(stmt)))

    def branch(self, stmt: ir.If) -> None:
        keep = self.carried(stmt)
        self.materialize(keep)
        before, arms, ends = self.adj, [], []
        for body in (stmt.body, stmt.orelse):
            self.adj = before.fork()
            arms.append(tuple(self.block(body, keep)))
            ends.append(self.adj)
        self.adj = before.joined(*ends)       # (both arms leave the carried adjoints in `dx`)
        self.out.append(ir.If(stmt.cond, arms[0], arms[1], stmt.loc))

    def loop(self, stmt) -> None:
        """A loop's turns in reverse order; a `while` runs as many turns as it counted."""
        keep = self.carried(stmt)
        self.materialize(keep)
        while True:       # adjoints owned at the top of a turn must still be owned at its end
            before = self.adj
            self.adj = before.fork()
            if isinstance(stmt, ir.For):
                body = self.block(stmt.body, keep)
            else:
                body = self.block(list(stmt.test) + list(stmt.body), keep)
            if before.owned <= self.adj.owned:
                break
            self.adj = before.joined(self.adj)
        self.adj = before
        if isinstance(stmt, ir.For):
            self.out.append(ir.For(stmt.target, stmt.start, stmt.stop, stmt.step, tuple(body), stmt.loc,
                                   reverse=not stmt.reverse))
            return
        self.out += self.block(list(stmt.test))          # the last test, which ended the loop
        self.out.append(ir.For(self.namer.fresh("turn"), ir.Const(0), ir.Var(stmt.counter), ir.Const(1),
                               tuple(body), stmt.loc, reverse=True))

    def carried(self, stmt) -> set:
        """Adjoints a loop or branch may change that exist before it (so both arms, or
        every turn, must leave them in the variable `dx`)."""
        names = set()
        for s in ir.walk([inner for body in ir.bodies(stmt) for inner in body]):
            if isinstance(s, ir.Pop) and s.target in self.active or \
                    isinstance(s, ir.Push) and isinstance(s.value, ir.Var) and s.value.name in self.active:
                names.add(s.target if isinstance(s, ir.Pop) else s.value.name)   # (a gradient's tape)
            elif isinstance(s, ir.Assign) and s.target in self.active:
                names.add(s.target)
                names |= {s.args[i].name for i in differentiable_positions(s)
                          if isinstance(s.args[i], ir.Var) and s.args[i].name in self.active}
        inside = set().union(*(ir.defs(s) for body in ir.bodies(stmt) for s in body))
        live = {n for n in inside if self.adj.get(n) is not None}   # read after it: dy flows in
        return names & (self.bound[id(stmt)] | tape.carried_by(stmt) | live)

    def materialize(self, names) -> None:
        """Put the adjoints of `names` in their own variables (zeros where there is none yet)."""
        for name in sorted(names):
            current, target = self.adj.get(name), ir.Var(self.dname(name))
            if current == target:
                continue
            if current is None:
                self.out.append(ir.Assign(target.name, "zero_grad", (ir.Var(name),)))
                self.adj.owned.add(name)
            else:
                self.out.append(ir.Assign(target.name, "id", (current,)))
                self.adj.owned.discard(name)
            self.adj[name] = target

    # -- a gradient's tape, differentiated again (reverse over reverse) ------------

    def dtape(self, tape_name: str) -> str:
        """The adjoint tape of a tape the function keeps: what comes off the tape in the
        forward sweep goes back on this one as an adjoint, for the push to take."""
        if tape_name not in self.dtapes:
            self.dtapes[tape_name] = self.namer.fresh("d" + tape_name)
        return self.dtapes[tape_name]

    def popped(self, stmt: ir.Pop, dans) -> None:
        """`x = pop(tape)` (or `x[i] = pop(tape)`): the popped value's adjoint goes on the
        adjoint tape (zeros if nothing flowed into it); the value x held before keeps the
        rest (its other items)."""
        if stmt.target not in self.active:
            return
        if dans is None:
            dans = ir.Var(self.temp("zero_grad", ()))
            self.out.append(ir.Assign(dans.name, "zero_grad", (ir.Var(stmt.target),)))
        self.out.append(ir.Push(self.dtape(stmt.tape), dans, stmt.index))
        if stmt.index is not None:
            rest = self.output_name(stmt.target)
            self.out += [ir.Assign(rest, "np.copy", (dans,)),
                         ir.Assign(rest, "setitem", (ir.Var(rest), stmt.index, ir.Const(0.0)))]
            self.adj[stmt.target] = ir.Var(rest)
            self.adj.owned.add(stmt.target)
            self.claimed.clear()

    def pushed(self, stmt: ir.Push) -> None:
        """`push(tape, v)` (or of `v[i]`) saved a value for a pop: the adjoint that pop put
        on the adjoint tape flows into v's."""
        value = stmt.value
        if not (isinstance(value, ir.Var) and value.name in self.active):
            return
        back = self.temp("popped", ())
        self.out.append(ir.Pop(self.dtape(stmt.tape), back))
        if stmt.index is None:
            return self.commit([], [(value.name, ir.Var(back))], None)
        item = ir.Assign(self.temp("getitem", ()), "getitem", (value, stmt.index))
        op = rules.OPS["getitem" if self.basic(stmt.index) else "getitem.any"]
        self.commit(*self.from_template(item, op, [0], ir.Var(back)), None)

    # -- one assignment -------------------------------------------------------

    def backprop(self, stmt: ir.Assign, dans) -> None:
        if not any(isinstance(stmt.args[i], ir.Var) and stmt.args[i].name in self.active
                   for i in differentiable_positions(stmt)):
            return                                   # a constant: nothing flows back
        if stmt.loc is not None and (stmt.loc.file, stmt.loc.line) != self.line:
            self.line = (stmt.loc.file, stmt.loc.line)
            where = "" if self.fn.loc is None or stmt.loc.file == self.fn.loc.file else \
                f"{stmt.loc.file.rsplit('/', 1)[-1]} "
            self.out.append(ir.Comment(f"adjoint of {where}line {stmt.loc.line}: {stmt.loc.text.strip()}"))
        op = rules.OPS[stmt.op]
        rules.check_statics(op, stmt)
        wanted = [i for i in differentiable_positions(stmt)
                  if isinstance(stmt.args[i], ir.Var) and stmt.args[i].name in self.active]
        if op.kind == "helper" and op.rule is None:
            raise NoHelperRuleError(f"reverse mode has no rule for the gradient's helper `{stmt.op}` yet",
                                    stmt.loc, hint="differentiate the gradient in forward mode (s2sgrad.hvp, "
                                                   "or jvp of it)")
        how = self.pulls(stmt)
        if how is not None:
            stmts, parts = self.pull(stmt, dans, how)
        elif op.kind == "elementwise":
            stmts, parts = self.elementwise(stmt, op, wanted, dans)
        elif stmt.op == "call":
            stmts, parts = self.call(stmt, wanted, dans)
        elif stmt.op == "tuple":                      # each item's adjoint: that item of the tuple's
            stmts, parts = [], []
            for i in wanted:
                part = self.output_name(stmt.args[i].name)
                stmts.append(ir.Assign(part, "getitem", (dans, ir.Index((ir.Const(i),))), (), stmt.loc))
                parts.append((stmt.args[i].name, ir.Var(part)))
        else:
            if stmt.op in ("getitem", "setitem") and not self.basic(stmt.args[1]):
                op = rules.OPS[stmt.op + ".any"]     # an index that may repeat an entry
            stmts, parts = self.from_template(stmt, op, wanted, dans)
        self.commit(*self.kept_real(stmt, stmts, parts), stmt.loc)

    def kept_real(self, stmt, stmts, parts):
        """Where a real value meets a complex one (`x * z`), the real part of what flows
        back to the real value: the adjoint of a real value is real (complex_values.py)."""
        if not self.complex or not (stmt.target in self.complex or any(is_complex(a, self.complex)
                                                                      for a in stmt.args)):
            return stmts, parts
        kept = []
        for name, part in parts:
            if name in self.complex or not isinstance(part, ir.Var):
                kept.append((name, part))
                continue
            if any(isinstance(s, ir.Assign) and s.target == part.name for s in stmts):
                whole, real = self.temp("part", ()), part      # (the contribution keeps its name)
                stmts = list(ir.rename_stmts(stmts, {part.name: whole}))
            else:
                whole, real = part.name, ir.Var(self.temp("real", ()))
            stmts = [*stmts, ir.Assign(real.name, "np.real", (ir.Var(whole),), (), stmt.loc)]
            kept.append((name, real))
        return stmts, kept

    def basic(self, index) -> bool:
        """Whether an index is basic indexing (integers known to be integers, slices,
        None, ...), whose entries never repeat."""
        return all(not isinstance(i, ir.Var) or i.name in self.ints for i in index.items)

    def elementwise(self, stmt, op, wanted, dans):
        """dans * partial, summed back to each argument's shape."""
        mapping = dict(zip(op.args, stmt.args)) | {"ans": ir.Var(stmt.target)}
        stmts, result = self.inline(template(op), mapping, {}, stmt.loc)
        partials = result if isinstance(result, tuple) else (result,)
        needed = {partials[i].name for i in wanted if isinstance(partials[i], ir.Var)}
        stmts = drop_dead(stmts, needed)       # no partials of arguments nobody asked for
        parts = []
        for i in wanted:
            arg, summed = stmt.args[i], _broadcasts(stmt, i)
            part = self.output_name(arg.name)
            product = self.temp("mul", ()) if summed else part
            stmts.append(ir.Assign(product, "mul", (dans, partials[i]), loc=stmt.loc))
            if summed:
                stmts.append(ir.Assign(part, "unbroadcast", (ir.Var(product), arg), loc=stmt.loc))
            parts.append((arg.name, ir.Var(part)))
        return stmts, parts

    def pulls(self, stmt) -> str | None:
        """How a statement pulls back when its op's rule does not say: "item" (an item of a
        tuple result, held for the statement that made the tuple), "outputs" (an op that
        returns a tuple), "pullback" (the value of a call of a callee's vjp) or "rerun" (a
        call whose callee's vjp runs again with the cotangent)."""
        array = stmt.args[0].name if stmt.op == "getitem" and isinstance(stmt.args[0], ir.Var) else None
        if array in self.pairs:
            return "pullback"
        if array in self.tuples and _one_item(stmt):
            return "item"
        if stmt.op == "call" and "rerun" in dict(stmt.params):
            return "rerun"
        if stmt.op != "call" and rules.OPS[stmt.op].outputs:
            return "outputs"
        return None

    def pull(self, stmt, dans, how: str):
        """A call's contributions from the callee's own vjp: its pullback, or a run of its
        vjp with the cotangent (a callee with loops or branches)."""
        if how == "item":                          # held until the call that made the tuple
            result = stmt.args[0].name
            index = stmt.args[1].items[0].value % self.tuples[result]     # (`r[-1]`: the last item)
            self.adj[result] = ir.Var(result)      # (so that the call pulls back)
            held = self.held.get((result, index))
            if held is None:
                self.held[(result, index)] = dans
                return [], []
            total = self.temp("add", ())           # the same item read twice: both adjoints
            self.held[(result, index)] = ir.Var(total)
            return [ir.Assign(total, "add", (held, dans), (), stmt.loc)], []
        if how == "outputs":                       # an op returning a tuple: its template
            together = ir.Var(self.temp("tuple", ()))
            stmts = self.cotangents(stmt.target, rules.OPS[stmt.op].outputs, together.name, stmt.loc)
            op = rules.OPS[stmt.op]
            wanted = [i for i in differentiable_positions(stmt)
                      if isinstance(stmt.args[i], ir.Var) and stmt.args[i].name in self.active]
            more, parts = self.from_template(stmt, op, wanted, together)
            return stmts + more, parts
        call = self.pairs[stmt.args[0].name] if how == "pullback" else stmt
        facts = dict(call.params)
        name = call.target if how == "pullback" else facts["rerun"]
        args, wanted, outputs = call.args[1:], facts["wanted"], facts["outputs"]
        stmts = []
        if outputs:
            dans = ir.Var(self.temp("tuple", ()))
            stmts = self.cotangents(stmt.target, outputs, dans.name, stmt.loc)
        result = self.temp("vjp", ())
        if how == "pullback":    # the pullback reads the arguments its closure kept: say so
            back = self.temp("pullback", ())
            stmts += [ir.Assign(back, "getitem", (ir.Var(name), ir.Index((ir.Const(1),))), (), stmt.loc),
                      ir.Assign(result, "pullback", (ir.Var(back), dans, *args), (), stmt.loc)]
        else:
            ran = self.temp("vjp", ())
            stmts += [ir.Assign(ran, "call", (ir.Var(name), *args, dans), (), stmt.loc),
                      ir.Assign(result, "getitem", (ir.Var(ran), ir.Index((ir.Const(1),))), (), stmt.loc)]
        parts = []
        for k, i in enumerate(wanted):
            arg = args[i - 1]
            part = self.output_name(arg.name)
            stmts.append(ir.Assign(part, "getitem", (ir.Var(result), ir.Index((ir.Const(k),))), (), stmt.loc))
            parts.append((arg.name, ir.Var(part)))
        return stmts, parts

    def cotangents(self, result: str, outputs: int, into: str, loc) -> list:
        """`into = (d0, d1, ...)`: the held adjoints of a tuple result's items, zeros shaped
        like the items nobody differentiated."""
        stmts, items = [], []
        for i in range(outputs):
            held = self.held.pop((result, i), None)
            if held is None:
                item, held = self.temp("getitem", ()), ir.Var(self.temp("zero_grad", ()))
                stmts += [ir.Assign(item, "getitem", (ir.Var(result), ir.Index((ir.Const(i),))), (), loc),
                          ir.Assign(held.name, "zero_grad", (ir.Var(item),), (), loc)]
            items.append(held)
        return stmts + [ir.Assign(into, "tuple", tuple(items), (), loc)]

    def call(self, stmt, wanted, dans):
        """A call kept as a call (a recursive one): its derivative is the callee's own
        compiled vjp, run by `call_adjoint` at run time."""
        grads = self.temp("call_adjoint", ())
        wrt = tuple(i - 1 for i in wanted)
        stmts = [ir.Assign(grads, "call_adjoint", (*stmt.args, dans), (("wrt", wrt),), stmt.loc)]
        parts = []
        for k, i in enumerate(wanted):
            part = self.output_name(stmt.args[i].name)
            stmts.append(ir.Assign(part, "getitem", (ir.Var(grads), ir.Index((ir.Const(k),))), (), stmt.loc))
            parts.append((stmt.args[i].name, ir.Var(part)))
        return stmts, parts

    def from_template(self, stmt, op, wanted, dans):
        """The op's adjoint template, with its parameters renamed."""
        if op.into and self.can_add_into(stmt, op, wanted, dans):
            return self.into_template(stmt, op, wanted, dans)
        tmpl = template(op)
        mapping = dict(zip(op.args, stmt.args)) | dict(op.statics) | dict(stmt.params)
        mapping = {k: v if isinstance(v, (ir.Var, ir.Const, ir.Index)) else ir.Const(v)
                   for k, v in mapping.items()}
        mapping |= {"ans": ir.Var(stmt.target), "dans": dans}
        outputs = {"d" + op.args[i]: self.output_name(stmt.args[i].name) for i in wanted}
        stmts, _ = self.inline(tmpl, mapping, outputs, stmt.loc)
        for i in wanted:        # a new array of zeros or a copy is the generated code's own
            first = next(s for s in stmts if s.target == outputs["d" + op.args[i]])
            if first.op in ("np.zeros", "np.copy", "zero_grad", "unindex") and self.adj.get(stmt.args[i].name) is None:
                self.adj.owned.add(stmt.args[i].name)
        return stmts, [(stmt.args[i].name, ir.Var(outputs["d" + op.args[i]])) for i in wanted]

    def can_add_into(self, stmt, op, wanted, dans) -> bool:
        """Whether every adjoint the in-place rule updates is an array this code owns
        (and, for a rule that rewrites the incoming adjoint, is that adjoint)."""
        inplace = [i for i in wanted if "d" + op.args[i] in template(op, into=True).params]
        if op.into_same and any(dans != ir.Var(self.dnames.get(stmt.args[i].name, "")) for i in inplace):
            return False
        return bool(inplace) and all(stmt.args[i].name in self.adj.owned for i in inplace)

    def into_template(self, stmt, op, wanted, dans):
        """Add into adjoints the generated code owns, in place (`dx[i] += dans`)."""
        tmpl = template(op, into=True)
        mapping = dict(zip(op.args, stmt.args)) | {"ans": ir.Var(stmt.target), "dans": dans}
        inplace = {"d" + op.args[i]: self.dname(stmt.args[i].name) for i in wanted
                   if "d" + op.args[i] in tmpl.params}
        fresh = {"d" + op.args[i]: self.output_name(stmt.args[i].name) for i in wanted
                 if "d" + op.args[i] not in tmpl.params}
        for i in wanted:
            if "d" + op.args[i] in tmpl.params:
                self.adj[stmt.args[i].name] = ir.Var(self.dname(stmt.args[i].name))
        stmts, _ = self.inline(tmpl, mapping | {k: ir.Var(v) for k, v in inplace.items()},
                               inplace | fresh, stmt.loc)
        return stmts, [(stmt.args[i].name, ir.Var(fresh["d" + op.args[i]])) for i in wanted
                       if "d" + op.args[i] in fresh]

    def inline(self, tmpl, mapping: dict, outputs: dict, loc):
        """A template's statements with parameters mapped and locals renamed."""
        return inline(tmpl, mapping, outputs, loc, self.temp)

    def commit(self, stmts, parts, loc) -> None:
        """Add each contribution to its adjoint (the first one already is `dx`)."""
        self.out += stmts
        for name, part in parts:
            current = self.adj.get(name)
            if current is None or current == part:
                self.adj[name] = part
            else:
                target = self.dname(name)
                # an array no other name sees is added into in place (`dx += part`)
                add = "iadd" if name in self.adj.owned and current == ir.Var(target) else "add"
                self.out.append(ir.Assign(target, add, (current, part), loc=loc))
                self.adj[name] = ir.Var(target)
                self.adj.owned.add(name)         # a sum is a new array
        self.claimed.clear()

    def gradient(self, param: str, loc) -> ir.Var:
        """The final adjoint of a differentiated parameter, under its own name."""
        name, current = self.dname(param), self.adj.get(param)
        if current is None:
            self.out.append(ir.Assign(name, "zero_grad", (ir.Var(param),), loc=loc))
        elif current != ir.Var(name):
            self.out.append(ir.Assign(name, "id", (current,), loc=loc))
        return ir.Var(name)


class Adjoints(dict):
    """The sweep's adjoint bookkeeping: primal name -> the atom holding its adjoint so far,
    and in `owned` the names whose adjoint is an array no other name can see (added into
    in place). A branch or a loop forks it for each arm or turn and joins what they end
    with: an adjoint stays owned only where every arm leaves it owned."""

    def __init__(self, where=(), owned=()):
        super().__init__(where)
        self.owned = set(owned)

    def fork(self) -> "Adjoints":
        return Adjoints(self, self.owned)

    def joined(self, *ends: "Adjoints") -> "Adjoints":
        """These adjoints, owned where they are here and at every end."""
        return Adjoints(self, self.owned.intersection(*(end.owned for end in ends)))


def _broadcasts(stmt: ir.Assign, i: int) -> bool:
    """Whether argument i of an elementwise op may have been broadcast."""
    others = [a for j, a in enumerate(stmt.args) if j != i]
    return any(not (isinstance(a, ir.Const) and isinstance(a.value, (int, float))) for a in others)
