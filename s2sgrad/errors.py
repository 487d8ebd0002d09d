"""Diagnostics: errors that point at the user's own line.

Every error s2sgrad raises about a user's function carries a `Loc` (file,
line, column, the text of the line) and prints like a compiler message:

    model.py:12:4: error: `for` loops are not supported yet
        for i in range(3):
        ^^^^^^^^^^^^^^^^^^
    help: unroll the loop by hand, or wait for control-flow support

The classes subclass the built-in exception a Python user would expect
(SyntaxError for constructs, ValueError or TypeError for values), so
`except ValueError` keeps working.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """Where a piece of IR came from in the user's source."""

    file: str
    line: int
    col: int = 0
    end_col: int | None = None
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col + 1}"


class S2SGradError(Exception):
    """Base class of every error s2sgrad raises about user input."""

    def __init__(self, message: str, loc: Loc | None = None, hint: str = ""):
        super().__init__(message)
        self.message, self.loc, self.hint = message, loc, hint
        if loc is not None:  # the attributes SyntaxError and tools read
            self.filename, self.lineno = loc.file, loc.line
            self.offset, self.text = loc.col + 1, loc.text

    def __str__(self) -> str:
        lines = [f"{self.loc}: error: {self.message}" if self.loc else self.message]
        if self.loc is not None and self.loc.text:
            lines += _caret_lines(self.loc)
        if self.hint:
            lines.append(f"help: {self.hint}")
        return "\n".join(lines)


def _caret_lines(loc: Loc) -> list[str]:
    text = loc.text.rstrip("\n")
    end = loc.end_col if loc.end_col and loc.end_col > loc.col else len(text)
    width = max(1, min(end, len(text)) - loc.col)
    return ["    " + text, "    " + " " * loc.col + "^" * width]


class UnsupportedSyntaxError(S2SGradError, SyntaxError):
    """A construct of the Python language that s2sgrad does not handle."""


class NoRuleError(S2SGradError, ValueError):
    """A call to a function that has no derivative rule."""



class NoHelperRuleError(NoRuleError):
    """A helper of a generated gradient has no reverse rule yet (reverse over reverse);
    a vjp of the gradient is then made by symmetry (passes/again.py)."""

class UndefinedNameError(S2SGradError, NameError):
    """A name the function reads that is neither local, global nor builtin."""


class SourceUnavailableError(S2SGradError, ValueError):
    """The function's source text cannot be read."""


class NotDifferentiableError(S2SGradError, TypeError):
    """An argument or output that cannot be differentiated (an integer, a bool, ...)."""


class ShapeError(S2SGradError, ValueError):
    """A value of the wrong shape, such as a non-scalar output given to `grad`."""


def rule_hint(name: str) -> str:
    """The help of a refusal of `name`, a function with no derivative rule: the decorators
    that give it one, when it is a name a rule can be given to (`np.foo`, `my_fn`); for a
    function made by a call (`make_vjp(f)(x)`), name it first."""
    if not all(part.isidentifier() for part in name.split(".")):
        return (f"`{name}` makes the function it calls; give that function a name at module level "
                "(`name = ...`) and a rule with @s2sgrad.adjoint(name), or compute it outside the "
                "differentiated function")
    return (f"give it one with a decorator (`s2sgrad rules` lists the supported functions):\n"
            f"    @s2sgrad.adjoint({name})\n"
            f"    def {name.rsplit('.', 1)[-1]}_rule(ans, x, dans):\n"
            f"        dx = ...  # the adjoint of x, from dans (the adjoint of ans = {name}(x))\n"
            f"  or, if it has no derivative: s2sgrad.nondifferentiable({name})")
