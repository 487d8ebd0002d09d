"""Generated code on the arrays of any library with the Array API: the `xp` profile.

A derivative printed in the `xp` profile opens with `xp = namespace(x, w, ...)`,
which names the arguments' library (array-api-compat finds it: PyTorch, JAX,
CuPy, Dask, array_api_strict), and then calls `xp.<name>` wherever the NumPy
profile calls `np.<name>` or one of s2sgrad's helpers. A `Namespace` holds, for
one library:

- the standard's own functions, under the standard's names: the emitter prints
  `xp.acos(x)` where the NumPy profile prints `np.arccos(x)` (`STANDARD`);
- the NumPy functions whose call differs from the standard's, adapted
  (`np.transpose(a)` is `permute_dims(a, reversed axes)`: `ADAPTED`);
- the helpers the rules call, written once more here with standard operations
  only (`HELPERS`), each beside the NumPy one it stands for.

What none of these tables holds has no `xp` form: passes/portable.py refuses it
at the user's line when the derivative is built. Python numbers given to a
standard function become arrays of the dtype of the array beside them (as
NumPy's own rule for Python scalars has it), or float64 when there is none.
"""
from __future__ import annotations

import math

STANDARD = {      # NumPy's name -> the standard's, where they differ
    "arccos": "acos", "arcsin": "asin", "arctan": "atan", "arctan2": "atan2", "arccosh": "acosh",
    "arcsinh": "asinh", "arctanh": "atanh", "power": "pow", "concatenate": "concat", "absolute": "abs",
    "invert": "bitwise_invert", "cumsum": "cumulative_sum", "cumprod": "cumulative_prod",
}
SAME = {          # NumPy names the standard has too, called the same way
    "abs", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "square", "sin", "cos", "tan", "sinh", "cosh",
    "tanh", "sign", "floor", "ceil", "trunc", "maximum", "minimum", "hypot", "logaddexp", "where", "add",
    "subtract", "multiply", "divide", "negative", "positive", "reciprocal", "isnan", "isfinite", "isinf",
    "logical_and", "logical_or", "logical_not", "logical_xor", "equal", "not_equal", "greater", "greater_equal",
    "less", "less_equal", "sum", "mean", "max", "min", "prod", "tensordot", "stack",
    "broadcast_to", "flip", "roll", "zeros_like", "ones_like", "argmax", "argmin", "argsort", "sort",
    "nan", "inf", "pi", "e", "copysign", "signbit", "astype",
    "linalg.solve", "linalg.inv", "linalg.det", "linalg.slogdet", "linalg.cholesky", "linalg.outer",
    "linalg.eigh", "linalg.matrix_transpose", "vecdot", "nonzero", "all", "any", "clip", "full_like", "tril",
    "triu", "empty_like", "meshgrid", "unique_values",
} | set(DTYPES := ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
                   "complex64", "complex128"))
OPERATORS = {"add", "sub", "mul", "div", "pow", "neg", "pos", "matmul", "mod", "floordiv", "gt", "ge", "lt",
             "le", "eq", "ne", "not", "and", "or", "id", "getitem", "setitem", "iadd", "tuple", "list",
             "attr", "np.invert"}
# ops printed as Python's operators and syntax, which every array library's arrays take


def namespace(*values) -> "Namespace":
    """The Namespace of the library the arrays among `values` belong to (found once for
    each set of array types)."""
    kinds = frozenset(type(v) for v in values if _is_array(v))
    found = _BY_TYPES.get(kinds)
    if found is None:
        import array_api_compat
        arrays = [v for v in values if _is_array(v)]
        library = array_api_compat.array_namespace(*arrays) if arrays else None
        found = _NAMESPACES.get(library)
        if found is None:
            found = _NAMESPACES[library] = Namespace(library if library is not None else _numpy())
        _BY_TYPES[kinds] = found
    return found


_NAMESPACES: dict = {}
_BY_TYPES: dict = {}      # frozenset of array types -> Namespace


def _numpy():
    import array_api_compat.numpy
    return array_api_compat.numpy


def foreign(value) -> bool:
    """Whether `value` is an array of a library other than NumPy (and so needs the `xp`
    profile); worked out once per type."""
    kind = type(value)
    known = _FOREIGN.get(kind)
    if known is None:
        known = _FOREIGN[kind] = _is_array(value) and not _is_numpy(value)
    return known


