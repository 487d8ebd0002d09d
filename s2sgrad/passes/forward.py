"""Forward mode: the tangent program of a normalized function, in one sweep.

    def f(x, w):                        def jvp_f(x, w, x_dot):
        y = np.sin(x)                       y = np.sin(x)
        return np.sum(y * w)                y_dot = x_dot * np.cos(x)
                                            mul = y * w
                                            mul_dot = y_dot * w
                                            return (np.sum(mul), np.sum(mul_dot))

Every value that depends on a differentiated parameter gets a tangent,
`<name>_dot`, computed right after the value itself, so loops and branches
keep their shape and nothing is taped. Elementwise ops use their partials
from the rule table (the tangent is the sum of partial times tangent over the
varying arguments); an op its rule declares linear (`linear=` on the rule:
indexing, sums, reshapes; a runtime helper's `@helper(linear=...)`) applies
itself to the tangent, one term per varying argument when it is multilinear
(`@`, np.dot, np.outer, ... give `a_dot @ b + a @ b_dot`); an op with a forward
rule of its own (`@tangent`) inlines it; tuples and lists hold
their items' tangents; a call to the user's own function calls that
function's jvp, compiled once and printed beside the caller. A variable that varies
somewhere gets a tangent everywhere it is assigned (zeros where it does not
vary then), so every read finds one. Ops with no forward rule yet are a
located error.
"""
from __future__ import annotations

from .. import ir, rules
from ..errors import NoRuleError
from ..frontend.templates import inline, template
from ..ir.names import Namer, temp_base
from . import named_calls
from .activity import differentiable_positions, refuse_silent_zeros, useful_values

CONTAINERS = {"tuple", "list", "append"}


def run(fn: ir.Function, wrt: tuple, over_reverse: bool = False, callees=None) -> ir.Function:
    """`jvp_<name>(*params, *tangents)` returning `(value, tangent of the value)`;
    `over_reverse`: `fn` is a gradient (a Hessian-vector product is being made);
    `callees` compiles the jvps of the functions it calls (as in named_calls.run)."""
    if over_reverse:
        _no_pullbacks(fn)
    sweep = Forward(fn, wrt, callees)
    name = sweep.name = sweep.namer.fresh(f"jvp_{fn.name}")     # (a vjp calling itself: its jvp too)
    *body, ret = fn.body
    # a parameter not differentiated that comes to vary (in a loop) starts with zeros
    out = [ir.Assign(sweep.dot[p], "zero_tangent", (ir.Var(p),), (), fn.loc)
           for p in fn.params if p in sweep.varied and p not in wrt]
    out += sweep.block(body)
    value = ret.value
    tangent = sweep.tangent_of(value, ret.loc)
    params = fn.params + tuple(sweep.dot[w] for w in wrt)
    doc = f"Jacobian-vector product of {fn.name} along {', '.join(sweep.dot[w] for w in wrt)}: " \
          f"returns ({fn.name}(...), its tangent)."
    free = fn.free | {b for b in sweep.bindings if b not in fn.bindings}
    return ir.Function(name, params, (*out, *sweep.pending, ir.Return((value, tangent))), fn.loc,
                       fn.temps | sweep.namer.made | {sweep.dot[n] for n in fn.temps if n in sweep.dot}, free, doc, frozenset(sweep.dot.values()) | sweep.namer.made,
                       sweep.bindings, tuple(sweep.companions))


