"""Which values may share memory, and the one check that follows from it.

NumPy's `b = a`, `a[1:]`, `a.T`, `np.ravel(a)`, `np.asarray(a)` and the other
ops whose rule says `view=True` make views: writing into one (`b[0] = 1`,
`b += 1`) changes the other. A tuple or list holds its items themselves
(`t = (a, 2.0)`, `xs.append(a)`): a write into `a` is seen through it (the op's
rule says `holds=True`). s2sgrad treats every value as its own, so a write
through a view that is read again afterwards would give a different answer than
Python; `check_write` reports it at the user's line instead.
"""
from __future__ import annotations

import re

from .. import ir, rules
from ..errors import UnsupportedSyntaxError


def shared(stmt, holds: bool = True) -> set:
    """The names whose memory the value `stmt` assigns may share: the array it may be a view
    of, and (with `holds`) the items a tuple or list it makes holds. A call s2sgrad runs
    without reading may hand back any array it is given (`y.view()`, a library's
    `as_strided(y, ...)`), and an attribute of an object is the object's own array: both
    count as views, but for what surely makes new values (random draws, prints)."""
    if not isinstance(stmt, ir.Assign) or not stmt.args:
        return set()
    if stmt.op in ("opaque", "attr"):
        return set() if _fresh(stmt) else {a.name for a in stmt.args if isinstance(a, ir.Var)}
    op = rules.OPS.get(stmt.op)
    if op is None:
        return set()
    args = stmt.args if holds and op.holds else stmt.args[:1] if op.view else ()
    return {a.name for a in args if isinstance(a, ir.Var)}


DRAWS = {"normal", "uniform", "standard_normal", "random", "integers", "choice", "permutation", "exponential",
         "gamma", "beta", "binomial", "poisson", "multivariate_normal", "randn", "rand", "randint", "lognormal",
         "laplace", "logistic", "standard_t", "chisquare", "dirichlet", "multinomial", "standard_gamma",
         "standard_exponential", "standard_cauchy", "triangular", "vonmises", "wald", "weibull", "geometric",
         "pareto", "power", "rayleigh", "gumbel", "random_sample", "bytes", "default_rng", "spawn"}
# methods of NumPy's random generators: each draw is a new array, never the generator's memory


def _fresh(stmt) -> bool:
    """Whether a call run without reading surely makes a new value (a draw, a print, a
    statement run for its effect)."""
    how = dict(stmt.params)
    callee = str(how.get("callee", ""))
    return how.get("method") in DRAWS or callee.startswith("np.random.") or callee == "print" \
        or "statement" in how or "fstring" in how or how.get("piecewise") is True \
        or "unread" in how        # (a count, a flag; a value no derivative may flow through: a caught exception)


def views_of(body, name: str, holds: bool = True) -> set:
    """`name` and every name that may share its memory through views made in `body` (and,
    with `holds`, through the tuples and lists that hold it or its views)."""
    return set(view_groups(body, holds).get(name, {name}))


def view_groups(body, holds: bool = True) -> dict:
    """Each name of `body` that a view (or, with `holds`, a container) links to another ->
    the group of names that may share its memory: one walk over `body`."""
    links: dict = {}
    for stmt in body:
        names = shared(stmt, holds)
        for a in names:
            links.setdefault(a, set()).add(stmt.target)
            links.setdefault(stmt.target, set()).add(a)
    groups: dict = {}
    for start in links:
        if start not in groups:
            group, todo = {start}, [start]
            while todo:
                for n in links[todo.pop()] - group:
                    group.add(n)
                    todo.append(n)
            groups.update(dict.fromkeys(group, frozenset(group)))
    return groups


def reaches_parameters(fn: ir.Function, augmented=()) -> bool:
    """Whether a function may hand its caller's memory back or change it: it returns a
    parameter, a view of one or a tuple holding one, or writes into one in place (a
    setitem, an append, or a `+=` among the statements `augmented`)."""
    in_place, found = {id(s) for s in augmented}, []

    def check(stmt, holding):
        if isinstance(stmt, ir.Return):
            items = stmt.value if isinstance(stmt.value, tuple) else (stmt.value,)
            found.extend(a for a in items if isinstance(a, ir.Var) and a.name in holding)
        elif _in_place(stmt, in_place) and stmt.target in holding:
            found.append(stmt)
    _flow(fn.body, set(fn.params), in_place, check)
    return bool(found)


def _in_place(stmt, in_place) -> bool:
    return isinstance(stmt, ir.Assign) and (stmt.op in ("setitem", "append") or id(stmt) in in_place)


def _flow(stmts, holding: set, in_place, check) -> set:
    """The names that may hold the memory of those in `holding` after `stmts` run (a name
    given a new value holds it no more); `check(stmt, holding)` sees each statement with
    the names holding it before the statement runs."""
    holding = set(holding)
    for stmt in stmts:
        check(stmt, holding)
        if isinstance(stmt, ir.Assign) and shared(stmt) & holding:
            holding.add(stmt.target)
        elif isinstance(stmt, ir.Assign) and not _in_place(stmt, in_place):
            holding.discard(stmt.target)
        elif isinstance(stmt, ir.If):
            holding = set().union(*(_flow(b, holding, in_place, check) for b in ir.bodies(stmt)))
        elif isinstance(stmt, (ir.For, ir.While)):
            before = None
            while before != holding:         # until another turn adds nothing
                before, turn = set(holding), holding
                for b in ir.bodies(stmt):
                    turn = _flow(b, turn, in_place, check)
                holding = before | turn
    return holding


