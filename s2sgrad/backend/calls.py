"""What happens when a user calls a derivative: argument checks and result conventions.

`entry_point` writes a small wrapper with the user function's own parameters
(so keywords and defaults work with no binding cost) that checks each
differentiated argument is floating point, calls the generated derivative,
checks that `grad`'s output is a scalar, and hands back gradients shaped
like their arguments that the caller may modify. Python floats take a fast
path of one type check each.
"""
from __future__ import annotations

import inspect
import linecache
import sys
import weakref
from functools import partial
from typing import NamedTuple

import numpy as np

from .. import ir
from . import emit
from ..ir import aliasing, sequences
from ..runtime import array_api, containers
from ..errors import NotDifferentiableError, ShapeError


MAX_SPECIALIZATIONS = 8       # per derivative; calls with other shapes use the general code
PLAIN = frozenset({float, int, bool, complex, str, type(None), list, tuple, dict, np.ndarray, np.float64,
                   np.float32, np.complex128, np.int64})     # types that are never another library's arrays


class Derived(NamedTuple):
    """What a derivative s2sgrad made is the derivative of (its `__s2sgrad__`): `fn`, with
    respect to the parameters at `positions` (`single`: wrt was one of them, not a tuple),
    by the sweeps in `chain` ("reverse" for grad, then "forward" once per grad taken of
    it); `value`: it returns the value too (value_and_grad)."""
    of: object              # fn, or a weak reference to it (for a derivative the cache holds)
    positions: tuple
    single: bool
    chain: tuple
    value: bool = False

    @property
    def fn(self):
        return self.of() if isinstance(self.of, weakref.ref) else self.of


