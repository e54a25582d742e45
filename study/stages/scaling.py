"""Notebook 08's report: the scaling benchmark's rows, exponents, crossovers, figure and conclusions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from study.analysis.scaling import bench_rows, case_table, conclusions, crossovers, exponent_table, is_index
from study.core.errors import StudyError
from study.core.paths import output_root
from study.figures.plots import save_figure
from study.figures.scaling import plot_scaling


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
                         output_root() / "figures" / "bench" / "scaling")
    return ScalingReport(table, exponents, figure, conclusions(table, exponents, rows), crossovers(table))
