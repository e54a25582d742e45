"""One seaborn style and one function per kind of figure; each writes PDF + PNG atomically."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from study.core.io import atomic_write  # noqa: E402

sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)

# --- figures drawn for print (the trade-off, the codecs) ----------------------------------------------------------

TEXT_WIDTH_IN = 6.5  # the paper's text width (A4, 2.2 cm margins): the figure is drawn at the size it is printed
FONT_PT = 7.0  # every text of the figure, at that size
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
            p, format=ext, dpi=200, bbox_inches="tight", metadata=md))
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


def _interval_marker(ax: plt.Axes, x: float, y: float, lo: float, hi: float, color, filled: bool,
                     horizontal: bool) -> None:
    err = [[x - lo], [hi - x]] if horizontal else [[y - lo], [hi - y]]
    kwargs = {"xerr": err} if horizontal else {"yerr": err}
    ax.errorbar(x, y, fmt="o", color=color, mfc=color if filled else "white", mec=color, ms=5, capsize=2,
                elinewidth=1, **kwargs)


def plot_change_intervals(
    summary: pd.DataFrame, order: list[str], label: str, hue: str, title: str, xlabel: str | None = None
) -> plt.Figure:
    """Dots and CI whiskers of the % change vs float32 (x) per configuration ``label`` (y, in
    ``order``), one colour per ``hue`` level, one panel per model. Open dots: not significant
    after Holm (``significant`` False); columns ``change_pct, ci_low, ci_high`` as from
    ``study.analysis.stats.add_significance``."""
    models = list(dict.fromkeys(summary.model))
    levels = list(dict.fromkeys(summary[hue]))
    colors = dict(zip(levels, sns.color_palette(n_colors=max(1, len(levels))), strict=False))
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 0.32 * len(order) + 1.6), sharey=True,
                             squeeze=False)
    offsets = {lvl: (i - (len(levels) - 1) / 2) * 0.25 for i, lvl in enumerate(levels)}
    for ax, model in zip(axes[0], models, strict=True):
        rows = summary[summary.model == model]
        for row in rows.itertuples(index=False):
            rec = row._asdict()
            if rec[label] not in order:
                continue
            y = order.index(rec[label]) + offsets[rec[hue]]
            lo = rec["ci_low"] if pd.notna(rec["ci_low"]) else rec["change_pct"]
            hi = rec["ci_high"] if pd.notna(rec["ci_high"]) else rec["change_pct"]
            sig = rec.get("significant")
            _interval_marker(ax, rec["change_pct"], y, lo, hi, colors[rec[hue]],
                             filled=pd.isna(sig) or bool(sig), horizontal=True)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xscale("symlog", linthresh=1.0)
        low = np.nanmin([rows.change_pct.min(), rows.ci_low.min(), -1.0])
        high = np.nanmax([rows.change_pct.max(), rows.ci_high.max(), 1.0])
        ax.set_xlim(low * 1.4, high * 1.4)
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_xlabel(xlabel or "nDCG@10 change vs float32 (%)")
        ax.set_title(model)
    handles = [plt.Line2D([], [], marker="o", color=colors[lvl], ls="none") for lvl in levels]
    handles.append(plt.Line2D([], [], marker="o", mfc="white", mec="gray", color="gray", ls="none"))
    fig.suptitle(title)
    fig.tight_layout()
    fig.legend(handles, [*map(str, levels), "open: not significant (Holm)"], fontsize="small",
               loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=min(3, len(handles)))
    return fig


def plot_rescoring_curves(curves: pd.DataFrame, flat: pd.DataFrame, title: str) -> plt.Figure:
    """% change vs float32 against the oversampling m (log x) of two-stage search: one line and CI
    band per first-stage ``format``, one panel per (model, ``rescore_format``); dashed: the same
    first stage without rescoring (``flat``: model, format, change_pct)."""
    models = list(dict.fromkeys(curves.model))
    tiers = list(dict.fromkeys(curves.rescore_format))
    firsts = list(dict.fromkeys(curves.format))
    colors = dict(zip(firsts, sns.color_palette(n_colors=max(1, len(firsts))), strict=False))
    fig, axes = plt.subplots(len(models), len(tiers), figsize=(4.6 * len(tiers), 3.6 * len(models)),
                             sharex=True, sharey=True, squeeze=False)
    ms = sorted(int(m) for m in curves.oversample.unique())
    for r, model in enumerate(models):
        for c, tier in enumerate(tiers):
            ax = axes[r, c]
            for first in firsts:
                rows = curves[(curves.model == model) & (curves.rescore_format == tier) & (curves.format == first)]
                rows = rows.sort_values("oversample")
                if rows.empty:
                    continue
                ax.plot(rows.oversample, rows.change_pct, marker="o", color=colors[first], label=first)
                ax.fill_between(rows.oversample, rows.ci_low, rows.ci_high, color=colors[first], alpha=0.12, lw=0)
                base = flat[(flat.model == model) & (flat.format == first)]
                if not base.empty:
                    ax.axhline(base.change_pct.iloc[0], color=colors[first], ls="--", lw=0.9)
            ax.axhline(0, color="black", lw=0.8)
            ax.set_xscale("log")
            ax.set_xticks(ms, [str(m) for m in ms])
            ax.minorticks_off()
            ax.set_title(f"{model} · rescored with {tier}")
            ax.set_xlabel("oversampling m (k·m candidates re-ranked)")
            if c == 0:
                ax.set_ylabel("nDCG@10 change vs float32 (%)")
    fig.suptitle(title)
    fig.tight_layout()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, title="first stage (dashed: without rescoring)", fontsize="small",
               loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


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
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Image(buffer.getvalue())


def show_saved(paths: dict[str, Path]):
    """The saved PNG of a figure, for a notebook to display inline (IPython only where a notebook runs)."""
    from IPython.display import Image

    return Image(str(paths["png"]))