def entry_point(compiled, fn, value: bool, specialize=None, renew=None, size_one=None, complex_variant=None,
                foreign_variant=None, always: bool = False, current=None):
    """The function `grad(fn)` (value=False) or `value_and_grad(fn)` (value=True) returns.
    With `specialize` (shape key -> generated function), derivatives whose code depends on
    shapes dispatch on the arguments' shapes to a version compiled for them. With `renew`
    (-> a new entry point), a call made after what the derivative was built from changed
    (a helper redefined, `fn.__code__` replaced: running.Depends) first turns this entry
    point into the new one, as Python would run the new code. `size_one` (arguments ->
    (value, gradients)) takes the gradient of an output of shape (1,) or (1, 1).
    `complex_variant` (the names of the parameters given complex numbers -> an entry point)
    takes a call with complex arguments to the derivative built for them; `foreign_variant`
    (-> an entry point) a call given the arrays of another library (PyTorch, Dask, ...) to
    the derivative built for the Array API (foreign_calls.py). `always`: dispatch on shapes
    whatever the code (the numba backend's); `current` (-> bool) checks what the entry
    point was built from in place of `compiled.depends.current`."""
    params = list(inspect.signature(fn).parameters.values())
    names = [p.name for p in params]
    if any(n.startswith("_s2s_") for n in names):
        raise ValueError("s2sgrad reserves parameter names starting with `_s2s_`; rename them")
    wrt = [names[i] for i in compiled.positions]
    every = "(" + "".join(f"{n}, " for n in names) + "_s2s_value)"
    lines = [f"def entry({_parameter_list(params)}):"]
    forward = ", ".join(p.name if p.kind is not p.KEYWORD_ONLY else f"{p.name}={p.name}" for p in params)
    if renew is not None:
        lines.append(f"    if not _s2s_current(): return _s2s_renewed()({forward})")
    if foreign_variant is not None:
        lines += [f"    if _s2s_type({n}) not in _s2s_plain and _s2s_foreign({n}): return _s2s_xp()({forward})"
                  for n in names]
    made_complex = set(compiled.complex)
    divert = f"return _s2s_complex({forward})"      # (to the derivative built for complex arguments)
    checked = f"_s2s_check_float({{0}}, {{0!r}})"
    lines += [f"    if _s2s_type({w}) is not _s2s_float and (_s2s_type({w}) is not _s2s_ndarray or {w}.dtype.kind != 'f'"
              + (f") and {checked.format(w)}: {divert}" if complex_variant is not None else f"): {checked.format(w)}")
              for w in wrt if w not in made_complex]
    if complex_variant is not None:          # (an argument not differentiated, given complex numbers)
        lines += [f"    if _s2s_type({n}) is _s2s_ndarray and {n}.dtype.kind == 'c' or _s2s_type({n}) is _s2s_cx "
                  f"or _s2s_type({n}) is _s2s_c128 or _s2s_type({n}) in _s2s_held and _s2s_holds({n}): {divert}"
                  for n in names if n not in wrt]
    lines += [f"    {names[i]} = _s2s_alone({names[i]}, {names[i]!r}, ({''.join(n + ', ' for n in names if n != names[i])}))"
              for i in compiled.written if i < len(names)]
    impl = "_s2s_impl"
    dispatch = specialize is not None and (always or _depends_on_shapes(compiled.ir))   # (always: Numba's)
    if dispatch:
        key = "".join(f"({n}.shape, {n}.dtype.char) if _s2s_type({n}) is _s2s_ndarray else _s2s_type({n}), "
                      for n in names)
        lines += [f"    _s2s_key = ({key})",
                  "    _s2s_fn = _s2s_table.get(_s2s_key) or _s2s_specialize(_s2s_key)"]
        impl = "_s2s_fn"
    given = ', '.join(names)
    lines += ["    try:",
              f"        _s2s_value, _s2s_grads = {impl}({given})",
              "        _s2s_one = (_s2s_type(_s2s_value) is not _s2s_float and _s2s_type(_s2s_value) is not "
              "_s2s_float64 and _s2s_check_scalar(_s2s_value))",
              "    except Exception:",
              f"        _s2s_one = _s2s_explain({given})",
              "        if not _s2s_one: raise",
              "    if _s2s_one:",
              f"        _s2s_value, _s2s_grads = _s2s_size_one({given})"]
    if compiled.single:
        lines += [f"    if _s2s_type(_s2s_grads) is not _s2s_float or _s2s_type({wrt[0]}) is not _s2s_float:",
                  f"        _s2s_grads = _s2s_own(_s2s_grads, {wrt[0]}, {every})",
                  "        if _s2s_type(_s2s_grads) is not _s2s_ndarray or _s2s_grads.dtype.kind == 'c':",
                  "            _s2s_check_gradients((_s2s_grads,))"]
    else:
        lines += [f"    _s2s_grads = _s2s_own_all(_s2s_grads, ({''.join(w + ', ' for w in wrt)}), {every})",
                  "    _s2s_check_gradients(_s2s_grads)"]
    lines.append("    return _s2s_value, _s2s_grads" if value else "    return _s2s_grads")
    namespace = {"_s2s_impl": None if dispatch else compiled.fn, "_s2s_own": own, "_s2s_own_all": own_all,
                 "_s2s_alone": alone,
                 "_s2s_float64": np.float64, "_s2s_ndarray": np.ndarray, "_s2s_float": float,
                 "_s2s_type": type,
                 "_s2s_check_float": partial(check_float, compiled=compiled, divert=complex_variant is not None),
                 "_s2s_cx": complex, "_s2s_c128": np.complex128, "_s2s_held": (list, tuple, dict),
                 "_s2s_holds": _is_complex,
                 "_s2s_complex": partial(_complex_call, complex_variant, names, fn),
                 "_s2s_check_scalar": partial(check_scalar, compiled=compiled, one=size_one is not None),
                 "_s2s_size_one": size_one,
                 "_s2s_check_gradients": partial(check_gradients, compiled=compiled),
                 "_s2s_explain": partial(explain_failure, fn, compiled, size_one is not None),
                 "_s2s_plain": PLAIN, "_s2s_foreign": array_api.foreign, "_s2s_xp": _once(foreign_variant)}
    if dispatch:
        table: dict = {}
        namespace |= {"_s2s_table": table, "_s2s_specialize": partial(_specialized, table, specialize,
                                                                        compiled)}
    namespace |= {f"_s2s_default_{i}": p.default for i, p in enumerate(params)}
    if renew is not None:
        namespace |= {"_s2s_current": current or compiled.depends.current,
                      "_s2s_renewed": partial(_renewed, namespace, renew)}
    exec("\n".join(lines), namespace)
    entry = namespace.pop("entry")        # (no cycle through its globals)
    namespace["_s2s_self"] = weakref.ref(entry)
    entry.__name__ = entry.__qualname__ = ("value_and_grad_" if value else "grad_") + fn.__name__
    entry.__doc__ = entry_doc(fn.__name__, wrt, value)
    entry.__s2sgrad__ = Derived(fn, compiled.positions, compiled.single, ("reverse",), value)
    return entry


