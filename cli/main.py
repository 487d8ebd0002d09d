"""`s2sgrad show FILE.py::FUNCTION`: print the generated derivative of a function
(`--mode forward`: its Jacobian-vector product);
`s2sgrad verify FILE.py::FUNCTION --args x=2.0`: the SymPy referee's verdict on it;
`s2sgrad export FILE.py::FUNCTION -o OUT.py`: the derivative as a module needing NumPy only;
`s2sgrad rules`: list every function with a rule.

Exit codes: 0 success; 1 an error in the user's input (the message on
stderr, no traceback); 2 bad usage (argparse's own).
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import inspect
import itertools
import os
import shlex
import sys
import warnings
from pathlib import Path

import numpy as np

from s2sgrad import api, passes
from s2sgrad.backend import calls, emit
from s2sgrad.errors import S2SGradError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="s2sgrad", description="Source-to-source automatic "
                                     "differentiation: print the derivative of a Python function as code.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = commands.add_parser("show", help="print the generated gradient source of a function",
                               description="Print the generated gradient source of a function.")
    show.add_argument("target", metavar="FILE.py::FUNCTION", help="the file and the function in it")
    show.add_argument("--wrt", default=None, metavar="NAMES",
                      help="comma-separated parameter names or indices to differentiate with "
                           "respect to (default: the first parameter)")
    show.add_argument("--kind", choices=("grad", "vjp"), default="grad",
                      help="grad: returns (value, gradients); vjp: returns (value, pullback)")
    show.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                      help="reverse: the gradient (or --kind vjp); forward: the Jacobian-vector product, "
                           "returning (value, tangent)")
    show.add_argument("--order", type=int, choices=(1, 2, 3), default=1,
                      help="2: the Hessian-vector product (forward mode over the gradient; with --kind vjp, "
                           "the gradient's vjp by reverse mode over it); 3: forward mode once more")
    show.add_argument("--profile", choices=("numpy", "xp", "numba"), default="numpy",
                      help="the code printed: NumPy's; xp, the Array API's (PyTorch, JAX, Dask: the gradient "
                           "grad runs on their arrays); numba, Numba's for the shapes of --args")
    show.add_argument("--ir", action="store_true", help="print the final IR instead of Python source")
    show.add_argument("--dump-after", choices=passes.STAGES, metavar="PASS",
                      help=f"print the IR after this pass ({', '.join(passes.STAGES)}; the passes from "
                           "specialize on run for the shapes of --args)")
    show.add_argument("-O0", dest="optimized", action="store_false",
                      help="skip the optimizer (prints unoptimized code)")
    show.add_argument("--cost", action="store_true",
                      help="print what the gradient costs at --args (tape, memory, operations against the "
                           "function's, per line; values chosen where --args leaves them out) instead of its code")
    show.add_argument("--verify", action="store_true",
                      help="append the SymPy referee's verdict (at --args, or 0.5 for each parameter)")
    show.add_argument("--args", action="append", default=[], metavar="NAME=VALUE",
                      help="an argument for --verify, e.g. x=2.0 or w=randn(3,4) (repeat for each); with "
                           "--dump-after or --ir, the code is specialized to the arguments' shapes")
    check = commands.add_parser("verify", help="check a function's generated gradient against SymPy",
                                description="Run the SymPy referee on the generated gradient of a "
                                            "function at the given arguments; exit 0 when verified.")
    check.add_argument("target", metavar="FILE.py::FUNCTION", help="the file and the function in it")
    check.add_argument("--args", action="append", default=[], metavar="NAME=VALUE",
                       help="an argument, e.g. x=2.0, w=randn(3,4), v=[1.0, 2.0] (repeat for each; "
                            "parameters not given are 0.5)")
    check.add_argument("--wrt", default=None, metavar="NAMES", help="parameters to differentiate (default: all)")
    made = commands.add_parser("export", help="write a derivative as a module that runs with NumPy alone",
                               description="Write the derivative of a function as a module that needs NumPy "
                                           "only: the runtime helpers it calls copied in, the globals it reads "
                                           "imported from the function's module (or, --freeze, written in), "
                                           "a header saying where it came from.")
    made.add_argument("target", nargs="?", metavar="FILE.py::FUNCTION", help="the file and the function in it")
    made.add_argument("--wrt", default=None, metavar="NAMES",
                      help="comma-separated parameter names or indices (default: the first parameter)")
    made.add_argument("--kind", choices=api.EXPORTED, default="grad",
                      help="grad: a function returning the gradients; value_and_grad: (value, gradients); "
                           "vjp: (value, pullback); jvp: (value, tangent)")
    made.add_argument("--freeze", action="store_true",
                      help="write the numbers and arrays the derivative reads from the module as values "
                           "(else they are imported from it)")
    made.add_argument("--args", action="append", default=[], metavar="NAME=VALUE",
                      help="arguments (as show's): with --shapes, the code is specialized to their shapes; with "
                           "--verify, the referee checks the derivative there")
    made.add_argument("--shapes", action="store_true", help="export the code specialized to the shapes of --args")
    made.add_argument("--verify", action="store_true", help="put the SymPy referee's verdict at --args in the header")
    made.add_argument("-o", "--output", metavar="OUT.py", help="the file to write (default: print it)")
    made.add_argument("--check", metavar="OUT.py",
                      help="make an exported file again, as its header says, and say whether it is stale")
    listed = commands.add_parser("rules", help="list every function and operator with a rule",
                                 description="List every function, method and operator s2sgrad "
                                             "knows, and whether it has a derivative.")
    listed.add_argument("--markdown", action="store_true", help="print a Markdown table (the README's)")
    return parser


def rules_text(markdown: bool) -> str:
    """The rule table as text, or as the Markdown table the README shows."""
    from s2sgrad.rules import listing
    from s2sgrad.rules.table import OPTIONAL
    if not markdown:             # the listing shows the SciPy rules wherever SciPy is installed
        for module in OPTIONAL:
            try:
                importlib.import_module(module)
            except ImportError:
                pass
    rows = listing(foreign=not markdown)
    if markdown:                 # the README's table: the same wherever SciPy is installed or not
        counted = sum(1 for _, kind in rows if kind.startswith("derivative"))
        head = [f"{len(rows)} functions, methods and operators of NumPy and Python; {counted} with a "
                "derivative. With SciPy installed, also `scipy.special` (erf and its inverses, erfcx, ndtr, ndtri, "
                "log_ndtr, expit, log_expit, logit, logsumexp, softmax, log_softmax, gamma, rgamma, gammaln, "
                "loggamma, digamma, polygamma, multigammaln, poch, beta, betaln, gammainc, gammaincc, betainc, zeta, xlogy, "
                "xlog1py, entr, exp2, exp10, expm1, log1p, cbrt, Bessel j0 j1 y0 y1 i0 i1 i0e i1e and jv yv iv "
                "ive kv kve), `scipy.stats` (logpdf pdf cdf sf logcdf logsf of norm, t, gamma, chi2, lognorm, "
                "cauchy, logistic, laplace, expon; of uniform and beta the logpdf pdf cdf sf; "
                "multivariate_normal.logpdf; dirichlet's logpdf and pdf; poisson's and binom's logpmf and pmf), `scipy.signal` (convolve, fftconvolve, "
                "oaconvolve, correlate, N-D, every mode), `scipy.integrate` (odeint and solve_ivp, by the adjoint method) and "
                "`scipy.linalg` (expm, sqrtm, logm, solve_triangular, solve_banded, solve_sylvester, cholesky, "
                "cho_factor, cho_solve, lu_factor, lu_solve, "
                "and inv, det, pinv, solve, eigh, eigvals, svd, lstsq, norm as NumPy's): "
                "`s2sgrad rules` lists them.", "", "| function | derivative |", "|---|---|"]
        return "\n".join(head + [f"| `{name}` | {kind} |" for name, kind in rows]) + "\n"
    width = max(len(name) for name, _ in rows)
    return "".join(f"{name:<{width}}  {kind}\n" for name, kind in rows)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "rules":
        print(rules_text(args.markdown), end="")
        return 0
    try:
        if args.command == "export":
            return export(args)
        fn = load_function(args.target)
        if args.command == "verify":
            values, chosen = chosen_arguments(fn, args.args)
            if chosen:
                print(f"# arguments chosen (--args NAME=VALUE gives others): {', '.join(chosen)}")
            report = verify(fn, values, parse_wrt(args.wrt) if args.wrt else None)
            print(report)
            return 0 if report else 1
        if args.cost:
            values, chosen = chosen_arguments(fn, args.args)
            if chosen:
                print(f"# arguments chosen (--args NAME=VALUE gives others): {', '.join(chosen)}")
            print(api.cost(fn, *values, wrt=parse_wrt(args.wrt)))
            return 0
        print(show(fn, args), end="")
        if args.verify:
            report = verify(fn, arguments(fn, args.args), parse_wrt(args.wrt) if args.wrt else None)
            print("\n" + "\n".join("# " + line for line in str(report).splitlines()))
    except (S2SGradError, UserInputError) as err:
        text = f"s2sgrad: {err}" if isinstance(err, UserInputError) else str(err)
        print(coloured(text) if _colour(sys.stderr) else text, file=sys.stderr)
        return 1
    return 0


def _colour(stream) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org); none when piped."""
    return hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("NO_COLOR")


