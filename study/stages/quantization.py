"""What each stage notebook does, as one call each (the notebooks stay thin)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from study.analysis import report, stats
from study.core.io import write_json_atomic
from study.data.datasets import load_collection
from study.encoders.cache import load_embeddings
from study.encoders.registry import load_encoder
from study.experiment.evaluate import run_quantization
from study.figures import plots


def embed_collections(model: str, datasets: list[str], profile: str) -> pd.DataFrame:
    """Stage 01: fill the cache for (model, each collection); write a small marker per collection."""
    encoder = None

    def lazy_encoder():
        nonlocal encoder
        encoder = encoder or load_encoder(model)
        return encoder

    rows = []
    for name in datasets:
        collection = load_collection(name)
        docs = load_embeddings(model, collection, "docs", encoder=lazy_encoder)
        queries = load_embeddings(model, collection, "queries", encoder=lazy_encoder)
        row = {
            "dataset": collection.name,
            "docs": docs.vectors.shape[0],
            "queries": queries.vectors.shape[0],
            "dims": docs.vectors.shape[1],
            "megabytes": (docs.vectors.nbytes + queries.vectors.nbytes) / 1e6,
            "collection_checksum": collection.checksum,
            "docs_sha256": docs.manifest["sha256"],
            "queries_sha256": queries.manifest["sha256"],
        }
        marker = report.output_dirs(profile)["results"] / "embeddings" / f"{model}--{collection.name}.json"
        write_json_atomic(marker, row | {"model": model})
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class StageOutput:
    tidy: pd.DataFrame
    summary: pd.DataFrame
    paper_comparison: pd.DataFrame
    figure: dict[str, Path]
    files: dict[str, Path]
    conclusions: str


def run_quantization_stage(
    models: list[str],
    datasets: list[str],
    formats: list[str],
    calibrate_on: str,
    weighting: str,
    profile: str,
    datasets_per_model: dict[str, list[str]] | None = None,
) -> StageOutput:
    """Stage 02: every format on every collection; results, figure (paper Fig. 3), tables."""
    per_model = datasets_per_model or {}
    parts = [run_quantization(m, per_model.get(m, datasets), formats, calibrate_on) for m in models]
    tidy = pd.concat([p[0] for p in parts], ignore_index=True)
    per_query = pd.concat([p[1] for p in parts], ignore_index=True)
    files = report.save_results(tidy, per_query, "02-quantization", profile)
    out = publish_quantization(tidy, per_query, formats, weighting, profile)
    out.files = files | out.files
    return out


def publish_quantization(tidy: pd.DataFrame, per_query: pd.DataFrame, formats: list[str], weighting: str,
                         profile: str) -> StageOutput:
    """Stage 02's summary, figure (paper Fig. 3), tables and conclusions from its tidy results, like for like."""
    files: dict[str, Path] = {}
    summary = report.summarise(tidy, ["format"], weighting=weighting)
    sets = report.caption_sets(summary)
    n_sets = {len(v) for v in summary.attrs["sets"].values()}
    summary = stats.add_significance(summary, tidy, per_query, ["format"], weighting)  # CIs, Holm-tested
    per_dataset = report.per_dataset_change(tidy)
    fig = plots.plot_change_by_format(
        summary, per_dataset, formats,
        f"Quantization ({weighting}-weighted mean of the same {'/'.join(map(str, sorted(n_sets)))} held-out "
        "collections per model)")
    figure = plots.save_figure(fig, report.output_dirs(profile)["figures"] / "fig3-quantization")

    table = summary[["model", "format", "bytes_per_vector", "compression_ratio", "value", "change_pct"]].rename(
        columns={"value": "ndcg_at_10", "bytes_per_vector": "bytes/vector", "compression_ratio": "CR",
                 "change_pct": "change (%)"}
    )
    files |= {f"table_{k}": v for k, v in report.write_table(
        table, "table-quantization", profile, f"nDCG@10 per storage format (our models and collections). {sets}"
    ).items()}
    comparison = report.compare_with_paper(summary)
    files |= {f"comparison_{k}": v for k, v in report.write_table(
        comparison, "table-quantization-vs-paper", profile,
        f"Relative nDCG@10 change vs float32: ours beside the paper's Table 1 (100 % of dimensions). {sets}",
    ).items()}
    conclusions = sets + "\n" + quantization_conclusions(summary, comparison)
    return StageOutput(tidy, summary, comparison, figure, files, conclusions)


def quantization_conclusions(summary: pd.DataFrame, comparison: pd.DataFrame) -> str:
    """The closing text of stage 02, written from the numbers."""
    lines = report.describe_format_changes(summary)
    ours = [c for c in comparison.columns if c.startswith("ours")]
    paper = [c for c in comparison.columns if c.startswith("paper")]
    for row in comparison.itertuples(index=False):
        rec = dict(zip(comparison.columns, row))
        if rec["format"] == "float32" or not paper or pd.isna(rec[paper[0]]):
            continue
        our_vals = [rec[c] for c in ours]
        paper_vals = [rec[c] for c in paper]
        lo, hi = min(paper_vals), max(paper_vals)
        inside = all(lo - 1.0 <= v <= hi + 1.0 for v in our_vals)
        verdict = "agrees with the paper" if inside else "differs from the paper"
        lines.append(
            f"{rec['format']}: ours {', '.join(f'{v:+.2f} %' for v in our_vals)} vs paper (bge-small, nomic) "
            f"{', '.join(f'{v:+.2f} %' for v in paper_vals)}: {verdict} (agreement = within 1 point of its range)."
        )
    lines.append(
        "Differences are expected: other models (MiniLM/MPNet, not bge-small/nomic) and other collections "
        "(small BEIR-format sets, not 67 MTEB tasks); int8 is calibrated on MLQuestions as in the paper, "
        "so collections far from it suffer from its wrap-around; float4's direct cast rounds most unit-vector "
        "components to 0."
    )
    return "\n".join(lines)
