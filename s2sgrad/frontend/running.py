"""What runs: whether source read from disk is the running code, and whether a cached
derivative is still the derivative of what runs.

s2sgrad reads a function's text from its file, but Python runs the code object
it compiled when the function was defined; after the file is edited (and not
reloaded) the two differ. `same_code` compiles the text and compares it with
the running code, instruction by instruction, up to how names are reached (a
closure's variable is a global when the `def` is compiled alone).

A derivative is built from the function's code and from every function it
resolved by name (a helper it calls, inlined or differentiated on its own).
`recording()` collects those resolutions while a derivative is built, as
`Depends`; `Depends.current()` says whether each name still holds the same
function with the same code (a notebook cell re-run, `f.__code__` replaced by
autoreload: no). Functions are held weakly, so a cached derivative keeps none
of them alive.
"""
from __future__ import annotations

import __future__
import contextlib
import dis
import types
import weakref

_FUTURE = 0
for _feature in __future__.all_feature_names:
    _FUTURE |= getattr(__future__, _feature).compiler_flag

_SKIPPED = {"RESUME", "COPY_FREE_VARS", "MAKE_CELL", "PUSH_NULL", "NOP", "EXTENDED_ARG", "CACHE"}
_REACHED = {"LOAD_DEREF": "LOAD_NAMED", "LOAD_GLOBAL": "LOAD_NAMED", "LOAD_CLASSDEREF": "LOAD_NAMED",
            "LOAD_NAME": "LOAD_NAMED", "STORE_DEREF": "STORE_NAMED", "STORE_GLOBAL": "STORE_NAMED",
            "LOAD_METHOD": "LOAD_ATTR"}   # (3.11 reads an imported module's function as an attribute)
_JUMPS = set(dis.hasjrel) | set(dis.hasjabs)


def same_code(text: str, filename: str, code: types.CodeType) -> bool:
    """Whether the `def` in `text` compiles to `code` (up to how names are reached); text
    that does not compile alone cannot be told apart, and is taken as it is."""
    if any(name.startswith("@py_") for name in code.co_varnames):
        return True                      # (pytest rewrote its asserts: not the text's own code)
    try:
        module = compile(text, filename, "exec", flags=code.co_flags & _FUTURE, dont_inherit=True)
    except (SyntaxError, ValueError):   # (`nonlocal` needs its enclosing def: the fence says no)
        return True
    made = [c for c in module.co_consts if isinstance(c, types.CodeType) and c.co_name == code.co_name]
    return len(made) == 1 and _shape(made[0]) == _shape(code)     # (a lambda default makes code too)


def _shape(code: types.CodeType) -> tuple:
    """What a code object computes: its parameters and instructions, with names as names."""
    ops = tuple((_REACHED.get(i.opname, i.opname), _argument(i))
                for i in dis.get_instructions(code) if i.opname not in _SKIPPED)
    return code.co_name, code.co_argcount, code.co_kwonlyargcount, code.co_posonlyargcount, ops


def _argument(instruction):
    if instruction.opcode in _JUMPS:
        return None                      # (offsets move with the instructions skipped)
    value = instruction.argval
    if isinstance(value, types.CodeType):
        return _shape(value)
    return (type(value).__name__, repr(value))


# -- what a derivative was built from -------------------------------------------------

_RECORDS: list = []


@contextlib.contextmanager
def recording():
    """Collect, into the list it yields, what is resolved while the block runs."""
    seen: list = []
    _RECORDS.append(seen)
    try:
        yield seen
    finally:
        _RECORDS.pop()


def resolved(where, name: str, value) -> None:
    """Note that `name` in `where` (a globals dict or a closure cell) was `value`."""
    if _RECORDS and where is not None and isinstance(value, types.FunctionType):
        _RECORDS[-1].append((where, name, weakref.ref(value), value.__code__))


def extend(depends: "Depends") -> None:
    """Note that what is being built uses a derivative built from `depends`."""
    if _RECORDS:
        _RECORDS[-1].extend(depends.items)


class Depends:
    """The function a derivative is of, and the functions it resolved by name, each with
    its code when the derivative was built."""

    def __init__(self, fn, seen: list):
        self.of, self.code = weakref.ref(fn), fn.__code__
        self.items = tuple({(id(w), n, id(c)): (w, n, r, c) for w, n, r, c in seen}.values())

    def current(self) -> bool:
        fn = self.of()
        if fn is None or fn.__code__ is not self.code:
            return False
        for where, name, ref, code in self.items:
            value = ref()
            if value is None or value.__code__ is not code or _lookup(where, name) is not value:
                return False
        return True


def _lookup(where, name):
    if isinstance(where, dict):
        return where.get(name)
    try:
        return where.cell_contents
    except ValueError:
        return None
