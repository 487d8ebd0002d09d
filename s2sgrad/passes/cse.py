"""Copies and common subexpressions: one value, one name, computed once.

    before                              after
    cos_x = np.cos(x)                   cos_x = np.cos(x)
    y = mul(cos_x, w)                   y = mul(cos_x, w)
    ...                                 ...
    t = np.cos(x)                       (gone: later reads of t read cos_x)
    dx = mul(dy, t)                     dx = mul(dy, cos_x)

A compiler temporary that only copies another value (`t = id(u)`) is
replaced by that value wherever it is read; an adjoint that copies another
named value (`dnew = id(dtotal)`) is, in the statements that follow, while neither name is
assigned again (so `dtotal = dnew` after it is `dtotal = dtotal`, and goes). A pure op that repeats an earlier
one on the same arguments (names assigned once, so they still hold the same
values) becomes a copy of the earlier result, propagated in the same walk, so
the values computed from it merge too (one walk settles a chain). The earlier result must be computed on every path to
the later one: it is visible in the rest of its own block and in the blocks
nested there (and in the functions defined there, which read it at call time).
Ops that make arrays meant to be written into (zeros, copies) or that may
have effects (calls) are never merged. A user's own names and the adjoint
names `dx` stay, so the output reads like the source.
"""
from __future__ import annotations

from dataclasses import replace

from .. import ir, rules

NOT_MERGED = {"id", "np.array", "np.asarray", "zero_grad", "unindex", "unassigned", "call_adjoint"} | ir.WRITES \
    | ir.EFFECTS


def run(fn: ir.Function, seen: dict | None = None) -> ir.Function:
    """`fn` with copies propagated and repeated values merged; `seen` holds the values
    an enclosing function computed before defining `fn` (op and arguments -> the name
    holding the result, and the names it reads)."""
    flat = list(ir.walk(fn.body))
    counts = ir.assignments(fn.body)
    tapes = {s.tape for s in flat if isinstance(s, (ir.Push, ir.Pop))}
    unstable = {n for n, k in counts.items() if k > 1} | (set(fn.params) & set(counts)) | tapes
    pass_ = _Pass(fn, counts, unstable, tapes)
    body = pass_.block(fn.body, {}, dict(seen or {}), _Aliases())
    return replace(fn, body=tuple(body))


