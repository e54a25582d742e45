"""One seaborn style and one function per kind of figure; each writes PDF + PNG atomically."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches as mpatches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from study.core.io import atomic_write  # noqa: E402

sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)

# --- figures drawn for print: the paper's text width, 7 pt text, Okabe-Ito colours ------------------------------------

TEXT_WIDTH_IN = 6.5  # the paper's text width (A4, 2.2 cm margins): the figure is drawn at the size it is printed
FONT_PT = 7.0  # every text of the figure, at that size
SAVED_DPI = 200  # ``save_figure``'s PNG
NOTEBOOK_DPI = 110  # a figure shown in a notebook: readable, and the committed copy opens fast
NOTEBOOK_MAX_PX = 1100  # ... and at most this wide (a figure drawn wider than the page)
OKABE_ITO = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
GROUPS = {  # a figure shows at most eight colours: the kinds (analysis.tradeoff.KINDS) grouped
    "float32": "float32", "16-bit float": "float16/8/4", "float8": "float16/8/4", "float4": "float16/8/4",
    "int8": "int8/int4", "int4": "int8/int4", "binary": "binary", "RaBitQ": "RaBitQ", "OPQ+PQ": "PQ/OPQ",
    "PQ": "PQ/OPQ", "PQ fast-scan": "PQ/OPQ", "TurboQuant": "TurboQuant/OSQ", "OSQ": "TurboQuant/OSQ",
}
GROUP_ORDER = list(dict.fromkeys(GROUPS.values()))
GROUP_COLOURS = dict(zip(GROUP_ORDER, OKABE_ITO[: len(GROUP_ORDER)], strict=True))
MARKERS = {"alone": "o", "reduced": "s", "rescored": "D"}
PRINT_RC = {"font.size": FONT_PT, "axes.titlesize": FONT_PT, "axes.labelsize": FONT_PT, "xtick.labelsize": FONT_PT,
            "ytick.labelsize": FONT_PT, "legend.fontsize": FONT_PT}


def colour_group(kind: str) -> str:
    """The colour group of a configuration's kind (``int8 + rescoring`` → ``int8/int4``)."""
    return GROUPS.get(str(kind).split(" + ")[0], "other")


def marker_of(row) -> str:
    """``rescored`` (two tiers), ``reduced`` (after a reducer) or ``alone``."""
    if getattr(row, "rescore", "none") not in ("none", None):
        return "rescored"
    return "reduced" if getattr(row, "reducer", "none") != "none" else "alone"


def series_styles(names: list[str]) -> dict[str, tuple[str, str]]:
    """A colour and line style per series: the eight Okabe-Ito colours, solid, then again dashed."""
    return {n: (OKABE_ITO[i % len(OKABE_ITO)], "-" if i < len(OKABE_ITO) else "--") for i, n in enumerate(names)}


def print_legend(fig: plt.Figure, groups: list[str], line_label: str, extra: list | None = None) -> None:
    """One legend above the panels: the colour groups shown, the three markers, the frontier line and the hollow
    marker of configurations not distinguishable from float32."""
    handles = [plt.Line2D([], [], ls="", marker="o", color=GROUP_COLOURS[g], label=g) for g in groups]
    handles += [plt.Line2D([], [], ls="", marker=m, color="grey", label=v) for v, m in MARKERS.items()]
    handles += [plt.Line2D([], [], color="black", lw=1, marker="o", label=line_label),
                plt.Line2D([], [], ls="", marker="o", mfc="white", mec="black", label="≈ float32 (CI)"), *(extra or [])]
    fig.legend(handles=handles, loc="upper center", ncol=7, frameon=False, fontsize=FONT_PT, handletextpad=0.2,
               columnspacing=0.8, bbox_to_anchor=(0.5, 1.0))