class Forward:
    def __init__(self, fn: ir.Function, wrt: tuple, callees=None):
        self.bindings, self.companions = dict(fn.bindings), list(fn.companions)
        self.namer = Namer.of(fn)
        self.varied = _varied(fn, wrt)
        refuse_silent_zeros(fn, self.varied, useful_values(fn))
        self.fn, self.wrt, self.name, self.callees = fn, wrt, None, callees
        self.dot = {}
        for name in sorted(self.varied):
            self.dot[name] = self.namer.fresh(name + "_dot")
        self.pending: list = []
        self.user_names = set(fn.params) | {n for s in ir.walk(fn.body) for n in ir.defs(s)} - fn.temps
        # (a template's temporaries are named as reverse mode names them: `power_x`, not `pow`)

    def tangent(self, atom):
        """The tangent of an argument, or None when it does not vary."""
        return ir.Var(self.dot[atom.name]) if isinstance(atom, ir.Var) and atom.name in self.varied else None

    def tangent_of(self, atom, loc):
        """A returned value's tangent (a tuple's, item by item), zeros when it does not vary."""
        if isinstance(atom, tuple):
            return tuple(self.tangent_of(a, loc) for a in atom)
        tangent = self.tangent(atom)
        if tangent is not None:
            return tangent
        zero = self.temp("zero_tangent")
        self.pending.append(ir.Assign(zero, "zero_tangent", (atom,), (), loc))
        return ir.Var(zero)

    def temp(self, base: str) -> str:
        name = self.namer.fresh(base)
        self.namer.made.add(name)
        return name

    def tangent_or_zeros(self, atom, base: str, out: list):
        """`atom`'s tangent, or zeros shaped like it (appended to `out`) when it does not vary."""
        tangent = self.tangent(atom)
        if tangent is None:
            tangent = ir.Var(self.temp(base + "_zero"))
            out.append(ir.Assign(tangent.name, "zero_tangent", (atom,), ()))
        return tangent

    def block(self, stmts) -> list:
        out = []
        for stmt in stmts:
            if isinstance(stmt, ir.Assign) and stmt.op == "call" and stmt.target in self.varied:
                out += self.call(stmt)
            elif isinstance(stmt, ir.Assign):
                if stmt.target in self.varied and stmt.target in ir.uses(stmt) and stmt.op not in ir.WRITES:    # (those are linear)
                    # `dv = f(dv)`: the tangent reads the value before the statement changed it
                    was = self.temp(stmt.target + "_was")
                    self.varied.add(was)
                    self.dot[was] = self.dot[stmt.target]      # read before it changes, too
                    out.append(ir.Assign(was, "id", (ir.Var(stmt.target),), (), stmt.loc))
                    stmt = ir.Assign(stmt.target, stmt.op, ir.rename(stmt.args, {stmt.target: was}),
                                     stmt.params, stmt.loc)
                out.append(stmt)
                if stmt.target in self.varied:
                    out += self.assign(stmt)
            elif isinstance(stmt, ir.NESTED):
                out.append(ir.with_bodies(stmt, lambda body: tuple(self.block(body))))
            elif isinstance(stmt, ir.Push):       # the tape keeps a tangent with its value
                out.append(stmt)
                if self.tangent(stmt.value) is not None:
                    out.append(ir.Push(stmt.tape, self.tangent(stmt.value), stmt.index))
            elif isinstance(stmt, ir.Pop):
                if stmt.target in self.varied:
                    out.append(ir.Pop(stmt.tape, self.dot[stmt.target], stmt.index))
                out.append(stmt)
            elif isinstance(stmt, ir.Def):
                raise NoRuleError("forward mode does not differentiate through a nested function yet",
                                  stmt.loc, hint="use s2sgrad.grad or s2sgrad.vjp (reverse mode) here")
            else:
                out.append(stmt)
        return out

    def assign(self, s: ir.Assign) -> list:
        """The statements that give `s.target` its tangent."""
        target = self.dot[s.target]
        varying = [i for i in _positions(s) if self.tangent(s.args[i]) is not None]
        if not varying:
            return [ir.Assign(target, "zero_tangent", (ir.Var(s.target),), (), s.loc)]
        op = rules.OPS[s.op]
        rules.check_statics(op, s)
        if op.tangent is not None:             # a rule of forward mode's own (@s2sgrad.tangent)
            return self.custom(s, op, target)
        if op.linear is not None and set(varying) <= set(op.linear):
            # linear in each argument that varies (Op.linear): one term per argument, its
            # tangent in its place (a copy the code will write into gets a copied tangent)
            return self.sum_of([(s.op, tuple(self.tangent(a) if j == i else a for j, a in enumerate(s.args)))
                                for i in varying], s, target)
        if op.kind == "elementwise":
            return self.elementwise(s, op, varying, target)
        if s.op == "setitem":
            return self.setitem(s, target)
        if s.op in CONTAINERS:                 # a container of values: the container of tangents
            return self.container(s, target)
        if op.kind == "helper":                # (a gradient's own helper: forward mode over a gradient)
            raise NoRuleError(f"forward mode has no rule for `{rules.shown(s.op)}` yet: second derivatives "
                              "through this line are not supported", s.loc,
                              hint="take this second derivative by differences of s2sgrad.grad")
        raise NoRuleError(f"forward mode has no rule for `{rules.shown(s.op)}` yet", s.loc,
                          hint="give it one with @s2sgrad.tangent, or use s2sgrad.grad or s2sgrad.vjp "
                               "(reverse mode) for this function")

    def elementwise(self, s, op, varying, target) -> list:
        """The sum over the varying arguments of partial times tangent, shaped like the value
        (a tangent whose argument was broadcast against a constant array is spread)."""
        mapping = dict(zip(op.args, s.args)) | {"ans": ir.Var(s.target)}
        stmts, result = inline(template(op), mapping, {}, s.loc, lambda o, args: self.temp(temp_base(o, args, self.user_names)))
        partials = result if isinstance(result, tuple) else (result,)
        terms = [("mul", (self.tangent(s.args[i]), partials[i])) for i in varying]
        spread = any(not (isinstance(a, ir.Const) and isinstance(a.value, (int, float)))
                     for j, a in enumerate(s.args) if j not in varying)
        if not spread:
            return stmts + self.sum_of(terms, s, target)
        whole = self.temp(target)
        return stmts + self.sum_of(terms, s, whole) + \
            [ir.Assign(target, "broadcast_like", (ir.Var(whole), ir.Var(s.target)), (), s.loc)]

    def custom(self, s, op, target) -> list:
        """The op's tangent template, its `d<arg>` the arguments' tangents (zeros where
        they do not vary)."""
        out: list = []
        mapping = dict(zip(op.args, s.args)) | dict(op.statics) | dict(s.params)
        mapping = {k: v if isinstance(v, (ir.Var, ir.Const, ir.Index)) else ir.Const(v) for k, v in mapping.items()}
        tmpl = template(op, tangent=True)
        mapping |= {"d" + name: self.tangent_or_zeros(arg, target, out) for name, arg in zip(op.args, s.args)
                    if "d" + name in tmpl.params}       # (the tangents the rule takes)
        mapping["ans"] = ir.Var(s.target)
        stmts, _ = inline(tmpl, mapping, {"dans": target}, s.loc,
                          lambda o, args: self.temp(temp_base(o, args, self.user_names)))
        return out + stmts

    def sum_of(self, terms, s, target) -> list:
        """`target = term + term + ...`, each term an (op, args) pair."""
        out, names = [], []
        for op, args in terms:
            name = target if len(terms) == 1 else self.temp(target + "_part")
            out.append(ir.Assign(name, op, args, s.params if op == s.op else (), s.loc))
            names.append(name)
        total = names[0]
        for k, name in enumerate(names[1:]):
            total_next = target if k == len(names) - 2 else self.temp(target + "_sum")
            out.append(ir.Assign(total_next, "add", (ir.Var(total), ir.Var(name)), (), s.loc))
            total = total_next
        return out

    def container(self, s, target) -> list:
        out: list = []
        items = tuple(self.tangent_or_zeros(a, target, out) for a in s.args)
        return out + [ir.Assign(target, s.op, items, s.params, s.loc)]

    def call(self, s) -> list:
        """A call to the user's function runs the callee's own jvp: `(value, tangent)`."""
        if s.args[0] == ir.Var(self.fn.name):           # a vjp calling itself (recursion)
            out: list = []
            tangents = tuple(self.tangent_or_zeros(s.args[1 + self.fn.params.index(w)], s.target, out)
                             for w in self.wrt)
            pair = self.temp(s.target + "_jvp")
            return out + [ir.Assign(pair, "call", (ir.Var(self.name), *s.args[1:], *tangents), (), s.loc)] + \
                self.split(s, pair)
        fn = self.bindings.get(s.args[0].name) if isinstance(s.args[0], ir.Var) else None
        varying = [i for i in range(1, len(s.args)) if self.tangent(s.args[i]) is not None]
        if fn is None:
            raise NoRuleError("forward mode differentiates calls to your own functions only", s.loc,
                              hint="use s2sgrad.grad or s2sgrad.vjp here")
        if hasattr(fn, "__s2sgrad_ir__") and not hasattr(fn, "__s2sgrad__"):   # a jvp made for a call
            raise NoRuleError("third derivatives of recursive functions are not supported yet", s.loc,
                              hint="take the third derivative by differences of s2sgrad.hessian")
        wrt = tuple(i - 1 for i in varying)
        if self.callees is None:
            raise TypeError("a call to your function is differentiated here: pass callees= "
                            "(s2sgrad.api.callee_derivative) to compile its jvp")
        compiled = self.callees(fn, wrt, "jvp")
        pair = self.temp(s.target + "_jvp")
        tangents = tuple(self.tangent(s.args[i]) for i in varying)
        if compiled is None:                   # a recursive call: its jvp, found at run time
            call = ir.Assign(pair, "call_jvp", (*s.args, *tangents), (("wrt", wrt),), s.loc)
            return [call] + self.split(s, pair)
        jvp = next((n for n, v in self.bindings.items() if v is compiled.fn), None) \
            or self.namer.fresh(compiled.ir.name)
        self.bindings[jvp] = compiled.fn
        shown = named_calls.renamed(compiled.ir, jvp)
        if shown not in self.companions:
            self.companions.append(shown)
        return [ir.Assign(pair, "call", (ir.Var(jvp), *s.args[1:], *tangents), (), s.loc)] + self.split(s, pair)

    def split(self, s, pair: str) -> list:
        """The value and the tangent out of a jvp's pair."""
        return [ir.Assign(s.target, "getitem", (ir.Var(pair), ir.Index((ir.Const(0),))), (), s.loc),
                ir.Assign(self.dot[s.target], "getitem", (ir.Var(pair), ir.Index((ir.Const(1),))), (), s.loc)]

    def setitem(self, s, target) -> list:
        """`z = x with z[i] = v`: the tangent is x's with its item i set to v's."""
        array, index, value = s.args
        out: list = []
        base = self.tangent_or_zeros(array, target, out)
        item = self.tangent(value) or ir.Const(0.0)
        return out + [ir.Assign(target, "setitem", (base, index, item), (), s.loc)]


