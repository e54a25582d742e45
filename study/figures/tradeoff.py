"""Figures of stage 05: the trade-off (the paper's Fig. 7) and storage inside budgets (Fig. 8/9)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from study.analysis.tradeoff import DEFAULT_MAX_LOSS, Draws, at_scale, choose, fits, format_budget
from study.figures import plots
from study.figures.plots import (
    FONT_PT,
    GROUP_COLOURS,
    GROUP_ORDER,
    MARKERS,
    TEXT_WIDTH_IN,
    colour_group,
    marker_of,
)

SHOWN_LOSS_PCT = 50.0  # the storage figure leaves out configurations that lose more than this (float4)


def kind_palette(kinds: list[str]) -> list:
    """One distinct colour per kind: seaborn's default 10 colours, or tab20 when the codecs make it more."""
    return sns.color_palette("deep" if len(kinds) <= 10 else "tab20", len(kinds))


# --- the trade-off (Fig. 7), drawn for print --------------------------------------------------------------------

KEY_WRAP = 58  # characters per line of a frontier key at FONT_PT in the key's column


def frontier_key(front: pd.DataFrame) -> list[str]:
    """One numbered line per frontier point: its label, ratio and change with CI (``≈ float32`` where the CI
    includes no change), wrapped to the key's width."""
    import textwrap

    lines = []
    for i, r in enumerate(front.itertuples(), 1):
        ci = (f" [{r.ci_low:+.1f},\u00a0{r.ci_high:+.1f}]" if hasattr(r, "ci_low") and pd.notna(r.ci_low) else "")
        same = " ≈ float32" if bool(getattr(r, "same_as_float32", False)) else ""
        text = f"{i}. {r.label}: {r.compression_ratio:.3g}×, {-r.loss_pct:+.1f}\u00a0%{ci}{same}"
        lines += [line.replace("\u00a0", " ") for line in  # no break inside "−1.5 %" or "≈ float32"
                  textwrap.wrap(text.replace("≈ ", "≈\u00a0"), KEY_WRAP, subsequent_indent="    ")]
    return lines


def plot_tradeoff(configs: pd.DataFrame, metric_label: str = "nDCG@10") -> plt.Figure:
    """nDCG@10 loss against measured compression ratio, one row per model at the paper's text width: every
    configuration as a small point (colour: its number format, at most eight groups; marker: alone, after a
    reducer, rescored), the frontier as a line of numbered points listed beside the plot with their change and CI
    (hollow: not distinguishable from float32). Loss on a symmetric log axis, so losses under 5 % stay apart.
    ``metric_label`` names the quality on the axis (``study advise`` draws recall@10 without judgments)."""
    models = list(dict.fromkeys(configs.model))
    keys = {m: frontier_key(configs[(configs.model == m) & configs.on_frontier].sort_values("compression_ratio"))
            for m in models}
    heights = [max(2.0, 0.118 * len(keys[m]) + 0.45) for m in models]
    with plt.rc_context(plots.PRINT_RC):
        fig = plt.figure(figsize=(TEXT_WIDTH_IN, sum(heights) + 0.55))
        grid = fig.add_gridspec(len(models), 2, width_ratios=[1.0, 1.05], height_ratios=heights or [1],
                                left=0.08, right=0.99, top=1 - 0.5 / (sum(heights) + 0.55), bottom=0.06,
                                hspace=0.45, wspace=0.04)
        for i, model in enumerate(models):
            named = configs.attrs.get("sets", {}).get(model)
            _tradeoff_panel(fig.add_subplot(grid[i, 0]), configs[configs.model == model],
                            f"{model}, set {named.name}" if named is not None else model, metric_label)
            key = fig.add_subplot(grid[i, 1])
            key.axis("off")
            key.text(0.0, 1.0, "\n".join(keys[model]), va="top", ha="left", fontsize=FONT_PT, transform=key.transAxes)
        plots.print_legend(fig, GROUP_ORDER, "frontier (numbered)")
    return fig


