"""Figure of stage 09: every codec's nDCG@10 change against what it stores, per model, with the frontier."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from study.analysis.tradeoff import kind, pareto_mask
from study.experiment.configs import NONE
from study.figures import plots


def plot_codecs(summary: pd.DataFrame, weighting: str) -> plt.Figure:
    """Change vs compression (all tiers, log scale) per model: colour = the codec family, marker = alone / after a
    reducer / rescored; the line joins the configurations no other beats at fewer bytes (this stage's frontier)."""
    rows = summary[summary.format != "float32"].copy()
    rows["codec"] = [kind(f) for f in rows.format]
    rows["variant"] = ["rescored" if r != NONE else "alone" if m == NONE else f"after {m}"
                       for r, m in zip(rows.rescore, rows.reducer, strict=True)]
    models = list(dict.fromkeys(rows.model))
    codecs, variants = sorted(set(rows.codec)), sorted(set(rows.variant))
    palette = dict(zip(codecs, sns.color_palette("colorblind", len(codecs)), strict=True))
    fig, axes = plt.subplots(1, len(models), figsize=(6.2 * len(models), 4.6), squeeze=False, sharey=True)
    for i, (ax, model) in enumerate(zip(axes[0], models, strict=True)):
        part = rows[rows.model == model]
        sns.scatterplot(data=part, x="stored_ratio", y="change_pct", hue="codec", hue_order=codecs, palette=palette,
                        style="variant", style_order=variants, s=28, alpha=0.85, ax=ax, legend=i == len(models) - 1)
        front = part[pareto_mask(part.stored_bytes_per_vector, part.change_pct)].sort_values("stored_ratio")
        ax.plot(front.stored_ratio, front.change_pct, color="black", lw=1, zorder=0)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("compression, every tier stored (×, log scale)")
        ax.set_ylabel(f"nDCG@10 change vs float32 (%, {weighting}-weighted)")
        ax.set_title(f"{model} ({len(summary.attrs.get('sets', {}).get(model, []))} held-out collections)")
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_ylim(max(-100, np.nanmin(part.change_pct) - 5), max(5, np.nanmax(part.change_pct) + 2))
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7, frameon=False)
    fig.suptitle(f"Codecs at equal bytes ({plots.collection_counts(summary)})")
    fig.tight_layout()
    return fig
