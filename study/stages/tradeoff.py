"""Stage 05 (notebook 05-tradeoff): the trade-off over every configuration the profile has run so far.

The pieces notebook 05 calls, one cell each: the models judged, the configurations and frontier
tables, the budget recommendations, and the paper's inputs (scorecard tables, provenance, macros,
README material). Its figures are in ``study.figures.tradeoff``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from study.analysis import report
from study.analysis.comparison import sets_sentence, sets_table
from study.analysis.scorecard import (
    as_table,
    checks_table,
    collections_table,
    faithful_settings,
    paper_configurations,
)
from study.analysis.tradeoff import (
    comparison_sets,
    configuration_rows,
    configurations,
    format_bytes,
    load_per_query,
    load_tidy,
    per_collection_intervals,
    with_uncertainty,
)
from study.core import artifacts
from study.core.errors import StudyError
from study.core.io import atomic_write
from study.core.paths import output_root
from study.figures.explorer import EXPLORER, write_explorer
from study.publish import paper_macros
from study.publish.provenance import write_provenance

FIG_TRADEOFF = artifacts.FIG_TRADEOFF
FIG_STORAGE = artifacts.FIG_TRADEOFF_STORAGE


# --- figures -----------------------------------------------------------------------------------------------


# --- tables -------------------------------------------------------------------------------------------------


def _interval(low: float, high: float) -> str:
    return f"[{low:+.2f}, {high:+.2f}]" if pd.notna(low) and pd.notna(high) else "no CI"


def frontier_table(configs: pd.DataFrame) -> pd.DataFrame:
    """The frontier (``on_frontier``: with per-query scores, only steps the CI allows), with each point's CI vs
    float32 and whether float32 is inside it."""
    front = configs[configs.on_frontier].sort_values(["model", "compression_ratio"]).copy()
    front["ci"] = [_interval(lo, hi) for lo, hi in zip(front.get("ci_low", pd.Series(pd.NA, front.index)),
                                                        front.get("ci_high", pd.Series(pd.NA, front.index)))]
    front["same"] = ["yes" if s else "" for s in front.get("same_as_float32", pd.Series(False, front.index))]
    return front[["model", "label", "bytes_per_vector", "tier2_bytes_per_vector", "overhead_bytes", "compression_ratio",
                  "expected", "change_pct", "ci", "same", "n_datasets"]].rename(columns={
        "label": "configuration", "bytes_per_vector": "bytes/vector", "tier2_bytes_per_vector": "of which tier 2",
        "overhead_bytes": "overhead (B)", "compression_ratio": "CR", "expected": "nDCG@10", "change_pct": "change (%)",
        "ci": "95 % CI", "same": "same as float32", "n_datasets": "collections"})


def selection_table(selection: pd.DataFrame) -> pd.DataFrame:
    """``select``'s answer per model, N and budget: the configuration, its storage, its change and CI, how many
    that fit it could not tell apart, and a flag below the quality floor."""
    out = selection.copy()
    out["N"] = out.n_vectors.map("{:,}".format)
    out["budget"] = out.budget + " (" + out.budget_size + ")"
    out["storage"] = [format_bytes(b) if pd.notna(b) else "" for b in out.total_bytes]
    out["configuration"] = out.configuration.fillna("nothing fits")
    out["change_pct"] = [f"{c:+.2f}" if pd.notna(c) else "" for c in out.change_pct]
    out["ci"] = [_interval(lo, hi) if pd.notna(c) else "" for lo, hi, c in zip(out.ci_low, out.ci_high,
                                                                                out.total_bytes)]
    out["tied"] = [f"{int(n)}" if pd.notna(n) else "" for n in out.n_tied]
    out["floor"] = ["" if pd.isna(g) or g else f"below; needs {format_bytes(b)}"
                    for g, b in zip(out.good_enough, out.needed_bytes)]
    return out[["model", "N", "budget", "configuration", "storage", "change_pct", "ci", "tied", "floor"]].rename(
        columns={"change_pct": "change (%)", "ci": "95 % CI", "tied": "not worse than the best", "floor": "floor"})


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
        report.output_dirs(profile)["results"] / "tables" / f"{artifacts.TRADEOFF_CONFIGURATIONS}.csv",
        lambda p: configs.to_csv(p, index=False, float_format="%.6g"))}
    files |= {f"frontier_{k}": v for k, v in report.write_table(
        frontier_table(configs), artifacts.TRADEOFF_FRONTIER, profile,
        "The frontier per model: the cheapest configuration, then each one significantly better (paired 95 % CI) "
        f"than the best cheaper one; bytes per vector count every tier. {sets}"
        f"{dropped_text}").items()}
    return files


def write_selection(selection: pd.DataFrame, configs: pd.DataFrame, profile: str) -> dict[str, Path]:
    """The budget recommendations (CSV and LaTeX)."""
    return report.write_table(
        selection_table(selection), artifacts.TRADEOFF_SELECTION, profile,
        "Inside each memory budget (every tier stored, plus what is stored once), per corpus size: the cheapest "
        "configuration not significantly worse than the best one that fits, how many it could not tell apart, "
        f"and a flag where it loses more than the quality floor. {sets_sentence(comparison_sets(configs))}")


def profile_sets(profile: str, configs: pd.DataFrame, claims: list) -> pd.DataFrame:
    """Every collection set the profile's documents name: each published stage's (its ``collection-sets-<stem>``
    CSV), the frontier's and each scorecard claim's; one row per set, sorted by model and name."""
    tables = report.output_dirs(profile)["results"] / "tables"
    parts = [pd.read_csv(tables / f"{artifacts.stage_sets(artifacts.STAGES[s].stem)}.csv", keep_default_na=False)
             for s in artifacts.SETS_STAGES
             if (tables / f"{artifacts.stage_sets(artifacts.STAGES[s].stem)}.csv").exists()]
    own = [*comparison_sets(configs).values(), *(s for c in claims for s in c.sets.values() if s is not None)]
    table = pd.concat([*parts, sets_table(own)], ignore_index=True)
    return table.drop_duplicates("set").sort_values(["model", "collections", "set"], ascending=[True, False, True],
                                                     ignore_index=True)


def write_paper_inputs(profile: str, tidy: pd.DataFrame, configs: pd.DataFrame, claims: list, models: list[str],
                       used: list[Path], params: dict | None, metric: str = "ndcg_at_10",
                       weighting: str = "texts") -> dict[str, Path]:
    """Scorecard tables, provenance, the paper's macros and the README material."""
    card, checks = as_table(claims), checks_table(claims)
    files = {f"scorecard_{k}": v for k, v in paper_macros.write_scorecard(card, checks, profile,
                                                                        collections_table(claims)).items()}
    files["provenance"] = write_provenance(profile)
    provenance = json.loads(files["provenance"].read_text())
    calibrate_on, fit_on = faithful_settings(tidy)
    paper_configs = paper_configurations(tidy, calibrate_on, fit_on, metric, weighting)
    macros = paper_macros.all_macros(profile, configs, claims, models, provenance, used,
                                     sorted(set(tidy.dataset)), paper_configs)
    files |= paper_macros.write_collection_sets(profile_sets(profile, configs, claims), profile)
    files["macros"] = paper_macros.write_macros(macros, profile)
    for i, path in enumerate(paper_macros.write_readme_results(profile, card, params)):
        files[f"readme_{i}"] = path
    return files




