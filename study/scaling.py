"""The scaling benchmark's analysis: its rows of ``results/bench.csv`` as a table, the exponent of
time against corpus size, the figure, and conclusions computed from the numbers.

The measurements come from ``python -m bench.scaling`` (streaming exact search over synthetic
corpora of 10k to 1M unit vectors, one process per case). Cases are named ``format/d<dims>/N<docs>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import StudyError
from .paths import output_root
from .tradeoff import format_bytes

BENCHMARK = "scaling"
_CASE = re.compile(r"^(?P<format>[^/]+)/d(?P<dims>\d+)/N(?P<n_docs>\d+)$")


def case_name(fmt: str, dims: int, n_docs: int) -> str:
    return f"{fmt}/d{dims}/N{n_docs}"


def bench_rows(path: Path | str | None = None) -> pd.DataFrame:
    """The ``scaling`` rows of the bench table (default ``results/bench.csv`` under the output root)."""
    path = Path(path) if path else output_root() / "results" / "bench.csv"
    if not path.exists():
        raise StudyError(f"{path}: no benchmark table; run `python -m bench.scaling` first")
    rows = pd.read_csv(path, dtype={"benchmark": str, "case": str, "metric": str, "unit": str})
    rows = rows[rows.benchmark == BENCHMARK]
    if rows.empty:
        raise StudyError(f"{path}: no rows of benchmark {BENCHMARK!r}; run `python -m bench.scaling` first")
    return rows


def case_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (format, dims, n_docs) case, one column per metric."""
    parts = rows.case.str.extract(_CASE)
    cases = rows[parts.notna().all(axis=1)].assign(**parts.dropna())
    wide = cases.pivot_table(index=["format", "dims", "n_docs"], columns="metric", values="value", aggfunc="first")
    wide = wide.reset_index()
    wide.columns.name = None
    wide["dims"] = wide.dims.astype(int)
    wide["n_docs"] = wide.n_docs.astype(int)
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


def plot_scaling(table: pd.DataFrame, budget_bytes: float | None = None):
    """Three panels against corpus size: scoring time, peak resident memory (with the budget), and the
    achieved multiply-add rate as a fraction of the same run's measured float32 GEMM rate."""
    import matplotlib.pyplot as plt

    from . import plots  # noqa: F401 - the study's seaborn style

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    formats = sorted(table.format.unique())
    colours = dict(zip(formats, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    styles = dict(zip(sorted(table.dims.unique()), ["-", "--", ":", "-."], strict=False))
    for (fmt, dims), g in table.groupby(["format", "dims"]):
        kw = {"color": colours[fmt], "ls": styles[dims], "marker": "o", "ms": 3, "label": f"{fmt} d={dims}"}
        axes[0].plot(g.n_docs, g.wall_time_s, **kw)
        axes[1].plot(g.n_docs, g.peak_rss_bytes / 2**30, **kw)
        axes[2].plot(g.n_docs, g.fraction_of_gemm_peak, **kw)
    if budget_bytes:
        axes[1].axhline(budget_bytes / 2**30, color="black", lw=1, ls="--", label="budget")
    axes[0].set(xscale="log", yscale="log", ylabel="scoring time (s)", title="time")
    axes[1].set(xscale="log", ylabel="peak resident memory (GiB)", title="memory", ylim=(0, None))
    axes[2].set(xscale="log", ylabel="multiply-adds/s ÷ float32 GEMM peak", title="fraction of GEMM peak",
                ylim=(0, None))
    for ax in axes:
        ax.set_xlabel("documents (N)")
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


@dataclass
class ScalingReport:
    table: pd.DataFrame
    exponents: pd.DataFrame
    figure: dict[str, Path]
    conclusions: str


def conclusions(table: pd.DataFrame, exponents: pd.DataFrame, rows: pd.DataFrame) -> str:
    """Sentences computed from the measurements (no number is typed by hand)."""
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
    load = rows[rows.metric.str.startswith("load_avg")]
    cores = rows[rows.metric == "cpu_count"].value
    if not load.empty and not cores.empty:
        lines.append(
            f"Load average (1 min) during the run: {load.value.min():.1f} to {load.value.max():.1f} on "
            f"{int(cores.iloc[0])} cores; above the core count, other work shared the CPUs and the times are "
            "upper bounds."
        )
    recall = table.groupby("format").recall_at_10_planted.min()
    lines.append("Lowest recall@10 of the planted relevant documents per format: "
                 + ", ".join(f"{f} {r:.2f}" for f, r in recall.items()) + ".")
    return "\n".join(lines)


def scaling_report(
    path: Path | str | None = None, formats: list[str] | None = None, budget: int | None = None
) -> ScalingReport:
    """Read the scaling rows (only ``formats`` if given), fit exponents, draw
    ``figures/bench/scaling.{pdf,png}`` and state conclusions. ``budget`` (bytes) replaces the budget
    the run used when checking peak memory; by default each case is checked against its own."""
    from .plots import save_figure

    rows = bench_rows(path)
    table = case_table(rows)
    if formats:
        table = table[table.format.isin(formats)].reset_index(drop=True)
        if table.empty:
            raise StudyError(f"no scaling measurements of formats {formats}; measured: {sorted(set(rows.case))}")
    if budget is not None:
        table["budget_bytes"] = float(budget)
        table["peak_rss_within_budget"] = (table.peak_rss_bytes <= budget).astype(int)
    exponents = fit_exponents(table)
    figure = save_figure(plot_scaling(table, float(table.budget_bytes.max())),
                         output_root() / "figures" / "bench" / "scaling")
    return ScalingReport(table, exponents, figure, conclusions(table, exponents, rows))
