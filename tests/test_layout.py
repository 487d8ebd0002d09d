"""The package's structure: every import (those inside functions too) points down the
pipeline, and no module imports one that imports it back."""
import ast
import pathlib

import s2sgrad

ROOT = pathlib.Path(s2sgrad.__file__).parent


def _modules() -> dict:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ("s2sgrad",) + path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: pathlib.Path) -> set:
    """The modules of the package `name` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _reaches(start: str) -> set:
    seen, todo = set(), [start]
    while todo:
        for t in GRAPH[todo.pop()] - seen:
            seen.add(t)
            todo.append(t)
    return seen


def test_no_module_imports_one_that_imports_it_back():
    cycles = sorted(name for name in GRAPH if name in _reaches(name))
    assert cycles == []


def test_imports_point_down_the_pipeline():
    """errors, runtime, rules at the bottom; ir; frontend; passes; backend; api; the
    referee on top (it compiles through api). Nothing below api imports it."""
    layer = {"errors": 0, "runtime": 0, "rules": 1, "ir": 2, "frontend": 3, "passes": 4,
             "backend": 5, "api": 6, "referee": 7}

    def level(name):
        part = name.split(".")[1] if name.count(".") else None
        return layer.get(part, 8)          # (the package itself, __main__: the top)

    upward = sorted((a, b) for a, targets in GRAPH.items() for b in targets
                    if level(b) > level(a) and not (level(a) == 0 and level(b) == 0))
    assert upward == []
    assert level("s2sgrad.passes.reverse") == 4 and level("s2sgrad.api") == 6     # (the test's own reading)
    outside = {t for a in GRAPH if a.startswith("s2sgrad.runtime") for t in GRAPH[a]
               if not t.startswith("s2sgrad.runtime")}
    assert outside == set()                # generated code imports the runtime alone


def test_passes_do_not_reach_into_the_lowerer():
    """Names and rule templates have modules of their own; only the pipeline (passes/__init__)
    calls the lowerer, as its first stage."""
    assert [a for a in GRAPH if a.startswith("s2sgrad.passes") and "s2sgrad.frontend.lower" in GRAPH[a]] \
        == ["s2sgrad.passes"]
