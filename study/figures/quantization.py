"""Figure of stage 02: nDCG@10 change per storage format (the paper's Fig. 3)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from study.figures.plots import collection_counts, plot_change_by_format


def quantization_figure(summary: pd.DataFrame, per_dataset: pd.DataFrame, formats: list[str],
                        weighting: str) -> plt.Figure:
    """Bars: each format's change (CI) on the same held-out collections per model (``summary.attrs["sets"]``);
    dots: each collection."""
    return plot_change_by_format(summary, per_dataset, formats, (
        f"Quantization ({weighting}-weighted mean over the same held-out collections for every format: "
        f"{collection_counts(summary)})"))
