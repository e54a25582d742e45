"""Stages 03 (every reducer × fraction, float32 and float8) and 04 (reduction × every format, the
paper's Table 1): the plan notebooks 03 and 04 run, their tables, ``publish_*`` (figures and tables from
the saved results, what ``study publish`` runs) and the closing text it prints."""

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
#: two changes closer than this many percentage points count as "about equal" in the conclusions
TOLERANCE_PTS = 1.0


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
    """Stage 03's summary, figure (paper Fig. 4/5), table and conclusions from its tidy results, like for like."""
    summary = report.summarise(tidy, ["reducer", "fraction", "format"], weighting=weighting)
    sets = report.caption_sets(summary)
    fig = reduction_figure(summary, weighting, fit_on)
    figure = plots.save_figure(fig, report.output_dirs(profile)["figures"] / artifacts.FIG_REDUCTION)
    table = change_table(summary, "reducer")
    files = {"collection_sets": report.write_collection_sets(summary.attrs["sets"], STEM, profile)}
    files |= _write(table, artifacts.TABLE_REDUCTION, profile,
                   f"nDCG@10 change (%) vs float32 per reducer and kept fraction (reduce, then store in the format). "
                   f"{sets}")
    conclusions = sets + "\n" + reduction_conclusions(summary, times)
    return ReductionStageOutput(tidy, summary, pd.DataFrame(), figure, files, conclusions, table=table, timings=times)


def change_table(summary: pd.DataFrame, by: str) -> pd.DataFrame:
    """Wide table: one row per model × ``by`` × format, one column per kept fraction (% change)."""
    rows = summary[summary.reducer != NONE]
    wide = rows.pivot_table(index=["model", by, "format"], columns="fraction", values="change_pct", sort=False)
    wide = wide[sorted(wide.columns, reverse=True)]
    wide.columns = [f"{c:.0%} kept" for c in wide.columns]
    return wide.reset_index()


def _write(df: pd.DataFrame, stem: str, profile: str, caption: str) -> dict[str, Path]:
    return {f"{stem}_{k}": v for k, v in report.write_table(df, stem, profile, caption).items()}


def _change(summary: pd.DataFrame, model: str, reducer: str, fraction: float, fmt: str) -> float | None:
    hit = summary[(summary.model == model) & (summary.reducer == reducer) & np.isclose(summary.fraction, fraction)
                  & (summary.format == fmt)]
    return float(hit.change_pct.iloc[0]) if len(hit) else None


def reduction_conclusions(summary: pd.DataFrame, times: pd.DataFrame) -> str:
    """The closing text of stage 03: rankings per fraction and the paper's ranking, checked from the numbers."""
    lines = []
    reduced = summary[summary.reducer != NONE]
    fractions = sorted(reduced.fraction.unique(), reverse=True)
    for model in summary.model.unique():
        for fmt in reduced[reduced.model == model].format.unique():
            for f in fractions:
                at = reduced[(reduced.model == model) & (reduced.format == fmt) & np.isclose(reduced.fraction, f)]
                ranking = ", ".join(f"{r.reducer} {r.change_pct:+.2f} %" for r in
                                    at.sort_values("change_pct", ascending=False).itertuples())
                lines.append(f"{model}, {fmt}, {f:.0%} kept: {ranking}.")
        lines += _paper_ranking_checks(summary, model, fractions)
        if not times.empty:
            lines += _cost_lines(times[times.model == model])
    lines.append(
        "The paper fit every reducer on MLQuestions; kernel PCA and UMAP here are fit on a seeded subsample "
        "(fit_rows in the timings table), so their numbers are for that fit-set size. Timings are wall-clock "
        "on a shared machine and only indicative."
    )
    return "\n".join(lines)


