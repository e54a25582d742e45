"""Figure of stage 09: every codec's nDCG@10 loss against what it stores, per model, with the frontier; drawn for
print like the trade-off (``study.figures.plots``: text width, 7 pt, at most eight colour-blind-safe colours)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from study.analysis.tradeoff import kind, pareto_mask
from study.figures import plots
from study.figures.plots import GROUP_COLOURS, GROUP_ORDER, MARKERS, TEXT_WIDTH_IN, colour_group, marker_of

PANEL_HEIGHT_IN = 2.4


def plot_codecs(summary: pd.DataFrame, weighting: str) -> plt.Figure:
    """Loss vs compression (every tier, log scales) per model, side by side at the paper's text width: colour = the
    codec's number format (grouped), marker = alone / after a reducer / rescored, hollow = its 95 % CI against
    float32 includes no change; the line joins the configurations no other beats at fewer bytes."""
    rows = summary[summary.format != "float32"].copy()
    rows["group"] = [colour_group(kind(f)) for f in rows.format]
    rows["loss_pct"] = -rows.change_pct
    models = list(dict.fromkeys(rows.model))
    groups = [g for g in GROUP_ORDER if g in set(rows.group)]
    with plt.rc_context(plots.PRINT_RC):
        fig, axes = plt.subplots(1, max(1, len(models)), figsize=(TEXT_WIDTH_IN, PANEL_HEIGHT_IN + 0.45),
                                 squeeze=False, sharey=True)
        for ax, model in zip(axes[0], models, strict=False):
            _codecs_panel(ax, rows[rows.model == model], summary.attrs.get("sets", {}).get(model), model)
        axes[0][0].set_ylabel(f"nDCG@10 loss (%, {weighting}-weighted)", labelpad=1)
        plots.print_legend(fig, groups, "frontier")
        fig.subplots_adjust(left=0.08, right=0.99, bottom=0.15, top=1 - 0.62 / (PANEL_HEIGHT_IN + 0.45), wspace=0.08)
    return fig


def _codecs_panel(ax: plt.Axes, part: pd.DataFrame, named, model: str) -> None:
    same = ((part.ci_low <= 0) & (part.ci_high >= 0)).to_numpy() if "ci_low" in part else np.zeros(len(part), bool)
    for r, hollow in zip(part.itertuples(), same, strict=True):
        colour = GROUP_COLOURS.get(r.group, "grey")
        ax.scatter(r.stored_ratio, r.loss_pct, s=10, marker=MARKERS[marker_of(r)], facecolor="white" if hollow
                   else colour, edgecolor=colour if not hollow else "black", lw=0.4, alpha=0.8, zorder=3)
    front = part[pareto_mask(part.stored_bytes_per_vector, part.change_pct)].sort_values("stored_ratio")
    ax.plot(front.stored_ratio, front.loss_pct, color="black", lw=0.8, zorder=2)
    ax.set_xscale("log", base=2)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=min(-0.5, 1.3 * float(np.nanmin(part.loss_pct))), top=150)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("compression, every tier (×)", labelpad=1)
    title = f"{model}, set {named.name}" if named is not None else model
    ax.set_title(f"{title}\n{len(part)} configurations", pad=2)
    ax.tick_params(pad=1, length=2)
