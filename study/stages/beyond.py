"""Stage 06, beyond the paper: corrected formats, asymmetric search, two-stage rescoring, with statistics.

Every configuration is compared with float32 of the same model and collection on the same queries
(paired bootstrap CI, sign-flip test, Holm across the stage's configurations; ``study.analysis.stats``).
Paper-faithful formats keep the paper's calibration set (``paper_calibrate_on``); the corrected
ones are calibrated on each of ``calibrate_on`` (the first one also serves the asymmetric and
rescoring runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis import report, stats
from study.analysis.comparison import compare_like_for_like
from study.analysis.tradeoff import label
from study.compress.formats import get_format
from study.core import artifacts
from study.core.io import atomic_write
from study.experiment.configs import NONE
from study.figures import plots
from study.figures.beyond import plot_beyond_formats, plot_beyond_rescoring

STEM = artifacts.STAGES["beyond"].stem
KEYS = ["format", "calibrate_on", "query_format", "rescore"]


@dataclass
class BeyondOutput:
    tidy: pd.DataFrame
    summary: pd.DataFrame
    table: pd.DataFrame
    figures: dict[str, dict[str, Path]]
    files: dict[str, Path] = field(default_factory=dict)


def summarise_beyond(
    tidy: pd.DataFrame, per_query: pd.DataFrame, n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED
) -> pd.DataFrame:
    """Both aggregations (``weighting`` = texts and none), each with CIs, p-values and Holm."""
    extra = ["rescore_format", "oversample", "rescore_bytes_per_vector"]
    first = tidy.drop_duplicates(["model", *KEYS]).set_index(["model", *KEYS])
    parts = []
    for weighting in report.WEIGHTINGS:
        summary = report.summarise(tidy, KEYS, weighting=weighting, baseline=stats.BASELINE)
        summary = stats.add_significance(summary, tidy, per_query, KEYS, weighting, n_resamples=n_resamples,
                                         seed=seed)
        for col in extra:
            summary[col] = first[col].reindex(pd.MultiIndex.from_frame(summary[["model", *KEYS]])).to_numpy() \
                if col in first else np.nan
        parts.append(summary)
    out = pd.concat(parts, ignore_index=True)
    out["label"] = [label(r) for r in out[KEYS].to_dict("records")]
    tier2 = out["rescore_bytes_per_vector"].fillna(0) if "rescore_bytes_per_vector" in out else 0.0
    out["stored_ratio"] = out.compression_ratio * out.bytes_per_vector / (out.bytes_per_vector + tier2)
    out["paper_faithful"] = [get_format(f).paper_faithful for f in out.format]
    return out


def beyond_table(summary: pd.DataFrame, weighting: str) -> pd.DataFrame:
    """One row per configuration: storage of both tiers, nDCG@10, % change [CI] in both weightings."""
    main = summary[summary.weighting == weighting]
    other = summary[summary.weighting != weighting].set_index(["model", "label"])
    table = pd.DataFrame({
        "model": main.model.to_numpy(),
        "configuration": main.label.to_numpy(),
        "B/vector (1st tier)": main.bytes_per_vector.to_numpy(),
        "B/vector (2nd tier)": main.rescore_bytes_per_vector.fillna(0).to_numpy(),
        "CR (1st tier)": main.compression_ratio.to_numpy(),
        "CR (all tiers)": main.stored_ratio.to_numpy(),
        "nDCG@10": main.value.to_numpy(),
        "change (%)": main.change_pct.to_numpy(),
        "CI low (%)": main.ci_low.to_numpy(),
        "CI high (%)": main.ci_high.to_numpy(),
        "p (Holm)": main.p_holm.to_numpy(),
    })
    idx = pd.MultiIndex.from_arrays([main.model, main.label])
    for col, src in [("unweighted change (%)", "change_pct"), ("unweighted CI low (%)", "ci_low"),
                     ("unweighted CI high (%)", "ci_high")]:
        table[col] = other[src].reindex(idx).to_numpy() if len(other) else np.nan
    return table.sort_values(["model", "CR (all tiers)", "change (%)"], ascending=[True, True, False],
                             ignore_index=True)


def _ids(tidy: pd.DataFrame, model: str, datasets: list[str], **fields) -> list[str] | None:
    """config_id per collection (in ``datasets`` order) of the configuration given by ``fields``."""
    rows = tidy[(tidy.model == model) & (tidy.metric == "ndcg_at_10")]
    for key, value in fields.items():
        rows = rows[rows[key] == value]
    by_dataset = rows.drop_duplicates("dataset").set_index("dataset").config_id
    if not set(datasets) <= set(by_dataset.index):
        return None
    return [by_dataset[d] for d in datasets]


def _comparisons(rows: pd.DataFrame, tidy: pd.DataFrame, model: str, datasets: list[str],
                 calibrate_on: str) -> dict[str, tuple[list[str], list[str]]]:
    """The paired comparisons of ``paired_tests``, by name: int8 variants vs float8_e4m3 at 4×, and
    each format's asymmetric run vs its symmetric run."""
    out = {}
    float8 = _ids(tidy, model, datasets, format="float8_e4m3", query_format="same", rescore=NONE)
    for name in ("int8", "int8_clipped"):
        fields = {"format": name, "query_format": "same", "rescore": NONE}
        if not get_format(name).paper_faithful:
            fields["calibrate_on"] = calibrate_on
        ids = _ids(tidy, model, datasets, **fields)
        if ids is not None and float8 is not None:
            out[f"{name} vs float8_e4m3"] = (ids, float8)
    for row in rows[(rows.query_format == "float32") & (rows.rescore == NONE)].itertuples():
        same = {"format": row.format, "calibrate_on": row.calibrate_on, "rescore": NONE}
        a = _ids(tidy, model, datasets, query_format="float32", **same)
        b = _ids(tidy, model, datasets, query_format="same", **same)
        if a is not None and b is not None:
            out[f"asymmetric {row.format}"] = (a, b)
    return out


