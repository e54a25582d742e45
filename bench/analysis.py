"""The scaling benchmark's analysis: its rows of ``results/bench.csv`` as a table, the exponent of
time against corpus size, the figure, where HNSW starts to beat exact search, and conclusions
computed from the numbers.

The measurements come from ``python -m bench.scaling`` (streaming exact search and real HNSW indexes
over synthetic corpora of 10k to 1M unit vectors, one process per case). Cases are named
``format/d<dims>/N<docs>``, where ``format`` is a storage format of ``study.compress.formats`` (exact search)
or an index kind of ``study.search.indexes`` such as ``usearch-f16-hnsw``.

Lives in ``bench/`` beside the benchmark that writes the rows (``bench/scaling.py``); notebook 08 and
``bench/summary.py`` read it. (Its figure and its report are here too: one module for one benchmark.)
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from study.analysis.tradeoff import format_bytes
from study.compress.formats import FORMATS
from study.core import artifacts
from study.core.errors import StudyError
from study.core.paths import output_root
from study.figures import plots  # noqa: F401 - the study's seaborn style
from study.figures.plots import save_figure
from study.search.indexes import get_kind

BENCHMARK = "scaling"
_CASE = re.compile(r"^(?P<format>[^/]+)/d(?P<dims>\d+)/N(?P<n_docs>\d+)$")
_INDEX = re.compile(r"^(usearch|faiss)-[^-/]+-(?P<search>exact|hnsw)$")  # study.search.indexes kind names
EXACT = "exact"  # the ``method`` of the streaming exact-search cases
METRICS = ["wall_time_s", "peak_rss_bytes", "budget_bytes", "peak_rss_within_budget", "stored_bytes",
           "fraction_of_gemm_peak", "gemm_peak_macs_per_s", "recall_at_10_planted", "recall_at_10", "build_s",
           "bytes_per_vector"]  # columns every case table has (NaN where a case does not measure it)


def case_name(fmt: str, dims: int, n_docs: int) -> str:
    return f"{fmt}/d{dims}/N{n_docs}"


def is_index(fmt: str) -> bool:
    """Whether a case's ``format`` names a real index kind (``usearch-f16-hnsw``), not a storage format."""
    return bool(_INDEX.match(fmt))


def method(fmt: str) -> str:
    """``"exact"`` for the streaming search of a storage format; ``"hnsw"`` (or ``"index-exact"``, a
    library's own brute force) for an index kind."""
    match = _INDEX.match(fmt)
    if match is None:
        return EXACT
    return "index-exact" if match["search"] == EXACT else match["search"]


def bench_rows(path: Path | str | None = None, benchmark: str = BENCHMARK, script: str = "scaling") -> pd.DataFrame:
    """The ``benchmark`` rows of the bench table (default ``results/bench.csv`` under the output root);
    a ``StudyError`` naming ``bench/<script>.py`` when there are none."""
    path = Path(path) if path else output_root() / "results" / "bench.csv"
    if not path.exists():
        raise StudyError(f"{path}: no benchmark table; run `python -m bench.{script}` first")
    rows = pd.read_csv(path, dtype={"benchmark": str, "case": str, "metric": str, "unit": str})
    rows = rows[rows.benchmark == benchmark]
    if rows.empty:
        raise StudyError(f"{path}: no rows of benchmark {benchmark!r}; run `python -m bench.{script}` first")
    return rows


