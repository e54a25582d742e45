"""What ``study advise`` writes into its output folder: the study's own tables, figure and page, on the user's data.

The results go through the study's analysis unchanged: ``configurations`` (one row per configuration, like for
like, every tier's bytes counted), ``with_uncertainty`` (the paired, query-level 95 % bootstrap CI of each change
against float32, and the frontier that steps up only where the CI says so), ``select`` (the cheapest configuration
that fits the budget and is not significantly worse than the best that fits), ``plot_tradeoff`` and the explorer
page. The measure compared is nDCG@10 where there are judgments, else the label-free recall@10 against the exact
float32 top-10 (``METRICS``).

Files (``OUTPUTS``), each written atomically, the manifest ``advise.json`` last: ``results.csv`` (tidy rows, every
metric), ``per-query.parquet``, ``configurations.csv`` (with CIs), ``frontier.csv``, ``not-applicable.csv``,
``pq-choices.csv``, ``timings.csv``, ``rows.csv`` (the source rows used as queries and as the training sample; the
index is every other usable document), ``selection.txt``, ``tradeoff.png``, ``explorer.html``.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from study.advise.evaluate import Results
from study.advise.grid import Grid
from study.advise.inputs import Prepared
from study.analysis.tradeoff import (
    DEFAULT_MAX_LOSS,
    LABEL_FREE_MARGIN,
    Draws,
    Selection,
    configuration_rows,
    configurations,
    per_collection_intervals,
    select,
    with_uncertainty,
)
from study.core.errors import StudyError
from study.core.io import atomic_write, write_json_atomic, write_text_atomic
from study.figures.explorer import EXPLORER, write_explorer
from study.figures.tradeoff import plot_tradeoff
from study.stages.tradeoff import frontier_table

METRICS = {"ndcg_at_10": "nDCG@10", "recall_at_10": "recall@10"}
"""The measure compared, by column, and its name in tables, the figure and the page."""
MANIFEST = "advise.json"
OUTPUTS = ("results.csv", "per-query.parquet", "configurations.csv", "frontier.csv", "not-applicable.csv",
           "pq-choices.csv", "timings.csv", "rows.csv", "selection.txt", "tradeoff.png", EXPLORER, MANIFEST)
WEIGHTING = "texts"  # one collection: the weighting changes nothing, named as the study names it


def metric_of(data: Prepared) -> str:
    """nDCG@10 with judgments, else the label-free recall@10."""
    return "ndcg_at_10" if data.qrels is not None else "recall_at_10"


def margin_for(metric: str, margin: float | None) -> float:
    """The tolerance ``select`` uses: ``margin`` where given, else ``LABEL_FREE_MARGIN`` for the label-free
    measure and 0 for nDCG@10."""
    if margin is not None:
        return margin
    return 0.0 if metric == "ndcg_at_10" else LABEL_FREE_MARGIN


@dataclass
class Analysis:
    """The configurations with their CIs and frontier, the draws behind them, the per-collection rows (one
    collection: the data), the selection (or why nothing fits)."""

    metric: str
    configs: pd.DataFrame
    draws: Draws | None
    rows: pd.DataFrame
    selection: Selection | None
    selection_text: str

    @property
    def label(self) -> str:
        return METRICS[self.metric]


def analyse(results: Results, data: Prepared, n_vectors: int, ram: int, disk: int | None,
            max_loss: float = DEFAULT_MAX_LOSS, margin: float | None = None) -> Analysis:
    """The study's trade-off analysis of ``results`` and ``select``'s answer for ``n_vectors`` in ``ram`` (and
    ``disk``), with ``margin_for`` the measure's tolerance."""
    metric = metric_of(data)
    tidy, per_query = results.tidy, results.per_query
    configs, draws = with_uncertainty(configurations(tidy, metric=metric, weighting=WEIGHTING), tidy, per_query,
                                      WEIGHTING, metric)
    rows = per_collection_intervals(configuration_rows(tidy, configs, metric), per_query, metric)
    model = str(configs.model.iloc[0])
    try:
        selection = select(ram, n_vectors, configs, model=model, disk_bytes=disk, draws=draws, max_loss=max_loss,
                           metric_label=METRICS[metric], margin=margin_for(metric, margin))
        text = selection.describe()
    except StudyError as exc:  # nothing fits: the answer says so, the rest is still written
        selection, text = None, str(exc)
    return Analysis(metric, configs, draws, rows, selection, text)


