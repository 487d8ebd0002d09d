"""The intermediate representation every pass reads and writes.

Grammar (what a well-formed `Function` may contain; `verify` checks it):

    Function  := name, params: [str], body: [Stmt], loc, temps: {str}, free: {str}
    Stmt      := Assign | If | For | While | Push | Pop | Def | Return | Comment
    Assign    := target: str, op: str, args: [Arg], params: [(str, value)], loc
                 exactly one primitive per statement; `op` is a key of the
                 rule table (`rules.OPS`); `params` are static keywords
                 (axis=0, keepdims=True) whose values are Python literals.
    If        := cond: Atom, body: [Stmt], orelse: [Stmt]
    For       := target: str, start, stop, step: Atom, body, reverse: bool
                                                  for target in [reversed](range(...))
    While     := test: [Stmt], cond: Atom, body, counter: str | None
                                                  runs `test`, then the body while cond
    Push      := tape: str, value: Atom, index: Index | None     tape.append(value)
                                                  (with index: a copy of value[index])
    Pop       := tape: str, target: str, index: Index | None     target = tape.pop()
                                                  (with index: target[index] = ...)
    Def       := fn: Function                     a nested function (a pullback)
    Return    := value: Atom | (Atom, ...) | ((Atom, ...), ...)
    Arg       := Atom | Index                     an Index only where an op takes
                                                  one (INDEXED: getitem, setitem, ...)
    Atom      := Var(name) | Const(value)         value: int, float, bool,
                                                  None, or a tuple of these
    Index     := items: [Atom | Slice | None | Ellipsis]    (None is np.newaxis)
    Slice     := lower, upper, step: Atom | None

Three-address form: an argument is an atom, never a nested expression.
Control flow stays structured (no gotos): `break`, `continue` and early
`return` are lowered to flags and guarded blocks.
Mutation is explicit: `n_1 = setitem(n, idx, v)` makes a new value; when the
target has the same name as the array, the array is updated in place.
`temps` names the variables the compiler made up (the emitter may fold
them back into the expression that uses them); `free` names what the
function reads from its module or closure (a global array, a constant);
`derived` names the adjoint variables, which always hold floats.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Union

from ..errors import Loc


@dataclass(frozen=True)
class Var:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Const:
    value: object

    def __str__(self) -> str:
        return repr(self.value)


Atom = Union[Var, Const]


@dataclass(frozen=True)
class Slice:
    lower: Atom | None = None
    upper: Atom | None = None
    step: Atom | None = None

    def __str__(self) -> str:
        parts = ["" if a is None else str(a) for a in (self.lower, self.upper, self.step)]
        return ":".join(parts[:2] if self.step is None else parts)


@dataclass(frozen=True)
class Index:
    items: tuple

    def __str__(self) -> str:
        return ", ".join("..." if i is Ellipsis else str(i) for i in self.items)

    def atoms(self):
        for item in self.items:
            if isinstance(item, Slice):
                yield from (a for a in (item.lower, item.upper, item.step) if a is not None)
            elif isinstance(item, (Var, Const)):
                yield item


@dataclass(frozen=True)
class Assign:
    target: str
    op: str
    args: tuple = ()
    params: tuple = ()
    loc: Loc | None = None

    def __str__(self) -> str:
        args = [f"[{a}]" if isinstance(a, Index) else str(a) for a in self.args]
        args += [f"{k}={v!r}" for k, v in self.params]
        return f"{self.target} = {self.op}({', '.join(args)})"


@dataclass(frozen=True)
class Return:
    value: object
    loc: Loc | None = None

    def __str__(self) -> str:
        return f"return {_show_value(self.value)}"


@dataclass(frozen=True)
class If:
    cond: Atom
    body: tuple
    orelse: tuple = ()
    loc: Loc | None = None

    def __str__(self) -> str:
        text = f"if {self.cond}:\n{_block(self.body)}"
        return text + (f"\nelse:\n{_block(self.orelse)}" if self.orelse else "")


@dataclass(frozen=True)
class For:
    target: str
    start: Atom
    stop: Atom
    step: Atom
    body: tuple
    loc: Loc | None = None
    reverse: bool = False           # the same turns, last first

    def __str__(self) -> str:
        turns = f"range({self.start}, {self.stop}, {self.step})"
        return f"for {self.target} in {f'reversed({turns})' if self.reverse else turns}:\n{_block(self.body)}"


@dataclass(frozen=True)
class While:
    test: tuple
    cond: Atom
    body: tuple
    loc: Loc | None = None
    counter: str | None = None      # counts the turns, for the reverse sweep

    def __str__(self) -> str:
        return f"while [{'; '.join(map(str, self.test))}] {self.cond}:\n{_block(self.body)}"


@dataclass(frozen=True)
class Push:
    tape: str
    value: Atom
    index: object = None

    def __str__(self) -> str:
        return f"push({self.tape}, {self.value}{'' if self.index is None else f'[{self.index}]'})"


@dataclass(frozen=True)
class Pop:
    tape: str
    target: str
    index: object = None

    def __str__(self) -> str:
        return f"{self.target}{'' if self.index is None else f'[{self.index}]'} = pop({self.tape})"


def _block(stmts) -> str:
    return "\n".join("    " + line for s in stmts for line in str(s).splitlines()) or "    pass"


NESTED = (If, For, While)
_FLOW = frozenset(NESTED)


def bodies(stmt) -> tuple:
    """The statement lists nested in a control-flow statement."""
    kind = type(stmt)
    if kind is If:
        return (stmt.body, stmt.orelse)
    if kind is For:
        return (stmt.body,)
    if kind is While:
        return (stmt.test, stmt.body)
    return ()


def with_bodies(stmt, change):
    """`stmt` with `change` applied to each of its nested bodies."""
    if isinstance(stmt, If):
        return If(stmt.cond, change(stmt.body), change(stmt.orelse), stmt.loc)
    if isinstance(stmt, For):
        return For(stmt.target, stmt.start, stmt.stop, stmt.step, change(stmt.body), stmt.loc,
                   stmt.reverse)
    if isinstance(stmt, While):
        return While(change(stmt.test), stmt.cond, change(stmt.body), stmt.loc, stmt.counter)
    return stmt


def walk(stmts):
    """Every statement, nested ones included (not those of nested Defs)."""
    for stmt in stmts:
        yield stmt
        if type(stmt) in _FLOW:
            for body in bodies(stmt):
                yield from walk(body)


def walk_all(stmts):
    """Every statement, those of nested Defs included."""
    for stmt in walk(stmts):
        yield stmt
        if isinstance(stmt, Def):
            yield from walk_all(stmt.fn.body)


@dataclass(frozen=True)
class Comment:
    """A line of explanation for the reader of the generated code."""

    text: str

    def __str__(self) -> str:
        return "# " + self.text


@dataclass(frozen=True)
class Def:
    fn: "Function"
    loc: Loc | None = None

    def __str__(self) -> str:
        return str(self.fn)


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple
    body: tuple
    loc: Loc | None = None
    temps: frozenset = field(default_factory=frozenset)
    free: frozenset = field(default_factory=frozenset)
    doc: str = ""
    derived: frozenset = field(default_factory=frozenset)   # adjoint names the reverse pass made
    bindings: dict = field(default_factory=dict, compare=False, repr=False)
    companions: tuple = field(default=(), compare=False, repr=False)   # callees' derivatives (Functions),
    # named as this function calls them, printed before it
    # values for free names an inlined function brought from its own module
    complex: frozenset = field(default_factory=frozenset, compare=False, repr=False)
    # names that may hold complex numbers (passes/complex_values.py, for the sweeps after it)

    def __str__(self) -> str:
        lines = [f"def {self.name}({', '.join(self.params)}):"]
        for stmt in self.body:
            lines += ["    " + line for line in str(stmt).splitlines()]
        return "\n".join(lines)


def _show_value(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_show_value(v) for v in value) + ")"
    return str(value)


def atoms_of(value):
    """The atoms of a Return value or an argument list, flattened."""
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from atoms_of(v)
    elif isinstance(value, Index):
        yield from value.atoms()
    elif isinstance(value, Slice):
        yield from (a for a in (value.lower, value.upper, value.step) if a is not None)
    elif isinstance(value, (Var, Const)):
        yield value


_USES: dict = {}            # id -> (statement, the names it reads); the passes ask again and again


def uses(stmt) -> frozenset[str]:
    """Names a statement reads (a nested Def reads what its body reads from outside).
    Statements never change, so what each one reads is worked out once (and shared:
    the set is frozen)."""
    known = _USES.get(id(stmt))
    if known is not None and known[0] is stmt:
        return known[1]
    found = frozenset(_uses(stmt))
    if len(_USES) > 50000:
        _USES.clear()
    _USES[id(stmt)] = (stmt, found)
    return found


def _uses(stmt) -> set[str]:
    if isinstance(stmt, Assign):
        return _names(stmt.args)
    if isinstance(stmt, Return):
        return _names(stmt.value)
    if isinstance(stmt, Push):
        return _names((stmt.value, stmt.index)) | {stmt.tape}
    if isinstance(stmt, Pop):
        return _names(stmt.index) | ({stmt.target} if stmt.index is not None else set()) | {stmt.tape}
    if isinstance(stmt, NESTED):
        heads = {If: lambda s: (s.cond,), For: lambda s: (s.start, s.stop, s.step), While: lambda s: (s.cond,)}
        inner = [uses(s) for body in bodies(stmt) for s in body]
        return _names(heads[type(stmt)](stmt)).union(*inner)
    if isinstance(stmt, Comment):
        return set()
    inner = set().union(*(uses(s) for s in walk(stmt.fn.body)))
    return inner - set(stmt.fn.params) - set().union(*(defs(s) for s in walk(stmt.fn.body)))


def _names(value) -> set:
    found: set = set()
    _collect(value, found)
    return found


def _collect(value, found: set) -> None:
    """The names of the Vars in an atom, Index, Slice or tuple (a loop: this runs often)."""
    kind = type(value)
    if kind is Var:
        found.add(value.name)
    elif kind is tuple or kind is list:
        for item in value:
            _collect(item, found)
    elif kind is Index:
        for item in value.items:
            _collect(item, found)
    elif kind is Slice:
        for item in (value.lower, value.upper, value.step):
            _collect(item, found)


def defs(stmt) -> set[str]:
    if isinstance(stmt, Assign):
        return {stmt.target}
    if isinstance(stmt, Pop):
        return {stmt.target}
    if isinstance(stmt, Def):
        return {stmt.fn.name}
    if isinstance(stmt, NESTED):
        inner = set().union(*(defs(s) for body in bodies(stmt) for s in body))
        return inner | ({stmt.target} if isinstance(stmt, For) else set())
    return set()


WRITES = {"iadd", "setitem", "setitem.any", "append", "add_at"}
EFFECTS = {"opaque"}
# ops run for what they do, not only for their value: a call s2sgrad does not read (a
# random draw advances its generator, a print prints). They run once, in the user's
# order: never dropped, merged, moved or folded into another expression.
# ops that may write into their first argument (when it is their target: `dx += g`, `a[i] = v`)

OUT = "out"     # a static saying where a result is written (passes/buffers.py); not the op's own

UNMOVED = "unmoved"   # a static saying an item of a tuple result no argument moves (rules.Op.constant_items)


ATTRIBUTE = "attribute"   # a static saying the user wrote the op as an attribute (`x.shape`, `x.T`):
                          # printed as one, so an object of the user's with that attribute gets its own


def statics(stmt: Assign) -> dict:
    """The static keywords of the op itself (not where its result is written, nor how it
    was spelled)."""
    return {k: v for k, v in stmt.params if k not in (OUT, ATTRIBUTE, UNMOVED)}


def assignments(stmts) -> Counter:
    """How many statements of `stmts` (nested ones too) assign each name."""
    return Counter(name for s in walk(stmts) for name in
                   (defs(s) if not isinstance(s, NESTED) else {s.target} if isinstance(s, For) else
                    {s.counter} if isinstance(s, While) and s.counter else ()))


def heads(stmt) -> set:
    """The names a loop or branch reads itself (its condition or bounds)."""
    atoms = {If: lambda s: (s.cond,), For: lambda s: (s.start, s.stop, s.step),
             While: lambda s: (s.cond,)}[type(stmt)](stmt)
    return {a.name for a in atoms if isinstance(a, Var)}


def exposed(stmts) -> set:
    """Names `stmts` may read before assigning them."""
    reads, assigned = set(), set()
    for stmt in stmts:
        if isinstance(stmt, NESTED):
            reads |= (heads(stmt) | set().union(*(exposed(b) for b in bodies(stmt)))) - assigned
            if isinstance(stmt, If):          # assigned on both arms
                assigned |= set().union(*(defs(s) for s in stmt.body)) & \
                    set().union(*(defs(s) for s in stmt.orelse))
        else:
            reads |= uses(stmt) - assigned
            assigned |= defs(stmt)
    return reads


def rename(value, mapping: dict):
    """`value` (an atom, Index, Slice or tuple of them) with Vars renamed or replaced."""
    if isinstance(value, Var):
        new = mapping.get(value.name, value)
        return Var(new) if isinstance(new, str) else new
    if isinstance(value, tuple):
        return tuple(rename(v, mapping) for v in value)
    if isinstance(value, Slice):
        return Slice(*(None if a is None else rename(a, mapping) for a in (value.lower, value.upper, value.step)))
    if isinstance(value, Index):
        if len(value.items) == 1 and isinstance(mapped := rename(value.items[0], mapping), Index):
            return mapped
        return Index(tuple(rename(i, mapping) if isinstance(i, (Var, Slice)) else i for i in value.items))
    return value


def rename_stmts(stmts, mapping: dict) -> tuple:
    """`stmts` with every name in `mapping` renamed, where it is read and where it is
    assigned (a name may map to a Const only if it is never assigned)."""
    def name(n):
        return mapping.get(n, n)
    out = []
    for s in stmts:
        if isinstance(s, Assign):
            s = Assign(name(s.target), s.op, rename(s.args, mapping), s.params, s.loc)
        elif isinstance(s, Return):
            s = Return(rename(s.value, mapping), s.loc)
        elif isinstance(s, Push):
            s = Push(name(s.tape), rename(s.value, mapping), rename(s.index, mapping))
        elif isinstance(s, Pop):
            s = Pop(name(s.tape), name(s.target), rename(s.index, mapping))
        elif isinstance(s, If):
            s = If(rename(s.cond, mapping), rename_stmts(s.body, mapping), rename_stmts(s.orelse, mapping), s.loc)
        elif isinstance(s, For):
            s = For(name(s.target), *rename((s.start, s.stop, s.step), mapping),
                    rename_stmts(s.body, mapping), s.loc, s.reverse)
        elif isinstance(s, While):
            s = While(rename_stmts(s.test, mapping), rename(s.cond, mapping), rename_stmts(s.body, mapping),
                      s.loc, s.counter and name(s.counter))
        elif isinstance(s, Def):
            f = s.fn
            s = Def(Function(f.name, f.params, rename_stmts(f.body, mapping), f.loc, f.temps, f.free,
                             f.doc, f.derived), s.loc)
        out.append(s)
    return tuple(out)


class IRError(Exception):
    """The IR broke its grammar: a bug in a pass, never the user's fault."""