def paired_tests(summary: pd.DataFrame, tidy: pd.DataFrame, per_query: pd.DataFrame, weighting: str,
                 calibrate_on: str, n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> pd.DataFrame:
    """The stage's paired comparisons between configurations (int8 variants vs float8_e4m3 at 4×, each format's
    asymmetric vs symmetric run), per model on the summary's collections: difference of nDCG@10, CI, p-value."""
    main = summary[summary.weighting == weighting]
    sets = compare_like_for_like(tidy[tidy.metric == "ndcg_at_10"], "shared").sets
    parts = []
    for model, rows in main.groupby("model", sort=False):
        wanted = _comparisons(rows, tidy, model, list(sets[model].names), calibrate_on)
        tests = stats.paired_differences(per_query, tidy, list(wanted.values()), weighting,
                                         n_resamples=n_resamples, seed=seed)
        if len(tests):
            parts.append(tests.assign(model=model, comparison=list(wanted)))
    columns = ["model", "comparison", "diff", "diff_ci_low", "diff_ci_high", "p_value"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def publish_beyond(tidy: pd.DataFrame, per_query: pd.DataFrame, formats: list[str], weighting: str, profile: str,
                   n_resamples: int = stats.N_RESAMPLES, seed: int = stats.SEED) -> BeyondOutput:
    """Stage 06's summary (both weightings, CIs), figures and table from its tidy results, like for like (every
    configuration over the same held-out collections)."""
    files: dict[str, Path] = {}
    caption_summary = report.summarise(tidy, KEYS, weighting=weighting, baseline=stats.BASELINE)
    sets = report.caption_sets(caption_summary)
    files["collection_sets"] = report.write_collection_sets(caption_summary.attrs["sets"], STEM, profile)
    summary = summarise_beyond(tidy, per_query, n_resamples, seed)
    dirs = report.output_dirs(profile)
    files["summary"] = write_summary(summary, profile)
    main = summary[summary.weighting == weighting]
    figures = {
        "formats": plots.save_figure(plot_beyond_formats(main, formats, weighting),
                                     dirs["figures"] / artifacts.FIG_BEYOND_FORMATS),
    }
    rescoring = plot_beyond_rescoring(main, weighting)
    if rescoring is not None:
        figures["rescoring"] = plots.save_figure(rescoring, dirs["figures"] / artifacts.FIG_BEYOND_RESCORING)
    table = beyond_table(summary, weighting)
    files |= {f"table_{k}": v for k, v in write_beyond_table(table, weighting, sets, profile).items()}
    return BeyondOutput(tidy, summary, table, figures, files)


def write_summary(summary: pd.DataFrame, profile: str) -> Path:
    """``results/<profile>/06-beyond-summary.csv``: the stage's aggregate, both weightings, with CIs."""
    folder = report.output_dirs(profile)["results"]
    return atomic_write(folder / f"{artifacts.BEYOND_SUMMARY}.csv",
                        lambda p: summary.to_csv(p, index=False, float_format="%.6g"))


def write_beyond_table(table: pd.DataFrame, weighting: str, sets: str, profile: str) -> dict[str, Path]:
    """``table-beyond`` (CSV and LaTeX), its caption naming the collections."""
    return report.write_table(
        table, artifacts.TABLE_BEYOND, profile,
        f"Corrected formats, asymmetric search and rescoring: nDCG@10 change vs float32 with 95 % bootstrap CI "
        f"({weighting}-weighted and unweighted over collections), p-values Holm-corrected; CR counts every tier "
        f"stored. {sets}")