RED, BOLD, GREEN, CYAN, RESET = "\x1b[31m", "\x1b[1m", "\x1b[32m", "\x1b[36m", "\x1b[0m"


def coloured(text: str) -> str:
    """A diagnostic with `error:` red and bold, the caret line green, `help:` cyan."""
    out = []
    for line in text.splitlines():
        if ": error: " in line:
            where, message = line.split(": error: ", 1)
            line = f"{BOLD}{where}: {RED}error:{RESET}{BOLD} {message}{RESET}"
        elif line.strip() and set(line.strip()) == {"^"}:
            line = f"{GREEN}{line}{RESET}"
        elif line.startswith("help: "):
            line = f"{CYAN}help:{RESET} {line[len('help: '):]}"
        out.append(line)
    return "\n".join(out)


class UserInputError(Exception):
    """A file or function the command line cannot use."""


def export(args) -> int:
    """`s2sgrad export`: write (or print) the module; with --check, compare a file with
    the module its header's command makes now (0: up to date, 1: stale)."""
    if args.check:
        return _check_export(args.check)
    if args.target is None:
        raise UserInputError("export needs FILE.py::FUNCTION (or --check OUT.py)")
    text = _exported(args)
    if args.output:
        Path(args.output).write_text(text)
    else:
        print(text, end="")
    return 0


