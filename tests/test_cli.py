"""The command line: `s2sgrad show FILE.py::FUNCTION [options]`.

Exit codes: 0 success; 1 an error in the user's input (message on stderr, no
traceback); 2 bad usage.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from s2sgrad_cli.main import main

MODEL = '''\
import numpy as np


def f(x, y, w):
    """A small model."""
    z = np.sin(x) * y + w ** 2
    return np.sum(z)


def g(m):
    n = np.zeros(2)
    n[0] = m[0] ** 2
    n[1] = m[1] ** 3
    return np.sum(n)


def looped(x):
    y = x
    del x
    y = y * 2.0
    return y


sin = np.sin
NOT_A_FUNCTION = 3
'''

STAGES = ("lower", "normalize", "reverse", "optimize", "inplace")
X, Y, W = np.array([0.3, -1.2]), np.array([2.0, 0.5]), np.array([1.5, -0.7])


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return path


def run(capsys, *argv):
    """main(argv) in process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def load(source, name):
    """Execute printed source; return the function `name` it defines."""
    compile(source, "<printed>", "exec")           # valid Python
    namespace = {}
    exec(source, namespace)
    return namespace[name]


def assert_user_error(code, out, err):
    assert code == 1
    assert out == ""
    assert err.strip() and err.endswith("\n")
    assert "Traceback" not in err


# -- show, successful -------------------------------------------------------------

def test_show_prints_the_gradient_source(capsys, model):
    code, out, err = run(capsys, "show", f"{model}::f")
    assert code == 0 and err == ""
    compile(out, "<printed>", "exec")
    assert "def grad_f(x, y, w):" in out
    assert "with respect to x:" in out
    assert "dx = " in out and "np.cos(x)" in out
    assert "dw" not in out and "dy" not in out
    assert "# adjoint of line 6: z = np.sin(x) * y + w ** 2" in out
    assert "# adjoint of line 7: return np.sum(z)" in out
    value, dx = load(out, "grad_f")(X, Y, W)
    assert np.isclose(value, np.sum(np.sin(X) * Y + W ** 2))
    assert np.allclose(dx, np.cos(X) * Y)


@pytest.mark.parametrize("wrt", ["x,w", "0,2", "x, w", "0,w"])
def test_show_wrt_selects_parameters(capsys, model, wrt):
    code, out, _ = run(capsys, "show", f"{model}::f", "--wrt", wrt)
    assert code == 0
    docstring = [line for line in out.splitlines() if "Gradient of f" in line]
    assert len(docstring) == 1
    assert "with respect to x, w:" in docstring[0]
    assert "dx, dw" in docstring[0]
    assert "dw = " in out and "dy = " not in out
    value, (dx, dw) = load(out, "grad_f")(X, Y, W)
    assert np.allclose(dx, np.cos(X) * Y)
    assert np.allclose(dw, 2 * W)


def test_show_wrt_single_name(capsys, model):
    code, out, _ = run(capsys, "show", f"{model}::f", "--wrt", "y")
    assert code == 0
    assert "with respect to y:" in out
    assert np.allclose(load(out, "grad_f")(X, Y, W)[1], np.sin(X))


def test_show_kind_vjp(capsys, model):
    code, out, _ = run(capsys, "show", f"{model}::f", "--kind", "vjp")
    assert code == 0
    compile(out, "<printed>", "exec")
    assert "def vjp_f(x, y, w):" in out
    assert "def pullback(" in out
    assert "return (np.sum(z), pullback)" in out
    value, pullback = load(out, "vjp_f")(X, Y, W)
    (dx,) = pullback(2.0)
    assert np.allclose(dx, 2.0 * np.cos(X) * Y)


def test_show_ir(capsys, model):
    code, out, _ = run(capsys, "show", f"{model}::f", "--ir")
    assert code == 0
    assert out.startswith("def grad_f(x, y, w):")
    assert re.search(r"^    \w+ = add\(", out, re.M), out
    assert re.search(r"^    \w+ = mul\(", out, re.M), out
    assert "np.sin(x)" in out
    code_lines = [line for line in out.splitlines() if not line.strip().startswith("#")]
    assert not [line for line in code_lines if " + " in line or " * " in line], out  # IR ops
    default = run(capsys, "show", f"{model}::f")[1]
    assert out != default


