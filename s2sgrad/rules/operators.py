"""Rules of Python's operators and of the ops the language spells as syntax
(indexing, tuples, comparisons, plain copies)."""
import numpy as np

from . import adjoint, adjoint_into, helper, nondifferentiable, partials, special
from ..runtime import (HELPERS, matmul_dleft, matmul_dright,  # noqa: F401 (used in templates)
                       unbroadcast, zero_grad)

for _fn in HELPERS:
    helper(_fn)
for _name in ("call", "pullback", "tuple", "list", "gt", "ge", "lt", "le", "eq", "ne", "not", "and", "or"):
    special(_name)


@partials("add")
@partials("iadd")                 # x += y, writing into x: only ever made by the compiler
def add(x, y): return 1, 1


@partials("sub")
def sub(x, y): return 1, -1


@partials("mul")
def mul(x, y): return y, x


@partials("div")
def div(x, y, ans): return 1 / y, -ans / y


@partials("pow")
def pow_(x, y, ans): return y * x ** (y - 1), ans * np.log(x)


@partials("mod")
def mod(x, y): return 1, -np.floor(x / y)


@partials("floordiv")
def floordiv(x, y): return 0, 0


@partials("neg")
def neg(x): return -1


@partials("id")
@partials("pos")
@partials(np.copy)
def copy(x): return 1


@adjoint("matmul")
@adjoint(np.matmul)
def matmul(ans, x, y, dans):
    dx = matmul_dleft(dans, x, y)
    dy = matmul_dright(dans, x, y)


@adjoint("getitem")
def getitem(ans, x, index, dans):
    dx = zero_grad(x)
    dx[index] = dans


@adjoint_into("getitem")
def getitem_into(ans, x, index, dans, dx):
    dx[index] += dans


@adjoint("append")                    # xs.append(v), as xs = xs + [v]: a list of its own
def append(ans, x, value, dans):
    dvalue = dans[-1]
    dx = dans[:-1]


@adjoint("setitem")
def setitem(ans, x, index, value, dans):
    dvalue = unbroadcast(dans[index], value)
    dx = np.copy(dans)
    dx[index] = 0.0


@adjoint_into("setitem", same=True)
def setitem_into(ans, x, index, value, dans, dx):
    dvalue = unbroadcast(np.copy(dans[index]), value)
    dx[index] = 0.0


nondifferentiable(len)
nondifferentiable(np.shape)
nondifferentiable(np.ndim)
nondifferentiable(np.size)