_FOREIGN: dict = {}


def _is_array(value) -> bool:
    kind = type(value)
    known = _ARRAY_TYPES.get(kind)
    if known is None:
        known = _ARRAY_TYPES[kind] = _array_type(value)
    return known


_ARRAY_TYPES: dict = {}      # type -> whether its values are arrays


def _array_type(value) -> bool:
    if isinstance(value, (int, float, complex, bool, str, list, tuple, dict)) or value is None:
        return False
    try:
        import array_api_compat
    except ImportError:           # (without it, only what says it is an array: the standard's dunder)
        return hasattr(value, "__array_namespace__")
    return array_api_compat.is_array_api_obj(value)


def _is_numpy(value) -> bool:
    import numpy as np
    return isinstance(value, (np.ndarray, np.generic))


class Namespace:
    """NumPy's names (those generated code calls) over one library's Array API namespace."""

    def __init__(self, xp):
        self.xp, self.linalg = xp, _Linalg(xp)
        for name in SAME | set(STANDARD.values()):
            if "." not in name and hasattr(xp, name):
                value = getattr(xp, name)
                plain = name in _PLAIN or name in DTYPES or not callable(value)     # (jnp.float32 is callable)
                setattr(self, name, value if plain else _taking_numbers(xp, value))
        for name, adapted in {**ADAPTED, **HELPERS}.items():
            setattr(self, name, _bound(adapted, self))

    def to(self, value, dtype=None, copy=None):
        """`value` as an array of this library (the name `asarray` is NumPy's, for generated code)."""
        where = _device_of(self.xp, value) if not _is_numpy(value) else {}     # (a NumPy array: the default)
        return self.xp.asarray(value, dtype=_dtype(self.xp, dtype), copy=copy, **where)

    def __repr__(self):
        return f"<s2sgrad namespace over {getattr(self.xp, '__name__', self.xp)}>"


_PLAIN = {"full_like", "empty_like", "meshgrid", "broadcast_to", "stack", "concat", "flip", "roll", "squeeze", "zeros_like", "ones_like",
          "argsort", "sort", "argmax", "argmin", "nonzero"}   # functions of arrays only (no numbers to convert)


class _Linalg:
    """The standard's linalg extension, under NumPy's names."""

    def __init__(self, xp):
        linalg = getattr(xp, "linalg", None)
        for name in ("solve", "inv", "det", "slogdet", "cholesky", "outer", "eigh", "matrix_transpose"):
            if linalg is not None and hasattr(linalg, name):
                setattr(self, name, getattr(linalg, name))
        self.norm = _bound(_norm, xp)


def _bound(fn, first):
    """`fn` with its first argument (the namespace) given."""
    def call(*args, **kwargs):
        return fn(first, *args, **kwargs)
    call.__name__ = fn.__name__
    return call


def _taking_numbers(xp, fn):
    """`fn` (a standard function) taking Python numbers too: each becomes an array of the
    dtype of the first array among the arguments (float64 when there is none)."""
    def call(*args, **kwargs):
        if all(_is_array(a) for a in args):
            return fn(*args, **kwargs)
        return fn(*_as_arrays(xp, args), **kwargs)
    call.__name__ = getattr(fn, "__name__", "function")
    return call


def _as_arrays(xp, args) -> list:
    floating = [a for a in args if _is_array(a) and xp.isdtype(a.dtype, ("real floating", "complex floating"))]
    like = floating[0] if floating else next((a for a in args if _is_array(a)), None)   # (np.where(mask, x32, 0.0))
    out = []
    for a in args:
        if _is_array(a) or not isinstance(a, (int, float, complex, bool)):
            out.append(a)
        elif like is not None and _fits(xp, a, like.dtype):
            out.append(xp.asarray(a, dtype=like.dtype, **_device_of(xp, like)))
        else:
            out.append(xp.asarray(a, dtype=_dtype_of_number(xp, a), **_device_of(xp, like)))
    return out


def _fits(xp, number, dtype) -> bool:
    """Whether a Python number takes the dtype of an array beside it (a float beside
    floats, an int beside ints or floats)."""
    if isinstance(number, bool):
        return dtype == xp.bool
    if isinstance(number, int):
        return _is_kind(xp, dtype, ("integral", "real floating", "complex floating"))
    if isinstance(number, float):
        return _is_kind(xp, dtype, ("real floating", "complex floating"))
    return _is_kind(xp, dtype, "complex floating")


