"""`s2sgrad show FILE.py::FUNCTION`: print the generated derivative of a function;
`s2sgrad rules`: list every function with a rule.

Exit codes: 0 success; 1 an error in the user's input (the message on
stderr, no traceback); 2 bad usage (argparse's own).
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from s2sgrad import api, emit, passes
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
    show.add_argument("--ir", action="store_true", help="print the final IR instead of Python source")
    show.add_argument("--dump-after", choices=passes.STAGES, metavar="PASS",
                      help=f"print the IR after this pass ({', '.join(passes.STAGES)})")
    show.add_argument("-O0", dest="optimized", action="store_false",
                      help="skip the optimizer (prints unoptimized code)")
    listed = commands.add_parser("rules", help="list every function and operator with a rule",
                                 description="List every function, method and operator s2sgrad "
                                             "knows, and whether it has a derivative.")
    listed.add_argument("--markdown", action="store_true", help="print a Markdown table (the README's)")
    return parser


def rules_text(markdown: bool) -> str:
    """The rule table as text, or as the Markdown table the README shows."""
    from s2sgrad.rules import listing
    rows = listing(foreign=not markdown)
    if markdown:                 # the README's table: the same wherever SciPy is installed or not
        counted = sum(1 for _, kind in rows if kind != "no derivative")
        head = [f"{len(rows)} functions, methods and operators of NumPy and Python; {counted} with a "
                "derivative (with SciPy installed, also `scipy.special` erf, erfc, expit, logit, gammaln, "
                "digamma, xlogy).", "", "| function | derivative |", "|---|---|"]
        return "\n".join(head + [f"| `{name}` | {kind} |" for name, kind in rows]) + "\n"
    width = max(len(name) for name, _ in rows)
    return "".join(f"{name:<{width}}  {kind}\n" for name, kind in rows)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "rules":
        print(rules_text(args.markdown), end="")
        return 0
    try:
        fn = load_function(args.target)
        print(show(fn, args), end="")
    except (S2SGradError, UserInputError) as err:
        print(f"s2sgrad: {err}" if isinstance(err, UserInputError) else str(err), file=sys.stderr)
        return 1
    return 0


class UserInputError(Exception):
    """A file or function the command line cannot use."""


def show(fn, args) -> str:
    wrt = parse_wrt(args.wrt)
    if args.dump_after or args.ir or not args.optimized:
        names, _, single = api._resolve_wrt(fn, api.frontend.parse(fn), wrt)
        stop = args.dump_after or passes.STAGES[-1]
        result = passes.derivative(fn, names, args.kind, single, stop, args.optimized)
        return str(result) + "\n" if args.dump_after or args.ir else emit.module_source(result)
    return api.source(fn, wrt, args.kind)


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
