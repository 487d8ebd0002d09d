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

from .containers import GradList

STANDARD = {      # NumPy's name -> the standard's, where they differ
    "arccos": "acos", "arcsin": "asin", "arctan": "atan", "arctan2": "atan2", "arccosh": "acosh",
    "arcsinh": "asinh", "arctanh": "atanh", "power": "pow", "concatenate": "concat", "absolute": "abs",
    "invert": "bitwise_invert",
}
SAME = {          # NumPy names the standard has too, called the same way
    "abs", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "square", "sin", "cos", "tan", "sinh", "cosh",
    "tanh", "sign", "floor", "ceil", "trunc", "maximum", "minimum", "hypot", "logaddexp", "where", "add",
    "subtract", "multiply", "divide", "negative", "positive", "reciprocal", "isnan", "isfinite", "isinf",
    "logical_and", "logical_or", "logical_not", "logical_xor", "equal", "not_equal", "greater", "greater_equal",
    "less", "less_equal", "sum", "mean", "max", "min", "prod", "tensordot", "stack",
    "broadcast_to", "flip", "roll", "zeros_like", "ones_like", "argmax", "argmin",
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
          "argmax", "argmin", "nonzero"}   # functions of arrays only (no numbers to convert)


class _Linalg:
    """The standard's linalg extension, under NumPy's names."""

    def __init__(self, xp):
        linalg = getattr(xp, "linalg", None)
        for name in ("solve", "inv", "det", "slogdet", "cholesky", "outer", "eigh", "matrix_transpose"):
            if linalg is not None and hasattr(linalg, name):
                setattr(self, name, getattr(linalg, name))
        self.norm, self.pinv = _bound(_norm, xp), _bound(_pinv, xp)


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


def _pinv(xp, a, rcond=None, hermitian=False, **given):
    """np.linalg.pinv: singular values below rcond times the largest taken as zero (NumPy's
    cutoff, 1e-15 unless given; `rtol=None` is the standard's, max(M, N) * eps)."""
    if hermitian:
        raise NotImplementedError("np.linalg.pinv(..., hermitian=True) reads one triangle of the matrix and is not "
                                  "written with Array API operations yet: pass NumPy arrays")
    if rcond is not None and "rtol" in given:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    return xp.linalg.pinv(a, rtol=rcond if rcond is not None else given.get("rtol", 1e-15))


def _diagonal(ns, a, offset=0, axis1=0, axis2=1):
    """np.diagonal: the diagonal `offset` of the axes axis1 and axis2, as the last axis."""
    a = ns.to(a)
    return ns.xp.linalg.diagonal(ns.xp.moveaxis(a, (axis1, axis2), (-2, -1)), offset=offset)


def _cumsum(ns, a, axis=None, dtype=None):
    """np.cumsum: the standard's cumulative_sum, of `a` flattened for axis None."""
    return _running(ns, ns.xp.cumulative_sum, a, axis, dtype)


def _cumprod(ns, a, axis=None, dtype=None):
    """np.cumprod: the standard's cumulative_prod, of `a` flattened for axis None."""
    return _running(ns, ns.xp.cumulative_prod, a, axis, dtype)


def _running(ns, fn, a, axis, dtype):
    a = _asarray(ns, a)
    if axis is None:
        a, axis = ns.xp.reshape(a, (-1,)), 0
    return fn(a, axis=axis, dtype=_dtype(ns.xp, dtype))


def _trace(ns, a, offset=0, axis1=0, axis2=1, dtype=None):
    """np.trace: the sum of the diagonal `offset` of the axes axis1 and axis2 (NumPy's first
    two, where the standard's linalg.trace takes the last two)."""
    out = ns.xp.sum(_diagonal(ns, a, offset, axis1, axis2), axis=-1)
    return out if dtype is None else ns.xp.astype(out, _dtype(ns.xp, dtype))


def _diag(ns, v, k=0):
    """np.diag: the matrix with the vector v on its diagonal k, or a matrix's diagonal k."""
    v = ns.to(v)
    if v.ndim == 2:
        return ns.xp.linalg.diagonal(v, offset=k)
    if v.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = v.shape[0] + abs(k)
    return _on_diagonal(ns, v, (n, n), k)


def _on_diagonal(ns, g, shape, k):
    """An array shaped `shape` (..., n, m) holding the last axis of g on the diagonal k of
    its last two axes (g's entry i in row i for k >= 0, in column i for k < 0), zeros
    elsewhere."""
    xp = ns.xp
    n, m = shape[-2:]
    length = n if k >= 0 else m
    lead = tuple(g.shape[:-1])
    pad = length - g.shape[-1]
    if pad > 0:
        g = xp.concat([g, xp.zeros(lead + (pad,), dtype=g.dtype, **_device_of(xp, g))], axis=-1)
    g = g[..., :length]
    values = g[..., :, None] if k >= 0 else g[..., None, :]
    rows = xp.arange(n, **_device_of(xp, g))[:, None]
    cols = xp.arange(m, **_device_of(xp, g))[None, :]
    zero = xp.zeros((), dtype=g.dtype, **_device_of(xp, g))
    return xp.broadcast_to(xp.where(cols - rows == k, values, zero), tuple(shape))


def _index_array(ns, indices, like):
    """`indices` (a number, a list, an array) as an array of integers of like's library, on
    its device."""
    if _is_array(indices) and not _is_numpy(indices):
        return indices
    return ns.xp.asarray(indices, dtype=ns.xp.int64, **_device_of(ns.xp, like))