def save_figure(fig: plt.Figure, stem: Path) -> dict[str, Path]:
    """Save ``stem.pdf`` and ``stem.png`` (200 dpi) atomically and close the figure."""
    paths = {}
    for ext in ("pdf", "png"):
        target = stem.with_suffix(f".{ext}")
        # No creation date or software stamp: reruns give byte-identical figures.
        metadata = {"CreationDate": None, "Producer": None} if ext == "pdf" else {"Software": None}
        atomic_write(target, lambda p, ext=ext, md=metadata: fig.savefig(
            p, format=ext, dpi=SAVED_DPI, bbox_inches="tight", metadata=md))
        paths[ext] = target
    plt.close(fig)
    return paths


def plot_change_by_format(
    summary: pd.DataFrame, per_dataset: pd.DataFrame, formats: list[str], title: str
) -> plt.Figure:
    """Bars: aggregate % change of nDCG@10 vs float32 per format and model; dots: each collection.

    If ``summary`` has ``ci_low``/``ci_high`` (``study.analysis.stats.add_significance``), bars get their CI
    as whiskers, and losses that are not significant after Holm's correction get an open diamond."""
    with plt.rc_context(PRINT_RC):
        return _change_by_format(summary, per_dataset, formats, title)


def _change_by_format(summary: pd.DataFrame, per_dataset: pd.DataFrame, formats: list[str], title: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(TEXT_WIDTH_IN, 2.9))
    models = list(dict.fromkeys(summary.model))
    sns.barplot(data=summary, x="format", y="change_pct", hue="model", order=formats, hue_order=models, ax=ax,
                alpha=0.8, palette=OKABE_ITO[1: 1 + len(models)] if len(models) < len(OKABE_ITO) else None)
    np.random.seed(0)  # seaborn jitters strip points with numpy's global RNG: seed it for identical reruns
    sns.stripplot(data=per_dataset, x="format", y="change_pct", hue="model", order=formats, hue_order=models,
                  dodge=True, ax=ax, size=3, color="black", legend=False)
    if {"ci_low", "ci_high"} <= set(summary.columns):
        _add_error_bars(ax, summary, formats, models)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("storage format")
    ax.set_ylabel("nDCG@10 change vs float32 (%)")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    return fig


def _add_error_bars(ax: plt.Axes, summary: pd.DataFrame, formats: list[str], models: list[str]) -> None:
    """CI whiskers on each bar of a hue-dodged bar plot (x = format, hue = model), and an open
    diamond at 0 for a loss that is not significant (``significant`` False). seaborn draws one bar
    container per hue level, in ``hue_order`` (= ``models``)."""
    rows = summary.set_index(["model", "format"])
    marked = False
    for model, container in zip(models, ax.containers, strict=False):
        for bar in container:
            x = bar.get_x() + bar.get_width() / 2
            fmt_index = int(round(x))
            if not 0 <= fmt_index < len(formats) or (model, formats[fmt_index]) not in rows.index:
                continue
            row = rows.loc[(model, formats[fmt_index])]
            if pd.notna(row.ci_low) and pd.notna(row.ci_high):
                ax.errorbar(x, row.change_pct, yerr=[[row.change_pct - row.ci_low], [row.ci_high - row.change_pct]],
                            fmt="none", ecolor="black", elinewidth=0.9, capsize=2)
            significant = row.get("significant", pd.NA)
            if row.change_pct < 0 and not pd.isna(significant) and not bool(significant):
                ax.plot(x, 0, marker="D", ms=5, mfc="white", mec="black", ls="none")
                marked = True
    if marked:
        handles, labels = ax.get_legend_handles_labels()
        handles.append(plt.Line2D([], [], marker="D", ms=5, mfc="white", mec="black", ls="none"))
        ax.legend(handles, [*labels, "loss not significant (Holm)"], title="model", fontsize=FONT_PT,
                  title_fontsize=FONT_PT)


SERIES_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
"""The Okabe-Ito colours, darkest and most distinct first (yellow last: it is faint on white), for a figure's series."""
SYMLOG_STEPS = (1, 2, 5)  # ticks of a symmetric log axis: 1, 2, 5 per decade (``symlog_ticks``)