def _paper_ranking_checks(summary: pd.DataFrame, model: str, fractions: list[float]) -> list[str]:
    """PCA ≈ kernel PCA ≫ random projection ≫ autoencoder, UMAP — per model, on float32."""
    def changes(reducer: str) -> list[float] | None:
        vals = [_change(summary, model, reducer, f, "float32") for f in fractions]
        return None if any(v is None for v in vals) else vals

    pca, rp = changes("pca"), changes("random_projection")
    kpcas = {k: changes(k) for k in ("kpca_cosine", "kpca_rbf", "kpca_poly")}
    kpcas = {k: v for k, v in kpcas.items() if v is not None}
    weak = {k: changes(k) for k in ("autoencoder", "umap")}
    weak = {k: v for k, v in weak.items() if v is not None}
    out = []
    if pca is None:
        return [f"{model}: PCA was not run on float32, so the paper's ranking cannot be checked."]
    where = ", ".join(f"{f:.0%}" for f in fractions)
    if kpcas:
        gap = max(abs(a - b) for v in kpcas.values() for a, b in zip(v, pca))
        verdict = "holds" if gap <= TOLERANCE_PTS else "does not hold"
        out.append(f"{model}: PCA ≈ kernel PCA ({', '.join(kpcas)}) {verdict}: the largest gap to PCA at "
                   f"{where} kept is {gap:.2f} points (tolerance {TOLERANCE_PTS:g}).")
    if rp is not None:
        best = [max([p, *(v[i] for v in kpcas.values())]) for i, p in enumerate(pca)]
        margin = min(b - r for b, r in zip(best, rp))
        verdict = "holds" if margin > TOLERANCE_PTS else "does not hold"
        out.append(f"{model}: PCA/kernel PCA ≫ random projection {verdict}: random projection "
                   f"{', '.join(f'{r:+.2f} %' for r in rp)} (the best of PCA/kernel PCA's smallest lead over it: "
                   f"{margin:+.2f} points; '≫' = a lead of more than {TOLERANCE_PTS:g} point at every fraction).")
        for name, vals in weak.items():
            margin = min(r - w for r, w in zip(rp, vals))
            verdict = "holds" if margin > TOLERANCE_PTS else "does not hold"
            listed = ", ".join(f"{w:+.2f} %" for w in vals)
            out.append(f"{model}: random projection ≫ {name} {verdict}: {name} {listed} "
                       f"(random projection's smallest lead over it: {margin:+.2f} points).")
    trunc = changes("truncation")
    if trunc is not None:
        wins = sum(t > p for t, p in zip(trunc, pca))
        t_list, p_list = ", ".join(f"{t:+.2f}" for t in trunc), ", ".join(f"{p:+.2f}" for p in pca)
        out.append(f"{model}: truncation beats PCA at {wins} of {len(fractions)} fractions "
                   f"(truncation {t_list} % vs PCA {p_list} %).")
    return out


def _cost_lines(times: pd.DataFrame) -> list[str]:
    if times.empty:
        return []
    model = times.model.iloc[0]
    per = times.groupby("reducer", sort=False).agg(fit_s=("fit_s", "mean"), rows=("fit_rows", "max"),
                                                   tr=("transform_ms_per_1k", "mean"))
    parts = "; ".join(f"{r} fit {p.fit_s:.3g} s on {int(p.rows):,} vectors, transform {p.tr:.3g} ms per 1k"
                      for r, p in per.iterrows())
    line = f"{model}: mean cost per fit: {parts}."
    kpca = [r for r in per.index if r.startswith("kpca")]
    if "pca" in per.index and kpca:
        pca, k = per.loc["pca"], per.loc[kpca]
        line += (f" Kernel PCA's fit takes {k.fit_s.mean() / max(pca.fit_s, 1e-9):.2g}× PCA's and its transform "
                 f"{k.tr.mean() / max(pca.tr, 1e-9):.2g}× PCA's, although kernel PCA is fit on {int(k.rows.max()):,} "
                 f"vectors and PCA on {int(pca.rows):,}.")
    return [line]


# --- stage 04 ---------------------------------------------------------------------------------------------


def publish_combined(tidy: pd.DataFrame, reducers: list[str], formats: list[str], weighting: str, fit_on: str,
                     profile: str, times: pd.DataFrame | None = None) -> ReductionStageOutput:
    """Stage 04's summary, our Table 1 (and the paper's beside it), figure (paper Fig. 6) and conclusions from
    its tidy results, like for like."""
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
    conclusions = sets + "\n" + combined_conclusions(summary, comparison)
    return ReductionStageOutput(tidy, summary, comparison, figure, files, conclusions,
                                table=tables[reducers[0]], timings=times)


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