def frontier(analysis: Analysis) -> pd.DataFrame:
    """The frontier table of stage 05, its quality column named after the measure compared."""
    return frontier_table(analysis.configs).rename(columns={"nDCG@10": analysis.label})


def manifest(data: Prepared, source: dict[str, Any], grid: Grid, results: Results, analysis: Analysis,
             options: dict[str, Any]) -> dict[str, Any]:
    """What was read, which rows served for what, the notes, the options and what was run."""
    chosen = analysis.selection.recommended.label if analysis.selection is not None else None
    return {
        "source": source, "rows": data.rows, "notes": list(data.notes), "options": options,
        "metric": analysis.metric, "metric_label": analysis.label,
        "configurations": len(grid.configs), "not_applicable": len(grid.not_applicable),
        "computed": results.computed, "from_cache": results.cached, "recommended": chosen,
        "pq_choices": [{"family": c.family, "ratio": c.ratio, "m": c.m, "format": c.format} for c in grid.pq_choices],
        "python": platform.python_version(),
    }


def rows_table(data: Prepared) -> pd.DataFrame:
    """Which rows of the source served as queries (of the query file where there is one) and as the training
    sample (of the documents), one row each."""
    return pd.DataFrame({"role": ["query"] * len(data.query_rows) + ["training"] * len(data.training_rows),
                         "row": np.concatenate([data.query_rows, data.training_rows]).astype(np.int64)})


def _csv(path: Path, frame: pd.DataFrame) -> Path:
    return atomic_write(path, lambda p: frame.to_csv(p, index=False, float_format="%.6g"))


def _figure(path: Path, analysis: Analysis) -> Path:
    fig = plot_tradeoff(analysis.configs, analysis.label)
    try:
        return atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=200, metadata={"Software": None}))
    finally:
        plt.close(fig)


def write_outputs(out: Path, data: Prepared, source: dict[str, Any], grid: Grid, results: Results,
                  analysis: Analysis, options: dict[str, Any], command: str) -> dict[str, Path]:
    """Every output file (``OUTPUTS``), the manifest last."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "results.csv": _csv(out / "results.csv", results.tidy),
        "per-query.parquet": atomic_write(out / "per-query.parquet",
                                          lambda p: results.per_query.to_parquet(p, index=False)),
        "configurations.csv": _csv(out / "configurations.csv", analysis.configs),
        "frontier.csv": _csv(out / "frontier.csv", frontier(analysis)),
        "not-applicable.csv": _csv(out / "not-applicable.csv", grid.not_applicable),
        "pq-choices.csv": _csv(out / "pq-choices.csv", grid.choices_table()),
        "timings.csv": _csv(out / "timings.csv", results.timings),
        "rows.csv": _csv(out / "rows.csv", rows_table(data)),
        "selection.txt": write_text_atomic(out / "selection.txt", analysis.selection_text + "\n"),
        "tradeoff.png": _figure(out / "tradeoff.png", analysis),
    }
    files[EXPLORER] = write_explorer(
        analysis.configs, analysis.rows, out / EXPLORER, data.name, weighting=WEIGHTING, source=str(source["path"]),
        draws=analysis.draws, n_vectors=options["n_vectors"], ram=options["ram"], disk=options["disk"],
        max_loss=options["max_loss"], metric_label=analysis.label, command=command, margin=options["margin"])
    files[MANIFEST] = write_json_atomic(out / MANIFEST, json.loads(json.dumps(
        manifest(data, source, grid, results, analysis, options), default=_plain)))
    return files


def _plain(value: object) -> object:
    """JSON for numpy scalars and paths."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