def series_colours(names: list) -> dict:
    """One colour per series name in ``SERIES_COLOURS`` order (a ninth name repeats the first colour: a figure draws
    at most eight series per panel)."""
    return {n: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, n in enumerate(names)}


def plain_number(value: float, _position=None) -> str:
    """A tick label without powers of ten: ``−10``, ``−0.5``, ``0``, ``100``."""
    return f"{value:g}".replace("-", "\u2212")


def symlog_ticks(axis, low: float, high: float, steps: tuple[int, ...] = SYMLOG_STEPS) -> None:
    """Plain-number ticks on a symmetric log axis (linear within ±1 %) from ``low`` to ``high``: 0, ±0.5 and
    ``steps`` × 10^k; no minor ticks."""
    magnitudes = [0.5, *(s * 10.0**k for k in range(4) for s in steps)]
    ticks = sorted({0.0, *magnitudes, *(-m for m in magnitudes)})
    axis.set_major_locator(mticker.FixedLocator([t for t in ticks if low <= t <= high]))
    axis.set_major_formatter(mticker.FuncFormatter(plain_number))
    axis.set_minor_locator(mticker.NullLocator())


def change_limits(values: pd.Series | np.ndarray, margin: float = 1.3) -> tuple[float, float]:
    """Limits of a change axis (%) on a symmetric log scale: every value inside, ``margin`` × the extremes, and at least
    ±0.75 (the ticks at 0 and ±0.5 inside, their labels clear of the panel's edge)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    low = min(-0.75, margin * float(finite.min())) if finite.size else -1.0
    high = max(0.75, margin * float(finite.max())) if finite.size else 1.0
    return low, high


def _interval_marker(ax: plt.Axes, x: float, y: float, lo: float, hi: float, color, filled: bool,
                     horizontal: bool) -> None:
    err = [[x - lo], [hi - x]] if horizontal else [[y - lo], [hi - y]]
    kwargs = {"xerr": err} if horizontal else {"yerr": err}
    ax.errorbar(x, y, fmt="o", color=color, mfc=color if filled else "white", mec=color, ms=3.2, mew=0.8,
                capsize=1.5, capthick=0.7, elinewidth=0.7, **kwargs)


INTERVAL_ROW_IN = 0.16  # height of one configuration's row in ``plot_change_intervals``
INTERVAL_HEAD_IN = 0.62  # the title, the legend and the panel titles above the rows
INTERVAL_FOOT_IN = 0.36  # the tick labels and the axis label below them


def plot_change_intervals(
    summary: pd.DataFrame, order: list[str], label: str, hue: str, title: str, xlabel: str | None = None
) -> plt.Figure:
    """Dots and CI whiskers of the % change vs float32 (x, symmetric log: linear within ±1 %) per configuration
    ``label`` (y, in ``order``), one colour per ``hue`` level (Okabe-Ito), one panel per model, side by side at the
    paper's text width with 7 pt text; the legend above the panels. Open dots: not significant after Holm
    (``significant`` False); columns ``change_pct, ci_low, ci_high`` as from
    ``study.analysis.stats.add_significance``."""
    with plt.rc_context(PRINT_RC):
        return _change_intervals(summary, order, label, hue, title, xlabel)


def _change_intervals(summary: pd.DataFrame, order: list[str], label: str, hue: str, title: str,
                      xlabel: str | None) -> plt.Figure:
    models = list(dict.fromkeys(summary.model))
    levels = list(dict.fromkeys(summary[hue]))
    colors = series_colours(levels)
    height = INTERVAL_HEAD_IN + INTERVAL_ROW_IN * len(order) + INTERVAL_FOOT_IN
    fig, axes = plt.subplots(1, max(1, len(models)), figsize=(TEXT_WIDTH_IN, height), sharey=True, squeeze=False)
    step = 0.8 / max(1, len(levels))
    offsets = {lvl: (i - (len(levels) - 1) / 2) * step for i, lvl in enumerate(levels)}
    for ax, model in zip(axes[0], models, strict=False):
        rows = summary[(summary.model == model) & summary[label].isin(order)]
        for row in rows.to_dict("records"):
            lo = row["ci_low"] if pd.notna(row["ci_low"]) else row["change_pct"]
            hi = row["ci_high"] if pd.notna(row["ci_high"]) else row["change_pct"]
            sig = row.get("significant")
            _interval_marker(ax, row["change_pct"], order.index(row[label]) + offsets[row[hue]], lo, hi,
                             colors[row[hue]], filled=pd.isna(sig) or bool(sig), horizontal=True)
        ax.axvline(0, color="black", lw=0.6)
        ax.set_xscale("symlog", linthresh=1.0)
        low, high = change_limits(pd.concat([rows.change_pct, rows.ci_low, rows.ci_high]), margin=1.4)
        ax.set_xlim(low, high)
        symlog_ticks(ax.xaxis, low, high, steps=(1,))
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_xlabel(xlabel or "nDCG@10 change vs float32 (%)", labelpad=1)
        ax.set_title(model, pad=2)
        ax.tick_params(pad=1, length=2)
    handles = [plt.Line2D([], [], marker="o", ms=3.2, color=colors[lvl], ls="none", label=str(lvl)) for lvl in levels]
    handles.append(plt.Line2D([], [], marker="o", ms=3.2, mfc="white", mec="black", ls="none",
                              label="open: not significant (Holm)"))
    fig.suptitle(title, y=1 - 0.04 / height, va="top")
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False, handletextpad=0.2,
               columnspacing=1.2, bbox_to_anchor=(0.5, 1 - 0.2 / height))
    fig.subplots_adjust(left=0.3, right=0.98, top=1 - INTERVAL_HEAD_IN / height, bottom=INTERVAL_FOOT_IN / height,
                        wspace=0.06)
    fit_left(fig, axes[0][0])
    return fig


def fit_left(fig: plt.Figure, ax: plt.Axes, pad_in: float = 0.06) -> None:
    """Move the panels' left edge to just right of ``ax``'s widest y tick label (long configuration names)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    widths = [t.get_window_extent(renderer).width for t in ax.get_yticklabels() if t.get_text()]
    label = ax.yaxis.label.get_window_extent(renderer).width if ax.yaxis.label.get_text() else 0.0
    inches = (max(widths, default=0.0) + label) / fig.dpi + pad_in + 0.04
    fig.subplots_adjust(left=min(0.6, inches / fig.get_size_inches()[0]))