def _exported(args) -> str:
    """The module `s2sgrad export` makes for these options (the command is in its header)."""
    if (args.shapes or args.verify) and not args.args:
        raise UserInputError("--shapes and --verify take the arguments' values: give them with --args NAME=VALUE")
    command = f"s2sgrad export {args.target} --kind {args.kind}" + (f" --wrt {args.wrt}" if args.wrt else "") + \
        (" --freeze" if args.freeze else "") + (" --shapes" if args.shapes else "") + \
        (" --verify" if args.verify else "") + "".join(f" --args {shlex.quote(a)}" for a in args.args)
    fn = load_function(args.target)
    values = arguments(fn, args.args) if args.args else None
    verdict = None
    if args.verify:
        wrt = parse_wrt(args.wrt)
        verdict = str(verify(fn, values, wrt)).splitlines()[0].split(": ", 1)[-1]
    return api.export(fn, parse_wrt(args.wrt), args.kind, args.freeze, command,
                      shapes_of=values if args.shapes else None, verdict=verdict)


def _check_export(path: str) -> int:
    file = Path(path)
    if not file.is_file():
        raise UserInputError(f"no such file: {path}")
    made = [line[len("# made by: "):] for line in file.read_text().splitlines() if line.startswith("# made by: ")]
    if not made:
        raise UserInputError(f"{path} has no `# made by:` line: it was not written by s2sgrad export")
    text = _exported(build_parser().parse_args(shlex.split(made[0])[1:]))
    if text == file.read_text():
        print(f"{path}: up to date")
        return 0
    print(f"{path}: stale (the function, a function it calls, a rule or s2sgrad changed since); "
          f"make it again: {made[0]} -o {path}")
    return 1


