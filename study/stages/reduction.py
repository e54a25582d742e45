"""Stages 03 (every reducer × fraction, float32 and float8) and 04 (reduction × every format, the
paper's Table 1): the plan notebooks 03 and 04 run, their tables, and ``publish_*`` (figures and tables from
the saved results, what ``study publish`` runs). The conclusions are computed in the notebooks, from these tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis import report
from study.analysis.paper_reference import paper_table1
from study.compress.reducers import QUADRATIC
from study.config import SELF
from study.core import artifacts
from study.experiment.configs import NONE
from study.figures import plots
from study.figures.reduction import combined_figure, reduction_figure
from study.stages.quantization import StageOutput

STEM = artifacts.STAGES["reduction"].stem  # notebook 03
COMBINED_STEM = artifacts.STAGES["combined"].stem  # notebook 04
TIMINGS = artifacts.REDUCTION_TIMINGS  # the reducers' fit and transform times, written by notebook 03
METRIC = "ndcg_at_10"


@dataclass
class ReductionStageOutput(StageOutput):
    """A stage output with its main table and the reducers' fit/transform times."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: pd.DataFrame = field(default_factory=pd.DataFrame)


# --- the plan ---------------------------------------------------------------------------------------------


def timings(fits: pd.DataFrame) -> pd.DataFrame:
    """One row per fitted reducer (model × method × fraction × fit set; per collection when fit on ``self``):
    its fit time, and its transform time per vector over every collection it reduced (queries, documents and
    the calibration set it reduced for each collection)."""
    if fits.empty:
        return pd.DataFrame()
    fits = fits.assign(fit=np.where(fits.fit_on == SELF, fits.dataset, fits.fit_on))
    rows = []
    for (model, method, fraction, _fit), part in fits.groupby(["model", "reducer", "fraction", "fit"], sort=False):
        first = part.iloc[0]
        rows.append({
            "model": model, "reducer": method, "fraction": float(fraction), "dims": int(first.dims),
            "fit_on": first.fit_on, "fit_rows": int(first.fit_rows), "subsampled": method in QUADRATIC,
            "fit_s": float(first.fit_s),
            "transform_s_per_1k": 1000 * part.transform_s.sum() / max(int(part.vectors_transformed.sum()), 1),
            "vectors_transformed": int(part.vectors_transformed.sum()), "overhead_bytes": int(first.overhead_bytes),
            "datasets": " ".join(part.dataset),
        })
    return pd.DataFrame(rows)


def timing_table(timings: pd.DataFrame) -> pd.DataFrame:
    """Fit and transform cost per model × reducer × fraction (means over fits when fit per collection)."""
    return (timings.groupby(["model", "reducer", "fraction"], sort=False)
            .agg(dims=("dims", "first"), fit_rows=("fit_rows", "max"), fits=("fit_s", "size"),
                 fit_s=("fit_s", "mean"), transform_ms_per_1k=("transform_s_per_1k", lambda s: 1000 * s.mean()),
                 stored_MB=("overhead_bytes", lambda s: s.max() / 1e6))
            .reset_index())


# --- stage 03 ---------------------------------------------------------------------------------------------


def publish_reduction(tidy: pd.DataFrame, weighting: str, fit_on: str, profile: str,
                      times: pd.DataFrame) -> ReductionStageOutput:
    """Stage 03's summary, figure (paper Fig. 4/5) and table from its tidy results, like for like."""
    summary = report.summarise(tidy, ["reducer", "fraction", "format"], weighting=weighting)
    sets = report.caption_sets(summary)
    fig = reduction_figure(summary, weighting, fit_on)
    figure = plots.save_figure(fig, report.output_dirs(profile)["figures"] / artifacts.FIG_REDUCTION)
    table = change_table(summary, "reducer")
    files = {"collection_sets": report.write_collection_sets(summary.attrs["sets"], STEM, profile)}
    files |= _write(table, artifacts.TABLE_REDUCTION, profile,
                   f"nDCG@10 change (%) vs float32 per reducer and kept fraction (reduce, then store in the format). "
                   f"{sets}")
    return ReductionStageOutput(tidy, summary, pd.DataFrame(), figure, files, table=table, timings=times)


