"""Stage 05 (notebook 05-tradeoff): the trade-off over every configuration the profile has run so far.

One call for the notebook (``run_tradeoff_stage``): configurations from all tidy result files,
Pareto frontier, memory-budget recommendations, the reproduction scorecard, the figures (the
paper's Fig. 7 and Fig. 8/9), LaTeX tables, the paper's macros, provenance and README material.
The two figure functions live here (not in ``plots``) because only this stage draws them; they
use the shared style and ``plots.save_figure``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis import report
from study.analysis.comparison import sets_sentence
from study.analysis.scorecard import (
    as_table,
    checks_table,
    collections_table,
    faithful_settings,
    paper_configurations,
    scorecard,
)
from study.analysis.tradeoff import (
    check_n_vectors,
    comparison_sets,
    configurations,
    format_bytes,
    load_per_query,
    load_tidy,
    parse_budgets,
    selections,
)
from study.core.errors import StudyError
from study.core.io import atomic_write
from study.figures import plots
from study.figures.tradeoff import plot_storage, plot_tradeoff
from study.publish import paper_macros
from study.publish.provenance import write_provenance

FIG_TRADEOFF = "fig7-tradeoff"
FIG_STORAGE = "fig8-tradeoff-storage"


@dataclass
class TradeoffOutput:
    configurations: pd.DataFrame
    frontier: pd.DataFrame
    selection: pd.DataFrame
    scorecard: pd.DataFrame
    checks: pd.DataFrame
    figures: dict[str, dict[str, Path]]
    files: dict[str, Path]
    conclusions: str
    stage_files: list[Path] = field(default_factory=list)


# --- figures -----------------------------------------------------------------------------------------------






# --- tables -------------------------------------------------------------------------------------------------


def frontier_table(configs: pd.DataFrame) -> pd.DataFrame:
    front = configs[configs.on_frontier].sort_values(["model", "compression_ratio"])
    return front[["model", "label", "bytes_per_vector", "tier2_bytes_per_vector", "overhead_bytes", "compression_ratio",
                  "expected", "change_pct", "n_datasets"]].rename(columns={
        "label": "configuration", "bytes_per_vector": "bytes/vector", "tier2_bytes_per_vector": "of which tier 2",
        "overhead_bytes": "overhead (B)",
        "compression_ratio": "CR", "expected": "nDCG@10", "change_pct": "change (%)", "n_datasets": "collections"})


def selection_table(selection: pd.DataFrame) -> pd.DataFrame:
    out = selection.copy()
    out["N"] = out.n_vectors.map("{:,}".format)
    out["budget"] = out.budget + " (" + out.budget_size + ")"
    out["storage"] = [format_bytes(b) if pd.notna(b) else "" for b in out.total_bytes]
    out["configuration"] = out.configuration.fillna("nothing fits")
    out["change_pct"] = [f"{c:+.2f}" if pd.notna(c) else "" for c in out.change_pct]
    return out[["model", "N", "budget", "configuration", "storage", "change_pct"]].rename(
        columns={"change_pct": "change (%)"})


# --- the stage --------------------------------------------------------------------------------------------


def judged_models(models: list[str], tidy: pd.DataFrame) -> list[str]:
    """The profile's models that have results, first, then every other model with results (e.g. WordLlama,
    which only the reduction stages run): every model with results is judged."""
    present = [m for m in models if m in set(tidy.model)]
    if not present:
        raise StudyError(f"no results for {', '.join(models)} (found: {', '.join(sorted(set(tidy.model)))})")
    return present + [m for m in dict.fromkeys(tidy.model) if m not in present]


def write_configurations(configs: pd.DataFrame, profile: str) -> dict[str, Path]:
    """The configurations table (CSV) and the frontier table (CSV and LaTeX), captions naming the collections."""
    sets = sets_sentence(comparison_sets(configs))
    dropped = {m: len(v) for m, v in configs.attrs.get("dropped", {}).items() if v}
    dropped_text = (" Configurations scored on fewer collections are left out of the frontier (" +
                    ", ".join(f"{m}: {n}" for m, n in dropped.items()) + "; they are compared in their stage's "
                    "tables)." if dropped else "")
    files = {"configurations": atomic_write(
        report.output_dirs(profile)["results"] / "tables" / "tradeoff-configurations.csv",
        lambda p: configs.to_csv(p, index=False, float_format="%.6g"))}
    files |= {f"frontier_{k}": v for k, v in report.write_table(
        frontier_table(configs), "table-tradeoff-frontier", profile,
        "Pareto-optimal configurations per model: measured bytes per vector (every tier; of which the rescoring "
        f"tier), what is stored once, compression ratio, nDCG@10 and its change against float32. {sets}"
        f"{dropped_text}").items()}
    return files


def write_selection(selection: pd.DataFrame, configs: pd.DataFrame, profile: str) -> dict[str, Path]:
    """The budget recommendations (CSV and LaTeX)."""
    return report.write_table(
        selection_table(selection), "table-tradeoff-selection", profile,
        "Best configuration inside each memory budget (every tier it stores, plus what is stored once), per corpus "
        f"size. {sets_sentence(comparison_sets(configs))}")


def write_paper_inputs(profile: str, tidy: pd.DataFrame, configs: pd.DataFrame, claims: list, selection: pd.DataFrame,
                       models: list[str], used: list[Path], params: dict | None, metric: str = "ndcg_at_10",
                       weighting: str = "texts") -> dict[str, Path]:
    """Scorecard tables, provenance, the paper's macros, the list of other results and the README material."""
    card, checks = as_table(claims), checks_table(claims)
    files = {f"scorecard_{k}": v for k, v in paper_macros.write_scorecard(card, checks, profile,
                                                                        collections_table(claims)).items()}
    files["provenance"] = write_provenance(profile)
    provenance = json.loads(files["provenance"].read_text())
    calibrate_on, fit_on = faithful_settings(tidy)
    paper_configs = paper_configurations(tidy, calibrate_on, fit_on, metric, weighting)
    macros = paper_macros.all_macros(profile, configs, claims, selection, models, provenance, used,
                                     sorted(set(tidy.dataset)), paper_configs)
    files["macros"] = paper_macros.write_macros(macros, profile)
    files["other_results"] = paper_macros.write_other_results(profile)
    for i, path in enumerate(paper_macros.write_readme_results(profile, card, params)):
        files[f"readme_{i}"] = path
    return files


