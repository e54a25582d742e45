"""Figure of stage 02: nDCG@10 change per storage format (the paper's Fig. 3)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from study.figures.plots import plot_change_by_format


def quantization_figure(summary: pd.DataFrame, per_dataset: pd.DataFrame, formats: list[str],
                        weighting: str) -> plt.Figure:
    """Bars: each format's change (CI) on the same held-out collections per model (``summary.attrs["sets"]``);
    dots: each collection."""
    sizes = sorted({len(s) for s in summary.attrs.get("sets", {}).values()})
    return plot_change_by_format(summary, per_dataset, formats, (
        f"Quantization ({weighting}-weighted mean of the same {'/'.join(map(str, sizes))} held-out collections "
        "per model)"))