def _take(ns, a, indices, axis=None):
    """np.take (its mode 'raise'): the entries of `a` along `axis` (of `a` flattened, for
    none) at indices of any shape, a negative one counted from the end."""
    xp = ns.xp
    a = ns.to(a)
    if axis is None:
        a, axis = xp.reshape(a, (-1,)), 0
    axis %= a.ndim
    idx = _index_array(ns, indices, a)
    flat = xp.reshape(idx, (-1,))
    flat = xp.where(flat < 0, flat + a.shape[axis], flat)
    out = xp.take(a, flat, axis=axis)
    return xp.reshape(out, tuple(a.shape[:axis]) + tuple(idx.shape) + tuple(a.shape[axis + 1:]))


def _broadcast_shape(*shapes) -> tuple:
    """The shape NumPy's broadcasting gives arrays of `shapes`."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for sizes in zip(*[(1,) * (ndim - len(s)) + tuple(s) for s in shapes]):
        wide = {n for n in sizes if n != 1}
        if len(wide) > 1:
            raise ValueError(f"shapes {shapes} cannot be broadcast together")
        out.append(wide.pop() if wide else 1)
    return tuple(out)


def _along(ns, shape, indices, axis):
    """Where np.take_along_axis(a, indices, axis) of an `a` shaped `shape` reads: the
    positions in `a` broadcast against indices (along every axis but `axis`) with `axis`
    moved last and flattened, and the shapes of that broadcast `a` and of the result (both
    with the axis last)."""
    xp = ns.xp
    moved = xp.moveaxis(indices, axis, -1)
    n = shape[axis]
    lead = _broadcast_shape(tuple(shape[:axis]) + tuple(shape[axis + 1:]), tuple(moved.shape[:-1]))
    moved = xp.broadcast_to(moved, lead + (moved.shape[-1],))
    moved = xp.where(moved < 0, moved + n, moved)
    rows = xp.reshape(xp.arange(math.prod(lead), dtype=moved.dtype, **_device_of(xp, moved)) * n, lead + (1,))
    return xp.reshape(rows + moved, (-1,)), lead + (n,), tuple(moved.shape)


def _take_along_axis(ns, arr, indices, axis=-1):
    """np.take_along_axis: arr's entries at `indices` along `axis`, the other axes of the
    two broadcast (arr flattened for axis None), with the standard's `take`."""
    xp = ns.xp
    arr = ns.to(arr)
    indices = _index_array(ns, indices, arr)
    if axis is None:
        return _take(ns, arr, indices)
    axis %= arr.ndim
    positions, full, out = _along(ns, tuple(arr.shape), indices, axis)
    flat = xp.reshape(xp.broadcast_to(xp.moveaxis(arr, axis, -1), full), (-1,))
    return xp.moveaxis(xp.reshape(xp.take(flat, positions), out), -1, axis)


def _sort(ns, a, axis=-1, kind=None, order=None, stable=None):
    """np.sort (of `a` flattened for axis None)."""
    a = _no_order(ns, a, order)
    return ns.xp.sort(ns.xp.reshape(a, (-1,)), axis=-1) if axis is None else ns.xp.sort(a, axis=axis)


def _argsort(ns, a, axis=-1, kind=None, order=None, stable=None):
    """np.argsort (of `a` flattened for axis None); equal entries keep their order."""
    a = _no_order(ns, a, order)
    return ns.xp.argsort(ns.xp.reshape(a, (-1,)), axis=-1) if axis is None else ns.xp.argsort(a, axis=axis)


def _no_order(ns, a, order):
    if order is not None:
        raise NotImplementedError("sorting by fields (`order=`) is for NumPy's structured arrays: pass NumPy arrays")
    return ns.to(a)


def _tile(ns, A, reps):
    """np.tile: the standard's tile, given a count or a tuple of counts."""
    reps = tuple(int(r) for r in reps) if isinstance(reps, (list, tuple)) else (int(reps),)
    return ns.xp.tile(_asarray(ns, A), reps)


def _repeat(ns, a, repeats, axis=None):
    """np.repeat: each entry along `axis` (of `a` flattened, for none) `repeats` times (a
    count, or one per entry)."""
    xp = ns.xp
    a = _asarray(ns, a)
    if axis is None:
        a, axis = xp.reshape(a, (-1,)), 0
    return xp.repeat(a, _counts(ns, repeats, a.shape[axis], a), axis=axis)


def _counts(ns, repeats, n, like):
    """np.repeat's `repeats` as the standard takes it: an int, or an array of n counts (one
    per entry along the axis; a single count in a list spread to them)."""
    if not isinstance(repeats, (list, tuple)) and _shape(repeats) == ():
        return int(repeats)
    counts = _index_array(ns, repeats, like)
    return ns.xp.broadcast_to(ns.xp.reshape(counts, (-1,)), (n,))


def _diff(ns, a, n=1, axis=-1):
    """np.diff: the n-th difference along `axis` (booleans: whether neighbours differ)."""
    xp = ns.xp
    a = _asarray(ns, a)
    for _ in range(n):
        later, earlier = _sliced(a, axis, 1, None), _sliced(a, axis, None, -1)
        a = later != earlier if a.dtype == xp.bool else later - earlier
    return a


def _sliced(a, axis, start, stop):
    """a[start:stop] along `axis`."""
    return a[(slice(None),) * (axis % a.ndim) + (slice(start, stop), Ellipsis)]


