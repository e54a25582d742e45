"""Figures of stages 03 and 04: nDCG@10 change against the kept fraction (the paper's Fig. 4-6)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from study.experiment.configs import NONE
from study.figures.plots import FONT_PT, PRINT_RC, TEXT_WIDTH_IN, collection_counts, series_styles


def plot_change_by_fraction(summary: pd.DataFrame, hue: str, col: str, title: str) -> plt.Figure:
    """Lines: nDCG@10 change vs float32 against the kept fraction, one line per ``hue``, one panel per
    model × ``col``; the unreduced point (100 %) starts every line (the paper's Fig. 4-6). Drawn at the paper's
    text width with 7 pt text; more than eight lines repeat the colours dashed (``plots.series_styles``)."""
    reduced = summary[summary.reducer != NONE]
    start = summary[summary.reducer == NONE]
    # every reducer's line starts at the unreduced format (100 % kept)
    lines = pd.concat([reduced] + [start.assign(reducer=r) for r in reduced.reducer.unique()], ignore_index=True)
    hue_order = list(dict.fromkeys(lines[hue]))
    styles = series_styles(hue_order)
    models, cols = list(summary.model.unique()), list(reduced[col].unique())
    with plt.rc_context(PRINT_RC):
        fig, axes = plt.subplots(len(models), len(cols), figsize=(TEXT_WIDTH_IN, 1.9 * len(models) + 0.9),
                                 squeeze=False, sharex=True, sharey=True)
        for i, model in enumerate(models):
            for j, value in enumerate(cols):
                ax = axes[i][j]
                panel = lines[(lines.model == model) & (lines[col] == value)].sort_values("fraction")
                for name, rows in panel.groupby(hue, sort=False):
                    colour, dash = styles[name]
                    ax.plot(rows.fraction, rows.change_pct, color=colour, ls=dash, marker="o", ms=2.5, lw=1,
                            label=name)
                ax.axhline(0, color="black", lw=0.6)
                ax.set_yscale("symlog", linthresh=1.0)
                ax.set_xlim(1.03, min(lines.fraction) - 0.03)
                ax.set_title(f"{model} · {value}", pad=2)
                ax.set_xlabel("fraction of dimensions kept" if i == len(models) - 1 else "", labelpad=1)
                ax.set_ylabel("nDCG@10 change (%)" if j == 0 else "", labelpad=1)
                ax.tick_params(pad=1, length=2)
        handles = [plt.Line2D([], [], color=c, ls=d, marker="o", ms=2.5, lw=1, label=n)
                   for n, (c, d) in styles.items()]
        fig.legend(handles=handles, loc="upper center", ncol=min(5, len(handles)), frameon=False,
                   bbox_to_anchor=(0.5, 1.0), title=f"{hue} · {title}", title_fontsize=FONT_PT)
        top = 1 - (0.42 + 0.14 * ((len(handles) + 4) // 5)) / (1.9 * len(models) + 0.9)
        fig.subplots_adjust(left=0.1, right=0.99, bottom=0.07, top=top, hspace=0.35, wspace=0.08)
    return fig


def reduction_figure(summary: pd.DataFrame, weighting: str, fit_on: str) -> plt.Figure:
    """Stage 03: change per reducer against the kept fraction, one panel per model × format (Fig. 4/5)."""
    return plot_change_by_fraction(summary, hue="reducer", col="format", title=(
        f"{weighting}-weighted, the same held-out collections per model ({collection_counts(summary)}); "
        f"fit on {fit_on}"))


def combined_figure(summary: pd.DataFrame, weighting: str, fit_on: str) -> plt.Figure:
    """Stage 04: change per format against the kept fraction, one panel per model × reducer (Fig. 6)."""
    return plot_change_by_fraction(summary, hue="format", col="reducer", title=(
        f"{weighting}-weighted, the same held-out collections per model ({collection_counts(summary)}); "
        f"fit on {fit_on}"))