def _is_kind(xp, dtype, kind) -> bool:
    return xp.isdtype(dtype, kind)


def _dtype_of_number(xp, number):
    if isinstance(number, bool):
        return xp.bool
    if isinstance(number, int):
        return xp.int64
    return xp.float64 if isinstance(number, float) else xp.complex128


def _device_of(xp, value) -> dict:
    """`device=` of `value` (an array), for the new arrays made beside it."""
    if not _is_array(value):
        return {}
    import array_api_compat
    return {"device": array_api_compat.device(value)}


def _dtype(xp, dtype):
    """The library's dtype for a dtype a NumPy program names (`float`, np.float32, "f8")."""
    if dtype is None or not isinstance(dtype, (type, str)) and not hasattr(dtype, "char"):
        return dtype
    import numpy as np
    return getattr(xp, np.dtype(dtype).name, dtype)


def _shape(value) -> tuple:
    """The shape NumPy gives `value` (a list of numbers, or of arrays of one shape, too)."""
    if _is_array(value):
        return tuple(value.shape)
    if isinstance(value, (list, tuple)):
        return (len(value), *_shape(value[0])) if value else (0,)
    return ()


def _float_dtype(xp, *values):
    """The dtype of an adjoint made from `values`: the floating dtype among the arrays
    (promoted), float64 where none is floating (runtime.broadcasting.gradient_dtype)."""
    kinds = [v.dtype for v in values if _is_array(v) and xp.isdtype(v.dtype, ("real floating", "complex floating"))]
    return xp.result_type(*kinds) if kinds else xp.float64


# -- NumPy functions whose call differs from the standard's ------------------------------

def _numpy_dtype(xp, value, dtype):
    """The library's dtype for an array NumPy would make from `value` (Python numbers)
    with `dtype` (None: NumPy's choice, float64 for floats, where PyTorch's is float32)."""
    import numpy as np
    if dtype is not None:
        return _dtype(xp, dtype)
    return getattr(xp, np.result_type(*[v for v in _numbers(value)] or [0.0]).name)


def _numbers(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, (bool, int, float, complex)):
        yield value


def _arange(ns, start, stop=None, step=1, dtype=None):
    return ns.xp.arange(start, stop, step, dtype=_numpy_dtype(ns.xp, [start, stop or 0, step], dtype))


def _linspace(ns, start, stop, num=50, endpoint=True, dtype=None):
    return ns.xp.linspace(start, stop, num, endpoint=endpoint, dtype=_numpy_dtype(ns.xp, 0.0, dtype))


def _full(ns, shape, fill_value, dtype=None):
    if _is_array(fill_value):
        return ns.xp.full(shape, fill_value, dtype=_dtype(ns.xp, dtype) or fill_value.dtype)
    return ns.xp.full(shape, fill_value, dtype=_numpy_dtype(ns.xp, fill_value, dtype))


def _eye(ns, n, m=None, k=0, dtype=None):
    return ns.xp.eye(n, m, k=k, dtype=_numpy_dtype(ns.xp, 0.0, dtype))


def _empty(ns, shape, dtype=None):
    return ns.xp.empty(shape, dtype=_numpy_dtype(ns.xp, 0.0, dtype))


def _matmul(ns, a, b):
    """a @ b, promoting the dtypes as NumPy does (PyTorch's product takes one dtype)."""
    if _is_array(a) and _is_array(b) and a.dtype != b.dtype:
        common = ns.xp.result_type(a, b)
        a, b = ns.xp.astype(a, common), ns.xp.astype(b, common)
    return ns.xp.matmul(a, b)


def _squeeze(ns, a, axis=None):
    if axis is None:
        axis = tuple(i for i, n in enumerate(a.shape) if n == 1)
    return ns.xp.squeeze(a, axis=axis)


def _ravel(ns, a):
    return ns.xp.reshape(ns.to(a), (-1,))


