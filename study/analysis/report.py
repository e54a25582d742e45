"""Result files, aggregated summaries and LaTeX/CSV tables (all written atomically)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from study.analysis.comparison import CollectionSet, compare_like_for_like, in_sample_mask, sets_sentence, sets_table
from study.analysis.paper_reference import paper_table1
from study.core.artifacts import stage_sets
from study.core.errors import ParameterError
from study.core.io import atomic_write, write_text_atomic
from study.core.paths import output_root
from study.core.tables import readable

WEIGHTINGS = ("texts", "none")


def output_dirs(profile: str) -> dict[str, Path]:
    """Where a profile's results, figures, LaTeX tables and executed notebooks go."""
    root = output_root()
    return {
        "results": root / "results" / profile,
        "figures": root / "figures" / profile,
        "tables": root / "paper" / "generated" / profile,
        "notebooks": root / "build" / "notebooks" / profile,
    }


def save_results(tidy: pd.DataFrame, per_query: pd.DataFrame, stem: str, profile: str) -> dict[str, Path]:
    """Write ``<stem>.csv`` (tidy) and ``<stem>-per-query.parquet`` under the profile's results."""
    folder = output_dirs(profile)["results"]
    csv_path = atomic_write(folder / f"{stem}.csv", lambda p: tidy.to_csv(p, index=False, float_format="%.6g"))
    pq_path = atomic_write(folder / f"{stem}-per-query.parquet", lambda p: per_query.to_parquet(p, index=False))
    return {"csv": csv_path, "per_query": pq_path}


COMPRESSED_CSV = ".csv.gz"  # a committed tidy table over git's size limit is stored gzipped beside the name


def tidy_path(folder: Path, stem: str) -> Path:
    """A stage's tidy table: ``<stem>.csv``, or ``<stem>.csv.gz`` where only the compressed copy exists (the
    committed full profile's stage 09: 5.6 MB as CSV)."""
    plain = folder / f"{stem}.csv"
    packed = folder / f"{stem}{COMPRESSED_CSV}"
    return packed if not plain.exists() and packed.exists() else plain


def result_stem(path: Path) -> str:
    """``09-codecs`` for ``09-codecs.csv`` and ``09-codecs.csv.gz``."""
    name = path.name
    return name[: -len(COMPRESSED_CSV)] if name.endswith(COMPRESSED_CSV) else path.stem


def load_results(stem: str, profile: str) -> pd.DataFrame:
    return pd.read_csv(tidy_path(output_dirs(profile)["results"], stem))