def _append(ns, arr, values, axis=None):
    """np.append: values after arr, both flattened (axis None), or joined along `axis`."""
    xp = ns.xp
    arr, values = _asarray(ns, arr), _asarray(ns, values)
    if axis is None:
        return _joined(ns, [xp.reshape(arr, (-1,)), xp.reshape(values, (-1,))], 0)
    return _joined(ns, [arr, values], axis)


def _joined(ns, arrays, axis):
    """The arrays joined along `axis`, of the dtype NumPy's concatenate gives them (the
    standard promotes no integers to floats: np.append(x, 0), np.hstack([1, x]))."""
    kinds = {a.dtype for a in arrays}
    if len(kinds) > 1:
        import numpy as np
        common = getattr(ns.xp, np.result_type(*[str(k).rsplit(".", 1)[-1] for k in kinds]).name)
        arrays = [ns.xp.astype(a, common) for a in arrays]
    return ns.xp.concat(arrays, axis=axis)


def _atleast(ns, a, ndim):
    """np.atleast_1d (a number: one entry) or np.atleast_2d (a vector: one row)."""
    a = _asarray(ns, a)
    if a.ndim >= ndim:
        return a
    return ns.xp.reshape(a, (1,) * (ndim - a.ndim) + tuple(a.shape))


def _hstack(ns, tup, dtype=None, casting="same_kind"):
    """np.hstack: vectors joined end to end, arrays of more dimensions along the second axis."""
    arrays = [_atleast(ns, a, 1) for a in tup]
    out = _joined(ns, arrays, 0 if arrays[0].ndim == 1 else 1)
    return out if dtype is None else ns.xp.astype(out, _dtype(ns.xp, dtype))


def _vstack(ns, tup, dtype=None, casting="same_kind"):
    """np.vstack: the arrays (vectors as rows) joined along the first axis."""
    out = _joined(ns, [_atleast(ns, a, 2) for a in tup], 0)
    return out if dtype is None else ns.xp.astype(out, _dtype(ns.xp, dtype))


def _column(ns, a):
    """An item of np.column_stack: a vector as a column, a number as a 1 x 1 matrix."""
    a = _asarray(ns, a)
    return a if a.ndim >= 2 else ns.xp.reshape(a, (-1, 1))


def _column_stack(ns, tup):
    """np.column_stack: vectors as columns, and matrices, side by side."""
    return _joined(ns, [_column(ns, a) for a in tup], 1)


def _split(ns, ary, indices_or_sections, axis=0):
    """np.split: a list of equal parts (a count of them), or of the parts between the
    indices given (as Python slices take them)."""
    n = _shape(ary)[axis]
    if not isinstance(indices_or_sections, (list, tuple)) and not _is_array(indices_or_sections) \
            and n % int(indices_or_sections):
        raise ValueError("array split does not result in an equal division")
    return _array_split(ns, ary, indices_or_sections, axis)


def _array_split(ns, ary, indices_or_sections, axis=0):
    """np.array_split: as np.split, the first n % count parts one longer where a count does
    not divide the length n."""
    ary = _asarray(ns, ary)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, (list, tuple)) or _is_array(indices_or_sections):
        cuts = [int(i) for i in indices_or_sections]
    else:
        count = int(indices_or_sections)
        each, extra = divmod(n, count)
        cuts = [i * each + min(i, extra) for i in range(1, count)]
    ends = [0, *cuts, n]
    return _Items(_sliced(ary, axis, start, stop) for start, stop in zip(ends, ends[1:]))


class _Items(list):
    """A list of arrays (np.split's parts) that generated code indexes as it indexes an
    array of them, `parts[i, ...]` (the standard's form of `x[i]`): the item (a slice: a list)."""

    def __getitem__(self, key):
        key = _item_key(key)
        item = list.__getitem__(self, key)
        return type(self)(item) if isinstance(key, slice) else item

    def __setitem__(self, key, value):
        list.__setitem__(self, _item_key(key), value)


def _item_key(key):
    return key[0] if isinstance(key, tuple) and len(key) == 2 and key[1] is Ellipsis else key


class _GradItems(_Items, GradList):
    """The gradient of a list of arrays of different shapes (np.array_split's parts): the
    zeros of each, added item by item (runtime.containers.GradList), indexed as _Items."""

    def __add__(self, other):
        return _GradItems(GradList.__add__(self, other))

    __radd__ = __iadd__ = __add__


def _hsplit(ns, ary, indices_or_sections):
    """np.hsplit: np.split along the second axis (a vector's first)."""
    return _split(ns, ary, indices_or_sections, axis=1 if len(_shape(ary)) > 1 else 0)


def _vsplit(ns, ary, indices_or_sections):
    """np.vsplit: np.split along the first axis, of an array of two dimensions or more."""
    if len(_shape(ary)) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split(ns, ary, indices_or_sections, axis=0)


def _dsplit(ns, ary, indices_or_sections):
    """np.dsplit: np.split along the third axis, of an array of three dimensions or more."""
    if len(_shape(ary)) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split(ns, ary, indices_or_sections, axis=2)