def entry_doc(name: str, wrt: list, value: bool) -> str:
    """What the function `grad` (or `value_and_grad`) returns says it returns."""
    grads = ", ".join("d" + w for w in wrt)
    shaped = "shaped like its argument" if len(wrt) == 1 else "each shaped like its argument"
    returned = f"d{wrt[0]}" if len(wrt) == 1 else f"({grads})"
    if value:
        return (f"{name} and its gradient with respect to {', '.join(wrt)}: returns ({name}(...), {returned}), "
                f"the gradient{'s' if len(wrt) > 1 else ''} {shaped}.")
    return f"The gradient of {name} with respect to {', '.join(wrt)}: returns {returned}, {shaped}."


def _once(make):
    """`make`, called the first time only (then what it made)."""
    made = []
    return lambda: made[0] if made else made.append(make()) or made[0]


def _renewed(namespace: dict, renew):
    """The entry point owning `namespace`, made anew (its code and globals replaced by a
    new entry point's) for the code that runs now."""
    entry, new = namespace["_s2s_self"](), renew()
    entry.__code__, entry.__doc__ = new.__code__, new.__doc__
    namespace.update({k: v for k, v in new.__globals__.items() if k not in ("_s2s_self", "_s2s_renewed")})
    return entry


def jvp_entry(compiled, slow, large: int):
    """`entry(primals, tangents)` for `s2sgrad.jvp`: when every differentiated argument is
    a float, or a float array of fewer than `large` entries with a tangent of its shape,
    and no other argument is that large, it calls the generated jvp at once; anything
    else goes to `slow(primals, tangents)`, which checks and explains."""
    n, wrt = len(compiled.signature.parameters), compiled.positions
    names = [f"a{i}" for i in range(n)]
    tangents = [f"t{k}" for k in range(len(wrt))]
    lines = ["def entry(primals, tangents):",
             "    try:",
             f"        {''.join(a + ', ' for a in names)}= primals",
             f"        {''.join(t + ', ' for t in tangents)}= tangents",
             "    except (TypeError, ValueError):        # not one of each",
             "        return slow(primals, tangents)"]
    for i, t in zip(wrt, tangents):
        a = names[i]
        lines += [f"    if not (type({a}) is float and type({t}) is float or type({a}) is nd and {a}.dtype.kind == 'f' "
                  f"and {a}.size < {large} and type({t}) is nd and {t}.shape == {a}.shape):",
                  "        return slow(primals, tangents)"]
    for i in (i for i in range(n) if i not in wrt):     # (complex numbers: refused there)
        lines += [f"    if type({names[i]}) is nd and ({names[i]}.size >= {large} or {names[i]}.dtype.kind == 'c') "
                  f"or type({names[i]}) is complex or type({names[i]}) is c128:",
                  "        return slow(primals, tangents)"]
    lines += [f"    {names[i]} = alone({names[i]}, {list(compiled.signature.parameters)[i]!r}, "
              f"({''.join(a + ', ' for a in names if a != names[i])}))" for i in compiled.written if i < n]
    lines += [f"    {tangents[i - n]} = copy({tangents[i - n]})" for i in compiled.written if i >= n]
    lines += ["    try:",
              f"        value, tangent = impl({', '.join(names + tangents)})",
              "    except Exception as e:",
              "        noted(e, loc)",
              "        raise",
              "    if type(tangent) is not float:",
              f"        tangent = typed(fresh(tangent, ({''.join(t + ', ' for t in tangents)})), value)",
              "    return value, tangent"]
    namespace = {"slow": slow, "nd": np.ndarray, "c128": np.complex128, "impl": compiled.fn, "copy": _copy,
                 "alone": alone, "fresh": fresh, "typed": typed_like, "noted": noted, "loc": compiled.ir.loc}
    exec("\n".join(lines), namespace)
    return namespace.pop("entry")        # (no cycle through its globals)


CALLS = {"call", "call_adjoint", "pullback"}     # a callee may write into what it is passed