def _no_pullbacks(fn: ir.Function) -> None:
    """Refuse, at the user's line, a gradient that calls pullbacks or differentiates calls
    at run time (mutual recursion): forward mode over those is not proven yet, and a
    Hessian must never be silently wrong. (A recursive function's gradient calls its
    vjp, whose jvp forward mode makes: every other call is inlined for second derivatives.)"""
    for s in ir.walk(fn.body):
        if isinstance(s, ir.Def) or isinstance(s, ir.Assign) and s.op in ("pullback", "call_adjoint"):
            raise NoRuleError("second derivatives of recursive functions are not supported yet",
                              getattr(s, "loc", None) or fn.loc,
                              hint="write the recursion as a loop, or use finite differences of s2sgrad.grad")


def _positions(s: ir.Assign) -> tuple:
    """The arguments whose values the op's result depends on smoothly: a container's items,
    the values a runtime helper is linear in, and every argument of a helper with no
    forward rule (using one is then an error, not a silent zero)."""
    if s.op in CONTAINERS:
        return tuple(range(len(s.args)))
    if s.op == "opaque":
        return ()        # (run as it is: a differentiated value reaching the output through one is refused)
    op = rules.OPS.get(s.op)
    if op is not None and op.kind == "helper":
        return op.linear if op.linear is not None else tuple(range(len(s.args)))
    return differentiable_positions(s)


def _varied(fn: ir.Function, wrt) -> set:
    """Names that depend, through differentiable arguments, on a parameter in `wrt`."""
    assigns = [s for s in ir.walk(fn.body) if isinstance(s, ir.Assign)]
    varied, changed = set(wrt), True
    while changed:
        changed = False
        for s in assigns:
            if s.target not in varied and any(isinstance(s.args[i], ir.Var) and s.args[i].name in varied
                                              for i in _positions(s)):
                varied.add(s.target)
                changed = True
    return varied