def _average(ns, a, axis=None, weights=None, returned=False, keepdims=False):
    """np.average: the mean, or the sum of the weighted entries over that of the weights
    (a 1-D weight per entry along `axis`); integers are averaged as float64."""
    xp = ns.xp
    a = _asarray(ns, a)
    if not xp.isdtype(a.dtype, ("real floating", "complex floating")):
        a = xp.astype(a, xp.float64)
    if weights is None:
        avg = xp.mean(a, axis=axis, keepdims=keepdims)
        total = xp.full(tuple(avg.shape), math.prod(a.shape) / max(math.prod(avg.shape), 1), dtype=avg.dtype)
    else:
        w = _weights_along(ns, _asarray(ns, weights), a, axis)
        total = xp.sum(xp.broadcast_to(w, tuple(a.shape)), axis=axis, keepdims=keepdims)
        avg = xp.sum(w * a, axis=axis, keepdims=keepdims) / total
    return (avg, total) if returned else avg


def _weights_along(ns, w, x, axis):
    """np.average's weights shaped to broadcast against x (a 1-D weight per entry along axis),
    refused where NumPy refuses them."""
    shape = _shape(x)
    if not ns.xp.isdtype(w.dtype, ("real floating", "complex floating")):
        w = ns.xp.astype(w, ns.xp.float64)       # (integer weights: NumPy's float64)
    if tuple(w.shape) == shape:
        return w
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    if w.ndim != 1 or isinstance(axis, tuple):
        raise TypeError("1D weights expected when shapes of a and weights differ.")
    if w.shape[0] != shape[axis]:
        raise ValueError("Length of weights not compatible with specified axis.")
    return _expand_dims(ns, w, tuple(i for i in range(len(shape)) if i != axis % len(shape)))


ADAPTED = {"transpose": _transpose, "dot": _dot, "outer": _outer, "size": _size, "ndim": _ndim,
           "shape": _shape_of, "copy": _copy, "zeros": _zeros, "ones": _ones, "expand_dims": _expand_dims,
           "std": _std, "var": _var, "len": _len, "array": _array, "asarray": _asarray, "round": _round,
           "reshape": _reshape, "moveaxis": _moveaxis, "arange": _arange, "linspace": _linspace, "full": _full,
           "eye": _eye, "empty": _empty, "matmul": _matmul, "squeeze": _squeeze, "ravel": _ravel,
           "swapaxes": _swapaxes, "exp2": _exp2, "trace": _trace, "diagonal": _diagonal, "diag": _diag,
           "take": _take, "take_along_axis": _take_along_axis, "sort": _sort, "argsort": _argsort, "tile": _tile,
           "repeat": _repeat, "diff": _diff, "append": _append, "hstack": _hstack, "vstack": _vstack,
           "column_stack": _column_stack, "split": _split, "array_split": _array_split, "hsplit": _hsplit,
           "vsplit": _vsplit, "dsplit": _dsplit, "average": _average,
           "cumsum": _cumsum, "cumprod": _cumprod}


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
    """runtime.broadcasting.zero_grad, of a number, an array, or a list of them (of one shape:
    one array of zeros; of several shapes: a list of them, as NumPy's GradList)."""
    if isinstance(x, (list, tuple)) and x and len({_shape(v) for v in x}) > 1:
        return _GradItems(zero_grad(ns, v) for v in x)       # (items of different shapes: one each)
    if isinstance(x, (list, tuple)) and x:
        return ns.xp.zeros(_shape(x), dtype=_float_dtype(ns.xp, *x), **_device_of(ns.xp, x[0]))
    if not _is_array(x):
        return 0.0
    floating = ns.xp.isdtype(x.dtype, ("real floating", "complex floating"))
    return ns.xp.zeros(tuple(x.shape), dtype=x.dtype if floating else ns.xp.float64, **_device_of(ns.xp, x))


def zero_tangent(ns, x):
    """runtime.broadcasting.zero_tangent, of a number or an array; of a list or tuple, the same
    container of them (its tangent grows with it: `.append`)."""
    if isinstance(x, list):
        return _Items(zero_tangent(ns, v) for v in x)
    if isinstance(x, tuple):
        return tuple(zero_tangent(ns, v) for v in x)
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
    value = _written(ns, value, x)
    if _is_jax(x):
        return x.at[index].set(value)
    x[index] = value
    return x


def _written(ns, value, x):
    """`value`, to be written into the array x: floats of x's precision where both are real
    floats (as NumPy casts a value written or added into an array; the standard refuses)."""
    if _is_array(x) and _is_array(value) and value.dtype != x.dtype and \
            ns.xp.isdtype(x.dtype, "real floating") and ns.xp.isdtype(value.dtype, "real floating"):
        return ns.xp.astype(value, x.dtype)
    return value


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
    g = _written(ns, g, x)
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


# -- linear algebra --

def solve_adjoint(ns, g, a, b, ans):
    """runtime.linalg.solve_adjoint: the adjoints of `ans = np.linalg.solve(a, b)` for a and
    for b (a vector b: one right-hand side; summed where a or b was broadcast)."""
    xp = ns.xp
    at = xp.matrix_transpose(a)
    if b.ndim == 1:
        db = xp.linalg.solve(at, g[..., None])[..., 0]
        return unbroadcast(ns, -db[..., :, None] * ans[..., None, :], a), unbroadcast(ns, db, b)
    db = xp.linalg.solve(at, g)
    return unbroadcast(ns, -xp.matmul(db, xp.matrix_transpose(ans)), a), unbroadcast(ns, db, b)