def change_table(summary: pd.DataFrame, by: str) -> pd.DataFrame:
    """Wide table: one row per model × ``by`` × format, one column per kept fraction (% change)."""
    rows = summary[summary.reducer != NONE]
    wide = rows.pivot_table(index=["model", by, "format"], columns="fraction", values="change_pct", sort=False)
    wide = wide[sorted(wide.columns, reverse=True)]
    wide.columns = [f"{c:.0%} kept" for c in wide.columns]
    return wide.reset_index()


def _write(df: pd.DataFrame, stem: str, profile: str, caption: str) -> dict[str, Path]:
    return {f"{stem}_{k}": v for k, v in report.write_table(df, stem, profile, caption).items()}


# --- stage 04 ---------------------------------------------------------------------------------------------


def publish_combined(tidy: pd.DataFrame, reducers: list[str], formats: list[str], weighting: str, fit_on: str,
                     profile: str, times: pd.DataFrame | None = None) -> ReductionStageOutput:
    """Stage 04's summary, our Table 1 (and the paper's beside it) and figure (paper Fig. 6) from its tidy
    results, like for like."""
    summary = report.summarise(tidy, ["reducer", "fraction", "format"], weighting=weighting)
    sets = report.caption_sets(summary)
    files = {"collection_sets": report.write_collection_sets(summary.attrs["sets"], COMBINED_STEM, profile)}
    tables = {r: table1(summary, r, formats) for r in reducers}
    for reducer, table in tables.items():
        files |= _write(table, artifacts.combined_table(reducer), profile,
                        f"nDCG@10 and compression ratio (CR) per format and kept fraction, {reducer} then the format "
                        f"(our models and collections; {weighting}-weighted). {sets}")
    comparison = table1_vs_paper(summary, "pca", formats) if "pca" in reducers else pd.DataFrame()
    if not comparison.empty:
        files |= _write(comparison, artifacts.COMBINED_VS_PAPER, profile,
                        "Relative nDCG@10 change (%) vs float32 at 100 %: ours (PCA, then the format) beside the "
                        f"paper's Table 1 (bge-small, nomic). {sets}")
    fig = combined_figure(summary, weighting, fit_on)
    figure = plots.save_figure(fig, report.output_dirs(profile)["figures"] / artifacts.FIG_COMBINED)
    times = times if times is not None else pd.DataFrame()
    return ReductionStageOutput(tidy, summary, comparison, figure, files, table=tables[reducers[0]], timings=times)


def table1(summary: pd.DataFrame, reducer: str, formats: list[str]) -> pd.DataFrame:
    """Our Table 1 for one reducer: format × kept fraction, CR, and per model nDCG@10 and its % change."""
    rows = summary[(summary.reducer == reducer) | (summary.reducer == NONE)].copy()
    rows["kept (%)"] = (100 * rows.fraction).round().astype(int)
    out = None
    for model in rows.model.unique():
        part = rows[rows.model == model][["format", "fraction", "kept (%)", "compression_ratio", "value",
                                          "change_pct"]]
        part = part.rename(columns={"compression_ratio": f"CR {model}", "value": f"{model} nDCG@10",
                                    "change_pct": f"{model} change (%)"})
        out = part if out is None else out.merge(part, on=["format", "fraction", "kept (%)"], how="outer")
    order = {f: i for i, f in enumerate(formats)}
    out = out.sort_values(["format", "fraction"], key=lambda s: s.map(order) if s.name == "format" else -s)
    return out.drop(columns="fraction").reset_index(drop=True)


def table1_vs_paper(summary: pd.DataFrame, reducer: str, formats: list[str]) -> pd.DataFrame:
    """Our % changes beside the paper's Table 1 at the same format and kept fraction."""
    ours = summary[(summary.reducer == reducer) | (summary.reducer == NONE)]
    ours = ours.pivot_table(index=["format", "fraction"], columns="model", values="change_pct", sort=False)
    ours.columns = [f"ours {c} (%)" for c in ours.columns]
    paper = paper_table1().pivot_table(index=["format", "fraction"], columns="model", values="change_pct")
    paper.columns = [f"paper {c} (%)" for c in paper.columns]
    out = ours.join(paper, how="left").reset_index()
    out = out[out.format.isin(formats)]
    order = {f: i for i, f in enumerate(formats)}
    out = out.sort_values(["format", "fraction"], key=lambda s: s.map(order) if s.name == "format" else -s)
    out.insert(1, "kept (%)", (100 * out.pop("fraction")).round().astype(int))
    return out.reset_index(drop=True)