def _tradeoff_panel(ax: plt.Axes, data: pd.DataFrame, title: str, metric_label: str = "nDCG@10") -> None:
    for r in data.itertuples():
        ax.scatter(r.compression_ratio, r.loss_pct, s=9, marker=MARKERS[marker_of(r)],
                   color=GROUP_COLOURS.get(colour_group(r.kind), "grey"), alpha=0.45, lw=0, zorder=2)
    front = data[data.on_frontier].sort_values("compression_ratio")
    ax.plot(front.compression_ratio, front.loss_pct, color="black", lw=0.8, zorder=3)
    for i, r in enumerate(front.itertuples(), 1):
        same = bool(getattr(r, "same_as_float32", False))
        colour = GROUP_COLOURS.get(colour_group(r.kind), "grey")
        ax.scatter(r.compression_ratio, r.loss_pct, s=22, marker=MARKERS[marker_of(r)], zorder=4,
                   facecolor="white" if same else colour, edgecolor="black", lw=0.6)
        above = i % 2  # alternate sides, so neighbouring numbers do not overlap
        ax.annotate(str(i), (r.compression_ratio, r.loss_pct), xytext=(-3, 3) if above else (4, -8),
                    textcoords="offset points", fontsize=FONT_PT, ha="right" if above else "left", zorder=5)
    ax.set_xscale("log", base=2)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=min(-0.5, 1.3 * float(data.loss_pct.min())), top=250)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("compression ratio (every tier, log scale)", labelpad=1)
    ax.set_ylabel(f"{metric_label} loss (%)", labelpad=1)
    ax.set_title(f"{title}: {len(data)} configurations, {int(data.n_datasets.max())} collections", pad=2)
    ax.tick_params(pad=1, length=2)


def plot_storage(configs: pd.DataFrame, n_vectors: list[int], budgets: dict[str, int],
                 draws: Draws | None = None) -> plt.Figure:
    """Storage of N vectors (log) against nDCG@10, one row per model and one column per N, at the paper's text
    width (7 pt, grouped colours as the trade-off): budgets as dotted lines, the configuration ``select``
    recommends inside each budget starred (with ``draws``: the cheapest not significantly worse than the best that
    fits), configurations losing more than ``SHOWN_LOSS_PCT`` left out."""
    models = list(dict.fromkeys(configs.model))
    rows, cols = max(1, len(models)), max(1, len(n_vectors))
    with plt.rc_context(plots.PRINT_RC):
        fig, axes = plt.subplots(rows, cols, figsize=(TEXT_WIDTH_IN, 1.95 * rows + 0.5), squeeze=False)
        for i, model in enumerate(models):
            for j, n in enumerate(n_vectors):
                _storage_panel(axes[i][j], at_scale(configs[configs.model == model], n, draws), budgets, draws,
                               f"{model}, N = {n:,}", first_column=j == 0)
        shown = [g for g in GROUP_ORDER if g in set(configs.kind.map(colour_group))]
        star = plt.Line2D([], [], ls="", marker="*", color="black", markersize=7, label="select's choice")
        plots.print_legend(fig, shown, "frontier", extra=[star])
        fig.subplots_adjust(left=0.1, right=0.99, bottom=0.07, top=1 - 0.55 / (1.95 * rows + 0.5), hspace=0.55,
                            wspace=0.22)
    return fig


def _storage_panel(ax: plt.Axes, data: pd.DataFrame, budgets: dict[str, int], draws: Draws | None, title: str,
                   first_column: bool) -> None:
    shown = data[data.loss_pct <= SHOWN_LOSS_PCT]
    for r in shown.itertuples():
        ax.scatter(r.expected, r.total_bytes, s=8, marker=MARKERS[marker_of(r)], lw=0, alpha=0.5, zorder=2,
                   color=GROUP_COLOURS.get(colour_group(r.kind), "grey"))
    front = shown[shown.on_frontier].sort_values("total_bytes")
    ax.plot(front.expected, front.total_bytes, color="black", lw=0.8, zorder=3)
    ax.set_yscale("log")
    for name, budget in budgets.items():
        ax.axhline(budget, color="grey", lw=0.6, ls=":", zorder=1)
        ax.annotate(f"{name} ({format_budget(budget)})", (0.01, budget), xycoords=("axes fraction", "data"),
                    fontsize=FONT_PT, color="dimgrey", va="bottom")
        inside = data[fits(data, budget)]
        if len(inside):
            best = choose(inside, draws, DEFAULT_MAX_LOSS)[0]
            ax.scatter([best.expected], [best.total_bytes], marker="*", s=70, color="black", edgecolor="white",
                       lw=0.5, zorder=4)
    ax.set_xlabel("nDCG@10 (held-out collections)", labelpad=1)
    if first_column:
        ax.set_ylabel("storage, every tier (bytes)", labelpad=1)
    ax.set_title(title, pad=2)
    ax.set_ylim(top=max(budgets.values(), default=ax.get_ylim()[1]) * 8)
    ax.tick_params(pad=1, length=2)
