"""The scaling benchmark's analysis: its rows of ``results/bench.csv`` as a table, the exponent of
time against corpus size, one summary row per series, the figure and where HNSW starts to beat exact
search: tables, which notebook 08 reads and ``bench/summary.py`` writes to ``docs/benchmarks.md``.

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



SERIES_COLUMNS = ["format", "method", "dims", "points", "n_min", "n_max", "exponent", "build_exponent",
                  "recall_at_10_at_n_min", "recall_at_10_at_n_max", "min_recall_at_10_planted", "cases_within_budget",
                  "cases", "wall_time_s_at_n_max", "peak_rss_bytes_at_n_max", "budget_bytes_at_n_max",
                  "stored_bytes_at_n_max", "fraction_of_gemm_peak_at_n_max", "gemm_peak_macs_per_s_at_n_max",
                  "bytes_per_vector_at_n_max", "build_s_at_n_max"]
_AT_N_MAX = ["wall_time_s", "peak_rss_bytes", "budget_bytes", "stored_bytes", "fraction_of_gemm_peak",
             "gemm_peak_macs_per_s", "bytes_per_vector", "build_s"]


def series_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (format, dims) series: its time and build exponents (``exponent_table``, NaN with one N),
    recall@10 against exact float32 at its smallest and largest N, the lowest recall@10 of the planted documents,
    how many of its cases stayed within their memory budget, and its measurements at its largest N."""
    exponents = exponent_table(table).set_index(["format", "dims"])
    out = []
    for (fmt, dims), group in table.sort_values("n_docs").groupby(["format", "dims"]):
        first, last = group.iloc[0], group.iloc[-1]
        fitted = exponents.loc[(fmt, dims)] if (fmt, dims) in exponents.index else None
        out.append({"format": fmt, "method": first.method, "dims": int(dims), "points": len(group),
                    "n_min": int(first.n_docs), "n_max": int(last.n_docs),
                    "exponent": np.nan if fitted is None else fitted.exponent,
                    "build_exponent": np.nan if fitted is None else fitted.build_exponent,
                    "recall_at_10_at_n_min": first.recall_at_10, "recall_at_10_at_n_max": last.recall_at_10,
                    "min_recall_at_10_planted": group.recall_at_10_planted.min(),
                    "cases_within_budget": int(group.peak_rss_within_budget.sum()), "cases": len(group),
                    **{f"{m}_at_n_max": last[m] for m in _AT_N_MAX}})
    return pd.DataFrame(out, columns=SERIES_COLUMNS)


CONDITION_COLUMNS = ["cores", "load_avg_min", "load_avg_max", "n_queries"]


def run_conditions(rows: pd.DataFrame) -> pd.DataFrame:
    """One row: the cores, the range of the 1-minute load average recorded at the start and end of the run(s) and
    the number of queries (NaN where not recorded); a load above the core count makes the times upper bounds."""
    load = rows[rows.metric.str.startswith("load_avg")].value.astype(float)
    cores, queries = (rows[rows.metric == m].value.astype(float) for m in ("cpu_count", "n_queries"))
    return pd.DataFrame([[cores.max(), load.min(), load.max(), queries.max()]], columns=CONDITION_COLUMNS)


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
    series: pd.DataFrame
    crossovers: pd.DataFrame
    conditions: pd.DataFrame
    figure: dict[str, Path]


def scaling_report(
    path: Path | str | None = None,
    formats: list[str] | None = None,
    budget: int | None = None,
    indexes: list[str] | None = None,
) -> ScalingReport:
    """Read the scaling rows (only ``formats`` of the exact search and ``indexes`` of the index kinds if
    given), fit exponents, summarise each series, find where HNSW beats exact search and draw
    ``figures/bench/scaling.{pdf,png}``. ``budget`` (bytes) replaces the budget the run used when checking peak
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
    return ScalingReport(table, exponents, series_table(table), crossovers(table), run_conditions(rows), figure)


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


EXACT_KIND = "study-f32-exact"  # the pool benchmark's exact float32 search: recall 1 by definition


def pool_recall(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and index kind at the real pool's largest N: recall@10 against exact float32 on the pool, and on
    iid random vectors at the same N (NaN where not measured), with the dims of each."""
    iid = table[table.source == "iid"].set_index(["index", "n_docs"])
    out = []
    for model, pool in table[(table.source == "pool") & (table["index"] != EXACT_KIND)].groupby("model"):
        n = int(pool.n_docs.max())
        for r in pool[pool.n_docs == n].itertuples():
            twin = iid.loc[(r.index, n)] if (r.index, n) in iid.index else None
            out.append({"model": model, "dims": int(r.dims), "n_docs": n, "index": r.index,
                        "recall_at_10": r.recall_at_10,
                        "iid_dims": np.nan if twin is None else int(twin.dims),
                        "iid_recall_at_10": np.nan if twin is None else twin.recall_at_10})
    return pd.DataFrame(out, columns=["model", "dims", "n_docs", "index", "recall_at_10", "iid_dims",
                                      "iid_recall_at_10"])


