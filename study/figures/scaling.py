"""Figure of the scaling benchmark (notebook 08): time, memory, GEMM share, HNSW build."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from study.analysis.scaling import EXACT, is_index
from study.figures import plots  # noqa: F401 - the study's seaborn style


def plot_scaling(table: pd.DataFrame, budget_bytes: float | None = None):
    """Panels against corpus size: query time (exact search solid, HNSW indexes dashed), peak resident
    memory (with the budget), the exact search's multiply-add rate as a fraction of the same run's
    float32 GEMM rate (HNSW has none), and, when indexes were measured, their build time. Colour: format
    or index kind; marker: dims."""


    indexes = table[table.method != EXACT]
    fig, axes = plt.subplots(1, 4 if len(indexes) else 3, figsize=(17 if len(indexes) else 13, 4))
    formats = sorted(table.format.unique(), key=lambda f: (is_index(f), f))
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours = {f: palette[i % len(palette)] for i, f in enumerate(formats)}
    markers = dict(zip(sorted(table.dims.unique()), ["o", "s", "^", "D"], strict=False))
    for (fmt, dims), g in sorted(table.groupby(["format", "dims"]), key=lambda item: (is_index(item[0][0]), item[0])):
        kw = {"color": colours[fmt], "ls": "--" if is_index(fmt) else "-", "marker": markers.get(dims, "o"), "ms": 3,
              "label": f"{fmt} d={dims}"}
        axes[0].plot(g.n_docs, g.wall_time_s, **kw)
        axes[1].plot(g.n_docs, g.peak_rss_bytes / 2**30, **kw)
        if is_index(fmt):
            if len(axes) > 3:
                axes[3].plot(g.n_docs, g.build_s, **kw)
        else:
            axes[2].plot(g.n_docs, g.fraction_of_gemm_peak, **kw)
    if budget_bytes:
        axes[1].axhline(budget_bytes / 2**30, color="black", lw=1, ls=":", label="budget")
    axes[0].set(xscale="log", yscale="log", ylabel="query time, all queries (s)",
                title="time (solid: exact, dashed: HNSW)" if len(indexes) else "time")
    axes[1].set(xscale="log", ylabel="peak resident memory (GiB)", title="memory", ylim=(0, None))
    axes[2].set(xscale="log", ylabel="multiply-adds/s ÷ float32 GEMM peak", title="fraction of GEMM peak (exact)",
                ylim=(0, None))
    if len(axes) > 3:
        axes[3].set(xscale="log", yscale="log", ylabel="build time (s)", title="HNSW build")
    for ax in axes:
        ax.set_xlabel("documents (N)")
    axes[1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig
