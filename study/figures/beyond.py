"""Figures of stage 06: paper vs corrected formats, and two-stage search."""

from __future__ import annotations

import numpy as np
import pandas as pd

from study.experiment.configs import NONE
from study.figures import plots


def plot_beyond_rescoring(main: pd.DataFrame, weighting: str):
    """Two-stage search: change against the oversampling m per first stage and tier (None without rescoring)."""
    curves = main[main.rescore != NONE]
    if curves.empty:
        return None
    flat = main[(main.query_format == "same") & (main.rescore == NONE)]
    return plots.plot_rescoring_curves(curves, flat, f"Two-stage search ({weighting}-weighted, 95 % CI)")

def plot_beyond_formats(main: pd.DataFrame, formats: list[str], weighting: str):
    """Symmetric and asymmetric change per format (paper formats marked), with CIs."""
    rows = main[(main.rescore == NONE) & (main.format != "float32")].copy()
    rows["configuration"] = [f"{f}{' (paper)' if p else ''}{f' @{c}' if c != NONE else ''}"
                             for f, p, c in zip(rows.format, rows.paper_faithful, rows.calibrate_on)]
    rows["queries"] = np.where(rows.query_format == "same", "queries stored like documents",
                               "float32 queries (asymmetric)")
    rank = {f: i for i, f in enumerate(formats)}
    order = list(dict.fromkeys(rows.sort_values(["format"], key=lambda s: s.map(rank), kind="stable").configuration))
    return plots.plot_change_intervals(rows, order, "configuration", "queries",
                                       f"Paper vs corrected formats ({weighting}-weighted, 95 % CI)")