def combined_conclusions(summary: pd.DataFrame, comparison: pd.DataFrame) -> str:
    """The closing text of stage 04, from the numbers: the paper's claims 2-5 on our data."""
    lines = []
    for model in summary.model.unique():
        int8 = _change(summary, model, NONE, 1.0, "int8")
        for fmt in ("float8_e4m3", "float8_e5m2"):
            combo = _change(summary, model, "pca", 0.5, fmt)
            if combo is not None and int8 is not None:
                verdict = "holds" if combo > int8 else "does not hold"
                lines.append(f"{model}: PCA 50 % + {fmt} (8×) {combo:+.2f} % vs int8 alone (4×) {int8:+.2f} %: the "
                             f"paper's claim that the combination loses less {verdict}.")
        p25 = _change(summary, model, "pca", 0.25, "float32")
        f8 = [_change(summary, model, NONE, 1.0, f) for f in ("float8_e4m3", "float8_e5m2")]
        f8 = [v for v in f8 if v is not None]
        if p25 is not None and f8:
            verdict = "holds" if p25 < min(f8) else "does not hold"
            lines.append(f"{model}: PCA alone at 25 % (4×) {p25:+.2f} % vs float8 alone (4×) "
                         f"{', '.join(f'{v:+.2f} %' for v in f8)}: 'PCA loses more than float8 at equal compression' "
                         f"{verdict}.")
        lines += _budget_lines(summary[summary.model == model], model)
        pca = summary[(summary.model == model) & (summary.reducer == "pca")]
        trunc = summary[(summary.model == model) & (summary.reducer == "truncation")]
        if len(pca) and len(trunc):
            pair = pca.merge(trunc, on=["format", "fraction"], suffixes=("_pca", "_trunc"))
            wins = int((pair.change_pct_trunc > pair.change_pct_pca).sum())
            lines.append(f"{model}: truncation beats PCA in {wins} of {len(pair)} (format, fraction) cells "
                         f"(median gap {np.nanmedian(pair.change_pct_trunc - pair.change_pct_pca):+.2f} points).")
    lines += _width_lines(summary)
    if not comparison.empty:
        paper_cols = [c for c in comparison.columns if c.startswith("paper")]
        ours_cols = [c for c in comparison.columns if c.startswith("ours")]
        both = comparison.dropna(subset=paper_cols)
        if len(both) and ours_cols:
            lo, hi = both[paper_cols].min(axis=1) - TOLERANCE_PTS, both[paper_cols].max(axis=1) + TOLERANCE_PTS
            inside = both[ours_cols].apply(lambda c: c.between(lo, hi)).all(axis=1)
            lines.append(f"Table 1: in {int(inside.sum())} of {len(both)} (format, fraction) rows our changes lie "
                         f"within {TOLERANCE_PTS:g} point of the range of the paper's two models.")
    lines.append("Differences are expected: other models and collections than the paper's; reducers fit on "
                 "the fit set named in the parameters; int8 ranges taken on the reduced calibration set.")
    return "\n".join(lines)


def _budget_lines(summary: pd.DataFrame, model: str) -> list[str]:
    """Best configuration at each compression ratio (the paper's claim 4, read from our grid)."""
    out = []
    for ratio in (2, 4, 8, 16, 32):
        ok = summary[summary.compression_ratio >= ratio * 0.999]
        if ok.empty:
            continue
        best = ok.sort_values("value", ascending=False).iloc[0]
        what = best.format if best.reducer == NONE else f"{best.reducer} {best.fraction:.0%} + {best.format}"
        out.append(f"{model}: best at ≥ {ratio}× compression: {what} ({best.compression_ratio:.3g}×, "
                   f"{best.change_pct:+.2f} %).")
    return out


def _width_lines(summary: pd.DataFrame) -> list[str]:
    """Claim 5: the wider model loses less (mean change over the shared grid)."""
    means = summary[summary.reducer == "pca"].groupby("model").change_pct.mean()
    if len(means) < 2:
        return []
    return ["Mean change over the PCA grid per model: " + ", ".join(f"{m} {v:+.2f} %" for m, v in means.items())
            + " (the paper: higher-dimensional models are more robust)."]
