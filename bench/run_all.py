"""Run every benchmark: each ``bench/<name>.py`` that defines a top-level ``main()``, one after the other.

    python -m bench.run_all                    # all of them (``make bench``)
    python -m bench.run_all --list             # which modules would run
    python -m bench.run_all --only scaling     # a subset, by module name

Each benchmark runs as its own ``python -m bench.<name>`` process (a crash or a memory peak in one
does not touch the others) with its default arguments, and merges its own rows into
``results/bench.csv``. Modules are found by reading the files (``ast``), not by importing them.
Exit status: 0 when every benchmark succeeded, else 1 (the failures are listed).
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

from study.core.artifacts import STAGES

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__init__", "common", "run_all", "summary"}
NOTEBOOK = HERE.parent / "notebooks" / f"{STAGES['scaling'].stem}.ipynb"  # reads results/bench.csv
EXECUTED = HERE.parent / "results" / NOTEBOOK.name  # committed executed copy, linked from the README


def has_main(path: Path) -> bool:
    """Whether the module at ``path`` defines a top-level function ``main``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)


def discover(folder: Path = HERE) -> list[str]:
    """Names of the benchmark modules in ``folder``, sorted."""
    return sorted(p.stem for p in folder.glob("*.py") if p.stem not in NOT_BENCHMARKS and has_main(p))


def execute_notebook(source: Path = NOTEBOOK, target: Path = EXECUTED) -> Path:
    """Run notebook 08 on the rows of ``results/bench.csv`` into ``target`` (a temporary file, then renamed)."""
    import papermill

    partial = target.with_name(f".partial-{target.name}")
    papermill.execute_notebook(str(source), str(partial), cwd=str(source.parent), progress_bar=False)
    return partial.replace(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the benchmarks and exit")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmark modules")
    args = parser.parse_args(argv)
    names = discover()
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(names)}")
        names = [n for n in names if n in args.only]
    if args.list:
        print("\n".join(names))
        return 0
    failed = []
    for name in names:
        print(f"== bench.{name}", flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent).returncode
        print(f"== bench.{name}: exit {code} after {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    from bench.summary import PAGE, write_page

    missing = write_page()
    print(f"{PAGE}: tables rewritten from results/bench.csv"
          + (f"; no markers for {', '.join(missing)}" if missing else ""))
    print(f"{execute_notebook()}: notebook 08 executed on those rows")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