def cofactor(ns, a):
    """runtime.linalg.cofactor: the cofactor matrix (det's gradient) from the SVD a = u s vt,
    det(u) det(vt) u diag(the product of the other singular values) vt: right where a is
    singular too."""
    xp = ns.xp
    u, s, vt = xp.linalg.svd(a, full_matrices=True)
    others = unprod(ns, xp.ones(tuple(s.shape[:-1]), dtype=s.dtype, **_device_of(xp, s)), s, axis=-1)
    sign = xp.linalg.det(u) * xp.linalg.det(vt)
    return sign[..., None, None] * xp.matmul(_conj(ns, u) * others[..., None, :], _conj(ns, vt))


def _conj(ns, a):
    return ns.xp.conj(a) if ns.xp.isdtype(a.dtype, "complex floating") else a


def _eye_like(ns, n, like):
    """The n x n identity of like's floating dtype, on its device."""
    return ns.xp.eye(n, dtype=_float_dtype(ns.xp, like), **_device_of(ns.xp, like))


def _lower_half(ns, m):
    """runtime.linalg._lower_half: the lower triangle of m, its diagonal halved."""
    low = ns.xp.tril(m)
    return low - 0.5 * low * _eye_like(ns, m.shape[-1], m)


def cholesky_adjoint(ns, g, lower):
    """runtime.linalg.cholesky_adjoint: the adjoint of `lower = np.linalg.cholesky(a)`,
    symmetrised (of each matrix of a stack, too)."""
    xp = ns.xp
    mt = xp.matrix_transpose
    phi = _lower_half(ns, xp.matmul(mt(lower), g))
    inv = xp.linalg.inv(lower)
    da = xp.matmul(xp.matmul(mt(inv), phi), inv)
    return 0.5 * (da + mt(da))


def to_triangle(ns, s, lower=True):
    """runtime.linalg.to_triangle: a symmetric adjoint on the triangle a function read, the
    entries off the diagonal counted twice."""
    xp = ns.xp
    s = 0.5 * (s + xp.matrix_transpose(s))
    part = xp.tril(s, k=-1) if lower else xp.triu(s, k=1)
    return 2.0 * part + s * _eye_like(ns, s.shape[-1], s)


def from_triangle(ns, a, lower=True):
    """runtime.linalg.from_triangle: the symmetric matrix one triangle of a stands for."""
    xp = ns.xp
    part = xp.tril(a) if lower else xp.triu(a)
    return part + xp.matrix_transpose(xp.tril(a, k=-1) if lower else xp.triu(a, k=1))


def pinv_adjoint(ns, g, a, ans):
    """runtime.linalg.pinv_adjoint: the adjoint of `ans = np.linalg.pinv(a)` where a keeps
    its rank (stacks of matrices too)."""
    xp = ns.xp
    mt, mm = xp.matrix_transpose, _matmul
    m, n = a.shape[-2:]
    at, gt = mt(ans), mt(g)
    return (-mm(ns, mm(ns, at, g), at) + mm(ns, mm(ns, mm(ns, _eye_like(ns, m, a) - mm(ns, a, ans), gt), ans), at)
            + mm(ns, mm(ns, mm(ns, at, ans), gt), _eye_like(ns, n, a) - mm(ns, ans, a)))


def unnorm(ns, g, x, ans, ord=None, axis=None, keepdims=False):
    """runtime.reductions.unnorm: the adjoint of np.linalg.norm(x, ord, axis): vector norms
    (any p, inf) and the matrix norms (axis a pair, or a matrix with no axis)."""
    xp = ns.xp
    x = xp.astype(x, _float_dtype(xp, x))
    matrix = (axis is None and x.ndim == 2) or isinstance(axis, tuple)
    ge, a = _expanded(ns, g, axis, keepdims, x.ndim), _expanded(ns, ans, axis, keepdims, x.ndim)
    if ord == 0:
        return xp.zeros(tuple(x.shape), dtype=_float_dtype(xp, g, x), **_device_of(xp, x))
    if matrix and ord not in (None, "fro"):
        return _matrix_norm_part(ns, g, _matrix_norm_direction(ns, _to_matrix_axes(ns, x, axis), ord), axis,
                                 keepdims)
    if ord is None or ord == 2 or ord == "fro":
        return ge * x / _nonzero(ns, a)
    if ord == math.inf or ord == -math.inf:
        hits = as_floats(ns, xp.abs(x) == a, x)
        return ge * xp.sign(x) * hits / xp.sum(hits, axis=axis, keepdims=True)
    if ord == 1:
        return ge * xp.sign(x)
    return ge * xp.sign(x) * xp.abs(x) ** (ord - 1) / _nonzero(ns, a) ** (ord - 1)


def _nonzero(ns, a):
    """a, with 1 where it is 0 (a norm divided by: a zero norm's gradient is 0)."""
    a = ns.to(a)
    return ns.xp.where(a == 0, ns.xp.ones_like(a), a)


def _to_matrix_axes(ns, x, axis):
    """x with the matrix axes `axis` (the last two for none) moved last."""
    return x if axis is None else ns.xp.moveaxis(x, tuple(axis), (-2, -1))


def _matrix_norm_part(ns, g, direction, axis, keepdims):
    """runtime.reductions._matrix_norm_part: g times the norm's direction (matrices on the
    last two axes), put back on `axis`."""
    xp = ns.xp
    g = ns.to(g)
    if keepdims:
        g = g if axis is None else xp.moveaxis(g, tuple(axis), (-2, -1))
    else:
        g = g[..., None, None]
    out = g * direction
    return out if axis is None else xp.moveaxis(out, (-2, -1), tuple(axis))


