"""Python's lists and tuples in the IR, and the one place their arithmetic differs from NumPy's.

On arrays `a + b` adds and `a * 2` scales; on Python lists and tuples `+` joins
them and `* n` repeats them (`[x, y] * 2` is `[x, y, x, y]`). The rules of
`add` and `mul` are NumPy's, so a derivative through list arithmetic would be
wrong without a word. `arithmetic` finds it: the statements that apply `+`,
`*` or `+=` to a value that holds a list or tuple. Such a value is made by a
list or tuple display, a comprehension (`append`), an op whose rule says it
returns a list (`np.split`), a slice or copy of one, an item of a list of
lists, or comes in as a parameter the caller gave a list.
"""
from __future__ import annotations

from . import Assign, For, If, Index, Slice, Var, While, walk
from .. import rules
from ..errors import NotDifferentiableError

MADE = {"list", "tuple", "append"}          # ops whose value is a list or tuple
JOINS = {"add", "mul", "iadd"}              # `+`, `*`, `+=`: joined or repeated when given one
KEEPS = {"id"}                              # the same value


def refusal(stmt: Assign) -> NotDifferentiableError:
    """The refusal of `+`, `*` or `+=` on a list or tuple, at its line."""
    sign = {"add": "+", "iadd": "+=", "mul": "*"}[stmt.op]
    return NotDifferentiableError(
        f"`{sign}` on a list or tuple joins or repeats it (Python's list arithmetic, not NumPy's), "
        "which s2sgrad does not differentiate", stmt.loc,
        hint="build the list with append or a comprehension, or make it an array first (np.array(xs))")


def arithmetic(stmts, given=(), maybe=(), numeric=()) -> dict:
    """{name: Assign} for each statement of `stmts` that applies +, * or += to a list or
    tuple: one made in `stmts`, or one of the names `given` (parameters holding one); the
    names `maybe` may hold one too (the other parameters: `a + b` joins two lists); the
    names `numeric` hold floats or float arrays (differentiated values that are no list)."""
    return _Walk(stmts, given, maybe=maybe, numeric=numeric).found


def passed(stmts, given=()) -> list:
    """[(call, positions)]: the calls of `stmts` that pass lists or tuples, and the positions
    (among the callee's arguments) they are passed at; the callee's rules are NumPy's too."""
    return [(s, tuple(sorted(i - 1 for i in positions))) for s, positions in _Walk(stmts, given).calls.values()]


def holding(stmts) -> set:
    """The names that hold a list or tuple after `stmts`."""
    return _Walk(stmts, ()).sequences


def dict_writes(stmts) -> list:
    """The statements writing an item into a dict made here (`d = {}`, then `d["a"] = v`):
    NumPy's rules for writing into an array do not hold for a dict."""
    dicts, found = set(), []
    for s in walk(stmts):
        if not isinstance(s, Assign):
            continue
        how = dict(s.params) if s.op == "opaque" else {}
        source = s.args[0].name if s.args and isinstance(s.args[0], Var) else None
        if "display" in how or how.get("callee") == "dict" or s.op in KEEPS and source in dicts:
            dicts.add(s.target)
        elif s.op.startswith("setitem") and source in dicts:
            found.append(s)
            dicts.add(s.target)
    return found


class _Walk:
    """One walk over statements in order, the names holding lists and tuples (`sequences`,
    and `nested`, those holding lists of lists) updated as they are assigned; what it
    finds: `found`, the joins, and `calls`, id -> (call, the positions of the lists it
    passes). A branch's arms are walked apart and joined, a loop's body twice (what one
    turn makes the next one reads)."""

    def __init__(self, stmts, given, maybe=(), numeric=()):
        self.maybe, self.numeric = frozenset(maybe), frozenset(numeric)
        self.found, self.calls = {}, {}
        self.sequences, self.nested = set(given), set()
        self.walk(stmts)

    def walk(self, stmts) -> None:
        for s in stmts:
            if isinstance(s, Assign):
                self.assign(s)
            elif isinstance(s, If):
                before, arms = (set(self.sequences), set(self.nested)), []
                for body in (s.body, s.orelse):
                    self.sequences, self.nested = set(before[0]), set(before[1])
                    self.walk(body)
                    arms.append((self.sequences, self.nested))
                self.sequences = arms[0][0] | arms[1][0]      # (either arm may have run)
                self.nested = arms[0][1] | arms[1][1]
            elif isinstance(s, (For, While)):
                body = tuple(s.test) + tuple(s.body) if isinstance(s, While) else s.body
                for _ in range(2):
                    before = (set(self.sequences), set(self.nested))
                    self.walk(body)
                    self.sequences |= before[0]
                    self.nested |= before[1]

    def assign(self, s: Assign) -> None:
        sequences, nested = self.sequences, self.nested
        if _joins(s, sequences, self.maybe, self.numeric - sequences):
            self.found.setdefault(s.target, s)
        if s.op == "call":
            positions = {i for i, a in enumerate(s.args) if i and isinstance(a, Var) and a.name in sequences}
            if positions:
                self.calls[id(s)] = (s, self.calls.get(id(s), (s, set()))[1] | positions)
        makes = _makes_sequence(s, sequences, nested)
        holds = _holds_sequences(s, sequences, nested)
        for known, test in ((sequences, makes), (nested, holds)):
            if test:
                known.add(s.target)
            else:
                known.discard(s.target)


def _joins(s: Assign, sequences: set, maybe: frozenset, numeric: frozenset = frozenset()) -> bool:
    """Whether `s` joins or repeats a list or tuple: `a + b` of two (a list plus an array is
    NumPy's sum), `xs * n` (not `xs * w` of a float array w: the names `numeric` hold
    floats), `xs += v` (a list extended by any iterable)."""
    known = [isinstance(a, Var) and a.name in sequences or isinstance(getattr(a, "value", None), (list, tuple))
             for a in s.args]
    if s.op == "add":
        return len(known) == 2 and any(known) and \
            all(k or isinstance(a, Var) and a.name in maybe for k, a in zip(known, s.args))
    if s.op == "iadd":
        return bool(known) and known[0]
    if s.op == "mul" and len(known) == 2 and any(known) and not all(known):
        other = s.args[known.index(False)]      # a list times a number repeats it, times a float
        return not (isinstance(other, Var) and other.name in numeric)      # array NumPy multiplies
    return s.op in JOINS and any(known)


def _holds_sequences(s: Assign, sequences: set, nested: set) -> bool:
    """Whether `s` makes a list or tuple whose items are lists or tuples."""
    items = s.args[1:] if s.op == "append" else s.args
    if s.op == "append" and isinstance(s.args[0], Var) and s.args[0].name in nested:
        return True
    if s.op in MADE:
        return any(isinstance(a, Var) and a.name in sequences for a in items)
    return s.op in KEEPS and isinstance(s.args[0], Var) and s.args[0].name in nested


def _makes_sequence(s: Assign, sequences: set, nested: set) -> bool:
    first = s.args[0] if s.args else None
    source = first.name if isinstance(first, Var) else None
    if s.op in MADE or s.op in JOINS and any(isinstance(a, Var) and a.name in sequences for a in s.args):
        return True
    if getattr(rules.OPS.get(s.op), "listed", False):
        return True                               # np.split's parts: a list
    if s.op in KEEPS:
        return source in sequences
    if s.op == "getitem" and source in sequences:
        index = s.args[1]
        sliced = isinstance(index, Index) and any(isinstance(i, Slice) for i in index.items)
        return sliced or source in nested          # a slice of a list, or an item of a list of lists
    return False
