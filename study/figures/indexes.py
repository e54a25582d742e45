"""Figure of stage 07: speed and quality of real indexes against measured bytes per vector, drawn for print like the
trade-off (``study.figures.plots``: text width, 7 pt, at most eight colour-blind-safe colours)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from study.figures import plots
from study.figures.plots import FONT_PT, OKABE_ITO, TEXT_WIDTH_IN

# An index's storage format → (its colour's family, hollow): eight families, the second format of a pair that
# stores the same bytes hollow. The colours follow the other figures' groups where they can (plots.GROUP_COLOURS).
FAMILIES = {
    "f32": ("float32", False), "f16": ("16-bit float", False), "bf16": ("16-bit float", True),
    "e4m3": ("float8", False), "e5m2": ("float8", True), "i8": ("int8", False), "sq8": ("int8", True),
    "sq4": ("int4", False), "b1": ("binary", False), "pq": ("PQ", False), "pqrflat": ("PQ", True),
    "rabitq": ("RaBitQ", False),
}
FAMILY_COLOURS = {"float32": OKABE_ITO[0], "16-bit float": OKABE_ITO[1], "float8": OKABE_ITO[6],
                  "int8": OKABE_ITO[2], "int4": OKABE_ITO[7], "binary": OKABE_ITO[3], "PQ": OKABE_ITO[5],
                  "RaBitQ": OKABE_ITO[4]}
METHOD_MARKERS = ["o", "X", "s", "P", "D", "^", "v", "<"]  # per library and search method, in the rows' order
PANELS = [("qps_b1", "queries/s at batch 1 (log)"), ("recall_change_pct", "recall@10 change vs exact f32 (%)"),
          ("ndcg_change_pct", "nDCG@10 change vs float32 (%)")]
ROW_IN = 1.85  # height of one model's row of panels
LEGEND_COLUMNS = (12, 6)  # the formats' legend and the methods' legend: entries per row
LEGEND_ROW_IN = 0.16
HEAD_IN = 0.22  # above the legends and between them and the panels (titles)
SIZE = {False: 16, True: 32}  # a hollow marker is larger: drawn over a filled one at the same place, it rings it


def family(fmt: str) -> tuple[str, bool]:
    """The colour family of an index's storage format and whether it is drawn hollow (a format not in ``FAMILIES``:
    its own name, filled; at most eight colours still hold while the stage's kinds are those of ``FAMILIES``)."""
    return FAMILIES.get(fmt, (fmt, False))


def plot_indexes(rows: pd.DataFrame) -> plt.Figure:
    """Per model (rows of panels), at the paper's text width with 7 pt text: QPS at batch 1, recall@10 against exact
    float32 search and nDCG@10 against float32, both as % change on a symmetric log axis (linear within ±1 %), against
    measured bytes per vector (log). Colour = the storage format's family (hollow: the second format of a pair),
    marker = library and search method; the legends are above the panels."""
    rows = rows.assign(method=rows.library + " " + rows.search, recall_change_pct=100 * (rows.recall_at_10 - 1))
    models = list(dict.fromkeys(rows.model))
    formats = sorted(dict.fromkeys(rows.format), key=lambda f: list(FAMILIES).index(f) if f in FAMILIES else 99)
    families = list(dict.fromkeys(family(f)[0] for f in formats))
    colours = {f: FAMILY_COLOURS.get(f, OKABE_ITO[i % len(OKABE_ITO)]) for i, f in enumerate(families)}
    markers = dict(zip(dict.fromkeys(rows.method), METHOD_MARKERS, strict=False))
    legend_rows = -(-len(formats) // LEGEND_COLUMNS[0]) - (-len(markers) // LEGEND_COLUMNS[1])
    height = ROW_IN * len(models) + HEAD_IN + LEGEND_ROW_IN * legend_rows
    with plt.rc_context(plots.PRINT_RC):
        fig, axes = plt.subplots(len(models), len(PANELS), figsize=(TEXT_WIDTH_IN, height), squeeze=False,
                                 sharex=True)
        for r, model in enumerate(models):
            sub = rows[rows.model == model]
            for c, (metric, title) in enumerate(PANELS):
                _panel(axes[r, c], sub, metric, colours, markers)
                axes[r, c].set_title(title, pad=2)
            axes[r, 0].set_ylabel(f"{model} · {sub.dataset.iloc[0]} ({int(sub.n_docs.iloc[0]):,} docs)", labelpad=1)
        for ax in axes[-1]:
            ax.set_xlabel("bytes per vector (measured)", labelpad=1)
        _legends(fig, formats, colours, markers, height)
        fig.subplots_adjust(left=0.085, right=0.99, bottom=0.36 / height,
                            top=1 - (HEAD_IN + LEGEND_ROW_IN * legend_rows) / height, hspace=0.35, wspace=0.3)
    return fig


def _panel(ax: plt.Axes, sub: pd.DataFrame, metric: str, colours: dict, markers: dict) -> None:
    for (fmt, method), part in sub.groupby(["format", "method"], sort=False):
        fam, hollow = family(fmt)
        ax.scatter(part.bytes_per_vector, part[metric], s=SIZE[hollow], marker=markers[method], lw=0.8 if hollow else 0,
                   facecolor="none" if hollow else colours[fam], edgecolor=colours[fam], zorder=3 if hollow else 2)
    ax.set_xscale("log")
    if metric == "qps_b1":
        ax.set_yscale("log")
    else:
        low, high = plots.change_limits(sub[metric])
        ax.set_yscale("symlog", linthresh=1.0, linscale=0.6)
        ax.set_ylim(low, high)
        plots.symlog_ticks(ax.yaxis, low, high)
        ax.axhline(0, color="black", lw=0.6, zorder=1)
    ax.tick_params(pad=1, length=2)


def _legends(fig: plt.Figure, formats: list[str], colours: dict, markers: dict, height: float) -> None:
    """Two legends above the panels: the formats (colour, hollow) and the methods (marker)."""
    kinds = [plt.Line2D([], [], ls="", marker="o", ms=4 if hollow else 3.5, mfc="none" if hollow else colours[fam],
                        mec=colours[fam], mew=0.8, label=fmt) for fmt in formats for fam, hollow in [family(fmt)]]
    ways = [plt.Line2D([], [], ls="", marker=m, ms=3.5, color="black", label=method) for method, m in markers.items()]
    top = 1 - 0.02 / height
    fig.legend(handles=kinds, loc="upper center", ncol=min(LEGEND_COLUMNS[0], len(kinds)), frameon=False,
               fontsize=FONT_PT, handletextpad=0.1, columnspacing=0.9, bbox_to_anchor=(0.5, top))
    below = LEGEND_ROW_IN * -(-len(kinds) // LEGEND_COLUMNS[0]) / height
    fig.legend(handles=ways, loc="upper center", ncol=min(LEGEND_COLUMNS[1], len(ways)), frameon=False,
               fontsize=FONT_PT, handletextpad=0.1, columnspacing=1.2, bbox_to_anchor=(0.5, top - below))