def test_dump_after_each_stage(capsys, model):
    dumps = {}
    for stage in STAGES:
        code, out, err = run(capsys, "show", f"{model}::g", "--dump-after", stage)
        assert code == 0 and err == "", (stage, err)
        dumps[stage] = out
    # before the reverse pass: the user's function, no adjoints
    assert dumps["lower"].startswith("def g(m):")
    assert dumps["normalize"].startswith("def g(m):")
    for stage in ("lower", "normalize"):
        assert "dm" not in dumps[stage] and "adjoint" not in dumps[stage]
    # lower keeps the user's names; normalize gives each assignment its own name
    assert "n = setitem(n, [0], power)" in dumps["lower"]
    assert "n_2 = setitem(n, [0], power)" not in dumps["lower"]
    assert "n_2 = setitem(n, [0], power)" in dumps["normalize"]
    assert "n_3 = setitem(n_2, [1], power_2)" in dumps["normalize"]
    # reverse adds the adjoints
    for stage in ("reverse", "optimize", "inplace"):
        assert dumps[stage].startswith("def grad_g(m):")
        assert re.search(r"^    dm = ", dumps[stage], re.M)
        assert "# adjoint of line 13: n[1] = m[1] ** 3" in dumps[stage]
    # optimize folds constants such as `3 - 1` that reverse leaves behind
    assert "sub(3, 1)" in dumps["reverse"]
    assert "sub(3, 1)" not in dumps["optimize"]
    assert len(dumps["optimize"].splitlines()) < len(dumps["reverse"].splitlines())
    # inplace writes into `n` again instead of renamed copies
    renamed = re.compile(r"^    n_2 = setitem\(", re.M)
    assert renamed.search(dumps["optimize"])
    assert not renamed.search(dumps["inplace"])
    assert "n = setitem(n, [1], power_2)" in dumps["inplace"]
    assert len(set(dumps.values())) == len(STAGES)


def test_dump_after_a_specialized_pass_needs_the_arguments(capsys, model):
    """--args gives the shapes the specialized passes run for: every unbroadcast between
    equal shapes goes; without them the pipeline has no specialized stage to show."""
    general = run(capsys, "show", f"{model}::f", "--wrt", "x,y,w", "--dump-after", "specialize")
    shaped = run(capsys, "show", f"{model}::f", "--wrt", "x,y,w", "--dump-after", "specialize",
                 "--args", "x=randn(2)", "--args", "y=randn(2)", "--args", "w=randn(2)")
    assert general[0] == shaped[0] == 0
    assert "unbroadcast(" in general[1] and "unbroadcast(" not in shaped[1]
    assert general[1] == run(capsys, "show", f"{model}::f", "--wrt", "x,y,w", "--dump-after", "optimize")[1]


def test_dump_after_the_last_pass_is_the_final_ir(capsys, model):
    final = run(capsys, "show", f"{model}::g", "--ir")[1]
    assert final == run(capsys, "show", f"{model}::g", "--dump-after", "accumulate")[1]


def test_O0_prints_unoptimized_code(capsys, model):
    for name, args, expected in [
        ("f", (X, Y, W), np.cos(X) * Y),
        ("g", (np.array([1.5, -2.0]),), np.array([3.0, 12.0])),
    ]:
        code, optimized, _ = run(capsys, "show", f"{model}::{name}")
        assert code == 0
        code, unoptimized, err = run(capsys, "show", f"{model}::{name}", "-O0")
        assert code == 0 and err == ""
        assert unoptimized != optimized
        assert f"def grad_{name}(" in unoptimized
        for text in (optimized, unoptimized):
            value, grad = load(text, f"grad_{name}")(*args)
            assert np.allclose(grad, expected), (name, text)
    # g's `m[1] ** 3` keeps its unfolded exponent without the optimizer
    assert "3 - 1" in unoptimized
    assert "3 - 1" not in optimized


def test_O0_with_ir(capsys, model):
    code, out, _ = run(capsys, "show", f"{model}::g", "-O0", "--ir")
    assert code == 0
    assert "sub(3, 1)" in out
    assert out != run(capsys, "show", f"{model}::g", "--ir")[1]