def case_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (format, dims, n_docs) case, one column per metric, and the case's ``method``
    (``exact`` or ``hnsw``)."""
    parts = rows.case.str.extract(_CASE)
    cases = rows[parts.notna().all(axis=1)].assign(**parts.dropna())
    wide = cases.pivot_table(index=["format", "dims", "n_docs"], columns="metric", values="value", aggfunc="first")
    wide = wide.reset_index()
    wide.columns.name = None
    wide["dims"] = wide.dims.astype(int)
    wide["n_docs"] = wide.n_docs.astype(int)
    wide.insert(1, "method", wide.format.map(method))
    for column in METRICS:
        if column not in wide:
            wide[column] = np.nan
    return wide.sort_values(["format", "dims", "n_docs"], ignore_index=True)


def fit_exponents(table: pd.DataFrame, metric: str = "wall_time_s") -> pd.DataFrame:
    """Least-squares slope of log(metric) against log(n_docs) per (format, dims): time ∝ N^exponent."""
    out = []
    for (fmt, dims), group in table.groupby(["format", "dims"]):
        group = group[group[metric] > 0]
        if group.n_docs.nunique() < 2:
            continue
        slope, _ = np.polyfit(np.log(group.n_docs), np.log(group[metric]), 1)
        out.append({"format": fmt, "dims": dims, "exponent": float(slope), "points": len(group),
                    "n_min": int(group.n_docs.min()), "n_max": int(group.n_docs.max())})
    return pd.DataFrame(out, columns=["format", "dims", "exponent", "points", "n_min", "n_max"])


def exponent_table(table: pd.DataFrame) -> pd.DataFrame:
    """``fit_exponents`` of the search time of every series, with ``build_exponent`` (indexes; else NaN)."""
    exponents = fit_exponents(table)
    build = fit_exponents(table[table.method != EXACT], "build_s").set_index(["format", "dims"]).exponent
    keys = pd.MultiIndex.from_frame(exponents[["format", "dims"]])
    exponents["build_exponent"] = build.reindex(keys).to_numpy(dtype=float) if len(build) else np.nan
    return exponents


def comparable_format(index: str, exact_formats: Collection[str]) -> str | None:
    """The exact-search format an index kind is compared with: its own storage format where measured
    (``study.search.indexes``'s ``paper_format``), else the closest in bits per dimension (not fewer, integer
    codes beside integer codes), else any measured one; ``None`` when none was measured."""

    kind = get_kind(index)
    measured = [f for f in exact_formats if f in FORMATS]
    if kind.paper_format in measured:
        return kind.paper_format
    integer = kind.format in ("i8", "sq8", "sq4")

    def distance(fmt: str) -> tuple[bool, float, bool]:
        bits = FORMATS[fmt].nominal_bits
        return bits < kind.bits, abs(bits - kind.bits), fmt.startswith("int") != integer

    return min(measured, key=distance) if measured else None


CROSSOVER_COLUMNS = ["index", "dims", "exact_format", "faster_from_n", "faster_at_n", "n_docs", "index_time_s",
                     "exact_time_s", "speedup", "recall_at_10", "exact_recall_at_10", "recall_at_10_planted", "build_s",
                     "bytes_per_vector", "n_min", "n_max"]


def crossovers(table: pd.DataFrame) -> pd.DataFrame:
    """Per index kind and dims: the exact format it is compared with, the smallest N from which its
    query time stays below that exact search's at every larger measured N (``faster_from_n``, NaN if
    never), every N where it is faster (``faster_at_n``), and the measurements at ``faster_from_n``
    (else at the largest N both measured)."""
    exact = table[table.method == EXACT]
    out = []
    for (name, dims), group in table[table.method != EXACT].groupby(["format", "dims"]):
        same_dims = exact[exact.dims == dims]
        ref_format = comparable_format(name, same_dims.format.unique())
        ref = same_dims[same_dims.format == ref_format].set_index("n_docs")[["wall_time_s", "recall_at_10"]]
        both = group.set_index("n_docs").join(ref, rsuffix="_exact", how="inner").sort_index()
        row = {"index": name, "dims": int(dims), "exact_format": ref_format, "faster_from_n": np.nan}
        if both.empty:
            out.append(row)
            continue
        faster = both.wall_time_s < both.wall_time_s_exact
        stays = faster[::-1].cummin()[::-1]  # faster here and at every larger N
        n = int(stays.idxmax()) if stays.any() else int(both.index.max())
        at = both.loc[n]
        out.append(row | {
            "faster_from_n": n if stays.any() else np.nan, "faster_at_n": tuple(int(m) for m in both.index[faster]),
            "n_docs": n, "index_time_s": at.wall_time_s,
            "exact_time_s": at.wall_time_s_exact, "speedup": at.wall_time_s_exact / at.wall_time_s,
            "recall_at_10": at.recall_at_10, "exact_recall_at_10": at.recall_at_10_exact,
            "recall_at_10_planted": at.recall_at_10_planted, "build_s": at.build_s,
            "bytes_per_vector": at.bytes_per_vector, "n_min": int(both.index.min()), "n_max": int(both.index.max()),
        })
    return pd.DataFrame(out, columns=CROSSOVER_COLUMNS)




def _fraction(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.2f}"


def crossover_sentence(row: pd.Series, n_queries: str = "") -> str:
    """Where one index kind's queries start to beat exact search of a comparable format, or that they do not."""
    head = f"{row['index']} d={row.dims}"
    if pd.isna(row.exact_format) or pd.isna(row.n_docs):
        return f"{head}: no exact search of a comparable format was measured at the same N."
    times = f"{row.index_time_s:.3g} s vs {row.exact_time_s:.3g} s{n_queries}"
    recall = (f"recall@10 {_fraction(row.recall_at_10)} against exact float32 (exact {row.exact_format}: "
              f"{_fraction(row.exact_recall_at_10)}), {row.bytes_per_vector:.0f} bytes per vector, "
              f"built in {row.build_s:.3g} s")
    if pd.isna(row.faster_from_n):
        if not row.faster_at_n:
            return (f"{head}: slower than exact {row.exact_format} at every measured N up to {int(row.n_max):,} "
                    f"(at N={int(row.n_docs):,}: {times}; {recall}).")
        sizes = ", ".join(f"{n:,}" for n in row.faster_at_n)
        return (f"{head}: faster than exact {row.exact_format} only at N={sizes}, slower at the largest "
                f"measured N, {int(row.n_max):,} (there: {times}; {recall}).")
    if row.faster_from_n == row.n_min:
        where = (f"already at the smallest measured N, {int(row.n_min):,}, and at every larger one up to "
                 f"{int(row.n_max):,}" if row.n_max > row.n_min else f"at N={int(row.n_min):,}, the only N measured")
    else:
        where = f"from N={int(row.faster_from_n):,} on (measured up to {int(row.n_max):,})"
    return (f"{head}: queries faster than exact {row.exact_format} {where} (at N={int(row.n_docs):,}: {times}, "
            f"{row.speedup:.1f}× faster), {recall}.")


