"""Rules of Python's operators and of the ops the language spells as syntax
(indexing, tuples, comparisons, plain copies)."""
import numpy as np

from .table import adjoint, adjoint_into, helper, nondifferentiable, partials, special, tangent
from ..runtime import (HELPERS, add_at, matmul_dleft, matmul_dright,  # noqa: F401 (used in templates)
                       unattr, attr_tangent, unassigned, unbroadcast, unindex, unsorted, resorted, unsum, zero_grad)

for _fn in HELPERS:
    helper(_fn)
for _name in ("tuple", "list"):
    special(_name, holds=True)
# A call of a function s2sgrad does not read (a library's, Python's own, a method of an object
# the function made): it runs as Python runs it, on values that are not differentiated; a
# differentiated value reaching it is refused where the derivative is built (frontend/opaque.py).
nondifferentiable("opaque", piecewise=False)


@adjoint("attr", domain=("real",), why="an attribute of an object (a tree): the value itself", examples=())
def attr(ans, x, dans, *, name=None):
    dx = unattr(dans, x, name)


@tangent("attr")
def attr_tangent_rule(ans, x, dx, *, name=None):
    dans = attr_tangent(dx, x, name)
for _name in ("call", "pullback", "gt", "ge", "lt", "le", "eq", "ne", "not", "and", "or"):
    special(_name)


@partials("add", complex=True, domain=("real", "real"), sympy="x + y")
@partials("iadd", complex=True)                 # x += y, writing into x: only ever made by the compiler
def add(x, y): return 1, 1


@partials("sub", complex=True, domain=("real", "real"), sympy="x - y")
def sub(x, y): return 1, -1


@partials("mul", complex=True, domain=("real", "real"), sympy="x * y")
def mul(x, y): return y, x


@partials("div", complex=True, domain=("real", "away"), sympy="x / y")
def div(x, y, ans): return 1 / y, -ans / y


@partials("pow", complex=True, domain=("positive", "real"), sympy="x ** y")
def pow_(x, y, ans): return y * x ** (y - 1), ans * np.log(np.where(x == 0, 1.0, x))   # 0 ** y: 0 for y > 0


@partials("mod", domain=("fraction", "1-2"), why="a saw tooth: SymPy leaves its derivative unevaluated")
def mod(x, y): return 1, -np.floor(x / y)


@partials("floordiv", domain=("fraction", "1-2"), why="a step function: zero wherever it is differentiable")
def floordiv(x, y): return 0, 0


@partials("neg", complex=True, domain=("real",), sympy="-x")
def neg(x): return -1


@partials("id", complex=True, domain=("real",), sympy="x", view=True)
@partials("pos", complex=True)
@partials(np.copy, complex=True, linear=True, methods=("copy",))
def copy(x): return 1


@adjoint("matmul", complex=True, linear=("x", "y"), domain=("real", "real"), sympy="numpy", examples=[
    ("x @ y", [(4, 3), (3, 2)]), ("x @ y", [(3,), (3, 2)]), ("x @ y", [(4, 3), (3,)]), ("x @ y", [(3,), (3,)]),
    ("x @ y", [(2, 4, 3), (3, 5)]), ("x @ y", [(4, 3), (2, 3, 5)]), ("np.matmul(x, y)", [(2, 1, 4, 3), (3, 3, 2)])])
@adjoint(np.matmul, complex=True, linear=("x", "y"))
def matmul(ans, x, y, dans):
    dx = matmul_dleft(dans, x, y)
    dy = matmul_dright(dans, x, y)


@adjoint("getitem", complex=True, linear=True, view=True, domain=("real",), sympy="numpy", examples=[
    ("x[0, 1]", [(4, 3)]), ("x[1:3]", [(4, 3)]), ("x[:, ::2]", [(4, 3)]), ("x[..., -1]", [(2, 3, 4)]),
    ("x[None, 1:, 0]", [(4, 3)]), ("x[-2]", [(5,)]), ("x[[0, 2, 0]]", [(4,)]), ("x[[1, 1], [0, 2]]", [(3, 3)]),
    ("x[np.array([True, False, True, True])]", [(4,)]), ("x[:, np.newaxis]", [(3,)]),
    ("x[np.array([2, 2, 1]), 1:]", [(3, 3)])])