def test_file_importing_a_sibling_module(capsys, tmp_path):
    (tmp_path / "consts_for_cli.py").write_text("SCALE = 3.0\n")
    (tmp_path / "uses_sibling.py").write_text(textwrap.dedent("""\
        import numpy as np
        from consts_for_cli import SCALE


        def f(x):
            return np.sum(SCALE * x)
        """))
    code, out, err = run(capsys, "show", f"{tmp_path / 'uses_sibling.py'}::f")
    assert code == 0, err
    assert "def grad_f(x):" in out
    assert "SCALE" in out
    assert tmp_path.as_posix() not in sys.path


def test_file_defining_a_dataclass(capsys, tmp_path):
    """A user's module is an ordinary module: decorators that look the module
    up in sys.modules (dataclasses, typing) must work while loading it."""
    path = tmp_path / "with_dataclass.py"
    path.write_text(textwrap.dedent("""\
        from __future__ import annotations

        from dataclasses import dataclass

        import numpy as np


        @dataclass
        class Config:
            scale: float = 2.0


        def f(x):
            return np.sum(x * x)
        """))
    code, out, err = run(capsys, "show", f"{path}::f")
    assert code == 0, err
    assert "def grad_f(x):" in out


# -- help and usage ------------------------------------------------------------------

def test_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: s2sgrad" in out
    assert "show" in out