def _recall_trend(table: pd.DataFrame) -> str:
    """Recall@10 against exact float32 of each index series at its smallest and largest N."""
    parts = []
    for (fmt, dims), g in table.sort_values("n_docs").groupby(["format", "dims"]):
        lo, hi = g.iloc[0], g.iloc[-1]
        parts.append(f"{fmt} d={dims} {_fraction(lo.recall_at_10)} (N={lo.n_docs:,}) → "
                     f"{_fraction(hi.recall_at_10)} (N={hi.n_docs:,})")
    return "Recall@10 against exact float32 from the smallest to the largest N measured: " + ", ".join(parts) + "."


def _index_lines(table: pd.DataFrame, exponents: pd.DataFrame, cross: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Sentences on the index cases (``table``) and their fitted ``exponents``: growth, memory and bytes
    per vector, and where each beats exact search (``cross``)."""
    lines = []
    fitted = exponents
    if not fitted.empty:
        build = fitted.build_exponent.dropna()
        lines.append(
            f"HNSW query time grows as N^{fitted.exponent.min():.2f} to N^{fitted.exponent.max():.2f} over "
            f"{len(fitted)} index × dims series (below 1: sublinear)"
            + (f", its build time as N^{build.min():.2f} to N^{build.max():.2f}." if len(build) else ".")
        )
    big = table[table.n_docs == table.n_docs.max()]
    worst = table.loc[table.peak_rss_bytes.idxmax()]
    lines.append(
        f"The HNSW indexes hold codes, graph and keys in memory: {big.bytes_per_vector.min():.0f} to "
        f"{big.bytes_per_vector.max():.0f} bytes per vector at N={int(big.n_docs.iloc[0]):,}; the largest peak "
        f"was {format_bytes(worst.peak_rss_bytes)} ({worst.format} d={worst.dims} N={worst.n_docs:,}), within the "
        f"budget in {int(table.peak_rss_within_budget.sum())} of {len(table)} index cases."
    )
    if table.n_docs.nunique() > 1:
        lines.append(_recall_trend(table))
    queries = rows[rows.metric == "n_queries"].value
    n_queries = f" for {int(queries.iloc[0]):,} queries" if not queries.empty else ""
    lines += [crossover_sentence(row, n_queries) for _, row in cross.iterrows()]
    return lines


def _exact_lines(table: pd.DataFrame, exponents: pd.DataFrame) -> list[str]:
    """Sentences on the streaming exact search: exponent, memory against the budget, fraction of GEMM peak."""
    lines = []
    if not exponents.empty:
        lo, hi = exponents.loc[exponents.exponent.idxmin()], exponents.loc[exponents.exponent.idxmax()]
        lines.append(
            f"Scoring time grows as N^{exponents.exponent.mean():.2f} on average over {len(exponents)} "
            f"format × dims series (from N^{lo.exponent:.2f} for {lo.format} d={lo.dims} to N^{hi.exponent:.2f} "
            f"for {hi.format} d={hi.dims}); 1.0 is linear, the cost of exact search."
        )
    else:
        lines.append("Only one corpus size was measured: no exponent can be fitted (run without --quick).")
    worst = table.loc[(table.peak_rss_bytes / table.budget_bytes).idxmax()]
    within = int(table.peak_rss_within_budget.sum())
    lines.append(
        f"Peak resident memory stayed within the budget in {within} of {len(table)} cases; the largest was "
        f"{format_bytes(worst.peak_rss_bytes)} of {format_bytes(worst.budget_bytes)} ({worst.format} "
        f"d={worst.dims} N={worst.n_docs:,}), whose corpus is stored in {format_bytes(worst.stored_bytes)}."
    )
    big = table[table.n_docs == table.n_docs.max()]
    best = big.loc[big.fraction_of_gemm_peak.idxmax()]
    slow = big.loc[big.fraction_of_gemm_peak.idxmin()]
    lines.append(
        f"At N={int(big.n_docs.iloc[0]):,} the achieved multiply-add rate ranges from "
        f"{slow.fraction_of_gemm_peak:.0%} ({slow.format} d={slow.dims}) to {best.fraction_of_gemm_peak:.0%} "
        f"({best.format} d={best.dims}) of the float32 GEMM rate measured in the same process "
        f"({best.gemm_peak_macs_per_s / 1e9:.1f} G multiply-adds/s)."
    )
    return lines


def conclusions(table: pd.DataFrame, exponents: pd.DataFrame, rows: pd.DataFrame) -> str:
    """Sentences computed from the measurements (no number is typed by hand)."""
    exact = table[table.method == EXACT]
    indexes = table[table.method != EXACT]
    index_series = exponents.format.map(is_index).astype(bool)
    lines = _exact_lines(exact, exponents[~index_series]) if len(exact) else ["No exact search was measured."]
    load = rows[rows.metric.str.startswith("load_avg")]
    cores = rows[rows.metric == "cpu_count"].value
    if not load.empty and not cores.empty:
        lines.append(
            f"Load average (1 min) during the run(s): {load.value.min():.1f} to {load.value.max():.1f} on "
            f"{int(cores.iloc[0])} cores; above the core count, other work shared the CPUs and the times are "
            "upper bounds."
        )
    recall = table.groupby("format").recall_at_10_planted.min()
    lines.append("Lowest recall@10 of the planted relevant documents per format: "
                 + ", ".join(f"{f} {r:.2f}" for f, r in recall.items()) + ".")
    if len(indexes):
        lines += _index_lines(indexes, exponents[index_series], crossovers(table), rows)
    return "\n".join(lines)


def plot_scaling(table: pd.DataFrame, budget_bytes: float | None = None):
    """Panels against corpus size: query time (exact search solid, HNSW indexes dashed), peak resident
    memory (with the budget), the exact search's multiply-add rate as a fraction of the same run's
    float32 GEMM rate (HNSW has none), and, when indexes were measured, their build time. Colour: format
    or index kind; marker: dims."""


    indexes = table[table.method != EXACT]
    fig, axes = plt.subplots(1, 4 if len(indexes) else 3, figsize=(17 if len(indexes) else 13, 4))
    formats = sorted(table.format.unique(), key=lambda f: (is_index(f), f))
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours = {f: palette[i % len(palette)] for i, f in enumerate(formats)}
    markers = dict(zip(sorted(table.dims.unique()), ["o", "s", "^", "D"], strict=False))
    for (fmt, dims), g in sorted(table.groupby(["format", "dims"]), key=lambda item: (is_index(item[0][0]), item[0])):
        kw = {"color": colours[fmt], "ls": "--" if is_index(fmt) else "-", "marker": markers.get(dims, "o"), "ms": 3,
              "label": f"{fmt} d={dims}"}
        axes[0].plot(g.n_docs, g.wall_time_s, **kw)
        axes[1].plot(g.n_docs, g.peak_rss_bytes / 2**30, **kw)
        if is_index(fmt):
            if len(axes) > 3:
                axes[3].plot(g.n_docs, g.build_s, **kw)
        else:
            axes[2].plot(g.n_docs, g.fraction_of_gemm_peak, **kw)
    if budget_bytes:
        axes[1].axhline(budget_bytes / 2**30, color="black", lw=1, ls=":", label="budget")
    axes[0].set(xscale="log", yscale="log", ylabel="query time, all queries (s)",
                title="time (solid: exact, dashed: HNSW)" if len(indexes) else "time")
    axes[1].set(xscale="log", ylabel="peak resident memory (GiB)", title="memory", ylim=(0, None))
    axes[2].set(xscale="log", ylabel="multiply-adds/s ÷ float32 GEMM peak", title="fraction of GEMM peak (exact)",
                ylim=(0, None))
    if len(axes) > 3:
        axes[3].set(xscale="log", yscale="log", ylabel="build time (s)", title="HNSW build")
    for ax in axes:
        ax.set_xlabel("documents (N)")
    axes[1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


@dataclass
class ScalingReport:
    table: pd.DataFrame
    exponents: pd.DataFrame
    figure: dict[str, Path]
    conclusions: str
    crossovers: pd.DataFrame



def scaling_report(
    path: Path | str | None = None,
    formats: list[str] | None = None,
    budget: int | None = None,
    indexes: list[str] | None = None,
) -> ScalingReport:
    """Read the scaling rows (only ``formats`` of the exact search and ``indexes`` of the index kinds if
    given), fit exponents, find where HNSW beats exact search, draw ``figures/bench/scaling.{pdf,png}``
    and state conclusions. ``budget`` (bytes) replaces the budget the run used when checking peak
    memory; by default each case is checked against its own."""

    rows = bench_rows(path)
    table = case_table(rows)
    index_case = table.format.map(is_index).astype(bool)
    keep = (~index_case if formats is None else ~index_case & table.format.isin(formats)) | (
        index_case if indexes is None else index_case & table.format.isin(indexes))
    table = table[keep].reset_index(drop=True)
    if table.empty:
        raise StudyError(f"no scaling measurements of formats {formats} or indexes {indexes}; "
                         f"measured: {sorted(set(rows.case))}")
    if budget is not None:
        table["budget_bytes"] = float(budget)
        table["peak_rss_within_budget"] = (table.peak_rss_bytes <= budget).astype(int)
    exponents = exponent_table(table)
    figure = save_figure(plot_scaling(table, float(table.budget_bytes.max())),
                         output_root() / "figures" / "bench" / artifacts.FIG_SCALING)
    return ScalingReport(table, exponents, figure, conclusions(table, exponents, rows), crossovers(table))


# --- index scaling on real embeddings (bench/pool_scaling.py) ----------------------------------------

POOL_BENCHMARK = "pool_scaling"
_POOL_CASE = re.compile(r"^(?P<data>[^/]+)/(?P<index>[^/]+)/d(?P<dims>\d+)/N(?P<n_docs>\d+)$")
SOURCES = {"pool": "real pool", "pool-gmm": "fitted to the pool", "iid": "iid random (worst case)"}
_SOURCE_STYLE = {"pool": "-", "pool-gmm": "--", "iid": ":"}
POOL_METRICS = ["build_s", "bytes_per_vector", "qps_b1", "qps_b100", "recall_at_10", "ndcg_at_10", "n_queries",
                "n_relevant", "mean_10th_neighbour_cosine"]


def pool_case(data: str, index: str, dims: int, n_docs: int) -> str:
    """``<data>/<index>/d<dims>/N<n>``: data ``pool:<model>``, ``pool-gmm:<model>`` or ``iid``."""
    return f"{data}/{index}/d{dims}/N{n_docs}"


def pool_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (data, index, dims, N) with every metric of ``POOL_METRICS`` (NaN where not measured),
    the data's ``source`` (pool, pool-gmm, iid) and ``model``; corpus-level metrics are joined to every index."""
    parts = rows.case.str.extract(_POOL_CASE)
    cases = rows[parts.notna().all(axis=1)].assign(**parts.dropna())
    wide = cases.pivot_table(index=["data", "index", "dims", "n_docs"], columns="metric", values="value",
                             aggfunc="first").reset_index()
    wide.columns.name = None
    for metric in POOL_METRICS:
        if metric not in wide:
            wide[metric] = np.nan
    wide["dims"], wide["n_docs"] = wide.dims.astype(int), wide.n_docs.astype(int)
    wide["source"] = wide.data.str.split(":").str[0]
    wide["model"] = wide.data.str.split(":").str[1].fillna("")
    corpus = wide[wide["index"] == "corpus"].set_index(["data", "n_docs"])
    indexes = wide[wide["index"] != "corpus"].copy()
    for metric in ("n_relevant", "mean_10th_neighbour_cosine"):
        indexes[metric] = [corpus[metric].get((d, n), np.nan) for d, n in zip(indexes.data, indexes.n_docs)]
    order = {s: i for i, s in enumerate(SOURCES)}
    return indexes.sort_values(["source", "model", "index", "n_docs"], key=lambda c: c.map(order) if c.name == "source"
                               else c).reset_index(drop=True)


def _at(table: pd.DataFrame, source: str, index: str, n: int, metric: str, model: str | None = None) -> float:
    g = table[(table.source == source) & (table["index"] == index) & (table.n_docs == n)]
    if model is not None:
        g = g[g.model == model]
    return float(g[metric].iloc[0]) if len(g) else float("nan")


def pool_conclusions(table: pd.DataFrame) -> str:
    """Sentences computed from the table: HNSW recall on the pool vs iid at the pool's size, fitted vs real
    where both were measured, the fitted curve at its largest N, nDCG@10 of the pooled queries."""
    lines = []
    pool = table[table.source == "pool"]
    hnsw = sorted(k for k in table["index"].unique() if k.endswith("-hnsw"))
    for model, g in pool.groupby("model"):
        n = int(g.n_docs.max())
        parts = [f"{k} {_at(table, 'pool', k, n, 'recall_at_10', model):.3f}" for k in hnsw
                 if np.isfinite(_at(table, "pool", k, n, "recall_at_10", model))]
        iid = [f"{k} {_at(table, 'iid', k, n, 'recall_at_10'):.3f}" for k in hnsw
               if np.isfinite(_at(table, "iid", k, n, "recall_at_10"))]
        dims = int(g.dims.iloc[0])
        lines.append(f"HNSW recall@10 on the real pool of {model} (d={dims}) at N={n:,}: " + ", ".join(parts)
                     + (f"; on iid random vectors at the same N (d={int(table[table.source == 'iid'].dims.iloc[0])}): "
                        + ", ".join(iid) if iid else "") + ".")
        exact = g[g["index"] == "study-f32-exact"].sort_values("n_docs")
        total = exact.n_relevant.max()
        complete = exact[exact.n_relevant >= total]  # prefixes holding every judged-relevant document
        if len(exact) > 1:
            partial = exact[exact.n_relevant < total]
            head = (f"below N={int(total):,} a prefix holds only part of the {int(total):,} judged-relevant documents "
                    f"(nDCG@10 {', '.join(f'{v:.4f}' for v in partial.ndcg_at_10)} at N="
                    f"{', '.join(f'{n:,}' for n in partial.n_docs)}); " if len(partial) else "")
            tail = (f"from N={int(complete.n_docs.iloc[0]):,} to {int(complete.n_docs.iloc[-1]):,} only "
                    f"distractors are added and it goes from {complete.ndcg_at_10.iloc[0]:.4f} "
                    f"to {complete.ndcg_at_10.iloc[-1]:.4f}"
                    if len(complete) > 1 else f"at N={int(complete.n_docs.iloc[-1]):,} it is "
                    f"{complete.ndcg_at_10.iloc[-1]:.4f}")
            lines.append(f"nDCG@10 of the {int(exact.n_queries.iloc[0]):,} pooled queries ({model}, exact float32): "
                         + head + tail + ".")
    fitted = table[table.source == "pool-gmm"]
    if len(fitted) and len(pool):
        model = fitted.model.iloc[0]
        both = fitted.merge(pool[pool.model == model], on=["index", "n_docs"], suffixes=("_fit", "_real"))
        both = both[both["index"].isin(hnsw)]
        if len(both):
            gap = (both.recall_at_10_fit - both.recall_at_10_real)
            sizes = ", ".join(f"{n:,}" for n in sorted(both.n_docs.unique()))
            lines.append(f"Fitted vs real ({model}, HNSW kinds at N={sizes}): "
                         f"recall@10 of the fitted vectors minus the real pool's is {gap.mean():+.3f} on average "
                         f"(from {gap.min():+.3f} to {gap.max():+.3f}); the 10th neighbour of a query lies at cosine "
                         f"{both.mean_10th_neighbour_cosine_real.iloc[-1]:.3f} in the real pool and "
                         f"{both.mean_10th_neighbour_cosine_fit.iloc[-1]:.3f} in the fitted vectors.")
        n_max = int(fitted.n_docs.max())
        top = fitted[fitted.n_docs == n_max].dropna(subset=["recall_at_10"])
        lines.append(f"Fitted vectors at N={n_max:,}: " + ", ".join(
            f"{r['index']} recall@10 {r.recall_at_10:.3f} ({r.qps_b1:,.0f} QPS at batch 1, build {r.build_s:.0f} s, "
            f"{r.bytes_per_vector:.0f} B/vector)" for _, r in top.iterrows()) + ".")
    return "\n".join(lines)


def plot_pool_scaling(table: pd.DataFrame):
    """Panels against N: recall@10 (real pool solid, fitted dashed, iid dotted), queries per second at
    batch 1, build time, and nDCG@10 of the pooled queries (real pool only). Colour: index kind;
    marker: model."""
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.4))
    kinds = sorted(table["index"].unique())
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"] + ["#444444", "#bb8800", "#008888", "#880088"]
    colours = {k: palette[i % len(palette)] for i, k in enumerate(kinds)}
    markers = dict(zip(sorted(table.model.unique()), ["o", "s", "^", "D"], strict=False))
    order = {s: i for i, s in enumerate(SOURCES)}  # the legend lists the real pool first, iid last
    groups = sorted(table.groupby(["source", "model", "index"]), key=lambda item: (order[item[0][0]], item[0][1:]))
    for (source, model, kind), g in groups:
        g = g.sort_values("n_docs")
        label = f"{kind} ({SOURCES[source]}{', ' + model if model else ''})"
        kw = {"color": colours[kind], "ls": _SOURCE_STYLE[source], "marker": markers.get(model, "."), "ms": 3,
              "label": label, "lw": 1.6 if source == "pool" else 1.0}
        if kind != "study-f32-exact":
            axes[0].plot(g.n_docs, g.recall_at_10, **kw)
        axes[1].plot(g.n_docs, g.qps_b1, **kw)
        axes[2].plot(g.n_docs, g.build_s, **kw)
        if source == "pool":
            axes[3].plot(g.n_docs, g.ndcg_at_10, **kw)
    axes[0].set(xscale="log", ylabel="recall@10 vs exact float32", title="recall@10 (solid: real pool)", ylim=(0, 1.02))
    axes[1].set(xscale="log", yscale="log", ylabel="queries/s, batch 1", title="speed")
    axes[2].set(xscale="log", yscale="log", ylabel="build time (s)", title="build (all cores)")
    axes[3].set(xscale="log", ylabel="nDCG@10 of the pooled queries", title="quality (real pool)")
    for ax in axes:
        ax.set_xlabel("documents (N)")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=6, ncol=6, loc="lower center", bbox_to_anchor=(0.5, -0.28))
    fig.tight_layout()
    return fig