def written(gen: ir.Function) -> tuple:
    """The positions of the parameters of generated code that it may write into, itself
    or through a view or a call: every entry point passes copies of those, so a caller's
    arrays stay as they were (as if the function had been called on copies)."""
    flat = list(ir.walk_all(gen.body))
    into, groups = _written_names(flat), aliasing.view_groups(flat)
    return tuple(i for i, p in enumerate(gen.params) if groups.get(p, {p}) & into)


def _written_names(flat) -> set:
    """The names the statements `flat` write into (in place, through `out=`, or by passing
    them to a call)."""
    into = set()
    for s in flat:
        if isinstance(s, ir.Pop) and s.index is not None:
            into.add(s.target)
        if not isinstance(s, ir.Assign):
            continue
        if s.op in ir.WRITES and isinstance(s.args[0], ir.Var):
            into.add(s.args[0].name)
        if dict(s.params).get(ir.OUT) is not None:
            into.add(dict(s.params)[ir.OUT])
        if s.op in CALLS:
            into |= ir.uses(s)
    return into


def copies(args, positions) -> tuple:
    """`args` with the arrays (and dicts of arrays) at `positions` copied."""
    return tuple(_copy(a) if i in positions else a for i, a in enumerate(args))


def apart(args, positions) -> None:
    """Refuse arguments at `positions` (written into) that share memory with another (`alone`)."""
    for i in positions:
        if i < len(args):
            alone(args[i], f"number {i + 1}", args[:i] + args[i + 1:])


def alone(a, name: str, others: tuple):
    """A copy of the argument `name`, which the derivative writes into (so the caller's array
    stays as it was); refused when another argument is that array or a view of it, whose
    values the function's writes would change as it runs."""
    if isinstance(a, np.ndarray) and any(isinstance(o, np.ndarray) and np.may_share_memory(a, o) for o in others):
        raise ValueError(f"the function writes into its argument `{name}`, and another argument shares its "
                         "memory (the same array, or a view of it): s2sgrad would differentiate them as separate "
                         "arrays; pass a copy (`x.copy()`)")
    return _copy(a)