def run_tradeoff_stage(
    models: list[str],
    profile: str,
    n_vectors: list[int],
    budgets: dict[str, str],
    weighting: str = "texts",
    metric: str = "ndcg_at_10",
    params: dict | None = None,
) -> TradeoffOutput:
    """Stage 05 over whatever tidy results the profile has (stages 02, 03, 04, 06 ...), in one call (what
    ``study publish`` and the tests use; notebook 05 shows the same steps one by one)."""
    budget_bytes = parse_budgets(budgets)
    n_list = [check_n_vectors(n) for n in n_vectors]
    tidy, used = load_tidy(profile)
    present = judged_models(models, tidy)
    per_query = load_per_query(used)
    configs = configurations(tidy, metric=metric, weighting=weighting)
    files = write_configurations(configs, profile)
    selection = selections(configs, n_list, budget_bytes)
    files |= write_selection(selection, configs, profile)
    calibrate_on, fit_on = faithful_settings(tidy)
    claims = scorecard(tidy, present, weighting, per_query=per_query, calibrate_on=calibrate_on, fit_on=fit_on)
    dirs = report.output_dirs(profile)
    figures = {
        "tradeoff": plots.save_figure(plot_tradeoff(configs), dirs["figures"] / FIG_TRADEOFF),
        "storage": plots.save_figure(plot_storage(configs, n_list, budget_bytes), dirs["figures"] / FIG_STORAGE),
    }
    files |= write_paper_inputs(profile, tidy, configs, claims, selection, present, used, params, metric, weighting)
    conclusions = tradeoff_conclusions(configs, selection, claims, used, [m for m in models if m not in present])
    return TradeoffOutput(configs, frontier_table(configs), selection, as_table(claims), checks_table(claims),
                          figures, files, conclusions, used)


def tradeoff_conclusions(configs: pd.DataFrame, selection: pd.DataFrame, claims: list, used: list[Path],
                         missing_models: list[str]) -> str:
    """The closing text of stage 05, written from the numbers."""
    lines = [f"Configurations from {', '.join(p.name for p in used)}: {len(configs)} on the frontier's collections. "
             + sets_sentence(comparison_sets(configs), with_names=False)]
    if missing_models:
        lines.append(f"No results yet for {', '.join(missing_models)}.")
    for model, frame in configs.groupby("model", sort=False):
        front = frame[frame.on_frontier].sort_values("compression_ratio")
        lines.append(f"{model}: Pareto frontier (bytes per vector vs nDCG@10) = "
                     + ", ".join(f"{r.label} {r.compression_ratio:.3g}× {r.change_pct:+.2f} %"
                                 for r in front.itertuples())
                     + ".")
        dominated = frame[~frame.on_frontier]
        if len(dominated):
            lines.append(f"  {len(dominated)} dominated, e.g. "
                         + ", ".join(f"{r.label} ({r.change_pct:+.2f} % at {r.compression_ratio:.3g}×)"
                                     for r in dominated.sort_values("loss_pct").head(3).itertuples()) + ".")
    for (model, n), frame in selection.groupby(["model", "n_vectors"], sort=False):
        picks = [f"{r.budget} ({r.budget_size}): {r.configuration} ({r.change_pct:+.2f} %)"
                 if isinstance(r.configuration, str)
                 else f"{r.budget} ({r.budget_size}): nothing fits" for r in frame.itertuples()]
        lines.append(f"{model}, {n:,} vectors -> " + "; ".join(picks) + ".")
    for c in claims:
        lines.append(f"Claim {c.number} ({c.claim[:60]}...): {c.verdict} (unweighted: {c.verdict_unweighted}; "
                     f"{c.robustness}) — {c.checked}.")
    not_run = [c.number for c in claims if c.verdict == "not run"]
    if not_run:
        lines.append(f"Claim{'s' if len(not_run) > 1 else ''} {', '.join(map(str, not_run))} "
                     f"need{'' if len(not_run) > 1 else 's'} stages that have not run for this profile "
                     "(reduction, combined, or a second model).")
    changes = configs.change_pct.to_numpy()
    lines.append(f"Across all configurations nDCG@10 changes from {np.nanmin(changes):+.2f} % to "
                 f"{np.nanmax(changes):+.2f} % against float32.")
    return "\n".join(lines)