def show(fn, args) -> str:
    wrt = parse_wrt(args.wrt)
    if args.order > 1 and args.mode == "forward":
        raise UserInputError("--order 2 and 3 already run forward mode over the gradient; "
                             "leave out --mode forward")
    if args.order == 3 and args.kind == "vjp":
        raise UserInputError("--kind vjp goes with --order 2 (the gradient's vjp), not --order 3")
    if args.mode == "forward" and args.kind == "vjp":
        raise UserInputError("--mode forward prints the Jacobian-vector product, --kind vjp the "
                             "vector-Jacobian product (reverse mode): give one of them")
    names, _, single = api._resolve_wrt(fn, api.frontend.parse(fn), wrt)
    kind = passes.Kind("jvp" if args.mode == "forward" else args.kind)
    if args.order == 2 and args.kind == "vjp":        # reverse over reverse
        kind = passes.Kind("vjp", of=passes.Of("grad", names, single))
    elif args.order > 1:                              # forward over reverse
        kind = passes.Kind("grad", forwards=args.order - 1)
    if args.profile != "numpy":
        return _profiled(fn, args, names, kind, single)
    if args.dump_after or args.ir or not args.optimized or args.args:      # (--args: for their shapes)
        shapes = calls.abstract_arguments(list(inspect.signature(fn).parameters),
                                          calls.shape_key(arguments(fn, args.args))) if args.args else None
        request = passes.Request(names, kind, single, shapes=shapes, optimized=args.optimized,
                                 callees=api.callee_derivative)
        result = passes.derivative(fn, request, args.dump_after or passes.STAGES[-1])
        return str(result) + "\n" if args.dump_after or args.ir else emit.module_source(result)
    return api.source(fn, wrt, kind)


def _profiled(fn, args, names, kind, single) -> str:
    """The gradient in the Array API's or Numba's profile (`show --profile`)."""
    if kind != passes.GRAD:
        raise UserInputError(f"--profile {args.profile} prints gradients: leave out --kind, --mode and --order")
    if args.profile == "numba" and not args.args:
        raise UserInputError("--profile numba prints the code for the shapes of --args: give them "
                             "(e.g. --args x=randn(3))")
    params = list(inspect.signature(fn).parameters)
    shapes = calls.abstract_arguments(params, calls.shape_key(arguments(fn, args.args))) \
        if args.profile == "numba" else None
    request = passes.Request(names, kind, single, shapes=shapes, optimized=args.optimized,
                             callees=api.callee_derivative, profile=args.profile, arrays=frozenset(params))
    result = passes.derivative(fn, request, args.dump_after or passes.STAGES[-1])
    return str(result) + "\n" if args.dump_after or args.ir else emit.module_source(result, args.profile)


def verify(fn, values: list, wrt):
    import s2sgrad
    if wrt is not None and not isinstance(wrt, tuple):
        wrt = (wrt,)
    return s2sgrad.verify(fn, *values, wrt=wrt)


def arguments(fn, given: list) -> list:
    """The values of `--args NAME=VALUE` (read by `parse_value`), 0.5 for each parameter
    not given."""
    rng = np.random.default_rng(0)
    values = {}
    for item in given:
        name, sep, text = item.partition("=")
        if not sep:
            raise UserInputError(f"expected NAME=VALUE in --args, got {item!r}")
        values[name.strip()] = parse_value(name.strip(), text, rng)
    params = list(inspect.signature(fn).parameters)
    unknown = set(values) - set(params)
    if unknown:
        raise UserInputError(f"{fn.__name__} has no parameter named {sorted(unknown)[0]!r}")
    return [values.get(p, 0.5) for p in params]


TRIED = ("0.5", "randn(3)", "randn(3, 3)", "randn(3, 2)", "randn(2, 3)")
# the values `verify` tries for a parameter --args leaves out, in turn


