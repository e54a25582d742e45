"""Figure of stage 07: speed and quality of real indexes against measured bytes per vector."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def plot_indexes(rows: pd.DataFrame) -> plt.Figure:
    """Per model (rows of panels): QPS at batch 1, neighbour recall@10 and nDCG@10 against measured
    bytes per vector (log scale); colour = storage format, marker = library and search method."""
    rows = rows.assign(method=rows.library + " " + rows.search)
    models = list(dict.fromkeys(rows.model))
    panels = [("qps_b1", "queries/s (batch 1, log)"), ("recall_at_10", "recall@10 vs exact float32"),
              ("ndcg_at_10", "nDCG@10")]
    fig, axes = plt.subplots(len(models), len(panels), figsize=(13, 3.8 * len(models)), squeeze=False)
    for r, model in enumerate(models):
        sub = rows[rows.model == model]
        for c, (metric, label) in enumerate(panels):
            ax = axes[r, c]
            sns.scatterplot(data=sub, x="bytes_per_vector", y=metric, hue="format", style="method", s=70, ax=ax,
                            legend=(r == 0 and c == len(panels) - 1))
            ax.set_xscale("log")
            if metric == "qps_b1":
                ax.set_yscale("log")
            ax.set_xlabel("measured bytes per vector (serialized index / n)")
            ax.set_ylabel(label)
            ax.set_title(f"{model} · {sub.dataset.iloc[0]} ({sub.n_docs.iloc[0]} docs)")
    handles = axes[0, -1].get_legend()
    if handles is not None:
        sns.move_legend(axes[0, -1], "upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    fig.tight_layout()
    return fig
