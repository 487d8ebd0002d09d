"""Portable: the derivative's IR made fit for any Array API library (the `xp` profile).

The `xp` profile prints each op as a call of the arguments' namespace
(`xp.exp(x)`, `xp.unbroadcast(g, x)`: runtime/array_api.py). What NumPy allows
and the standard does not is settled here, before printing, each where the IR
shows it:

- an op with no `xp` form (`np.pad`, `np.einsum`, a helper written with NumPy
  alone, a recursive call) would fail when the derivative runs, far from its
  cause: it is refused here, at the user's line that made it;
- arithmetic on booleans: `g * (x > 0)` (the rules of max, abs, relu) reads the
  mask as floats of g's dtype, `as_floats(mask, g)`, as NumPy does implicitly;
- indexes: one into an array that leaves axes out (`x[i]` of a matrix) ends in
  `...`; one holding values read from arrays or lists, or a negative step, is
  made when the code runs (`as_index`: an int for a 0-d array, PyTorch's
  negative steps, NumPy's reading of a number beside arrays); a write through a
  new axis (`dmu[None, :] = v`) squeezes the value instead;
- a module's NumPy array (`WEIGHTS`), and what a call s2sgrad runs without
  reading gives, are read as the arguments' library's arrays (`in_library`);
- NumPy's scalar types called as functions (`np.float64(x)`) are casts, and an
  op spelled as an attribute (`x.T`, `x.size`: a method of PyTorch's) is called.

    error: `np.pad` has no Array API form in s2sgrad yet, so this derivative runs on NumPy arrays only
        y = np.pad(x, 1)
            ^^^^^^^^^^^^
    help: pass NumPy arrays (np.asarray(x)), or compute this step with operations the Array API has
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import ir, rules
from ..errors import NoRuleError
from ..ir.names import Namer
from ..runtime.array_api import ONE_ARRAY, SUPPORTED
from .fold import BOOLEAN

ARITHMETIC = {"add", "sub", "mul", "div", "pow", "neg", "pos", "matmul", "iadd", "np.sum", "np.mean", "np.prod",
              "np.cumsum", "np.dot"}
# ops whose boolean arguments NumPy reads as numbers (the standard takes none there)


def run(fn: ir.Function, arrays=frozenset()) -> ir.Function:
    """`fn` ready for the `xp` profile; `arrays`: the parameters given arrays (not numbers,
    lists or tuples)."""
    defined = {s.fn.name for s in ir.walk_all(fn.body) if isinstance(s, ir.Def)}
    for stmt in ir.walk_all(fn.body):
        if isinstance(stmt, ir.Assign):
            _check(stmt, defined)
    namer = Namer.of(fn)
    booleans = {s.target for s in ir.walk_all(fn.body) if isinstance(s, ir.Assign) and s.op in BOOLEAN}
    body = _cast(fn.body, booleans, namer) if booleans else fn.body
    lists = {s.target for s in ir.walk_all(fn.body) if isinstance(s, ir.Assign) and s.op in ("list", "append")}
    body = _whole(body, _arrays(fn, arrays), namer, (set(fn.params) - set(arrays)) | lists)
    body = _converted(body, fn.free, namer)
    body = _casts(_opened(body))
    return replace(fn, body=body, temps=fn.temps | namer.made)


def _cast(stmts, booleans: set, namer: Namer) -> tuple:
    """`stmts` with each boolean argument of arithmetic read as floats."""
    def cast(stmt):
        if stmt.op not in ARITHMETIC:
            return [stmt]
        out, args = [], list(stmt.args)
        for i, a in enumerate(args):
            if isinstance(a, ir.Var) and a.name in booleans:
                like = next((b for b in args if isinstance(b, ir.Var) and b.name not in booleans), a)
                floats = namer.fresh(a.name + "_floats")
                out.append(ir.Assign(floats, "as_floats", (a, like), (), stmt.loc))
                args[i] = ir.Var(floats)
        return out + [replace(stmt, args=tuple(args))]
    return _each(stmts, cast)


def _check(stmt: ir.Assign, defined: set) -> None:
    op = rules.OPS.get(stmt.op)
    name = op.emit if op is not None else stmt.op
    if stmt.op == "call" and not (isinstance(stmt.args[0], ir.Var) and stmt.args[0].name in defined):
        raise NoRuleError("this calls a function s2sgrad could not write into the derivative (a recursive "
                          "one), whose own code is NumPy's: this derivative runs on NumPy arrays only", stmt.loc,
                          hint="pass NumPy arrays (np.asarray(x)), or write the recursion as a loop")
    if name in SUPPORTED or stmt.op in SUPPORTED:
        return                         # (a call s2sgrad runs without reading too: _opened)
    raise NoRuleError(f"`{rules.shown(name)}` has no Array API form in s2sgrad yet, so this derivative runs on "
                      "NumPy arrays only", stmt.loc,
                      hint="pass NumPy arrays (np.asarray(x)), or compute this step with operations the "
                           "Array API has")


NOT_ARRAYS = {"list", "tuple", "append", "call", "opaque", "attr", "len", "float", "int", "bool", "common_length",
              "min", "max", "np.shape", "np.size", "np.ndim", "math", "unassigned"}
# ops whose result may be something other than an array of the arguments' library


def _arrays(fn: ir.Function, params) -> set:
    """The names that surely hold arrays wherever they are read: the parameters `params`,
    and the names every assignment of which gives an array (an op of NumPy's or of
    s2sgrad's, arithmetic or an item of an array)."""
    assigns = [s for s in ir.walk_all(fn.body) if isinstance(s, ir.Assign) and s.args != (ir.Const(None),)]
    # (a pop gives a name back a value it had, a placeholder None is never read: neither says anything)
    sure = set(params) | {s.target for s in assigns}
    sure -= set(fn.params) - set(params)
    while True:
        wrong = {s.target for s in assigns if s.target in sure and not _gives_array(s, sure)}
        if not wrong:
            return sure
        sure -= wrong


def _gives_array(stmt, sure: set) -> bool:
    if stmt.op in NOT_ARRAYS or stmt.op.startswith("math."):
        return False
    reads = [a for a in stmt.args if isinstance(a, (ir.Var, ir.Const))]
    if stmt.op in ("getitem", "id", "setitem", "iadd") or stmt.op in ARITHMETIC or stmt.op in BOOLEAN:
        return bool(reads) and isinstance(reads[0], ir.Var) and reads[0].name in sure or \
            (stmt.op in ARITHMETIC or stmt.op in BOOLEAN) and any(isinstance(a, ir.Var) and a.name in sure
                                                                  for a in reads)
    op = rules.OPS.get(stmt.op)
    if op is None or op.outputs:              # (a tuple: np.linalg.slogdet's)
        return False
    return stmt.op in ONE_ARRAY if op.kind == "helper" else stmt.op.startswith("np.")


def _whole(stmts, sure: set, namer: Namer, maybe: set) -> tuple:
    """`stmts` with every index into an array that leaves axes out ending in `...` (the
    standard takes `x[i]` of a matrix only as `x[i, ...]`)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Def):
            stmt = ir.Def(replace(stmt.fn, body=_whole(stmt.fn.body, sure, namer, maybe)), stmt.loc)
        elif isinstance(stmt, ir.NESTED):
            stmt = ir.with_bodies(stmt, lambda body: _whole(body, sure, namer, maybe))
        elif isinstance(stmt, ir.Assign) and stmt.op in ("getitem", "setitem") and _is(stmt.args[0], sure):
            index, made = _indices(stmt.args[1], sure, namer, stmt.loc, stmt.args[0], maybe)
            stmt = replace(stmt, args=(stmt.args[0], index, *stmt.args[2:]))
            if made:                  # (the key is whole already)
                out += [*made, stmt]
                continue
            if stmt.op == "setitem":
                out += _stored(stmt, namer)
                continue
            stmt = replace(stmt, args=(stmt.args[0], _ended(stmt.args[1])))
        elif isinstance(stmt, ir.Assign) and stmt.op != "attr" and ir.ATTRIBUTE in dict(stmt.params):
            # x.T (of a vector too), x.size (a method of PyTorch's tensors): the namespace's functions
            stmt = replace(stmt, params=tuple((k, v) for k, v in stmt.params if k != ir.ATTRIBUTE))
        elif isinstance(stmt, ir.Push) and stmt.index is not None and _is(stmt.value, sure):
            stmt = replace(stmt, index=_ended(stmt.index))
        elif isinstance(stmt, ir.Pop) and stmt.index is not None and stmt.target in sure:
            stmt = replace(stmt, index=_ended(stmt.index))
        out.append(stmt)
    return tuple(out)


def _indices(index, sure: set, namer: Namer, loc, array, maybe: set):
    """`index` into `array`, when an item of it is read from an array (`x[labels[k]]`,
    `x[rows, cols]`), may be a list (`maybe`: a parameter given no array, a list made
    here), or is a slice with a negative step, made one the standard (and PyTorch) takes
    when the code runs (`as_index`), with the statement that makes it; else `index` and
    none."""
    if not isinstance(index, ir.Index) or not any(_is(i, sure | maybe) or _stepped_back(i) or
                                                  isinstance(i, ir.Const) and isinstance(i.value, tuple)
                                                  for i in index.items):
        return index, []
    key = namer.fresh("key")
    return ir.Index((ir.Var(key),)), [ir.Assign(key, "as_index", (index, array), (), loc)]


def _stepped_back(item) -> bool:
    return isinstance(item, ir.Slice) and isinstance(item.step, ir.Const) and isinstance(item.step.value, int) \
        and item.step.value < 0


def _stored(stmt: ir.Assign, namer: Namer) -> list:
    """A write `x[index] = v` into an array, with a whole index: the standard writes through
    no new axis (`dmu[None, :] = v` is `dmu[:, ...] = v` with v's axis 0 squeezed)."""
    array, index, value = stmt.args
    if not isinstance(index, ir.Index) or None not in index.items:
        return [replace(stmt, args=(array, _ended(index), value))]
    items = list(index.items)
    cut = items.index(Ellipsis) if Ellipsis in items else len(items)
    axes, at = [], 0
    for item in items[:cut]:                  # (an axis of the value: a new one, or a slice's)
        if item is None:
            axes.append(at)
        if item is None or isinstance(item, ir.Slice):
            at += 1
    at = 0
    for item in reversed(items[cut + 1:]):    # (after `...`: counted from the end)
        if item is None or isinstance(item, ir.Slice):
            at -= 1
        if item is None:
            axes.append(at)
    kept = ir.Index(tuple(i for i in index.items if i is not None))
    if not isinstance(value, ir.Var):
        return [replace(stmt, args=(array, _ended(kept), value))]
    squeezed = namer.fresh(value.name + "_squeezed")
    return [ir.Assign(squeezed, "np.squeeze", (value,), (("axis", tuple(axes)),), stmt.loc),
            replace(stmt, args=(array, _ended(kept), ir.Var(squeezed)))]


def _is(atom, names: set) -> bool:
    return isinstance(atom, ir.Var) and atom.name in names


def _ended(index):
    if not isinstance(index, ir.Index) or Ellipsis in index.items:
        return index
    return ir.Index((*index.items, Ellipsis))


def _converted(body, free, namer: Namer) -> tuple:
    """`body` reading each name of its module (a NumPy array there: WEIGHTS) as an array
    of the arguments' library, converted once a call (`in_library`)."""
    read = {n for s in ir.walk_all(body) for n in ir.uses(s)} & set(free)
    if not read:
        return body
    mapping = {name: namer.fresh(name + "_xp") for name in sorted(read)}
    opening = tuple(ir.Assign(mapping[name], "in_library", (ir.Var(name),)) for name in sorted(read))
    return opening + ir.rename_stmts(body, mapping)


def _each(stmts, change) -> tuple:
    """`stmts` (and those nested in them) with each assignment replaced by the statements
    `change(assignment)` gives."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Def):
            out.append(ir.Def(replace(stmt.fn, body=_each(stmt.fn.body, change)), stmt.loc))
        elif isinstance(stmt, ir.NESTED):
            out.append(ir.with_bodies(stmt, lambda body: _each(body, change)))
        else:
            out += change(stmt) if isinstance(stmt, ir.Assign) else [stmt]
    return tuple(out)


def _opened(stmts) -> tuple:
    """`stmts` with what each call s2sgrad runs without reading gives (a random draw, a
    library's function: NumPy's arrays) read in the arguments' library (`in_library`)."""
    def opened(stmt):
        if stmt.op != "opaque" or "statement" in dict(stmt.params):
            return [stmt]
        return [stmt, ir.Assign(stmt.target, "in_library", (ir.Var(stmt.target),), (), stmt.loc)]
    return _each(stmts, opened)


def _casts(stmts) -> tuple:
    """`stmts` with NumPy's scalar types called as functions (`np.float64(x)`) written as the
    casts they are (`asarray(x, dtype=float64)`): the standard's dtypes are not functions."""
    def cast(stmt):
        if _scalar_type(stmt.op) is None or len(stmt.args) != 1:
            return [stmt]
        return [ir.Assign(stmt.target, "np.asarray", stmt.args, (("dtype", _scalar_type(stmt.op)),), stmt.loc)]
    return _each(stmts, cast)


def _scalar_type(op: str):
    obj = getattr(rules.OPS.get(op), "obj", None)
    return obj if isinstance(obj, type) and issubclass(obj, np.generic) else None
