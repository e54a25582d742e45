"""Stage 07: real indexes (usearch, faiss) on real collections — measured bytes, speed and quality.

What notebook 07 calls after the experiment runner has run its plan (``study.plans.indexes``): the table of the
largest collection and ``publish_indexes`` (figure and table from the saved results, what ``study publish`` runs).
The figure is in ``study.figures.indexes``; the conclusions are computed in the notebook, from the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from study.analysis import report
from study.core import artifacts
from study.figures import plots
from study.figures.indexes import plot_indexes

STEM = artifacts.STAGES["indexes"].stem
FIGURE = artifacts.FIG_INDEXES
TABLE = artifacts.TABLE_INDEXES


@dataclass
class IndexStageOutput:
    table: pd.DataFrame  # one row per model × collection × index kind
    per_query: pd.DataFrame
    largest: pd.DataFrame  # the rows of each model's largest collection (the figure and the LaTeX table)
    figure: dict[str, Path]
    files: dict[str, Path]


def largest_collection_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of each model's largest collection (most documents)."""
    keep = table.loc[table.groupby("model").n_docs.idxmax(), ["model", "dataset"]]
    return table.merge(keep, on=["model", "dataset"])


TABLE_COLUMNS = {
    "model": "model", "dataset": "collection", "index": "index", "bytes_per_vector": "bytes/vector",
    "build_s": "build (s)", "qps_b1": "QPS b1", "qps_b100": "QPS b100", "recall_at_10": "recall@10",
    "ndcg_at_10": "nDCG@10", "simulated_ndcg_at_10": "simulated nDCG@10", "agree_top10": "top-10 agreement",
}


TABLE_DIGITS = {"bytes_per_vector": 1, "build_s": 2, "qps_b1": 0, "qps_b100": 0, "recall_at_10": 3, "ndcg_at_10": 4,
                "simulated_ndcg_at_10": 4, "agree_top10": 3}


def display_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The LaTeX/CSV table: selected columns, each number printed with the digits it deserves."""
    out = rows[list(TABLE_COLUMNS)].copy()
    for column, digits in TABLE_DIGITS.items():
        out[column] = [f"{v:.{digits}f}" for v in out[column]]
    return out.rename(columns=TABLE_COLUMNS)


def publish_indexes(table: pd.DataFrame, per_query: pd.DataFrame, repeats: int, profile: str) -> IndexStageOutput:
    """Stage 07's figure and table from its saved table (no index is rebuilt)."""
    largest = largest_collection_rows(table)
    figure = plots.save_figure(plot_indexes(largest), report.output_dirs(profile)["figures"] / FIGURE)
    latex = display_table(largest)
    where = ", ".join(f"{m}: {d} ({int(r.n_docs.iloc[0]):,} documents, {int(r.n_queries.iloc[0]):,} queries)"
                      for (m, d), r in largest.groupby(["model", "dataset"], sort=False))
    threads = ", ".join(str(t) for t in sorted(set(largest.threads)))
    files = {f"table_{k}": v for k, v in report.write_table(
        latex, TABLE, profile,
        f"Real indexes on the largest collection ({where}): serialized bytes per vector, build time and queries per "
        f"second ({threads} thread(s), medians of {repeats} runs), recall@10 against exact float32 search, nDCG@10 of "
        "the index's ranking and of the simulated format (no fit or calibration set: indexes are trained on the "
        "collection itself).",
    ).items()}
    return IndexStageOutput(table, per_query, largest, figure, files)
