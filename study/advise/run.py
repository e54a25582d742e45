"""``study advise`` end to end: check the options, read and check the data, run the grid (resuming), write the
outputs. Every check that can fail on the user's input runs before the output folder is touched."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from study.advise.evaluate import Results, cache_for, run_grid
from study.advise.grid import Grid, grid
from study.advise.inputs import (
    BAD_ROWS,
    DEFAULT_SAMPLE_QUERIES,
    DEFAULT_TRAIN_ROWS,
    Prepared,
    check_choice_of,
    check_count,
    neighbours_note,
    prepare,
    read_source,
)
from study.advise.report import Analysis, analyse, margin_for, write_outputs
from study.analysis.tradeoff import DEFAULT_MAX_LOSS, check_margin, check_max_loss, check_n_vectors, parse_budget
from study.config import check_seed
from study.core.errors import ParameterError
from study.figures.explorer import DEFAULT_RAM

CACHE = "cache"


@dataclass
class AdviseOptions:
    """What ``study advise`` takes (the CLI's arguments)."""

    path: str
    format: str | None = None
    queries: str | None = None
    qrels: str | None = None
    column: str | None = None
    query_column: str | None = None
    model: str | None = None
    name: str | None = None
    matryoshka: bool = False
    n_vectors: int | str | None = None
    ram: str | int = DEFAULT_RAM
    disk: str | int | None = None
    out: str | None = None
    bad_rows: str = "refuse"
    sample_queries: int = DEFAULT_SAMPLE_QUERIES
    train_rows: int = DEFAULT_TRAIN_ROWS
    seed: int = 0
    threads: int = 1
    max_loss: float = DEFAULT_MAX_LOSS
    margin: float | None = None  # select's tolerance (report.margin_for): None = by the measure compared
    progress: bool = True
    budgets: dict = field(default_factory=dict)

    def checked(self) -> AdviseOptions:
        """The options with budgets in bytes and every scalar checked (one line naming the first bad one)."""
        budgets = {"ram": parse_budget(self.ram, "ram"),
                   "disk": None if self.disk is None else parse_budget(self.disk, "disk")}
        if self.n_vectors is not None:
            check_n_vectors(self.n_vectors, "n")
        check_choice_of("bad_rows", self.bad_rows, BAD_ROWS)
        check_count("sample_queries", self.sample_queries)
        check_count("train_rows", self.train_rows)
        check_count("threads", self.threads)
        check_seed(self.seed)
        check_max_loss(self.max_loss)
        if self.margin is not None:
            check_margin(self.margin)
        if self.out is not None and Path(self.out).exists() and not Path(self.out).is_dir():
            raise ParameterError("out", self.out, "a folder (it is created; an existing one is resumed)")
        return AdviseOptions(**{**self.__dict__, "budgets": budgets})


COMMAND_FLAGS = {"format": "--format", "queries": "--queries", "qrels": "--qrels", "column": "--column",
                 "query_column": "--query-column", "model": "--model", "name": "--name", "bad_rows": "--bad-rows",
                 "sample_queries": "--sample-queries", "train_rows": "--train-rows", "seed": "--seed",
                 "threads": "--threads", "margin": "--margin"}


def command_of(options: AdviseOptions, out: Path) -> str:
    """The ``study advise`` command that gives these results (without the budget and N, which the page adds): the
    options that differ from their defaults."""
    defaults = AdviseOptions(options.path)
    parts = ["study", "advise", options.path, "--out", str(out)]
    for name, flag in COMMAND_FLAGS.items():
        value = getattr(options, name)
        if value != getattr(defaults, name):
            parts += [flag, str(value)]
    return shlex.join(parts + (["--matryoshka"] if options.matryoshka else []))


@dataclass
class Outcome:
    """What a run did: the data, the grid, the results, the analysis, the files written."""

    data: Prepared
    grid: Grid
    results: Results
    analysis: Analysis
    files: dict[str, Path]
    out: Path


def advise(options: AdviseOptions) -> Outcome:
    """Read, check, evaluate (resuming from ``<out>/cache``) and write ``study advise``'s outputs."""
    options = options.checked()
    source = read_source(options.path, options.format, queries=options.queries, qrels=options.qrels,
                         column=options.column, query_column=options.query_column, model=options.model,
                         name=options.name)
    try:
        data = prepare(source, options.bad_rows, options.sample_queries, options.train_rows, options.seed)
    finally:
        source.close()
    plan = grid(source.details.get("model", data.name), data.name, data.split, data.dims, len(data.training),
                options.matryoshka)
    out = Path(options.out or f"advise-{data.name}")
    n_vectors = check_n_vectors(options.n_vectors if options.n_vectors is not None else data.rows["documents_read"],
                                "n")
    out.mkdir(parents=True, exist_ok=True)
    results = run_grid(plan, data, cache_for(out / CACHE, data, options.threads), options.threads,
                       progress=options.progress)
    note = neighbours_note(source, data, results.reference)
    data.notes += [note] if note else []
    analysis = analyse(results, data, n_vectors, options.budgets["ram"], options.budgets["disk"], options.max_loss,
                       options.margin)
    described = {"path": str(Path(options.path).resolve()), "format": source.format,
                 **{k: v for k, v in source.details.items() if k != "datasets"}}
    settings = {"n_vectors": n_vectors, "ram": options.budgets["ram"], "disk": options.budgets["disk"],
                "max_loss": options.max_loss, "margin": margin_for(analysis.metric, options.margin),
                "seed": options.seed, "threads": options.threads,
                "sample_queries": options.sample_queries, "train_rows": options.train_rows,
                "bad_rows": options.bad_rows, "matryoshka": options.matryoshka}
    files = write_outputs(out, data, described, plan, results, analysis, settings, command_of(options, out))
    return Outcome(data, plan, results, analysis, files, out)