# --- the interactive explorer (the workflow's `explorer` rule, `study explorer`) -----------------------------------


def explorer_weighting(profile: str) -> str:
    """The weighting notebook 05 used (its ``tradeoff-configurations.csv``), else ``texts`` (``study select``'s
    default), so the page answers as the notebook's tables and ``study select --weighting`` do."""
    path = report.output_dirs(profile)["results"] / "tables" / f"{artifacts.TRADEOFF_CONFIGURATIONS}.csv"
    if path.exists():
        values = pd.read_csv(path, usecols=lambda c: c == "weighting").get("weighting", pd.Series(dtype=str))
        if len(values.dropna()):
            return str(values.dropna().iloc[0])
    return "texts"


def write_explorer_page(profile: str, metric: str = "ndcg_at_10") -> Path:
    """``figures/<profile>/explorer.html`` from the profile's saved tidy results, exactly the configurations
    ``study select`` compares (recomputed from the stage tables at full precision, not read back from the rounded
    CSV), with their bootstrap CIs and per-collection values from the per-query scores. Nothing is rerun."""
    tidy, used = load_tidy(profile)
    per_query = load_per_query(used)
    weighting = explorer_weighting(profile)
    configs, draws = with_uncertainty(configurations(tidy, metric=metric, weighting=weighting), tidy, per_query,
                                      weighting, metric)
    rows = per_collection_intervals(configuration_rows(tidy, configs, metric), per_query, metric)
    root = output_root()
    source = ", ".join(p.relative_to(root).as_posix() if p.is_relative_to(root) else p.name for p in used)
    return write_explorer(configs, rows, report.output_dirs(profile)["figures"] / EXPLORER, profile,
                          weighting=weighting, source=source, draws=draws)
