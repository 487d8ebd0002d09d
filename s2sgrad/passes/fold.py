"""Fold: constant folding and algebraic simplification, statement by statement.

    before                              after
    u = sub(2, 1)                       u = id(1)                 (folded)
    t = mul(1.0, g)                     t = id(g)                 (adjoints only)
    s = mul(2, sub)                     s = mul(2, sub)
    dsub = mul(100.0, s)                dsub = mul(200.0, sub)    (2 * 100 exactly)
    n = neg(dsub)                       m = mul(dsub, w)
    p = mul(n, w)                       p = neg(m)                (the sign moves out...)
    a = add(item, p)                    a = sub(item, m)          (...and is absorbed)

Every rewrite gives the same floats: constants combine only when one of them
is a power of two (scaling by 2**k is exact), and flipping a sign is exact.
Identities such as `x * 1 -> x` hold only for adjoints (floats the code
owns): for a user's integer array `n`, `n * 1.0` is a new float array. An
adjoint the reverse pass adds into in place (`dx += g`) is never turned into
another name (`dx = g` would then update g).
"""
from __future__ import annotations

import math
import operator
import sys
from dataclasses import replace

from .. import ir
from ..ir.names import WORDS, Namer

FOLD = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
        "pow": operator.pow, "neg": operator.neg, "id": lambda a: a}
PURE_SCALARS = (int, float)
SIGNED = {"mul": (0, 1), "div": (0, 1), "unbroadcast": (0,)}
BOOLEAN = {"gt", "ge", "lt", "le", "eq", "ne", "not", "and", "or", "np.logical_not", "np.logical_and",
           "np.logical_or", "np.logical_xor", "np.greater", "np.less", "np.equal", "np.isnan", "np.isfinite",
           "np.isinf", "np.isclose"}       # ops whose result is booleans: `1.0 * mask` is no mask
# op -> the arguments a sign moves out of exactly: -(a * b) == (-a) * b, sums of negated terms


def run(fn: ir.Function, namer: Namer | None = None) -> ir.Function:
    """Every assignment of `fn` (and of the functions nested in it) simplified; new
    names come from `namer` (a function nested in another shares its pool of names)."""
    flat = list(ir.walk(fn.body))
    facts = _Facts(flat, fn, namer or Namer.of(fn))
    body = _each(fn.body, lambda s: facts.sign_out(facts.settle(s, fn)), facts.namer)
    return replace(fn, body=body, temps=fn.temps | facts.namer.made, derived=fn.derived | facts.namer.made)