def verify(fn: Function, outer: frozenset = frozenset()) -> None:
    """Check `fn` against the grammar above; raise IRError on the first breach.

    In straight-line code every name must be assigned before it is read; inside
    control flow (where a loop reads what its last turn wrote) it must be
    assigned somewhere in the function. A function may call itself by name."""
    defined = set(outer) | set(fn.params) | set(fn.free) | {fn.name}
    anywhere = defined | set().union(*(defs(s) for s in walk(fn.body)))
    for stmt in fn.body:
        for inner in walk([stmt]):
            _verify_stmt(inner, defined)
        known = anywhere if isinstance(stmt, NESTED) else defined
        for name in sorted(uses(stmt) - known):
            raise IRError(f"`{name}` read before it is assigned in `{stmt}`")
        defined |= defs(stmt)


def _verify_stmt(stmt, defined) -> None:
    from ..rules import OPS

    if isinstance(stmt, Def):
        verify(stmt.fn, frozenset(defined))
    elif isinstance(stmt, Assign):
        if stmt.op not in OPS:
            raise IRError(f"unknown op {stmt.op!r} in `{stmt}`")
        _verify_args(stmt)
    elif not isinstance(stmt, (Return, Comment, Push, Pop) + NESTED):
        raise IRError(f"not a statement: {stmt!r}")


INDEXED = {"getitem": 1, "setitem": 1, "add_at": 1, "unindex": 2, "unassigned": 1, "as_index": 0}
# op -> where its index goes


def _verify_args(stmt: Assign) -> None:
    for i, arg in enumerate(stmt.args):
        if isinstance(arg, Index):
            if INDEXED.get(stmt.op) != i:
                raise IRError(f"an index may only be the index argument of {', '.join(INDEXED)}: `{stmt}`")
        elif not isinstance(arg, (Var, Const)):
            raise IRError(f"argument {arg!r} of `{stmt}` is not an atom")
    for key, value in stmt.params:
        if not isinstance(key, str) or not _is_literal(value):
            raise IRError(f"static parameter {key}={value!r} of `{stmt}` is not a literal")


def _is_literal(value) -> bool:
    if isinstance(value, tuple):
        return all(_is_literal(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, complex, str, type))