def _copy(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    return {k: _copy(v) for k, v in a.items()} if isinstance(a, dict) else a


def fresh(result, given: tuple):
    """A result (a tangent, a product) that is none of the arrays in `given` nor a view:
    a caller may write into it without changing what it passed."""
    if isinstance(result, tuple):
        return tuple(fresh(r, given) for r in result)
    if isinstance(result, dict):
        return {k: fresh(v, given) for k, v in result.items()}
    if type(result) is np.ndarray and (result.base is not None or not result.flags.writeable
                                       or any(result is g for g in given)):
        return result.copy()
    return result


def typed_like(tangent, value):
    """A tangent in its value's float type (a float32 value's tangent is float32, as the
    gradient of a float32 argument is: own())."""
    if isinstance(value, tuple) and isinstance(tangent, tuple):
        return tuple(typed_like(t, v) for t, v in zip(tangent, value))
    kind = getattr(value, "dtype", None)
    if kind is None or kind.kind != "f" or getattr(tangent, "dtype", kind) == kind:
        return tangent
    return np.asarray(tangent, dtype=kind) if type(value) is np.ndarray else kind.type(tangent)


def shape_key(args) -> tuple:
    """The key the entry point dispatches on, for these arguments."""
    return tuple((a.shape, a.dtype.char) if type(a) is np.ndarray else type(a) for a in args)


def _depends_on_shapes(gen) -> bool:
    """Whether knowing the arguments' shapes could simplify the generated code."""
    return any(isinstance(s, ir.Assign) and s.op == "unbroadcast" for s in ir.walk_all(gen.body))


def _specialized(table: dict, specialize, general, key):
    """The function for arguments shaped as `key` says, compiled at its first call (the
    general code's, once there are enough versions)."""
    table[key] = specialize(key) if len(table) < MAX_SPECIALIZATIONS else general.fn
    return table[key]


def abstract_values(values: dict) -> dict:
    """Name -> shapes.Shaped of the numbers `values` holds (the globals frozen into code)."""
    from ..passes.shapes import Shaped
    return {name: Shaped.of(value) for name, value in values.items()}


def abstract_arguments(params: list, key: tuple) -> dict:
    """Parameter name -> shapes.Shaped, from a shape key (unknown kinds are left out)."""
    from ..passes.shapes import Shaped
    out = {}
    for name, item in zip(params, key):
        if isinstance(item, tuple):
            out[name] = Shaped(item[0], np.dtype(item[1]))
        elif item in (float, int, bool) or (isinstance(item, type) and issubclass(item, np.generic)):
            out[name] = Shaped((), np.dtype(item))
    return out


def explain_failure(fn, compiled, one: bool, *args) -> bool:
    """The generated code raised: if the cause is a non-scalar output, say that instead.
    True where the output holds one number in an array (shape (1,) or (1, 1)): `grad`
    then takes it as a scalar (`one`), through the function's vjp. Else the error is
    noted with the generated line that raised it and the user's line (`noted`)."""
    error = sys.exc_info()[1]
    try:
        value = fn(*args)
    except Exception:  # the user's own function fails too: let the original error speak
        value = None
    if value is not None and np.ndim(value) != 0 and check_scalar(value, compiled, one):
        return True
    noted(error, compiled.ir.loc)
    return False


def noted(error: BaseException, loc) -> None:
    """Add to `error`, raised inside generated code, a note naming the generated line that
    raised it and the user's line it is the derivative of (`loc`: the user's function,
    for the code that runs the function itself)."""
    frames = []
    tb = error.__traceback__ if error is not None else None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith("<s2sgrad-"):
            frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    if not frames or any("in the generated code of" in n for n in getattr(error, "__notes__", ())):
        return
    filename, line, name = frames[-1]
    lines = linecache.getlines(filename)
    text = lines[line - 1].strip() if 0 < line <= len(lines) else "?"
    where = emit.user_line(lines, line, loc)
    origin = f"the derivative of line {where.line}" if where is not loc else "the part that runs the function itself"
    note = f"in the generated code of {name}: {text}\n  ({origin}, {where.file}:{where.line}: {where.text.strip()})"
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:                                          # (Python 3.10: kept, not printed)
        error.__notes__ = [*getattr(error, "__notes__", ()), note]


def _parameter_list(params) -> str:
    """`a, b=_s2s_default_1, *, c=_s2s_default_2`: the user's parameters with their defaults."""
    parts, star = [], False
    for i, p in enumerate(params):
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name + ("" if p.default is p.empty else f"=_s2s_default_{i}"))
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1].kind is not p.POSITIONAL_ONLY):
            parts.append("/")
    return ", ".join(parts)


def arguments(compiled, args) -> tuple:
    """Positional arguments with defaults filled in, each differentiated one checked (and
    none complex unless the derivative was built for it)."""
    if len(args) != len(compiled.signature.parameters):
        bound = compiled.signature.bind(*args)
        bound.apply_defaults()
        args = tuple(bound.arguments.values())
    for name, i in zip(compiled.wrt, compiled.positions):
        if name not in compiled.complex:
            check_float(args[i], name, compiled)
    for name, value in zip(compiled.signature.parameters, args):
        if name not in compiled.complex:
            _refuse_complex(value, compiled)
    return args


def _complex_call(variant, names, fn, *args, **kwargs):
    """Call the derivative built for the parameters now given complex numbers."""
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    given = tuple(n for n in names if _is_complex(bound.arguments[n]))
    return variant(given)(*args, **kwargs)


def _is_complex(x) -> bool:
    """Whether `x` holds complex numbers: a complex number or array, or a list, tuple, dict
    or object holding one."""
    if isinstance(x, complex) or type(x) is np.ndarray and x.dtype.kind == "c":
        return True
    if isinstance(x, (list, tuple)):
        return any(_is_complex(v) for v in x)
    if isinstance(x, dict):
        return any(_is_complex(v) for v in x.values())
    return containers.is_object(x) and any(_is_complex(v) for v in containers.attributes(x).values())


def complex_params(compiled, args) -> tuple:
    """The names of the parameters given complex numbers (arrays or numbers) in `args`."""
    names = list(compiled.signature.parameters)
    return tuple(n for n, a in zip(names, args) if _is_complex(a))


