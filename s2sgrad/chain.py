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

import mpmath
import sympy


class Unsupported(Exception):
    """A node this evaluator cannot take (a Piecewise, a relation, ...)."""


class Dag:
    """The distinct subexpressions of `roots`, children before parents."""

    def __init__(self, roots):
        self.order, seen = [], set()
        for root in roots:
            todo = [(root, False)]
            while todo:
                node, ready = todo.pop()
                if ready:
                    self.order.append(node)
                elif node not in seen:
                    seen.add(node)
                    todo.append((node, True))
                    todo.extend((a, False) for a in node.args if a not in seen)
        self.active = {}
        for node in self.order:
            self.active[node] = node.is_Symbol or any(self.active[a] for a in node.args)

    def values(self, point: dict) -> dict:
        """Each node's value, the symbols taking `point`'s (Rational) values."""
        values = {}
        for node in self.order:
            if node.is_Symbol:
                v = point[node]
                values[node] = mpmath.mpf(v.p) / v.q
            elif not node.args or not self.active[node]:
                values[node] = _number(node)
            else:
                values[node] = _kind(node)[0](*(values[a] for a in node.args))
        return values

    def gradient(self, root, values: dict, symbols) -> list:
        """d root / d symbol for each of `symbols`, at `values`, by the chain rule."""
        adjoint = {root: mpmath.mpf(1)}
        for node in reversed(self.order):
            a = adjoint.get(node)
            if a is None or node.is_Symbol or not node.args or not self.active[node]:
                continue
            partials = _kind(node)[1](*(values[c] for c in node.args))
            for child, p in zip(node.args, partials):
                if self.active[child]:
                    adjoint[child] = adjoint.get(child, 0) + a * p
        return [adjoint.get(s, mpmath.mpf(0)) for s in symbols]


_KINDS: dict = {}


def _kind(node):
    """(value, partials) of a node's function over its children, compiled once per
    function and arity."""
    key = (node.func, len(node.args))
    if key not in _KINDS:
        if isinstance(node, (sympy.Piecewise, sympy.logic.boolalg.Boolean)) or not all(
                isinstance(a, sympy.Expr) for a in node.args):
            raise Unsupported(f"a `{node.func.__name__}` in the expression")
        dummies = [sympy.Dummy(real=True) for _ in node.args]
        expr = node.func(*dummies)
        _KINDS[key] = (sympy.lambdify(dummies, expr, "mpmath"),
                       sympy.lambdify(dummies, [sympy.diff(expr, d) for d in dummies], "mpmath"))
    return _KINDS[key]


def _number(node):
    if isinstance(node, sympy.Rational):
        return mpmath.mpf(node.p) / node.q
    if node in (sympy.true, sympy.false):
        return mpmath.mpf(int(bool(node)))
    try:
        return mpmath.mpf(sympy.lambdify([], node, "mpmath")())
    except (TypeError, ValueError) as err:
        raise Unsupported(f"the number {node} ({err})") from None
