"""Stage 02 (notebook 02-quantization): the summary, tables and publishing of the formats run (its plan:
``study.plans.quantization``); ``run_quantization_stage`` runs it all in one call (the tests and scripts use it).
The conclusions are computed in the notebook, from these tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from study.analysis import report, stats
from study.core import artifacts
from study.experiment.runner import run
from study.figures import plots
from study.figures.quantization import quantization_figure
from study.params import QuantizationParams
from study.plans.quantization import STEM, plan


@dataclass
class StageOutput:
    tidy: pd.DataFrame
    summary: pd.DataFrame
    paper_comparison: pd.DataFrame
    figure: dict[str, Path]
    files: dict[str, Path]


def run_quantization_stage(p: QuantizationParams) -> StageOutput:
    """Stage 02: every format on every collection; results, figure (paper Fig. 3), tables."""
    result = run(plan(p), p.profile, STEM)
    files = report.save_results(result.tidy, result.per_query, STEM, p.profile)
    tidy, per_query = report.saved(STEM, p.profile)  # figures and tables come from the saved results
    out = publish_quantization(tidy, per_query, p.formats, p.weighting, p.profile)
    out.files = files | out.files
    return out


def publish_quantization(tidy: pd.DataFrame, per_query: pd.DataFrame, formats: list[str], weighting: str,
                         profile: str) -> StageOutput:
    """Stage 02's summary, figure (paper Fig. 3) and tables from its tidy results, like for like."""
    files: dict[str, Path] = {}
    summary = quantization_summary(tidy, per_query, weighting)
    sets = report.caption_sets(summary)
    files["collection_sets"] = report.write_collection_sets(summary.attrs["sets"], STEM, profile)
    fig = quantization_figure(summary, report.per_dataset_change(tidy), formats, weighting)
    figure = plots.save_figure(fig, report.output_dirs(profile)["figures"] / artifacts.FIG_QUANTIZATION)
    table = quantization_table(summary)
    files |= {f"table_{k}": v for k, v in report.write_table(
        table, artifacts.TABLE_QUANTIZATION, profile, f"nDCG@10 per storage format (our models and collections). {sets}"
    ).items()}
    comparison = report.compare_with_paper(summary)
    files |= {f"comparison_{k}": v for k, v in report.write_table(
        comparison, artifacts.QUANTIZATION_VS_PAPER, profile,
        f"Relative nDCG@10 change vs float32: ours beside the paper's Table 1 (100 % of dimensions). {sets}",
    ).items()}
    return StageOutput(tidy, summary, comparison, figure, files)


def quantization_summary(tidy: pd.DataFrame, per_query: pd.DataFrame, weighting: str) -> pd.DataFrame:
    """Each format against float32 on the same held-out collections per model, with CIs and Holm-tested
    p-values (``attrs["sets"]``: the collections)."""
    summary = report.summarise(tidy, ["format"], weighting=weighting)
    sets = summary.attrs["sets"]
    summary = stats.add_significance(summary, tidy, per_query, ["format"], weighting)
    summary.attrs["sets"] = sets
    return summary


def quantization_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Our table of stage 02: bytes, compression, nDCG@10 and its change per model and format."""
    return summary[["model", "format", "bytes_per_vector", "compression_ratio", "value", "change_pct"]].rename(
        columns={"value": "ndcg_at_10", "bytes_per_vector": "bytes/vector", "compression_ratio": "CR",
                 "change_pct": "change (%)"})