def test_show_help_mentions_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["show", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("FILE.py::FUNCTION", "--wrt", "--kind", "grad", "vjp", "--ir", "--dump-after",
                   "-O0", "-h, --help"):
        assert option in out, option
    for stage in STAGES:
        assert stage in out, stage


@pytest.mark.parametrize("argv", [
    [],
    ["show"],
    ["frobnicate"],
    ["show", "model.py::f", "--no-such-option"],
    ["show", "model.py::f", "--dump-after", "parse"],
    ["show", "model.py::f", "--kind", "hessian"],
    ["show", "model.py::f", "--wrt"],
], ids=["no-arguments", "show-without-target", "unknown-command", "unknown-option",
        "bad-dump-after", "bad-kind", "wrt-without-value"])
def test_bad_usage_exits_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage: s2sgrad" in captured.err
    assert "error:" in captured.err


def test_bad_dump_after_names_the_valid_passes(capsys):
    with pytest.raises(SystemExit):
        main(["show", "model.py::f", "--dump-after", "parse"])
    err = capsys.readouterr().err
    assert "parse" in err
    for stage in STAGES:
        assert stage in err


# -- user errors: exit 1, a message, no traceback ------------------------------------

def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.py"
    code, out, err = run(capsys, "show", f"{missing}::f")
    assert_user_error(code, out, err)
    assert "no such file" in err and str(missing) in err


def test_missing_separator(capsys, model):
    code, out, err = run(capsys, "show", str(model))
    assert_user_error(code, out, err)
    assert "FILE.py::FUNCTION" in err and str(model) in err


@pytest.mark.parametrize("which", ["no-function", "no-file"])
def test_empty_file_or_function_name(capsys, model, which):
    target = f"{model}::" if which == "no-function" else "::f"
    code, out, err = run(capsys, "show", target)
    assert_user_error(code, out, err)
    assert "FILE.py::FUNCTION" in err


def test_function_not_in_file(capsys, model):
    code, out, err = run(capsys, "show", f"{model}::h")
    assert_user_error(code, out, err)
    assert "'h'" in err and str(model) in err


def test_name_that_is_not_a_function(capsys, model):
    code, out, err = run(capsys, "show", f"{model}::NOT_A_FUNCTION")
    assert_user_error(code, out, err)
    assert "NOT_A_FUNCTION" in err


def test_numpy_function_instead_of_a_python_function(capsys, model):
    code, out, err = run(capsys, "show", f"{model}::sin")
    assert_user_error(code, out, err)
    assert "not a Python function" in err
    assert "help: " in err


def test_file_raising_on_import(capsys, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\nraise RuntimeError('the config is missing')\n\n"
                    "def f(x):\n    return x\n")
    code, out, err = run(capsys, "show", f"{path}::f")
    assert_user_error(code, out, err)
    assert "RuntimeError" in err and "the config is missing" in err
    assert str(path) in err


def test_file_exiting_on_import(capsys, tmp_path):
    """A script without a `__main__` guard that calls sys.exit() while being
    imported is a user error like any other: exit 1 with a message."""
    path = tmp_path / "script.py"
    path.write_text("import sys\n\n\ndef f(x):\n    return x * 2.0\n\n\nsys.exit(3)\n")
    try:
        code, out, err = run(capsys, "show", f"{path}::f")
    except SystemExit as exc:  # the user's exit leaked out of main()
        pytest.fail(f"main() let the user's SystemExit({exc.code}) escape")
    assert_user_error(code, out, err)
    assert "SystemExit" in err and str(path) in err


def test_file_with_syntax_error(capsys, tmp_path):
    path = tmp_path / "typo.py"
    path.write_text("def f(x):\n    return x +\n")
    code, out, err = run(capsys, "show", f"{path}::f")
    assert_user_error(code, out, err)
    assert "SyntaxError" in err
    assert "line 2" in err


def test_unsupported_construct_is_located(capsys, model):
    code, out, err = run(capsys, "show", f"{model}::looped")
    assert_user_error(code, out, err)
    lines = err.splitlines()
    assert lines[0] == f"{model}:19:5: error: `del` is not supported"
    assert lines[1] == '        del x'
    assert lines[2].startswith("        ^")
    assert set(lines[2].strip()) == {"^"}
    assert lines[3].startswith("help: ")


@pytest.mark.parametrize("flag", ["--ir", "-O0", "--dump-after=lower"])
def test_unsupported_construct_with_other_flags(capsys, model, flag):
    code, out, err = run(capsys, "show", f"{model}::looped", flag)
    assert_user_error(code, out, err)
    assert f"{model}:19:5: error: `del`" in err


@pytest.mark.parametrize("wrt", ["z", "7", "x,x"])
def test_bad_wrt(capsys, model, wrt):
    code, out, err = run(capsys, "show", f"{model}::f", "--wrt", wrt)
    assert_user_error(code, out, err)
    assert "wrt=" in err
    help_lines = [line for line in err.splitlines() if line.startswith("help: ")]
    assert help_lines and "x, y, w" in help_lines[0], err   # the parameters are listed


def test_bad_wrt_with_ir(capsys, model):
    code, out, err = run(capsys, "show", f"{model}::f", "--wrt", "z", "--ir")
    assert_user_error(code, out, err)
    assert "help: " in err and "x, y, w" in err.split("help: ", 1)[1]


# -- as a program: python -m s2sgrad, and the console script ------------------------

def _clean_env():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def test_python_dash_m(model, tmp_path):
    done = subprocess.run([sys.executable, "-m", "s2sgrad", "show", f"{model}::f", "--wrt", "x,w"],
                          capture_output=True, text=True, cwd=tmp_path, env=_clean_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    compile(done.stdout, "<printed>", "exec")
    assert "def grad_f(x, y, w):" in done.stdout
    assert "with respect to x, w:" in done.stdout

    failed = subprocess.run([sys.executable, "-m", "s2sgrad", "show", f"{model}::looped"],
                            capture_output=True, text=True, cwd=tmp_path, env=_clean_env(),
                            timeout=120)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert f"{model}:19:5: error:" in failed.stderr
    assert "^" in failed.stderr
    assert "Traceback" not in failed.stderr

    usage = subprocess.run([sys.executable, "-m", "s2sgrad"], capture_output=True, text=True,
                           cwd=tmp_path, env=_clean_env(), timeout=120)
    assert usage.returncode == 2
    assert "usage: s2sgrad" in usage.stderr


def test_console_script(model, tmp_path):
    script = shutil.which("s2sgrad")
    assert script is not None, "the s2sgrad console script is not installed"
    done = subprocess.run([script, "show", f"{model}::f", "--kind", "vjp"], capture_output=True,
                          text=True, cwd=tmp_path, env=_clean_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    compile(done.stdout, "<printed>", "exec")
    assert "def pullback(" in done.stdout

    missing = subprocess.run([script, "show", f"{tmp_path / 'nope.py'}::f"], capture_output=True,
                             text=True, cwd=tmp_path, env=_clean_env(), timeout=120)
    assert missing.returncode == 1
    assert "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr

    helped = subprocess.run([script, "show", "--help"], capture_output=True, text=True,
                            cwd=tmp_path, env=_clean_env(), timeout=120)
    assert helped.returncode == 0
    assert "--dump-after" in helped.stdout


def test_the_readme_lists_the_rule_table_as_s2sgrad_rules_prints_it(capsys):
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("<!-- rules: generated")
    shown = readme[readme.index("\n", start) + 1:readme.index("<!-- rules: end -->")]
    code, out, _ = run(capsys, "rules", "--markdown")
    assert code == 0 and shown == out


def test_rules_lists_every_function_with_its_kind(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    assert "np.linalg.slogdet" in out and "np.zeros" in out and "x.sum()" in out
    for line in out.splitlines():
        name, kind = line.split("  ", 1)[0].strip(), line.split("  ", 1)[1].strip()
        if name in ("np.sin", "np.linalg.det"):
            assert kind.startswith("derivative"), line
        if name in ("np.zeros", "np.argmax"):
            assert kind == "no derivative", line


def test_rules_lists_the_scipy_rules_by_their_public_names(capsys):
    code, out, _ = run(capsys, "rules")
    names = {line.split()[0] for line in out.splitlines()}
    assert {"scipy.special.softmax", "scipy.special.logsumexp", "scipy.stats.norm.logpdf",
            "scipy.stats.multivariate_normal.logpdf", "scipy.linalg.expm", "scipy.linalg.solve_triangular"} <= names
    assert not [n for n in names if "._" in n]


def test_verify_prints_the_verdict_and_exits_0_when_verified(capsys, tmp_path):
    model = tmp_path / "model.py"
    model.write_text("import numpy as np\n\ndef f(x, w):\n    return np.sum(np.tanh(x * w))\n\n"
                     "def g(x):\n    return np.sum((x % 0.25) * x)\n")
    code, out, _ = run(capsys, "verify", f"{model}::f", "--args", "x=[0.3, -0.2]", "--args", "w=randn(2)")
    assert code == 0 and "verified" in out and "dx: verified" in out and "dw: verified" in out
    code, out, _ = run(capsys, "verify", f"{model}::g", "--args", "x=[0.3, 0.9]")
    assert code == 1 and "not a proof" in out
    code, out, _ = run(capsys, "show", f"{model}::f", "--verify", "--args", "x=[0.3, -0.2]", "--args", "w=[1.0, 2.0]")
    assert code == 0 and "# SymPy referee, gradient of f: verified" in out and "def grad_f" in out


def test_show_mode_forward_prints_the_jvp(capsys, model):
    code, out, _ = run(capsys, "show", f"{model}::f", "--mode", "forward")
    assert code == 0 and "def jvp_f(x, y, w, x_dot):" in out
    tangent = np.ones_like(X)
    value, along = load(out, "jvp_f")(X, Y, W, tangent)
    reference = load(run(capsys, "show", f"{model}::f")[1], "grad_f")(X, Y, W)
    assert value == reference[0]
    assert np.isclose(along, np.sum(reference[1] * tangent))


def test_show_order_2_prints_the_hessian_vector_product(capsys, model):
    code, out, _ = run(capsys, "show", f"{model}::f", "--order", "2")
    assert code == 0 and "def jvp_grad_f(x, y, w, x_dot):" in out
    (_, grad_), (_, along) = load(out, "jvp_grad_f")(X, Y, W, np.ones_like(X))
    np.testing.assert_allclose(grad_, load(run(capsys, "show", f"{model}::f")[1], "grad_f")(X, Y, W)[1])
    assert np.shape(along) == np.shape(X)


def test_show_order_2_of_a_vjp_prints_reverse_over_reverse(capsys, model):
    code, out, _ = run(capsys, "show", f"{model}::f", "--order", "2", "--kind", "vjp")
    assert code == 0 and "def vjp_grad_f(x, y, w):" in out and "def pullback(ddx):" in out
    v = np.linspace(-1.0, 1.0, np.size(X)).reshape(np.shape(X))
    grad_, pullback = load(out, "vjp_grad_f")(X, Y, W)
    (pulled,) = pullback(v)
    (_, hvp_) = load(run(capsys, "show", f"{model}::f", "--order", "2")[1], "jvp_grad_f")(X, Y, W, v)[1]
    np.testing.assert_allclose(pulled, hvp_, rtol=1e-10)


@pytest.mark.parametrize("flags, message", [
    (["--order", "2", "--mode", "forward"], "leave out --mode forward"),
    (["--order", "3", "--kind", "vjp"], "--kind vjp goes with --order 2")])
def test_show_refuses_orders_with_modes_they_cannot_take(capsys, model, flags, message):
    code, out, err = run(capsys, "show", f"{model}::f", *flags)
    assert code == 1 and out == "" and message in err


def test_show_prints_the_array_api_and_numba_profiles(capsys):
    root = pathlib.Path(__file__).resolve().parents[1]
    code, out, _ = run(capsys, "show", f"{root}/examples/seed.py::mean_residual", "--profile", "xp")
    assert code == 0 and "    xp = namespace(x, y, w)\n" in out and "xp.matmul_dleft(" in out
    code, out, _ = run(capsys, "show", f"{root}/bench/workloads.py::scalar_loop", "--wrt", "x", "--profile", "numba",
                       "--args", "x=0.5", "--args", "n=100")
    assert code == 0 and "for i in range(n - 1, -1, -1):" in out and "tape_x = np.empty(turns, dtype=np.float64)" in out
    code, _, err = run(capsys, "show", f"{root}/bench/workloads.py::scalar_loop", "--profile", "numba")
    assert code != 0 and "--profile numba prints the code for the shapes of --args" in err


MATRIX_MODEL = """
import numpy as np


def layer_loss(x, w):
    return np.sum(np.tanh(x @ w))


def scaled(x, table):
    return x * table["a"]
"""


def test_verify_chooses_arguments_the_function_takes_or_says_which_it_needs(capsys, tmp_path):
    path = tmp_path / "layer.py"
    path.write_text(MATRIX_MODEL)
    code, out, err = run(capsys, "verify", f"{path}::layer_loss")
    assert code == 0 and err == ""
    assert out.startswith("# arguments chosen (--args NAME=VALUE gives others): x = randn(3), w = randn(3)\n")
    assert "gradient of layer_loss: verified" in out
    code, out, _ = run(capsys, "verify", f"{path}::layer_loss", "--args", "x=randn(2, 3)")
    assert code == 0 and "w = randn(3)" in out.splitlines()[0] and "x =" not in out.splitlines()[0]
    code, out, err = run(capsys, "verify", f"{path}::scaled")
    assert code == 1 and out == "" and "verify needs values for x, table" in err and "--args NAME=VALUE" in err


def test_show_with_args_prints_the_code_for_their_shapes(capsys, tmp_path):
    path = tmp_path / "layer.py"
    path.write_text(MATRIX_MODEL)
    general = run(capsys, "show", f"{path}::layer_loss")[1]
    code, shaped, _ = run(capsys, "show", f"{path}::layer_loss", "--args", "x=randn(3)", "--args", "w=randn(3, 2)")
    assert code == 0 and "unsum(" in general and "unsum(" not in shaped and "def grad_layer_loss(x, w):" in shaped
    ns = {}
    exec(shaped, ns)
    x, w = np.array([0.1, -0.3, 0.5]), np.linspace(-1, 1, 6).reshape(3, 2)
    np.testing.assert_allclose(ns["grad_layer_loss"](x, w)[1], (1 - np.tanh(x @ w) ** 2) @ w.T, rtol=1e-14)


def test_forward_mode_and_a_vjp_together_are_a_usage_error(capsys, model):
    code, out, err = run(capsys, "show", f"{model}::f", "--mode", "forward", "--kind", "vjp")
    assert code == 1 and out == "" and "give one of them" in err


def test_errors_are_coloured_on_a_terminal_only(capsys, monkeypatch, model):
    from s2sgrad_cli import main as cli
    code, out, err = run(capsys, "show", f"{model}::f", "--wrt", "nope")
    assert code == 1 and "\x1b[" not in err                       # (captured: not a terminal)
    text = "model.py:3:5: error: `match` statements are not supported\n    match mode:\n    ^^^^^\nhelp: use np.where"
    shown = cli.coloured(text)
    assert "\x1b[31merror:" in shown and "\x1b[32m    ^^^^^" in shown and "\x1b[36mhelp:" in shown
    assert shown.replace("\x1b[0m", "").count("\x1b[") == 5
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert cli._colour(sys.stderr)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli._colour(sys.stderr)


def test_show_cost_prints_the_report(capsys, tmp_path):
    path = tmp_path / "layer.py"
    path.write_text(MATRIX_MODEL)
    code, out, err = run(capsys, "show", f"{path}::layer_loss", "--cost", "--args", "x=randn(4, 3)",
                         "--args", "w=randn(3, 2)")
    assert code == 0 and err == "" and out.startswith("cost of the gradient of layer_loss at the arguments given")
    assert "return np.sum(np.tanh(x @ w))" in out and "operations estimated" in out