def check_float(x, name, compiled, divert: bool = False) -> bool:
    """Raise unless `x` is a float or an array of floats, or a tree of them: a list, tuple,
    dict or namedtuple whose every leaf is one, or an object (a dataclass) holding some
    (its other attributes are static: runtime/containers.py). With `divert`, True for
    complex numbers (the caller takes them to the derivative built for them)."""
    if type(x) is np.ndarray and x.dtype.kind in "fc" and (x.dtype.kind == "f" or name in compiled.complex):
        return False
    if isinstance(x, complex) and name in compiled.complex:
        return False
    if _is_complex(x):
        if divert:
            return True
        raise NotDifferentiableError(f"`{name}` holds complex numbers, which this derivative does not take yet "
                                     "(second derivatives of complex arguments are not supported yet)",
                                     compiled.ir.loc, hint="grad, value_and_grad, vjp and jvp take complex "
                                                           "arguments")
    if isinstance(x, dict):
        for key, value in x.items():
            check_float(value, f"{name}[{key!r}]", compiled)
        return False
    if isinstance(x, (list, tuple)) and x:
        joined = _sequence_arithmetic(compiled.ir, name)
        if joined is not None:
            raise sequences.refusal(joined)
        fields = getattr(x, "_fields", None)
        for i, value in enumerate(x):
            check_float(value, f"{name}.{fields[i]}" if fields else f"{name}[{i}]", compiled)
        return False
    if array_api.foreign(x):
        raise NotDifferentiableError(f"`{name}` is an array of {type(x).__module__.split('.')[0]}: this derivative "
                                     "runs on NumPy arrays only (grad, value_and_grad, vjp, jvp, hvp, hessian and "
                                     "jacobian take the arrays of any Array API library)", compiled.ir.loc,
                                     hint=f"pass np.asarray({name}), or take the gradient with s2sgrad.grad")
    if containers.is_object(x) and containers.holds_floats(x):
        return False
    dtype = np.result_type(x) if isinstance(x, (int, float, complex, np.generic, np.ndarray)) else None
    if dtype is not None and dtype.kind == "f":
        return False
    what = _described(x, dtype)
    hint = (f"pass floats (e.g. {name}=np.asarray({name}, dtype=float)), or leave `{name}` out of wrt"
            if dtype is not None and dtype.kind in "biu" else
            f"pass a float or a NumPy array of floats as `{name}`, or leave it out of wrt")
    raise NotDifferentiableError(f"cannot differentiate with respect to `{name}`: it is {what}",
                                 compiled.ir.loc, hint=hint)


_JOINED: dict = {}     # id(ir) -> (ir, {parameter: the statement joining or repeating it})


def _sequence_arithmetic(fn: ir.Function, name: str):
    """The statement of `fn` applying + or * to the parameter `name` (given a list or
    tuple), or one made from it, else None (worked out once per function and parameter)."""
    known = _JOINED.get(id(fn))
    if known is None or known[0] is not fn:
        if len(_JOINED) > 256:
            _JOINED.clear()                       # (a cache: it keeps no derivative alive for long)
        known = _JOINED[id(fn)] = (fn, {})
    if name not in known[1]:
        found = sequences.arithmetic(fn.body, given=(name,), maybe=fn.params) if name in fn.params else {}
        known[1][name] = next(iter(found.values()), None)
    return known[1][name]


def _described(x, dtype) -> str:
    """What a value is, in a few words (never the whole value: a list of layers prints long)."""
    if dtype is not None and np.ndim(x):
        return f"an array of {dtype}, shape {np.shape(x)}"
    if dtype is not None or isinstance(x, (str, bool, type(None))):
        what = f"{type(x).__name__} {x!r}"
    elif isinstance(x, (list, tuple)):
        what = f"empty {type(x).__name__}" if not x else type(x).__name__
    else:
        what = f"{type(x).__name__} object holding no floats"
    return ("an " if what[0] in "aeiou" else "a ") + what[:80]


def check_real(values, compiled) -> None:
    """Raise if a value or derivative came out complex where the build saw no complex number
    (from a list of them, say): its rules were not checked for complex numbers."""
    if not compiled.sees_complex:
        _refuse_complex(values, compiled)


