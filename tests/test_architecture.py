"""The shape of study/: subpackages by concept, imports only downwards, no circle, no import-time side effect, no
conclusions or paper prose built in Python."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

STUDY = REPO / "study"
# Lower layers first: a module may import from its own layer or below, never above.
LAYERS = ["core", "data", "encoders", "config", "compress", "search", "experiment", "analysis", "params", "plans",
          "figures", "publish", "stages", "advise", "cli"]


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
            for p in STUDY.rglob("*.py")}


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported study module, at function level?) for every import of a study module in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("study"):
            assert node.level == 0, f"{path}: relative import"
            found += [(node.module, node.col_offset > 0)]
            found += [(f"{node.module}.{a.name}", node.col_offset > 0) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, node.col_offset > 0) for a in node.names if a.name.startswith("study")]
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: {m for m, _ in imports(path) if m in mods and m != name} for name, path in mods.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else -1


def test_every_module_belongs_to_a_layer():
    assert {m for m in modules() if m != "study" and layer(m) < 0} == set()


def test_no_import_circle():
    g = graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(g[node]):
            assert state.get(nxt) != 1, "import circle: " + " -> ".join([*path, node, nxt])
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for module in sorted(g):
        if module not in state:
            visit(module, [])


def test_imports_only_go_down():
    upward = [(a, b) for a, deps in graph().items() for b in deps
              if a != "study" and b != "study" and layer(b) > layer(a)]
    assert upward == []


def test_no_function_level_imports_of_study_modules():
    late = [(name, m) for name, path in modules().items() for m, inner in imports(path) if inner]
    assert late == []


def test_importing_study_has_no_side_effect():
    code = ("import os, sys; before = dict(os.environ); import study; "
            "assert dict(os.environ) == before, 'study changed the environment'; "
            "assert 'numpy' not in sys.modules, 'study imported numpy'")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr


def test_no_module_builds_conclusions_or_a_paper_section():
    """Conclusions are computed once, in each notebook's closing cells, from its tables; the paper's prose is
    main.tex's: no study module defines a ``*_conclusions`` function, no stage output carries a ``conclusions``
    field, and no string in study/ opens a LaTeX section or paragraph."""
    sectioning = re.compile(r"\\(?:(?:sub)*section|paragraph)\b")
    found = []
    for name, path in sorted(modules().items()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.endswith("_conclusions"):
                found.append(f"{name}: def {node.name}")
            elif (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                  and node.target.id == "conclusions" and name.startswith("study.stages")):
                found.append(f"{name}: field conclusions")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and sectioning.search(node.value):
                found.append(f"{name}:{node.lineno}: {node.value[:60]!r}")
    assert found == []


def test_no_bench_module_builds_conclusions_or_sentences():
    """The benchmarks' analysis and summary give tables; what they show is notebook 08's conclusions and
    docs/benchmarks.md's hand-written text: no bench module defines a ``conclusions``, ``*_conclusions`` or
    ``*_sentence`` function, nor a ``conclusions`` field."""
    found = []
    for path in sorted((REPO / "bench").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    node.name == "conclusions" or node.name.endswith(("_conclusions", "_sentence", "_sentences"))):
                found.append(f"{path.name}: def {node.name}")
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and \
                    node.target.id == "conclusions":
                found.append(f"{path.name}: field conclusions")
    assert found == []
