"""The study sources an entry point imports, transitively: the code inputs of a workflow rule.

An entry point is a notebook's jupytext source (``notebooks/NN-name.py``, parsed, never run) or a module name
(``study.cli``: what ``python -m study.cli`` runs). Its closure holds every first-party module it imports,
directly or through other modules, and the ``__init__.py`` of every package on the way (importing ``study.a.b``
runs ``study/__init__.py`` and ``study/a/__init__.py``). Third-party imports are not followed.

Module granularity, by design: a rule is out of date when any module of its closure changes, which
over-approximates a function-level graph (editing one function reruns every rule importing its module).
Imports inside functions (or under ``if TYPE_CHECKING``) count like top-level ones, also conservatively: they
may never run. ``from p import x`` counts ``p`` and, where ``x`` is a submodule, ``p.x``. Only static import
statements are seen (``importlib.import_module`` is not).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PACKAGES = ("study",)
REPO_ROOT = Path(__file__).resolve().parents[2]


def _parents(module: str) -> list[str]:
    """``a.b.c`` -> ``[a, a.b, a.b.c]``: what importing it runs, outermost first."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def module_file(module: str, root: Path) -> Path | None:
    """The source of ``module`` under ``root`` (a package's ``__init__.py``), or None where there is none."""
    base = root.joinpath(*module.split("."))
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


def module_name(path: Path, root: Path) -> str | None:
    """The module a file under ``root`` is (``study/a/__init__.py`` -> ``study.a``); None outside ``root``."""
    try:
        parts = list(path.resolve().relative_to(root.resolve()).with_suffix("").parts)
    except ValueError:
        return None
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _from_base(node: ast.ImportFrom, module: str | None, is_package: bool) -> str | None:
    """The absolute module a ``from ... import`` reads from; None for a relative import outside a package."""
    if not node.level:
        return node.module
    if module is None:
        return None
    package = module.split(".") if is_package else module.split(".")[:-1]
    up = node.level - 1
    if up >= len(package):
        return None
    return ".".join(package[: len(package) - up] + ([node.module] if node.module else []))


def imported_names(tree: ast.AST, module: str | None = None, is_package: bool = False) -> set[str]:
    """Every dotted name the source's import statements may load (anywhere in it, functions included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(node, module, is_package)
            if base:
                names.add(base)
                names |= {f"{base}.{alias.name}" for alias in node.names if alias.name != "*"}
    return names


def _imports_of(path: Path, root: Path) -> set[str]:
    module = module_name(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return imported_names(tree, module, path.name == "__init__.py")


def _first_party(names: Iterable[str], root: Path, packages: tuple[str, ...]) -> set[Path]:
    """The files of the first-party modules among ``names`` (a name that is no module has none) and of their
    parent packages."""
    files = set()
    for name in names:
        if name.split(".")[0] in packages:
            files |= {path for parent in _parents(name) if (path := module_file(parent, root))}
    return files


def _entry_files(entry: str | Path, root: Path, packages: tuple[str, ...]) -> set[Path]:
    """What an entry point runs first: a script's first-party imports, or a module with its parent packages."""
    if isinstance(entry, Path) or entry.endswith(".py") or "/" in str(entry):
        path = root / entry
        if not path.is_file():
            raise FileNotFoundError(f"no entry point {path}")
        return _deps(path, root, packages)
    files = _first_party([entry], root, packages)
    if module_file(entry, root) not in files:
        raise ModuleNotFoundError(f"no first-party module {entry!r} under {root} (packages: {', '.join(packages)})")
    return files


def _deps(path: Path, root: Path, packages: tuple[str, ...]) -> frozenset[Path]:
    """The first-party files a file imports directly, cached per version of that file (an edited file is read
    again; within one process, a module file created later is not looked for again)."""
    stat = path.stat()
    return _cached_deps(path, root, packages, (stat.st_mtime_ns, stat.st_size))


@cache
def _cached_deps(path: Path, root: Path, packages: tuple[str, ...], stamp: tuple[int, int]) -> frozenset[Path]:
    return frozenset(_first_party(_imports_of(path, root), root, packages))


def closure(
    entries: str | Path | Iterable[str | Path], root: Path = REPO_ROOT, packages: tuple[str, ...] = PACKAGES
) -> list[str]:
    """The sorted POSIX paths, relative to ``root``, of every first-party source the entries import transitively
    (a module entry includes itself; a notebook source is not included)."""
    root = Path(root)
    if isinstance(entries, str | Path):
        entries = [entries]
    todo: set[Path] = set()
    for entry in entries:
        todo |= _entry_files(entry, root, packages)
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo |= _deps(path, root, packages) - seen
    return sorted(p.relative_to(root).as_posix() for p in seen)
