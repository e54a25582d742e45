"""One seaborn style and one function per kind of figure; each writes PDF + PNG atomically."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .io import atomic_write  # noqa: E402

sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def save_figure(fig: plt.Figure, stem: Path) -> dict[str, Path]:
    """Save ``stem.pdf`` and ``stem.png`` (200 dpi) atomically and close the figure."""
    paths = {}
    for ext in ("pdf", "png"):
        target = stem.with_suffix(f".{ext}")
        atomic_write(target, lambda p, ext=ext: fig.savefig(p, format=ext, dpi=200, bbox_inches="tight"))
        paths[ext] = target
    plt.close(fig)
    return paths


def plot_change_by_format(
    summary: pd.DataFrame, per_dataset: pd.DataFrame, formats: list[str], title: str
) -> plt.Figure:
    """Bars: aggregate % change of nDCG@10 vs float32 per format and model; dots: each collection.

    If ``summary`` has ``ci_low``/``ci_high`` (``study.stats.add_significance``), bars get their CI
    as whiskers, and losses that are not significant after Holm's correction get an open diamond."""
    fig, ax = plt.subplots(figsize=(8, 4.2))
    models = list(dict.fromkeys(summary.model))
    sns.barplot(data=summary, x="format", y="change_pct", hue="model", order=formats, hue_order=models, ax=ax,
                alpha=0.8)
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
        ax.legend(handles, [*labels, "loss not significant (Holm)"], title="model", fontsize="small")