def _each(stmts, change, namer: Namer) -> tuple:
    """`stmts` with each assignment replaced by the statements `change` makes of it."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Assign):
            out += change(stmt)
            continue
        if isinstance(stmt, ir.Def):
            stmt = ir.Def(run(stmt.fn, namer.nested()), stmt.loc)
        else:
            stmt = ir.with_bodies(stmt, lambda body: _each(body, change, namer))
        out.append(stmt)
    return tuple(out)


class _Facts:
    """What the whole body says about names assigned once: their definitions, readers."""

    def __init__(self, flat, fn: ir.Function, namer: Namer):
        counts = ir.assignments(fn.body)
        counts.update(n for n in fn.params if counts[n])    # a parameter assigned has two values
        self.once = {s.target: s for s in flat if isinstance(s, ir.Assign) and counts[s.target] == 1}
        self.counts = counts
        self.derived = fn.derived
        self.readers: dict = {}
        for s in ir.walk_all(flat):
            for name in ir.uses(s) if not isinstance(s, ir.NESTED) else ir.heads(s):
                self.readers.setdefault(name, []).append(s)
        self.added_into = {s.target for s in flat if isinstance(s, ir.Assign) and (
            s.op == "iadd" or s.op in ir.WRITES and s.args[0] == ir.Var(s.target))}
        self.namer = namer
        self.constants: dict = {}           # a temporary assigned a constant -> the constant
        self.booleans = {s.target for s in flat if isinstance(s, ir.Assign) and s.op in BOOLEAN} | \
            {s.args[0].name for s in flat if isinstance(s, ir.Assign) and s.op == "np.where"
             and isinstance(s.args[0], ir.Var)}     # (a mask: np.where's partial is its condition)

    def floats(self, atom) -> bool:
        """Whether `atom` can stand for an adjoint (floats): not a mask (a comparison, the
        condition of np.where), where `1.0 * mask -> mask` would change the type (and
        `-mask` fails)."""
        return not (isinstance(atom, ir.Var) and atom.name in self.booleans)

    def stable(self, atom) -> bool:
        """A constant, or a name assigned once (so it means the same wherever it is read)."""
        return isinstance(atom, ir.Const) or self.counts.get(atom.name, 0) <= 1

    def defined(self, atom, *ops):
        """The one assignment of `atom` if it is one of `ops` and reads only stable atoms."""
        s = self.once.get(atom.name) if isinstance(atom, ir.Var) else None
        if s is not None and s.op in ops and all(self.stable(a) for a in s.args) and not s.params:
            return s
        return None

    def scaled(self, atom):
        """(c, a) when `atom` is `c * a` or `a * c` for a plain number c."""
        s = self.defined(atom, "mul")
        if s is None or len(s.args) != 2:
            return None
        for c, a in (s.args, s.args[::-1]):
            if _const(c):
                return c.value, a
        return None

    def absorbs(self, name: str) -> bool:
        """Whether the one reader of `name` takes a sign into itself (a sum, a negation, a
        product with a constant), or moves it on to a reader that does."""
        readers = self.readers.get(name, [])
        if len(readers) != 1 or not isinstance(readers[0], ir.Assign):
            return False
        r = readers[0]
        if r.op in ("add", "sub", "iadd", "neg") and r.args[-1] == ir.Var(name):
            return True
        if r.op == "mul" and any(_const(a) for a in r.args):
            return True
        return r.op in SIGNED and r.target in self.derived and \
            any(r.args[i] == ir.Var(name) for i in SIGNED[r.op]) and self.absorbs(r.target)

    def negated(self, atom):
        """`a` when `atom` is `-a`, seen through copies (`atom = 1 * b`, b read only
        there: what the next round would see once cse had propagated the copy)."""
        s = self.defined(atom, "neg")
        if s is not None:
            return s.args[0]
        scaled = self.scaled(atom)
        if scaled is not None and scaled[0] == 1 and isinstance(scaled[1], ir.Var) and \
                atom.name in self.derived and len(self.readers.get(scaled[1].name, ())) == 1:
            return self.negated(scaled[1])
        return None

    def settle(self, s: ir.Assign, fn: ir.Function) -> ir.Assign:
        """`s` with the constants found so far read in place of their temporaries, then
        simplified; a temporary it leaves a constant is read as that constant from here
        on. So a chain (`t1 = 1.0 * g`, `t2 = unbroadcast(t1, x)`, ...) settles in one
        walk, not one link per walk."""
        if self.constants:
            s = replace(s, args=ir.rename(s.args, self.constants))
        new = self.simplify(s, s.target in fn.derived)
        if s.target in self.once and new.op == "id" and isinstance(new.args[0], ir.Const) \
                and s.target in fn.temps:
            self.constants[s.target] = new.args[0]
        self.learn(new)
        return new

    def learn(self, s: ir.Assign) -> None:
        """Read `s` (the same value, simplified) as its target's definition from here on,
        so the statements after it fuse with what it has become in this same walk (a sign
        or a factor it now shows; a copy tells less than the definition it replaces)."""
        if s.target in self.once and s.op in ("neg", "mul"):
            self.once[s.target] = s

    def sign_out(self, s: ir.Assign) -> list:
        """`p = mul(n, w)` with `n = neg(a)` read only there becomes `m = mul(a, w); p =
        neg(m)` (and so for the other ops in SIGNED), so that the sign can reach a sum that
        absorbs it (`dx += -m` prints as `dx -= m`)."""
        if not (s.op in SIGNED and len(s.args) == 2 and s.target in self.derived):
            return [s]
        for i in SIGNED[s.op]:
            a = s.args[i]
            inner = self.negated(a)
            if inner is not None and len(self.readers.get(a.name, [])) == 1 \
                    and not _const(s.args[1 - i]) and self.absorbs(s.target):
                name = self.namer.fresh(WORDS.get(s.op, s.op))      # (`power`, not the builtin `pow`)
                self.namer.made.add(name)
                args = list(s.args)
                args[i] = inner
                moved = replace(s, target=name, args=tuple(args))
                negated = ir.Assign(s.target, "neg", (ir.Var(name),), (), s.loc)
                self.once[name] = moved
                self.learn(negated)
                return [moved, negated]
        return [s]

    def simplify(self, s: ir.Assign, adjoint: bool) -> ir.Assign:
        simple = _simplify(s, adjoint, self.floats)
        new = _fused(simple, self, adjoint)
        if new is not simple:               # what fusing made may simplify again: -1 * a -> -a
            new = _simplify(new, adjoint, self.floats)
        if new.op == "id" and s.op != "id" and isinstance(new.args[0], ir.Var) and s.target in self.added_into:
            return s                        # dx += g later: dx must stay an array of its own
        return new


def _const(atom, *values) -> bool:
    return isinstance(atom, ir.Const) and type(atom.value) in PURE_SCALARS and \
        (not values or atom.value in values)


def _simplify(s: ir.Assign, adjoint: bool, floats=lambda atom: True) -> ir.Assign:
    """One statement, folded or simplified on its own (an identity of an adjoint keeps
    an operand only where it holds `floats`)."""
    args = s.args

    def to(op, *new_args):
        return ir.Assign(s.target, op, new_args, (), s.loc)

    if s.op in FOLD and args and all(_const(a) for a in args):
        try:
            value = FOLD[s.op](*(a.value for a in args))
        except (ArithmeticError, ValueError):
            return s
        if type(value) in PURE_SCALARS and s.op != "id":
            return to("id", ir.Const(value))
    if not adjoint:
        return s
    if s.op == "mul":
        for a, b in (args, args[::-1]):
            if _const(b, 1) and floats(a):
                return to("id", a)
            if _const(b, -1) and floats(a):
                return to("neg", a)
    if s.op in ("add", "sub") and _const(args[1], 0) and floats(args[0]):
        return to("id", args[0])
    if s.op == "add" and _const(args[0], 0) and floats(args[1]):
        return to("id", args[1])
    if s.op in ("div", "pow") and _const(args[1], 1) and floats(args[0]):
        return to("id", args[0])
    if s.op == "unbroadcast" and _const(args[0]):
        # A constant adjoint only flows from `grad`'s scalar seed through values of one
        # element, where summing does nothing (`grad` gives the result the argument's shape).
        return to("id", args[0])
    return s


def _fused(s: ir.Assign, facts: _Facts, adjoint: bool) -> ir.Assign:
    """Negations and constant factors of the values `s` reads, taken into `s` itself:
    `-(-a)` is a, `a + (-b)` is `a - b`, `a - (-b)` is `a + b`; and in adjoints (user
    code keeps the user's arithmetic) `-(c * a)` is `(-c) * a`, `c * (-a)` is `(-c) * a`,
    and `c1 * (c2 * a)` is `(c1 * c2) * a` when that is exact."""
    if not s.args:
        return s
    last = s.args[-1]
    inner = facts.negated(last)
    if inner is not None and s.op in ("neg", "add", "sub"):
        fused = {"neg": ("id", (inner,)), "add": ("sub", (s.args[0], inner)),
                 "sub": ("add", (s.args[0], inner))}[s.op]
        return replace(s, op=fused[0], args=fused[1])
    if not adjoint:
        return s
    if s.op == "neg" and (scaled := facts.scaled(last)) is not None:
        return replace(s, op="mul", args=(ir.Const(-scaled[0]), scaled[1]))
    if s.op == "mul" and len(s.args) == 2:
        for c, a in (s.args, s.args[::-1]):
            if not _const(c):
                continue
            if (inner := facts.negated(a)) is not None:
                return replace(s, args=(ir.Const(-c.value), inner))
            scaled = facts.scaled(a)
            if scaled is not None and _exact_product(c.value, scaled[0]):
                return replace(s, args=(ir.Const(c.value * scaled[0]), scaled[1]))
    return s


def _exact_product(a, b) -> bool:
    """Whether `a * (b * x)` is `(a * b) * x` to the last bit, for every x whose products
    are normal numbers: one factor a power of two, and the product itself normal."""
    product = a * b
    return any(c != 0 and math.isfinite(c) and math.frexp(abs(c))[0] == 0.5 for c in (a, b)) and \
        math.isfinite(product) and abs(product) >= sys.float_info.min
