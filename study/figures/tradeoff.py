"""Figures of stage 05: the trade-off (the paper's Fig. 7) and storage inside budgets (Fig. 8/9)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from study.analysis.tradeoff import Draws, at_scale, choose, fits, format_budget
from study.figures import plots  # noqa: F401 - the study's seaborn style

SHOWN_LOSS_PCT = 50.0  # the storage figure leaves out configurations that lose more than this (float4)


def kind_palette(kinds: list[str]) -> list:
    """One distinct colour per kind: seaborn's default 10 colours, or tab20 when the codecs make it more."""
    return sns.color_palette("deep" if len(kinds) <= 10 else "tab20", len(kinds))


def plot_tradeoff(configs: pd.DataFrame) -> plt.Figure:
    """nDCG@10 loss against measured compression ratio (log axis), one panel per model, frontier drawn."""
    models = list(dict.fromkeys(configs.model))
    fig, axes = plt.subplots(1, len(models), figsize=(6.2 * len(models) + 1.5, 4.6), squeeze=False, sharey=True)
    kinds = list(dict.fromkeys(configs.sort_values("compression_ratio").kind))
    reducers = list(dict.fromkeys(configs.reducer))
    for i, (ax, model) in enumerate(zip(axes[0], models)):
        data = configs[configs.model == model]
        sns.scatterplot(data=data, x="compression_ratio", y="loss_pct", hue="kind", hue_order=kinds,
                        palette=kind_palette(kinds), style="reducer", style_order=reducers, s=45, ax=ax,
                        legend=i == len(models) - 1, zorder=3)
        front = data[data.on_frontier].sort_values("compression_ratio")
        ax.plot(front.compression_ratio, front.loss_pct, color="black", lw=1, ls="--", zorder=2,
                label="Pareto frontier")
        for r in front.itertuples():
            ax.annotate(r.label, (r.compression_ratio, r.loss_pct), fontsize=6, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xscale("log", base=2)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(bottom=min(-0.3, 1.2 * float(data.loss_pct.min())))
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_xlabel("compression ratio (measured bytes, log scale)")
        ax.set_ylabel("nDCG@10 loss vs float32 (%)")
        ax.set_title(f"{model} (the same {int(data.n_datasets.max())} held-out collections for every point)")
    if len(models):
        axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=7, frameon=False)
    fig.tight_layout()
    return fig

def plot_storage(configs: pd.DataFrame, n_vectors: list[int], budgets: dict[str, int],
                 draws: Draws | None = None) -> plt.Figure:
    """Storage of N vectors (log) against nDCG@10, one panel per model × N, budgets as horizontal lines
    and the configuration ``select`` recommends inside each budget starred (with ``draws``: the cheapest not
    significantly worse than the best that fits, and the frontier that steps up only where the CI says so)."""
    models = list(dict.fromkeys(configs.model))
    fig, axes = plt.subplots(len(models), len(n_vectors), figsize=(5.6 * len(n_vectors) + 1.5, 4.2 * len(models)),
                             squeeze=False)
    kinds = list(dict.fromkeys(configs.sort_values("compression_ratio").kind))
    colours = sns.color_palette("dark", len(budgets))
    for i, model in enumerate(models):
        for j, n in enumerate(n_vectors):
            ax = axes[i][j]
            data = at_scale(configs[configs.model == model], n, draws)
            shown = data[data.loss_pct <= SHOWN_LOSS_PCT]
            sns.scatterplot(data=shown, x="expected", y="total_bytes", hue="kind", hue_order=kinds,
                            palette=kind_palette(kinds),
                            style="reducer", s=40, ax=ax, legend=(i == 0 and j == len(n_vectors) - 1), zorder=3)
            front = shown[shown.on_frontier].sort_values("total_bytes")
            ax.plot(front.expected, front.total_bytes, color="black", lw=1, ls="--", zorder=2)
            ax.set_yscale("log")
            for k, (colour, (name, budget)) in enumerate(zip(colours, budgets.items())):
                ax.axhline(budget, color=colour, lw=1, ls=":")
                ax.annotate(f"{name} ({format_budget(budget)})", (0.01, budget),
                            xycoords=("axes fraction", "data"), fontsize=7, color=colour, va="bottom")
                inside = data[fits(data, budget)]
                if len(inside):
                    best = choose(inside, draws)[0]
                    ax.scatter([best.expected], [best.total_bytes], marker="*", s=260 - 50 * min(k, 4), color=colour,
                               edgecolor="black", zorder=4)
            ax.set_xlabel("nDCG@10 (expected, texts-weighted)")
            ax.set_ylabel(f"storage of {n:,} vectors, every tier (bytes)")
            ax.set_title(f"{model}, N = {n:,}")
    if len(models):
        axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=7, frameon=False)
    fig.suptitle(f"Configurations losing more than {SHOWN_LOSS_PCT:g} % not shown; ★ = select's choice inside each "
                 "budget",
                 fontsize=9)
    fig.tight_layout()
    return fig