def check_gradients(grads, compiled) -> None:
    """Raise if the gradient of a parameter given real numbers came out complex (complex
    numbers the build could not see: a list of them, an object's attribute)."""
    for name, g in zip(compiled.wrt, grads):
        if type(g) is np.ndarray and g.dtype.kind != "c" or type(g) is float or name in compiled.complex:
            continue
        _refuse_complex(g, compiled)


def _refuse_complex(values, compiled) -> None:
    for value in values if isinstance(values, (tuple, list)) else (values,):
        if type(value) is float or type(value) is np.ndarray and value.dtype.kind != "c":
            continue
        if isinstance(value, (tuple, list)):
            _refuse_complex(value, compiled)
        elif np.iscomplexobj(value):
            raise NotDifferentiableError("complex numbers reached this derivative, which was not built for "
                                         "them (from a list or an object holding them, or a second "
                                         "derivative)", compiled.ir.loc,
                                         hint="pass complex numbers as arrays or numbers to grad, value_and_grad, "
                                              "vjp or jvp; second derivatives of complex arguments are not "
                                              "supported yet")


def check_scalar(value, compiled, one: bool = False) -> bool:
    """Raise unless `grad`'s output is a real scalar, or (`one`) an array holding one number:
    True for such an array, whose gradient is then taken again with a cotangent of its shape
    (the code made for a scalar seeds it with 1.0, which not every rule broadcasts)."""
    check_real(value, compiled)
    if np.ndim(value) == 0:
        return False
    if one and np.size(value) == 1 and isinstance(value, np.ndarray):
        return True
    raise ShapeError(f"grad needs a function with a scalar output; this one returned an array of "
                     f"shape {np.shape(value)}", compiled.ir.loc,
                     hint="for a non-scalar output use s2sgrad.vjp(fn, *args) and call the "
                          "pullback with a cotangent of the output's shape (or reduce it, e.g. np.sum)")


_FLOAT64 = np.dtype(np.float64)


def own(grad, arg, others=()):
    """A gradient shaped like its argument, that the caller may modify: never a read-only
    view, nor the same array as an argument, the value or another gradient."""
    if type(grad) is np.ndarray and type(arg) is np.ndarray and grad.shape == arg.shape and \
            _numba_made(grad.base) and grad.dtype == arg.dtype and not any(grad is o for o in others):
        return grad                    # (not an argument Numba made either, handed back as it is)
    if type(grad) is np.ndarray and grad.dtype is not _FLOAT64 and grad.dtype.kind in "biu" \
            and not isinstance(arg, (dict, list, tuple)):
        grad = grad.astype(np.result_type(arg) if np.result_type(arg).kind == "f" else float)   # (x * len(x))
    if type(grad) is np.ndarray and type(arg) is np.ndarray and grad.dtype is not arg.dtype \
            and arg.dtype.kind == "f" and grad.dtype.kind == "f":
        grad = grad.astype(arg.dtype)             # a float32 argument's gradient is float32, as NumPy's sums
    elif isinstance(arg, np.floating) and type(arg) is not np.float64 and np.ndim(grad) == 0:
        return np.asarray(grad, dtype=arg.dtype)[()]
    if type(grad) is np.ndarray and type(arg) is np.ndarray and grad.shape == arg.shape:
        fresh = grad.base is None and grad.flags.writeable and not any(grad is o for o in others)
        return grad if fresh else grad.copy()
    if type(grad) is float and type(arg) is float:
        return grad
    if isinstance(arg, (dict, list, tuple)) or containers.is_object(arg):
        return containers.rebuild(grad, arg, lambda g, a: own(g, a, others))
    if np.shape(grad) != np.shape(arg):
        return np.broadcast_to(grad, np.shape(arg)).copy()
    return grad.copy() if isinstance(grad, np.ndarray) else grad


def _numba_made(base) -> bool:
    """Whether an array whose base is `base` holds memory Numba allocated for it alone
    (the array a compiled derivative returns, which no other array shares: it owns a
    new array's memory, with no Python object it views, and only one array refers to it)."""
    return type(base).__name__ == "_MemInfo" and base.parent is None and base.refcount == 1


def own_all(grads, args, others=()) -> tuple:
    """`own` for each gradient of a tuple, none of them sharing memory with another."""
    owned = []
    for grad, arg in zip(grads, args):
        owned.append(own(grad, arg, tuple(others) + tuple(owned)))
    return tuple(owned)