@dataclass
class PoolReport:
    table: pd.DataFrame
    figure: dict[str, Path]
    conclusions: str


def pool_report(path: Path | str | None = None) -> PoolReport:
    """Read the ``pool_scaling`` rows, draw ``figures/bench/scaling-pool.{pdf,png}`` and state conclusions."""
    table = pool_table(bench_rows(path, POOL_BENCHMARK, "pool_scaling"))
    figure = save_figure(plot_pool_scaling(table), output_root() / "figures" / "bench" / artifacts.FIG_SCALING_POOL)
    return PoolReport(table, figure, pool_conclusions(table))


def pool_report_if_measured(path: Path | str | None = None) -> PoolReport | None:
    """``pool_report``, or ``None`` (saying why) when ``bench/pool_scaling.py`` has not run yet."""
    try:
        return pool_report(path)
    except StudyError as why:
        print(f"no index scaling on real embeddings yet: {why}")
        return None


# --- exact search vs faiss (bench/exact_vs_faiss.py) ---------------------------------------------------

EXACT_VS_FAISS = "exact_vs_faiss"
_EXACT_CASE = re.compile(r"^(?P<data>[^/]+)/d(?P<dims>\d+)/N(?P<n_docs>\d+)/q(?P<batch>\d+)$")


def exact_vs_faiss_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (data, dims, N, batch) of the ``exact_vs_faiss`` rows, real pool before fitted vectors."""
    mine = rows[(rows.benchmark == EXACT_VS_FAISS) & rows.case.str.match(_EXACT_CASE)]
    if mine.empty:
        return pd.DataFrame()
    wide = mine.pivot_table(index="case", columns="metric", values="value", aggfunc="first").reset_index()
    wide.columns.name = None
    parts = wide.case.str.extract(_EXACT_CASE).astype({"dims": int, "n_docs": int, "batch": int})
    table = pd.concat([parts, wide], axis=1)
    table["fitted"] = table.data.str.startswith("pool-gmm")
    return table.sort_values(["dims", "n_docs", "batch", "fitted"]).drop(columns="fitted").reset_index(drop=True)
