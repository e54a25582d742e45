"""study.core.artifacts is the one place figure and table names are typed: the stage modules, the paper's
publishing code, the benchmarks and the notebook sources read its handles, and each stage's module refers to
every name the registry says the stage writes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import REPO

from study.core import artifacts

SOURCES = sorted([*(REPO / "study" / "stages").glob("*.py"), *(REPO / "study" / "publish").glob("*.py"),
                  *(REPO / "bench").rglob("*.py"), *(REPO / "notebooks").glob("*.py")])
SUFFIXES = ("pdf", "png", "tex", "csv", "parquet", "ipynb")
CONSTANTS = {k: v for k, v in vars(artifacts).items() if k.isupper() and isinstance(v, str)}
# names a source may still type, per source (none: the benchmark tables' figures are linked by docs/benchmarks.md)
LEFT: dict[str, set[str]] = {}
# which modules write a stage's names (stage 05 writes its own in its notebook, with paper_macros)
WRITERS = {
    "quantization": ["study/stages/quantization.py"],
    "reduction": ["study/stages/reduction.py", "notebooks/03-reduction.py"],  # + the timings (experiment_tables)
    "combined": ["study/stages/reduction.py"],
    "tradeoff": ["study/stages/tradeoff.py", "study/publish/paper_macros.py", "notebooks/05-tradeoff.py"],
    "beyond": ["study/stages/beyond.py"],
    "indexes": ["study/stages/indexes.py"],
    "scaling": ["bench/analysis.py"],
    "codecs": ["study/stages/codecs.py"],
    "advise": ["study/advise/your_vectors.py"],
}


def registered() -> set[str]:
    names = {n for stage in artifacts.STAGES.values() for n in
             (stage.stem, *stage.figures, *stage.tables, *stage.latex, *stage.csv, *stage.experiment_tables)}
    return names | {v for v in CONSTANTS.values() if "{" not in v}


def typed_name() -> re.Pattern:
    """A registered name inside a string: alone, as a file name, in a path or in text. A name without a hyphen
    (``macros``, ``scaling``) is an ordinary word too: it counts only as a file name. A LaTeX label
    (``tab:scorecard-collections``) is not a file name."""
    bare = [re.escape(n) for n in sorted(registered(), key=len, reverse=True) if "-" in n]
    files = [re.escape(n) for n in sorted(registered(), key=len, reverse=True)]
    prefixes = [re.escape(v.split("{")[0]) for v in CONSTANTS.values() if "{" in v]
    return re.compile(rf"(?<![\w:-])(?:(?:{'|'.join(bare)})(?:-per-query)?(?![\w-])"
                      rf"|(?:{'|'.join(files)})\.(?:{'|'.join(SUFFIXES)})(?!\w)|(?:{'|'.join(prefixes)}))")


def docstrings(tree: ast.AST) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return {id(n.body[0].value) for n in nodes
            if n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}


def typed_names(path: Path) -> list[str]:
    """``line: 'literal'`` for each string literal (f-string parts included, docstrings not) naming an output."""
    tree = ast.parse(path.read_text())
    skip, pattern = docstrings(tree), typed_name()
    left = LEFT.get(path.relative_to(REPO).as_posix(), set())
    return [f"{n.lineno}: {n.value!r}" for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
            and {m.group(0).split(".")[0] for m in pattern.finditer(n.value)} - left]


def test_every_registered_name_has_one_handle():
    values = list(CONSTANTS.values())
    assert len(values) == len(set(values)), "two handles for one name"
    stems = {stage.stem for stage in artifacts.STAGES.values()}
    unhandled = {n for n in registered() - stems if n not in values}
    assert unhandled == set()
    assert artifacts.combined_table("pca") in artifacts.combined_tables(["pca"])


def test_the_check_finds_typed_names():
    found = typed_name()
    for text in ("fig7-tradeoff", "table-reduction-timings.csv", "/fig-codecs.png", "03-reduction", "macros.tex",
                 "06-beyond-summary.csv", "02-quantization.ipynb", "table1-combined-", "scaling-pool",
                 "(notebook `05-tradeoff.ipynb`):", "\\gentable{table-codecs-equal-bytes.tex} % written by",
                 "results/03-reduction-per-query.parquet"):
        assert found.search(text), text
    for text in ("macros", "scaling", "summary", "fig", "-summary.csv", "\\label{tab:scorecard-collections}",
                 "table-beyond-x", "my-fig-indexes", "macros.texts"):
        assert not found.search(text), text


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_source_types_a_registered_name(path):
    assert typed_names(path) == [], f"use the handle in study.core.artifacts instead of typing the name in {path}"


def referenced_names(path: Path) -> set[str]:
    """The registered names a source refers to by handle (``artifacts.X`` or ``from study.core.artifacts import X``),
    stage 04's per-reducer pattern included when it calls ``combined_table(s)``."""
    tree = ast.parse(path.read_text())
    handles = {n.attr for n in ast.walk(tree)
               if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "artifacts"}
    handles |= {a.name for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module == "study.core.artifacts" for a in n.names}
    names = {CONSTANTS[h] for h in handles if h in CONSTANTS}
    return names | ({artifacts.COMBINED_TABLE} if handles & {"combined_table", "combined_tables"} else set())


@pytest.mark.parametrize("stage", sorted(artifacts.STAGES))
def test_each_stage_refers_to_every_name_it_writes(stage):
    names = artifacts.STAGES[stage]
    expected = {*names.figures, *names.tables, *names.latex, *names.csv, *names.experiment_tables}
    if stage == "combined":
        expected |= {artifacts.COMBINED_TABLE, artifacts.COMBINED_VS_PAPER}
    if stage == "beyond":
        expected.add(artifacts.BEYOND_SUMMARY)
    referenced = set().union(*(referenced_names(REPO / p) for p in WRITERS.get(stage, [])))
    assert expected - referenced == set()