def _matrix_norm_direction(ns, m, ord):
    """runtime.reductions._matrix_norm_direction: the gradient of the matrix norm `ord` at
    each matrix of m (from the SVD for 'nuc', 2 and -2; else the signs of the column (1) or
    row (inf) of largest, for -1 and -inf smallest, absolute sum, shared by the ties)."""
    xp = ns.xp
    if ord in ("nuc", 2, -2):
        u, _, vt = xp.linalg.svd(m, full_matrices=False)
        if ord == "nuc":
            return xp.matmul(u, vt)
        k = 0 if ord == 2 else -1
        return u[..., :, k, None] * vt[..., None, k, :]
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError("Invalid norm order for matrices.")
    along = -2 if ord in (1, -1) else -1         # 1: the columns' sums; inf: the rows'
    other = -1 if along == -2 else -2
    sums = xp.sum(xp.abs(m), axis=along, keepdims=True)
    pick = (xp.max if ord > 0 else xp.min)(sums, axis=other, keepdims=True)
    hits = as_floats(ns, sums == pick, m)
    return xp.sign(m) * hits / xp.sum(hits, axis=other, keepdims=True)


def untrace(ns, g, x, offset=0):
    """runtime.reductions.untrace: the adjoint of np.trace(x, offset), over the first two axes."""
    xp = ns.xp
    shape = _shape(x)
    rows = xp.arange(shape[0], **_device_of(xp, x))[:, None]
    cols = xp.arange(shape[1], **_device_of(xp, x))[None, :]
    eye = xp.astype(cols - rows == offset, _float_dtype(xp, g, x))    # (Dask's eye(n, m, k) is broken)
    return xp.reshape(eye, tuple(eye.shape) + (1,) * (len(shape) - 2)) * g


# -- reductions --

def _to_last(ns, a, axis):
    """`a` with the axes `axis` names (every axis, for None) moved last and made one, and the
    function that puts an array shaped like that back in a's shape."""
    xp = ns.xp
    axes = tuple(range(a.ndim)) if axis is None else _axes(axis, a.ndim)
    order = tuple(i for i in range(a.ndim) if i not in axes) + axes
    moved = xp.permute_dims(a, order)
    lead = tuple(moved.shape[:a.ndim - len(axes)])

    def back(b):
        return xp.permute_dims(xp.reshape(b, tuple(moved.shape)), tuple(order.index(i) for i in range(a.ndim)))
    return xp.reshape(moved, lead + (-1,)), back


def _cumulative_prod(ns, a):
    """The running products of `a` along its last axis: the library's own where it has one
    (the standard's since 2024.12), else by doubling (log2(n) products of shifted copies)."""
    xp = ns.xp
    if hasattr(xp, "cumulative_prod"):
        return xp.cumulative_prod(a, axis=-1)
    n, shift = a.shape[-1], 1
    while shift < n:
        ones = xp.ones(tuple(a.shape[:-1]) + (shift,), dtype=a.dtype, **_device_of(xp, a))
        a = a * xp.concat([ones, a[..., :n - shift]], axis=-1)
        shift *= 2
    return a


def unprod(ns, g, x, axis=None, keepdims=False):
    """runtime.reductions.unprod: g times the product of the other entries (running products
    from each end, none divided: right where x has zeros too); axis may be a tuple."""
    xp = ns.xp
    x = ns.to(x)
    x = xp.astype(x, _float_dtype(xp, x))
    moved, back = _to_last(ns, x, axis)
    ones = xp.ones(tuple(moved.shape[:-1]) + (1,), dtype=moved.dtype, **_device_of(xp, moved))
    before = _cumulative_prod(ns, xp.concat([ones, moved[..., :-1]], axis=-1))
    after = xp.flip(_cumulative_prod(ns, xp.concat([ones, xp.flip(moved, axis=-1)[..., :-1]], axis=-1)), axis=-1)
    return _expanded(ns, g, axis, keepdims, x.ndim) * back(before * after)


def uncumprod(ns, g, x, ans, axis=None):
    """runtime.reductions.uncumprod, the way it takes where x has zeros: entry i's adjoint is
    the product of the entries before it times total_i = g_i + x_{i+1} total_{i+1} (exact
    everywhere, with no quotient; one step per entry along the axis)."""
    xp = ns.xp
    kind = _float_dtype(xp, g, x)
    x, g = xp.astype(ns.to(x), kind), xp.broadcast_to(xp.astype(ns.to(g), kind), _shape(ans))
    if axis is None:
        moved, gm = xp.reshape(x, (-1,)), xp.reshape(g, (-1,))
    else:
        moved, gm = xp.moveaxis(x, axis, -1), xp.moveaxis(g, axis, -1)
    n = moved.shape[-1]
    if n == 0:
        return xp.zeros(tuple(x.shape), dtype=kind, **_device_of(xp, x))
    befores = [xp.ones(tuple(moved.shape[:-1]), dtype=kind, **_device_of(xp, x))]
    for i in range(1, n):
        befores.append(befores[-1] * moved[..., i - 1])
    out, total = [None] * n, None
    for i in reversed(range(n)):
        total = gm[..., i] if total is None else gm[..., i] + moved[..., i + 1] * total
        out[i] = befores[i] * total
    joined = xp.stack(out, axis=-1)
    return xp.reshape(joined, tuple(x.shape)) if axis is None else xp.moveaxis(joined, -1, axis)


