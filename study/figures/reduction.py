"""Figures of stages 03 and 04: nDCG@10 change against the kept fraction (the paper's Fig. 4-6)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from study.experiment.configs import NONE
from study.figures.plots import collection_counts


def plot_change_by_fraction(summary: pd.DataFrame, hue: str, col: str, title: str) -> plt.Figure:
    """Lines: nDCG@10 change vs float32 against the kept fraction, one line per ``hue``, one panel per
    model × ``col``; the unreduced point (100 %) starts every line (the paper's Fig. 4-6)."""
    reduced = summary[summary.reducer != NONE]
    start = summary[summary.reducer == NONE]
    # every reducer's line starts at the unreduced format (100 % kept)
    lines = pd.concat([reduced] + [start.assign(reducer=r) for r in reduced.reducer.unique()], ignore_index=True)
    hue_order = list(dict.fromkeys(lines[hue]))
    models, cols = list(summary.model.unique()), list(reduced[col].unique())
    fig, axes = plt.subplots(len(models), len(cols), figsize=(4.2 * len(cols), 3.3 * len(models)),
                             squeeze=False, sharex=True)
    for i, model in enumerate(models):
        for j, value in enumerate(cols):
            ax = axes[i][j]
            panel = lines[(lines.model == model) & (lines[col] == value)].sort_values("fraction")
            sns.lineplot(data=panel, x="fraction", y="change_pct", hue=hue, hue_order=hue_order, marker="o", ax=ax,
                         legend=(i == 0 and j == len(cols) - 1))
            ax.axhline(0, color="black", lw=0.8)
            ax.set_yscale("symlog", linthresh=1.0)
            ax.set_xlim(1.03, min(lines.fraction) - 0.03)
            ax.set_title(f"{model} · {value}")
            ax.set_xlabel("fraction of dimensions kept")
            ax.set_ylabel("nDCG@10 change vs float32 (%)" if j == 0 else "")
    if axes[0][-1].get_legend() is not None:
        sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1.02, 1), title=hue)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def reduction_figure(summary: pd.DataFrame, weighting: str, fit_on: str) -> plt.Figure:
    """Stage 03: change per reducer against the kept fraction, one panel per model × format (Fig. 4/5)."""
    return plot_change_by_fraction(summary, hue="reducer", col="format", title=(
        f"Dimensionality reduction ({weighting}-weighted mean of the same held-out collections per model: "
        f"{collection_counts(summary)}; fit on {fit_on})"))


def combined_figure(summary: pd.DataFrame, weighting: str, fit_on: str) -> plt.Figure:
    """Stage 04: change per format against the kept fraction, one panel per model × reducer (Fig. 6)."""
    return plot_change_by_fraction(summary, hue="format", col="reducer", title=(
        f"Reduce, then quantize ({weighting}-weighted mean of the same held-out collections per model: "
        f"{collection_counts(summary)}; fit on {fit_on})"))
