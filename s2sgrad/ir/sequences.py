"""Python's lists and tuples in the IR, and the one place their arithmetic differs from NumPy's.

On arrays `a + b` adds and `a * 2` scales; on Python lists and tuples `+` joins
them and `* n` repeats them (`[x, y] * 2` is `[x, y, x, y]`). The rules of
`add` and `mul` are NumPy's, so a derivative through list arithmetic would be
wrong without a word. `arithmetic` finds it: the statements that apply `+`,
`*` or `+=` to a value that holds a list or tuple. Such a value is made by a
list or tuple display, a comprehension (`append`), a slice or copy of one,
an item of a list of lists, or comes in as a parameter the caller gave a list.
"""
from __future__ import annotations

from . import Assign, For, If, Index, Slice, Var, While

MADE = {"list", "tuple", "append"}          # ops whose value is a list or tuple
JOINS = {"add", "mul", "iadd"}              # `+`, `*`, `+=`: joined or repeated when given one
KEEPS = {"id"}                              # the same value


def arithmetic(stmts, given=()) -> dict:
    """{name: Assign} for each statement of `stmts` that applies +, * or += to a list or
    tuple: one made in `stmts`, or one of the names `given` (parameters holding one)."""
    found: dict = {}
    _follow(stmts, set(given), set(), found)
    return found


def _follow(stmts, sequences: set, nested: set, found: dict) -> None:
    """Walk `stmts` in order, `sequences` (and `nested`, those holding lists) updated as
    names are assigned; a branch's arms are walked apart and joined, a loop's body twice
    (what one turn makes the next one reads)."""
    for s in stmts:
        if isinstance(s, Assign):
            if s.op in JOINS and any(isinstance(a, Var) and a.name in sequences for a in s.args):
                found.setdefault(s.target, s)
            for known, test in ((sequences, _makes_sequence), (nested, _holds_sequences)):
                if test(s, sequences, nested):
                    known.add(s.target)
                else:
                    known.discard(s.target)
        elif isinstance(s, If):
            arms = []
            for body in (s.body, s.orelse):
                state = (set(sequences), set(nested))
                _follow(body, *state, found)
                arms.append(state)
            for known, i in ((sequences, 0), (nested, 1)):   # (either arm may have run)
                known.clear()
                known |= arms[0][i] | arms[1][i]
        elif isinstance(s, (For, While)):
            body = tuple(s.test) + tuple(s.body) if isinstance(s, While) else s.body
            for _ in range(2):
                state = (set(sequences), set(nested))
                _follow(body, *state, found)
                sequences |= state[0]
                nested |= state[1]


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
    if s.op in KEEPS:
        return source in sequences
    if s.op == "getitem" and source in sequences:
        index = s.args[1]
        sliced = isinstance(index, Index) and any(isinstance(i, Slice) for i in index.items)
        return sliced or source in nested          # a slice of a list, or an item of a list of lists
    return False
