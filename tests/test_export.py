"""Export: a derivative as a module that runs with NumPy alone, checked where s2sgrad
cannot be imported, against finite differences of the user's own function."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import s2sgrad
from s2sgrad.backend.export import ExportError
from s2sgrad_cli.main import main

MODEL = '''
import numpy as np

LAMBDA = 0.01
CENTRES = np.array([0.5, -1.0, 2.0])


def layer(a, w):
    return np.tanh(a @ w)


def loss(w, X, y):
    """A small regression written as people write it: a helper, a loop, globals."""
    h = layer(X, w)
    total = 0.0
    for i in range(y.shape[0]):
        total = total + (h[i] - y[i]) ** 2
    return total / y.shape[0] + LAMBDA * np.sum((w - CENTRES) ** 2)


def field(x, k):
    return np.sin(k * x) * x + CENTRES * x ** 2


class Settings:
    def __init__(self, matrix):
        self.matrix = matrix


def with_state(matrix):
    settings = Settings(matrix)

    def inner(v):
        return np.sum((settings.matrix @ v) ** 2)
    return inner


def make_wave(scale):
    def wave(x):
        return np.sum(np.sin(x) * scale)
    return wave


closed = make_wave(1.5)


def through_closure(x):
    return closed(x) + np.sum(x * x)


def damped(x, rate=0.5, steps=3):
    for _ in range(steps):
        x = x * rate + np.sin(x)
    return x
'''

RUN = '''
import json, sys
sys.modules["s2sgrad"] = None                  # (the exported module must not need it)
import numpy as np
{imports}
w = np.array([0.3, -0.2, 0.1]); X = np.linspace(-1, 1, 15).reshape(5, 3); y = np.linspace(0, 1, 5)
out = {{}}
{body}
print(json.dumps(out))
'''


@pytest.fixture
def model(tmp_path, monkeypatch):
    (tmp_path / "regression.py").write_text(MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("regression", None)
    import regression
    return regression


def _run(where, imports, body) -> dict:
    script = RUN.format(imports=imports, body=textwrap.dedent(body))
    done = subprocess.run([sys.executable, "-c", script], cwd=where, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _numeric(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = h
        out[k] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def test_an_exported_module_runs_without_s2sgrad_and_matches_finite_differences(model, tmp_path):
    for kind in ("grad", "value_and_grad"):
        (tmp_path / f"exported_{kind}.py").write_text(s2sgrad.export(model.loss, wrt=(0, 1), kind=kind))
    (tmp_path / "exported_jvp.py").write_text(s2sgrad.export(model.field, wrt=0, kind="jvp"))
    (tmp_path / "exported_vjp.py").write_text(s2sgrad.export(model.field, wrt=0, kind="vjp"))
    (tmp_path / "exported_loop_vjp.py").write_text(s2sgrad.export(model.damped, wrt=0, kind="vjp"))
    got = _run(tmp_path, "import exported_grad, exported_value_and_grad, exported_jvp, exported_vjp, "
                         "exported_loop_vjp", """
        dw, dX = exported_grad.grad_loss(w, X, y)
        value, (dw2, dX2) = exported_value_and_grad.value_and_grad_loss(w, X, y)
        out["dw"], out["dX"], out["value"], out["same"] = dw.tolist(), dX.tolist(), float(value), \\
            bool(np.array_equal(dw, dw2) and np.array_equal(dX, dX2))
        v, t = exported_jvp.jvp_field(w, 2.0, np.ones(3))
        out["tangent"] = t.tolist()
        v, pullback = exported_vjp.vjp_field(w, 2.0)
        out["pulled"] = pullback(np.array([1.0, 0.5, -1.0]))[0].tolist()
        out["unchanged"] = w.tolist()
        value, pullback = exported_loop_vjp.vjp_damped(0.7, 0.5, 3)
        out["loop"] = [float(value), float(pullback(2.0)[0]), float(pullback(1.0)[0])]
        """)
    w, X, y = np.array([0.3, -0.2, 0.1]), np.linspace(-1, 1, 15).reshape(5, 3), np.linspace(0, 1, 5)
    np.testing.assert_allclose(got["dw"], _numeric(lambda v: model.loss(v, X, y), w), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got["dX"], _numeric(lambda v: model.loss(w, v, y), X), rtol=1e-6, atol=1e-9)
    assert got["value"] == pytest.approx(model.loss(w, X, y), rel=1e-14) and got["same"]
    jacobian = _numeric(lambda v: np.sum(model.field(v, 2.0)), w)        # (its diagonal: elementwise)
    np.testing.assert_allclose(got["tangent"], jacobian, rtol=1e-6)
    np.testing.assert_allclose(got["pulled"], jacobian * [1.0, 0.5, -1.0], rtol=1e-6)
    assert got["unchanged"] == w.tolist()
    slope = _numeric(lambda v: model.damped(v), 0.7)[()]
    assert got["loop"] == pytest.approx([model.damped(0.7), 2 * slope, slope], rel=1e-6)


def test_defaults_are_the_exported_functions(model, tmp_path):
    text = s2sgrad.export(model.damped)
    assert "def grad_damped(x, rate=0.5, steps=3):" in text
    (tmp_path / "with_defaults.py").write_text(text)
    got = _run(tmp_path, "import with_defaults", 'out["g"] = with_defaults.grad_damped(0.7)')
    assert got["g"] == pytest.approx(_numeric(lambda v: model.damped(v), 0.7)[()], rel=1e-6)


def test_frozen_globals_are_written_in_and_the_module_needs_no_other_file(model, tmp_path):
    text = s2sgrad.export(model.loss, freeze=True)
    assert "LAMBDA = 0.01" in text and "CENTRES = np.array([0.5, -1.0, 2.0], dtype=np.float64)" in text
    assert "from regression import" not in text
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "frozen.py").write_text(text)
    got = _run(elsewhere, "import frozen", 'out["dw"] = frozen.grad_loss(w, X, y).tolist()')
    w, X, y = np.array([0.3, -0.2, 0.1]), np.linspace(-1, 1, 15).reshape(5, 3), np.linspace(0, 1, 5)
    np.testing.assert_allclose(got["dw"], s2sgrad.grad(model.loss)(w, X, y), rtol=1e-14)


def test_the_module_compiles_imports_only_what_it_uses_and_says_where_it_came_from(model):
    text = s2sgrad.export(model.loss)
    tree = ast.parse(text)
    bound = [alias.asname or alias.name.split(".")[0] for node in tree.body if isinstance(node, (ast.Import,
             ast.ImportFrom)) for alias in node.names]
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert bound and all(name in used for name in bound), bound
    assert "from regression import CENTRES, LAMBDA" in text
    assert not any(line.startswith(("import s2sgrad", "from s2sgrad")) for line in text.splitlines())
    header = text.split("\n\n")[0]
    assert "The grad of loss (" in header and "regression.py:12) with respect to w" in header
    assert "source sha256: loss " in header and ", layer " in header and "np.sum, np.tanh (s2sgrad.rules.numpy)" in header
    assert s2sgrad.export(model.loss) == text                    # (deterministic)


def test_what_cannot_be_exported_is_refused_at_the_function(model):
    inner = model.with_state(np.eye(3))
    with pytest.raises(ExportError, match="settings from a closure") as info:
        s2sgrad.export(inner)
    assert info.value.loc.line > 0 and "inner" in info.value.loc.text
    with pytest.raises(ValueError, match="kind must be one of"):
        s2sgrad.export(model.loss, kind="hessian")


def test_export_on_the_command_line_and_its_check(model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "regression.py::loss", "--wrt", "w", "-o", "out.py"]) == 0
    assert "# made by: s2sgrad export regression.py::loss --kind grad --wrt w\n" in (tmp_path / "out.py").read_text()
    assert main(["export", "--check", "out.py"]) == 0 and "out.py: up to date" in capsys.readouterr().out
    (tmp_path / "regression.py").write_text(MODEL.replace("LAMBDA * np.sum", "2 * LAMBDA * np.sum"))
    assert main(["export", "--check", "out.py"]) == 1
    assert "stale" in capsys.readouterr().out
    assert main(["export", "--check", "missing.py"]) == 1 and "no such file" in capsys.readouterr().err


def test_an_export_specialized_to_shapes_with_the_referees_verdict(model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "regression.py::loss", "--shapes", "--verify", "--args", "w=randn(3)",
                 "--args", "X=randn(5, 3)", "--args", "y=randn(5)", "-o", "shaped.py"]) == 0
    text = (tmp_path / "shaped.py").read_text()
    assert "# for arguments shaped w (3,) float64, X (5, 3) float64, y (5,) float64 only\n" in text
    assert "# the SymPy referee, at the arguments given: verified\n" in text
    assert main(["export", "--check", "shaped.py"]) == 0
    got = _run(tmp_path, "import shaped", 'out["dw"] = shaped.grad_loss(w, X, y).tolist()')
    w, X, y = np.array([0.3, -0.2, 0.1]), np.linspace(-1, 1, 15).reshape(5, 3), np.linspace(0, 1, 5)
    np.testing.assert_allclose(got["dw"], s2sgrad.grad(model.loss)(w, X, y), rtol=1e-13)
    assert main(["export", "regression.py::loss", "--shapes"]) == 1 and "--args" in capsys.readouterr().err


def test_a_function_held_by_a_global_under_another_name_and_its_closure(model, tmp_path):
    """The derivative of `wave` (the module holds it as `closed`) reads its closure's
    `scale`: the number is written in (a closure's value cannot be imported)."""
    text = s2sgrad.export(model.through_closure)
    assert "scale = 1.5" in text and "from builtins" not in text
    (tmp_path / "closure_export.py").write_text(text)
    got = _run(tmp_path, "import closure_export", 'out["g"] = closure_export.grad_through_closure(w).tolist()')
    w = np.array([0.3, -0.2, 0.1])
    np.testing.assert_allclose(got["g"], 1.5 * np.cos(w) + 2 * w, rtol=1e-13)