def chosen_arguments(fn, given: list) -> tuple[list, list]:
    """The values of --args, and for the parameters they leave out the first of TRIED (a
    number, then small arrays) for which the function runs and returns a number; with
    `NAME = VALUE` for each value chosen. A usage error names the parameters when no
    choice works."""
    params = list(inspect.signature(fn).parameters)
    named = {item.partition("=")[0].strip() for item in given}
    missing = [p for p in params if p not in named]
    if not missing:
        return arguments(fn, given), []
    error = None
    for choice in itertools.islice(itertools.product(TRIED, repeat=len(missing)), 1024):
        extra = [f"{p}={v}" for p, v in zip(missing, choice)]
        values = arguments(fn, given + extra)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = fn(*values)
            if np.ndim(out) == 0 and np.isfinite(out):
                return arguments(fn, given + extra), [f"{p} = {v}" for p, v in zip(missing, choice)]
        except Exception as e:  # (the function's own error for these values: try the next)
            error = error or e
    said = f" (with numbers: {type(error).__name__}: {error})" if error is not None else ""
    raise UserInputError(f"verify needs values for {', '.join(missing)}: none of {', '.join(TRIED)} made "
                         f"{fn.__name__} return a finite number{said}; give them with --args NAME=VALUE")


CONSTRUCTORS = {                   # the calls --args accepts, by name; their arguments are literals
    "randn": lambda rng: lambda *shape: rng.standard_normal(shape),
    "ones": lambda rng: lambda *shape: np.ones(shape),
    "zeros": lambda rng: lambda *shape: np.zeros(shape),
    "linspace": lambda rng: np.linspace,
    "array": lambda rng: np.array,
}


def parse_value(name: str, text: str, rng):
    """A value of --args, parsed and never evaluated: a literal (a number, a list, a
    tuple; `pi` may stand for a number in it), or one call of CONSTRUCTORS with literal
    arguments (`randn(3, 4)`, `ones(3)`, `linspace(0, 1, 5)`, `array([1.0, 2.0])`)."""
    try:
        node = _with_pi(ast.parse(text.strip(), mode="eval").body)
        if isinstance(node, ast.Call):
            call = node.func.id if isinstance(node.func, ast.Name) else None
            if call not in CONSTRUCTORS or node.keywords:
                raise ValueError(f"only a literal or a call of {', '.join(CONSTRUCTORS)} with literal "
                                 f"arguments is accepted")
            value = CONSTRUCTORS[call](rng)(*(ast.literal_eval(a) for a in node.args))
        else:
            value = ast.literal_eval(node)
        return np.asarray(value, dtype=float) if isinstance(value, (list, tuple)) else value
    except (SyntaxError, ValueError, TypeError, MemoryError) as err:
        raise UserInputError(f"cannot read the value of {name} ({text!r}): {err}") from None


def _with_pi(node):
    """`node` with each name `pi` made the number it stands for (other names stay, and
    ast.literal_eval refuses them)."""
    class Pi(ast.NodeTransformer):
        def visit_Name(self, name):
            return ast.copy_location(ast.Constant(np.pi), name) if name.id == "pi" else name
    return Pi().visit(node)


def parse_wrt(text):
    if text is None:
        return 0
    items = tuple(int(t) if t.strip().lstrip("-").isdigit() else t.strip() for t in text.split(","))
    return items[0] if len(items) == 1 else items


def load_function(target: str):
    path, sep, name = target.rpartition("::")
    if not sep or not path or not name:
        raise UserInputError(f"expected FILE.py::FUNCTION, got {target!r}")
    file = Path(path)
    if not file.is_file():
        raise UserInputError(f"no such file: {path}")
    spec = importlib.util.spec_from_file_location(f"s2sgrad_user_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module            # dataclasses and pickling look modules up here
    sys.path.insert(0, str(file.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as err:  # the user's module failed to import: report, do not trace
        raise UserInputError(f"importing {path} failed: {type(err).__name__}: {err}") from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise UserInputError(f"{path} has no function named {name!r}")
    return fn


if __name__ == "__main__":
    sys.exit(main())