def unaverage(ns, g, x, weights, axis=None):
    """runtime.reductions.unaverage: the adjoints of np.average(x, axis, weights) for x and
    for the weights (None without them)."""
    xp = ns.xp
    x = _asarray(ns, x)
    x = xp.astype(x, _float_dtype(xp, x))
    if weights is None:
        kept = 1 if axis is None else math.prod(n for i, n in enumerate(x.shape) if i not in _axes(axis, x.ndim))
        return unsum(ns, g, x, axis) * (kept / max(math.prod(x.shape), 1)), None
    w = _weights_along(ns, _asarray(ns, weights), x, axis)
    total = xp.sum(xp.broadcast_to(w, tuple(x.shape)), axis=axis, keepdims=True)
    avg = xp.sum(w * x, axis=axis, keepdims=True) / total
    ge = _expanded(ns, g, axis, False, x.ndim)
    dw = unbroadcast(ns, ge * (x - avg) / total, w)
    dx = xp.broadcast_to(ge * w / total, tuple(x.shape))
    return xp.astype(dx, _float_dtype(xp, dx, x)), xp.reshape(dw, _shape(weights))


# -- shapes --

def unsort(ns, g, x, axis=-1):
    """runtime.shapes.unsort: g put back where each entry of x came from (g read at the
    inverse of the permutation that sorts x; of x flattened for axis None)."""
    xp = ns.xp
    g = xp.astype(ns.to(g), _float_dtype(xp, g, x))
    if axis is None:
        return xp.reshape(unsort(ns, xp.reshape(g, (-1,)), xp.reshape(x, (-1,)), -1), tuple(x.shape))
    inverse = xp.argsort(xp.argsort(x, axis=axis), axis=axis)
    return _take_along_axis(ns, g, inverse, axis)


def untile(ns, g, x, reps):
    """runtime.shapes.untile: the tiles of g summed."""
    shape = _shape(x)
    reps = tuple(int(r) for r in reps) if isinstance(reps, (list, tuple)) else (int(reps),)
    ndim = max(len(shape), len(reps))
    padded = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    split = tuple(d for r, n in zip(reps, padded) for d in (r, n))
    summed = ns.xp.sum(ns.xp.reshape(g, split), axis=tuple(range(0, 2 * ndim, 2)))
    return ns.xp.reshape(summed, shape)


def unrepeat(ns, g, x, repeats, axis=None):
    """runtime.shapes.unrepeat: g summed over the copies of each entry (a count: the copies
    side by side; one count per entry: added where each copy came from, add_at)."""
    xp = ns.xp
    shape = _shape(x)
    source = (math.prod(shape),) if axis is None else shape
    ax = 0 if axis is None else axis % len(shape)
    n = source[ax]
    moved = xp.moveaxis(xp.reshape(g, (-1,)) if axis is None else g, ax, 0)
    counts = _counts(ns, repeats, n, g)
    kind = _float_dtype(xp, g, x)
    if isinstance(counts, int):
        summed = xp.sum(xp.reshape(moved, (n, counts) + tuple(moved.shape[1:])), axis=1)
    else:
        owner = xp.repeat(xp.arange(n, **_device_of(xp, g)), counts)
        zeros = xp.zeros((n,) + tuple(moved.shape[1:]), dtype=kind, **_device_of(xp, g))
        summed = add_at(ns, zeros, (owner,), moved)
    return xp.reshape(xp.moveaxis(xp.astype(summed, kind), 0, ax), shape)


def undiagonal(ns, g, x, offset=0, axis1=0, axis2=1):
    """runtime.shapes.undiagonal: g placed on the diagonal `offset` of the axes axis1 and
    axis2 of an array of zeros shaped like x."""
    xp = ns.xp
    g = xp.astype(ns.to(g), _float_dtype(xp, g, x))
    shape = list(_shape(x))
    a1, a2 = axis1 % len(shape), axis2 % len(shape)
    moved = [n for i, n in enumerate(shape) if i not in (a1, a2)] + [shape[a1], shape[a2]]
    return xp.moveaxis(_on_diagonal(ns, g, tuple(moved), offset), (-2, -1), (a1, a2))


def undiag(ns, g, x, k=0):
    """runtime.shapes.undiag: the diagonal k of g for a vector x, g on that diagonal for a
    matrix x."""
    if len(_shape(x)) == 1:
        return ns.xp.linalg.diagonal(g, offset=k)
    return undiagonal(ns, g, x, k)


def untake(ns, g, x, indices, axis=None):
    """runtime.shapes.untake: g added where np.take(x, indices, axis) read each entry (an
    entry read twice gets both: add_at)."""
    xp = ns.xp
    shape = _shape(x)
    kind = _float_dtype(xp, g, x)
    idx = _index_array(ns, indices, g if _is_array(g) else x)
    g = xp.astype(ns.to(g), kind)
    if axis is None:
        out = xp.zeros((math.prod(shape),), dtype=kind, **_device_of(xp, g))
        out = add_at(ns, out, (xp.reshape(idx, (-1,)),), xp.reshape(g, (-1,)))
        return xp.reshape(out, shape)
    out = xp.zeros(shape, dtype=kind, **_device_of(xp, g))
    return add_at(ns, out, (slice(None),) * (axis % len(shape)) + (idx,), g)