def getitem(ans, x, index, dans):
    dx = zero_grad(x)
    dx[index] = dans


@adjoint_into("getitem")
def getitem_into(ans, x, index, dans, dx):
    dx[index] += dans


# An index that may hold arrays (x[idx]) can repeat an entry: its adjoint adds every time
# (np.add.at). The reverse pass picks these when an index is not known to be basic.
@adjoint("getitem.any", complex=True, domain=("real",), sympy="numpy", examples=[("x[i]", [(4,)])])
def getitem_any(ans, x, index, dans):
    dx = unindex(dans, x, index)


@adjoint_into("getitem.any")
def getitem_any_into(ans, x, index, dans, dx):
    dx = add_at(dx, index, dans)


@adjoint("append", complex=True, holds=True, domain=("real", "real"), sympy="numpy", examples=[("np.array([x, x * y, y])", [(2,), (2,)])])                    # xs.append(v), as xs = xs + [v]: a list of its own
def append(ans, x, value, dans):
    dvalue = dans[-1]
    dx = dans[:-1]


@adjoint("setitem", complex=True, domain=("real", "real"), sympy="numpy", examples=[
    ("def f(x, y):\n    z = x * 2.0\n    z[1, 2] = y ** 2\n    return z\n", [(4, 3), ()]),
    ("def f(x, y):\n    z = x * 2.0\n    z[1:3] = np.sin(y)\n    return z * x\n", [(4, 3), (3,)]),
    ("def f(x, y):\n    z = x * 1.0\n    z[[0, 2]] += y\n    return z\n", [(4,), (2,)])])
def setitem(ans, x, index, value, dans):
    dvalue = unbroadcast(dans[index], value)
    dx = np.copy(dans)
    dx[index] = 0.0


@adjoint_into("setitem", same=True)
def setitem_into(ans, x, index, value, dans, dx):
    dvalue = unbroadcast(np.copy(dans[index]), value)
    dx[index] = 0.0


@adjoint("setitem.any", complex=True, domain=("real", "real"), sympy="numpy", examples=[
    ("def f(x, y):\n    z = x * 1.0\n    z[[0, 0, 2]] = y\n    return z * x\n", [(4,), (3,)]),
    ("def f(x, y):\n    z = x * 1.0\n    z[[1, 1]] = y\n    return z * x\n", [(3, 2), ()])])
def setitem_any(ans, x, index, value, dans):               # an index that may repeat an entry
    dvalue = unbroadcast(unassigned(dans, index), value)
    dx = np.copy(dans)
    dx[index] = 0.0


@adjoint_into("setitem.any", same=True)
def setitem_any_into(ans, x, index, value, dans, dx):
    dvalue = unbroadcast(unassigned(dans, index), value)
    dx[index] = 0.0


@adjoint(sum, complex=True, linear=True, domain=("real",), sympy="numpy", examples=[("sum(x)", [(4, 3)]), ("sum(x)", [(5,)])])
def sum_of_items(ans, x, dans):
    dx = unsum(dans, x)


@adjoint(sorted, domain=("distinct",), why="a permutation that depends on the values: proven by finite differences",
         examples=[("np.array(sorted(x))", [(5,)]), ("np.array(sorted(x, reverse=True))", [(4,)])])
def sorted_items(ans, x, dans, *, reverse=False):       # (a `key` is refused: not a keyword of the rule)
    dx = unsorted(dans, x, reverse)


@tangent(sorted)
def sorted_tangent(ans, x, dx, *, reverse=False):
    dans = resorted(dx, x, reverse)


nondifferentiable(len)
nondifferentiable(np.shape, attributes=("shape",))
nondifferentiable(np.ndim, attributes=("ndim",))
nondifferentiable(np.size, attributes=("size",))
nondifferentiable(np.result_type, attributes=("dtype",))      # x.dtype