def _swapaxes(ns, a, axis1, axis2):
    order = list(range(a.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return ns.xp.permute_dims(a, tuple(order))


def _exp2(ns, a):
    return 2.0 ** ns.to(a, dtype=_float_dtype(ns.xp, a)) if not _is_array(a) else 2.0 ** a


def _transpose(ns, a, axes=None):
    return ns.xp.permute_dims(a, tuple(reversed(range(a.ndim))) if axes is None else tuple(axes))


def _dot(ns, a, b):
    xp = ns.xp
    if not _is_array(a) or not _is_array(b) or a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim == 1 and b.ndim == 1:
        return xp.sum(a * b)
    if b.ndim > 2:
        return xp.tensordot(a, b, axes=([-1], [-2]))
    return xp.matmul(a, b)


def _outer(ns, a, b):
    xp = ns.xp
    return xp.reshape(ns.to(a), (-1, 1)) * xp.reshape(ns.to(b), (1, -1))


def _size(ns, a):
    return math.prod(_shape(a))


def _ndim(ns, a):
    return len(_shape(a))


def _shape_of(ns, a):
    return _shape(a)


def _copy(ns, a):
    return ns.xp.asarray(a, copy=True)


def _zeros(ns, shape, dtype=None):
    return ns.xp.zeros(shape, dtype=_numpy_dtype(ns.xp, 0.0, dtype))


def _ones(ns, shape, dtype=None):
    return ns.xp.ones(shape, dtype=_numpy_dtype(ns.xp, 0.0, dtype))


def _expand_dims(ns, a, axis):
    """np.expand_dims: the new axes are positions in the result (-1: its last)."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    a = ns.to(a)
    for ax in sorted(x % (a.ndim + len(axes)) for x in axes):
        a = ns.xp.expand_dims(a, axis=ax)
    return a


def _std(ns, a, axis=None, keepdims=False, ddof=0):
    return ns.xp.std(a, axis=axis, keepdims=keepdims, correction=ddof)


def _var(ns, a, axis=None, keepdims=False, ddof=0):
    return ns.xp.var(a, axis=axis, keepdims=keepdims, correction=ddof)


def _reshape(ns, a, shape):
    return ns.xp.reshape(a, tuple(shape) if isinstance(shape, (list, tuple)) else (shape,))


def _moveaxis(ns, a, source, destination):
    return ns.xp.moveaxis(a, source, destination)


def _len(ns, a):
    return a.shape[0] if _is_array(a) else len(a)


def _array(ns, value, dtype=None):
    """np.array: a copy of an array, or the array a list of numbers and arrays makes (of
    NumPy's dtype: float64 for Python floats)."""
    if isinstance(value, (list, tuple)) and any(_is_array(v) for v in value):
        return ns.xp.stack([ns.to(v, dtype=dtype) for v in _as_arrays(ns.xp, value)])
    if not _is_array(value):
        return ns.to(value, dtype=_numpy_dtype(ns.xp, value, dtype), copy=True)
    return ns.to(value, dtype=dtype, copy=True)


def _asarray(ns, value, dtype=None):
    if isinstance(value, (list, tuple)) and any(_is_array(v) for v in value) or not _is_array(value):
        return _array(ns, value, dtype)
    return ns.to(value, dtype=dtype)


def _round(ns, a, decimals=0):
    a = ns.to(a)
    if decimals == 0:
        return ns.xp.round(a)
    scale = 10.0 ** decimals
    return ns.xp.round(a * scale) / scale


def _norm(xp, a, ord=None, axis=None, keepdims=False):
    """np.linalg.norm: a matrix norm of the axes `axis` names, in that order (rows, then
    columns), or a vector norm."""
    if axis is None and a.ndim == 2 and ord is not None:
        axis = (0, 1)
    if isinstance(axis, tuple) and len(axis) == 2:
        rows, cols = (x % a.ndim for x in axis)
        moved = xp.moveaxis(a, (rows, cols), (-2, -1))
        out = xp.linalg.matrix_norm(moved, ord="fro" if ord is None else ord)
        for x in sorted((rows, cols)) if keepdims else ():
            out = xp.expand_dims(out, axis=x)
        return out
    return xp.linalg.vector_norm(a, axis=axis, keepdims=keepdims, ord=2 if ord is None else ord)


ADAPTED = {"transpose": _transpose, "dot": _dot, "outer": _outer, "size": _size, "ndim": _ndim,
           "shape": _shape_of, "copy": _copy, "zeros": _zeros, "ones": _ones, "expand_dims": _expand_dims,
           "std": _std, "var": _var, "len": _len, "array": _array, "asarray": _asarray, "round": _round,
           "reshape": _reshape, "moveaxis": _moveaxis, "arange": _arange, "linspace": _linspace, "full": _full,
           "eye": _eye, "empty": _empty, "matmul": _matmul, "squeeze": _squeeze, "ravel": _ravel,
           "swapaxes": _swapaxes, "exp2": _exp2}


# -- the helpers, with standard operations only (beside each, the NumPy one it stands for) --

def unbroadcast(ns, g, x):
    """runtime.broadcasting.unbroadcast: g summed to the shape of x."""
    shape = _shape(x)
    if not _is_array(g):
        return g if not shape else ns.xp.broadcast_to(ns.to(g, dtype=_float_dtype(ns.xp, x)), shape)
    if tuple(g.shape) == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = ns.xp.sum(g, axis=tuple(range(extra)))
    if extra >= 0:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if axes:
            g = ns.xp.sum(g, axis=axes, keepdims=True)
    return g if tuple(g.shape) == shape else ns.xp.broadcast_to(g, shape)


def zero_grad(ns, x):
    """runtime.broadcasting.zero_grad, of a number, an array, or a list of them of one shape."""
    if isinstance(x, (list, tuple)) and x:
        return ns.xp.zeros(_shape(x), dtype=_float_dtype(ns.xp, *x), **_device_of(ns.xp, x[0]))
    if not _is_array(x):
        return 0.0
    floating = ns.xp.isdtype(x.dtype, ("real floating", "complex floating"))
    return ns.xp.zeros(tuple(x.shape), dtype=x.dtype if floating else ns.xp.float64, **_device_of(ns.xp, x))


def zero_tangent(ns, x):
    """runtime.broadcasting.zero_tangent, of a number or an array."""
    return zero_grad(ns, x)


def broadcast_like(ns, t, y):
    """runtime.broadcasting.broadcast_like: t spread to the shape of y."""
    if _shape(t) == _shape(y):
        return t
    return ns.xp.asarray(ns.xp.broadcast_to(ns.to(t), _shape(y)), copy=True)


def unsum(ns, g, x, axis=None, keepdims=False):
    """runtime.reductions.unsum: g spread back over x."""
    if axis is not None and not keepdims:
        g = _expand_dims(ns, ns.to(g), _axes(axis, len(_shape(x))))
    return ns.xp.broadcast_to(ns.to(g, dtype=_float_dtype(ns.xp, g, x)), _shape(x))


def unmax(ns, g, x, ans, axis=None, keepdims=False):
    """runtime.reductions.unmax: g shared by the entries of x equal to the result."""
    xp = ns.xp
    if axis is not None and not keepdims:
        axes = _axes(axis, x.ndim)
        g, ans = _expand_dims(ns, ns.to(g), axes), _expand_dims(ns, ns.to(ans), axes)
    hits = xp.astype(x == ans, _float_dtype(xp, g, x))
    return g * hits / xp.sum(hits, axis=axis, keepdims=True)


def untranspose(ns, g, axes=None):
    """runtime.shapes.untranspose: the inverse permutation."""
    if axes is None:
        return _transpose(ns, g)
    n = g.ndim
    inverse = sorted(range(n), key=lambda i: axes[i] % n)
    return ns.xp.permute_dims(g, tuple(inverse))


def matmul_dleft(ns, g, x, y):
    """runtime.linalg.matmul_dleft: the adjoint of x @ y with respect to x."""
    xp = ns.xp
    if y.ndim == 1:
        return g * y if x.ndim == 1 else unbroadcast(ns, g[..., None] * y, x)
    if x.ndim == 1:
        return unbroadcast(ns, xp.matmul(y, g[..., None])[..., 0], x)
    return unbroadcast(ns, xp.matmul(g, xp.matrix_transpose(y)), x)


def matmul_dright(ns, g, x, y):
    """runtime.linalg.matmul_dright: the adjoint of x @ y with respect to y."""
    xp = ns.xp
    if x.ndim == 1:
        if y.ndim == 1:
            return g * x
        return unbroadcast(ns, x[:, None] * g[..., None, :], y)
    if y.ndim == 1:
        return unbroadcast(ns, xp.matmul(xp.matrix_transpose(x), g[..., None])[..., 0], y)
    return unbroadcast(ns, xp.matmul(xp.matrix_transpose(x), g), y)


def dot_dleft(ns, g, x, y):
    """runtime.linalg.dot_dleft, for operands of up to two dimensions."""
    if len(_shape(x)) == 0 or len(_shape(y)) == 0:
        return unbroadcast(ns, g * y, x)
    _at_most_matrices("np.dot", y)
    return matmul_dleft(ns, g, x, y)


def dot_dright(ns, g, x, y):
    """runtime.linalg.dot_dright, for operands of up to two dimensions."""
    if len(_shape(x)) == 0 or len(_shape(y)) == 0:
        return unbroadcast(ns, g * x, y)
    _at_most_matrices("np.dot", y)
    return matmul_dright(ns, g, x, y)


def setitem(ns, x, index, value):
    """`x[index] = value`, returning x (a JAX array is immutable: a new one with the
    entries set)."""
    if isinstance(index, list) or isinstance(index, tuple) and any(isinstance(i, list) for i in index):
        index = tuple(ns.to(i) if isinstance(i, list) else i for i in (index if isinstance(index, tuple) else (index,)))
    if _is_jax(x):
        return x.at[index].set(value)
    x[index] = value
    return x


def _is_jax(x) -> bool:
    return type(x).__module__.startswith("jax")


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def add_at(ns, x, index, g):
    """runtime.shapes.add_at: `x[index] += g`, adding every time an index repeats. The
    standard has no scatter-add: where the index holds arrays of integers, the entries
    are added through a matrix of hits (PyTorch's index_put_ and JAX's .at where those
    are the arrays); a boolean mask names each entry once."""
    items = as_index(ns, index, x)            # (the index as the forward code read it)
    if _is_jax(x):
        return x.at[items].add(g)
    arrays = [i for i in items if _is_array(i)]
    if not arrays:
        x[items] = x[items] + g
        return x
    if len(items) == 1 and ns.xp.isdtype(arrays[0].dtype, "bool"):
        mask = items[0]
        x[mask] = x[mask] + g
        return x
    return _scatter_add(ns, x, items, g)


def _scatter_add(ns, x, items, g):
    """add_at for an index of integer arrays, numbers and slices (NumPy's advanced
    indexing: the arrays' broadcast axes where the first one is, when they are next to
    each other, else first)."""
    xp = ns.xp
    if any(i is None or i is Ellipsis for i in items) or \
            any(_is_array(i) and xp.isdtype(i.dtype, "bool") for i in items):
        raise NotImplementedError("the derivative of indexing with arrays beside `None`, `...` or a boolean mask "
                                  "is not written with Array API operations yet: pass NumPy arrays")
    where = [k for k, i in enumerate(items) if _is_array(i) or isinstance(i, list)]
    arrays = xp.broadcast_arrays(*[ns.to(items[k]) for k in where])
    lead = tuple(x.shape[:len(items)])
    sliced = [k for k, i in enumerate(items) if isinstance(i, slice)]
    lengths = {k: len(range(*items[k].indices(lead[k]))) for k in sliced}
    together = where == list(range(where[0], where[-1] + 1))
    before = [k for k in sliced if k < where[0]] if together else []
    after = [k for k in sliced if k not in before]
    block = tuple(arrays[0].shape)
    shape = tuple(lengths[k] for k in before) + block + tuple(lengths[k] for k in after)
    at = {k: n for n, k in enumerate(before)}
    at |= {k: len(before) + len(block) + n for n, k in enumerate(after)}
    flat = 0
    for k, item in enumerate(items):
        if k in where:
            index = xp.reshape(arrays[where.index(k)], (1,) * len(before) + block + (1,) * len(after))
        elif k in lengths:
            start, _, step = items[k].indices(lead[k])
            line = start + step * xp.arange(lengths[k], **_device_of(xp, x))
            index = xp.reshape(line, tuple(lengths[k] if j == at[k] else 1 for j in range(len(shape))))
        else:
            index = item
        flat = flat + (index % lead[k]) * math.prod(lead[k + 1:])
    rest = tuple(x.shape[len(items):])
    g = g if _is_array(g) else ns.to(g, dtype=x.dtype)
    values = xp.reshape(xp.broadcast_to(g, shape + rest), (math.prod(shape), -1))
    flat = xp.reshape(xp.broadcast_to(xp.asarray(flat), shape), (-1,))
    if _is_torch(x):
        out = xp.reshape(x, (math.prod(lead), -1))
        return xp.reshape(out.index_put((flat,), values, accumulate=True), x.shape)
    hits = xp.astype(flat[:, None] == xp.arange(math.prod(lead), **_device_of(xp, x))[None, :], values.dtype)
    total = xp.matmul(xp.matrix_transpose(hits), values)           # (the entries hit more than once: summed)
    return x + xp.reshape(total, x.shape)


def unindex(ns, g, x, index):
    """runtime.shapes.unindex: zeros shaped like x, with g added where index points."""
    return add_at(ns, zero_grad(ns, x), index, g)


def stored(ns, g, into):
    """runtime.broadcasting.stored: what of g reaches a value stored into `into` (nothing
    when `into` holds integers or booleans)."""
    if not _is_array(into) or not _shape(into):
        return g
    if ns.xp.isdtype(into.dtype, ("integral", "bool")):
        return ns.xp.zeros(_shape(g), dtype=_float_dtype(ns.xp, g), **_device_of(ns.xp, g))
    return g


def unassigned(ns, g, index):
    """runtime.shapes.unassigned: g[index], for an index of numbers and slices (which
    writes each entry once; one of arrays may write an entry twice, and only the last
    write keeps it: NumPy's code only)."""
    items = as_index(ns, index, g)
    if any(_is_array(i) for i in items):
        raise NotImplementedError("the derivative of a write through an array of indices is not written with "
                                  "Array API operations yet: pass NumPy arrays")
    return ns.to(g[items], copy=True)


def as_floats(ns, mask, like):
    """runtime.profiles.as_floats: booleans as floats of like's dtype."""
    if not _is_array(mask):
        return float(mask)
    return ns.xp.astype(mask, _float_dtype(ns.xp, like))


def in_library(ns, value):
    """runtime.profiles.in_library: a NumPy array of the user's module as an array of
    the arguments' library (anything else as it is)."""
    if isinstance(value, (list, tuple)) and any(_is_numpy(v) for v in value):
        return type(value)(in_library(ns, v) for v in value)
    return ns.to(value) if _is_numpy(value) and not isinstance(value, bool) else value


def as_index(ns, key, x=None):
    """runtime.profiles.as_index: an index the standard takes, into the array x. A 0-d array
    of integers is a Python int, a list of indices an array; an index of numbers and
    slices ends in `...` (the standard takes `x[i]` of a matrix only as `x[i, ...]`); for
    PyTorch (no negative step) a slice with a negative step is the array of its indices."""
    items = tuple(int(i) if _is_array(i) and i.ndim == 0 else ns.to(i) if isinstance(i, list) else i
                  for i in (key if isinstance(key, tuple) else (key,)))
    if _is_torch(x) and any(isinstance(i, slice) and (i.step or 1) < 0 for i in items):
        items = _stepped_back(ns, items, x)
    if any(_is_array(i) for i in items):      # (NumPy reads a number beside arrays as one more array:
        return tuple(ns.xp.asarray([i], **_device_of(ns.xp, x))       # one of shape (1,), which PyTorch reads
                     if isinstance(i, int) and not isinstance(i, bool) else i for i in items)   # so too)
    if Ellipsis in items:
        return items
    return (*items, Ellipsis)


def _stepped_back(ns, items, x):
    """`items` with its one slice of negative step (counted before any `...`) the array of
    the indices it takes (an array alone among slices and numbers keeps its place)."""
    backwards = [k for k, i in enumerate(items) if isinstance(i, slice) and (i.step or 1) < 0]
    if len(backwards) > 1 or Ellipsis in items[:backwards[0]] or any(_is_array(i) for i in items):
        raise NotImplementedError("PyTorch takes no negative step, and s2sgrad reads only one such slice of an "
                                  "index without arrays in it: flip the array (np.flip) instead")
    k = backwards[0]
    axis = sum(1 for i in items[:k] if i is not None)
    taken = list(range(*items[k].indices(x.shape[axis])))
    return (*items[:k], ns.xp.asarray(taken, dtype=ns.xp.int64, **_device_of(ns.xp, x)), *items[k + 1:])


def cast_into(ns, v, into):
    """runtime.broadcasting.cast_into: v."""
    return v


def unvar(ns, g, x, axis=None, ddof=0, keepdims=False):
    """runtime.reductions.unvar: the adjoint of np.var(x, axis, ddof)."""
    xp = ns.xp
    count = math.prod(x.shape) // max(math.prod(_shape(xp.mean(x, axis=axis))), 1)
    centred = x - xp.mean(x, axis=axis, keepdims=True)
    return _expanded(ns, g, axis, keepdims, x.ndim) * 2.0 * centred / (count - ddof)


def unstd(ns, g, x, ans, axis=None, ddof=0, keepdims=False):
    """runtime.reductions.unstd: that of the variance over 2 std (0 where the std is 0)."""
    xp = ns.xp
    ans = ns.to(ans)
    return unvar(ns, g / (2.0 * xp.where(ans == 0, xp.ones_like(ans), ans)), x, axis, ddof, keepdims)


def uncumsum(ns, g, x, axis=None):
    """runtime.reductions.uncumsum: sums from the end."""
    xp = ns.xp
    if axis is None:
        return xp.reshape(xp.flip(xp.cumulative_sum(xp.flip(xp.reshape(g, (-1,))))), x.shape)
    return xp.flip(xp.cumulative_sum(xp.flip(g, axis=axis), axis=axis), axis=axis)


def unroll(ns, g, shift, axis=None):
    """runtime.shapes.unroll: rolled back."""
    xp = ns.xp
    back = tuple(-s for s in shift) if isinstance(shift, tuple) else -shift
    if axis is None:
        return xp.reshape(xp.roll(xp.reshape(g, (-1,)), back), g.shape)
    return xp.roll(g, back, axis=axis)


def unconcatenate(ns, g, xs, axis=0):
    """runtime.shapes.unconcatenate: g cut at the parts' lengths."""
    if axis is None:
        g, ends = ns.xp.reshape(g, (-1,)), [math.prod(_shape(x)) for x in xs]
        parts = _cut(g, ends, 0)
        return [ns.xp.reshape(p, _shape(x)) for p, x in zip(parts, xs)]
    return _cut(g, [_shape(x)[axis] for x in xs], axis)


def _cut(g, lengths, axis):
    parts, at = [], 0
    for n in lengths:
        index = tuple(slice(None) for _ in range(axis % g.ndim)) + (slice(at, at + n), Ellipsis)
        parts.append(g[index])
        at += n
    return parts


def _expanded(ns, g, axis, keepdims, ndim):
    """g (the adjoint of a reduction over `axis`) with the reduced axes back, of size 1."""
    if axis is None or keepdims:
        return g
    return _expand_dims(ns, ns.to(g), _axes(axis, ndim))


def common_length(ns, *seqs):
    """runtime.containers.common_length: how many times zip(*seqs) turns."""
    return min(_len(ns, s) for s in seqs)


def _at_most_matrices(what: str, a) -> None:
    if len(_shape(a)) > 2:
        raise NotImplementedError(f"the derivative of {what} of an array of more than two dimensions is not "
                                  "written with Array API operations yet: pass NumPy arrays")


def _axes(axis, ndim: int) -> tuple:
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


HELPERS = {f.__name__: f for f in (unbroadcast, zero_grad, zero_tangent, broadcast_like, unsum, unmax,
                                   untranspose, matmul_dleft, matmul_dright, dot_dleft, dot_dright, add_at,
                                   unindex, as_floats, common_length, in_library, as_index, setitem, cast_into,
                                   unvar, unstd, uncumsum, unroll, unconcatenate, stored, unassigned)}

ONE_ARRAY = {"unbroadcast", "zero_grad", "zero_tangent", "broadcast_like", "unsum", "unmax", "untranspose",
             "matmul_dleft", "matmul_dright", "dot_dleft", "dot_dright", "add_at", "unindex", "as_floats", "setitem",
             "unvar", "unstd", "uncumsum", "unroll", "stored", "unassigned"}
# the helpers whose value is one array (the others give lists or tuples of them)

SUPPORTED = {"np." + n for n in SAME | set(STANDARD) | set(ADAPTED)} | set(HELPERS) | OPERATORS | \
    {"np.linalg.norm", "len", "abs", "float", "min", "max", "append", "call", "math.sqrt", "math.log",
     "math.exp", "math.cos", "math.sin", "math.tan", "math.tanh", "math.pi", "math.e", "math.log1p", "math.expm1",
     "math.atan", "math.atan2", "math.hypot", "math.erf", "math.floor", "math.ceil", "int", "round", "sum", "range",
     "reversed", "enumerate", "zip", "sorted", "isinstance", "print", "opaque"}
# every op an `xp` derivative may call (passes/portable.py refuses the others)