def pool_quality(table: pd.DataFrame) -> pd.DataFrame:
    """nDCG@10 of the pooled queries (exact float32 on the real pool) per model and N, with how many judged-relevant
    documents the prefix holds and whether it holds them all (past that N, a larger N only adds distractors)."""
    exact = table[(table.source == "pool") & (table["index"] == EXACT_KIND)].sort_values(["model", "n_docs"])
    total = exact.groupby("model").n_relevant.transform("max")
    return pd.DataFrame({"model": exact.model, "n_docs": exact.n_docs, "n_queries": exact.n_queries,
                         "n_relevant": exact.n_relevant, "all_relevant": exact.n_relevant >= total,
                         "ndcg_at_10": exact.ndcg_at_10}).reset_index(drop=True)


def fitted_vs_real(table: pd.DataFrame) -> pd.DataFrame:
    """Where fitted vectors and the real pool of the same model were both measured (HNSW kinds): recall@10 of each,
    fitted minus real, and the mean cosine of a query's 10th neighbour in each."""
    fitted, pool = table[table.source == "pool-gmm"], table[table.source == "pool"]
    both = fitted.merge(pool, on=["model", "index", "n_docs"], suffixes=("_fitted", "_real"))
    both = both[both["index"].str.endswith("-hnsw")]
    out = pd.DataFrame({"model": both.model, "index": both["index"], "n_docs": both.n_docs,
                        "recall_at_10_real": both.recall_at_10_real, "recall_at_10_fitted": both.recall_at_10_fitted,
                        "difference": both.recall_at_10_fitted - both.recall_at_10_real,
                        "tenth_neighbour_cosine_real": both.mean_10th_neighbour_cosine_real,
                        "tenth_neighbour_cosine_fitted": both.mean_10th_neighbour_cosine_fitted})
    return out.sort_values(["model", "index", "n_docs"], ignore_index=True)


def fitted_at_largest_n(table: pd.DataFrame) -> pd.DataFrame:
    """Every index kind on the fitted vectors at their largest N: recall@10, QPS at batch 1, build time, bytes per
    vector."""
    fitted = table[table.source == "pool-gmm"]
    if fitted.empty:
        return pd.DataFrame(columns=["model", "index", "n_docs", "recall_at_10", "qps_b1", "build_s",
                                     "bytes_per_vector"])
    top = fitted[fitted.n_docs == fitted.n_docs.max()].dropna(subset=["recall_at_10"])
    return top[["model", "index", "n_docs", "recall_at_10", "qps_b1", "build_s", "bytes_per_vector"]].reset_index(
        drop=True)


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
        if kind != EXACT_KIND:
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
    recall: pd.DataFrame
    quality: pd.DataFrame
    fitted_vs_real: pd.DataFrame
    fitted_largest: pd.DataFrame
    figure: dict[str, Path]


def pool_report(path: Path | str | None = None) -> PoolReport:
    """Read the ``pool_scaling`` rows, tabulate them (``pool_recall``, ``pool_quality``, ``fitted_vs_real``,
    ``fitted_at_largest_n``) and draw ``figures/bench/scaling-pool.{pdf,png}``."""
    table = pool_table(bench_rows(path, POOL_BENCHMARK, "pool_scaling"))
    figure = save_figure(plot_pool_scaling(table), output_root() / "figures" / "bench" / artifacts.FIG_SCALING_POOL)
    return PoolReport(table, pool_recall(table), pool_quality(table), fitted_vs_real(table),
                      fitted_at_largest_n(table), figure)


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
