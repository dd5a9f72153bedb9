"""The package's shape, checked: one-way layers, no import circles, small modules and functions,
and an inference package that loads no training code (docs: DESIGN §1; import-linter's
contracts in pyproject.toml say the same and run in ``make lint``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "oncoseg"

# bottom to top; a package may import its own modules and those of lower layers only
LAYERS = [
    {"io"},
    {"text"},  # below data: the DICOM cohort converter de-identifies the notes it writes
    {"data"},
    {"models"},
    {"infer"},
    {"train", "eval"},
    {"tasks"},
    {"experiments", "batch", "pacs", "serve"},
    {"bench"},  # measures the entry points below it (a day of cases through pacs and batch)
    {"cli"},
]
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
FORBIDDEN = {  # besides the layers (DESIGN §1)
    "models": {"data", "io"},
    # the service, the PACS interfaces and the cohort runner run inference only
    **{pkg: {"train", "tasks", "experiments"} for pkg in ("serve", "pacs", "batch")},
}
MAX_LINES = 400
MAX_FUNCTION_LINES = 60  # from `def` to the last line, docstring included


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """oncoseg modules ``path`` imports (anywhere in it, at run time) -> first line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        for name in names:
            if not name.startswith("oncoseg") or _type_checking_only(node, parents):
                continue
            while name not in modules and "." in name:
                name = name.rsplit(".", 1)[0]  # an attribute, not a module
            found.setdefault(name, node.lineno)
    return found


def _graph() -> dict[str, dict[str, int]]:
    modules = _modules()
    graph = {m: imports_of(p, modules) for m, p in modules.items()}
    for m, deps in graph.items():
        # `from oncoseg.x import y` names both; keep the most specific module only
        for d in list(deps):
            if any(o.startswith(d + ".") for o in deps) and d != m:
                deps.pop(d)
        deps.pop(m, None)
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_layers_point_downward_only() -> None:
    bad = []
    for module, deps in _graph().items():
        src = _package(module)
        if src not in RANK:
            continue  # oncoseg/__init__.py
        for dep, line in deps.items():
            dst = _package(dep)
            if dst == src or dst == "":
                continue
            if RANK.get(dst, -1) >= RANK[src] or dst in FORBIDDEN.get(src, set()):
                bad.append(f"{module}:{line} imports {dep} ({src} -> {dst})")
    assert not bad, "imports against the layers (DESIGN §1):\n" + "\n".join(bad)


def test_no_import_circles() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the path, 2: done
    circles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in graph.get(m, {}):
            if state.get(d) == 1:
                circles.append([*path[path.index(d) :], d])
            elif d not in state:
                visit(d, [*path, d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_no_module_over_400_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in PKG.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_function_over_60_lines() -> None:
    long = {
        f"{p.relative_to(SRC)}:{node.lineno} {node.name}": n
        for p in PKG.rglob("*.py")
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (n := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    }
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_train_data_infer_eval_name_no_task() -> None:
    generic = ("train", "data", "infer", "eval")
    named = [
        f"{m}:{line} imports {d}"
        for m, deps in _graph().items()
        if _package(m) in generic
        for d, line in deps.items()
        if _package(d) == "tasks"
    ]
    assert not named, "\n".join(named)


INFER_PROBE = """
import sys
sys.modules["matplotlib"] = None  # any import of it now fails
import oncoseg.infer
from oncoseg.infer import Predictor
from oncoseg.infer.config import load_config
loaded = [m for m in ("oncoseg.train", "oncoseg.tasks", "oncoseg.experiments", "oncoseg.eval",
                      "oncoseg.bench", "oncoseg.cli")
          if any(k == m or k.startswith(m + ".") for k in sys.modules)]
print("LOADED", loaded)
print("MATPLOTLIB", sys.modules.get("matplotlib"))
"""


def test_infer_loads_no_training_code() -> None:
    """``import oncoseg.infer`` in a fresh interpreter, matplotlib made unimportable: none of
    the training, task, experiment or plotting packages comes along.

    ``monai.losses`` is imported by ``import monai`` itself (MONAI 1.x loads every
    submodule eagerly), so it cannot be absent while the model uses MONAI blocks; what is
    checked is that no oncoseg module the inference package reaches imports it.
    """
    res = subprocess.run(
        [sys.executable, "-c", INFER_PROBE],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "LOADED []" in res.stdout and "MATPLOTLIB None" in res.stdout, res.stdout


def test_infer_reaches_no_loss_or_plotting_import() -> None:
    graph, modules = _graph(), _modules()
    reach, todo = set(), ["oncoseg.infer"]
    while todo:
        m = todo.pop()
        if m not in reach:
            reach.add(m)
            todo += list(graph.get(m, {}))
    assert not {m for m in reach if _package(m) in ("train", "tasks", "experiments")}
    bad = []
    for m in sorted(reach):
        text = modules[m].read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            if any(n.startswith(("monai.losses", "matplotlib")) for n in names):
                bad.append(f"{m}:{node.lineno}")
    assert not bad, bad


@pytest.mark.parametrize("name", ["oncoseg.infer", "oncoseg.tasks", "oncoseg.cli"])
def test_packages_import(name: str) -> None:
    __import__(name)