def saved(stem: str, profile: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tidy results and per-query scores a stage saved, as every figure and table is drawn from them
    (so a notebook run and the workflow's publish rule write the same bytes)."""
    folder = output_dirs(profile)["results"]
    parquet = folder / f"{stem}-per-query.parquet"
    return load_results(stem, profile), (pd.read_parquet(parquet) if parquet.exists() else pd.DataFrame())


def weighted_mean(values: pd.Series, weights: pd.Series | None) -> float:
    if weights is None:
        return float(values.mean())
    return float(np.average(values, weights=weights))


def summarise(
    tidy: pd.DataFrame,
    keys: list[str],
    metric: str = "ndcg_at_10",
    weighting: str = "texts",
    baseline: dict[str, object] | None = None,
    policy: str = "shared",
) -> pd.DataFrame:
    """Average ``metric`` over collections per model × ``keys``, and the % change against the
    model's baseline configuration (float32, nothing reduced) averaged the same way.

    ``weighting='texts'`` weights each collection by its documents + queries (the paper's
    choice); ``'none'`` gives every collection the same weight. Like for like: per model, every row
    of the summary and the baseline are averaged over the same held-out collections
    (``comparison.compare_like_for_like`` under ``policy``); ``out.attrs["sets"]`` holds them (``caption_sets``),
    ``out.attrs["dropped"]`` the configurations ``widest`` left out (not scored on all of them).
    """
    if weighting not in WEIGHTINGS:

        raise ParameterError("weighting", weighting, WEIGHTINGS)
    baseline = baseline or {"format": "float32", "reducer": "none", "fraction": 1.0}
    comparison = compare_like_for_like(tidy[tidy.metric == metric], policy)
    rows = comparison.rows
    group_keys = ["model", *keys]

    def agg(frame: pd.DataFrame) -> pd.Series:
        weights = frame.n_texts if weighting == "texts" else None
        return pd.Series(
            {
                "value": weighted_mean(frame.value, weights),
                "bytes_per_vector": frame.bytes_per_vector.iloc[0],
                "compression_ratio": frame.compression_ratio.iloc[0],
                "n_datasets": frame.dataset.nunique(),
            }
        )

    out = rows.groupby(group_keys, sort=False).apply(agg, include_groups=False).reset_index()
    base_rows = rows
    for k, v in baseline.items():
        base_rows = base_rows[base_rows[k] == v]
    base = base_rows.groupby("model").apply(
        lambda f: weighted_mean(f.value, f.n_texts if weighting == "texts" else None), include_groups=False
    )
    out["baseline"] = out.model.map(base)
    out["change_pct"] = 100 * (out.value / out.baseline - 1)
    out["weighting"] = weighting
    out.attrs["sets"] = comparison.sets
    out.attrs["dropped"] = comparison.dropped
    return out


def caption_sets(summary: pd.DataFrame) -> str:
    """The sentence a caption ends with: which collections the summary's averages are over."""
    sets: dict[str, CollectionSet] = summary.attrs.get("sets", {})
    return sets_sentence(sets)


def write_collection_sets(sets: dict[str, CollectionSet], stem: str, profile: str) -> Path:
    """The collection sets a stage's captions name, with their members (``results/P/tables/collection-sets-<stem>``;
    stage 05 joins every stage's into the paper's table of collection sets)."""
    table = sets_table(sets.values())
    return atomic_write(output_dirs(profile)["results"] / "tables" / f"{stage_sets(stem)}.csv",
                        lambda p: table.to_csv(p, index=False))


def per_dataset_change(tidy: pd.DataFrame, metric: str = "ndcg_at_10") -> pd.DataFrame:
    """% change of every configuration against float32 (unreduced) of the same model and collection
    (rows scored on their own fit or calibration set are left out)."""
    rows = tidy[tidy.metric == metric]
    rows = rows[~in_sample_mask(rows)].copy()
    base = rows[(rows.format == "float32") & (rows.reducer == "none")].set_index(["model", "dataset"]).value
    rows["baseline"] = [base.get((m, d), np.nan) for m, d in zip(rows.model, rows.dataset)]
    rows["change_pct"] = 100 * (rows.value / rows.baseline - 1)
    return rows


_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "%": r"\%", "_": r"\_", "&": r"\&", "#": r"\#",
                   "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                   "<": r"\textless{}", ">": r"\textgreater{}"}


def latex_escape(text: object) -> str:
    """Escape LaTeX's special characters in plain text (pandas escapes cells, not captions and macros); Unicode
    symbols are declared in main.tex's preamble."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in str(text))


WRAP_AFTER_CHARS = 28  # a text column with longer cells wraps in a paragraph column of WRAP_WIDTH
WRAP_WIDTH = "4.4cm"


def column_format(df: pd.DataFrame) -> str:
    """LaTeX column types: numbers right-aligned, short text left-aligned, long text (configuration labels,
    collection lists) wrapped in a fixed-width ragged-right column, so a table fits the page's width."""
    def one(column: pd.Series) -> str:
        if pd.api.types.is_numeric_dtype(column):
            return "r"
        longest = column.astype(str).str.len().max() if len(column) else 0
        return f">{{\\raggedright\\arraybackslash}}p{{{WRAP_WIDTH}}}" if longest > WRAP_AFTER_CHARS else "l"
    return "".join(one(df[c]) for c in df.columns)


def write_table(df: pd.DataFrame, stem: str, profile: str, caption: str, label: str | None = None,
                printed: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write a table as CSV (results/<profile>/tables, full precision) and LaTeX (paper/generated/<profile>, rounded
    for reading: ``study.core.tables.readable``); the LaTeX prints ``printed`` where given (a part of ``df`` the
    caption names), else ``df``."""
    dirs = output_dirs(profile)
    csv_path = atomic_write(dirs["results"] / "tables" / f"{stem}.csv", lambda p: df.to_csv(p, index=False))
    shown = df if printed is None else printed
    latex = readable(shown).to_latex(index=False, float_format="%.4g", caption=latex_escape(caption),
                                     label=label or f"tab:{stem}", escape=True, position="htbp",
                                     column_format=column_format(shown))
    latex = latex.replace("\\begin{tabular}", "\\fitwidth{\\begin{tabular}").replace("\\end{tabular}",
                                                                                       "\\end{tabular}}")
    tex_path = write_text_atomic(dirs["tables"] / f"{stem}.tex", latex)
    return {"csv": csv_path, "tex": tex_path}


def compare_with_paper(summary: pd.DataFrame, fraction: float = 1.0) -> pd.DataFrame:
    """Our % change per format and model beside the paper's Table 1 at the same retained fraction."""

    paper = paper_table1()
    paper = paper[paper.fraction == fraction].pivot_table(index="format", columns="model", values="change_pct")
    paper.columns = [f"paper {c} (%)" for c in paper.columns]
    ours = summary.pivot_table(index="format", columns="model", values="change_pct", sort=False)
    ours.columns = [f"ours {c} (%)" for c in ours.columns]
    return ours.join(paper, how="left").reset_index()


def concat(frames) -> pd.DataFrame:
    """Stack the tables of several runs (e.g. one per model) into one."""
    return pd.concat(list(frames), ignore_index=True)
