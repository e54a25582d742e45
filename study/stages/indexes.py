"""Stage 07: real indexes (usearch, faiss) on real collections — measured bytes, speed and quality.

What notebook 07 calls after the experiment runner has run its plan (``study.plans.indexes``): the table of the
largest collection, ``publish_indexes`` (figure and table from the saved results) and the closing text
``study publish`` prints. The figure is in ``study.figures.indexes``.
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
    conclusions: str


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
    """Stage 07's figure, table and conclusions from its saved table (no index is rebuilt)."""
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
    return IndexStageOutput(table, per_query, largest, figure, files, indexes_conclusions(table))


def _hnsw_overhead(table: pd.DataFrame) -> pd.DataFrame:
    """Per library, model, collection and format: bytes/vector of the HNSW index minus the exact one."""
    keys = ["library", "model", "dataset", "format"]
    wide = table.pivot_table(index=keys, columns="search", values="bytes_per_vector").dropna()
    return (wide["hnsw"] - wide["exact"]).rename("graph_bytes").reset_index()


def indexes_conclusions(table: pd.DataFrame) -> str:
    """The closing text of stage 07, written from the numbers."""
    lines = []
    largest = largest_collection_rows(table)
    for (model, dataset), rows in largest.groupby(["model", "dataset"], sort=False):
        first = rows.iloc[0]
        lines.append(f"{model} · {dataset} ({first.n_docs} docs, {first.n_queries} queries, {first.threads} "
                     f"thread(s); float32 exact nDCG@10 = {first.float32_ndcg_at_10:.4f}):")
        for r in rows.itertuples(index=False):
            lines.append(
                f"  {r.index}: {r.bytes_per_vector:.1f} B/vector (code {r.code_bytes:.0f} B), build {r.build_s:.2f} s, "
                f"{r.qps_b1:.0f} q/s at batch 1, {r.qps_b100:.0f} q/s at batch 100, recall@10 {r.recall_at_10:.3f}, "
                f"nDCG@10 {r.ndcg_at_10:.4f} ({r.ndcg_change_pct:+.2f} %; simulated {r.simulated_ndcg_at_10:.4f})."
            )
        good = rows[rows.recall_at_10 >= 0.95].sort_values("bytes_per_vector")
        if len(good):
            g = good.iloc[0]
            lines.append(f"  Smallest index with recall@10 >= 0.95: {g['index']} ({g.bytes_per_vector:.1f} B/vector, "
                         f"{4 * g.dims / g.bytes_per_vector:.1f}x smaller than raw float32).")
        fast = rows.sort_values("qps_b1", ascending=False).iloc[0]
        lines.append(f"  Fastest at batch 1: {fast['index']} ({fast.qps_b1:.0f} q/s, "
                     f"recall@10 {fast.recall_at_10:.3f}).")
    graph = _hnsw_overhead(table)
    for library, rows in graph.groupby("library", sort=False):
        lo, hi = f"{rows.graph_bytes.min():.0f}", f"{rows.graph_bytes.max():.0f}"
        lines.append(f"HNSW graph + keys cost {library} {lo if lo == hi else f'{lo}-{hi}'} B/vector over the exact "
                     "index of the same format (all collections).")
    exact = table[table.search == "exact"]
    lines.append("Exact indexes against their simulated counterpart (all collections; min top-10 agreement, "
                 "largest rank-wise score difference, nDCG@10 index - simulated):")
    for name, rows in exact.groupby("index", sort=False):
        gap = rows.ndcg_at_10 - rows.simulated_ndcg_at_10
        r = rows.iloc[0]
        verdict = ("same arithmetic" if r.same_arithmetic else "different arithmetic") + (
            "; Hamming distances tie often, and tied documents are ordered differently" if r.format == "b1" else "")
        lines.append(f"  {name}: {rows.agree_top10.min():.3f}, {rows.agree_max_score_diff.max():.2g}, "
                     f"{gap.min():+.4f} to {gap.max():+.4f} ({verdict}; reference: {r.reference}).")
    lines.append("Timings come from one shared machine and vary run to run; bench/indexes.py records them "
                 "with more repeats in results/bench.csv.")
    return "\n".join(lines)