RESCORING_PANEL_IN = 1.8  # height of one model's row of panels in ``plot_rescoring_curves``
RESCORING_HEAD_IN = 0.5


def plot_rescoring_curves(curves: pd.DataFrame, flat: pd.DataFrame, title: str) -> plt.Figure:
    """% change vs float32 (symmetric log: linear within ±1 %) against the oversampling m (log x) of two-stage
    search: one line and CI band per first-stage ``format`` (Okabe-Ito, at most eight), one panel per (model,
    ``rescore_format``), at the paper's text width with 7 pt text; dashed: the same first stage without rescoring
    (``flat``: model, format, change_pct). The legend is above the panels."""
    with plt.rc_context(PRINT_RC):
        return _rescoring_curves(curves, flat, title)


def _rescoring_curves(curves: pd.DataFrame, flat: pd.DataFrame, title: str) -> plt.Figure:
    models = list(dict.fromkeys(curves.model))
    tiers = list(dict.fromkeys(curves.rescore_format))
    firsts = list(dict.fromkeys(curves.format))
    colors = series_colours(firsts)
    height = RESCORING_PANEL_IN * len(models) + RESCORING_HEAD_IN
    fig, axes = plt.subplots(len(models), len(tiers), figsize=(TEXT_WIDTH_IN, height), sharex=True, sharey=True,
                             squeeze=False)
    ms = sorted(int(m) for m in curves.oversample.unique())
    shown = flat[flat.model.isin(models) & flat.format.isin(firsts)]
    low, high = change_limits(pd.concat([curves.change_pct, curves.ci_low, curves.ci_high, shown.change_pct]))
    for r, model in enumerate(models):
        for c, tier in enumerate(tiers):
            ax = axes[r, c]
            for first in firsts:
                rows = curves[(curves.model == model) & (curves.rescore_format == tier) & (curves.format == first)]
                base = flat[(flat.model == model) & (flat.format == first)]
                _rescoring_line(ax, rows.sort_values("oversample"), base, colors[first])
            ax.axhline(0, color="black", lw=0.6)
            ax.set_xscale("log")
            ax.set_yscale("symlog", linthresh=1.0, linscale=0.6)  # ±1 % as wide as 1.2 decades of the log part
            ax.set_ylim(low, high)
            ax.set_title(f"{model} · rescored with {tier}", pad=2)
            ax.tick_params(pad=1, length=2)
        axes[r, 0].set_ylabel("nDCG@10 change vs float32 (%)", labelpad=1)
    for ax in axes[-1]:
        ax.set_xlabel("oversampling m (k·m candidates re-ranked)", labelpad=1)
    axes[0, 0].set_xticks(ms, [str(m) for m in ms])
    axes[0, 0].xaxis.set_minor_locator(mticker.NullLocator())
    symlog_ticks(axes[0, 0].yaxis, low, high)
    handles = [plt.Line2D([], [], color=colors[f], marker="o", ms=3, lw=1, label=f) for f in firsts]
    handles += [plt.Line2D([], [], color="black", ls="--", lw=0.8, label="without rescoring"),
                mpatches.Patch(color="black", alpha=0.15, lw=0, label="95 % CI")]
    fig.suptitle(title, y=1 - 0.03 / height, va="top")
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False, handletextpad=0.3,
               columnspacing=1.0, handlelength=1.8, bbox_to_anchor=(0.5, 1 - 0.17 / height))
    fig.subplots_adjust(left=0.085, right=0.99, bottom=0.34 / height, top=1 - (RESCORING_HEAD_IN + 0.05) / height,
                        hspace=0.32, wspace=0.05)
    return fig


