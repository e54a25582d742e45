"""Figure of stage 10: each configuration's change in the label-free recall@10 against its change in nDCG@10, one
panel per model; drawn for print like the trade-off (``study.figures.plots``: text width, 7 pt, Okabe-Ito colours,
symmetric log change axes)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from study.figures import plots
from study.figures.plots import GROUP_COLOURS, GROUP_ORDER, MARKERS, TEXT_WIDTH_IN, colour_group, marker_of

PANEL_IN = 2.2  # height of the panels
HEAD_IN = 0.75  # the legend and the panel titles above them
X, Y = "recall_at_10_change_pct", "ndcg_at_10_change_pct"
TICK_MAGNITUDES = (1, 5, 20, 100)  # change ticks: 0 and ± these (no more: tick labels at 7 pt stay apart)


def plot_proxy(changes: pd.DataFrame, means: pd.DataFrame, rho: pd.DataFrame) -> plt.Figure:
    """Per model: every configuration's recall@10 change (x) against its nDCG@10 change (y), both vs float32 in %,
    on each collection (faint) and on the mean over the model's collection set (solid: colour = number format,
    marker = alone / after a reducer / rescored); the line y = x; the title names the set (``means.set``) and
    Spearman's rho of the means (``rho``: the stage's table, its recall@10 rows)."""
    changes, means = changes[~changes.float32], means[~means.float32]
    models = list(dict.fromkeys(changes.model))
    groups = [g for g in GROUP_ORDER if g in {colour_group(k) for k in changes.kind}]
    with plt.rc_context(plots.PRINT_RC):
        fig, axes = plt.subplots(1, max(1, len(models)), figsize=(TEXT_WIDTH_IN, PANEL_IN + HEAD_IN), squeeze=False)
        for ax, model in zip(axes[0], models, strict=False):
            _panel(ax, changes[changes.model == model], means[means.model == model],
                   float(rho[rho.model == model]["ρ on the set"].iloc[0]))
        axes[0][0].set_ylabel("nDCG@10 change vs float32 (%)", labelpad=1)
        _legend(fig, groups)
        fig.subplots_adjust(left=0.075, right=0.99, bottom=0.17, top=1 - HEAD_IN / (PANEL_IN + HEAD_IN), wspace=0.3)
    return fig


def _panel(ax: plt.Axes, each: pd.DataFrame, mean: pd.DataFrame, rho: float) -> None:
    for frame, size, alpha in ((each, 3, 0.2), (mean, 11, 0.9)):
        for r in frame.itertuples():
            colour = GROUP_COLOURS.get(colour_group(r.kind), plots.OKABE_ITO[0])
            ax.scatter(getattr(r, X), getattr(r, Y), s=size, marker=MARKERS[marker_of(r)], color=colour, lw=0,
                       alpha=alpha, zorder=3 if frame is mean else 2)
    (x_low, x_high), (y_low, y_high) = (plots.change_limits(pd.concat([each[c], mean[c]])) for c in (X, Y))
    low, high = max(x_low, y_low), min(x_high, y_high)
    ax.plot([low, high], [low, high], color="black", lw=0.6, ls="--", zorder=1)
    for axis, scale, limits in ((ax.xaxis, ax.set_xscale, (x_low, x_high)), (ax.yaxis, ax.set_yscale, (y_low, y_high))):
        scale("symlog", linthresh=1.0)
        _ticks(axis, *limits)
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    ax.set_xlabel("recall@10 change vs float32 (%)", labelpad=1)
    ax.set_title(f"{mean.set.iloc[0]}, ρ = {rho:.2f}\n{len(mean)} configurations", pad=2)
    ax.tick_params(pad=1, length=2)


def _ticks(axis, low: float, high: float) -> None:
    ticks = sorted({0.0, *TICK_MAGNITUDES, *(-m for m in TICK_MAGNITUDES)})
    axis.set_major_locator(mticker.FixedLocator([t for t in ticks if low <= t <= high]))
    axis.set_major_formatter(mticker.FuncFormatter(plots.plain_number))
    axis.set_minor_locator(mticker.NullLocator())


def _legend(fig: plt.Figure, groups: list[str]) -> None:
    handles = [plt.Line2D([], [], ls="", marker="o", color=GROUP_COLOURS[g], label=g) for g in groups]
    handles += [plt.Line2D([], [], ls="", marker=m, color="grey", label=v) for v, m in MARKERS.items()]
    handles += [plt.Line2D([], [], ls="", marker="o", ms=3, alpha=0.3, color="grey", label="one collection"),
                plt.Line2D([], [], color=plots.OKABE_ITO[0], lw=0.6, ls="--", label="y = x")]
    fig.legend(handles=handles, loc="upper center", ncol=int(np.ceil(len(handles) / 2)), frameon=False,
               fontsize=plots.FONT_PT, handletextpad=0.2, columnspacing=0.8, bbox_to_anchor=(0.5, 1.0))