def check_writes(body, writes) -> None:
    """Check every in-place write (`writes`, statements of `body`): in program order, and
    around each loop, whose next turn reads what the previous one left."""
    flat = list(ir.walk(body))
    for stmt in writes:
        check_write(flat, flat.index(stmt), "updates in place when it is an array"
                    if stmt.op != "setitem" else "modifies")
    loops = _loops_around(body)
    for loop in (s for s in flat if isinstance(s, (ir.For, ir.While))):
        inner = [s for b in ir.bodies(loop) for s in b]
        carried = ir.exposed(inner)
        turn = list(ir.walk(inner))
        for stmt in (w for w in writes if any(w is s for s in turn)):
            if _fresh_before(turn, stmt) or _fresh_around(flat, loops, loop, stmt.target):
                continue                    # a new array shares nothing with what the loop carries
            seen = (views_of(flat, stmt.target, _into_items(stmt)) - {stmt.target}) & carried
            if seen:
                _refuse(_shown(flat, sorted(seen)[0]), stmt, "modifies inside a loop that reads it again")


def _fresh_before(turn, write) -> bool:
    """Whether the array a loop writes into was made anew earlier in the same turn, with no
    view of it taken since."""
    fresh = False
    for stmt in turn:
        if stmt is write:
            return fresh
        if _views(stmt, write.target):
            fresh = False
        elif isinstance(stmt, ir.Assign) and stmt.target == write.target and stmt.op != "setitem":
            fresh = True
    return False


def _fresh_around(flat, loops, loop, name) -> bool:
    """Whether `name` holds an array made anew before `loop` that no view reaches: no view
    of it is taken inside the loop, nor inside any loop around both."""
    start = next(i for i, s in enumerate(flat) if s is loop)
    for i in range(start - 1, -1, -1):
        stmt = flat[i]
        if _views(stmt, name):
            return False
        if isinstance(stmt, ir.Assign) and stmt.target == name and stmt.op != "setitem":
            around = [e for e in loops[id(loop)] if not any(s is stmt for s in ir.walk([e]))]
            scope = [loop] + around
            return not any(_views(s, name) for e in scope for s in ir.walk([e]))
    return False


def _views(stmt, name) -> bool:
    names = shared(stmt)
    return bool(names) and name in names | {stmt.target}


def _into_items(write) -> bool:
    """Whether a write may change the items a container holds: any write but an append
    (which changes the list only, not what it holds)."""
    return write.op != "append"


def _loops_around(body, outer=()) -> dict:
    """For each loop (by id), the loops it is nested in."""
    found = {}
    for stmt in body:
        if isinstance(stmt, (ir.For, ir.While)):
            found[id(stmt)] = list(outer)
        inner = outer + ((stmt,) if isinstance(stmt, (ir.For, ir.While)) else ())
        for b in ir.bodies(stmt):
            found |= _loops_around(b, inner)
    return found


def _shown(flat, name: str) -> str:
    """How the user wrote the value a name holds: `a[j]` for a temporary, else the name."""
    for stmt in flat:
        if isinstance(stmt, ir.Assign) and stmt.target == name and stmt.loc is not None \
                and stmt.loc.end_col and stmt.loc.text and stmt.op != "id" and shared(stmt, False):
            return stmt.loc.text[stmt.loc.col:stmt.loc.end_col]
    return name


def _refuse(name, write, what):
    target = _written_as(write)
    raise UnsupportedSyntaxError(
        f"`{name}` may share memory with `{target}`, which this line {what}; "
        f"s2sgrad does not follow NumPy views", write.loc,
        hint=f"read a copy where it is read: `{name}.copy()` (or `float({name})` for one number)"
        if "[" in name else f"make `{target}` a value of its own (`= ....copy()`, or "
                            f"`{target} = {target} + ...` instead of `+=`)")


def _written_as(write) -> str:
    """The name a write's line gives the array it writes into (`v` for the `v_2` of an
    inlined helper)."""
    words = re.findall(r"\w+", write.loc.text if write.loc is not None and write.loc.text else "")
    if write.target in words:
        return write.target
    base = re.sub(r"_\d+$", "", write.target)
    return base if base in words else write.target


def check_write(body, i: int, what: str) -> None:
    """Reject the write `body[i]` into `name` when an alias of it is read later."""
    write = body[i]
    aliases = views_of(body[:i], write.target, _into_items(write)) - {write.target}
    for later in body[i + 1:]:
        if isinstance(later, ir.Assign) and later.target in aliases:
            aliases.discard(later.target)   # rebound: the old view is gone
            continue
        seen = ir.uses(later) & aliases
        if seen:
            _refuse(_shown(body, sorted(seen)[0]), write, what)
