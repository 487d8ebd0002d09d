"""Exact values and gradients of large shared SymPy expressions at rational points.

A loop's output, written out as a tree, grows exponentially with the turns, and
`sympy.diff` and `simplify` walk that tree. Here the expression is taken as the
DAG it is (each distinct subexpression once): its value is computed node by node
in high-precision arithmetic, and its gradient by the chain rule over the DAG,
each node's local partial derivatives being SymPy's own derivative of that node's
function. The referee (verify.py) uses this where the written-out form is too
large, and for every entry `simplify` could not settle.
"""
from __future__ import annotations

import fractions

import mpmath
import sympy

DIGITS = 50                        # working precision of the evaluation at rational points
AGREE = 12                         # digits of agreement asked (float constants are doubles)


def rational(value) -> sympy.Rational:
    """A float as the exact rational it is."""
    return sympy.Rational(fractions.Fraction(float(value)))


def agrees(want, have) -> bool:
    """Whether two values (mpmath numbers) agree to AGREE digits, relative to the larger
    where it is larger than 1. A NaN or an infinity agrees with nothing (inf - 4 is no
    small difference): the referee reports those as what they are (verify.py)."""
    with mpmath.workdps(DIGITS):
        if not (finite(want) and finite(have)):
            return False
        return abs(want - have) <= mpmath.mpf(10) ** -AGREE * max(1, abs(want), abs(have))


def finite(value) -> bool:
    """Whether an mpmath number (real or complex) is neither NaN nor infinite."""
    return not (mpmath.isnan(value) or mpmath.isinf(value))


class Unsupported(Exception):
    """A node this evaluator cannot take (a Piecewise, a relation, ...)."""


class Evaluator:
    """Values of expressions at one point (the symbols taking its Rational values), each
    subexpression computed once and kept, and gradients by the chain rule. Nodes are
    known by identity: comparing equal trees structurally costs more than it saves."""

    def __init__(self, point: dict):
        self.point, self.memo, self.active = point, {}, {}
        self.kept = []                     # the nodes valued, so their ids stay theirs

    def value(self, expr):
        """`expr`'s value (an mpmath number, at the working precision of the caller)."""
        memo, active = self.memo, self.active
        for node in self._order([expr]):
            key = id(node)
            self.kept.append(node)
            if node.is_Symbol:
                v = self.point[node]
                memo[key], active[key] = mpmath.mpf(v.p) / v.q, True
            elif not node.args:
                memo[key], active[key] = _number(node), False
            else:
                active[key] = any(active[id(a)] for a in node.args)
                try:
                    memo[key] = _kind(node)[0](*(memo[id(a)] for a in node.args))
                except ZeroDivisionError:
                    raise Unsupported(f"a `{node.func.__name__}` with a pole at the point") from None
        return memo[id(expr)]

    def gradient(self, root, symbols) -> list:
        """d root / d symbol for each of `symbols`, by the chain rule over the DAG."""
        self.value(root)
        adjoint = {id(root): mpmath.mpf(1)}
        for node in reversed(self._order([root], every=True)):
            a = adjoint.get(id(node))
            if a is None or node.is_Symbol or not node.args or not self.active[id(node)]:
                continue
            values = [self.memo[id(c)] for c in node.args]
            partials = _kind(node)[1]
            try:
                for k, child in enumerate(node.args):
                    if self.active[id(child)]:
                        adjoint[id(child)] = adjoint.get(id(child), 0) + a * partials(k, values)
            except ZeroDivisionError:
                raise Unsupported(f"a `{node.func.__name__}` whose derivative has a pole at the point") from None
        return [adjoint.get(id(s), mpmath.mpf(0)) for s in symbols]

    def _order(self, roots, every=False) -> list:
        """The subexpressions of `roots` (not yet valued, unless `every`), each once,
        children before parents."""
        order, seen = [], set()
        for root in roots:
            todo = [(root, False)]
            while todo:
                node, ready = todo.pop()
                if ready:
                    order.append(node)
                elif id(node) not in seen and (every or id(node) not in self.memo):
                    seen.add(id(node))
                    todo.append((node, True))
                    todo.extend((a, False) for a in node.args)
        return order


_KINDS: dict = {}


def _kind(node):
    """(value, partial) of a node's function: value(*children's values), and
    partial(k, values) its derivative in the k-th child; compiled once per function
    and arity."""
    if node.is_Add:
        return (lambda *v: mpmath.fsum(v)), (lambda k, v: 1)
    if node.is_Mul:
        return (lambda *v: mpmath.fprod(v)), _product_of_others
    if node.is_Pow:
        return (lambda b, e: b ** e), (lambda k, v: v[1] * v[0] ** (v[1] - 1) if k == 0 else
                                       v[0] ** v[1] * mpmath.log(v[0]))
    key = (node.func, len(node.args))
    if key not in _KINDS:
        if isinstance(node, (sympy.Piecewise, sympy.logic.boolalg.Boolean)) or not all(
                isinstance(a, sympy.Expr) for a in node.args):
            raise Unsupported(f"a `{node.func.__name__}` in the expression")
        dummies = [sympy.Dummy(real=True) for _ in node.args]
        expr = node.func(*dummies)
        _KINDS[key] = (sympy.lambdify(dummies, expr, "mpmath"), _partials(expr, dummies))
    return _KINDS[key]


def _partials(expr, dummies):
    """partial(k, values) of `expr` in its k-th dummy, each written out when first asked
    for: SymPy has no closed form for some (polygamma in its order), asked for only where
    that argument varies."""
    made: dict = {}

    def partial(k, values):
        if k not in made:
            derivative = sympy.diff(expr, dummies[k])
            if derivative.has(sympy.Derivative):
                raise Unsupported(f"the derivative of `{expr.func.__name__}` in its argument {k + 1}")
            made[k] = sympy.lambdify(dummies, derivative, "mpmath")
        return made[k](*values)
    return partial


def _product_of_others(k, values):
    """A product's partial derivative in its k-th factor."""
    return mpmath.fprod(values[:k] + values[k + 1:])


def _number(node):
    if isinstance(node, sympy.Rational):
        return mpmath.mpf(node.p) / node.q
    if node in (sympy.true, sympy.false):
        return mpmath.mpf(int(bool(node)))
    try:
        return mpmath.mpf(sympy.lambdify([], node, "mpmath")())
    except (TypeError, ValueError) as err:
        raise Unsupported(f"the number {node} ({err})") from None
