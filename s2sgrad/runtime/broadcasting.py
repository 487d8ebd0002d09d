"""Broadcasting undone and redone: a gradient summed back to its argument's shape, a
tangent spread to its value's, and the zeros of values that do not vary."""
from __future__ import annotations

import types

import numpy as np

from .registry import helper
from .containers import GradAttrs, GradDict, GradList, attributes, holds_floats, is_object, uniform


_SCALARS = {float, int, np.float64}


def gradient_dtype(*values) -> np.dtype:
    """The dtype of the adjoint or tangent a helper makes from `values`: as NumPy's own
    arithmetic on them would give (float32 stays float32, complex stays complex), float64
    where none of them is a floating or complex array or number. The one place helpers
    decide it."""
    kinds = [v.dtype for v in values if isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind in "fc"]
    if any(isinstance(v, complex) and not isinstance(v, np.generic) for v in values):
        kinds.append(np.dtype(complex))
    return np.result_type(*kinds) if kinds else np.dtype(float)


@helper(linear=(0,))
def unbroadcast(g, x):
    """`g` brought to the shape of `x`: summed over the axes NumPy broadcast
    `x` along, or broadcast up when `g` is a scalar seed."""
    if type(x) in _SCALARS and type(g) in _SCALARS:
        return g                              # a scalar for a scalar, checked cheaply first
    shape = x.shape if type(x) is np.ndarray else np.shape(x)
    if type(g) is not np.ndarray:
        if not shape and np.ndim(g) == 0:
            return g                          # a scalar for a scalar (another library's array: summed below)
        g = np.asarray(g)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:                             # (asarray: a sum of objects is an object)
        g = np.asarray(g.sum(axis=0 if extra == 1 else tuple(range(extra))))
    if extra >= 0:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
    return g if g.shape == shape else np.broadcast_to(g, shape)


@helper()
def cast_into(v, into):
    """v, which the code stores into the array `into` next (`into[i] = v`): the same value;
    its derivative is stored()'s, as NumPy casts it to into's dtype there."""
    return v


@helper(linear=(0,))
def stored(g, into):
    """What of g reaches a value stored into the array `into` (`into[i] = v`): all of it,
    unless `into` holds integers or booleans, which the store casts the value to (a
    piecewise constant: nothing)."""
    if type(into) is not np.ndarray and (isinstance(into, (list, tuple, dict)) or np.ndim(into) == 0):
        return g                                # (a list holds what it is given, as it is)
    kind = into.dtype.kind if type(into) is np.ndarray else np.asarray(into).dtype.kind
    return np.zeros(np.shape(g)) if kind in "iub" else g


@helper(linear=())
def zero_tangent(x):
    """Forward mode's tangent of a value that does not vary: zeros shaped like it, and for
    a list or tuple the same container of zeros (its tangent grows with it)."""
    if isinstance(x, (list, tuple)):
        return type(x)(zero_tangent(item) for item in x)
    if isinstance(x, complex) or np.iscomplexobj(x):
        return np.zeros(np.shape(x), complex) if np.ndim(x) else 0j
    if isinstance(x, (int, float)) or np.ndim(x) == 0:
        return 0.0
    return np.zeros(np.shape(x))


@helper(linear=())
def zero_grad(x):
    """A zero gradient shaped like `x`: 0.0 for a number (or an empty list), an array of
    zeros for an array (or a list or tuple of numbers or of arrays of one shape), and for
    any other tree the tree of its zeros (containers.py)."""
    if type(x) is np.ndarray:                 # (the common case first: it is on every gradient's path)
        return np.zeros(x.shape, x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, (int, float)) or isinstance(x, list) and not x:
        return 0.0                            # (an empty list's items have no shape to copy)
    if isinstance(x, complex):
        return 0j
    if isinstance(x, dict):
        return GradDict((key, zero_grad(value)) for key, value in x.items())
    if isinstance(x, (list, tuple)) and not uniform(x):
        return GradList(zero_grad(item) for item in x)
    if is_object(x):
        return GradAttrs((k, zero_grad(v)) for k, v in attributes(x).items() if holds_floats(v))
    return np.zeros(np.shape(x), complex if np.iscomplexobj(x) else float)


@helper(linear=(0,))
def broadcast_like(t, y):
    """A tangent `t` spread to the shape of the value `y` it belongs to (forward mode: the
    tangent of `x + 1.0 * w` with only x varying is x's, broadcast as the sum is)."""
    if type(y) is float or (type(t) is type(y) is np.ndarray and t.shape == y.shape) or np.shape(t) == np.shape(y):
        return t                               # (a number's tangent is a number)
    return np.broadcast_to(t, np.shape(y)).copy()


@helper(linear=(0,))
def unattr(g, x, name):
    """The adjoint of `x.name`: zeros shaped like the object x (a namedtuple's field is
    its item), with g where the attribute is; an attribute that holds no floats (an int, a
    string) is static and takes nothing."""
    d = zero_grad(x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        key = x._fields.index(name)
    elif isinstance(d, GradAttrs):
        if name not in d:
            _not_computed(x, name)
            return d
        key = name
    else:
        raise TypeError(f"the attribute `.{name}` of a {type(x).__name__} has no derivative rule")
    d[key] = d[key] + g
    return d


@helper(linear=(0,))
def attr_tangent(t, x, name):
    """The tangent of `x.name` along the tangent t of the object x: t's own attribute (an
    attribute computed by a property is refused: its tangent is not the property of t)."""
    _not_computed(x, name)
    return getattr(t, name)


def _not_computed(x, name: str) -> None:
    """Refuse an attribute of x that a property (or another descriptor of its class)
    computes from other attributes: s2sgrad reads the attributes an object holds."""
    found = getattr(type(x), name, None)
    if found is not None and hasattr(found, "__get__") and not isinstance(found, types.MemberDescriptorType) \
            and not (isinstance(x, tuple) and hasattr(x, "_fields")) and name not in getattr(x, "__dict__", {}) \
            and not callable(getattr(x, name, None)):
        raise TypeError(f"`.{name}` of a {type(x).__name__} is computed by its class (a property), which s2sgrad "
                        "does not follow into: compute it in the function from the attributes it reads")