def untake_along_axis(ns, g, x, indices, axis):
    """runtime.shapes.untake_along_axis: g added where np.take_along_axis(x, indices, axis)
    read each entry (summed over the axes along which x was broadcast)."""
    xp = ns.xp
    shape = _shape(x)
    kind = _float_dtype(xp, g, x)
    g = xp.astype(ns.to(g), kind)
    indices = _index_array(ns, indices, g)
    if axis is None:
        return untake(ns, g, x, indices)
    axis %= len(shape)
    positions, full, _ = _along(ns, shape, indices, axis)
    out = xp.zeros((math.prod(full),), dtype=kind, **_device_of(xp, g))
    out = add_at(ns, out, (positions,), xp.reshape(xp.moveaxis(g, axis, -1), (-1,)))
    return unbroadcast(ns, xp.moveaxis(xp.reshape(out, full), -1, axis), x)


def undiff(ns, g, n=1, axis=-1):
    """runtime.shapes.undiff: each difference undone, n times (minus the difference of g with
    a zero before and after it along the axis)."""
    xp = ns.xp
    for _ in range(n):
        axis_ = axis % g.ndim
        edge = tuple(g.shape[:axis_]) + (1,) + tuple(g.shape[axis_ + 1:])
        zero = xp.zeros(edge, dtype=g.dtype, **_device_of(xp, g))
        g = -_diff(ns, xp.concat([zero, g, zero], axis=axis_), 1, axis_)
    return g


def unappend(ns, g, arr, values, axis=None):
    """runtime.shapes.unappend: the adjoints of np.append(arr, values, axis), g cut where the
    values begin."""
    xp = ns.xp
    if axis is None:
        g, count = xp.reshape(g, (-1,)), math.prod(_shape(arr))
        return xp.reshape(g[:count], _shape(arr)), xp.reshape(g[count:], _shape(values))
    first, rest = _cut(g, [_shape(arr)[axis], g.shape[axis] - _shape(arr)[axis]], axis)
    return first, rest


def _unstacked(ns, g, xs, axis, ndim):
    """runtime.shapes.unstacked: g cut at the lengths the inputs had along `axis` once made
    at least `ndim`-dimensional (np.atleast_1d, np.atleast_2d), each part back in its
    input's shape."""
    shapes = [_shape(x) for x in xs]
    lengths = [((1,) * (ndim - len(s)) + s)[axis] for s in shapes]
    return [ns.xp.reshape(p, s) for p, s in zip(_cut(g, lengths, axis), shapes)]


def unhstack(ns, g, xs):
    """runtime.shapes.unhstack: the adjoints of np.hstack(xs)."""
    return _unstacked(ns, g, xs, 0 if g.ndim == 1 else 1, 1)


def unvstack(ns, g, xs):
    """runtime.shapes.unvstack: the adjoints of np.vstack(xs)."""
    return _unstacked(ns, g, xs, 0, 2)


def uncolumn_stack(ns, g, xs):
    """runtime.shapes.uncolumn_stack: the columns of g each array became."""
    widths = [1 if len(_shape(x)) < 2 else _shape(x)[1] for x in xs]
    return [ns.xp.reshape(p, _shape(x)) for p, x in zip(_cut(g, widths, 1), xs)]


def unsplit(ns, g, axis=0):
    """runtime.shapes.unsplit: the parts' adjoints (a list, or stacked as zero_grad makes
    them) joined back along `axis`."""
    parts = [g[i, ...] for i in range(g.shape[0])] if _is_array(g) else list(g)
    return ns.xp.concat(parts, axis=axis)


def unhsplit(ns, g, x):
    """runtime.shapes.unhsplit: the parts joined along the axis np.hsplit cut."""
    return unsplit(ns, g, axis=1 if len(_shape(x)) > 1 else 0)


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
                                   unvar, unstd, uncumsum, unroll, unconcatenate, stored, unassigned,
                                   solve_adjoint, cofactor, cholesky_adjoint, to_triangle, from_triangle,
                                   pinv_adjoint, unnorm, untrace, unprod, uncumprod, unaverage, unsort, untile,
                                   unrepeat, undiagonal, undiag, untake, untake_along_axis, undiff, unappend,
                                   unhstack, unvstack, uncolumn_stack, unsplit, unhsplit)}

ONE_ARRAY = {"unbroadcast", "zero_grad", "zero_tangent", "broadcast_like", "unsum", "unmax", "untranspose",
             "matmul_dleft", "matmul_dright", "dot_dleft", "dot_dright", "add_at", "unindex", "as_floats", "setitem",
             "unvar", "unstd", "uncumsum", "unroll", "stored", "unassigned", "cofactor", "cholesky_adjoint",
             "to_triangle", "from_triangle", "pinv_adjoint", "unnorm", "untrace", "unprod", "uncumprod", "unsort",
             "untile", "unrepeat", "undiagonal", "undiag", "untake", "untake_along_axis", "undiff", "unsplit",
             "unhsplit"}
# the helpers whose value is one array (the others give lists or tuples of them)

SUPPORTED = {"np." + n for n in SAME | set(STANDARD) | set(ADAPTED)} | set(HELPERS) | OPERATORS | \
    {"np.linalg.norm", "np.linalg.pinv", "len", "abs", "float", "min", "max", "append", "call", "math.sqrt", "math.log",
     "math.exp", "math.cos", "math.sin", "math.tan", "math.tanh", "math.pi", "math.e", "math.log1p", "math.expm1",
     "math.atan", "math.atan2", "math.hypot", "math.erf", "math.floor", "math.ceil", "int", "round", "sum", "range",
     "reversed", "enumerate", "zip", "sorted", "isinstance", "print", "opaque"}
# every op an `xp` derivative may call (passes/portable.py refuses the others)
