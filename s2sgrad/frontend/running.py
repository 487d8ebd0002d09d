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

import numpy as np

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
    """Note that `name` in `where` (a globals dict or a closure cell) was `value`: a function
    of the user's (its code too), or another function (a library's, `ACT = np.tanh`)."""
    if not _RECORDS or where is None or isinstance(where, dict) and \
            str(where.get("__name__", "")).startswith("s2sgrad."):
        return                           # (s2sgrad's own rules and helpers stay as they are)
    if isinstance(value, types.FunctionType):
        _RECORDS[-1].append((where, name, weakref.ref(value), value.__code__))
    elif callable(value) and not isinstance(value, type):
        _RECORDS[-1].append((where, name, None, _Held(value, False)))


def resolved_contents(where, name: str, value) -> None:
    """Note that `name` was the list or tuple `value`, with the items it holds now (a loop
    over it was unrolled: appending a function to it changes the derivative)."""
    if _RECORDS and where is not None:
        _RECORDS[-1].append((where, name, None, _Held(value, True)))


def resolved_value(where, name: str, value, path: tuple = ()) -> None:
    """Note that `name` (or its attributes `path`: `cfg.temp`) held `value`, which the
    derivative was built for as a constant (a static keyword, `axis=AXIS`; a number read
    off an object; whether an argument is None): another value builds it again."""
    if _RECORDS and where is not None:
        _RECORDS[-1].append((where, name, None, _Same(value, path)))


class _Same:
    """A value a derivative was built for as a constant (reached from the name through the
    attributes `path`): the same object, or an equal one of the same type (an array: the
    same object only)."""

    items = None

    def __init__(self, value, path: tuple = ()):
        self.value, self.path = value, path

    def same(self, now) -> bool:
        for attribute in self.path:
            now = getattr(now, attribute, _Same)
        if now is self.value:
            return True
        try:
            return type(now) is type(self.value) and not isinstance(now, np.ndarray) and bool(now == self.value)
        except (TypeError, ValueError):
            return False


def resolved_kind(where, name: str, value) -> None:
    """Note that `name` held numbers, complex or not (the derivative was built for that: a
    global rebound from real to complex numbers builds it again)."""
    if _RECORDS and where is not None and isinstance(value, (int, float, complex, np.ndarray, list, tuple)):
        _RECORDS[-1].append((where, name, None, _Kind(value)))


class _Kind:
    """Whether a value held complex numbers when a derivative was built from it."""

    items = None

    def __init__(self, value):
        self.value, self.complex = None, _holds_complex(value)

    def same(self, now) -> bool:
        return _holds_complex(now) == self.complex


def _holds_complex(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_holds_complex(v) for v in value[:64])
    return isinstance(value, complex) or isinstance(value, np.ndarray) and value.dtype.kind == "c"


class _Held:
    """A value a derivative was built from, held as it was (and its items, when they count)."""

    def __init__(self, value, items: bool):
        self.value, self.items = value, _items(value) if items else None

    def same(self, now) -> bool:
        if now is not self.value:
            return False
        return self.items is None or _same_items(_items(now), self.items)


def _items(value) -> tuple:
    """The items of a list or tuple, those of the lists and tuples in it in turn."""
    if isinstance(value, (list, tuple)):
        return (len(value),) + tuple(_items(v) for v in value)
    return value


def _same_items(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_items(x, y) for x, y in zip(a, b))
    return a is b or (type(a) is int and type(b) is int and a == b)


def extend(depends: "Depends") -> None:
    """Note that what is being built uses a derivative built from `depends`."""
    if _RECORDS:
        _RECORDS[-1].extend(depends.items)


class Depends:
    """The function a derivative is of, and the functions it resolved by name, each with
    its code when the derivative was built."""

    def __init__(self, fn, seen: list):
        self.of, self.code = weakref.ref(fn), fn.__code__
        self.items = tuple({(id(w), n, id(c) if r is not None else (id(c.value), c.items is None,
                                                                    getattr(c, "path", ()))): (w, n, r, c)
                            for w, n, r, c in seen}.values())

    def joined(self, other: "Depends") -> "Depends":
        """One check of what this and `other` (the same function's) were built from."""
        both = Depends.__new__(Depends)
        both.of, both.code, both.items = self.of, self.code, self.items + other.items
        return both

    def current(self) -> bool:
        fn = self.of()
        if fn is None or fn.__code__ is not self.code:
            return False
        for where, name, ref, code in self.items:
            if ref is None:                  # a value held as it was
                if not code.same(_lookup(where, name)):
                    return False
                continue
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
