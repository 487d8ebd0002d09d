"""Names in generated code: the ones it keeps for itself, the namer that hands out
fresh ones, and the words compiler temporaries are named with (`sin_x`, `total_y`)."""
from __future__ import annotations

import keyword

from .. import ir, rules, runtime

RESERVED = {"np", "math", "tape"} | {h.__name__ for h in runtime.HELPERS}   # generated code's own


class Namer:
    """Hands out names no other variable in the generated code uses."""

    def __init__(self, taken=(), of: ir.Function | None = None):
        self._taken = None if of is not None else set(taken) | RESERVED
        self._of = of                # a function whose names are taken (read when first needed)
        self.made = set()            # names a pass made up and wants to call temporaries
        self._next: dict = {}        # base -> the number its next name starts looking at

    @property
    def taken(self) -> set:
        """Every name no new name may be: never one the generated code itself uses."""
        if self._taken is None:
            fn = self._of
            names = {n for s in ir.walk_all(fn.body) for n in ir.uses(s) | ir.defs(s)}
            self._taken = names | set(fn.params) | set(fn.free) | set(fn.bindings) | RESERVED
        return self._taken

    @taken.setter
    def taken(self, names: set) -> None:
        self._taken = names

    @classmethod
    def of(cls, fn: ir.Function) -> "Namer":
        """A namer for new names in `fn`: none its statements, parameters, free names or
        bindings use (worked out when the first name is asked for)."""
        return cls(of=fn)

    def nested(self) -> "Namer":
        """A namer for a function defined inside this one: it hands out names neither
        uses, from the same pool, and keeps its own `made`."""
        inner = Namer(taken=())
        inner.taken, inner._next = self.taken, self._next
        return inner

    def fresh(self, base: str) -> str:
        base = base[:24].rstrip("_") or "t"
        if not base.isidentifier() or keyword.iskeyword(base):
            base = "t_" + "".join(c if c.isalnum() else "_" for c in base)
        n = self._next.get(base, 1)   # names are only ever taken: the numbers below n are
        name = base if n == 1 else f"{base}_{n}"
        while name in self.taken or name in rules.FOREIGN:      # (functions of users' rules)
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        self._next[base] = n
        return name


# op -> the word its temporaries are named with (avoiding Python's builtin names)
WORDS = {"pow": "power", "np.sum": "total", "np.abs": "absolute", "id": "copy", "np.dot": "dot",
         "np.maximum": "maximum", "getitem": "item", "tuple": "pack"}


def temp_base(op: str, args, user_names) -> str:
    """What to call the result of `op` on `args`: its word and the user's names among
    the arguments (`matmul_x_w`; `x_0` for the item x[0])."""
    word = WORDS.get(op, op.rsplit(".", 1)[-1])
    named = [a.name for a in args if isinstance(a, ir.Var) and a.name in user_names]
    if op == "getitem" and named:
        index = args[1]
        ints = [str(i.value).replace("-", "m") for i in index.items if isinstance(i, ir.Const)]
        return named[0] + ("_" + "_".join(ints) if len(ints) == len(index.items) else "_item")
    return "_".join([word] + named[:2])