def _rescoring_line(ax: plt.Axes, rows: pd.DataFrame, base: pd.DataFrame, colour: str) -> None:
    """One first stage in one panel: its curve and CI band, and its change without rescoring (dashed)."""
    if rows.empty:
        return
    ax.plot(rows.oversample, rows.change_pct, marker="o", ms=3, lw=1, color=colour, label=rows.format.iloc[0],
            zorder=3)
    ax.fill_between(rows.oversample, rows.ci_low, rows.ci_high, color=colour, alpha=0.12, lw=0)
    if not base.empty:
        ax.axhline(base.change_pct.iloc[0], color=colour, ls="--", lw=0.8)


def collection_counts(summary: pd.DataFrame) -> str:
    """``minilm-l6 14, mpnet-base 8``: how many held-out collections each model's averages are over."""
    return ", ".join(f"{m} {len(s)}" for m, s in summary.attrs.get("sets", {}).items())


def show(fig: plt.Figure | None):
    """A figure as PNG bytes for a notebook to display inline (the Agg backend draws no window), then closed;
    ``None`` stays ``None`` (a figure that has nothing to draw)."""
    from IPython.display import Image

    if fig is None:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=NOTEBOOK_DPI, bbox_inches="tight")
    plt.close(fig)
    return Image(buffer.getvalue())


def show_saved(paths: dict[str, Path]):
    """The saved PNG of a figure (``SAVED_DPI``), shrunk to ``NOTEBOOK_DPI`` and at most ``NOTEBOOK_MAX_PX`` wide
    for a notebook to display inline (IPython only where a notebook runs)."""
    from IPython.display import Image
    from PIL import Image as Picture

    with Picture.open(paths["png"]) as picture:
        scale = min(NOTEBOOK_DPI / SAVED_DPI, NOTEBOOK_MAX_PX / picture.width)
        small = picture.resize((round(picture.width * scale), round(picture.height * scale)), Picture.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, format="png", optimize=True)
    return Image(buffer.getvalue())