class _Pass:
    def __init__(self, fn, counts, unstable, tapes):
        self.fn, self.counts, self.unstable, self.tapes = fn, counts, unstable, tapes

    def block(self, stmts, copies: dict, seen: dict, aliases: dict) -> list:
        """One block in program order; `seen` maps an op and its arguments to the name
        holding the result (entries made inside a nested block end with it); `aliases`
        maps an adjoint that copies a name (`dy = id(dx)`) to that name, while neither
        has been assigned since."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                stmt = self.assign(self.unaliased(_rename_uses(stmt, copies), aliases), copies, seen)
            elif isinstance(stmt, ir.Def):
                inner = _rename_uses(stmt, copies).fn
                stmt = ir.Def(run(inner, _visible(seen, inner)), stmt.loc)
            elif isinstance(stmt, ir.NESTED):
                assigned = ir.defs(stmt)
                inside = {a: b for a, b in aliases.items()
                          if isinstance(stmt, ir.If) or not {a, b} & assigned}   # a later turn
                stmt = ir.with_bodies(stmt, lambda body: tuple(self.block(body, copies, dict(seen),
                                                                          _Aliases(inside))))
                stmt = _rename_heads(stmt, copies)
            else:    # a returned gradient keeps its name (`dx = dy`, return dx), a pushed value its own
                stmt = _rename_uses(stmt, copies)
                stmt = stmt if isinstance(stmt, (ir.Return, ir.Push)) else self.unaliased(stmt, aliases)
            _forget(aliases, ir.defs(stmt))
            if isinstance(stmt, ir.Assign) and stmt.op == "id" and isinstance(stmt.args[0], ir.Var):
                if stmt.args[0].name == stmt.target:
                    continue                     # x = x
                if stmt.target in self.fn.derived and stmt.args[0].name not in self.fn.temps:
                    aliases[stmt.target] = stmt.args[0].name     # (dy = t stays: t prints inline)
                elif stmt.target in self.fn.temps and self.counts[stmt.target] == 1 \
                        and stmt.args[0].name in self.unstable - self.tapes:
                    aliases[stmt.target] = stmt.args[0].name     # (a copy of a name assigned again: until then)
            out.append(stmt)
        return out

    def unaliased(self, stmt, aliases: dict):
        """`stmt` reading the names adjoint copies were made of (not one writing into its
        first argument in place: that array is the copy's own)."""
        if not aliases:
            return stmt
        if isinstance(stmt, ir.Assign) and stmt.op in ir.WRITES:
            return replace(stmt, args=stmt.args[:1] + ir.rename(stmt.args[1:], aliases))
        return _rename_uses(stmt, aliases)

    def assign(self, s: ir.Assign, copies: dict, seen: dict) -> ir.Assign:
        if s.op == "id" and s.target in self.fn.temps and self.counts[s.target] == 1:
            src = s.args[0]
            if isinstance(src, ir.Const) or src.name not in self.unstable:
                copies[s.target] = src          # later reads use the source itself
            return s
        key = self.key(s)
        if key is None:
            return s
        if key in seen:                          # a copy, propagated from here on like any other
            return self.assign(ir.Assign(s.target, "id", (ir.Var(seen[key][0]),), (), s.loc), copies, seen)
        seen[key] = (s.target, frozenset(ir.uses(s)))
        return s

    def key(self, s: ir.Assign):
        """What makes two assignments the same value, or None if they never are."""
        op = rules.OPS.get(s.op)
        if op is None or op.kind not in ("elementwise", "adjoint", "helper") or s.op in NOT_MERGED \
                or s.target in self.unstable or ir.uses(s) & self.unstable:
            return None
        key = (s.op, _args_key(s.args), s.params)
        try:
            hash(key)
        except TypeError:                        # an unhashable static (a list)
            return None
        return key


class _Aliases(dict):
    """An adjoint copy -> the name it copies, with the copies of each name at hand, so
    that forgetting what a statement assigns costs what it assigns, not every alias."""
    def __init__(self, items=()):
        super().__init__()
        self.copies: dict = {}
        for a, b in dict(items).items():
            self[a] = b

    def __setitem__(self, a, b):
        self.pop(a, None)
        super().__setitem__(a, b)
        self.copies.setdefault(b, set()).add(a)

    def pop(self, a, *default):
        if a in self:
            self.copies[self[a]].discard(a)
        return super().pop(a, *default)


def _forget(aliases: _Aliases, assigned: set) -> None:
    for name in assigned:
        aliases.pop(name, None)
        for a in sorted(aliases.copies.pop(name, ())):
            super(_Aliases, aliases).pop(a, None)


def _args_key(args) -> tuple:
    """Constants by type and value (`2 * n` and `2.0 * n` differ for integers)."""
    return tuple((type(a.value).__name__, repr(a.value)) if isinstance(a, ir.Const) else str(a)
                 for a in args)


def _visible(seen: dict, inner: ir.Function) -> dict:
    """The entries of `seen` a nested function can use: those naming nothing it assigns."""
    own = _own(inner)
    return {k: (name, reads) for k, (name, reads) in seen.items() if name not in own and not reads & own}


def _own(fn: ir.Function) -> set:
    """The names a nested function binds itself: its parameters and what it assigns."""
    return set(fn.params) | {n for s in ir.walk(fn.body) for n in ir.defs(s)}


def _rename_uses(stmt, mapping):
    if not mapping:
        return stmt
    if isinstance(stmt, ir.Assign):
        return ir.Assign(stmt.target, stmt.op, ir.rename(stmt.args, mapping), stmt.params, stmt.loc)
    if isinstance(stmt, ir.Return):
        return ir.Return(ir.rename(stmt.value, mapping), stmt.loc)
    if isinstance(stmt, ir.Push):
        return ir.Push(stmt.tape, ir.rename(stmt.value, mapping), ir.rename(stmt.index, mapping))
    if isinstance(stmt, ir.Pop):
        return ir.Pop(stmt.tape, stmt.target, ir.rename(stmt.index, mapping))
    if isinstance(stmt, ir.Def):
        f = stmt.fn
        own = _own(f)       # a name the nested function assigns is its own, not the copy's
        mapping = {a: b for a, b in mapping.items() if a not in own and b not in own}
        body = tuple(_rename_uses(s, mapping) for s in f.body)
        return ir.Def(replace(f, body=body), stmt.loc)
    return _rename_heads(ir.with_bodies(stmt, lambda b: tuple(_rename_uses(s, mapping) for s in b)), mapping)


def _rename_heads(stmt, mapping):
    """A loop's or branch's own atoms (condition, bounds) renamed."""
    if isinstance(stmt, ir.If):
        return ir.If(ir.rename(stmt.cond, mapping), stmt.body, stmt.orelse, stmt.loc)
    if isinstance(stmt, ir.For):
        return ir.For(stmt.target, *ir.rename((stmt.start, stmt.stop, stmt.step), mapping), stmt.body,
                      stmt.loc, stmt.reverse)
    if isinstance(stmt, ir.While):
        return ir.While(stmt.test, ir.rename(stmt.cond, mapping), stmt.body, stmt.loc, stmt.counter)
    return stmt
